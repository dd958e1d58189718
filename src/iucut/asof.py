"""Point-in-time reads: documents and units as they were committed at a run or a time, or
as in force on a date.

Every committed state of a document is a document version (migration 0015): the unit
versions it held, in order, with the codes and parents they had, recorded by a trigger in
the transaction that wrote the document. A point is a commit number (``iu_commit``,
numbered at COMMIT: 0006); the state at it is each document's last version committed at
or before it. ``resolve`` turns what a user gives (a run id or its prefix, an ISO time)
into a :class:`Point`; the readers take a Point, so any read command (search too) can
offer ``--as-of`` with the same resolution.

A database upgraded from before 0015 kept no document versions: the migration recorded
each document as it stood (baseline), and points before that are refused
(:class:`~iucut.errors.HistoryNotKept`): a document's past order cannot be rebuilt from
unit versions alone, since a move without a change of text left no row.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from iucut.browse import UnitView, no_unit
from iucut.cut.frontmatter import calendar_date
from iucut.db.connector import Connection
from iucut.distributed import refuse_point_in_time
from iucut.errors import AsOfRefused, HistoryNotKept, NotFound

_RUN_PREFIX = re.compile(r"^[0-9a-f]{4,8}(?:-?[0-9a-f]{1,4}){0,7}[0-9a-f-]*$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Point:
    """A point to read at: after commit ``commit_seq`` (None: now), and/or the versions
    in force on ``in_force_on``."""

    given: str | None = None
    commit_seq: int | None = None
    run_id: str | None = None
    at: datetime | None = None  # when commit ``commit_seq`` committed
    in_force_on: date | None = None

    @property
    def label(self) -> str:
        parts = []
        if self.given is not None:
            parts.append(f"run {self.run_id[:8]}" if self.run_id else str(self.given))
        if self.in_force_on is not None:
            parts.append(f"in force on {self.in_force_on.isoformat()}")
        return ", ".join(parts) or "now"

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.given,
            "run_id": self.run_id,
            "commit_seq": self.commit_seq,
            "committed_at": self.at,
            "in_force_on": None if self.in_force_on is None else self.in_force_on.isoformat(),
        }


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is UTC."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise AsOfRefused(
            f"--as-of {text[:80]!r} is neither a run id nor an ISO time",
            hint="give a run id (or the 8 characters apply prints) or a time such as "
            "2026-11-24T02:10:00Z",
        ) from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def parse_date(text: str | date) -> date:
    """A date: ISO (2026-07-01), or day first (01/07/2026, 01.07.2026)."""
    try:
        return calendar_date(text)
    except ValueError as exc:
        raise AsOfRefused(
            f"--in-force-on {str(text)[:80]!r} is not a date", hint="give it as 2026-07-01"
        ) from exc


def resolve(
    conn: Connection,
    as_of: str | datetime | None = None,
    in_force_on: str | date | None = None,
) -> Point:
    """The point ``as_of`` names (a run id, its prefix, or a time; None: now), with the
    date of ``in_force_on``. Raises AsOfRefused (unknown run, ambiguous prefix, a time
    before any run) or HistoryNotKept (before the upgrade to schema 15)."""
    day = None if in_force_on is None else parse_date(in_force_on)
    if as_of is not None or day is not None:
        refuse_point_in_time(conn)
    if as_of is None:
        return Point(in_force_on=day)
    run_id: str | None = None
    if isinstance(as_of, datetime):
        given = as_of.isoformat()
        seq = _commit_at(conn, given, as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC))
    else:
        given = as_of.strip()
        if _RUN_PREFIX.match(given.lower()) and not _TIME.match(given):
            run_id, seq = _commit_of_run(conn, given)
        else:
            seq = _commit_at(conn, given, parse_time(given))
    base = conn.query("asof_baseline").fetchone()
    if base is not None and seq < int(base["commit_seq"]):
        raise HistoryNotKept(
            f"--as-of {given}: that point is before this database was upgraded to schema 15 "
            f"({base['committed_at']:%Y-%m-%d %H:%M:%S %Z}); the order of units in each "
            "document was not kept before it, so that state cannot be rebuilt exactly",
            hint="as-of reads start at the upgrade: give a later run or time "
            "(iucut history CODE still lists every unit version)",
        )
    row = conn.query("asof_commit_time", commit_seq=seq).fetchone()
    at = None if row is None else row["committed_at"]
    return Point(given, seq, run_id, at, day)


def _commit_at(conn: Connection, given: str, at: datetime) -> int:
    row = conn.query("asof_commit_at", at=at).fetchone()
    assert row is not None
    first = row["first_run_at"]
    if first is None or at < first:
        when = "there is no run yet" if first is None else f"the first run started {first}"
        raise AsOfRefused(f"--as-of {given} is before any run: {when}", hint="give a later time")
    return int(row["commit_seq"])


def _commit_of_run(conn: Connection, given: str) -> tuple[str, int]:
    runs = conn.query("runs_matching", prefix=given.lower()).fetchall()
    if not runs:
        raise AsOfRefused(
            f"--as-of {given}: no run {given}", hint="run ids are printed by iucut apply"
        )
    if len(runs) > 1:
        raise AsOfRefused(
            f"--as-of {given}: the run-id prefix {given} is ambiguous "
            f"({', '.join(str(r['run_id']) for r in runs)}, ...)",
            hint="give more of the run id",
        )
    run_id = str(uuid.UUID(str(runs[0]["run_id"])))
    row = conn.query("asof_run_commit", run_id=run_id).fetchone()
    if row is not None and row["commit_seq"] is not None:
        return run_id, int(row["commit_seq"])
    # a run that changed no document: the state when it ended
    end = runs[0]["finished_at"] or runs[0]["started_at"]
    found = conn.query("asof_commit_at", at=end).fetchone()
    assert found is not None
    return run_id, int(found["commit_seq"])


# ------------------------------------------------------------------------------ reads


@dataclass(frozen=True)
class DocumentAt:
    """A document version: the document as it stood at a point."""

    doc_path: str
    namespace: str
    state: str
    units: int
    size_bytes: int
    doc_hash: str
    run_id: str
    run_status: str | None
    committed_at: Any
    effective_date: str | None
    effective_key: str | None
    doc_version_id: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _records(conn: Connection, point: Point, doc: str | None) -> list[dict[str, Any]]:
    rows = conn.query(
        "asof_documents",
        commit_seq=point.commit_seq,
        in_force_on=point.in_force_on,
        doc=doc,
    ).fetchall()
    return [dict(r) for r in rows]


def _info(r: Mapping[str, Any]) -> DocumentAt:
    eff = r["effective_date"]
    return DocumentAt(
        doc_path=r["doc_path"],
        namespace=r["namespace"],
        state=r["state"],
        units=len(r["version_ids"]),
        size_bytes=int(r["size_bytes"]),
        doc_hash=r["doc_hash"],
        run_id=str(r["run_id"]),
        run_status=r["run_status"],
        committed_at=r["committed_at"],
        effective_date=None if eff is None else eff.isoformat(),
        effective_key=r["source_key"],
        doc_version_id=int(r["doc_version_id"]),
    )


def ls(conn: Connection, point: Point, doc: str | None = None) -> list[DocumentAt]:
    """The documents as they stood at ``point`` (all, or of a namespace, path or folder)."""
    rows = _records(conn, point, doc)
    if doc is not None and not rows:
        raise NotFound(
            f"no document, namespace or folder {doc} at {point.label}",
            hint="iucut ls with no argument lists every document",
        )
    return [_info(r) for r in rows]


def record(conn: Connection, point: Point, doc: str) -> dict[str, Any]:
    """The version of one document (by path or namespace) at ``point``."""
    rows = [r for r in _records(conn, point, doc) if doc in (r["doc_path"], r["namespace"])]
    rows.sort(key=lambda r: (r["doc_path"] != doc, r["doc_path"]))
    if rows:
        return rows[0]
    if point.in_force_on is not None:
        dates = [
            r["effective_date"].isoformat()
            for r in _records(conn, Point(point.given, point.commit_seq), doc)
            if r["effective_date"] is not None and doc in (r["doc_path"], r["namespace"])
        ]
        raise AsOfRefused(
            f"no version of {doc} is in force on {point.in_force_on.isoformat()}"
            + ("" if point.given is None else f" as known at {point.label}"),
            hint="its last version takes effect on " + dates[0]
            if dates
            else "its versions carry no effective date (front matter ngay_hieu_luc, "
            "inkrafttreten, effective, ... or effective_date_keys in iucut.yaml)",
        )
    raise NotFound(
        f"no document {doc} at {point.label}",
        hint="it was first applied later, or give its path or namespace",
    )


def _rows(conn: Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = [dict(r) for r in conn.query("asof_version_rows", ids=list(ids)).fetchall()]
    assert len(rows) == len(ids), "a document version names a unit version that is gone"
    return rows


def export(conn: Connection, point: Point, doc: str) -> tuple[str, str]:
    """A document's text exactly as it was applied at ``point``: ``(doc_path, text)``."""
    rec = record(conn, point, doc)
    if rec["state"] != "active":
        raise NotFound(f"document {rec['doc_path']} was retired at {point.label}")
    rows = _rows(conn, rec["version_ids"])
    return rec["doc_path"], "".join(r["raw_heading"] + r["body"] for r in rows)


