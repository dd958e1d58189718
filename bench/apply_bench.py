"""Apply throughput against raw COPY of the same rows, and the cost of re-syncing.

All in one run, on one server (the embedded one by default, ``--dsn`` for another):

(a) initial load of >= 100,000 units (a generated corpus of legal documents) through
    the write functions (``apply_documents``: one ``fn_iu_apply_document`` call and one
    transaction per document), in units/s, against ``COPY`` of the same rows
    (information_unit, unit_version, iu_lifecycle_log, iu_document and one run row)
    into the same tables of a fresh database with the same indexes, FKs and triggers;
    target >= 0.8x COPY (issue #16). Those rows are not quite what the functions write:
    the COPY's versions get the ``simple`` search configuration (the functions': that of
    the document's profile), no references, and the search index's pending list is left
    for autovacuum to merge (``fn_run_finish`` merges it: ~1 s here). So a second COPY,
    of the same end state, writes those too and merges the list; both ratios are shown,
    with the CPU seconds of each step (this process, and the server processes of its
    connections: wall time follows the machine's load, CPU time much less);
(b) re-apply of the unchanged corpus; target <= 1 s;
(c) one unit changed among all of them: exactly one version row and one log row (plus
    the run's own row) are written; target <= 0.5 s.

    python bench/apply_bench.py                 # embedded server, 200 docs x ~506 units
    python bench/apply_bench.py --dsn postgresql://postgres@127.0.0.1:5432/postgres

``--corpus laws`` runs the real-corpus benchmark instead (``bench/laws.py``): the shared
de-laws + vn-laws (2 to 10,500 units a document) into an empty database and after a
generated corpus with log-normal document sizes (``--generated-units``), each document's
time against its solo time, with and without ``plan_cache_mode = force_generic_plan``,
and LangChain's ``index()`` with its SQL record manager on the same files and server:

    python bench/apply_bench.py --corpus laws --generated-units 300000

``--corpus laws --side-by-side --rounds 3`` runs only the comparison a user sees: the
first sync of the shared laws by the ``iucut apply`` command (a new process, cutting
included, ``--jobs`` at its default of one per CPU, and ``--jobs 1``) against LangChain's
``index()``, alternating, each in a fresh database; it prints a Markdown table:

    python bench/apply_bench.py --corpus laws --side-by-side --rounds 3 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import legal_document, revise_clause
from iucut.apply import apply_documents
from iucut.config import Settings
from iucut.cut import cut_text
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target, redact, with_database
from iucut.migrate import migrate
from iucut.plan import diff_document
from iucut.units import CutDocument

SCHEMA = "public"
TABLES = ("information_unit", "unit_version", "iu_lifecycle_log", "iu_run", "iu_document")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Server and databases
# --------------------------------------------------------------------------------------


def server_dsn(args: argparse.Namespace) -> tuple[str, Any]:
    """The admin DSN of the server to use, and the embedded server we started (or None)."""
    if args.dsn:
        return args.dsn, None
    from iucut.db.embedded import EmbeddedServer

    server = EmbeddedServer(Path(args.home))
    server.start()
    return server.url("postgres"), server


@contextmanager
def fresh_database(admin_dsn: str, label: str, keep: bool) -> Iterator[str]:
    """A new database on the server, migrated; yields its DSN; dropped afterwards."""
    name = f"iucut_bench_{label}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    dsn = with_database(admin_dsn, name)
    try:
        with ConnectionProvider(Target(dsn, "--dsn")).connect() as conn:
            migrate(conn, SCHEMA)
        yield dsn
    finally:
        if not keep:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def table_counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {SCHEMA}.{t}").fetchone()[0]  # type: ignore[index]
            for t in TABLES
        }


def settings_for(dsn: str, driver: str) -> Settings:
    return Settings(dsn=dsn, schema=SCHEMA, driver=driver, execution="enabled", env={})


# --------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------


def make_corpus(args: argparse.Namespace) -> tuple[list[str], list[CutDocument], float]:
    """Generate and cut documents until there are at least ``--units`` units."""
    texts: list[str] = []
    docs: list[CutDocument] = []
    started = time.perf_counter()
    units = 0
    n = 0
    while units < args.units or n < args.docs:
        n += 1
        text = legal_document(n, seed=args.seed)
        doc = cut_text(text.encode(), f"bench/luat-{n:04d}.md")
        assert isinstance(doc, CutDocument)
        texts.append(text)
        docs.append(doc)
        units += len(doc.units)
    return texts, docs, time.perf_counter() - started


# --------------------------------------------------------------------------------------
# (a) the write functions against COPY
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Extras:
    """What an apply writes besides the rows of the unit tables, per document (made
    before the timing, as the units are): for the COPY of the same end state."""

    cut_digest: str
    profile: str | None
    references: list[dict[str, Any]]


def extras(docs: list[CutDocument]) -> list[Extras]:
    out = []
    for doc in docs:
        dp = diff_document(doc, None, {})
        out.append(Extras(dp.cut_digest or "", dp.profile, list(dp.references)))
    return out


def copy_rows(
    dsn: str, docs: list[CutDocument], same: list[Extras] | None = None
) -> dict[str, float]:
    """COPY the rows an initial apply writes, as fast as the client can: one transaction.

    information_unit first (its ids are generated always), then the code → id map, then
    unit_version and iu_lifecycle_log, then iu_document. Returns phase timings.

    ``same`` (the COPY of the same end state): also what the functions write besides:
    each version with the search configuration of its document's profile (the rows
    above get ``simple`` from the trigger, as no profile is named), the documents'
    profile and cut digest, the references, and the search index's pending list merged
    into the index before the commit, as ``fn_run_finish`` does (the rows above leave it
    to autovacuum, ~1 s for these rows).
    """
    timings: dict[str, float] = {}
    run_id = uuid.uuid4()
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        conn.execute(
            f"INSERT INTO {SCHEMA}.iu_run (run_id, mode, status) VALUES (%s, 'apply', 'finished')",
            (run_id,),
        )
        configs: dict[str | None, str] = {}
        if same is not None:
            rows = conn.execute(f"SELECT profile, config::text FROM {SCHEMA}.iu_search_config")
            configs = dict(rows.fetchall())  # type: ignore[arg-type]
        with conn.cursor() as cur:
            with cur.copy(
                f"COPY {SCHEMA}.information_unit (code, namespace, doc_path, parent_code, kind, "
                "label, ordinal, depth, position, current_version, content_hash, created_run, "
                "updated_run) FROM STDIN"
            ) as copy:
                for doc in docs:
                    for u in doc.units:
                        copy.write_row(
                            (
                                u.code,
                                u.namespace,
                                u.doc_path,
                                u.parent_code,
                                u.kind,
                                u.label,
                                u.ordinal,
                                u.depth,
                                u.position,
                                1,
                                u.content_hash,
                                run_id,
                                run_id,
                            )
                        )
            timings["information_unit"] = time.perf_counter() - started
            ids = dict(cur.execute(f"SELECT code, unit_id FROM {SCHEMA}.information_unit"))
            timings["id map"] = time.perf_counter() - started - sum(timings.values())
            mark = time.perf_counter()
            config_column = ", search_config" if same is not None else ""
            with cur.copy(
                f"COPY {SCHEMA}.unit_version (unit_id, version, title, body, raw_heading, "
                "content_hash, doc_path, line_start, line_end, byte_start, byte_end, run_id"
                f"{config_column}) FROM STDIN"
            ) as copy:
                for n, doc in enumerate(docs):
                    config = () if same is None else (configs.get(same[n].profile, "simple"),)
                    for u in doc.units:
                        copy.write_row(
                            (
                                ids[u.code],
                                1,
                                u.title,
                                u.body,
                                u.raw_heading,
                                u.content_hash,
                                u.doc_path,
                                u.line_start,
                                u.line_end,
                                u.byte_start,
                                u.byte_end,
                                run_id,
                                *config,
                            )
                        )
            timings["unit_version"] = time.perf_counter() - mark
            mark = time.perf_counter()
            with cur.copy(
                f"COPY {SCHEMA}.iu_lifecycle_log (unit_id, code, event, from_version, "
                "to_version, run_id) FROM STDIN"
            ) as copy:
                for doc in docs:
                    for u in doc.units:
                        copy.write_row((ids[u.code], u.code, "created", None, 1, run_id))
            timings["iu_lifecycle_log"] = time.perf_counter() - mark
            if same is not None:
                mark = time.perf_counter()
                with cur.copy(
                    f"COPY {SCHEMA}.unit_reference (unit_id, version, ordinal, char_start, "
                    "char_end, text, target_code, act, relative, run_id) FROM STDIN"
                ) as copy:
                    for extra in same:
                        for r in extra.references:
                            copy.write_row(
                                (
                                    ids[r["code"]],
                                    1,
                                    r["ordinal"],
                                    r["char_start"],
                                    r["char_end"],
                                    r["text"],
                                    r["target_code"],
                                    r["act"],
                                    bool(r["relative"]),
                                    run_id,
                                )
                            )
                timings["unit_reference"] = time.perf_counter() - mark
            mark = time.perf_counter()
            more = ", cut_digest, profile" if same is not None else ""
            with cur.copy(
                f"COPY {SCHEMA}.iu_document (doc_path, namespace, doc_hash, unit_count, "
                f"size_bytes, first_run, last_run{more}) FROM STDIN"
            ) as copy:
                for n, doc in enumerate(docs):
                    tail = () if same is None else (same[n].cut_digest, same[n].profile)
                    copy.write_row(
                        (
                            doc.path,
                            doc.namespace,
                            doc.doc_hash,
                            len(doc.units),
                            doc.size,
                            run_id,
                            run_id,
                            *tail,
                        )
                    )
            timings["iu_document"] = time.perf_counter() - mark
            if same is not None:
                mark = time.perf_counter()
                cur.execute(
                    "SELECT pg_catalog.gin_clean_pending_list("
                    f"'{SCHEMA}.unit_version_search_idx'::regclass)"
                )
                timings["search index merge"] = time.perf_counter() - mark
        mark = time.perf_counter()
        conn.commit()
        timings["commit"] = time.perf_counter() - mark
        timings["total"] = time.perf_counter() - started
        timings["backend cpu"] = backend_cpu(conn.info.backend_pid)
    return timings


def same_rows(dsn_a: str, dsn_b: str, *, end_state: bool = False) -> bool:
    """Both databases hold the same unit texts (a check that COPY loaded the same rows);
    ``end_state``: also the same search vectors, references and document rows, and no
    entry left in the search index's pending list."""
    sqls = [
        f"SELECT md5(string_agg(u.code || v.raw_heading || v.body, '' ORDER BY u.code)) "
        f"FROM {SCHEMA}.information_unit u JOIN {SCHEMA}.unit_version v USING (unit_id)"
    ]
    if end_state:
        sqls += [
            f"SELECT md5(string_agg(u.code || v.search_config::text || v.search_vector::text, "
            f"'' ORDER BY u.code)) FROM {SCHEMA}.information_unit u "
            f"JOIN {SCHEMA}.unit_version v USING (unit_id)",
            f"SELECT md5(string_agg(u.code || r.ordinal || r.char_start || r.text "
            f"|| coalesce(r.target_code, '') || r.relative::text, '' ORDER BY u.code, r.ordinal)) "
            f"FROM {SCHEMA}.unit_reference r JOIN {SCHEMA}.information_unit u USING (unit_id)",
            f"SELECT md5(string_agg(concat_ws('|', doc_path, namespace, doc_hash, cut_digest, "
            f"state, unit_count, size_bytes, profile), '' ORDER BY doc_path)) "
            f"FROM {SCHEMA}.iu_document",
            "SELECT pg_catalog.gin_clean_pending_list("
            f"'{SCHEMA}.unit_version_search_idx'::regclass)",
        ]
    with psycopg.connect(dsn_a) as a, psycopg.connect(dsn_b) as b:
        return all(a.execute(sql).fetchone() == b.execute(sql).fetchone() for sql in sqls)


