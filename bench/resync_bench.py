"""One change, and nothing changed, among many small documents: ``iucut apply`` end to end,
this tree against another build side by side, and peak memory at two corpus sizes
(issue #16 part 3: one change <= 0.5 s, memory bounded by the largest document).

A re-sync's cost grows with the number of *files* (each is listed, stat'ed and looked up
in the cut cache), not with the units: the corpus is ``--docs`` small generated documents
(4-5 units each, 100 to a folder), as many files as the 1M-unit corpus of
``bench/scale_bench.py`` (23,659). Each side runs ``iucut apply --jobs 2 CORPUS`` in a
fresh process under GNU time (wall, user+sys CPU, peak RSS), with its own iucut home and
its own database holding the same state (the second made from the first as a template),
bytecode compiled on both sides first:

- **one change**: each round, a different file gets one line more, then both sides apply
  it (the order alternating);
- **unchanged**: the same apply again, nothing changed;
- **memory**: peak RSS of an unchanged re-sync at ``--docs`` and at a tenth of it (a flat
  figure is memory bounded by the documents in flight, not the corpus);
- **floor**: the same apply of a corpus of one document, unchanged: what a process pays
  whatever the corpus (start, imports, connection, the token, exit); one change minus
  this is what the corpus's files cost.

``--base REV`` is ``git archive REV`` of this repository with its own compiled cutter
built there, on ``PYTHONPATH``; without it only this tree is run. The corpora, databases and
homes are kept in ``--work`` (the first apply of 24,004 documents takes minutes): a second
run reuses them. ``--drop`` removes them.

    python bench/resync_bench.py --base main --rounds 6          # PG 15 on 127.0.0.1
    python bench/resync_bench.py --dsn postgresql://postgres@127.0.0.1:5432/postgres \\
        --docs 24004 --base e3e1709 --rounds 6 --work /tmp/iucut-resync
    python bench/resync_bench.py --drop
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from iucut.db.target import with_database

HERE = Path(__file__).resolve().parent.parent
WORDS = [
    "law",
    "article",
    "clause",
    "section",
    "duty",
    "right",
    "party",
    "court",
    "notice",
    "term",
    "period",
    "fee",
]
GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_corpus(folder: Path, count: int) -> None:
    """``count`` documents of 4-5 units, 100 to a folder (deterministic)."""
    rnd = random.Random(4)
    for i in range(count):
        sub = folder / f"f{i // 100:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        parts = [f"# Document {i}\n\nIntro {' '.join(rnd.choices(WORDS, k=12))}.\n"]
        for j in range(1, 4 + i % 2):
            parts.append(f"## Article {j}\n\n{' '.join(rnd.choices(WORDS, k=20))} {i}-{j}.\n")
        (sub / f"d{i:06d}.md").write_text("\n".join(parts), encoding="utf-8")


def run(side: dict[str, Any], corpus: Path, db: str, home: Path, admin: str) -> dict[str, Any]:
    """``iucut apply --jobs 2 CORPUS`` in a fresh process: wall, CPU, peak MiB."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("IUCUT_", "PG")) or k in ("DATABASE_URL", "PYTHONPATH"))
    }
    env.update(
        IUCUT_DSN=with_database(admin, db),
        IUCUT_EXECUTION="enabled",
        IUCUT_HOME=str(home),
        IUCUT_ROOT=str(corpus),
    )
    if side["path"]:
        env["PYTHONPATH"] = side["path"]
    with tempfile.NamedTemporaryFile("r") as out:
        command = [sys.executable, "-m", "iucut", "apply", "--jobs", "2", str(corpus)]
        if GNU_TIME:
            command = [GNU_TIME, "-f", "%e %U %S %M", "-o", out.name, *command]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"apply failed ({done.returncode}): {done.stderr[-2000:]}")
        wall, user, system, peak = out.read().split()[-4:]
    return {
        "wall": float(wall),
        "cpu": round(float(user) + float(system), 2),
        "peak_mib": round(int(peak) / 1024, 1),
        "last": done.stdout.strip().splitlines()[-1:],
    }


