"""The plan as a file: canonical JSON, content-addressed (its sha256 is the plan's id)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iucut.errors import PlanFileError
from iucut.units import (
    Action,
    Change,
    DocumentPlan,
    Fingerprint,
    OldText,
    Op,
    Plan,
    Rejected,
    Unit,
    content_hash,
)

PLAN_FORMAT = "iucut-plan/1"


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "format": PLAN_FORMAT,
        "tool_version": plan.tool_version,
        "fingerprint": {
            "system_identifier": plan.fingerprint.system_identifier,
            "database": plan.fingerprint.database,
            "schema": plan.fingerprint.schema,
            "migration_version": plan.fingerprint.migration_version,
        },
        "prune": plan.prune,
        "counts": plan.counts,
        "rejected": [{"path": r.path, "message": r.message} for r in plan.rejected],
        "documents": [_doc_to_dict(d) for d in plan.documents],
    }


def _doc_to_dict(doc: DocumentPlan) -> dict[str, Any]:
    return {
        "doc_path": doc.doc_path,
        "namespace": doc.namespace,
        "doc_hash": doc.doc_hash,
        "expect_doc_hash": doc.expect_doc_hash,
        "cut_digest": doc.cut_digest,
        "expect_cut_digest": doc.expect_cut_digest,
        "action": doc.action,
        "profile": doc.profile,
        "expect_profile": doc.expect_profile,
        "size_bytes": doc.size_bytes,
        "unit_count": doc.unit_count,
        "unchanged": doc.unchanged,
        "counts": doc.counts,
        "changes": [_change_to_dict(c) for c in doc.changes],
        "references": list(doc.references),
        # only when there is one: plans of documents without one read as they did
        **(
            {"effective_date": doc.effective_date, "effective_key": doc.effective_key}
            if doc.effective_date is not None
            else {}
        ),
        # only when there are some: plans without them read as they did
        **({"numbered": [list(pair) for pair in doc.numbered]} if doc.numbered else {}),
    }


def _change_to_dict(c: Change) -> dict[str, Any]:
    data: dict[str, Any] = {
        "op": c.op,
        "code": c.code,
        "expect_version": c.expect_version,
        "moved": c.moved,
        "moved_from": c.moved_from,
        "old_hash": c.old_hash,
        "renamed_from": c.renamed_from,
        "unit": None if c.unit is None else c.unit.to_dict(),
    }
    if c.old is not None:  # absent rather than null: a first plan stays as small as before
        data["old"] = c.old.to_dict()
    return data


def _old_from_dict(c: Mapping[str, Any]) -> OldText | None:
    """The old text of a change read from a plan file, checked against its old hash.

    The old text is what a reviewer reads: an old text that is not the one the hash
    names (an edited file) would show a diff that is not the change, so it is refused.
    """
    raw = c.get("old")
    if raw is None:
        return None
    old = OldText(str(raw["title"]), str(raw["raw_heading"]), str(raw["body"]))
    if c["old_hash"] is not None and content_hash(old.raw_heading, old.body) != c["old_hash"]:
        raise PlanFileError(
            f"the old text of {c['code']} in the plan is not the text its old hash names "
            "(the file was edited)",
            hint="make the plan again: `iucut plan PATH... -o FILE`",
        )
    return old


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def plan_hash(plan: Plan) -> str:
    """The plan's id: sha256 of its canonical JSON."""
    return hashlib.sha256(canonical_json(plan_to_dict(plan))).hexdigest()


def plan_from_dict(data: Mapping[str, Any]) -> Plan:
    if not isinstance(data, Mapping):
        raise PlanFileError(f"not an iucut plan (a JSON {type(data).__name__}, want an object)")
    if data.get("format") != PLAN_FORMAT:
        raise PlanFileError(
            f"not an iucut plan (format {data.get('format')!r}, want {PLAN_FORMAT})",
            hint="make the plan with this iucut: iucut plan PATH... -o FILE",
        )
    fp = data["fingerprint"]
    docs = tuple(
        DocumentPlan(
            doc_path=d["doc_path"],
            namespace=d["namespace"],
            doc_hash=d["doc_hash"],
            expect_doc_hash=d["expect_doc_hash"],
            cut_digest=d.get("cut_digest"),
            expect_cut_digest=d.get("expect_cut_digest"),
            action=Action(d["action"]),
            profile=d.get("profile"),
            expect_profile=d.get("expect_profile"),
            size_bytes=d["size_bytes"],
            unit_count=d["unit_count"],
            unchanged=d["unchanged"],
            changes=tuple(
                Change(
                    op=Op(c["op"]),
                    code=c["code"],
                    expect_version=c["expect_version"],
                    unit=None if c["unit"] is None else Unit.from_dict(c["unit"]),
                    moved=c["moved"],
                    moved_from=c["moved_from"],
                    old_hash=c["old_hash"],
                    old=_old_from_dict(c),
                    renamed_from=c.get("renamed_from"),
                )
                for c in d["changes"]
            ),
            references=tuple(d.get("references") or ()),
            effective_date=d.get("effective_date"),
            effective_key=d.get("effective_key"),
            numbered=tuple((str(a), str(b)) for a, b in d.get("numbered") or ()),
        )
        for d in data["documents"]
    )
    return Plan(
        fingerprint=Fingerprint(
            system_identifier=fp["system_identifier"],
            database=fp["database"],
            schema=fp["schema"],
            migration_version=fp["migration_version"],
        ),
        documents=docs,
        tool_version=data["tool_version"],
        prune=data.get("prune", False),
        rejected=tuple(Rejected(r["path"], r["message"]) for r in data.get("rejected", [])),
    )


def write_plan(plan: Plan, path: Path) -> str:
    """Write the plan as canonical JSON; returns its id (the sha256 of the file)."""
    data = canonical_json(plan_to_dict(plan))
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def read_plan(path: Path) -> tuple[Plan, str]:
    """Read a plan file; returns the plan and its id. A file that is not a plan is refused."""
    hint = "give the file `iucut plan PATH... -o FILE` wrote"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlanFileError(f"cannot read plan {path}: {exc.strerror}", hint=hint) from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        where = f"{path}:{exc.lineno}" if isinstance(exc, json.JSONDecodeError) else str(path)
        raise PlanFileError(f"{where}: not an iucut plan (not JSON: {exc})", hint=hint) from exc
    try:
        plan = plan_from_dict(data)
    except PlanFileError as exc:
        raise PlanFileError(f"{path}: {exc.message}", hint=exc.hint or hint) from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PlanFileError(
            f"{path}: not a readable iucut plan ({type(exc).__name__}: {exc})", hint=hint
        ) from exc
    return plan, hashlib.sha256(raw).hexdigest()
