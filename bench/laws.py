"""The real-corpus apply benchmark: the shared laws (2 to 10,500 units a document) into an
empty database, and after a generated corpus with log-normal document sizes, against
each document's solo time, with and without force_generic_plan, side by side with
LangChain's ``index()`` and its SQL record manager on the same files and server.

Run through ``python bench/apply_bench.py --corpus laws`` (see its ``--help``).
"""

from __future__ import annotations

import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from corpus import legal_document
from iucut.apply import apply_documents, begin_run, write_document
from iucut.config import Settings
from iucut.cut import cut_paths, cut_text
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target
from iucut.plan_state import plan_document, plan_for_values, read_documents
from iucut.units import CutDocument

#: The shared corpora: ``shared/corpora`` in the nearest folder above that has one.
CORPORA = next(
    (
        p / "shared" / "corpora"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "corpora").is_dir()
    ),
    Path("shared/corpora"),
)
LAWS = ("de-laws", "vn-laws")
GENERIC = "force_generic_plan"
COMMIT = "(commit)"  # the key of the commit time among the solo times


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def law_files(root: Path) -> list[Path]:
    """The Markdown files of the shared laws, in a stable order."""
    files: list[Path] = []
    for name in LAWS:
        files += sorted((root / name).rglob("*.md"))
    return files


def cut_laws(root: Path) -> tuple[list[CutDocument], float]:
    """The shared laws cut as ``iucut apply de-laws vn-laws`` cuts them (timed)."""
    started = time.perf_counter()
    found = cut_paths([root / n for n in LAWS], glob="**/*.md", root=root)
    docs = [d for d in found if isinstance(d, CutDocument)]
    return docs, time.perf_counter() - started


def generated(units: int, seed: int) -> list[CutDocument]:
    """Generated laws whose sizes follow a log-normal law (median ~100 units, sigma 1.3,
    2 to 12,000 units), until ``units`` units; their paths never meet the shared laws'."""
    rng = random.Random(seed)
    docs: list[CutDocument] = []
    total = 0
    n = 0
    while total < units:
        n += 1
        size = min(12_000, max(2, int(rng.lognormvariate(math.log(100), 1.3))))
        articles = max(1, size // 10)
        chapters = max(1, round(articles / 10))
        text = legal_document(
            n, chapters=chapters, articles=max(1, articles // chapters), seed=seed
        )
        doc = cut_text(text.encode(), f"generated/luat-{n:05d}.md")
        assert isinstance(doc, CutDocument)
        docs.append(doc)
        total += len(doc.units)
    return docs


def settings_for(dsn: str) -> Settings:
    return Settings(dsn=dsn, schema="public", driver="psycopg", execution="enabled", env={})


@contextmanager
def generic_plans(admin_dsn: str, dsn: str, on: bool) -> Iterator[None]:
    """Every new session of the database forces generic plans (as PGOPTIONS would)."""
    name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    if on:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE {name} SET plan_cache_mode = {GENERIC}")
    yield


def timed_apply(dsn: str, docs: list[CutDocument]) -> dict[str, Any]:
    """``apply_documents`` of ``docs``: seconds, units written, per-document seconds."""
    marks: dict[str, float] = {}
    last = [0.0]

    def tick(_n: int, _total: int, path: str) -> None:
        now = time.perf_counter()
        marks[path] = now - last[0]
        last[0] = now

    provider = ConnectionProvider(Target(dsn, "--dsn"), schema="public")
    started = time.perf_counter()
    last[0] = started
    result = apply_documents(settings_for(dsn), provider, docs, on_progress=tick)
    seconds = time.perf_counter() - started
    assert not result.failed and not result.rejected, (result.failed, result.rejected)
    # the first document's time also holds the connection, the triage and the run's start
    for path in list(marks)[:1]:
        del marks[path]
    return {"seconds": seconds, "counts": result.counts, "per_doc": marks}


def backend_cpu_seconds(dsn: str) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each server process on this machine
    that serves ``dsn``'s database (from /proc: the server is local)."""
    name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        ]
    used: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def cli_apply(dsn: str, root: Path, jobs: int | None = None) -> dict[str, Any]:
    """``iucut apply de-laws vn-laws`` as a user runs it: a fresh process and iucut home
    (no cut cache), cutting included, ``--jobs`` left to its default (one per CPU: the
    documents cut in worker processes and written on that many connections) unless
    ``jobs`` is given. Wall seconds, the client's CPU (the command and its workers) and
    the CPU of the server processes serving the database (sampled while it runs)."""
    iucut = Path(sys.executable).with_name("iucut")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IUCUT_", "PG")) and k != "DATABASE_URL"
    }
    with tempfile.TemporaryDirectory(prefix="iucut-bench-home-") as home:
        env.update(IUCUT_DSN=dsn, IUCUT_SCHEMA="public", IUCUT_EXECUTION="enabled", IUCUT_HOME=home)
        command = [str(iucut), "apply", *(str(root / n) for n in LAWS), "--root", str(root)]
        command += ["--json"] + ([] if jobs is None else ["--jobs", str(jobs)])
        out, err = Path(home) / "stdout", Path(home) / "stderr"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with out.open("wb") as stdout, err.open("wb") as stderr:  # files: a pipe fills up
            proc = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr)
            server: dict[int, float] = {}
            while proc.poll() is None:  # server processes end with their connections
                time.sleep(0.25)
                server.update(backend_cpu_seconds(dsn))
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert proc.returncode == 0, err.read_text()[-2000:]
        result = json.loads(out.read_text())
    client = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "seconds": round(seconds, 2),
        "jobs": jobs or len(os.sched_getaffinity(0)),
        "client_cpu_seconds": round(client, 2),
        "server_cpu_seconds_sampled": round(sum(server.values()), 2),
        "counts": result.get("counts"),
    }


