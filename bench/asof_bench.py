"""The write-path cost of point-in-time reads (migration 0015): a first sync of a generated
corpus into a fresh database with the document-version trigger (after) and with it
disabled (before: the write path as it was), alternating, in one run on one server.

    python bench/asof_bench.py --dsn postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import legal_document
from iucut.apply import apply_documents
from iucut.config import Settings
from iucut.cut import cut_text
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target, with_database
from iucut.migrate import migrate
from iucut.units import CutDocument


def first_sync(dsn: str, docs: list[CutDocument], trigger: bool) -> float:
    name = f"iucut_asofbench_{secrets.token_hex(4)}"
    admin = ConnectionProvider(Target(dsn, "--dsn")).connect(autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    target = with_database(dsn, name)
    try:
        provider = ConnectionProvider(Target(target, "--dsn"))
        with provider.connect(autocommit=True) as conn:
            migrate(conn, "public")
            if not trigger:
                conn.execute(
                    "ALTER TABLE public.iu_document DISABLE TRIGGER iu_document_record_version"
                )
        settings = Settings(dsn=target, schema="public", env={}, execution="enabled")
        start = time.perf_counter()
        result = apply_documents(settings, provider, docs)
        took = time.perf_counter() - start
        assert not result.failed and not result.rejected
        return took
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True, help="an admin (CREATE DATABASE) DSN")
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    docs = []
    for n in range(args.docs):
        doc = cut_text(legal_document(n).encode(), f"laws/law-{n}.md")
        assert isinstance(doc, CutDocument)
        docs.append(doc)
    units = sum(len(d.units) for d in docs)
    before: list[float] = []
    after: list[float] = []
    for r in range(args.rounds):
        order = [(False, before), (True, after)] if r % 2 == 0 else [(True, after), (False, before)]
        for trigger, out in order:
            out.append(first_sync(args.dsn, docs, trigger))
            print(f"round {r + 1} {'after ' if trigger else 'before'} {out[-1]:.2f}s", flush=True)
    b, a = statistics.median(before), statistics.median(after)
    print(
        f"first sync of {units} units in {len(docs)} documents: before {b:.2f}s "
        f"({units / b:,.0f} units/s), after {a:.2f}s ({units / a:,.0f} units/s); "
        f"after/before = {a / b:.3f} (median of {args.rounds})"
    )


if __name__ == "__main__":
    main()
