"""kill -9 of ``iucut apply`` at random points: no document is ever half applied, and a
re-run converges to exactly the state of an uninterrupted run.

Each trial gets its own schema in the test's database. Half the trials kill after a
random delay (anywhere: start-up, cutting, planning, writing); the other half watch the
database and kill right after a random number of documents were written, so every
trial set surely interrupts runs in the middle of their writes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import iucut_command, state_digest
from iucut.cut import cut_paths
from iucut.migrate import migrate
from iucut.units import CutDocument

DOCS = 30
TRIALS = 24


def law(n: int, version: int) -> str:
    """Document ``n`` at ``version`` 1 or 2 (2 revises, removes and adds units)."""
    rng = random.Random(n)
    words = (
        "cơ",
        "quan",
        "tổ",
        "chức",
        "cá",
        "nhân",
        "thực",
        "hiện",
        "quy",
        "định",
        "trách",
        "nhiệm",
        "báo",
        "cáo",
        "kiểm",
        "tra",
    )

    def text(k: int) -> str:
        return " ".join(rng.choice(words) for _ in range(k)).capitalize() + "."

    parts = [f"# LUẬT SỐ {n}\n\n{text(20)}\n\n"]
    articles = list(range(1, 9))
    if version == 2:
        articles = [*articles[:-1], 20 + n % 3]
    for a in articles:
        parts.append(f"### Điều {a}. {text(4)}\n\n{text(25)}\n\n")
        for k in range(1, 5):
            clause = text(30)
            if version == 2 and a == 1 and k == 2:
                clause += " (sửa đổi)"
            parts.append(f"{k}. {clause}\n\n")
    return "".join(parts)


def corpus(folder: Path, version: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, DOCS + 1):
        (folder / f"luat-{n:02d}.md").write_text(law(n, version), encoding="utf-8")
    return folder


def expected_states(folder: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """Per document path: (document hash, {code: content hash}) as the cut says."""
    out = {}
    for doc in cut_paths([folder], glob="*.md"):
        assert isinstance(doc, CutDocument)
        out[doc.path] = (doc.doc_hash, {u.code: u.content_hash for u in doc.units})
    return out


def db_states(conn: Any, schema: str) -> dict[str, tuple[str, dict[str, str]]]:
    """The documents and their active units, read in ONE statement, so in one snapshot:
    a new document is written by one statement, which its server process may finish and
    commit after the client was killed; two statements (two snapshots under READ
    COMMITTED) could see its units without its document row."""
    conn.rollback()
    rows = conn.execute(
        f"SELECT doc_path, doc_hash AS hash, NULL::text AS code FROM {schema}.iu_document "
        f"UNION ALL SELECT doc_path, content_hash, code FROM {schema}.information_unit "
        "WHERE state = 'active'"
    ).fetchall()
    conn.rollback()
    out: dict[str, tuple[str, dict[str, str]]] = {
        r["doc_path"]: (r["hash"], {}) for r in rows if r["code"] is None
    }
    for u in rows:
        if u["code"] is not None:
            out.setdefault(u["doc_path"], ("<no document row>", {}))[1][u["code"]] = u["hash"]
    return out


def apply_cmd(folder: Path) -> list[str]:
    return [*iucut_command(), "apply", str(folder), "--root", str(folder), "--json"]


def run_apply(env: dict[str, str], folder: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(
        apply_cmd(folder), env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return time.monotonic() - started


def written_by_running_run(conn: Any, schema: str) -> int:
    conn.rollback()
    n = conn.execute(
        f"SELECT count(*) AS n FROM {schema}.iu_document d "
        f"JOIN {schema}.iu_run r ON r.run_id = d.last_run WHERE r.status = 'running'"
    ).scalar()
    conn.rollback()
    return int(n)


def kill_after(
    proc: subprocess.Popen[str], until: Callable[[], bool], limit: float, jitter: float = 0.0
) -> None:
    """SIGKILL ``proc`` once ``until()`` holds (plus ``jitter`` seconds) or after ``limit``."""
    deadline = time.monotonic() + limit
    while proc.poll() is None and not until() and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(jitter)  # past the check, into the next document's transaction
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


@pytest.mark.slow
def test_kill_9_never_half_applies_and_a_rerun_converges(
    db: Any, cli_env: Any, tmp_path: Path
) -> None:
    """≥ 20 kill -9 trials: every document wholly old or wholly new; re-run digest equal."""
    v1, v2 = corpus(tmp_path / "v1", 1), corpus(tmp_path / "v2", 2)
    states = {1: expected_states(v1), 2: expected_states(v2)}
    assert all(states[1][p][0] != states[2][p][0] for p in states[1])  # every doc changes
    admin = db.connect()

    def env_for(schema: str) -> dict[str, str]:
        migrate(admin, schema)
        return {**cli_env.env, "IUCUT_SCHEMA": schema, "IUCUT_EXECUTION": "enabled"}

    # The uninterrupted references, and how long a run takes.
    reference_env = env_for("ref_one")
    seconds = run_apply(reference_env, v1)
    reference = {"initial": state_digest(admin, "ref_one")}
    run_apply(reference_env, v2)
    reference["update"] = state_digest(admin, "ref_one")
    assert reference["initial"] != reference["update"]

    rng = random.Random(int(os.environ.get("IUCUT_KILL_SEED", "20260724")))
    outcomes: list[tuple[str, str, int]] = []
    for trial in range(TRIALS):
        schema = f"kill_{trial}"
        env = env_for(schema)
        scenario = "initial" if trial % 2 == 0 else "update"
        if scenario == "update":
            run_apply(env, v1)
        target = v1 if scenario == "initial" else v2
        allowed = [states[1]] if scenario == "initial" else [states[1], states[2]]
        proc = subprocess.Popen(
            apply_cmd(target),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        if trial % 4 < 2:  # anywhere in the run, start-up included
            delay = rng.uniform(0.0, seconds * 1.1)
            kill_after(proc, lambda: False, delay)
            how = f"after {delay:.2f}s"
        else:  # in the middle of the writes, after k whole documents
            k = rng.randrange(0, DOCS)
            jitter = rng.uniform(0.0, 0.02)
            kill_after(
                proc, lambda k=k, s=schema: written_by_running_run(admin, s) >= k, 120, jitter
            )
            how = f"after {k} documents + {jitter * 1000:.0f}ms"

        seen = db_states(admin, schema)
        new = 0
        for path in states[1]:
            got = seen.get(path)
            if scenario == "initial" and got is None:
                continue
            assert got is not None, (trial, path)
            assert got in [s[path] for s in allowed], (
                f"trial {trial} ({scenario}, killed {how}): {path} is half applied"
            )
            new += got == (states[1] if scenario == "initial" else states[2])[path]
        assert set(seen) <= set(states[1]), trial
        outcomes.append((scenario, how, new))

        run_apply(env, target)
        assert state_digest(admin, schema) == reference[scenario], (
            f"trial {trial} ({scenario}, killed {how}, {new} documents new): "
            "the re-run did not converge to the uninterrupted state"
        )

    assert len(outcomes) >= 20
    middle = [o for o in outcomes if 0 < o[2] < DOCS]
    assert len(middle) >= TRIALS // 4, f"too few kills landed mid-run: {outcomes}"
