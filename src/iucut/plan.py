"""The plan: diff cut documents against the database state, and the plan artifact file.

Planning only reads. Documents whose hash did not change are skipped without reading
their units. The plan is data (see :mod:`iucut.units`): it can be written to a JSON
file whose sha256 is its id, reviewed, and given to ``apply --plan`` or ``prove --plan``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iucut._version import __version__
from iucut.db.connector import Connection
from iucut.errors import ContractError, IucutError, PlanFileError
from iucut.refs import document_references, references_payload
from iucut.units import (
    Change,
    CutDocument,
    DocumentPlan,
    Fingerprint,
    Plan,
    Rejected,
    Unit,
    UnitState,
)

PLAN_FORMAT = "iucut-plan/1"

Progress = Callable[[int, int, str], None]


# --------------------------------------------------------------------------------------
# The diff (pure)
# --------------------------------------------------------------------------------------


def cut_digest(doc: CutDocument) -> str:
    """Digest of what the cut made of a document: every unit's identity, place and hash.

    Stored with the document: with its source hash it decides whether a document is up
    to date. The source hash alone would keep a document whose bytes did not change at
    its old structure after a change of the cutting rules (an upgrade, a profile, a label
    rule, a namespace in the configuration).
    """
    h = hashlib.sha256()
    for u in doc.units:
        h.update(
            f"{u.code}\0{u.parent_code}\0{u.kind}\0{u.label}\0{u.ordinal}\0{u.depth}\0"
            f"{u.content_hash}\n".encode("utf-8", "surrogatepass")
        )
    return h.hexdigest()


def is_current(db_doc: Mapping[str, Any] | None, doc: CutDocument) -> bool:
    """Whether the database already holds ``doc`` exactly as cut now (skip it unread)."""
    return (
        db_doc is not None
        and db_doc["state"] == "active"
        and db_doc["doc_hash"] == doc.doc_hash
        and db_doc.get("cut_digest") == cut_digest(doc)
    )


def diff_document(
    doc: CutDocument,
    db_doc: Mapping[str, Any] | None,
    db_units: Mapping[str, UnitState],
) -> DocumentPlan:
    """The changes that bring the database's copy of ``doc`` to the cut ``doc``."""
    units = doc.units
    if is_current(db_doc, doc):
        return _document_plan(doc, db_doc, "skip", (), len(units))
    changes: list[Change] = []
    unchanged = 0
    for unit in units:
        cur = db_units.get(unit.code)
        if cur is None:
            changes.append(Change("create", unit.code, None, unit))
            continue
        moved = cur.parent_code != unit.parent_code
        if cur.state == "retired":
            op = "restore"
        elif cur.content_hash != unit.content_hash:
            op = "revise"
        elif moved:
            op = "move"
        elif _placement(cur) != _placement(unit):
            op = "place"
        else:
            unchanged += 1
            continue
        changes.append(
            Change(
                op,
                unit.code,
                cur.current_version,
                unit,
                moved=moved,
                moved_from=cur.parent_code if moved else None,
                old_hash=cur.content_hash,
            )
        )
    codes = {u.code for u in units}
    for code in sorted(db_units, key=lambda c: db_units[c].position):
        cur = db_units[code]
        if code not in codes and cur.state == "active":
            changes.append(Change("retire", code, cur.current_version, None))
    action = "create" if db_doc is None else "update"
    return _document_plan(doc, db_doc, action, tuple(changes), unchanged)


def retire_document(db_doc: Mapping[str, Any], db_units: Mapping[str, UnitState]) -> DocumentPlan:
    """The plan that retires a whole document missing from the source (``--prune``)."""
    changes = tuple(
        Change("retire", code, cur.current_version, None)
        for code, cur in sorted(db_units.items(), key=lambda kv: kv[1].position)
        if cur.state == "active"
    )
    return DocumentPlan(
        doc_path=db_doc["doc_path"],
        namespace=db_doc["namespace"],
        doc_hash=db_doc["doc_hash"],
        expect_doc_hash=db_doc["doc_hash"],
        cut_digest=db_doc.get("cut_digest"),
        expect_cut_digest=db_doc.get("cut_digest"),
        action="retire",
        size_bytes=0,
        unit_count=0,
        changes=changes,
        unchanged=0,
    )


def _placement(u: Unit | UnitState) -> tuple[Any, ...]:
    return (u.ordinal, u.depth, u.position, u.kind, u.label)