def solo_times(dsn: str, docs: list[CutDocument]) -> dict[str, float]:
    """Each document planned and written alone into the empty database, then rolled back
    (the database stays empty), plus one commit: its solo time.

    A rollback flushes nothing, a commit waits for the WAL to reach the disk (a few ms,
    tens under load): the commit is timed on its own, as the median of 21 commits of a
    one-row transaction, and added to each document's time."""
    provider = ConnectionProvider(Target(dsn, "--dsn"), schema="public")
    conn = provider.connect(autocommit=False)
    try:
        plan_for_values(conn)
        run_id = begin_run(conn, "apply")
        conn.commit()
        out: dict[str, float] = {}
        for doc in docs:
            started = time.perf_counter()
            conn.query("lock_document", doc_path=doc.path)
            current = read_documents(conn, [doc.path]).get(doc.path)
            write_document(conn, run_id, plan_document(conn, doc, current))
            out[doc.path] = time.perf_counter() - started
            conn.rollback()
        commits: list[float] = []
        for _ in range(21):
            begin_run(conn, "apply")
            started = time.perf_counter()
            conn.commit()
            commits.append(time.perf_counter() - started)
        floor = statistics.median(commits)
        out = {path: seconds + floor for path, seconds in out.items()}
        out[COMMIT] = floor
        return out
    finally:
        conn.close()


def ratios(
    per_doc: dict[str, float], solo: dict[str, float], docs: list[CutDocument]
) -> dict[str, Any]:
    """Per-document time against solo time: max, p99, median, and the worst documents."""
    sizes = {d.path: len(d.units) for d in docs}
    pairs = sorted(
        ((per_doc[p] / solo[p], p) for p in per_doc if p in solo and solo[p] > 0), reverse=True
    )
    values = sorted(r for r, _ in pairs)
    big = [r for r, p in pairs if sizes.get(p, 0) >= 100]

    def p99(xs: list[float]) -> float:
        return xs[min(len(xs) - 1, int(0.99 * len(xs)))] if xs else 0.0

    return {
        "documents": len(values),
        "max": round(values[-1], 2) if values else None,
        "p99": round(p99(values), 2),
        "median": round(statistics.median(values), 2) if values else None,
        "max_100_units_or_more": round(max(big), 2) if big else None,
        "p99_100_units_or_more": round(p99(sorted(big)), 2),
        "worst": [
            {
                "doc": p,
                "units": sizes.get(p),
                "ratio": round(r, 2),
                "seconds": round(per_doc[p], 4),
                "solo": round(solo[p], 4),
            }
            for r, p in pairs[:5]
        ],
    }


