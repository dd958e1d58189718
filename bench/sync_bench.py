"""Keeping a vector store in line with a corpus: LangChain index() vs iucut apply + sync().

Side by side in one run, on the same server (the embedded one by default, ``--dsn`` for
another), on the same corpus (all of ../shared/corpora/de-laws and vn-laws, copied to a
temporary folder), with the same units as documents (one per unit, id = code), the same
deterministic embedding (which counts the texts it embeds) and the same vector store
class (an InMemoryVectorStore that counts the ids it deletes):

- LangChain: ``index(UnitLoader(files), SQLRecordManager(PostgreSQL), store,
  cleanup="incremental", source_id_key="doc_path")``;
- iucut: ``store.apply(files)`` (cut, plan, write through the SQL functions) then
  ``sync(vectorstore, store)`` through the change feed.

(a) initial load, (b) unchanged re-sync, (c) one paragraph changed in one file. Targets:
(b) 0 embeddings, 0 deletes, >= 10x faster than index(); (c) exactly 1 embedding.

    python bench/sync_bench.py                  # embedded server, the whole corpus
    python bench/sync_bench.py --files 40       # a quick run on the first 40 files
    python bench/sync_bench.py --dsn postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from langchain_classic.indexes import SQLRecordManager, index
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.vectorstores import InMemoryVectorStore
from psycopg.conninfo import conninfo_to_dict

import iucut
from iucut.config import Settings
from iucut.db.target import with_database
from iucut.integrations.langchain import UnitLoader, sync

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
SETS = ("de-laws", "vn-laws")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class CountingEmbedding(DeterministicFakeEmbedding):
    """Deterministic vectors; counts every text embedded."""

    calls: int = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return super().embed_documents(texts)


class CountingStore(InMemoryVectorStore):
    """An InMemoryVectorStore that counts the ids it is asked to delete."""

    def __init__(self, embedding: Any):
        super().__init__(embedding)
        self.deleted = 0

    def delete(self, ids: Any = None, **kwargs: Any) -> None:
        self.deleted += len(ids or ())
        super().delete(ids, **kwargs)


def server_dsn(args: argparse.Namespace) -> str:
    if args.dsn:
        return str(args.dsn)
    from iucut.db.embedded import EmbeddedServer

    server = EmbeddedServer(Path(args.home))
    server.start()
    return server.url("postgres")


@contextmanager
def database(admin: str, label: str) -> Iterator[str]:
    name = f"iucut_syncbench_{label}_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield with_database(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def sqlalchemy_url(dsn: str) -> str:
    """The same database as a SQLAlchemy URL (psycopg 3 dialect)."""
    from urllib.parse import quote, urlencode

    parts = conninfo_to_dict(dsn)
    user = quote(str(parts.pop("user", "postgres")), safe="")
    password = parts.pop("password", None)
    auth = user + (f":{quote(str(password), safe='')}" if password else "")
    name = quote(str(parts.pop("dbname", "postgres")), safe="")
    query = urlencode({k: str(v) for k, v in parts.items()})
    return f"postgresql+psycopg://{auth}@/{name}" + (f"?{query}" if query else "")


def copy_corpus(work: Path, files: int | None) -> tuple[Path, list[Path]]:
    root = work / "corpus"
    picked: list[Path] = []
    for name in SETS:
        picked += sorted((CORPORA / name).rglob("*.md"))
    if files:
        picked = picked[:files]
    for src in picked:
        dst = root / src.relative_to(CORPORA)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return root, [root / s for s in SETS if (root / s).is_dir()]


def change_one_paragraph(root: Path) -> str:
    """Edit one sentence of one unit's body (a paragraph in the middle of a file)."""
    for path in sorted(root.rglob("*.md")):
        doc = iucut.cut_file(path, root=root)
        for u in doc.units[len(doc.units) // 2 :]:
            line = next((ln for ln in u.body.splitlines() if len(ln) > 40), None)
            if line is None:
                continue
            text = path.read_text(encoding="utf-8")
            if text.count(line) != 1:
                continue
            path.write_text(text.replace(line, line + " (geändert)"), encoding="utf-8")
            return f"{path.relative_to(root)}: unit {u.code}"
    raise SystemExit("no paragraph to change")


def run_langchain(
    paths: list[Path], root: Path, manager: SQLRecordManager, vs: CountingStore
) -> dict[str, Any]:
    emb: CountingEmbedding = vs.embedding  # type: ignore[assignment]
    calls, deleted = emb.calls, vs.deleted
    started = time.perf_counter()
    result = index(
        UnitLoader(paths, root=root),
        manager,
        vs,
        cleanup="incremental",
        source_id_key="doc_path",
        key_encoder="sha256",
        batch_size=1000,
    )
    return {
        "seconds": time.perf_counter() - started,
        "embeddings": emb.calls - calls,
        "deletes": vs.deleted - deleted,
        "detail": dict(result),
    }


def run_iucut(
    paths: list[Path], root: Path, store: iucut.Store, vs: CountingStore
) -> dict[str, Any]:
    emb: CountingEmbedding = vs.embedding  # type: ignore[assignment]
    calls, deleted = emb.calls, vs.deleted
    started = time.perf_counter()
    applied = store.apply(paths, root=root, execution=True)
    synced = sync(vs, store)
    return {
        "seconds": time.perf_counter() - started,
        "embeddings": emb.calls - calls,
        "deletes": vs.deleted - deleted,
        "detail": {"apply": applied.counts, "sync_added": synced.added, "changes": synced.changes},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", help="admin URI of the server (default: embedded)")
    parser.add_argument("--home", default=str(Path(tempfile.gettempdir()) / "iucut-syncbench"))
    parser.add_argument("--files", type=int, help="only the first N files (quick runs)")
    args = parser.parse_args()
    admin = server_dsn(args)
    with (
        tempfile.TemporaryDirectory() as tmp,
        database(admin, "iucut") as iu_dsn,
        database(admin, "lc") as lc_dsn,
    ):
        root, paths = copy_corpus(Path(tmp), args.files)
        n_files = sum(1 for _ in root.rglob("*.md"))
        settings = Settings(dsn=iu_dsn, env={})
        store = iucut.Store(settings)
        store.migrate()
        manager = SQLRecordManager("syncbench", db_url=sqlalchemy_url(lc_dsn))
        manager.create_schema()
        lc_vs, iu_vs = (
            CountingStore(CountingEmbedding(size=64)),
            CountingStore(CountingEmbedding(size=64)),
        )
        rows: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for step in ("(a) initial", "(b) unchanged re-sync", "(c) one paragraph changed"):
            if step.startswith("(c)"):
                log(f"changed {change_one_paragraph(root)}")
            log(f"{step}: LangChain index() ...")
            lc = run_langchain(paths, root, manager, lc_vs)
            log(f"  {lc}")
            log(f"{step}: iucut apply + sync() ...")
            iu = run_iucut(paths, root, store, iu_vs)
            log(f"  {iu}")
            rows.append((step, lc, iu))
        # index() keys documents by a hash of their content, sync by the unit code
        same = sorted(v["text"] for v in lc_vs.store.values()) == sorted(
            v["text"] for v in iu_vs.store.values()
        )
        units = len(iu_vs.store)
    print(
        f"sync_bench: {n_files} files, {units} units with text; {datetime.now(UTC):%Y-%m-%d}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"server {'--dsn' if args.dsn else 'embedded'}"
    )
    print(
        "| step | LangChain index() s | embeddings | deletes | iucut apply+sync s | "
        "embeddings | deletes | speed-up |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for step, lc, iu in rows:
        print(
            f"| {step} | {lc['seconds']:.2f} | {lc['embeddings']} | {lc['deletes']} | "
            f"{iu['seconds']:.2f} | {iu['embeddings']} | {iu['deletes']} | "
            f"{lc['seconds'] / iu['seconds']:.1f}x |"
        )
    print(f"both vector stores hold the same {units} texts: {same}")
    b, c = rows[1][2], rows[2][2]
    print(
        f"targets: (b) 0 embeddings and 0 deletes: {b['embeddings'] == 0 and b['deletes'] == 0}; "
        f">= 10x: {rows[1][1]['seconds'] / b['seconds'] >= 10}; (c) exactly 1 embedding: "
        f"{c['embeddings'] == 1}"
    )


if __name__ == "__main__":
    main()
