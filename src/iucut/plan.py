"""The plan: diff cut documents against the database state, and the plan artifact file.

Planning only reads. Documents whose hash did not change are skipped without reading
their units. The plan is data (see :mod:`iucut.units`): it can be written to a JSON
file whose sha256 is its id, reviewed, and given to ``apply --plan`` or ``prove --plan``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from iucut._version import __version__
from iucut.cut.cutter import recut
from iucut.db.connector import Connection
from iucut.errors import ContractError, IucutError, NotFound, PlanFileError
from iucut.refs import document_references, references_payload
from iucut.units import (
    Change,
    CutDocument,
    DocumentPlan,
    Fingerprint,
    OldText,
    Plan,
    Rejected,
    Unit,
    UnitState,
    content_hash,
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
        and (doc.profile is None or db_doc.get("profile") == doc.profile)
    )


def with_stored_profile(doc: CutDocument, db_doc: Mapping[str, Any] | None) -> CutDocument:
    """``doc`` cut with the profile stored with the document, when its own profile was
    only detected: a version whose lines read as another language keeps its profile
    (and every code). A profile given on purpose (--profile, front matter iu_profile,
    configuration) stays, and the plan shows the change."""
    stored = None if db_doc is None else db_doc.get("profile")
    if stored is None or doc.profile in (None, stored) or doc.profile_source != "detected":
        return doc
    try:
        return recut(doc, stored)
    except IucutError:  # e.g. a configured profile no longer configured: the plan shows it
        return doc


def find_renames(
    doc: CutDocument, db_units: Mapping[str, UnitState], taken: Collection[str] = ()
) -> dict[str, str]:
    """New code -> old code of units whose code changed: an active unit whose code is
    gone and a unit with a code never seen before, of the same kind, with the same
    content hash (each the only one with that hash on its side), or else holding the
    same children (a retitled heading). ``taken``: codes that units held once (never
    handed to another unit); as a mapping, code -> the codes now of the units that held
    it, so that a unit may move back to a code it held itself."""
    codes = {u.code for u in doc.units}
    gone: dict[str, list[str]] = {}
    for code, cur in db_units.items():
        if code not in codes and cur.state == "active":
            gone.setdefault(cur.content_hash, []).append(code)
    if not gone:
        return {}
    fresh: dict[str, list[Unit]] = {}
    for u in doc.units:
        if u.code not in db_units:
            fresh.setdefault(u.content_hash, []).append(u)

    def free(new: str, old: str) -> bool:
        """Whether ``new`` may become the code of the unit now at ``old``."""
        if new not in taken:
            return True
        return isinstance(taken, Mapping) and set(taken[new]) == {old}

    renames: dict[str, str] = {}
    for digest, old in gone.items():
        new = fresh.get(digest, [])
        if (
            len(old) == 1
            and len(new) == 1
            and db_units[old[0]].kind == new[0].kind
            and free(new[0].code, old[0])
        ):
            renames[new[0].code] = old[0]
    # A retitled heading: its text changed, but it holds the same children as before.
    left_old = {c for codes_ in gone.values() for c in codes_} - set(renames.values())
    left_new = {u.code: u for us in fresh.values() for u in us if u.code not in renames}
    if left_old and left_new:
        to = {old: new for new, old in renames.items()}
        held: dict[str, set[str]] = {}
        for code, cur in db_units.items():
            if cur.parent_code in left_old and cur.state == "active":
                held.setdefault(cur.parent_code, set()).add(to.get(code, code))
        holds: dict[str, set[str]] = {}
        for u in doc.units:
            if u.parent_code in left_new:
                holds.setdefault(u.parent_code, set()).add(u.code)
        by_children: dict[frozenset[str], list[str]] = {}
        for code, kids in held.items():
            by_children.setdefault(frozenset(kids), []).append(code)
        matched: dict[frozenset[str], list[str]] = {}
        for code, kids in holds.items():
            matched.setdefault(frozenset(kids), []).append(code)
        for kid_set, olds in by_children.items():
            news = matched.get(kid_set, [])
            if (
                len(olds) == 1
                and len(news) == 1
                and db_units[olds[0]].kind == left_new[news[0]].kind
                and free(news[0], olds[0])
            ):
                renames[news[0]] = olds[0]
    return renames


def _renamed(db_units: Mapping[str, UnitState], renames: Mapping[str, str]) -> dict[str, UnitState]:
    """The database state as it is after the renames (children follow their parent)."""
    to = {old: new for new, old in renames.items()}
    out: dict[str, UnitState] = {}
    for code, cur in db_units.items():
        parent = to.get(cur.parent_code or "", cur.parent_code)
        if code in to or parent != cur.parent_code:
            cur = dataclasses.replace(cur, code=to.get(code, code), parent_code=parent)
        out[cur.code] = cur
    return out


def diff_document(
    doc: CutDocument,
    db_doc: Mapping[str, Any] | None,
    db_units: Mapping[str, UnitState],
    taken: Collection[str] = (),
) -> DocumentPlan:
    """The changes that bring the database's copy of ``doc`` to the cut ``doc``. A unit
    whose code changed but not its text is moved to its new code (see find_renames)."""
    units = doc.units
    if is_current(db_doc, doc):
        return _document_plan(doc, db_doc, "skip", (), len(units))
    renames = find_renames(doc, db_units, taken)
    if renames:
        db_units = _renamed(db_units, renames)
    changes: list[Change] = []
    unchanged = 0
    for unit in units:
        cur = db_units.get(unit.code)
        if cur is None:
            changes.append(Change("create", unit.code, None, unit))
            continue
        moved = cur.parent_code != unit.parent_code
        renamed_from = renames.get(unit.code)
        if cur.state == "retired":
            op = "restore"
        elif cur.content_hash != unit.content_hash:
            op = "revise"
        elif moved or renamed_from is not None:
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
                renamed_from=renamed_from,
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
        profile=db_doc.get("profile") if action == "skip" and db_doc is not None else doc.profile,
        expect_profile=None if db_doc is None else db_doc.get("profile"),
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
    found = {r["doc_path"]: dict(r) for r in rows}
    if found:
        for r in conn.query("document_profiles", paths=list(found)).fetchall():
            found[r["doc_path"]]["profile"] = r["profile"]
    return found


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
    conn: Connection, doc: CutDocument, db_doc: Mapping[str, Any] | None, *, check_new: bool = True
) -> DocumentPlan:
    """Plan one document (reads its units only when it is not current).

    ``check_new=False``: a document the database does not hold yet is planned without
    reading whether its codes are held elsewhere or were held once (for a new document
    they change nothing in the plan); ``fn_iu_apply_document`` refuses such a code
    anyway (IUC01, IUC08), and the caller plans again with the checks to say where."""
    if is_current(db_doc, doc):
        return diff_document(doc, db_doc, {})
    if db_doc is None and not check_new:
        return diff_document(doc, None, {})
    db_units = read_units(conn, doc.path) if db_doc is not None else {}
    fresh = [u.code for u in doc.units if u.code not in db_units]
    if fresh:
        check_codes_free(conn, doc)
    taken = read_holders(conn, fresh) if fresh else {}
    dp = diff_document(doc, db_doc, db_units, taken)
    check_no_code_reused(dp, taken)
    return dp


def read_holders(conn: Connection, codes: Sequence[str]) -> dict[str, set[str]]:
    """Those of ``codes`` that a unit held once, each with the codes now of the units that
    held it (the lifecycle log remembers them)."""
    holders: dict[str, set[str]] = {}
    for r in conn.query("code_holders", codes=list(codes)).fetchall():
        holders.setdefault(r["code"], set()).add(r["holder"])
    return holders


def check_no_code_reused(dp: DocumentPlan, taken: Mapping[str, Collection[str]]) -> None:
    """Refuse a plan that creates a unit at a code another unit held once (the database
    refuses it too, IUC08): the new unit would take over that unit's history."""
    reused = [c for c in dp.changes if c.op == "create" and c.code in taken]
    if not reused:
        return
    first = reused[0]
    holder = ", ".join(sorted(taken[first.code]))
    line = f":{first.unit.line_start}" if first.unit is not None else ""
    more = (
        f" ({len(reused) - 1} more: {', '.join(c.code for c in reused[1:4])})"
        if len(reused) > 1
        else ""
    )
    raise ContractError(
        f"{dp.doc_path}{line}: code {first.code} was held by another unit, whose history is "
        f"now at {holder}; a code is never handed to another unit, so this new unit cannot "
        f"take it{more}. Give the new heading another label or title so that its code "
        "differs; nothing of this document is written",
        hint=f"code {first.code}: `iucut history {holder}` shows the unit that held it",
    )