def revise_one(doc: CutDocument, root: Path) -> CutDocument:
    """The document with one word added to the body of its largest unit, cut again."""
    text = (root / doc.path).read_text(encoding="utf-8")
    unit = max(doc.units, key=lambda u: len(u.body))
    body = unit.body.rstrip("\n")
    changed = text.replace(unit.body, body + " (amended)" + unit.body[len(body) :], 1)
    assert changed != text
    new = cut_text(changed.encode(), doc.path, namespace=doc.namespace)
    assert isinstance(new, CutDocument)
    return new


# --------------------------------------------------------------------------------------
# LangChain index() with its SQL record manager
# --------------------------------------------------------------------------------------


def langchain_docs(sources: list[tuple[str, str]]) -> list[Any]:
    """The files split by header (MarkdownHeaderTextSplitter, # … ######), each chunk
    tagged with its file as source."""
    from langchain_core.documents import Document
    from langchain_text_splitters import MarkdownHeaderTextSplitter

    headers = [("#" * n, f"h{n}") for n in range(1, 7)]
    splitter = MarkdownHeaderTextSplitter(headers, strip_headers=False)
    return [
        Document(chunk.page_content, metadata={**chunk.metadata, "source": source})
        for source, text in sources
        for chunk in splitter.split_text(text)
    ]


def langchain_run(dsn: str, files: list[Path], root: Path, *, full: bool = True) -> dict[str, Any]:
    """First sync, unchanged re-sync and one changed file through ``index()`` (files read
    and split inside the timing, as iucut's end-to-end figure cuts inside it); the first
    sync only unless ``full``. Each with the CPU seconds of this process."""
    from langchain_classic.indexes import SQLRecordManager, index
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_core.vectorstores import InMemoryVectorStore
    from sqlalchemy import create_engine

    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    manager = SQLRecordManager("iucut-bench", engine=engine)
    manager.create_schema()
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=16))

    def sync(changed: dict[str, str] | None = None) -> dict[str, Any]:
        cpu = time.process_time()
        started = time.perf_counter()
        sources = [(str(p.relative_to(root)), p.read_text(encoding="utf-8")) for p in files]
        docs = langchain_docs([(s, (changed or {}).get(s, t)) for s, t in sources])
        split = time.perf_counter() - started
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the SHA-1 key warning: LangChain's default kept
            result = index(docs, manager, store, cleanup="incremental", source_id_key="source")
        return {
            "seconds": round(time.perf_counter() - started, 3),
            "client_cpu_seconds": round(time.process_time() - cpu, 2),
            "split_seconds": round(split, 3),
            "chunks": len(docs),
            **{k: int(v) for k, v in result.items()},
        }

    first = sync()
    if not full:
        engine.dispose()
        return {"first_sync": first}
    again = sync()
    target = max(files, key=lambda p: p.stat().st_size)
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    longest = max(range(len(lines)), key=lambda i: len(lines[i]))
    lines[longest] = lines[longest].rstrip("\n") + " (amended)\n"
    one = sync({str(target.relative_to(root)): "".join(lines)})
    engine.dispose()
    return {"first_sync": first, "unchanged_resync": again, "one_change": one}


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


