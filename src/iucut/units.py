"""The row types of iucut: a cut unit and a cut document. Frozen data, no I/O.

A :class:`Unit` is the seed's "F2-enriched" cut-plan row: structure (kind, label,
code, parent, ordinal, depth, spans) plus content (title, raw heading, body, hash).
``raw_heading + body`` of a document's units, in order, is the document's text,
byte for byte (the lossless invariant).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: Unit kinds, from the outside in. ``heading`` is a plain Markdown heading with no
#: legal label; ``document`` is the root every document has.
KINDS = (
    "document",
    "part",
    "chapter",
    "section",
    "subsection",
    "article",
    "clause",
    "point",
    "subpoint",
    "heading",
)

#: Fields every row sent to the database must carry (the row contract).
REQUIRED_FIELDS = (
    "namespace",
    "code",
    "kind",
    "ordinal",
    "depth",
    "title",
    "raw_heading",
    "body",
    "content_hash",
    "doc_path",
)

#: Version tag mixed into every content hash; bump only with a documented migration.
HASH_FORM = "iu1"


def content_hash(raw_heading: str, body: str) -> str:
    """Hash of a unit's own text: sha256 over ``iu1 NUL raw_heading NUL body`` in UTF-8.

    The normal form is the exact text: export must give back the source byte for
    byte, so any byte that changes (even CRLF or trailing spaces) is a revision.
    Position, ordinal, parent and spans are *not* part of the hash: moving a unit or
    inserting text elsewhere never changes it.
    """
    h = hashlib.sha256()
    h.update(HASH_FORM.encode())
    h.update(b"\0")
    h.update(raw_heading.encode("utf-8", "surrogatepass"))
    h.update(b"\0")
    h.update(body.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Unit:
    """One information unit of a cut document (one row of the cut plan)."""

    namespace: str
    code: str
    parent_code: str | None
    kind: str
    label: str | None
    ordinal: int  # 1-based position among its siblings
    depth: int  # 0 for the document unit
    position: int  # 0-based position in document order
    title: str
    raw_heading: str  # the heading's exact text, line ending included ("" if none)
    body: str  # the unit's own text after its heading, up to its first child
    content_hash: str
    doc_path: str
    line_start: int  # 1-based, first line of raw_heading (or body)
    line_end: int  # 1-based, inclusive; line_start - 1 for an empty unit
    byte_start: int  # 0-based offset into the source bytes
    byte_end: int  # exclusive

    @property
    def text(self) -> str:
        return self.raw_heading + self.body

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Unit:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True, slots=True)
class CutDocument:
    """A document cut into units, in document order (the document unit first)."""

    path: str  # as given, relative to the cut root where there is one
    namespace: str
    doc_hash: str  # sha256 of the source bytes
    size: int  # bytes
    units: tuple[Unit, ...]
    front_matter: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def reassemble(self) -> str:
        return "".join(u.raw_heading + u.body for u in self.units)

    def by_code(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}