#: The changes whose old text a reviewer needs: what a revision replaces, what a
#: retirement removes, what a restore brings back over.
_REVIEWED_OPS = frozenset({"revise", "restore", "retire"})


def with_old_texts(conn: Connection, dp: DocumentPlan) -> DocumentPlan:
    """``dp`` with the database's text of each unit it revises, restores or retires.

    Only those units are read (one query per document with such changes); the text is
    for review only (a diff, offline too), apply checks versions and hashes.
    """
    codes = [c.code for c in dp.changes if c.op in _REVIEWED_OPS and c.old is None]
    if not codes:
        return dp
    rows = conn.query("unit_texts", codes=codes).fetchall()
    texts = {r["code"]: OldText(r["title"], r["raw_heading"], r["body"]) for r in rows}
    changes = tuple(
        replace(c, old=texts[c.code]) if c.old is None and c.code in texts else c
        for c in dp.changes
    )
    return replace(dp, changes=changes)


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
            dp = plan_document(conn, doc, db_docs.get(doc.path))
            plans.append(with_old_texts(conn, dp))
        except ContractError as exc:  # this document only; the others proceed
            rejected.append(Rejected(doc.path, exc.message))
        if on_progress is not None:
            on_progress(n, len(found.todo), doc.path)
    order = {item.path: i for i, item in enumerate(items) if isinstance(item, CutDocument)}
    plans.sort(key=lambda p: order.get(p.doc_path, len(order)))  # source order
    for path in found.prune:
        current = read_documents(conn, [path]).get(path)
        if current is not None:
            dp = retire_document(current, read_units(conn, path))
            plans.append(with_old_texts(conn, dp))
    return Plan(
        fingerprint=fingerprint,
        documents=tuple(plans),
        tool_version=__version__,
        prune=prune_scopes is not None,
        rejected=tuple(rejected),
    )


