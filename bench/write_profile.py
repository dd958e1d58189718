"""Where a first sync's time goes, statement by statement: the shared laws written one
document a transaction (as ``apply`` does with one writer), with the server's
``auto_explain`` reporting every statement, nested ones included (the statements of
``fn_iu_apply_document`` and of its triggers), and the client timing each round trip.

    python bench/write_profile.py                      # embedded server
    python bench/write_profile.py --dsn postgresql://postgres@127.0.0.1:5432/postgres
    python bench/write_profile.py --corpus generated   # apply_bench --initial-only's corpus

Needs a superuser DSN (``LOAD 'auto_explain'``). Durations of nested statements are
included in those of the statements that run them (a trigger's in its INSERT's, the
function's statements in the ``SELECT fn_iu_apply_document``): read them as a tree.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import apply_bench
import laws
from iucut.apply import begin_run, write_document
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target
from iucut.plan_state import plan_document, plan_for_values, read_documents

DURATION = re.compile(r"duration: ([0-9.]+) ms\s+plan:\s*(.*)", re.S)


def backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a server process on this machine (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def label(text: str) -> str:
    """A statement's text, shortened to a label: its first words, whitespace squeezed."""
    return " ".join(text.split())[:110]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="a superuser DSN; default: the embedded server")
    parser.add_argument("--home", default=str(Path(__file__).parent / "out" / "home"))
    parser.add_argument("--limit", type=int, default=0, help="only the first N documents")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--json", dest="json_out")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--no-explain", action="store_true", help="CPU and wall time only")
    parser.add_argument(
        "--corpus",
        choices=("laws", "generated"),
        default="laws",
        help="laws: the shared laws; generated: apply_bench's corpus (--initial-only's)",
    )
    parser.add_argument("--units", type=int, default=100_000, help="generated: at least")
    parser.add_argument("--docs", type=int, default=200, help="generated: at least")
    parser.add_argument("--seed", type=int, default=0, help="generated: the corpus seed")
    parser.add_argument(
        "--sql",
        help="a SQL file run on the new database before the writes (@schema@ = public), "
        "e.g. a function body of an earlier migration, for an A/B of a migration",
    )
    args = parser.parse_args()
    admin_dsn, _server = apply_bench.server_dsn(args)
    if args.corpus == "generated":
        _texts, docs, _ = apply_bench.make_corpus(args)
    else:
        docs, _ = laws.cut_laws(laws.CORPORA)
    if args.limit:
        docs = docs[: args.limit]
    server: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    client: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])

    def notice(diag: Any) -> None:
        found = DURATION.match(diag.message_primary or "")
        if not found:
            return
        plan = json.loads(found.group(2))
        entry = server[label(plan.get("Query Text", "?"))]
        entry[0] += float(found.group(1))
        entry[1] += 1

    provider = ConnectionProvider(Target(admin_dsn, "--dsn"), schema="public")
    with apply_bench.fresh_database(admin_dsn, "profile", args.keep) as dsn:
        print(f"database: {dsn}", file=sys.stderr)
        provider = ConnectionProvider(Target(dsn, "--dsn"), schema="public")
        conn = provider.connect(autocommit=False)
        raw = conn.raw  # type: ignore[attr-defined]
        if args.sql:
            raw.execute(Path(args.sql).read_text(encoding="utf-8").replace("@schema@", "public"))
            raw.commit()
        raw.add_notice_handler(notice)
        original = conn.query

        def timed(name: str, /, **params: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(name, **params)
            finally:
                entry = client[name]
                entry[0] += (time.perf_counter() - started) * 1000
                entry[1] += 1

        conn.query = timed  # type: ignore[method-assign]
        plan_for_values(conn)
        run_id = begin_run(conn, "apply")
        conn.commit()
        for setting in (
            ()
            if args.no_explain
            else (
                "LOAD 'auto_explain'",
                "SET auto_explain.log_min_duration = 0",
                "SET auto_explain.log_nested_statements = on",
                "SET auto_explain.log_analyze = on",
                "SET auto_explain.log_timing = off",
                "SET auto_explain.log_format = json",
                "SET auto_explain.log_level = notice",
                "SET client_min_messages = notice",
            )
        ):
            raw.execute(setting)
        raw.commit()
        pid = raw.info.backend_pid
        cpu0, server0 = time.process_time(), backend_cpu(pid)
        started = time.perf_counter()
        for doc in docs:
            t0 = time.perf_counter()
            conn.query("lock_documents", run_id=run_id, doc_paths=[doc.path])
            current = read_documents(conn, [doc.path]).get(doc.path)
            write_document(conn, run_id, plan_document(conn, doc, current, check_new=False))
            t1 = time.perf_counter()
            conn.commit()
            entry = client["(plan + write, client)"]
            entry[0] += (t1 - t0) * 1000
            entry[1] += 1
            entry = client["(commit)"]
            entry[0] += (time.perf_counter() - t1) * 1000
            entry[1] += 1
        conn.query("run_finish", run_id=run_id, status="finished", counts="{}")
        conn.commit()
        wall = time.perf_counter() - started
        server_cpu, client_cpu = backend_cpu(pid) - server0, time.process_time() - cpu0
        conn.close()
    units = sum(len(d.units) for d in docs)
    print(
        f"{len(docs)} documents, {units} units, {wall:.1f}s wall (auto_explain on), "
        f"CPU: server backend {server_cpu:.1f}s, client {client_cpu:.1f}s"
    )
    print("\nclient round trips (ms total, calls):")
    for name, (ms, n) in sorted(client.items(), key=lambda kv: -kv[1][0]):
        print(f"  {ms:10.0f} {n:6d}  {name}")
    print("\nserver statements, nested included (ms total, calls):")
    for name, (ms, n) in sorted(server.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"  {ms:10.0f} {n:6d}  {name}")
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(
                {
                    "client": client,
                    "server": server,
                    "wall": wall,
                    "server_cpu": server_cpu,
                    "client_cpu": client_cpu,
                },
                indent=1,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
