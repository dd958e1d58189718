"""The change feed: every unit event since a point, in commit order, with a cursor to resume.

Read from the lifecycle log, so a change is exactly what was committed. Commit order is
the order of ``iu_commit.commit_seq``, numbered at COMMIT under a lock (migration 0006),
so a reader never skips a transaction that committed late with a low event id. A cursor
names the database it came from (a digest of its identity, as plan files are bound to
the database fingerprint) and the last event consumed; reading from it again gives the
same changes, so consuming the feed is idempotent.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from iucut.db.connector import Connection
from iucut.distributed import refuse_feed
from iucut.errors import CursorRefused, NotFound
from iucut.plan_state import read_fingerprint
from iucut.units import Event, Fingerprint

CURSOR_PREFIX = "iuc1"
DEFAULT_LIMIT = 1000
_CURSOR = re.compile(r"^iuc1\.([0-9a-f]{16})\.(-1|\d{1,19})\.(\d{1,19})$")
_RUN_PREFIX = re.compile(r"^[0-9a-f]{8}(?:-?[0-9a-f]{1,4}){0,7}[0-9a-f-]*$")


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A place in the feed: after event ``event_id`` of commit ``commit_seq``."""

    commit_seq: int
    event_id: int


#: Before every change.
START = Position(-1, 0)


def database_tag(fp: Fingerprint) -> str:
    """A short digest of a database's identity (cluster, database, schema)."""
    key = f"{fp.system_identifier}/{fp.database}/{fp.schema}".encode()
    return hashlib.sha256(key).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Cursor:
    """A resumable position in one database's feed; ``str()`` gives its text form."""

    database: str
    position: Position

    def __str__(self) -> str:
        p = self.position
        return f"{CURSOR_PREFIX}.{self.database}.{p.commit_seq}.{p.event_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        m = _CURSOR.match(text.strip())
        if m is None:
            raise CursorRefused(
                f"not a change-feed cursor: {text[:80]!r}",
                hint="give the cursor a previous `iucut changes` printed (iuc1.…), a run id "
                "or a timestamp",
            )
        return cls(m[1], Position(int(m[2]), int(m[3])))


@dataclass(frozen=True, slots=True)
class Change:
    """One committed lifecycle event of a unit, with the unit's text at that version."""

    event: Event
    code: str
    from_version: int | None
    version: int | None  # the version after the event (a retired unit keeps its last)
    content_hash: str | None
    title: str | None
    text: str | None  # raw heading + body of that version
    namespace: str
    doc_path: str
    parent_code: str | None  # the unit's current placement
    kind: str
    label: str | None
    line_start: int | None
    line_end: int | None
    detail: dict[str, Any] | None
    run_id: str
    actor: str
    at: datetime
    committed_at: datetime | None
    position: Position

    def to_dict(self) -> dict[str, Any]:
        data = {f: getattr(self, f) for f in self.__slots__ if f != "position"}
        data["event"] = str(self.event)
        data["commit_seq"] = self.position.commit_seq
        data["event_id"] = self.position.event_id
        return data


@dataclass(frozen=True, slots=True)
class Changes:
    """A page of the feed: the changes after ``since``, and where to resume."""

    changes: tuple[Change, ...]
    since: Cursor
    cursor: Cursor  # resume from here (equal to ``since`` when there was nothing new)
    more: bool  # the page was full: read again from ``cursor`` for the rest

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": str(self.since),
            "cursor": str(self.cursor),
            "more": self.more,
            "count": len(self.changes),
            "changes": [c.to_dict() for c in self.changes],
        }


def _row_change(row: Any) -> Change:
    heading, body = row["raw_heading"], row["body"]
    return Change(
        event=Event(row["event"]),
        code=row["code"],
        from_version=row["from_version"],
        version=row["to_version"],
        content_hash=row["content_hash"],
        title=row["title"],
        text=None if heading is None or body is None else heading + body,
        namespace=row["namespace"],
        doc_path=row["doc_path"],
        parent_code=row["parent_code"],
        kind=row["kind"],
        label=row["label"],
        line_start=row["line_start"],
        line_end=row["line_end"],
        detail=row["detail"],
        run_id=str(row["run_id"]),
        actor=row["actor"],
        at=row["at"],
        committed_at=row["committed_at"],
        position=Position(int(row["commit_seq"]), int(row["event_id"])),
    )