def _document_plan(
    doc: CutDocument,
    db_doc: Mapping[str, Any] | None,
    action: str,
    changes: tuple[Change, ...],
    unchanged: int,
) -> DocumentPlan:
    return DocumentPlan(
        doc_path=doc.path,
        namespace=doc.namespace,
        doc_hash=doc.doc_hash,
        expect_doc_hash=None if db_doc is None else db_doc["doc_hash"],
        action=action,
        size_bytes=doc.size,
        unit_count=len(doc.units),
        changes=changes,
        unchanged=unchanged,
        # a skipped document is current: its digest is the one stored (not hashed again)
        cut_digest=db_doc.get("cut_digest")
        if action == "skip" and db_doc is not None
        else cut_digest(doc),
        expect_cut_digest=None if db_doc is None else db_doc.get("cut_digest"),
        references=() if action == "skip" else tuple(references_payload(document_references(doc))),
    )


# --------------------------------------------------------------------------------------
# Reading the database state
# --------------------------------------------------------------------------------------


def plan_for_values(conn: Connection) -> None:
    """Plan the session's reads for their values, never generically (issue #17).

    Nothing is prepared on the client side, so no plan is reused anyway; under a
    ``plan_cache_mode = force_generic_plan`` from the environment the units of one
    document would otherwise be read by a scan of every unit.
    """
    conn.query("plan_for_values")


def read_fingerprint(conn: Connection) -> Fingerprint:
    row = conn.query("fingerprint").fetchone()
    assert row is not None
    return Fingerprint(
        system_identifier=str(row["system_identifier"]),
        database=row["database"],
        schema=row["schema"],
        migration_version=row["migration_version"],
    )


def read_units(conn: Connection, doc_path: str) -> dict[str, UnitState]:
    rows = conn.query("document_units", doc_path=doc_path).fetchall()
    return {r["code"]: UnitState(**r) for r in rows}


