"""Test data built one way: units, unit states, cut documents, plans and the fingerprint.

Every field has a sensible default and the derived ones are computed, never typed in:
the content hash is the hash of the text, the byte span holds the text, the title is the
heading's, a unit without a parent is the document unit. A test names only what it is
about: ``make_unit("NS/A2", body="Changed.\\n")``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from iucut.units import (
    CutDocument,
    DocumentPlan,
    Fingerprint,
    Plan,
    Rejected,
    Unit,
    UnitState,
    content_hash,
)

#: A fingerprint of a database that plans and reports name.
FINGERPRINT = Fingerprint("7312345678901234567", "iucut", "public", 1)


def make_unit(
    code: str = "NS/A1",
    *,
    parent: str | None = "NS",
    heading: str = "",
    body: str = "x\n",
    namespace: str | None = None,
    kind: str | None = None,
    label: str | None = None,
    ordinal: int = 1,
    depth: int | None = None,
    position: int = 1,
    title: str | None = None,
    doc_path: str = "a.md",
    line_start: int = 1,
    line_end: int = 2,
    byte_start: int = 0,
    byte_end: int | None = None,
) -> Unit:
    """A unit; ``parent=None`` makes the document unit (kind document, depth 0)."""
    return Unit(
        namespace=namespace if namespace is not None else code.split("/")[0],
        code=code,
        parent_code=parent,
        kind=kind if kind is not None else ("article" if parent else "document"),
        label=label,
        ordinal=ordinal,
        depth=depth if depth is not None else (1 if parent else 0),
        position=position,
        title=title if title is not None else (heading.strip("# \n") or body[:20]),
        raw_heading=heading,
        body=body,
        content_hash=content_hash(heading, body),
        doc_path=doc_path,
        line_start=line_start,
        line_end=line_end,
        byte_start=byte_start,
        byte_end=(
            byte_end
            if byte_end is not None
            else byte_start + len((heading + body).encode("utf-8", "surrogatepass"))
        ),
    )


def make_state(unit: Unit, *, state: str = "active", version: int = 1, **changes: Any) -> UnitState:
    """The stored state of ``unit`` (as the database would hold it)."""
    fields = {
        "code": unit.code,
        "parent_code": unit.parent_code,
        "kind": unit.kind,
        "label": unit.label,
        "ordinal": unit.ordinal,
        "depth": unit.depth,
        "position": unit.position,
        "state": state,
        "current_version": version,
        "content_hash": unit.content_hash,
        "doc_path": unit.doc_path,
    }
    fields.update(changes)
    return UnitState(**fields)


def make_document(
    units: Sequence[Unit], *, path: str | None = None, namespace: str | None = None
) -> CutDocument:
    """A cut document of ``units`` (its bytes are their text, in order)."""
    text = "".join(u.text for u in units).encode("utf-8", "surrogatepass")
    return CutDocument(
        path=path if path is not None else (units[0].doc_path if units else "a.md"),
        namespace=namespace if namespace is not None else (units[0].namespace if units else "NS"),
        doc_hash=hashlib.sha256(text).hexdigest(),
        size=len(text),
        units=tuple(units),
    )


def make_plan(
    documents: Sequence[DocumentPlan],
    *,
    fingerprint: Fingerprint = FINGERPRINT,
    tool_version: str = "0.1.0",
    rejected: Sequence[Rejected] = (),
) -> Plan:
    """A plan of document plans."""
    return Plan(
        fingerprint=fingerprint,
        documents=tuple(documents),
        tool_version=tool_version,
        rejected=tuple(rejected),
    )