def resolve(conn: Connection, since: str | Cursor | datetime | None, tag: str) -> Position:
    """The position ``since`` names: a cursor (of this database), a run, or a time."""
    if since is None:
        return START
    if isinstance(since, datetime):
        return position_at(conn, since)
    if isinstance(since, Cursor):
        cursor = since
    elif since.strip().startswith(CURSOR_PREFIX + "."):
        cursor = Cursor.parse(since)
    else:
        text = since.strip()
        if _RUN_PREFIX.match(text.lower()) and not _looks_like_time(text):
            return position_of_run(conn, text.lower())
        return position_at(conn, parse_time(text))
    if cursor.database != tag:
        raise CursorRefused(
            f"the cursor {cursor} is from another database (this one is {tag})",
            hint="a cursor is valid only in the database that gave it; start from a run id, "
            "a timestamp, or the beginning",
        )
    return cursor.position


def _looks_like_time(text: str) -> bool:
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}", text))


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is taken as UTC."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CursorRefused(
            f"--since {text[:80]!r} is neither a cursor, a run id nor a time",
            hint="e.g. iuc1.…, 511a793c, or 2026-11-24T02:10:00Z",
        ) from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def position_at(conn: Connection, at: datetime) -> Position:
    """After every change committed at or before ``at``."""
    row = conn.query("feed_position_at", at=at).fetchone()
    assert row is not None
    if row["commit_seq"] >= 1:
        return Position(int(row["commit_seq"]), 2**63 - 1)
    if row["legacy_event_id"] is not None:
        return Position(0, int(row["legacy_event_id"]))
    return START


def position_of_run(conn: Connection, run: str) -> Position:
    """Just after the last change a run wrote (a run id, or the prefix the CLI prints)."""
    runs = conn.query("runs_matching", prefix=run).fetchall()
    if not runs:
        raise NotFound(f"no run {run}", hint="run ids are printed by iucut apply")
    if len(runs) > 1:
        raise CursorRefused(f"run id {run} is ambiguous", hint="give more of it")
    run_id = str(runs[0]["run_id"])
    uuid.UUID(run_id)
    row = conn.query("feed_position_of_run", run_id=run_id).fetchone()
    if row is not None:
        return Position(int(row["commit_seq"]), int(row["event_id"]))
    # a run that changed nothing: the changes committed after it ended
    return position_at(conn, runs[0]["finished_at"] or runs[0]["started_at"])


def cursor_of(conn: Connection, position: Position) -> Cursor:
    return Cursor(database_tag(read_fingerprint(conn)), position)


def read_changes(
    conn: Connection,
    since: str | Cursor | datetime | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
) -> Changes:
    """The changes after ``since`` (None: from the beginning), at most ``limit`` of them."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    refuse_feed(conn)
    tag = database_tag(read_fingerprint(conn))
    start = resolve(conn, since, tag)
    return read_from(conn, start, tag, limit=limit)


def read_from(conn: Connection, start: Position, tag: str, *, limit: int) -> Changes:
    """A page of changes after ``start``, of the database whose tag is ``tag``."""
    rows = conn.query(
        "feed_changes", commit_seq=start.commit_seq, event_id=start.event_id, limit=limit
    ).fetchall()
    changes = tuple(_row_change(r) for r in rows)
    end = changes[-1].position if changes else start
    return Changes(changes, Cursor(tag, start), Cursor(tag, end), len(changes) == limit)


def head(conn: Connection) -> Cursor:
    """A cursor after the last committed change (to start following from now)."""
    refuse_feed(conn)
    row = conn.query("feed_head").fetchone()
    assert row is not None
    return cursor_of(conn, Position(int(row["commit_seq"]), int(row["event_id"])))