def base_tree(rev: str, work: Path) -> str:
    """``git archive REV`` of src/ in ``work``, with its own compiled cutter built there
    (its C sources and the rule specs its Python hands them go together)."""
    target = work / f"base-{rev}"
    if not (target / "src").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(HERE), "archive", rev, "src", "setup.py", "pyproject.toml"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
        subprocess.run(
            [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
            cwd=target,
            check=True,
            capture_output=True,
        )
    return str(target / "src")


def compile_tree(src: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", src], env=env, check=True)


def database(admin: str, name: str, template: str | None = None) -> bool:
    """Create ``name`` (from ``template``) unless it exists; whether it was made."""
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        suffix = f" TEMPLATE {template}" if template else ""
        conn.execute(f"CREATE DATABASE {name}{suffix}")  # type: ignore[arg-type]
    return True


def prepared(admin: str, work: Path, docs: int, sides: list[dict[str, Any]]) -> Path:
    """The corpus of ``docs`` documents and, for each side, a database holding it (the
    first apply once, by this tree; the others copied from it) and a home."""
    corpus = work / f"c{docs}"
    first = f"iucut_resync_{docs}_0"
    if not corpus.exists():
        make_corpus(corpus, docs)
    if database(admin, first):
        from iucut.db.connector import ConnectionProvider
        from iucut.db.target import Target
        from iucut.migrate import migrate

        with ConnectionProvider(Target(with_database(admin, first), "--dsn")).connect() as c:
            migrate(c, "public")
        log(f"first apply of {docs} documents (once; kept in {work})")
        log(f"  {run(sides[0], corpus, first, work / f'home-{docs}-0', admin)}")
    for n, _side in enumerate(sides[1:], 1):
        if database(admin, f"iucut_resync_{docs}_{n}", template=first):
            shutil.copytree(work / f"home-{docs}-0", work / f"home-{docs}-{n}")
    return corpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--docs", type=int, default=24_004)
    parser.add_argument("--base", help="a git revision to run side by side (git archive)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "iucut-resync")
    parser.add_argument("--drop", action="store_true", help="drop the databases and --work")
    args = parser.parse_args()
    if args.drop:
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'iucut_resync_%'"
            ).fetchall()
            for (name,) in rows:
                conn.execute(f"DROP DATABASE {name} WITH (FORCE)")  # type: ignore[arg-type]
        shutil.rmtree(args.work, ignore_errors=True)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    sides = [{"name": "this", "path": str(HERE / "src")}]
    if args.base:
        sides.append({"name": f"base {args.base}", "path": base_tree(args.base, args.work)})
    for side in sides:
        compile_tree(side["path"])
    figures: dict[str, Any] = {"load": [], "one_change": {}, "unchanged": {}, "memory": {}}
    corpus = prepared(args.dsn, args.work, args.docs, sides)
    files = sorted(corpus.rglob("*.md"))

    def both(step: str, r: int) -> None:
        figures["load"].append(" ".join(f"{x:.2f}" for x in os.getloadavg()))
        order = list(enumerate(sides)) if r % 2 == 0 else list(enumerate(sides))[::-1]
        for n, side in order:
            home = args.work / f"home-{args.docs}-{n}"
            found = run(side, corpus, f"iucut_resync_{args.docs}_{n}", home, args.dsn)
            figures[step].setdefault(side["name"], []).append(found)
            log(f"  {step} round {r + 1} {side['name']}: {found}")

    # (a warm cache on each side, in its own format: twice, for a side that keeps the
    # folders it found up to date file by file, then passes them at once)
    for _n, side in [*enumerate(sides)] * 2:
        run(
            side,
            corpus,
            f"iucut_resync_{args.docs}_{_n}",
            args.work / f"home-{args.docs}-{_n}",
            args.dsn,
        )
    for r in range(args.rounds):
        path = files[(r * 7919 + 13) % len(files)]
        with path.open("a", encoding="utf-8") as f:
            f.write(f"\nEdited in round {r + 1} of {os.getpid()}.\n")
        both("one_change", r)
    for r in range(max(2, args.rounds // 2)):
        both("unchanged", r)
    # the floor: the same command on a corpus of one document, unchanged (start, imports,
    # connection, token, exit): what a re-sync costs whatever the corpus
    one = prepared(args.dsn, args.work, 1, sides)
    for r in range(args.rounds):
        figures["load"].append(" ".join(f"{x:.2f}" for x in os.getloadavg()))
        order = list(enumerate(sides)) if r % 2 == 0 else list(enumerate(sides))[::-1]
        for n, side in order:
            found = run(side, one, f"iucut_resync_1_{n}", args.work / f"home-1-{n}", args.dsn)
            figures.setdefault("floor", {}).setdefault(side["name"], []).append(found)
            log(f"  floor round {r + 1} {side['name']}: {found}")
    small = max(100, args.docs // 10)
    small_corpus = prepared(args.dsn, args.work, small, sides)
    for n, side in enumerate(sides):
        runs = [
            run(
                side,
                small_corpus,
                f"iucut_resync_{small}_{n}",
                args.work / f"home-{small}-{n}",
                args.dsn,
            )
            for _ in range(2)
        ]
        big = figures["unchanged"][side["name"]]
        figures["memory"][side["name"]] = {
            f"{small} documents": runs[-1]["peak_mib"],
            f"{args.docs} documents": big[-1]["peak_mib"],
        }
    summary: dict[str, Any] = {}
    for step in ("one_change", "unchanged", "floor"):
        for name, found in figures[step].items():
            summary[f"{step}, {name}"] = {
                "wall median": statistics.median(f["wall"] for f in found),
                "cpu median": statistics.median(f["cpu"] for f in found),
                "wall": [f["wall"] for f in found],
                "cpu": [f["cpu"] for f in found],
                "peak MiB": max(f["peak_mib"] for f in found),
            }
    figures["summary"] = summary
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
