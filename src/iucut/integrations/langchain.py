"""LangChain: a document loader (one Document per unit) and ``sync()``, which keeps any
VectorStore exactly in line with the database through the change feed.

Needs ``pip install 'iucut[langchain]'`` (langchain-core).

``sync`` reads the feed from the consumer's cursor, which is kept in the database (table
``iu_feed_cursor``, moved only through ``fn_iu_feed_cursor_set``). Per page of changes it
first marks the page *pending*, then deletes what was retired and replaces what changed
in the vector store, and only then moves the cursor past the page. A vector store that
fails leaves the cursor before the page: the next sync writes that page again, deleting
before adding, so nothing is lost and nothing is duplicated (LangChain's ``index()``
loses such writes, langchain#40226).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iucut.cutting import DEFAULT_GLOB
from iucut.feed import START, Change, Cursor, Position
from iucut.integrations import require
from iucut.integrations.units import UnitRecord, from_files, from_store
from iucut.store import Store
from iucut.units import Event

require("langchain_core", "langchain")

from langchain_core.document_loaders import BaseLoader  # noqa: E402
from langchain_core.documents import Document  # noqa: E402

if TYPE_CHECKING:
    from langchain_core.vectorstores import VectorStore

#: The name under which ``sync`` keeps its cursor unless told otherwise.
DEFAULT_CONSUMER = "langchain"


def to_document(rec: UnitRecord) -> Document:
    """One LangChain Document for a unit: id = code, the unit's text, its metadata."""
    return Document(id=rec.code, page_content=rec.text, metadata=rec.metadata())


class UnitLoader(BaseLoader):
    """One Document per unit: from files and folders (no database), or from a Store's
    current versions (``store=``, optionally one document or namespace ``doc=``).

    Units with no text of their own (e.g. a document's root) are left out unless
    ``include_empty``.
    """

    def __init__(
        self,
        paths: Sequence[str | Path] | None = None,
        *,
        store: Store | None = None,
        doc: str | None = None,
        glob: str = DEFAULT_GLOB,
        root: str | Path | None = None,
        include_empty: bool = False,
    ):
        if (paths is None) == (store is None):
            raise ValueError("give either paths (files) or store= (the database)")
        self.paths = list(paths) if paths is not None else None
        self.store = store
        self.doc = doc
        self.glob = glob
        self.root = root
        self.include_empty = include_empty

    def lazy_load(self) -> Iterator[Document]:
        if self.paths is not None:
            records: Any = from_files(self.paths, glob=self.glob, root=self.root)
        else:
            assert self.store is not None
            records = from_store(self.store, self.doc)
        for rec in records:
            if self.include_empty or not rec.empty:
                yield to_document(rec)


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What a sync did to the vector store."""

    added: int  # documents written (each embedded once)
    deleted: int  # ids deleted (retired units, and replaced ones)
    changes: int  # feed changes read
    pages: int
    cursor: Cursor


def sync(
    vectorstore: VectorStore,
    store: Store,
    *,
    consumer: str = DEFAULT_CONSUMER,
    page_size: int = 1000,
) -> SyncResult:
    """Bring ``vectorstore`` in line with the database's active units, through the feed.

    Adds created units, replaces revised, moved and restored ones (delete, then add),
    deletes retired ones; an unchanged unit is never embedded again. The vector store must
    accept ``add_documents(docs, ids=...)`` and ``delete(ids)``.
    """
    tag = store.database_tag()
    saved = store.feed_cursor(consumer)
    start = saved.position if saved is not None else START
    pending = saved.pending if saved is not None else None
    added = deleted = seen = pages = 0
    while True:
        page = store.changes(Cursor(tag, start), limit=page_size)
        if not page.changes:
            break
        end = page.cursor.position
        retry = pending is not None and start < pending
        upserts, removes = _plan_page(page.changes, retry)
        # 1. mark the page pending: should the writes below fail, the next sync knows
        mark = max(end, pending) if pending is not None else end
        saved = store.set_feed_cursor(consumer, saved, start, pending=mark)
        # 2. the vector store
        if removes:
            vectorstore.delete(ids=removes)
            deleted += len(removes)
        if upserts:
            crumbs = store.ancestors([c.code for c in upserts])
            docs = [to_document(_record(c, crumbs.get(c.code, []))) for c in upserts]
            vectorstore.add_documents(docs, ids=[d.id for d in docs])
            added += len(docs)
        # 3. past the page
        pending = mark if end < mark else None
        saved = store.set_feed_cursor(consumer, saved, end, pending=pending)
        start = end
        seen += len(page.changes)
        pages += 1
    return SyncResult(added, deleted, seen, pages, Cursor(tag, start))


def _plan_page(changes: Sequence[Change], retry: bool) -> tuple[list[Change], list[str]]:
    """The last state of each unit in a page: what to add, and which ids to delete.

    A unit already in the vector store (its first change in the page is not its
    creation) is deleted before it is added again, so that every store replaces it; on
    a retry of a page that may be half written, every id of the page is.
    """
    first: dict[str, Change] = {}
    last: dict[str, Change] = {}
    for c in changes:
        first.setdefault(c.code, c)
        last[c.code] = c
    upserts: list[Change] = []
    removes: list[str] = []
    for code, c in last.items():
        known = retry or first[code].event != Event.CREATED
        empty = not (c.text or "").strip()
        if c.event == Event.RETIRED or empty:
            # a retired unit whose last text was empty was never written (nothing to embed)
            if known and not (c.event == Event.RETIRED and empty and not retry):
                removes.append(code)
        else:
            if known:
                removes.append(code)
            upserts.append(c)
    return upserts, removes


def _record(c: Change, crumbs: Sequence[str]) -> UnitRecord:
    return UnitRecord(
        code=c.code,
        text=c.text or "",
        parent=c.parent_code,
        kind=c.kind,
        label=c.label,
        title=c.title or "",
        breadcrumb=tuple(crumbs),
        namespace=c.namespace,
        doc_path=c.doc_path,
        line_start=c.line_start,
        line_end=c.line_end,
        version=c.version,
        content_hash=c.content_hash or "",
    )


__all__ = ["DEFAULT_CONSUMER", "Position", "SyncResult", "UnitLoader", "sync", "to_document"]