def read_documents(conn: Connection, paths: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = conn.query("documents_by_path", paths=list(paths)).fetchall()
    return {r["doc_path"]: dict(r) for r in rows}


def check_codes_free(conn: Connection, doc: CutDocument) -> None:
    """Refuse a document whose codes another document already holds."""
    rows = conn.query(
        "codes_elsewhere", codes=[u.code for u in doc.units], doc_path=doc.path
    ).fetchall()
    if rows:
        first = rows[0]
        raise ContractError(
            f"{doc.path}: code {first['code']} already belongs to document {first['doc_path']}",
            hint="give the document its own namespace (front matter iu_namespace)",
        )


def plan_document(
    conn: Connection, doc: CutDocument, db_doc: Mapping[str, Any] | None
) -> DocumentPlan:
    """Plan one document (reads its units only when it is not current)."""
    if is_current(db_doc, doc):
        return diff_document(doc, db_doc, {})
    db_units = read_units(conn, doc.path) if db_doc is not None else {}
    if any(u.code not in db_units for u in doc.units):
        check_codes_free(conn, doc)
    return diff_document(doc, db_doc, db_units)


def make_plan(
    conn: Connection,
    documents: Iterable[CutDocument | IucutError],
    *,
    prune_scopes: Sequence[str] | None = None,
    on_progress: Progress | None = None,
) -> Plan:
    """Plan every document against the database ``conn`` reads (read-only).

    ``prune_scopes``: when given, active documents in the database under one of these
    path prefixes ("" for all) that are absent from ``documents`` are retired.
    Documents whose hash the database already holds are skipped without reading units.
    """
    plan_for_values(conn)
    fingerprint = read_fingerprint(conn)
    items = list(documents)
    found = triage(conn, items, prune_scopes=prune_scopes)
    rejected = list(found.rejected)
    plans: list[DocumentPlan] = [
        _document_plan(doc, found.current[doc.path], "skip", (), len(doc.units))
        for doc in found.skipped
    ]
    db_docs = read_documents(conn, [d.path for d in found.todo])
    for n, doc in enumerate(found.todo, 1):
        try:
            plans.append(plan_document(conn, doc, db_docs.get(doc.path)))
        except ContractError as exc:  # this document only; the others proceed
            rejected.append(Rejected(doc.path, exc.message))
        if on_progress is not None:
            on_progress(n, len(found.todo), doc.path)
    order = {item.path: i for i, item in enumerate(items) if isinstance(item, CutDocument)}
    plans.sort(key=lambda p: order.get(p.doc_path, len(order)))  # source order
    for path in found.prune:
        current = read_documents(conn, [path]).get(path)
        if current is not None:
            plans.append(retire_document(current, read_units(conn, path)))
    return Plan(
        fingerprint=fingerprint,
        documents=tuple(plans),
        tool_version=__version__,
        prune=prune_scopes is not None,
        rejected=tuple(rejected),
    )


@dataclass(frozen=True)
class Triage:
    """Which documents need work, read from the document hashes alone (no unit is read)."""

    todo: tuple[CutDocument, ...]  # new or changed documents
    skipped: tuple[CutDocument, ...]  # documents whose hash is already in the database
    prune: tuple[str, ...]  # active documents to retire (--prune)
    rejected: tuple[Rejected, ...]
    current: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # rows read, by path


def triage(
    conn: Connection,
    documents: Iterable[CutDocument | IucutError],
    *,
    prune_scopes: Sequence[str] | None = None,
) -> Triage:
    """Split documents into those to write and those already up to date (read-only).

    Apply uses this instead of a full plan: each document is planned again under its
    lock anyway, so the first pass only needs the document hashes.
    """
    docs: list[CutDocument] = []
    rejected: list[Rejected] = []
    for item in documents:
        if isinstance(item, IucutError):
            rejected.append(Rejected(str(item.context.get("path") or ""), item.message))
        else:
            docs.append(item)
    docs = _drop_shared_namespaces(docs, rejected)
    db_docs = read_documents(conn, [d.path for d in docs])
    todo: list[CutDocument] = []
    skipped: list[CutDocument] = []
    for doc in docs:
        current = db_docs.get(doc.path)
        if is_current(current, doc):
            skipped.append(doc)
        else:
            todo.append(doc)
    prune: list[str] = []
    if prune_scopes is not None:
        present = {d.path for d in docs} | {r.path for r in rejected}
        for row in conn.query("documents_active").fetchall():
            path = row["doc_path"]
            if path not in present and any(_under(path, s) for s in prune_scopes):
                prune.append(path)
    return Triage(tuple(todo), tuple(skipped), tuple(prune), tuple(rejected), db_docs)


def _under(path: str, scope: str) -> bool:
    scope = scope.strip("/")
    return scope in ("", ".") or path == scope or path.startswith(scope + "/")


def _drop_shared_namespaces(
    docs: Sequence[CutDocument], rejected: list[Rejected]
) -> list[CutDocument]:
    """Reject every document whose namespace another document of the run also has.

    Only those documents are refused (spec: the others proceed); all of them, not the
    later ones, so the outcome does not depend on the order of the paths.
    """
    paths: dict[str, set[str]] = {}
    for doc in docs:
        paths.setdefault(doc.namespace, set()).add(doc.path)
    kept: list[CutDocument] = []
    for doc in docs:
        others = sorted(paths[doc.namespace] - {doc.path})
        if others:
            rejected.append(
                Rejected(
                    doc.path,
                    f"{doc.path}: namespace {doc.namespace} is also the namespace of "
                    f"{', '.join(others)}; give one of them its own namespace "
                    "(front matter iu_namespace)",
                )
            )
        else:
            kept.append(doc)
    return kept


# --------------------------------------------------------------------------------------
# The plan as a file: canonical JSON, content-addressed
# --------------------------------------------------------------------------------------


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
        "size_bytes": doc.size_bytes,
        "unit_count": doc.unit_count,
        "unchanged": doc.unchanged,
        "counts": doc.counts,
        "changes": [
            {
                "op": c.op,
                "code": c.code,
                "expect_version": c.expect_version,
                "moved": c.moved,
                "moved_from": c.moved_from,
                "old_hash": c.old_hash,
                "unit": None if c.unit is None else c.unit.to_dict(),
            }
            for c in doc.changes
        ],
        "references": list(doc.references),
    }


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
            action=d["action"],
            size_bytes=d["size_bytes"],
            unit_count=d["unit_count"],
            unchanged=d["unchanged"],
            changes=tuple(
                Change(
                    op=c["op"],
                    code=c["code"],
                    expect_version=c["expect_version"],
                    unit=None if c["unit"] is None else Unit.from_dict(c["unit"]),
                    moved=c["moved"],
                    moved_from=c["moved_from"],
                    old_hash=c["old_hash"],
                )
                for c in d["changes"]
            ),
            references=tuple(d.get("references") or ()),
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


def summary_line(counts: Mapping[str, int]) -> str:
    """The one-line summary, e.g. ``+12 ~3 →1 ↺0 -2 =840``."""
    return (
        f"+{counts.get('created', 0)} ~{counts.get('revised', 0)} →{counts.get('moved', 0)} "
        f"↺{counts.get('restored', 0)} -{counts.get('retired', 0)} ={counts.get('unchanged', 0)}"
    )
