"""A first ``iucut apply`` of many small documents, this tree against another build side
by side (issue #16 part 3: the time of a first apply, and its memory bounded by the
documents in flight).

Each run: a fresh database (migrated by this tree), a fresh ``IUCUT_HOME`` (no cut
cache), then ``/usr/bin/time python -m iucut apply --jobs 2 CORPUS`` in a fresh process:
wall, CPU with the worker processes, peak RSS. The sides alternate pair by pair. The
corpus is ``bench/resync_bench.py``'s (``--docs`` documents of 4-5 units, 100 to a
folder), kept in ``--work`` with the base's build (``git archive REV``, its own compiled
cutter).

    python bench/first_apply_bench.py --base 8b836c3 --docs 24004 --pairs 2
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target, with_database
from iucut.migrate import migrate
from resync_bench import GNU_TIME, HERE, base_tree, compile_tree, database, make_corpus, run


def first_apply(src: str, corpus: Path, admin: str, db: str) -> dict[str, Any]:
    """A first apply of ``corpus`` by the build in ``src``, on a fresh database ``db``."""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")  # type: ignore[arg-type]
    database(admin, db)
    try:
        with ConnectionProvider(Target(with_database(admin, db), "--dsn")).connect() as c:
            migrate(c, "public")
        home = Path(tempfile.mkdtemp(prefix="iucut-first-apply-home-"))
        found = run({"path": src}, corpus, db, home, admin)
        shutil.rmtree(home, ignore_errors=True)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")  # type: ignore[arg-type]
    return {k: found[k] for k in ("wall", "cpu", "peak_mib")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--docs", type=int, default=24_004)
    parser.add_argument("--base", required=True, help="a git revision to run side by side")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "iucut-resync")
    args = parser.parse_args()
    if GNU_TIME is None:
        raise SystemExit("GNU time (/usr/bin/time) is needed for the peak memory")
    args.work.mkdir(parents=True, exist_ok=True)
    corpus = args.work / f"c{args.docs}"
    if not corpus.exists():
        make_corpus(corpus, args.docs)
    sides = {"this": str(HERE / "src"), f"base {args.base}": base_tree(args.base, args.work)}
    for src in sides.values():
        compile_tree(src)
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    for pair in range(args.pairs):
        names = list(sides) if pair % 2 == 0 else list(sides)[::-1]
        for n, name in enumerate(names):
            result = first_apply(sides[name], corpus, args.dsn, f"iucut_first_apply_{n}")
            found[name].append(result)
            print(f"pair {pair + 1} {name}: {result}", file=sys.stderr, flush=True)
    summary = {
        name: {
            "wall median": statistics.median(r["wall"] for r in runs),
            "cpu median": statistics.median(r["cpu"] for r in runs),
            "runs": runs,
        }
        for name, runs in found.items()
    }
    print(json.dumps({"docs": args.docs, "summary": summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
