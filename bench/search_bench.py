"""Full-text search: query latency over >= 100,000 units, and what the index costs a write.

All in one run, on one server (the embedded one by default, ``--dsn`` for another):

(w) first sync of the shared laws (de-laws + vn-laws, ~105,000 units) through the write
    functions (``apply_documents``) into a database at schema 11 (no search column, no
    GIN index) and into one at the current schema (stored tsvector + GIN), alternating
    the order per round; the ratio after/before of the median times;
(s) the 20 fixed queries below against the last loaded database (current schema), each
    run ``--runs`` times after one warm-up, through ``iucut.search.search`` (the library
    call ``Store.search`` and ``iucut search`` make) on one connection: p50 and p95 of
    all runs, and each query's median and hit count.

    python bench/search_bench.py                 # embedded server
    python bench/search_bench.py --dsn postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apply_bench import machine, server_dsn
from iucut.apply import apply_documents
from iucut.config import Settings
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target, with_database
from iucut.migrate import migrate
from iucut.search import search
from laws import CORPORA, cut_laws

SCHEMA = "public"
BEFORE_VERSION = 11  # the schema before full-text search (0014)

#: Fixed queries: Vietnamese with and without diacritics, German (stemmed), phrases,
#: `or`, exclusion, rare and very common words.
QUERIES = (
    "mật khẩu",
    "mat khau",
    "đất đai",
    "dat dai",
    "quyền sử dụng đất",
    "xử phạt vi phạm hành chính",
    "xu phat vi pham",
    '"bảo vệ môi trường"',
    "hợp đồng lao động -thử việc",
    "thuế or phí",
    "Gesetze",
    "Bundesregierung",
    "Datenschutz",
    "Ordnungswidrigkeit Geldbuße",
    '"nach Maßgabe"',
    "Behörde or Verwaltung",
    "Kraftfahrzeug -Anhänger",
    "Steuer",
    "Verordnung",
    "Aufsichtsbehörde Beschwerde",
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def migrations_up_to(version: int, folder: Path) -> Path:
    """A copy of the package's migrations up to ``version``."""
    source = resources.files("iucut") / "sql" / "migrations"
    for entry in source.iterdir():
        if entry.name.endswith(".sql") and int(entry.name[:4]) <= version:
            (folder / entry.name).write_bytes(entry.read_bytes())
    return folder


@contextmanager
def database(admin_dsn: str, label: str, migrations: Path | None, keep: bool) -> Iterator[str]:
    """A new database migrated (up to the given migrations, else fully); dropped after."""
    name = f"iucut_sbench_{label}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    dsn = with_database(admin_dsn, name)
    try:
        with ConnectionProvider(Target(dsn, "--dsn")).connect() as conn:
            migrate(conn, SCHEMA, directory=migrations)
        yield dsn
    finally:
        if not keep:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def load(dsn: str, docs: list[Any]) -> float:
    settings = Settings(dsn=dsn, schema=SCHEMA, execution="enabled", env={})
    provider = ConnectionProvider(Target(dsn, "--dsn"), schema=SCHEMA)
    started = time.perf_counter()
    result = apply_documents(settings, provider, docs)
    seconds = time.perf_counter() - started
    assert not result.failed and not result.rejected, (result.failed[:3], result.rejected[:3])
    return seconds


def percentile(xs: list[float], q: float) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def latencies(dsn: str, runs: int) -> dict[str, Any]:
    provider = ConnectionProvider(Target(dsn, "--dsn"), schema=SCHEMA)
    per_query: dict[str, Any] = {}
    everything: list[float] = []
    with provider.connect(autocommit=True) as conn:
        for query in QUERIES:
            hits = search(conn, query, limit=20)  # warm-up, and the hit count
            times: list[float] = []
            for _ in range(runs):
                started = time.perf_counter()
                search(conn, query, limit=20)
                times.append((time.perf_counter() - started) * 1000)
            everything += times
            total = conn.execute(
                "SELECT count(*) AS n FROM public.unit_version v"
                " JOIN public.information_unit u ON u.unit_id = v.unit_id"
                " AND u.current_version = v.version AND u.state = 'active'"
                " WHERE v.search_vector @@ websearch_to_tsquery(v.search_config, %(q)s)",
                {"q": query},
            ).fetchone()
            per_query[query] = {
                "median_ms": round(statistics.median(times), 1),
                "max_ms": round(max(times), 1),
                "matching_units": total["n"] if total else None,
                "top": hits[0].code if hits else None,
            }
            log(f"  {query!r}: {per_query[query]}")
    return {
        "queries": len(QUERIES),
        "runs_per_query": runs,
        "p50_ms": round(percentile(everything, 0.50), 1),
        "p95_ms": round(percentile(everything, 0.95), 1),
        "max_ms": round(max(everything), 1),
        "per_query": per_query,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="an admin (CREATE DATABASE) DSN; default: embedded server")
    parser.add_argument(
        "--home",
        default=str(Path(__file__).parent / "out" / "home"),
        help="iucut home of the embedded server (default: bench/out/home)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="(w): rounds of before/after")
    parser.add_argument("--runs", type=int, default=10, help="(s): timed runs per query")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--json", dest="json_out", help="also write the figures to this file")
    args = parser.parse_args()

    admin_dsn, _embedded = server_dsn(args)
    figures: dict[str, Any] = {"machine": machine(admin_dsn)}
    docs, cut_seconds = cut_laws(CORPORA)
    units = sum(len(d.units) for d in docs)
    figures["corpus"] = {"documents": len(docs), "units": units, "cut_seconds": round(cut_seconds)}
    log(f"corpus: {len(docs)} documents, {units} units (cut in {cut_seconds:.0f}s)")
    assert units >= 100_000, units

    before_dir = Path(tempfile.mkdtemp(prefix="iucut-migrations-"))
    migrations_up_to(BEFORE_VERSION, before_dir)
    times: dict[str, list[float]] = {"before": [], "after": []}
    result: dict[str, Any] = {}
    try:
        for round_no in range(args.rounds):
            order = ("before", "after") if round_no % 2 == 0 else ("after", "before")
            for step in order:
                last = round_no == args.rounds - 1 and step == "after"
                with database(
                    admin_dsn, step, before_dir if step == "before" else None, args.keep
                ) as dsn:
                    seconds = load(dsn, docs)
                    times[step].append(seconds)
                    log(f"(w) round {round_no + 1} {step}: {seconds:.1f}s")
                    if last:
                        with psycopg.connect(dsn, autocommit=True) as conn:
                            conn.execute("VACUUM ANALYZE")
                            size = conn.execute(
                                "SELECT pg_relation_size('public.unit_version_search_idx')"
                            ).fetchone()
                        result["index_bytes"] = size[0] if size else None
                        log("(s) latency of the fixed queries")
                        result.update(latencies(dsn, args.runs))
    finally:
        shutil.rmtree(before_dir, ignore_errors=True)
    b, a = statistics.median(times["before"]), statistics.median(times["after"])
    figures["w_first_sync"] = {
        "before_seconds": [round(x, 1) for x in times["before"]],
        "after_seconds": [round(x, 1) for x in times["after"]],
        "ratio_after_before": round(a / b, 3),
    }
    log(f"(w) first sync: before {b:.1f}s, after {a:.1f}s, ratio {a / b:.2f}")
    figures["s_latency"] = result
    log(f"(s) p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms")
    figures["machine"]["load_average_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
