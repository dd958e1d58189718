"""The plan made against the database: read the state (documents, units, codes held
once) and diff each document (:mod:`iucut.plan`). Planning only reads; documents whose
hash did not change are skipped without reading their units."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from iucut._version import __version__
from iucut.dangling import Dangling, Suspects
from iucut.db.connector import Connection
from iucut.distributed import on_cluster
from iucut.errors import ContractError, IucutError, NotFound
from iucut.parallel import gc_paused
from iucut.plan import (
    Digest,
    Unchanged,
    _document_plan,
    _drop_shared_namespaces,
    _under,
    check_no_code_reused,
    diff_document,
    full_digest,
    is_current,
    retire_document,
    shared_namespace_message,
    with_stored_profile,
)
from iucut.seen import Seen
from iucut.units import (
    Action,
    CutDocument,
    DocumentPlan,
    Fingerprint,
    OldText,
    Op,
    Paths,
    Plan,
    Rejected,
    UnchangedFolder,
    UnitState,
)

if TYPE_CHECKING:
    from iucut.planspool import SpooledPlan

Progress = Callable[[int, int, str], None]


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
    # (psycopg 3's rows are dicts already: no copy of a whole corpus's rows)
    return {r["doc_path"]: r if type(r) is dict else dict(r) for r in rows}


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
    cut, numbered = doc, dict[str, str]()
    if db_units:  # true duplicates numbered from the history, not by position
        from iucut.numbering import renumber  # (a plan's of a stored document only)

        doc, numbered = renumber(doc, db_units, lambda codes: read_holders(conn, list(codes)))
    fresh = [u.code for u in doc.units if u.code not in db_units]
    if fresh:
        check_codes_free(conn, doc)
    taken = read_holders(conn, fresh) if fresh else {}
    dp = diff_document(
        doc, db_doc, db_units, taken, lambda codes: read_bodies(conn, codes), cut=cut
    )
    check_no_code_reused(dp, taken)
    return replace(dp, numbered=tuple(sorted(numbered.items()))) if numbered else dp


def read_bodies(conn: Connection, codes: Collection[str]) -> dict[str, str]:
    """The stored body of each of ``codes`` (read only when a plan has plain headings
    gone and new that no other rule matched: a retitle is told by its body)."""
    rows = conn.query("unit_texts", codes=list(codes)).fetchall()
    return {r["code"]: r["body"] for r in rows}


def read_holders(conn: Connection, codes: Sequence[str]) -> dict[str, set[str]]:
    """Those of ``codes`` that a unit held once, each with the codes now of the units that
    held it (the lifecycle log remembers them)."""
    holders: dict[str, set[str]] = {}
    query = "code_holders_distributed" if on_cluster(conn) else "code_holders"
    for r in conn.query(query, codes=list(codes)).fetchall():
        holders.setdefault(r["code"], set()).add(r["holder"])
    return holders


#: The changes whose old text a reviewer needs: what a revision replaces, what a
#: retirement removes, what a restore brings back over.
_REVIEWED_OPS = frozenset({Op.REVISE, Op.RESTORE, Op.RETIRE})


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
        _document_plan(doc, found.current[doc.path], Action.SKIP, (), len(doc.units))
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


def make_plan_from_digests(
    conn: Connection,
    digests: Iterable[Digest | IucutError],
    recut: Callable[[Sequence[str]], Iterable[CutDocument | IucutError]],
    *,
    prune_scopes: Sequence[str] | None = None,
    on_progress: Progress | None = None,
) -> tuple[Plan, list[CutDocument | IucutError]]:
    """:func:`make_plan` from the digests of a first pass (no text held): the documents
    the database holds as they are are planned as unchanged from their digests alone;
    only the others are cut again (``recut``, by document path) and planned. The plan
    is the one :func:`make_plan` gives for the same files; with it, the documents cut
    again (for what reads their text: look-alikes, dangling references)."""
    plan_for_values(conn)
    fingerprint = read_fingerprint(conn)
    items = list(digests)
    found = triage_digests(conn, items, prune_scopes=prune_scopes)
    cut = list(recut([d.path for d in found.todo]))
    sub = make_plan(conn, cut, on_progress=on_progress)
    plans = list(sub.documents)
    for skipped in found.skipped:
        d = full_digest(skipped)
        assert d is not None, "a plan's first pass keeps digests (no Unchanged)"
        db_doc = found.current[d.path]
        plans.append(
            DocumentPlan(
                doc_path=d.path,
                namespace=d.namespace,
                doc_hash=d.doc_hash,
                expect_doc_hash=db_doc["doc_hash"],
                action=Action.SKIP,
                size_bytes=d.size,
                unit_count=d.units,
                changes=(),
                unchanged=d.units,
                cut_digest=db_doc.get("cut_digest"),
                expect_cut_digest=db_doc.get("cut_digest"),
                profile=db_doc.get("profile"),
                expect_profile=db_doc.get("profile"),
                references=(),
            )
        )
    order = {item.path: i for i, item in enumerate(items) if isinstance(item, Digest)}
    plans.sort(key=lambda p: order.get(p.doc_path, len(order)))  # source order
    for path in found.prune:
        current = read_documents(conn, [path]).get(path)
        if current is not None:
            dp = retire_document(current, read_units(conn, path))
            plans.append(with_old_texts(conn, dp))
    the_plan = Plan(
        fingerprint=fingerprint,
        documents=tuple(plans),
        tool_version=__version__,
        prune=prune_scopes is not None,
        rejected=found.rejected + sub.rejected,
    )
    return the_plan, cut


def spool_plan_from_digests(
    conn: Connection,
    digests: Iterable[Digest | IucutError],
    recut: Callable[[Sequence[str]], Iterable[CutDocument | IucutError]],
    *,
    prune_scopes: Sequence[str] | None = None,
    on_progress: Progress | None = None,
    ordered: bool = True,
) -> tuple[SpooledPlan, list[str], list[Dangling]]:
    """:func:`make_plan_from_digests` with the look-alike warnings (:func:`lookalikes`)
    and the dangling references (:func:`iucut.dangling.dangling`) of its plan, holding
    the documents in flight, not the plan of the corpus (issue #16 part 3): each
    document cut again is planned as it comes and its plan written to a
    :class:`~iucut.planspool.SpooledPlan` in source order (among those planned
    unchanged from their digests), read by the review as it goes. The same plan,
    warnings and references as those functions give; the caller closes the plan.
    ``ordered`` false: its documents are read back with their keys sorted (enough for
    its id, plan file and review; ``plan --json`` shows them in order)."""
    plan_for_values(conn)
    fingerprint = read_fingerprint(conn)
    items = list(digests)
    # (the rows of the documents up to date are not kept: a skipped document's plan is
    # made from its digest, which is the row's but for a profile it does not name)
    found = triage_digests(conn, items, prune_scopes=prune_scopes, keep_current=False)
    order = {item.path: i for i, item in enumerate(items) if isinstance(item, Digest)}
    from iucut.planspool import SpooledPlan  # (plan's alone: apply does not import it)

    spool = SpooledPlan(fingerprint, __version__, prune_scopes is not None, ordered)
    unreadable: list[Rejected] = []  # (cut again, refused: before the plans refused)
    refused: list[Rejected] = []
    try:
        with Suspects() as suspects:

            def add(dp: DocumentPlan, doc: CutDocument | None = None) -> None:
                spool.add(dp)
                suspects.add(dp, doc)

            skipped = iter(found.skipped)
            pending = next(skipped, None)

            def skip_until(place: int) -> None:
                nonlocal pending
                while pending is not None and order[pending.path] < place:
                    add(_skipped_plan(conn, pending))
                    pending = next(skipped, None)

            todo = len(found.todo)
            for n, doc in enumerate(recut([d.path for d in found.todo]), 1):
                if isinstance(doc, IucutError):
                    unreadable.append(Rejected(str(doc.context.get("path") or ""), doc.message))
                    continue
                skip_until(order.get(doc.path, len(order)))
                db_doc = found.current.get(doc.path)
                planned = with_stored_profile(doc, db_doc)
                try:
                    if is_current(db_doc, planned):
                        dp = _document_plan(planned, db_doc, Action.SKIP, (), len(planned.units))
                    else:
                        dp = with_old_texts(conn, plan_document(conn, planned, db_doc))
                    add(dp, doc)
                except ContractError as exc:  # this document only; the others proceed
                    refused.append(Rejected(doc.path, exc.message))
                if on_progress is not None:
                    on_progress(n, todo, doc.path)
            skip_until(len(order) + 1)
            for path in found.prune:
                current = read_documents(conn, [path]).get(path)
                if current is not None:
                    add(with_old_texts(conn, retire_document(current, read_units(conn, path))))
            spool.rejected = [*found.rejected, *unreadable, *refused]
            broken = suspects.dangling(conn)
        alike = _spooled_lookalikes(conn, spool, items)
    except BaseException:
        spool.close()
        raise
    return spool, alike, broken


def _skipped_plan(conn: Connection, d: Digest | Unchanged) -> DocumentPlan:
    """The plan of a document the database holds as it is, from its digest (the stored
    row read again only for a digest naming no profile: the stored one is shown)."""
    full = full_digest(d)
    assert full is not None, "a plan's first pass keeps digests (no Unchanged)"
    profile = full.profile
    if profile is None:
        profile = read_documents(conn, [full.path])[full.path].get("profile")
    return DocumentPlan(
        doc_path=full.path,
        namespace=full.namespace,
        doc_hash=full.doc_hash,
        expect_doc_hash=full.doc_hash,
        action=Action.SKIP,
        size_bytes=full.size,
        unit_count=full.units,
        changes=(),
        unchanged=full.units,
        cut_digest=full.cut_digest,
        expect_cut_digest=full.cut_digest,
        profile=profile,
        expect_profile=profile,
        references=(),
    )


def _spooled_lookalikes(
    conn: Connection, spool: SpooledPlan, items: Sequence[Digest | IucutError]
) -> list[str]:
    """:func:`lookalikes` of a spooled plan: its new documents a chunk at a time, then
    the documents of the run it does not plan (refused)."""
    rejected = {r.path for r in spool.rejected}
    others = [
        (d.path, d.doc_hash, d.namespace)
        for d in items
        if isinstance(d, Digest) and d.path in rejected
    ]
    # (no stored row is at a new document's path: those of the others are all left out)
    exclude = [path for path, _, _ in others]
    warnings: list[str] = []
    for chunk in spool.new_documents(LOOKALIKES_CHUNK):
        warnings += _alike_warnings(conn, chunk, [*(p for p, _, _ in chunk), *exclude])
    if others:
        warnings += _alike_warnings(conn, others, exclude)
    return warnings


#: New documents a look-alike query asks about at once.
LOOKALIKES_CHUNK = 1024


def lookalikes(
    conn: Connection, plan: Plan, documents: Iterable[CutDocument | Digest | IucutError] = ()
) -> list[str]:
    """Warnings for new documents that have the exact bytes, or the namespace, of a
    stored document at another path: the same file planned under another root (or moved)
    would otherwise be stored twice. Each names both documents and says what to do.
    ``documents``: the cut documents (those rejected, e.g. for a code clash, count too)."""
    stored = {d.doc_path for d in plan.documents if d.action != "create"}
    new: list[DocumentPlan | CutDocument | Digest] = [
        d for d in plan.documents if d.action == "create"
    ]
    planned = {_path(d) for d in new}
    new += [
        d
        for d in documents
        if isinstance(d, CutDocument | Digest) and d.path not in stored and d.path not in planned
    ]
    compact = [(_path(d), d.doc_hash, d.namespace) for d in new]
    return _alike_warnings(conn, compact, [p for p, _, _ in compact])


def _alike_warnings(
    conn: Connection, new: Sequence[tuple[str, str, str]], paths: Sequence[str]
) -> list[str]:
    """The look-alike warnings of ``new`` documents (path, hash, namespace), the stored
    documents at ``paths`` left out."""
    if not new:
        return []
    rows = conn.query(
        "documents_alike",
        hashes=[h for _, h, _ in new],
        namespaces=[ns for _, _, ns in new],
        paths=list(paths),
    ).fetchall()
    warnings = []
    for path, doc_hash, namespace in new:
        for row in rows:
            same = [
                what
                for what, equal in (
                    ("the exact bytes", row["doc_hash"] == doc_hash),
                    (f"the namespace {namespace}", row["namespace"] == namespace),
                )
                if equal
            ]
            if not same:
                continue
            found = (
                f"{path}: a new document with {' and '.join(same)} of the stored "
                f"document {row['doc_path']} ({row['state']})."
            )
            if row["namespace"] == namespace:
                # its codes stay with the stored document, retired or not: a retire
                # would free none of them, so it is no way out
                warnings.append(
                    f"{found} Its codes stay with that document, even retired (a code is "
                    f"never given to another unit): to keep them, keep it at "
                    f"{row['doc_path']} (or plan under the project root that gives it that "
                    "path: iucut init in the project's top folder, or --root); if it is a "
                    "copy on purpose, give it its own namespace (front matter iu_namespace)."
                )
                continue
            warnings.append(
                f"{found} If it is the same document, "
                "plan it under the same project root (iucut init in the project's top "
                "folder, or --root) so that its path is the same; if it moved, "
                f"`iucut retire {row['doc_path']}` retires the old one; if it is a copy on "
                "purpose, give it its own namespace (front matter iu_namespace)."
            )
    return warnings


def _path(doc: DocumentPlan | CutDocument | Digest) -> str:
    return doc.doc_path if isinstance(doc, DocumentPlan) else doc.path


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
            plans.append(replace(retire_document(current, {}), action=Action.SKIP))
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


@dataclass(frozen=True)
class DigestTriage:
    """:class:`Triage` of digests. The triage that reads them once as they come (apply's,
    with what it last saw: :func:`_triage_stream`) keeps only the paths of those up to
    date (``skipped_paths``) and of those to do (``todo_paths``), not the digests
    (``skipped`` and ``todo`` are then empty): a first apply's are the corpus."""

    todo: tuple[Digest | Unchanged, ...]
    skipped: tuple[Digest | Unchanged, ...]
    prune: tuple[str, ...]
    rejected: tuple[Rejected, ...]
    current: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    skipped_paths: Paths | None = None
    todo_paths: Paths | None = None

    def paths_skipped(self) -> Paths:
        """The paths of the documents up to date, in order."""
        if self.skipped_paths is not None:
            return self.skipped_paths
        return Paths(d.path for d in self.skipped)

    def paths_todo(self) -> Paths:
        """The paths of the documents to do, in order."""
        if self.todo_paths is not None:
            return self.todo_paths
        return Paths(d.path for d in self.todo)


def triage(
    conn: Connection,
    documents: Iterable[CutDocument | IucutError],
    *,
    prune_scopes: Sequence[str] | None = None,
) -> Triage:
    return _triage(conn, documents, prune_scopes)  # type: ignore[return-value]


def triage_digests(
    conn: Connection,
    documents: Iterable[Digest | Unchanged | UnchangedFolder | IucutError],
    *,
    prune_scopes: Sequence[str] | None = None,
    keep_current: bool = True,
    seen: Seen | None = None,
) -> DigestTriage:
    """:func:`triage` of the digests of a first pass (no text held): a document whose
    profile was only detected and differs from the stored one is to do (apply cuts it
    again with the stored profile under its lock, and skips it if nothing changed).

    ``keep_current=False`` (apply: it reads each document again under its lock): the
    stored rows are compared as they come and only those of the documents to do are
    kept in ``current`` (apply tells a new document by its absence there), so an
    unchanged re-sync holds no row per document of the corpus. ``seen`` (with
    ``keep_current=False``): what this client last saw of the stored rows
    (:mod:`iucut.seen`): when no one wrote since, only the rows of the files changed
    since are read."""
    with gc_paused():  # (a few objects a document, in no cycle)
        return _triage(conn, documents, prune_scopes, keep_current, seen)  # type: ignore[return-value,arg-type]


def _triage(
    conn: Connection,
    documents: Iterable[CutDocument | Digest | Unchanged | IucutError],
    prune_scopes: Sequence[str] | None,
    keep_current: bool = True,
    seen: Seen | None = None,
) -> Triage | DigestTriage:
    """Split documents into those to write and those already up to date (read-only).

    Apply uses this instead of a full plan: each document is planned again under its
    lock anyway, so the first pass only needs the document hashes.
    """
    if not keep_current and seen is not None:
        return _triage_stream(conn, documents, prune_scopes, seen)  # type: ignore[arg-type]
    docs: list[Any] = []
    rejected: list[Rejected] = []
    for item in documents:
        if isinstance(item, IucutError):
            rejected.append(Rejected(str(item.context.get("path") or ""), item.message))
        else:
            docs.append(item)
    docs = _drop_shared_namespaces(docs, rejected)
    todo: list[Any] = []
    skipped: list[Any] = []
    db_docs: dict[str, dict[str, Any]] = {}
    if not keep_current and all(isinstance(d, Digest | Unchanged) for d in docs):
        docs = cast(list[Digest | Unchanged], docs)
        # each stored row compared as it is read: the rows of the documents already up
        # to date are dropped, those of the stored documents to do kept
        by_path: dict[str, Any] = {d.path: d for d in docs}
        current_paths: set[str] = set()
        for row in conn.stream("documents_by_path", paths=list(by_path)):
            path = row["doc_path"]
            if is_current(row, by_path[path]):
                current_paths.add(path)
            else:
                db_docs[path] = row if type(row) is dict else dict(row)
        del by_path
        for doc in docs:
            (skipped if doc.path in current_paths else todo).append(doc)
    else:
        db_docs = read_documents(conn, [d.path for d in docs])
        docs = [
            doc
            if isinstance(doc, Digest | Unchanged)
            else with_stored_profile(doc, db_docs.get(doc.path))
            for doc in docs
        ]
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
    kind = DigestTriage if any(isinstance(d, Digest | Unchanged) for d in docs) else Triage
    return kind(tuple(todo), tuple(skipped), tuple(prune), tuple(rejected), db_docs)


def _triage_stream(
    conn: Connection,
    documents: Iterable[Digest | Unchanged | UnchangedFolder | IucutError],
    prune_scopes: Sequence[str] | None,
    seen: Seen,
) -> DigestTriage:
    """:func:`_triage` of digests with what this client last saw of the database
    (:meth:`iucut.seen.Seen.triage`), reading ``documents`` once as they come: the
    client holds the paths of the documents (compactly), not their digests; those to
    do (a first apply's: every one) are kept with their namespace in a :class:`Ledger`,
    on disk.

    The documents sharing a namespace are rejected, all of them, as :func:`_triage`
    rejects them, from the documents to do alone: two documents up to date never share
    one (each is stored active, and the code of its document unit is its namespace:
    codes are unique), so a namespace is shared only by documents to do, or by one to
    do and the stored document holding it when that one is a file of the run (found
    among the paths skipped). For ``--prune``, the paths of the run are kept in the
    ledger too."""
    rejected: list[Rejected] = []
    skipped = Paths()
    todo = Paths()
    #: the place in the run of each document the triage has (until it is found up to
    #: date or to do), and of those rejected before it
    order: dict[str, int] = {}
    others: list[int] = []
    with Ledger() as ledger:
        prune = prune_scopes is not None

        def docs() -> Iterator[Digest | Unchanged | UnchangedFolder]:
            n = 0
            for item in documents:
                if isinstance(item, UnchangedFolder):  # (a folder's files at once: skipped)
                    n += item.size
                    if prune:
                        for path in item.paths():
                            ledger.add(path)
                    yield item
                    continue
                if isinstance(item, IucutError):
                    path = str(item.context.get("path") or "")
                    rejected.append(Rejected(path, item.message))
                    others.append(n)
                else:
                    path = item.path
                    order[path] = n
                    yield item
                if prune:
                    ledger.add(path)
                n += 1

        def skip(d: Digest | Unchanged | UnchangedFolder) -> None:
            if isinstance(d, UnchangedFolder):
                skipped.extend(d.paths())
                return
            skipped.append(d.path)
            order.pop(d.path, None)

        def keep(d: Digest | Unchanged) -> None:
            todo.append(d.path)
            ledger.to_do(order.pop(d.path, -1), d.path, d.namespace)

        _, db_docs = seen.triage(conn, docs(), skip, keep)
        order.clear()  # (every document found up to date or to do)
        shared = _shared_namespaces(conn, ledger, skipped, others)
        if shared:  # (rare: rejected, all of them, wherever they were found)
            rejected += [Rejected(path, message) for path, message in shared.items()]
            todo = Paths(p for p in todo if p not in shared)
            skipped = Paths(p for p in skipped if p not in shared)
            for path in shared:
                db_docs.pop(path, None)
        retire: list[str] = []
        if prune_scopes is not None:
            for row in conn.stream("documents_active"):
                path = row["doc_path"]
                if any(_under(path, s) for s in prune_scopes) and path not in ledger:
                    retire.append(path)
    return DigestTriage((), (), tuple(retire), tuple(rejected), db_docs, skipped, todo)


def _shared_namespaces(
    conn: Connection, ledger: Ledger, skipped: Paths, others: Sequence[int]
) -> dict[str, str]:
    """The paths of the run whose namespace another path of the run also has, in run
    order, each with the message that rejects it (:func:`_drop_shared_namespaces`'s):
    among the documents to do (the ledger's), and each with the stored document holding
    its namespace when that one's path was skipped (up to date). ``others``: the places
    in the run of the documents rejected before the triage (the places of the paths
    skipped follow from theirs and those of the documents to do)."""
    by_namespace: dict[str, list[str]] = {ns: [] for ns in ledger.shared()}
    held: dict[str, str] = {}  # (a path skipped, maybe: the namespace it holds)
    for namespaces in ledger.namespaces():
        for row in conn.stream("documents_holding", namespaces=namespaces):
            if not ledger.holds(row["namespace"], row["doc_path"]):
                held[row["doc_path"]] = row["namespace"]
    if not by_namespace and not held:
        return {}
    place: dict[str, int] = {}
    for namespace in {*by_namespace, *held.values()}:
        paths = by_namespace.setdefault(namespace, [])
        for n, path in ledger.holders(namespace):
            paths.append(path)
            place[path] = n
    if held:  # (one pass over the paths skipped: their places follow from the others')
        not_skipped = heapq.merge(sorted(others), ledger.places())
        at, n = next(not_skipped, None), 0
        for path in skipped:
            while at == n:
                at, n = next(not_skipped, None), n + 1
            if path in held:
                by_namespace[held[path]].append(path)
                place[path] = n
            n += 1
    found: list[tuple[int, str, str]] = []
    for namespace, paths in by_namespace.items():
        holders = sorted(set(paths))
        if len(holders) > 1:
            for path in paths:
                rest = [p for p in holders if p != path]
                found.append((place[path], path, shared_namespace_message(path, namespace, rest)))
    return {path: message for _, path, message in sorted(found)}


class Ledger:
    """The paths of the documents of one run, in a private temporary SQLite database
    (its pages beyond a small cache go to a file, deleted when it is closed): what
    ``--prune`` checks each stored document against, without holding the corpus; and
    the documents to do, each with its place in the run and its namespace: what the
    namespaces shared are found from (a first apply's are the corpus). Its statements
    are in ``iucut/sql/sqlite.sql``."""

    CHUNK = 1024

    def __init__(self) -> None:
        import sqlite3

        from iucut.digests import _sql

        self.sql = _sql()
        self.conn = sqlite3.connect("", isolation_level=None)
        self.conn.execute(self.sql["ledger_cache"])  # (a small cache: the rest on disk)
        self.conn.execute(self.sql["ledger_schema"])
        self.conn.execute(self.sql["ledger_todo_schema"])
        self.pending: list[tuple[str]] = []
        self.indexed = False
        self.todo: list[tuple[int, str, str]] = []
        self.todo_count = 0
        self.todo_indexed = False

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def add(self, path: str) -> None:
        self.pending.append((path,))
        if len(self.pending) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self._insert("ledger_add", self.pending)
            self.pending = []

    def _insert(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        """``rows`` written by the named statement, in one transaction."""
        self.conn.execute("BEGIN")
        self.conn.executemany(self.sql[statement], rows)
        self.conn.execute("COMMIT")

    def __contains__(self, path: object) -> bool:
        self._flush()
        if not self.indexed:
            self.conn.execute(self.sql["ledger_index"])
            self.indexed = True
        return self.conn.execute(self.sql["ledger_has"], (path,)).fetchone() is not None

    def to_do(self, place: int, path: str, namespace: str) -> None:
        """A document to do, at ``place`` in the run (-1: its path came before)."""
        self.todo.append((place, path, namespace))
        self.todo_count += 1
        if len(self.todo) >= self.CHUNK:
            self._flush_todo()

    def _flush_todo(self) -> None:
        if self.todo:
            self._insert("ledger_todo_add", self.todo)
            self.todo = []

    def _todo_ready(self) -> None:
        self._flush_todo()
        if not self.todo_indexed:
            self.conn.execute(self.sql["ledger_todo_index"])
            self.todo_indexed = True

    def shared(self) -> list[str]:
        """The namespaces of more than one path to do (rare)."""
        if self.todo_count < 2:
            return []
        self._todo_ready()
        return [row[0] for row in self.conn.execute(self.sql["ledger_todo_shared"])]

    def namespaces(self) -> Iterator[list[str]]:
        """The namespaces of the documents to do, a chunk at a time."""
        if not self.todo_count:
            return
        self._todo_ready()
        sql = self.sql["ledger_todo_namespaces_first"]
        args: tuple[Any, ...] = (self.CHUNK,)
        while True:
            found = [row[0] for row in self.conn.execute(sql, args)]
            if found:
                yield found
            if len(found) < self.CHUNK:
                return
            sql, args = self.sql["ledger_todo_namespaces_after"], (found[-1], self.CHUNK)

    def holds(self, namespace: str, path: str) -> bool:
        """Whether ``path`` is a document to do with ``namespace``."""
        self._todo_ready()
        row = self.conn.execute(self.sql["ledger_todo_holds"], (namespace, path)).fetchone()
        return row is not None

    def holders(self, namespace: str) -> list[tuple[int, str]]:
        """The places and paths of the documents to do with ``namespace``, in run order."""
        if not self.todo_count:
            return []
        self._todo_ready()
        rows = self.conn.execute(self.sql["ledger_todo_holders"], (namespace,))
        return [(int(n), str(path)) for n, path in rows]

    def places(self) -> Iterator[int]:
        """The places in the run of the documents to do, in order."""
        if not self.todo_count:
            return
        self._todo_ready()
        yield from (row[0] for row in self.conn.execute(self.sql["ledger_todo_places"]))
