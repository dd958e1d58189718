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
from iucut.units import CutDocument, Plan

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
    retired: set[str] = set()
    revised: set[str] = set()
    for dp in plan.documents:
        for c in dp.changes:
            if c.op == "retire":
                retired.add(c.code)
            elif c.unit is not None and c.new_version:
                revised.add(c.code)
    suspects = sorted(retired | revised)
    if not suspects:
        return []
    # the new code of each text in the cut documents (a text under two codes: no one's)
    new_codes: dict[str, str | None] = {}
    for dp in plan.documents:
        doc = by_path.get(dp.doc_path)
        for u in doc.units if doc is not None and dp.action != "skip" else ():
            key = _key(u.title, u.label, u.body)
            if key is not None:
                new_codes[key] = None if key in new_codes else u.code
    affected: dict[str, tuple[str, str | None]] = {c: ("retired", None) for c in retired}
    for row in conn.query("unit_current_texts", codes=suspects).fetchall():
        key = _key(row["title"], row["label"], row["body"])
        now = new_codes.get(key) if key is not None else None
        if now is not None and now != row["code"]:
            affected[row["code"]] = ("renumbered", now)
    if not affected:
        return []
    new_refs: dict[str, set[str]] = {}
    for dp in plan.documents:
        for r in dp.references:
            new_refs.setdefault(r["code"], set()).add(" ".join(str(r["text"]).split()))
    out = []
    references_into = "references_into_distributed" if on_cluster(conn) else "references_into"
    for row in conn.query(references_into, codes=sorted(affected)).fetchall():
        source = row["source"]
        if source in retired:
            continue
        if source in revised and " ".join(row["text"].split()) not in new_refs.get(source, ()):
            continue  # the citing unit's new text no longer says it
        reason, now = affected[row["target_code"]]
        out.append(Dangling(source, row["doc_path"], row["text"], row["target_code"], reason, now))
    return out