def lookalikes(
    conn: Connection, plan: Plan, documents: Iterable[CutDocument | IucutError] = ()
) -> list[str]:
    """Warnings for new documents that have the exact bytes, or the namespace, of a
    stored document at another path: the same file planned under another root (or moved)
    would otherwise be stored twice. Each names both documents and says what to do.
    ``documents``: the cut documents (those rejected, e.g. for a code clash, count too)."""
    stored = {d.doc_path for d in plan.documents if d.action != "create"}
    new: list[DocumentPlan | CutDocument] = [d for d in plan.documents if d.action == "create"]
    planned = {_path(d) for d in new}
    new += [
        d
        for d in documents
        if isinstance(d, CutDocument) and d.path not in stored and d.path not in planned
    ]
    if not new:
        return []
    rows = conn.query(
        "documents_alike",
        hashes=[d.doc_hash for d in new],
        namespaces=[d.namespace for d in new],
        paths=[_path(d) for d in new],
    ).fetchall()
    warnings = []
    for doc in new:
        for row in rows:
            same = [
                what
                for what, equal in (
                    ("the exact bytes", row["doc_hash"] == doc.doc_hash),
                    (f"the namespace {doc.namespace}", row["namespace"] == doc.namespace),
                )
                if equal
            ]
            if not same:
                continue
            warnings.append(
                f"{_path(doc)}: a new document with {' and '.join(same)} of the stored "
                f"document {row['doc_path']} ({row['state']}). If it is the same document, "
                "plan it under the same project root (iucut init in the project's top "
                "folder, or --root) so that its path is the same; if it moved, "
                f"`iucut retire {row['doc_path']}` retires the old one; if it is a copy on "
                "purpose, give it its own namespace (front matter iu_namespace)."
            )
    return warnings


def _path(doc: DocumentPlan | CutDocument) -> str:
    return doc.path if isinstance(doc, CutDocument) else doc.doc_path


def retire_plan(conn: Connection, names: Sequence[str]) -> Plan:
    """The plan that retires the stored documents named (by path or namespace).

    A name that matches no document is :class:`~iucut.errors.NotFound`; a document
    already retired is planned as unchanged ("skip").
    """
    fingerprint = read_fingerprint(conn)
    plans: list[DocumentPlan] = []
    seen: set[str] = set()
    for name in names:
        found = conn.query("document_find", doc=name).fetchone()
        if found is None:
            raise NotFound(
                f"no document {name}", hint="give a stored document's path or its namespace"
            )
        path = found["doc_path"]
        if path in seen:
            continue
        seen.add(path)
        current = read_documents(conn, [path])[path]
        if current["state"] != "active":
            plans.append(replace(retire_document(current, {}), action="skip"))
            continue
        plans.append(retire_document(current, read_units(conn, path)))
    return Plan(fingerprint=fingerprint, documents=tuple(plans), tool_version=__version__)


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
    docs = [with_stored_profile(doc, db_docs.get(doc.path)) for doc in docs]
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
        "profile": doc.profile,
        "expect_profile": doc.expect_profile,
        "size_bytes": doc.size_bytes,
        "unit_count": doc.unit_count,
        "unchanged": doc.unchanged,
        "counts": doc.counts,
        "changes": [_change_to_dict(c) for c in doc.changes],
        "references": list(doc.references),
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
            action=d["action"],
            profile=d.get("profile"),
            expect_profile=d.get("expect_profile"),
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
                    old=_old_from_dict(c),
                    renamed_from=c.get("renamed_from"),
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