# --------------------------------------------------------------------------------------


def backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a server process so far (/proc: the server runs on
    this machine). Load on the other cores barely moves it, unlike wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CountingProvider(ConnectionProvider):
    """A provider that adds up the CPU of the server process of each connection it
    opened, read as the connection is closed (autovacuum and the other background
    processes, which run for any writer, are not counted)."""

    backend_cpu = 0.0

    def connect(self, *, user: str | None = None, autocommit: bool = False) -> Any:
        conn = super().connect(user=user, autocommit=autocommit)
        pid, close = conn.backend_pid, conn.close

        def closing() -> None:
            with contextlib.suppress(OSError):
                self.backend_cpu += backend_cpu(pid)
            close()

        conn.close = closing  # type: ignore[method-assign]
        return conn


def machine(admin_dsn: str) -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with psycopg.connect(admin_dsn) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql": version,
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "server": redact(admin_dsn),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="an admin (CREATE DATABASE) DSN; default: embedded server")
    parser.add_argument(
        "--home",
        default=str(Path(__file__).parent / "out" / "home"),
        help="iucut home of the embedded server (default: bench/out/home)",
    )
    parser.add_argument("--units", type=int, default=100_000, help="at least this many units")
    parser.add_argument("--docs", type=int, default=200, help="at least this many documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--driver", default="psycopg", choices=["psycopg", "psycopg2"])
    parser.add_argument("--repeat", type=int, default=3, help="rounds of (a); median ratio")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--json", dest="json_out", help="also write the figures to this file")
    parser.add_argument(
        "--corpus",
        choices=["generated", "laws"],
        default="generated",
        help="generated: the COPY comparison above; laws: the real-corpus benchmark",
    )
    parser.add_argument(
        "--generated-units",
        type=int,
        default=0,
        help="laws: also load this many generated units (log-normal sizes) before the laws",
    )
    parser.add_argument(
        "--modes",
        default="auto,force_generic_plan",
        help="laws: plan_cache_mode settings to run, comma-separated",
    )
    parser.add_argument(
        "--no-langchain", action="store_true", help="laws: leave LangChain's index() out"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="laws: alternating rounds of the side-by-side"
    )
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="laws: only the first sync of `iucut apply` (--jobs at its default and 1) "
        "against LangChain's index(), in --rounds alternating rounds",
    )
    parser.add_argument(
        "--initial-only",
        action="store_true",
        help="generated: only (a), the functions against COPY (e.g. to alternate two checkouts)",
    )
    parser.add_argument(
        "--writers",
        type=int,
        default=1,
        help="generated: connections writing through the functions in (a) (apply's jobs; "
        "default 1, as many as the one COPY stream: the like-for-like figure; `iucut apply` "
        "uses one a CPU)",
    )
    args = parser.parse_args()

    admin_dsn, embedded = server_dsn(args)
    figures: dict[str, Any] = {"machine": machine(admin_dsn)}
    log(f"server: {figures['machine']['server']} (PostgreSQL {figures['machine']['postgresql']})")
    if args.corpus == "laws":
        import laws

        figures.update(
            laws.run(
                admin_dsn,
                fresh_database,
                generated_units=args.generated_units,
                seed=args.seed,
                modes=tuple(m for m in args.modes.split(",") if m),
                keep=args.keep,
                langchain=not args.no_langchain,
                rounds=args.rounds,
                side_only=args.side_by_side,
            )
        )
        figures["machine"]["load_average_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(json.dumps(figures, indent=2))
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        return 0
    texts, docs, cut_seconds = make_corpus(args)
    units = sum(len(d.units) for d in docs)
    size = sum(d.size for d in docs)
    figures["corpus"] = {
        "documents": len(docs),
        "units": units,
        "bytes": size,
        "cut_seconds": round(cut_seconds, 2),
    }
    log(
        f"corpus: {len(docs)} documents, {units} units, {size / 1e6:.1f} MB "
        f"(cut in {cut_seconds:.1f}s)"
    )

    same_extras = extras(docs)
    rounds: list[dict[str, Any]] = []
    for round_no in range(args.repeat):
        with (
            fresh_database(admin_dsn, "fn", args.keep) as fn_dsn,
            fresh_database(admin_dsn, "copy", args.keep) as copy_dsn,
            fresh_database(admin_dsn, "same", args.keep) as same_dsn,
        ):
            settings = settings_for(fn_dsn, args.driver)

            # (a) through the write functions, and raw COPY of the same rows into the same
            # tables (as in session 6), and COPY of the same end state (see copy_rows); the
            # order alternates between rounds so drift hits them alike
            copy: dict[str, float] = {}
            same: dict[str, float] = {}
            fn_seconds = 0.0
            cpu: dict[str, dict[str, float]] = {}
            steps = ("fn", "copy", "same")
            for step in steps if round_no % 2 == 0 else steps[::-1]:
                client0 = time.process_time()
                if step == "copy":
                    copy = copy_rows(copy_dsn, docs)
                    server = copy.pop("backend cpu")
                elif step == "same":
                    same = copy_rows(same_dsn, docs, same_extras)
                    server = same.pop("backend cpu")
                else:
                    provider = CountingProvider(Target(fn_dsn, "--dsn"), args.driver, schema=SCHEMA)
                    started = time.perf_counter()
                    result = apply_documents(settings, provider, docs, jobs=args.writers)
                    fn_seconds = time.perf_counter() - started
                    server = provider.backend_cpu
                    assert not result.failed and not result.rejected, result.failed[:3]
                    assert result.counts["created"] == units, result.counts
                client = time.process_time() - client0
                cpu[step] = {"client": round(client, 2), "server": round(server, 2)}
            assert table_counts(copy_dsn) == {**table_counts(fn_dsn), "iu_run": 1}
            assert same_rows(fn_dsn, copy_dsn)
            assert table_counts(same_dsn) == {**table_counts(fn_dsn), "iu_run": 1}
            assert same_rows(fn_dsn, same_dsn, end_state=True)
            ratio = copy["total"] / fn_seconds
            ratio_same = same["total"] / fn_seconds
            rounds.append(
                {
                    "functions_seconds": round(fn_seconds, 2),
                    "functions_units_per_s": round(units / fn_seconds),
                    "copy_seconds": round(copy["total"], 2),
                    "copy_units_per_s": round(units / copy["total"]),
                    "copy_phases": {k: round(v, 2) for k, v in copy.items()},
                    "ratio": round(ratio, 3),
                    "copy_same_end_state_seconds": round(same["total"], 2),
                    "copy_same_end_state_phases": {k: round(v, 2) for k, v in same.items()},
                    "ratio_same_end_state": round(ratio_same, 3),
                    "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
                    # CPU seconds: this process, and the server processes of its connections
                    "cpu": cpu,
                }
            )
            log(
                f"(a) round {round_no + 1}: functions {fn_seconds:.2f}s = "
                f"{units / fn_seconds:,.0f} units/s; COPY {copy['total']:.2f}s = "
                f"{units / copy['total']:,.0f} units/s; ratio {ratio:.2f}x; COPY of the same "
                f"end state {same['total']:.2f}s, ratio {ratio_same:.2f}x "
                f"(load {os.getloadavg()[0]:.2f}); CPU s {cpu}"
            )
            if round_no < args.repeat - 1:
                continue
            median = statistics.median(r["ratio"] for r in rounds)
            median_same = statistics.median(r["ratio_same_end_state"] for r in rounds)
            figures["a_initial_load"] = {
                "rounds": rounds,
                "functions_units_per_s_median": statistics.median(
                    r["functions_units_per_s"] for r in rounds
                ),
                "copy_units_per_s_median": statistics.median(r["copy_units_per_s"] for r in rounds),
                "ratio_median": median,
                "writers": args.writers,
                "target": ">= 0.8",
                "pass": median >= 0.8,
                # COPY writing what the functions write (see copy_rows): the same end state
                "ratio_same_end_state_median": median_same,
                "pass_same_end_state": median_same >= 0.8,
            }
            log(
                f"(a) median ratio over {len(rounds)} rounds ({args.writers} writer(s) against "
                f"one COPY stream): {median:.2f}x against COPY of the "
                f"rows (as in session 6), {median_same:.2f}x against COPY of the same end "
                "state (target >= 0.8x)"
            )
            if args.initial_only:
                break

            # (b) re-apply of the unchanged corpus
            before = table_counts(fn_dsn)
            started = time.perf_counter()
            again = apply_documents(settings, provider, docs)
            b_seconds = time.perf_counter() - started
            assert again.run_id is None and table_counts(fn_dsn) == before
            figures["b_reapply_unchanged"] = {
                "seconds": round(b_seconds, 3),
                "target": "<= 1",
                "pass": b_seconds <= 1.0,
            }
            log(f"(b) re-apply unchanged: {b_seconds:.3f}s (target <= 1s), no row written")

            # (b') the same from the command line, cutting included
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("IUCUT_", "PG")) and k != "DATABASE_URL"
            }
            env.update(
                IUCUT_DSN=fn_dsn,
                IUCUT_SCHEMA=SCHEMA,
                IUCUT_EXECUTION="enabled",
                IUCUT_HOME=str(Path(args.home)),
            )
            folder = Path(args.home).parent / "corpus" / "bench"
            folder.mkdir(parents=True, exist_ok=True)
            for i, text in enumerate(texts, 1):
                (folder / f"luat-{i:04d}.md").write_text(text, encoding="utf-8")
            iucut = Path(sys.executable).with_name("iucut")
            started = time.perf_counter()
            cli = subprocess.run(
                [
                    str(iucut),
                    "--driver",
                    args.driver,
                    "apply",
                    str(folder),
                    "--root",
                    str(folder.parent),
                    "--json",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            cli_seconds = time.perf_counter() - started
            assert cli.returncode == 0, cli.stderr
            assert json.loads(cli.stdout)["run_id"] is None
            figures["b_reapply_unchanged"]["cli_seconds_with_cut"] = round(cli_seconds, 2)
            log(f"(b') `iucut apply` of the unchanged folder, cutting included: {cli_seconds:.2f}s")

            # (c) one unit changed among all of them
            target = len(docs) // 2
            edited = revise_clause(texts[target], article=7, clause=2)
            changed = cut_text(edited.encode(), docs[target].path)
            assert isinstance(changed, CutDocument)
            docs_c = [*docs[:target], changed, *docs[target + 1 :]]
            before = table_counts(fn_dsn)
            started = time.perf_counter()
            one = apply_documents(settings, provider, docs_c)
            c_seconds = time.perf_counter() - started
            after = table_counts(fn_dsn)
            delta = {t: after[t] - before[t] for t in TABLES}
            assert one.counts == {
                "created": 0,
                "revised": 1,
                "moved": 0,
                "retired": 0,
                "restored": 0,
                "placed": 0,
            }, one.counts
            assert delta == {
                "information_unit": 0,
                "unit_version": 1,
                "iu_lifecycle_log": 1,
                "iu_run": 1,
                "iu_document": 0,
            }, delta
            figures["c_one_unit_changed"] = {
                "seconds": round(c_seconds, 3),
                "rows_written": delta,
                "target": "<= 0.5",
                "pass": c_seconds <= 0.5,
            }
            log(
                f"(c) one unit changed among {units}: {c_seconds:.3f}s (target <= 0.5s); "
                f"rows written {delta}"
            )

    if embedded is not None and not args.keep:
        pass  # the embedded server stays up for the next run (iucut db stop stops it)
    print(json.dumps(figures, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    ok = all(
        figures[k]["pass"]
        for k in ("a_initial_load", "b_reapply_unchanged", "c_one_unit_changed")
        if k in figures
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
