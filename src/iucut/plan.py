"""The plan's diff (pure): the changes that bring the database's copy of a document to
the cut document, from the state read (:mod:`iucut.plan_state` reads it and makes the
plan; :mod:`iucut.planfile` writes and reads the plan file).

The plan is data (see :mod:`iucut.units`): it can be written to a JSON file whose sha256
is its id, reviewed, and given to ``apply --plan`` or ``prove --plan``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from iucut.errors import ContractError, IucutError
from iucut.units import (
    Action,
    Change,
    CutDocument,
    DocumentPlan,
    Op,
    Rejected,
    Unit,
    UnitState,
    UnitStatus,
)

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


@dataclass(frozen=True, slots=True)
class Digest:
    """What a first pass over a corpus keeps of a cut document: its identity, hashes and
    warnings, no text (a few hundred bytes, whatever the size of the document). Apply
    decides from these which documents to write, then cuts those again one at a time:
    the client holds a few documents, not the corpus."""

    path: str
    namespace: str
    doc_hash: str
    cut_digest: str
    units: int
    profile: str | None = None
    profile_source: str | None = None
    warnings: tuple[str, ...] = ()
    #: read from the cut cache (:mod:`iucut.digests`), not cut now
    cached: bool = field(default=False, compare=False)
    #: bytes of the document (what a plan shows of a document it skips); -1: not known
    size: int = field(default=-1, compare=False)
    #: the file's stat when it was read, for the cut cache's fast path
    #: (:data:`iucut.digests.StatKey`); None when there is nothing to record
    stat: tuple[int, ...] | None = field(default=None, compare=False)


def digest_key(d: Digest | Unchanged) -> int:
    """A fingerprint of what :func:`is_current` reads of a digest (its document hash,
    cut digest and profile; signed 64 bits, as SQLite keeps an integer): what
    :mod:`iucut.seen` remembers of a digest found up to date, and the cut cache keeps
    with each entry (:class:`Unchanged`)."""
    if isinstance(d, Unchanged):
        return d.key
    return _key(d.doc_hash, d.cut_digest, d.profile)


def _key(doc_hash: str, cut_digest: str | None, profile: str | None) -> int:
    text = f"{doc_hash}\x00{cut_digest}\x00{profile}"
    raw = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(raw, "big", signed=True)


class Unchanged(NamedTuple):
    """A file the cut cache knows by its stat, kept without its digest (issue #16 part
    3): its entry is not decoded and no :class:`Digest` is made, for the file of an
    unchanged re-sync is skipped by what :mod:`iucut.seen` remembers of the database
    (the fingerprint ``key`` of its digest, :func:`digest_key`) in most runs. Only an
    entry that is not racy is kept so. When the triage needs the digest after all (the
    database changed since, or its key is not the one found up to date), :meth:`digest`
    reads the entry again (None: the entry is gone or changed since: the document is to
    do, and cut again). ``warnings``: those of its last cut, kept by the entry with the
    fast stat (a warning is shown at every re-sync)."""

    path: str
    namespace: str
    key: int
    #: where the entry is (the cache's reader of this pass): one object for the corpus
    origin: Any
    #: the warnings of the document's last cut (made with ``tuple.__new__``: always given)
    warnings: tuple[str, ...]

    def digest(self) -> Digest | None:
        """The digest of the entry (read again, by its path), or None."""
        found = self.origin.digest(self.path, self.key)
        return found if isinstance(found, Digest) else None


def full_digest(d: Digest | Unchanged) -> Digest | None:
    """``d`` as a :class:`Digest` (an :class:`Unchanged` read again; None: it is not in
    the cache as it was)."""
    return d.digest() if isinstance(d, Unchanged) else d


def digest_of(doc: CutDocument | IucutError) -> Digest | IucutError:
    """The digest of a cut document (an error stays as it is)."""
    if isinstance(doc, IucutError):
        return doc
    return Digest(
        doc.path,
        doc.namespace,
        doc.doc_hash,
        cut_digest(doc),
        len(doc.units),
        doc.profile,
        doc.profile_source,
        doc.warnings,
        size=doc.size,
    )


def is_current(db_doc: Mapping[str, Any] | None, doc: CutDocument | Digest | Unchanged) -> bool:
    """Whether the database already holds ``doc`` exactly as cut now (skip it unread)."""
    if isinstance(doc, Unchanged):  # (its digest read again: the cache's entry as it was)
        if db_doc is None:
            return False
        full = doc.digest()
        return full is not None and is_current(db_doc, full)
    return (
        db_doc is not None
        and db_doc["state"] == "active"
        and db_doc["doc_hash"] == doc.doc_hash
        and db_doc.get("cut_digest")
        == (doc.cut_digest if isinstance(doc, Digest) else cut_digest(doc))
        and (doc.profile is None or db_doc.get("profile") == doc.profile)
    )


def is_current_at(db_doc: Mapping[str, Any] | None, key: int) -> bool:
    """:func:`is_current` of the digest whose :func:`digest_key` is ``key`` (the digest
    itself not kept: apply's triage keeps the key of each document to do): the stored
    row's hash, cut digest and profile make that key, or, for a digest whose profile
    is None (any stored profile then does), its hash and cut digest do."""
    if db_doc is None or db_doc["state"] != "active":
        return False
    doc_hash, digest = db_doc["doc_hash"], db_doc.get("cut_digest")
    profile = db_doc.get("profile")
    return key == _key(doc_hash, digest, None) or (
        profile is not None and key == _key(doc_hash, digest, profile)
    )


def with_stored_profile(doc: CutDocument, db_doc: Mapping[str, Any] | None) -> CutDocument:
    """``doc`` cut with the profile stored with the document, when its own profile was
    only detected: a version whose lines read as another language keeps its profile
    (and every code). A profile given on purpose (--profile, front matter iu_profile,
    configuration) stays, and the plan shows the change."""
    stored = None if db_doc is None else db_doc.get("profile")
    if stored is None or doc.profile in (None, stored) or doc.profile_source != "detected":
        return doc
    from iucut.cut.cutter import recut  # (the cutter: not on a re-sync that cuts nothing)

    try:
        return recut(doc, stored)
    except IucutError:  # e.g. a configured profile no longer configured: the plan shows it
        return doc


#: Reads the stored bodies of units by code (code -> body); what a plan uses to match a
#: retitled plain heading by its body (see :func:`find_renames`).
BodyReader = Callable[[Collection[str]], Mapping[str, str]]

#: The kind of a plain heading: its code is the slug of its title, so a retitle changes
#: its code. A labelled unit's code is its label: a new title keeps it, a new label is
#: another unit, never matched by its body.
_RETITLED_KIND = "heading"


def find_renames(
    doc: CutDocument,
    db_units: Mapping[str, UnitState],
    taken: Collection[str] = (),
    bodies: BodyReader | None = None,
) -> dict[str, str]:
    """New code -> old code of units whose code changed: an active unit whose code is
    gone and a unit with a code never seen before, with the same content hash (each the
    only one with that hash on its side; of any kind: the rules or the profile may have
    changed it), or else of the same kind and holding the same children (a retitled
    heading), or else, for a plain heading, with the same
    non-blank body (a retitled heading without children, or whose children changed
    too; each the only one with that body on its side; ``bodies`` reads the stored
    bodies, None: no such match). ``taken``: codes that units held once (never handed
    to another unit); as a mapping, code -> the codes now of the units that held it, so
    that a unit may move back to a code it held itself."""
    codes = {u.code for u in doc.units}
    gone: dict[str, list[str]] = {}
    for code, cur in db_units.items():
        if code not in codes and cur.state == UnitStatus.ACTIVE:
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
        # The same text is the same unit whatever its kind: a kind changes with the cutting
        # rules (a plain heading `SEC. 101.` that a new rule labels) or the profile.
        if len(old) == 1 and len(new) == 1 and free(new[0].code, old[0]):
            renames[new[0].code] = old[0]
    # A retitled heading: its text changed, but it holds the same children as before.
    left_old = {c for codes_ in gone.values() for c in codes_} - set(renames.values())
    left_new = {u.code: u for us in fresh.values() for u in us if u.code not in renames}
    if left_old and left_new:
        to = {old: new for new, old in renames.items()}
        held: dict[str, set[str]] = {}
        for code, cur in db_units.items():
            if cur.parent_code in left_old and cur.state == UnitStatus.ACTIVE:
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
    if bodies is not None and left_old and left_new:
        _match_bodies(renames, left_old, left_new, db_units, bodies, free)
    return renames


def _match_bodies(
    renames: dict[str, str],
    left_old: Collection[str],
    left_new: Mapping[str, Unit],
    db_units: Mapping[str, UnitState],
    bodies: BodyReader,
    free: Callable[[str, str], bool],
) -> None:
    """Add to ``renames`` the plain headings the other rules left that kept their body
    under a new title: the same non-blank body, the only one with it on each side."""
    matched = set(renames.values())
    olds = [c for c in sorted(left_old) if c not in matched and db_units[c].kind == _RETITLED_KIND]
    news = [
        u
        for code, u in left_new.items()
        if code not in renames and u.kind == _RETITLED_KIND and u.body.strip()
    ]
    if not olds or not news:
        return
    asked = set(olds)
    by_body: dict[str, list[str]] = {}
    for code, body in bodies(olds).items():
        if code in asked and body.strip():
            by_body.setdefault(body, []).append(code)
    with_body: dict[str, list[Unit]] = {}
    for u in news:
        with_body.setdefault(u.body, []).append(u)
    for body, old in by_body.items():
        new = with_body.get(body, [])
        if len(old) == 1 and len(new) == 1 and free(new[0].code, old[0]):
            renames[new[0].code] = old[0]


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
    bodies: BodyReader | None = None,
    *,
    cut: CutDocument | None = None,
) -> DocumentPlan:
    """The changes that bring the database's copy of ``doc`` to the cut ``doc``. A unit
    whose code changed but not its text is moved to its new code (see find_renames;
    ``bodies`` reads stored bodies for its match of a retitled heading). ``cut``: the
    document as cut when ``doc`` is it numbered from the history
    (:mod:`iucut.numbering`): its digest is the one stored, so that the same file is
    current next time."""
    units = doc.units
    cut = doc if cut is None else cut
    if is_current(db_doc, cut):
        return _document_plan(cut, db_doc, Action.SKIP, (), len(units))
    renames = find_renames(doc, db_units, taken, bodies)
    if renames:
        db_units = _renamed(db_units, renames)
    changes: list[Change] = []
    unchanged = 0
    for unit in units:
        cur = db_units.get(unit.code)
        if cur is None:
            changes.append(Change(Op.CREATE, unit.code, None, unit))
            continue
        moved = cur.parent_code != unit.parent_code
        renamed_from = renames.get(unit.code)
        if cur.state == UnitStatus.RETIRED:
            op = Op.RESTORE
        elif cur.content_hash != unit.content_hash:
            op = Op.REVISE
        elif moved or renamed_from is not None:
            op = Op.MOVE
        elif _placement(cur) != _placement(unit):
            op = Op.PLACE
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
        if code not in codes and cur.state == UnitStatus.ACTIVE:
            changes.append(Change(Op.RETIRE, code, cur.current_version, None))
    action = Action.CREATE if db_doc is None else Action.UPDATE
    dp = _document_plan(doc, db_doc, action, tuple(changes), unchanged)
    return dp if cut is doc else dataclasses.replace(dp, cut_digest=cut_digest(cut))


def retire_document(db_doc: Mapping[str, Any], db_units: Mapping[str, UnitState]) -> DocumentPlan:
    """The plan that retires a whole document missing from the source (``--prune``)."""
    changes = tuple(
        Change(Op.RETIRE, code, cur.current_version, None)
        for code, cur in sorted(db_units.items(), key=lambda kv: kv[1].position)
        if cur.state == UnitStatus.ACTIVE
    )
    return DocumentPlan(
        doc_path=db_doc["doc_path"],
        namespace=db_doc["namespace"],
        doc_hash=db_doc["doc_hash"],
        expect_doc_hash=db_doc["doc_hash"],
        cut_digest=db_doc.get("cut_digest"),
        expect_cut_digest=db_doc.get("cut_digest"),
        action=Action.RETIRE,
        size_bytes=0,
        unit_count=0,
        changes=changes,
        unchanged=0,
    )


def _config_of(doc: CutDocument) -> Mapping[str, Any] | None:
    """The configuration mapping a document was cut with (None: the defaults)."""
    return doc.config if isinstance(doc.config, Mapping) else None


def _placement(u: Unit | UnitState) -> tuple[Any, ...]:
    return (u.ordinal, u.depth, u.position, u.kind, u.label)


def _document_plan(
    doc: CutDocument,
    db_doc: Mapping[str, Any] | None,
    action: Action,
    changes: tuple[Change, ...],
    unchanged: int,
) -> DocumentPlan:
    from iucut.cut.frontmatter import effective_date
    from iucut.refs import document_references, references_payload

    effective = effective_date(doc.front_matter, _config_of(doc))
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
        if action == Action.SKIP and db_doc is not None
        else cut_digest(doc),
        expect_cut_digest=None if db_doc is None else db_doc.get("cut_digest"),
        profile=db_doc.get("profile")
        if action == Action.SKIP and db_doc is not None
        else doc.profile,
        expect_profile=None if db_doc is None else db_doc.get("profile"),
        references=()
        if action == Action.SKIP
        else tuple(references_payload(document_references(doc))),
        effective_date=None if effective is None else effective[0],
        effective_key=None if effective is None else effective[1],
    )


def check_no_code_reused(dp: DocumentPlan, taken: Mapping[str, Collection[str]]) -> None:
    """Refuse a plan that creates a unit at a code another unit held once (the database
    refuses it too, IUC08): the new unit would take over that unit's history."""
    reused = [c for c in dp.changes if c.op == Op.CREATE and c.code in taken]
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


def _under(path: str, scope: str) -> bool:
    scope = scope.strip("/")
    return scope in ("", ".") or path == scope or path.startswith(scope + "/")


def shared_namespace_message(path: str, namespace: str, others: Sequence[str]) -> str:
    """Why a document whose namespace other documents of the run also have is rejected."""
    return (
        f"{path}: namespace {namespace} is also the namespace of {', '.join(others)}; "
        "give one of them its own namespace (front matter iu_namespace)"
    )


def _drop_shared_namespaces(
    docs: Sequence[CutDocument], rejected: list[Rejected]
) -> list[CutDocument]:
    """Reject every document whose namespace another document of the run also has.

    Only those documents are refused (spec: the others proceed); all of them, not the
    later ones, so the outcome does not depend on the order of the paths.
    """
    # (the first path of each namespace, and a set only for those shared: a set a
    # document of the corpus was ~250 bytes, the peak of a re-sync's memory)
    first: dict[str, str] = {}
    shared: dict[str, set[str]] = {}
    for doc in docs:
        held = first.setdefault(doc.namespace, doc.path)
        if held != doc.path:
            shared.setdefault(doc.namespace, {held}).add(doc.path)
    del first
    kept: list[CutDocument] = []
    for doc in docs:
        holders = shared.get(doc.namespace)
        others = sorted(holders - {doc.path}) if holders else None
        if others:
            rejected.append(
                Rejected(doc.path, shared_namespace_message(doc.path, doc.namespace, others))
            )
        else:
            kept.append(doc)
    return kept
