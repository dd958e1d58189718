"""The cost of the database-side checks of schema 4 (0004), side by side in one run.

The same generated corpus (``bench/corpus.py``, cut with the real cutter, not timed) is
applied through the write functions (``apply_documents``: one ``fn_iu_apply_document``
call and one transaction per document) into two fresh databases on one server: one
migrated to schema 3 (no checks: the hashes, digests and tree are taken on trust) and one
to the latest schema (every content hash recomputed, each document checked whole at the
write of its row, the control row share-locked by every write). Rounds alternate which
goes first; figures are medians.

(a) initial load, units/s at each schema and the ratio;
(b) one clause of one document changed, the whole corpus applied again: seconds;
(c) ``iucut verify`` of the loaded corpus at the latest schema: seconds.

    python bench/checks_bench.py                  # embedded server, ~20,000 units
    python bench/checks_bench.py --dsn postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
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

from apply_bench import SCHEMA, machine, make_corpus, server_dsn, settings_for
from corpus import revise_clause
from iucut.apply import apply_documents
from iucut.cut import cut_text
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target, with_database
from iucut.migrate import load_migrations, migrate
from iucut.units import CutDocument
from iucut.verify import verify

BEFORE = 3  # the schema without the checks
#: Schema 3 lacks the lock function today's apply calls: the same document lock, without
#: the control row (a stand-in, so that the client is the same at both schemas).
SHIM = f"""
CREATE FUNCTION {SCHEMA}.fn_iu_lock_documents(p_run uuid, p_doc_paths text[]) RETURNS void
LANGUAGE sql AS $$
    SELECT {SCHEMA}.fn_iu_check_run(p_run);
    SELECT {SCHEMA}.fn_iu_lock_document(p) FROM unnest(p_doc_paths) AS p;
$$
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def database_at(admin_dsn: str, version: int | None, keep: bool) -> Iterator[str]:
    """A new database migrated up to ``version`` (None: the latest); yields its DSN."""
    name = f"iucut_checks_{version or 'latest'}_{secrets.token_hex(3)}"
    folder = Path(tempfile.mkdtemp(prefix="iucut-migrations-"))
    package = resources.files("iucut") / "sql" / "migrations"
    for m in load_migrations():
        if version is None or m.version <= version:
            (folder / m.filename).write_bytes((package / m.filename).read_bytes())
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    dsn = with_database(admin_dsn, name)
    try:
        with ConnectionProvider(Target(dsn, "--dsn")).connect() as conn:
            migrate(conn, SCHEMA, directory=folder)
            if version is not None and version < 4:
                conn.execute(SHIM)
            conn.commit()
        yield dsn
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if not keep:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def load(dsn: str, docs: list[CutDocument], driver: str) -> float:
    settings = settings_for(dsn, driver)
    started = time.perf_counter()
    result = apply_documents(settings, ConnectionProvider(Target(dsn, "--dsn"), driver), docs)
    seconds = time.perf_counter() - started
    assert not result.failed and not result.rejected, result.failed
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="an admin (CREATE DATABASE) DSN; default: embedded server")
    parser.add_argument(
        "--home",
        default=str(Path(tempfile.gettempdir()) / "iucut-checks-bench"),
        help="iucut home of an embedded server of its own (without --dsn; stopped after)",
    )
    parser.add_argument("--units", type=int, default=20_000, help="at least this many units")
    parser.add_argument("--docs", type=int, default=40, help="at least this many documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--driver", default="psycopg", choices=["psycopg", "psycopg2"])
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()

    admin, server = server_dsn(args)
    try:
        texts, docs, _ = make_corpus(args)
        units = sum(len(d.units) for d in docs)
        log(f"corpus: {len(docs)} documents, {units} units")
        # (b): one clause of the middle document changed
        k = len(docs) // 2
        changed = list(docs)
        edited = cut_text(revise_clause(texts[k]).encode(), docs[k].path)
        assert isinstance(edited, CutDocument)
        changed[k] = edited
        figures: dict[str, list[float]] = {"load3": [], "load4": [], "one3": [], "one4": []}
        verify_seconds: list[float] = []
        for round_ in range(args.repeat):
            order = [BEFORE, None] if round_ % 2 == 0 else [None, BEFORE]
            for version in order:
                tag = "3" if version == BEFORE else "4"
                with database_at(admin, version, args.keep) as dsn:
                    figures[f"load{tag}"].append(load(dsn, docs, args.driver))
                    figures[f"one{tag}"].append(load(dsn, changed, args.driver))
                    if version is None:
                        with ConnectionProvider(Target(dsn, "--dsn")).connect(
                            autocommit=True
                        ) as conn:
                            started = time.perf_counter()
                            checks = verify(conn)
                            verify_seconds.append(time.perf_counter() - started)
                            assert all(c.status == "PASS" for c in checks), checks
                log(
                    f"round {round_ + 1} schema {tag}: load "
                    f"{figures[f'load{tag}'][-1]:.2f} s, one change "
                    f"{figures[f'one{tag}'][-1]:.3f} s"
                )
        med = {k: statistics.median(v) for k, v in figures.items()}
        out: dict[str, Any] = {
            "machine": machine(admin),
            "corpus": {"documents": len(docs), "units": units},
            "rounds": args.repeat,
            "load_units_per_s_schema3": round(units / med["load3"]),
            "load_units_per_s_schema4": round(units / med["load4"]),
            "load_ratio_4_to_3": round(med["load3"] / med["load4"], 3),
            "load_ratio_per_round": [
                round(a / b, 3) for a, b in zip(figures["load3"], figures["load4"], strict=True)
            ],
            "one_change_s_schema3": round(med["one3"], 3),
            "one_change_s_schema4": round(med["one4"], 3),
            "verify_s": round(statistics.median(verify_seconds), 3),
        }
        for key, value in out.items():
            print(f"{key}: {value}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
