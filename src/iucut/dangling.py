"""Dangling references: the stored references a plan would break, found before the write.

A reference dangles when its target is retired, or renumbered so that its code now
names another unit (the target's text moves to another code: its title and body are
found under a new code of the cut). A citing unit the plan retires cites nothing; one
the plan revises dangles only if its new text still holds the same reference words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from iucut.db.connector import Connection
from iucut.distributed import on_cluster
from iucut.units import CutDocument, DocumentPlan, Plan

MIN_TEXT = 20  # shorter texts (empty bodies, "(weggefallen)") do not identify a unit


@dataclass(frozen=True)
class Dangling:
    """One stored reference the plan would break."""

    source: str  # the citing unit
    doc_path: str
    text: str  # the reference as written
    target: str  # the code it points at
    reason: str  # "retired" or "renumbered"
    now: str | None  # renumbered: the code the target's text moves to

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        return describe(self.to_dict())


def why(d: Mapping[str, Any]) -> str:
    """Why a reference (:meth:`Dangling.to_dict`) would dangle, in words."""
    if d["reason"] == "renumbered":
        return f"{d['target']} is renumbered (its text moves to {d['now']})"
    return f"{d['target']} is retired"


def describe(d: Mapping[str, Any]) -> str:
    """``SOURCE cites "TEXT": why`` for a dangling reference in its JSON form (the plan
    review draws them from ``plan --json``'s ``dangling`` as well as from a live plan)."""
    text = " ".join(str(d["text"]).split())
    return f'{d["source"]} cites "{text}": {why(d)}'


def _key(title: str, label: str | None, body: str) -> str | None:
    """A unit's text without its label (which a renumbering changes)."""
    if label:
        at = title.find(label)
        if 0 <= at <= 24:  # "Điều 4. Title", "§ 4 Title", "1. Text"
            title = title[at + len(label) :].lstrip(" .:)-–")
    text = " ".join(f"{title}\0{body}".split())
    return text if len(text) >= MIN_TEXT else None


def dangling(conn: Connection, plan: Plan, docs: Iterable[CutDocument]) -> list[Dangling]:
    """The references of active units that ``plan`` would leave dangling."""
    by_path = {d.path: d for d in docs}
    with Suspects() as suspects:
        for dp in plan.documents:
            suspects.add(dp, by_path.get(dp.doc_path))
        return suspects.dangling(conn)


class Suspects:
    """What :func:`dangling` reads of a plan, taken a document at a time as it is planned
    (``iucut plan`` holds no plan of the corpus, issue #16 part 3): the codes the plan
    retires or revises, the new references of those revised, and the new code of each
    unit text of the documents cut, in a private temporary SQLite database (a first
    plan's are the corpus's units; its statements are in ``iucut/sql/sqlite.sql``)."""

    BATCH = 1024

    def __init__(self) -> None:
        import sqlite3

        from iucut.digests import _sql

        self.sql = _sql()
        self.conn = sqlite3.connect("", isolation_level=None)
        self.conn.execute(self.sql["ledger_cache"])  # (a small cache: the rest on disk)
        self.conn.execute(self.sql["texts_schema"])
        self.texts: list[tuple[str, str]] = []
        self.retired: set[str] = set()
        self.revised: set[str] = set()
        self.new_refs: dict[str, set[str]] = {}

    def __enter__(self) -> Suspects:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def add(self, dp: DocumentPlan, doc: CutDocument | None) -> None:
        """One document's plan and, when it was cut now, the document."""
        revised = set()
        for c in dp.changes:
            if c.op == "retire":
                self.retired.add(c.code)
            elif c.unit is not None and c.new_version and c.op != "create":
                # (a created code is stored nowhere, so nothing stored cites it nor is
                # cited by it: a first plan's creates are the corpus's units)
                revised.add(c.code)
        self.revised |= revised
        for u in doc.units if doc is not None and dp.action != "skip" else ():
            key = _key(u.title, u.label, u.body)
            if key is not None:
                self.texts.append((key, u.code))
        if len(self.texts) >= self.BATCH:
            self._flush()
        # (a reference's code is its citing unit's, a unit of this document: only the
        # references of the units revised are read)
        for r in dp.references if revised else ():
            if r["code"] in revised:
                self.new_refs.setdefault(r["code"], set()).add(" ".join(str(r["text"]).split()))

    def _flush(self) -> None:
        if self.texts:
            self.conn.execute("BEGIN")
            self.conn.executemany(self.sql["texts_add"], self.texts)
            self.conn.execute("COMMIT")
            self.texts = []

    def _new_code(self, key: str) -> str | None:
        row = self.conn.execute(self.sql["texts_code"], (key,)).fetchone()
        return None if row is None else row[0]

    def dangling(self, conn: Connection) -> list[Dangling]:
        """The references of active units the plan added so far would leave dangling."""
        retired, revised = self.retired, self.revised
        suspects = sorted(retired | revised)
        if not suspects:
            return []
        self._flush()
        affected: dict[str, tuple[str, str | None]] = {c: ("retired", None) for c in retired}
        for row in conn.query("unit_current_texts", codes=suspects).fetchall():
            key = _key(row["title"], row["label"], row["body"])
            now = self._new_code(key) if key is not None else None
            if now is not None and now != row["code"]:
                affected[row["code"]] = ("renumbered", now)
        if not affected:
            return []
        out = []
        references_into = "references_into_distributed" if on_cluster(conn) else "references_into"
        for row in conn.query(references_into, codes=sorted(affected)).fetchall():
            source = row["source"]
            if source in retired:
                continue
            if source in revised and " ".join(row["text"].split()) not in self.new_refs.get(
                source, ()
            ):
                continue  # the citing unit's new text no longer says it
            reason, now = affected[row["target_code"]]
            out.append(
                Dangling(source, row["doc_path"], row["text"], row["target_code"], reason, now)
            )
        return out