def _unit_at(conn: Connection, point: Point, code: str) -> tuple[dict[str, Any], UnitView]:
    held = conn.query("asof_unit_of_code", code=code).fetchone()
    if held is None:
        raise no_unit(conn, code)
    rec = record(conn, point, held["doc_path"])
    rows = _rows(conn, rec["version_ids"])
    codes, parents = rec["codes"], rec["parent_codes"]
    mine = [i for i, r in enumerate(rows) if r["unit_id"] == held["unit_id"]]
    if not mine:
        raise NotFound(
            f"unit {code} was not active in {rec['doc_path']} at {point.label}",
            hint=f"iucut history {held['code_now']} lists its versions and events",
        )
    i = mine[0]
    r = rows[i]
    unit = {
        "code": codes[i],
        "namespace": rec["namespace"],
        "doc_path": rec["doc_path"],
        "parent_code": parents[i],
        "kind": r["kind"],
        "label": r["label"],
        "ordinal": r["ordinal"],
        "depth": r["depth"],
        "position": i,
        "state": "active",
        "current_version": r["version"],
        "content_hash": r["content_hash"],
        "created_at": r["unit_created_at"],
        "updated_at": r["created_at"],
        "title": r["title"],
        "raw_heading": r["raw_heading"],
        "body": r["body"],
        "line_start": r["line_start"],
        "line_end": r["line_end"],
        "code_now": r["code_now"],
        "point": point.to_dict(),
    }
    children = [
        {
            "code": codes[j],
            "kind": c["kind"],
            "label": c["label"],
            "state": "active",
            "current_version": c["version"],
        }
        for j, c in enumerate(rows)
        if parents[j] == codes[i]
    ]
    return rec, UnitView(unit, children)


def show(conn: Connection, point: Point, code: str) -> UnitView:
    """A unit as it stood at ``point`` (the code it had then, or its code now)."""
    return _unit_at(conn, point, code)[1]


def references(
    conn: Connection, point: Point, code: str, *, cited_by: bool = False
) -> list[dict[str, Any]]:
    """The references a unit's version at ``point`` makes (targets judged against its
    document at that point), or with ``cited_by`` the units whose versions at that point
    cite ``code``."""
    from iucut.refs import read_references

    if cited_by:
        if point.in_force_on is not None:
            raise AsOfRefused(
                "--in-force-on is not offered with --cited-by",
                hint="give --as-of RUN|TIME with --cited-by",
            )
        assert point.commit_seq is not None
        rows = conn.query("asof_cited_by", code=code, commit_seq=point.commit_seq).fetchall()
        return [dict(r) for r in rows]
    rec, view = _unit_at(conn, point, code)
    unit = view.unit
    refs = read_references(conn, unit["code_now"], version=unit["current_version"])
    held = set(rec["codes"])
    out = []
    for r in refs:
        r = dict(r, source=unit["code"])
        if r["target_code"] is not None and r["act"] is None:
            r["target_state"] = "active" if r["target_code"] in held else None
        out.append(r)
    return out
