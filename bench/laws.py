"""The real-corpus apply benchmark: the shared laws (2 to 10,500 units a document) into an
empty database, and after a generated corpus with log-normal document sizes, against
each document's solo time, with and without force_generic_plan, side by side with
LangChain's ``index()`` and its SQL record manager on the same files and server.

Run through ``python bench/apply_bench.py --corpus laws`` (see its ``--help``).
"""

from __future__ import annotations

import math
import random
import statistics
import sys
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


def langchain_run(dsn: str, files: list[Path], root: Path) -> dict[str, Any]:
    """First sync, unchanged re-sync and one changed file through ``index()`` (files read
    and split inside the timing, as iucut's end-to-end figure cuts inside it)."""
    from langchain_classic.indexes import SQLRecordManager, index
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_core.vectorstores import InMemoryVectorStore
    from sqlalchemy import create_engine

    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    manager = SQLRecordManager("iucut-bench", engine=engine)
    manager.create_schema()
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=16))

    def sync(changed: dict[str, str] | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        sources = [(str(p.relative_to(root)), p.read_text(encoding="utf-8")) for p in files]
        docs = langchain_docs([(s, (changed or {}).get(s, t)) for s, t in sources])
        split = time.perf_counter() - started
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the SHA-1 key warning: LangChain's default kept
            result = index(docs, manager, store, cleanup="incremental", source_id_key="source")
        return {
            "seconds": round(time.perf_counter() - started, 3),
            "split_seconds": round(split, 3),
            "chunks": len(docs),
            **{k: int(v) for k, v in result.items()},
        }

    first = sync()
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


def run(
    admin_dsn: str,
    fresh_database: Callable[[str, str, bool], Any],
    *,
    generated_units: int,
    seed: int,
    modes: tuple[str, ...],
    keep: bool,
    langchain: bool = True,
) -> dict[str, Any]:
    """Every figure of the laws benchmark on one server."""
    root = CORPORA
    files = law_files(root)
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
    with fresh_database(admin_dsn, "langchain", keep) as dsn:
        figures["langchain"] = langchain_run(dsn, files, root)
    lc = figures["langchain"]
    log(
        f"langchain index(): first {lc['first_sync']['seconds']:.1f}s, re-sync "
        f"{lc['unchanged_resync']['seconds']:.2f}s, one change {lc['one_change']['seconds']:.2f}s"
    )
    return figures
