"""The row types of iucut: a cut unit and a cut document. Frozen data, no I/O.

A :class:`Unit` is the seed's "F2-enriched" cut-plan row: structure (kind, label,
code, parent, ordinal, depth, spans) plus content (title, raw heading, body, hash).
``raw_heading + body`` of a document's units, in order, is the document's text,
byte for byte (the lossless invariant).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from operator import attrgetter
from typing import Any

#: Unit kinds of the built-in profiles, from the outside in (configured rules may name
#: others). ``heading`` is a plain Markdown heading with no legal label; ``document`` is
#: the root every document has. ``book`` … ``exhibit``: English (French codes' books, US
#: statutes, UK schedules, EU annexes).
KINDS = (
    "document",
    "book",
    "title",
    "subtitle",
    "schedule",
    "annex",
    "appendix",
    "exhibit",
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

    def __reduce__(self) -> tuple[type[Unit], tuple[Any, ...]]:
        # pickled as its values (a worker sends a document's units to the parent under
        # --jobs): twice as fast to send as the dataclass's field-by-field state
        return (Unit, _unit_values(self))

    def to_dict(self) -> dict[str, Any]:
        """The row as a dict (every field is a str, an int or None: no copy needed)."""
        return dict(zip(_UNIT_NAMES, _unit_values(self), strict=True))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Unit:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


_UNIT_NAMES = tuple(f.name for f in fields(Unit))
_unit_values = attrgetter(*_UNIT_NAMES)


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
    profile: str | None = None  # the label profile it was cut with
    #: where the profile came from: given (--profile), front matter, configuration, detected
    profile_source: str | None = None
    #: the configuration it was cut with (to cut it again with a stored profile)
    config: Any = field(default=None, compare=False, repr=False)
    #: the true duplicates numbered in document order (``X-2``, ``X-3``), each with the
    #: code of the first of its group (``X``): a plan numbers them from the stored history
    #: instead (:mod:`iucut.numbering`)
    numbered: tuple[tuple[str, str], ...] = ()

    def reassemble(self) -> str:
        return "".join(u.raw_heading + u.body for u in self.units)

    def by_code(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}


# --------------------------------------------------------------------------------------
# The plan: what apply would do, as data that can be written to JSON and read back.
# --------------------------------------------------------------------------------------


class Op(StrEnum):
    """What a plan does to a unit (:attr:`Change.op`), in the order a summary shows them."""

    CREATE = "create"
    REVISE = "revise"
    MOVE = "move"
    RESTORE = "restore"
    RETIRE = "retire"
    PLACE = "place"  # ordinal, position or depth only: no version, no event


class Action(StrEnum):
    """What a plan does to a document (:attr:`DocumentPlan.action`)."""

    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"
    RETIRE = "retire"


class DbOp(StrEnum):
    """The operations of the set-based write function fn_iu_apply_document."""

    CREATE = "create"
    UPDATE = "update"
    RETIRE = "retire"


class Event(StrEnum):
    """The lifecycle events a unit goes through (the write functions log them)."""

    CREATED = "created"
    REVISED = "revised"
    MOVED = "moved"
    RETIRED = "retired"
    RESTORED = "restored"


class UnitStatus(StrEnum):
    """The state of a stored unit or document."""

    ACTIVE = "active"
    RETIRED = "retired"


#: Change kinds of a unit, in the order a summary shows them.
OPS = (*Op, "unchanged")

#: Events the write functions log; a plan's ``counts`` predicts exactly these (in this order).
EVENTS = (Event.CREATED, Event.REVISED, Event.MOVED, Event.RESTORED, Event.RETIRED)


def summary_line(counts: Mapping[str, int]) -> str:
    """The one-line summary of event counts, e.g. ``+12 ~3 →1 ↺0 -2 =840``."""
    return (
        f"+{counts.get('created', 0)} ~{counts.get('revised', 0)} →{counts.get('moved', 0)} "
        f"↺{counts.get('restored', 0)} -{counts.get('retired', 0)} ={counts.get('unchanged', 0)}"
    )


@dataclass(frozen=True, slots=True)
class UnitState:
    """What the database holds for one code."""

    code: str
    parent_code: str | None
    kind: str
    label: str | None
    ordinal: int
    depth: int
    position: int
    state: str  # active | retired
    current_version: int
    content_hash: str
    doc_path: str


@dataclass(frozen=True, slots=True)
class OldText:
    """The text the database holds for a unit that a change revises or retires.

    Carried by the plan so that it can be reviewed (diffed) offline; apply never uses
    it: its preconditions are the version and the hash.
    """

    title: str
    raw_heading: str
    body: str

    @property
    def text(self) -> str:
        return self.raw_heading + self.body

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "raw_heading": self.raw_heading, "body": self.body}


@dataclass(frozen=True, slots=True)
class Change:
    """One unit's change. ``op`` is the main kind; ``moved`` marks a parent change too.

    ``expect_version`` is the precondition apply checks (None: the code must be absent).
    ``place`` is a placement-only update (ordinal, position, depth): no version, no event.
    """

    op: Op
    code: str
    expect_version: int | None
    unit: Unit | None  # the desired state; None for a retire
    moved: bool = False
    moved_from: str | None = None  # the old parent when the parent changes
    old_hash: str | None = None
    old: OldText | None = None  # the text replaced or retired (review only; see OldText)
    #: the unit's code until now when its code changes (a renumbering): the same unit,
    #: its history continues under the new code
    renamed_from: str | None = None

    @property
    def db_op(self) -> DbOp:
        """The operation of the set-based write function: create, update or retire."""
        if self.op == Op.CREATE:
            return DbOp.CREATE
        if self.op == Op.RETIRE:
            return DbOp.RETIRE
        return DbOp.UPDATE

    @property
    def events(self) -> tuple[Event, ...]:
        """The lifecycle events this change writes (what the database will log)."""
        out: list[Event] = []
        if self.op == Op.CREATE:
            out.append(Event.CREATED)
        elif self.op == Op.RETIRE:
            out.append(Event.RETIRED)
        elif self.op == Op.RESTORE:
            out.append(Event.RESTORED)
        elif self.op == Op.REVISE:
            out.append(Event.REVISED)
        if self.renamed_from is not None:
            out.append(Event.MOVED)
        if self.moved:
            out.append(Event.MOVED)
        return tuple(out)

    @property
    def new_version(self) -> bool:
        """Whether this change writes a version row."""
        if self.op == Op.CREATE:
            return True
        if self.op in (Op.REVISE, Op.RESTORE) and self.unit is not None:
            return self.unit.content_hash != self.old_hash
        return False


@dataclass(frozen=True, slots=True)
class DocumentPlan:
    """The plan of one document: its precondition and its changes."""

    doc_path: str
    namespace: str
    doc_hash: str
    expect_doc_hash: str | None  # the hash the plan saw in the database (None: new)
    action: Action
    size_bytes: int
    unit_count: int
    changes: tuple[Change, ...]  # every change, placement-only updates included
    unchanged: int  # units whose content, parent and state stay as they are
    cut_digest: str | None = None  # digest of the cut (see plan.cut_digest)
    expect_cut_digest: str | None = None  # the digest the database holds
    profile: str | None = None  # the label profile the document is cut with
    expect_profile: str | None = None  # the profile stored with it (None: none yet)
    # rows for fn_iu_set_references (iucut.refs.references_payload); () when skipped
    references: tuple[dict[str, Any], ...] = ()
    # the effective date the front matter carries (ISO) and its key (iucut.asof); None: none
    effective_date: str | None = None
    effective_key: str | None = None
    #: true duplicates numbered from the stored history, not in document order: each
    #: member's code as cut and its code planned (iucut.numbering); () when none
    numbered: tuple[tuple[str, str], ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(EVENTS, 0)
        for change in self.changes:
            for event in change.events:
                counts[event] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return self.action != Action.SKIP and bool(
            self.changes
            or self.expect_doc_hash != self.doc_hash
            or self.expect_cut_digest != self.cut_digest
            or self.profile_changes
        )

    @property
    def profile_changes(self) -> bool:
        """Whether applying the plan stores another profile with the document."""
        return (
            self.action != Action.RETIRE
            and self.profile is not None
            and (self.profile != self.expect_profile)
        )


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The identity of a target database: a plan or a proof is valid only there."""

    system_identifier: str
    database: str
    schema: str
    migration_version: int | None

    def matches(self, other: Fingerprint) -> bool:
        return (self.system_identifier, self.database, self.schema) == (
            other.system_identifier,
            other.database,
            other.schema,
        ) and self.migration_version == other.migration_version


