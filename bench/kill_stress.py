"""kill -9 stress of ``iucut apply``: many trials, each on its own schema, checking that no
document is ever half applied and that a re-run converges to the uninterrupted state.

The longer companion of ``tests/db/test_kill.py``. Each trial migrates a fresh schema,
optionally applies version 1 of the corpus, starts ``iucut apply`` of the target version,
SIGKILLs it (after a random delay, or right after a random number of documents were
written), checks every document against the cut, re-runs the apply and compares a
digest of the tables with an uninterrupted run.

    python bench/kill_stress.py --trials 200
    python bench/kill_stress.py --dsn postgresql://postgres@127.0.0.1:5432/postgres --trials 500
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import digest_sql, legal_document, revise_clause
from iucut.cut import cut_paths
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target, with_database
from iucut.migrate import migrate
from iucut.units import CutDocument


def version_2(text: str, n: int) -> str:
    """Version 2 of a document: a clause revised, the last article gone, one added."""
    text = revise_clause(text, article=1 + n % 5, clause=1)
    last = text.rindex("### Điều ")
    return text[:last] + f"### Điều 999. Điều khoản mới {n}\n\nNội dung mới.\n"


def write_corpus(folder: Path, docs: int, version: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, docs + 1):
        text = legal_document(n, chapters=2, articles=4, clauses=3, points=1)
        (folder / f"luat-{n:03d}.md").write_text(
            text if version == 1 else version_2(text, n), encoding="utf-8"
        )
    return folder


def expected(folder: Path) -> dict[str, tuple[str, dict[str, str]]]:
    out = {}
    for doc in cut_paths([folder], glob="*.md"):
        assert isinstance(doc, CutDocument), doc
        out[doc.path] = (doc.doc_hash, {u.code: u.content_hash for u in doc.units})
    return out


def db_state(conn: psycopg.Connection[Any], schema: str) -> dict[str, tuple[str, dict[str, str]]]:
    out: dict[str, tuple[str, dict[str, str]]] = {
        r["doc_path"]: (r["doc_hash"], {})
        for r in conn.execute(f"SELECT doc_path, doc_hash FROM {schema}.iu_document")
    }
    for r in conn.execute(
        f"SELECT doc_path, code, content_hash FROM {schema}.information_unit WHERE state = 'active'"
    ):
        out.setdefault(r["doc_path"], ("<no document row>", {}))[1][r["code"]] = r["content_hash"]
    return out


class Stress:
    def __init__(self, args: argparse.Namespace, dsn: str, work: Path):
        self.args = args
        self.dsn = dsn
        self.conn = psycopg.connect(dsn, autocommit=True, row_factory=dict_row)
        self.iucut = str(Path(sys.executable).with_name("iucut"))
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("IUCUT_", "PG")) and k != "DATABASE_URL"
        }
        self.env.update(IUCUT_DSN=dsn, IUCUT_EXECUTION="enabled", IUCUT_HOME=str(work / "home"))
        self.v1 = write_corpus(work / "v1", args.docs, 1)
        self.v2 = write_corpus(work / "v2", args.docs, 2)
        self.states = {1: expected(self.v1), 2: expected(self.v2)}

    def schema(self, name: str) -> dict[str, str]:
        with ConnectionProvider(Target(self.dsn, "--dsn")).connect() as conn:
            migrate(conn, name)
        return {**self.env, "IUCUT_SCHEMA": name}

    def cmd(self, folder: Path) -> list[str]:
        return [
            self.iucut,
            "--driver",
            self.args.driver,
            "apply",
            str(folder),
            "--root",
            str(folder),
            "--json",
        ]

    def apply(self, env: dict[str, str], folder: Path) -> float:
        started = time.monotonic()
        done = subprocess.run(
            self.cmd(folder), env=env, capture_output=True, text=True, check=False, timeout=600
        )
        if done.returncode != 0:
            raise SystemExit(f"apply failed: {done.stderr}")
        return time.monotonic() - started

    def digest(self, schema: str) -> dict[str, Any]:
        row = self.conn.execute(digest_sql(schema)).fetchone()
        assert row is not None
        return dict(row)

    def written(self, schema: str) -> int:
        row = self.conn.execute(
            f"SELECT count(*) AS n FROM {schema}.iu_document d JOIN {schema}.iu_run r "
            "ON r.run_id = d.last_run WHERE r.status = 'running'"
        ).fetchone()
        assert row is not None
        return int(row["n"])

    def run(self) -> int:
        ref_env = self.schema("ref")
        seconds = self.apply(ref_env, self.v1)
        reference = {"initial": self.digest("ref")}
        self.apply(ref_env, self.v2)
        reference["update"] = self.digest("ref")
        print(
            f"corpus: {self.args.docs} documents, "
            f"{sum(len(s[1]) for s in self.states[1].values())} units; an apply takes "
            f"{seconds:.2f}s",
            flush=True,
        )
        rng = random.Random(self.args.seed)
        tally = {"before any write": 0, "mid-run": 0, "after all writes": 0}
        failures = 0
        for trial in range(self.args.trials):
            schema = f"kill_{trial}"
            env = self.schema(schema)
            scenario = rng.choice(("initial", "update"))
            if scenario == "update":
                self.apply(env, self.v1)
            target, new_state = (
                (self.v1, self.states[1]) if scenario == "initial" else (self.v2, self.states[2])
            )
            allowed_old = None if scenario == "initial" else self.states[1]
            proc = subprocess.Popen(
                self.cmd(target), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            if rng.random() < 0.5:
                deadline = time.monotonic() + rng.uniform(0, seconds * 1.1)
                while proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.001)
                how = "delay"
            else:
                k = rng.randrange(0, self.args.docs)
                while proc.poll() is None and self.written(schema) < k:
                    time.sleep(0.001)
                time.sleep(rng.uniform(0, 0.02))
                how = f"{k} docs"
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            seen = db_state(self.conn, schema)
            new = 0
            problems = []
            for path, want in new_state.items():
                got = seen.get(path)
                old = None if allowed_old is None else allowed_old[path]
                if got == want:
                    new += 1
                elif got != old:
                    problems.append(f"{path} half applied")
            self.apply(env, target)
            if self.digest(schema) != reference[scenario]:
                problems.append("re-run did not converge")
            key = (
                "before any write"
                if new == 0
                else "after all writes"
                if new == len(new_state)
                else "mid-run"
            )
            tally[key] += 1
            status = "FAIL " + "; ".join(problems) if problems else "ok"
            failures += bool(problems)
            print(
                f"trial {trial:4d} {scenario:<7} killed {how:<9} {new:4d}/{len(new_state)} "
                f"new  {status}",
                flush=True,
            )
            self.conn.execute(f"DROP SCHEMA {schema} CASCADE")
        print(f"{self.args.trials} trials, {failures} failures; kills: {tally}")
        return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="an admin (CREATE DATABASE) DSN; default: embedded server")
    parser.add_argument("--home", default=str(Path(__file__).parent / "out" / "home"))
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--driver", default="psycopg", choices=["psycopg", "psycopg2"])
    args = parser.parse_args()
    if args.dsn:
        admin = args.dsn
    else:
        from iucut.db.embedded import EmbeddedServer

        server = EmbeddedServer(Path(args.home))
        server.start()
        admin = server.url("postgres")
    name = f"iucut_kill_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    work = Path(args.home).parent / name
    try:
        return Stress(args, with_database(admin, name), work).run()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