def side_by_side(
    admin_dsn: str, fresh_database: Callable[[str, str, bool], Any], rounds: int, keep: bool
) -> dict[str, Any]:
    """The first sync of the shared laws as a user runs each tool, in alternating rounds,
    each in a fresh database of the same server: ``iucut apply de-laws vn-laws`` (a new
    process, cutting included, ``--jobs`` at its default: one per CPU), the same with
    ``--jobs 1``, and LangChain's ``index()`` (files read and split inside the timing);
    then, once, the unchanged re-sync and one changed file of each."""
    root = CORPORA
    files = law_files(root)
    order = ("iucut", "iucut_jobs1", "langchain")
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in order}
    for n in range(rounds):
        for what in order if n % 2 == 0 else tuple(reversed(order)):
            with fresh_database(admin_dsn, f"side_{what[:6]}", keep) as dsn:
                load = os.getloadavg()[0]
                if what == "langchain":
                    got = langchain_run(dsn, files, root, full=False)["first_sync"]
                else:
                    got = cli_apply(dsn, root, jobs=1 if what == "iucut_jobs1" else None)
                got["load_average_1min"] = round(load, 2)
                runs[what].append(got)
                log(f"side by side, round {n + 1}: {what} first sync {got['seconds']:.2f}s")
    out: dict[str, Any] = {"rounds": runs}
    out["median_seconds"] = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    out["iucut_over_langchain"] = round(
        out["median_seconds"]["iucut"] / out["median_seconds"]["langchain"], 3
    )
    with fresh_database(admin_dsn, "side_resync", keep) as dsn:
        cli_apply(dsn, root)
        again = cli_apply(dsn, root)
        out["iucut_unchanged_resync_seconds"] = again["seconds"]
    with fresh_database(admin_dsn, "side_lc", keep) as dsn:
        lc = langchain_run(dsn, files, root)
        out["langchain_unchanged_resync_seconds"] = lc["unchanged_resync"]["seconds"]
        out["langchain_one_change_seconds"] = lc["one_change"]["seconds"]
        out["langchain_full"] = lc
    return out


def side_by_side_table(out: dict[str, Any]) -> str:
    """The side-by-side figures as a Markdown table."""
    med = out["median_seconds"]
    cells = {k: ", ".join(f"{r['seconds']:.1f}" for r in v) for k, v in out["rounds"].items()}
    cpu = {
        k: statistics.median(
            r.get("client_cpu_seconds", 0) + r.get("server_cpu_seconds_sampled", 0) for r in v
        )
        for k, v in out["rounds"].items()
    }
    jobs = out["rounds"]["iucut"][0]["jobs"]
    return "\n".join(
        [
            f"| first sync, shared laws | iucut apply (--jobs {jobs}) | iucut apply --jobs 1 "
            "| LangChain index() |",
            "|---|---|---|---|",
            f"| median s (rounds) | **{med['iucut']:.2f}** ({cells['iucut']}) | "
            f"{med['iucut_jobs1']:.2f} ({cells['iucut_jobs1']}) | **{med['langchain']:.2f}** "
            f"({cells['langchain']}) |",
            f"| CPU s, client + server (median) | {cpu['iucut']:.1f} | {cpu['iucut_jobs1']:.1f} "
            f"| {cpu['langchain']:.1f} |",
            f"| unchanged re-sync s | {out['iucut_unchanged_resync_seconds']:.2f} | | "
            f"{out['langchain_unchanged_resync_seconds']:.2f} |",
            f"| iucut / LangChain, first sync | **{out['iucut_over_langchain']:.2f}** | | |",
        ]
    )