@dataclass(frozen=True, slots=True)
class Rejected:
    """A source document that cannot be cut: nothing is planned or written for it."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class Plan:
    """What apply would do to one database, document by document."""

    fingerprint: Fingerprint
    documents: tuple[DocumentPlan, ...]
    tool_version: str
    prune: bool = False
    rejected: tuple[Rejected, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((*EVENTS, "unchanged"), 0)
        for doc in self.documents:
            for event, n in doc.counts.items():
                counts[event] += n
            counts["unchanged"] += doc.unchanged
        return counts

    @property
    def has_changes(self) -> bool:
        return any(d.has_changes for d in self.documents)

    @property
    def touched_codes(self) -> tuple[str, ...]:
        return tuple(c.code for d in self.documents for c in d.changes)

    @property
    def id(self) -> str:
        """The plan's id: the sha256 of its canonical JSON, as the id of its plan file."""
        from iucut.planfile import plan_hash  # (planfile.py builds on this module)

        return plan_hash(self)


class Paths:
    """Document paths kept compactly, in order: the paths an apply skipped, one for every
    unchanged document of the corpus (issue #16 part 3). A ``str`` a path costs ~50 bytes
    more than its characters, and a :class:`DocumentResult` ~120 more; joined by NUL (no
    path holds one) a chunk at a time, a path costs one byte more than its characters."""

    __slots__ = ("_chunks", "_count", "_open")
    CHUNK = 512

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._chunks: list[str] = []
        self._open: list[str] = []
        self._count = 0
        for path in paths:
            self.append(path)

    def append(self, path: str) -> None:
        self._open.append(path)
        self._count += 1
        if len(self._open) >= self.CHUNK:
            self._chunks.append("\0".join(self._open))
            self._open = []

    def extend(self, paths: Iterable[str]) -> None:
        opened = self._open
        before = len(opened)
        opened.extend(paths)
        self._count += len(opened) - before
        if len(opened) >= self.CHUNK:
            chunk = self.CHUNK
            full = len(opened) - len(opened) % chunk
            for at in range(0, full, chunk):
                self._chunks.append("\0".join(opened[at : at + chunk]))
            self._open = opened[full:]

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks:
            yield from chunk.split("\0")
        yield from list(self._open)

    def __getitem__(self, index: int) -> str:
        """The path at ``index`` (its chunk split: for a path now and then)."""
        i = index + self._count if index < 0 else index
        if not 0 <= i < self._count:
            raise IndexError("path index out of range")
        chunk, at = divmod(i, self.CHUNK)
        if chunk < len(self._chunks):
            return self._chunks[chunk].split("\0")[at]
        return self._open[at]

    def __repr__(self) -> str:
        return f"Paths({self._count} paths)"


