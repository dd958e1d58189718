"""Reading units back: ``show`` a unit, its ``history``, and ``export`` a whole document.

Everything here only reads, and works as the reader role.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from iucut.db.connector import Connection
from iucut.distributed import on_cluster
from iucut.errors import NotFound


@dataclass(frozen=True)
class UnitView:
    """A unit as ``iucut show`` presents it: current version, parent, children, state."""

    unit: dict[str, Any]
    children: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {**self.unit, "children": self.children}


#: How many near codes ``show`` and ``history`` suggest for a missing one.
SUGGESTIONS = 5


def near_codes(conn: Connection, code: str) -> list[str]:
    """The stored codes nearest to ``code`` (difflib), from its namespace; the nearest
    namespaces when its namespace is not stored at all."""
    namespace, _, rest = code.partition("/")
    known = _codes_near(conn, namespace)
    if any(k == namespace or k.startswith(namespace + "/") for k in known):
        return difflib.get_close_matches(code, known, n=SUGGESTIONS, cutoff=0.6)
    near: list[str] = []  # ``known`` holds the namespaces: the same code in the nearest
    for other in difflib.get_close_matches(namespace, known, n=3, cutoff=0.6):
        moved = f"{other}/{rest}" if rest else other
        codes = _codes_near(conn, other)
        near += difflib.get_close_matches(moved, codes, n=SUGGESTIONS, cutoff=0.6) or [other]
    return near[:SUGGESTIONS]


def _codes_near(conn: Connection, namespace: str) -> list[str]:
    return [r["code"] for r in conn.query("unit_codes_near", namespace=namespace).fetchall()]


def no_unit(conn: Connection, code: str) -> NotFound:
    """The error of a missing unit: with the nearest stored codes, when there are any."""
    near = near_codes(conn, code)
    if near:
        hint = "did you mean " + ", ".join(near) + "?"
    else:
        hint = "codes look like NAMESPACE/D44/K2/a; see iucut cut"
    return NotFound(f"no unit {code}", hint=hint, suggestions=near)


def show(conn: Connection, code: str) -> UnitView:
    row = conn.query("unit_show", code=code).fetchone()
    if row is None:
        raise no_unit(conn, code)
    children = conn.query("unit_children", code=code).fetchall()
    return UnitView(dict(row), [dict(c) for c in children])


@dataclass(frozen=True)
class History:
    """Every version and lifecycle event of one unit."""

    code: str
    versions: list[dict[str, Any]]
    events: list[dict[str, Any]]

    def version(self, n: int) -> dict[str, Any]:
        for v in self.versions:
            if v["version"] == n:
                return v
        raise NotFound(
            f"unit {self.code} has no version {n}", hint=f"it has versions 1..{len(self.versions)}"
        )

    def diff(self, a: int, b: int) -> str:
        """A unified diff of the text (heading and body) of versions ``a`` and ``b``."""
        va, vb = self.version(a), self.version(b)
        return "".join(
            difflib.unified_diff(
                (va["raw_heading"] + va["body"]).splitlines(keepends=True),
                (vb["raw_heading"] + vb["body"]).splitlines(keepends=True),
                fromfile=f"{self.code}@v{a}",
                tofile=f"{self.code}@v{b}",
            )
        )

    def diff_dict(self, a: int, b: int) -> dict[str, Any]:
        """The diff of versions ``a`` and ``b`` as data: ``history --diff A B --json``."""
        va, vb = self.version(a), self.version(b)
        keys = ("version", "title", "content_hash", "created_at", "run_id")
        return {
            "code": self.code,
            "from": {k: va[k] for k in keys},
            "to": {k: vb[k] for k in keys},
            "changed": va["content_hash"] != vb["content_hash"],
            "diff": self.diff(a, b),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "versions": self.versions, "events": self.events}


def history(conn: Connection, code: str) -> History:
    versions = [dict(v) for v in conn.query("unit_versions", code=code).fetchall()]
    if not versions:
        raise no_unit(conn, code)
    events_query = "unit_events_distributed" if on_cluster(conn) else "unit_events"
    events = [dict(e) for e in conn.query(events_query, code=code).fetchall()]
    return History(code, versions, events)


def export(conn: Connection, doc: str) -> tuple[str, str]:
    """Rebuild a document (by path or namespace) from its units' current versions.

    Returns ``(doc_path, text)``; the text equals, byte for byte, the source the
    document was last applied from.
    """
    found = conn.query("document_find", doc=doc).fetchone()
    if found is None:
        raise NotFound(f"no document {doc}", hint="give its path or its namespace")
    if found["state"] != "active":
        raise NotFound(f"document {found['doc_path']} is retired")
    rows = conn.query("export_document", doc_path=found["doc_path"]).fetchall()
    return found["doc_path"], "".join(r["raw_heading"] + r["body"] for r in rows)


@dataclass(frozen=True)
class DocumentInfo:
    """A document as ``iucut ls`` lists it: namespace, state, unit counts, last run."""

    doc_path: str
    namespace: str
    state: str
    units: int  # active units
    retired_units: int
    size_bytes: int
    last_run: str | None
    last_run_status: str | None
    last_run_at: Any

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def ls(conn: Connection, doc: str | None = None) -> list[DocumentInfo]:
    """The documents (all, or those of a namespace, a path, or a folder of paths)."""
    rows = conn.query("documents_list", doc=doc).fetchall()
    if doc is not None and not rows:
        raise NotFound(
            f"no document, namespace or folder {doc}",
            hint="iucut ls with no argument lists every document",
        )
    return [
        DocumentInfo(
            doc_path=r["doc_path"],
            namespace=r["namespace"],
            state=r["state"],
            units=int(r["active_units"]),
            retired_units=int(r["retired_units"]),
            size_bytes=int(r["size_bytes"]),
            last_run=None if r["last_run"] is None else str(r["last_run"]),
            last_run_status=r["last_run_status"],
            last_run_at=r["last_run_at"],
        )
        for r in rows
    ]
