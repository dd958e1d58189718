"""What every integration says about a unit: its text and metadata, from files or the database.

One source for the loaders (LangChain, LlamaIndex) and the sync, so that a unit is
described alike wherever it goes: id = code; metadata code, parent, kind, label, title,
breadcrumb (ancestor titles, root first), document path, line span, version, hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iucut.cutting import DEFAULT_GLOB, cut_paths
from iucut.store import CurrentUnit, Store
from iucut.units import CutDocument


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """A unit as integrations see it (``version`` is None for a unit read from a file)."""

    code: str
    text: str
    parent: str | None
    kind: str
    label: str | None
    title: str
    breadcrumb: tuple[str, ...]
    namespace: str
    doc_path: str
    line_start: int | None
    line_end: int | None
    version: int | None
    content_hash: str

    @property
    def empty(self) -> bool:
        """Nothing to embed (e.g. a document unit with no text of its own)."""
        return not self.text.strip()

    def metadata(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "parent": self.parent,
            "kind": self.kind,
            "label": self.label,
            "title": self.title,
            "breadcrumb": list(self.breadcrumb),
            "namespace": self.namespace,
            "doc_path": self.doc_path,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "version": self.version,
            "content_hash": self.content_hash,
        }


def breadcrumbs(units: Iterable[tuple[str, str | None, str]]) -> dict[str, tuple[str, ...]]:
    """``code → ancestor titles`` from ``(code, parent, title)`` of one or more documents."""
    parent = {}
    title = {}
    for code, up, t in units:
        parent[code], title[code] = up, t
    out: dict[str, tuple[str, ...]] = {}

    def chain(code: str) -> tuple[str, ...]:
        if code in out:
            return out[code]
        up = parent.get(code)
        crumbs = () if up is None or up not in title else (*chain(up), title[up])
        out[code] = crumbs
        return crumbs

    for code in parent:
        chain(code)
    return out


def from_documents(docs: Iterable[CutDocument]) -> Iterator[UnitRecord]:
    """Records of cut documents (no database: ``version`` is None)."""
    for doc in docs:
        crumbs = breadcrumbs((u.code, u.parent_code, u.title) for u in doc.units)
        for u in doc.units:
            yield UnitRecord(
                code=u.code,
                text=u.raw_heading + u.body,
                parent=u.parent_code,
                kind=u.kind,
                label=u.label,
                title=u.title,
                breadcrumb=crumbs[u.code],
                namespace=u.namespace,
                doc_path=u.doc_path,
                line_start=u.line_start,
                line_end=u.line_end,
                version=None,
                content_hash=u.content_hash,
            )


def from_files(
    paths: Sequence[str | Path], *, glob: str = DEFAULT_GLOB, root: str | Path | None = None
) -> Iterator[UnitRecord]:
    """Records of the units of files and folders, cut as the CLI cuts them."""
    return from_documents(cut_paths(paths, glob=glob, root=root))


def record(u: CurrentUnit, crumbs: Mapping[str, tuple[str, ...]]) -> UnitRecord:
    return UnitRecord(
        code=u.code,
        text=u.text,
        parent=u.parent_code,
        kind=u.kind,
        label=u.label,
        title=u.title,
        breadcrumb=crumbs.get(u.code, ()),
        namespace=u.namespace,
        doc_path=u.doc_path,
        line_start=u.line_start,
        line_end=u.line_end,
        version=u.version,
        content_hash=u.content_hash,
    )


def from_store(store: Store, doc: str | None = None) -> list[UnitRecord]:
    """Records of the current versions of the active units (of one document or namespace)."""
    units = store.units(doc)
    crumbs = breadcrumbs((u.code, u.parent_code, u.title) for u in units)
    return [record(u, crumbs) for u in units]