class UnchangedFolder:
    """Every file of one folder of the corpus known unchanged and up to date at once
    (issue #16 part 3): the folder's names, sizes, times and inodes, with the cutting
    rules, are those of a run that found each of its documents up to date, and the
    database has not changed since (its token, :mod:`iucut.seen`). It stands for an
    :class:`~iucut.plan.Unchanged` of each of its files, in their order, that the triage skips; no
    cut-cache entry, no fingerprint of what was seen is read for them. Only the
    :class:`~iucut.seen.Seen` that vouched for it (``owner``) takes it. ``warnings``:
    the document path and warnings of each of its documents that has some, as their last
    cut made them (shown at every re-sync)."""

    __slots__ = ("folder", "names", "owner", "warnings")

    def __init__(
        self,
        folder: str,
        names: Sequence[str],
        owner: object,
        warnings: Sequence[tuple[str, tuple[str, ...]]] = (),
    ) -> None:
        #: the document path of the folder ("" or ending in "/")
        self.folder = folder
        self.names = names
        self.owner = owner
        self.warnings = warnings

    @property
    def size(self) -> int:
        """The files it stands for."""
        return len(self.names)

    @property
    def path(self) -> str:
        """The document path of its last file (what a progress bar names)."""
        return self.folder + self.names[-1]

    def paths(self) -> Iterator[str]:
        """The document paths of its files, in their order."""
        folder = self.folder
        return (folder + name for name in self.names)

    def __repr__(self) -> str:
        return f"UnchangedFolder({self.folder!r}, {len(self.names)} files)"