def run(
    admin_dsn: str,
    fresh_database: Callable[[str, str, bool], Any],
    *,
    generated_units: int,
    seed: int,
    modes: tuple[str, ...],
    keep: bool,
    langchain: bool = True,
    rounds: int = 1,
    side_only: bool = False,
) -> dict[str, Any]:
    """Every figure of the laws benchmark on one server (``side_only``: only the side by
    side first sync of iucut's command and LangChain, in ``rounds`` alternating rounds)."""
    if side_only:
        side = side_by_side(admin_dsn, fresh_database, rounds, keep)
        log("\n" + side_by_side_table(side))
        return {"side_by_side": side}
    root = CORPORA
    docs, cut_seconds = cut_laws(root)
    units = sum(len(d.units) for d in docs)
    figures: dict[str, Any] = {
        "corpus": {
            "documents": len(docs),
            "units": units,
            "bytes": sum(d.size for d in docs),
            "cut_seconds": round(cut_seconds, 2),
            "largest": max(len(d.units) for d in docs),
            "smallest": min(len(d.units) for d in docs),
        }
    }
    log(f"laws: {len(docs)} documents, {units} units (cut in {cut_seconds:.1f}s)")

    with fresh_database(admin_dsn, "solo", keep) as dsn:
        solo = solo_times(dsn, docs)
    figures["solo_seconds_sum"] = round(sum(solo.values()) - solo[COMMIT], 2)
    figures["solo_commit_seconds"] = round(solo[COMMIT], 4)
    figures["solo_seconds"] = {p: round(v, 5) for p, v in solo.items() if p != COMMIT}
    log(
        f"solo: {figures['solo_seconds_sum']:.1f}s for all documents one by one "
        f"(rolled back, plus a commit of {solo[COMMIT] * 1000:.1f} ms each)"
    )

    for mode in modes:
        out: dict[str, Any] = {}
        with (
            fresh_database(admin_dsn, f"laws_{mode[:6]}", keep) as dsn,
            generic_plans(admin_dsn, dsn, mode == GENERIC),
        ):
            first = timed_apply(dsn, docs)
            out["first_sync"] = {
                "seconds": round(first["seconds"], 2),
                "units_per_s": round(units / first["seconds"]),
                "with_cut_units_per_s": round(units / (first["seconds"] + cut_seconds)),
                "vs_solo": ratios(first["per_doc"], solo, docs),
                "per_doc_seconds": {p: round(v, 5) for p, v in first["per_doc"].items()},
            }
            log(
                f"[{mode}] first sync: {first['seconds']:.1f}s, "
                f"{units / first['seconds']:.0f} units/s"
            )
            again = timed_apply(dsn, docs)
            out["unchanged_resync"] = {"seconds": round(again["seconds"], 3)}
            target = max(docs, key=lambda d: d.size)
            changed = revise_one(target, root)
            one = timed_apply(dsn, [changed if d.path == target.path else d for d in docs])
            out["one_change"] = {"seconds": round(one["seconds"], 3), "counts": one["counts"]}
            log(f"[{mode}] re-sync {again['seconds']:.2f}s, one change {one['seconds']:.2f}s")
        if generated_units:
            gen = generated(generated_units, seed)
            gen_units = sum(len(d.units) for d in gen)
            with (
                fresh_database(admin_dsn, f"gen_{mode[:6]}", keep) as dsn,
                generic_plans(admin_dsn, dsn, mode == GENERIC),
            ):
                pre = timed_apply(dsn, gen)
                after = timed_apply(dsn, docs)
            out["after_generated"] = {
                "generated_documents": len(gen),
                "generated_units": gen_units,
                "generated_seconds": round(pre["seconds"], 2),
                "generated_units_per_s": round(gen_units / pre["seconds"]),
                "laws_seconds": round(after["seconds"], 2),
                "laws_units_per_s": round(units / after["seconds"]),
                "vs_solo": ratios(after["per_doc"], solo, docs),
                "per_doc_seconds": {p: round(v, 5) for p, v in after["per_doc"].items()},
            }
            log(
                f"[{mode}] after {gen_units} generated units ({pre['seconds']:.1f}s): laws "
                f"{after['seconds']:.1f}s"
            )
        figures[mode] = out

    if not langchain:
        return figures
    figures["side_by_side"] = side_by_side(admin_dsn, fresh_database, rounds, keep)
    figures["langchain"] = figures["side_by_side"].pop("langchain_full")
    lc = figures["langchain"]
    log(
        f"langchain index(): first {lc['first_sync']['seconds']:.1f}s, re-sync "
        f"{lc['unchanged_resync']['seconds']:.2f}s, one change {lc['one_change']['seconds']:.2f}s"
    )
    log("\n" + side_by_side_table(figures["side_by_side"]))
    return figures
