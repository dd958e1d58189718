"""Apply: interpret a plan through the SQL write functions, one transaction per document.

The kill-switch is checked first, before any connection is opened. Every row passes the
row contract before anything is written. Each document is written by one call of
``fn_iu_apply_document`` inside its own transaction holding the document's advisory
lock, so a crash leaves every document wholly old or wholly new, and two cutters on the
same documents serialize instead of colliding. :func:`write_document` is the write path
that ``prove`` drives too, inside a transaction that can never commit.
"""

from __future__ import annotations

import contextlib
import functools
import json
import queue
import threading
import time
from array import array
from collections import deque
from collections.abc import (
    Callable,
    Collection,
    Container,
    Generator,
    Iterable,
    Iterator,
    Sequence,
)
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, overload

from iucut._version import __version__
from iucut.config import Settings
from iucut.db.connector import Connection, ConnectionProvider, ParameterEncoder
from iucut.distributed import on_cluster
from iucut.errors import (
    ConnectionFailed,
    ContractError,
    ExecutionDisabled,
    Frozen,
    Interrupted,
    IucutError,
    StalePlan,
)
from iucut.parallel import resolve_jobs
from iucut.plan import Digest, Unchanged, diff_document, retire_document, with_stored_profile
from iucut.plan_state import (
    plan_document,
    plan_for_values,
    read_documents,
    read_fingerprint,
    read_units,
    triage,
    triage_digests,
)
from iucut.seen import open_seen
from iucut.units import (
    EVENTS,
    CutDocument,
    DocumentPlan,
    Paths,
    Plan,
    Rejected,
    UnchangedFolder,
)
from iucut.validate import check_changed_rows

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)  # (one a document of the corpus: no __dict__ each)
class DocumentResult:
    doc_path: str
    #: applied | skipped | failed | rejected (the document is at fault) | not_written (a
    #: reviewed plan stopped before it)
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None


class Outcomes(Sequence[DocumentResult]):
    """Documents' results, in order, kept compactly (issue #16 part 3: a first apply
    writes every document of the corpus): a path ~1 byte a character
    (:class:`~iucut.units.Paths`), a status a byte, the counts as numbers in one array
    (their names once for all the results that have the same), an error only for those
    that have one. Where a :class:`DocumentResult` with its dict of counts was ~1 KB a
    document, each is ~100 bytes, made again as it is read."""

    __slots__ = (
        "_at",
        "_errors",
        "_last",
        "_names",
        "_paths",
        "_shape",
        "_shapes",
        "_status",
        "_statuses",
        "_values",
    )

    def __init__(self, results: Iterable[DocumentResult] = ()) -> None:
        self._paths = Paths()
        self._status = bytearray()
        self._statuses: list[str] = []  # (by their byte)
        self._shape = array("I")  # the names of each one's counts (by their number)
        self._shapes: dict[tuple[str, ...], int] = {}
        self._names: list[tuple[str, ...]] = []
        self._values = array("q")  # every one's counts, one after the other
        self._at = array("q")  # where each one's counts start in ``_values``
        self._errors: dict[int, str] = {}
        self._last: DocumentResult | None = None
        for result in results:
            self.append(result)

    def append(self, result: DocumentResult) -> None:
        values = array("q", result.counts.values())  # (not ints: refused, nothing kept)
        names = tuple(result.counts)
        shape = self._shapes.get(names)
        if shape is None:
            shape = self._shapes[names] = len(self._names)
            self._names.append(names)
        if result.status not in self._statuses:
            if len(self._statuses) == 256:
                raise ValueError(f"too many statuses to keep: {result.status!r}")
            self._statuses.append(result.status)
        self._at.append(len(self._values))
        self._values.extend(values)
        self._paths.append(result.doc_path)
        self._status.append(self._statuses.index(result.status))
        self._shape.append(shape)
        if result.error is not None:
            self._errors[len(self._status) - 1] = result.error
        self._last = result

    def __len__(self) -> int:
        return len(self._status)

    def _make(self, i: int, path: str) -> DocumentResult:
        names = self._names[self._shape[i]]
        start = self._at[i]
        counts = dict(zip(names, self._values[start : start + len(names)], strict=True))
        return DocumentResult(path, self._statuses[self._status[i]], counts, self._errors.get(i))

    @overload
    def __getitem__(self, index: int) -> DocumentResult: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[DocumentResult, ...]: ...
    def __getitem__(self, index: int | slice) -> DocumentResult | tuple[DocumentResult, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        i = index + len(self) if index < 0 else index
        if not 0 <= i < len(self):
            raise IndexError("result index out of range")
        if i == len(self) - 1 and self._last is not None:
            return self._last
        return self._make(i, self._paths[i])

    def __iter__(self) -> Iterator[DocumentResult]:
        for i, path in enumerate(self._paths):
            yield self._make(i, path)

    def of(self, *statuses: str) -> Iterator[DocumentResult]:
        """Those whose status is one of ``statuses``, in order (the others not made)."""
        codes = {n for n, s in enumerate(self._statuses) if s in statuses}
        for i, path in enumerate(self._paths):
            if self._status[i] in codes:
                yield self._make(i, path)

    def tally(self, status: str) -> int:
        """How many have ``status``."""
        if status not in self._statuses:
            return 0
        return self._status.count(self._statuses.index(status))

    def totals(self) -> dict[str, int]:
        """Every count summed, by name (in the order first found)."""
        total: dict[str, int] = {}
        for i, shape in enumerate(self._shape):
            names, start = self._names[shape], self._at[i]
            for name, n in zip(names, self._values[start : start + len(names)], strict=True):
                total[name] = total.get(name, 0) + n
        return total

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Outcomes | tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Outcomes({len(self)} documents)"


@dataclass(frozen=True)
class ApplyResult:
    """What an apply did: its run, per-document outcomes, and the event counts.

    ``outcomes`` are the documents it wrote, failed, rejected under their lock or did
    not write (a reviewed plan stopped), in source order (kept compactly, as
    :class:`Outcomes`: a first apply writes the corpus; given as any sequence of
    :class:`DocumentResult`); ``skipped`` the paths of those found already up to date
    (kept compactly: a re-sync of a corpus skips most of them); :attr:`documents`
    lists both, the skipped first, each as a :class:`DocumentResult`."""

    run_id: str | None
    outcomes: Outcomes
    rejected: tuple[Rejected, ...]
    seconds: float
    #: the error that stopped a reviewed plan after some of its documents were written
    stopped: IucutError | None = None
    skipped: Paths = field(default_factory=Paths)

    def __init__(
        self,
        run_id: str | None,
        outcomes: Iterable[DocumentResult],
        rejected: tuple[Rejected, ...],
        seconds: float,
        stopped: IucutError | None = None,
        skipped: Paths | None = None,
    ) -> None:
        kept = outcomes if isinstance(outcomes, Outcomes) else Outcomes(outcomes)
        for name, value in (
            ("run_id", run_id),
            ("outcomes", kept),
            ("rejected", rejected),
            ("seconds", seconds),
            ("stopped", stopped),
            ("skipped", Paths() if skipped is None else skipped),
        ):
            object.__setattr__(self, name, value)

    @property
    def documents(self) -> tuple[DocumentResult, ...]:
        """Every document's result: those skipped (up to date), then the others."""
        return (*(DocumentResult(p, "skipped") for p in self.skipped), *self.outcomes)

    @property
    def unchanged(self) -> int:
        """The documents skipped, already up to date (under their lock or before)."""
        return len(self.skipped) + self.outcomes.tally("skipped")

    @property
    def counts(self) -> dict[str, int]:
        total = dict.fromkeys((*EVENTS, "placed"), 0)
        for key, n in self.outcomes.totals().items():  # (a skipped document counts nothing)
            total[key] = total.get(key, 0) + n
        return total

    @property
    def failed(self) -> tuple[DocumentResult, ...]:
        return tuple(self.outcomes.of("failed"))

    @property
    def written(self) -> tuple[DocumentResult, ...]:
        return tuple(self.outcomes.of("applied"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "counts": self.counts,
            "documents": [asdict(d) for d in self.documents],
            "rejected": [{"path": r.path, "message": r.message} for r in self.rejected],
            "seconds": round(self.seconds, 3),
            "written": [d.doc_path for d in self.written],
            "stopped": None if self.stopped is None else self.stopped.to_dict(),
        }


def ensure_enabled(settings: Settings) -> None:
    """The kill-switch (the seed's ``execution_enabled()``): refuse unless explicitly on."""
    if settings.execution_enabled:
        return
    if settings.execution is None:
        why = "the kill-switch is off (IUCUT_EXECUTION is not set)"
    else:
        why = f"the kill-switch is off ({settings.execution_source} says {settings.execution!r})"
    raise ExecutionDisabled(
        f"live execution is disabled: {why}; nothing was written",
        hint="set IUCUT_EXECUTION=enabled (exactly that word), or `execution: enabled` in "
        "iucut.yaml; `iucut prove` tests the write path without writing",
    )


# --------------------------------------------------------------------------------------
# The write path for one document (shared with prove)
# --------------------------------------------------------------------------------------


def document_payload(doc: DocumentPlan) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The arguments of ``fn_iu_apply_document`` for one document plan."""
    document = {
        "doc_path": doc.doc_path,
        "namespace": doc.namespace,
        "doc_hash": doc.doc_hash,
        "expect_doc_hash": doc.expect_doc_hash,
        "cut_digest": doc.cut_digest,
        "state": "retired" if doc.action == "retire" else "active",
        "unit_count": doc.unit_count,
        "size_bytes": doc.size_bytes,
    }
    if doc.profile_changes:  # stored in the same row write, checked against the plan's
        document["profile"] = doc.profile
        document["expect_profile"] = doc.expect_profile
    if doc.action != "retire" and doc.effective_date is not None:
        # stored with the document version the call records (iucut.asof; 0016)
        document["effective_date"] = doc.effective_date
        document["effective_key"] = doc.effective_key or ""
    ops: list[dict[str, Any]] = []
    for change in doc.changes:
        op: dict[str, Any] = {
            "op": change.db_op,
            "code": change.code,
            "expect_version": change.expect_version,
        }
        if change.unit is not None:
            u = change.unit
            op.update(
                namespace=u.namespace,
                parent_code=u.parent_code,
                kind=u.kind,
                label=u.label,
                ordinal=u.ordinal,
                depth=u.depth,
                position=u.position,
                title=u.title,
                body=u.body,
                raw_heading=u.raw_heading,
                content_hash=u.content_hash,
                line_start=u.line_start,
                line_end=u.line_end,
                byte_start=u.byte_start,
                byte_end=u.byte_end,
            )
        ops.append(op)
    return document, ops


#: The op fields, in the order of ``fn_iu_apply_document``'s arrays (migration 0013).
OP_COLUMNS = (
    "op",
    "code",
    "expect_version",
    "namespace",
    "parent_code",
    "kind",
    "label",
    "ordinal",
    "depth",
    "position",
    "title",
    "body",
    "raw_heading",
    "content_hash",
    "line_start",
    "line_end",
    "byte_start",
    "byte_end",
)


def op_columns(ops: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """The ops as ``fn_iu_apply_document`` takes them: one list a field, absent = None."""
    return {name: [op.get(name) for op in ops] for name in OP_COLUMNS}


def write_arguments(doc: DocumentPlan) -> dict[str, Any]:
    """The arguments of ``fn_iu_apply_document`` for a document plan, but the run, as the
    call sends them. The rows pass the row contract first (ContractError)."""
    check_changed_rows(c.unit for c in doc.changes if c.unit is not None)
    document, ops = document_payload(doc)
    # the profile and the references go in the same call (0013); the function names the
    # search configuration of the versions it writes itself (0016)
    refs = None
    if doc.action != "retire" and (doc.references or doc.expect_doc_hash is not None):
        refs = json.dumps(list(doc.references), ensure_ascii=False)
    return {
        "document": json.dumps(document, ensure_ascii=False),
        "refs": refs,
        **op_columns(ops),
    }


def write_document(conn: Connection, run_id: str, doc: DocumentPlan) -> dict[str, int]:
    """Write one document plan through ``fn_iu_apply_document``; returns what it did.

    The caller owns the transaction. The rows pass the row contract first.
    """
    arguments = write_arguments(doc)
    moves = [
        {"from": c.renamed_from, "to": c.code, "expect_version": c.expect_version}
        for c in doc.changes
        if c.renamed_from is not None
    ]
    moved = 0
    if moves:  # new codes first: the document's changes name the units by them
        found = conn.query(
            "units_recode",
            run_id=run_id,
            doc_path=doc.doc_path,
            moves=json.dumps(moves, ensure_ascii=False),
        ).fetchone()
        assert found is not None
        moved = int(found["moved"])
    result = _call_apply(conn, run_id, arguments)
    result["moved"] = result.get("moved", 0) + moved
    return result


def _call_apply(conn: Connection, run_id: str, arguments: dict[str, Any]) -> dict[str, int]:
    row = conn.query("apply_document", run_id=run_id, **arguments).fetchone()
    assert row is not None
    counts = row["counts"]
    return dict(counts if isinstance(counts, dict) else json.loads(counts))


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    """A new document's write, planned and encoded where it was cut (a worker process
    under ``--jobs``; else the one writer's read-ahead thread, :func:`_ahead`; a new
    document's plan reads nothing: every unit is created): the arguments of
    ``fn_iu_apply_document`` but the run. The writer sends them as they are, by one
    statement, when the triage found no document at its path; if one was written there
    since (IUS01), or a code is refused, the document is cut again (or taken as it was,
    when at hand) and planned as any other (:func:`_apply_one`)."""

    doc_path: str
    arguments: dict[str, Any]


def prepare_new(
    item: CutDocument | IucutError,
    *,
    new: Container[str],
    encode: ParameterEncoder | None = None,
) -> CutDocument | IucutError | PreparedWrite:
    """``item`` as the writer needs it: for a document of ``new`` (no document at its path
    at the triage), its write planned (what :func:`_plan_and_write` would send for it
    unread), its op arrays encoded by ``encode`` (the writers' connections'
    :meth:`~iucut.db.connector.BaseConnection.parameter_encoder`) when given; anything
    else as it is. Runs where the document is cut."""
    if isinstance(item, IucutError) or item.path not in new:
        return item
    try:
        # = plan_document(conn, with_stored_profile(doc, None), None, check_new=False)
        dp = diff_document(item, None, {})
        if not dp.has_changes:
            return item
        arguments = write_arguments(dp)
        if encode is not None:
            encoded = encode([arguments[k] for k in OP_COLUMNS])
            arguments.update(zip(OP_COLUMNS, encoded, strict=True))
        return PreparedWrite(item.path, arguments)
    except IucutError:  # (the row contract): the writer plans it and says what is wrong
        return item


def begin_run(
    conn: Connection, mode: str, *, plan_hash: str | None = None, meta: dict[str, Any] | None = None
) -> str:
    row = conn.query(
        "run_begin",
        mode=mode,
        tool_version=__version__,
        plan_hash=plan_hash,
        meta=json.dumps(meta or {}),
    ).fetchone()
    assert row is not None
    return str(row["run_id"])


def finish_run(conn: Connection, run_id: str, status: str, counts: dict[str, int]) -> None:
    conn.query("run_finish", run_id=run_id, status=status, counts=json.dumps(counts))


# --------------------------------------------------------------------------------------
# apply PATH...: plan each document under its lock, then write it
# --------------------------------------------------------------------------------------


def apply_documents(
    settings: Settings,
    provider: ConnectionProvider,
    documents: Iterable[CutDocument | IucutError],
    *,
    prune_scopes: Sequence[str] | None = None,
    all_or_nothing: bool = False,
    on_progress: Progress | None = None,
    jobs: int | None = 1,
) -> ApplyResult:
    """Apply cut documents: each is planned and written under its lock, in one transaction.

    Planning under the lock makes concurrent cutters converge instead of colliding: the
    second one finds the document already at the new state and skips it. ``jobs``:
    documents written at once, each writer on its own connection (None or 0: one per CPU
    available; 1 with ``all_or_nothing``, which stops at the first failure). The results
    are in the order of ``documents`` whatever the number of writers.
    """
    ensure_enabled(settings)  # before any connection: the provider must see 0 calls
    started = time.monotonic()
    items = list(documents)
    conn = provider.connect(user=settings.apply_role, autocommit=True)
    try:
        plan_for_values(conn)
        # A read-only first pass over the document hashes: what is already up to date
        # needs no run at all. Each document is planned again under its lock below.
        found = triage(conn, items, prune_scopes=prune_scopes)
        todo: list[tuple[str, CutDocument | IucutError | None]] = [(d.path, d) for d in found.todo]
        todo += [(path, None) for path in found.prune]
        skipped = [d.path for d in found.skipped]
        return _write_all(
            settings,
            provider,
            conn,
            (found.rejected, skipped),
            iter(todo),
            len(todo),
            started,
            all_or_nothing=all_or_nothing,
            on_progress=on_progress,
            jobs=jobs,
            new=frozenset(d.path for d in found.todo if d.path not in found.current),
        )
    finally:
        conn.close()


class Recut(Protocol):
    """Cuts the documents of these paths again, in this order (each a document or its
    error); with ``then``, each goes through ``then`` where it is cut (a worker process
    under ``--jobs``) and what it returns comes instead."""

    def __call__(
        self,
        doc_paths: Iterable[str],
        /,
        then: Callable[[CutDocument | IucutError], Any] | None = None,
    ) -> Iterable[Any]: ...


class _New:
    """The paths the triage found no document at: of the documents to do, those whose
    stored row it did not keep (their rows are kept, not the paths: a first apply's are
    the corpus); not those ``--prune`` retires (stored)."""

    __slots__ = ("prune", "stored")

    def __init__(self, stored: Container[str], prune: Collection[str]) -> None:
        self.stored = stored
        self.prune = frozenset(prune)

    def __contains__(self, path: object) -> bool:
        return path not in self.stored and path not in self.prune


#: What a writer is given for a document: the document (or its error), its write planned
#: where it was cut (a new document), or None (a document retired by --prune).
ToWrite = CutDocument | IucutError | PreparedWrite | None


def apply_digests(
    settings: Settings,
    provider: ConnectionProvider,
    digests: Iterable[Digest | Unchanged | UnchangedFolder | IucutError],
    recut: Recut,
    *,
    prune_scopes: Sequence[str] | None = None,
    all_or_nothing: bool = False,
    on_progress: Progress | None = None,
    jobs: int | None = 1,
    seen_cache: Path | None = None,
) -> ApplyResult:
    """:func:`apply_documents` from the digests of a first pass over the corpus (see
    :class:`~iucut.plan.Digest`): the documents already up to date are skipped from
    their digests alone, and only the others are cut again, by ``recut``, as they are
    written. The client holds the digests and a few documents, not the corpus.
    ``seen_cache``: the file of what this client last saw of the stored documents
    (:mod:`iucut.seen`; None: every stored row of the corpus is read)."""
    ensure_enabled(settings)  # before any connection: the provider must see 0 calls
    started = time.monotonic()
    conn = provider.connect(user=settings.apply_role, autocommit=True)
    try:
        plan_for_values(conn)
        seen = open_seen(seen_cache, conn)
        found = triage_digests(
            conn, digests, prune_scopes=prune_scopes, keep_current=False, seen=seen
        )
        paths = found.paths_todo()
        new = _New(found.current, found.prune)
        # a new document is planned and encoded where it is cut (a worker process under
        # --jobs; with one job, the one writer's read-ahead thread, see _ahead): the
        # writers only send it (on the cluster every document is planned under its lock)
        then = (
            None
            if on_cluster(conn)
            else functools.partial(prepare_new, new=new, encode=conn.parameter_encoder())
        )

        def todo() -> Iterator[tuple[str, ToWrite]]:
            for path, item in zip(paths, recut(paths, then=then), strict=True):
                yield path, item
            for path in found.prune:
                yield path, None

        def again(path: str) -> CutDocument | IucutError:
            items = iter(recut([path]))
            try:
                return next(items)  # type: ignore[no-any-return]
            finally:
                close = getattr(items, "close", None)
                if close is not None:
                    close()

        result = _write_all(
            settings,
            provider,
            conn,
            (found.rejected, found.paths_skipped()),
            todo(),
            len(paths) + len(found.prune),
            started,
            all_or_nothing=all_or_nothing,
            on_progress=on_progress,
            jobs=jobs,
            new=new,
            again=again,
        )
        if seen is not None:  # (not after an error: the cache is only ever a shortcut)
            # (after a prune, the rows retired are not among those read again: the token
            # does not add up, and the cache stays at the triage's)
            with contextlib.suppress(IucutError):
                seen.finish(conn, wrote=bool(paths or found.prune))
        return result
    finally:
        conn.close()


def _write_all(
    settings: Settings,
    provider: ConnectionProvider,
    conn: Connection,
    triaged: tuple[tuple[Rejected, ...], Iterable[str]],
    todo: Iterator[tuple[str, ToWrite]],
    count: int,
    started: float,
    *,
    all_or_nothing: bool,
    on_progress: Progress | None,
    jobs: int | None,
    new: Container[str] = frozenset(),
    again: Callable[[str], CutDocument | IucutError] | None = None,
) -> ApplyResult:
    """Write the ``count`` documents of ``todo`` in one run (none: no run), each in its
    own transaction, on ``jobs`` connections; ``triaged``: the documents rejected and
    the paths skipped by the triage; ``new``: the paths it found no document at;
    ``again``: cuts the document of a path again (for a :class:`PreparedWrite` that
    must be planned under its lock after all)."""
    rejected_before, skipped_paths = triaged
    if rejected_before and all_or_nothing:
        raise ContractError(
            f"{len(rejected_before)} document(s) cannot be cut; nothing was written "
            "(--all-or-nothing)",
        )
    skipped = skipped_paths if isinstance(skipped_paths, Paths) else Paths(skipped_paths)
    results = Outcomes()
    if not count:
        return ApplyResult(None, (), rejected_before, time.monotonic() - started, skipped=skipped)
    with conn.transaction():
        run_id = begin_run(conn, "apply", meta={"documents": count})
    status = "finished"
    writers = 1 if all_or_nothing else min(resolve_jobs(jobs), count)
    try:
        if writers > 1:
            _apply_concurrently(
                settings,
                provider,
                conn,
                run_id,
                todo,
                count,
                writers,
                results,
                on_progress,
                new,
                again,
            )
        if writers <= 1:
            # the next document is taken (and a new one prepared) while this one is written
            ahead = _ahead(todo, frozenset() if on_cluster(conn) else new, conn.parameter_encoder())
            with contextlib.closing(ahead):
                for n, (path, doc, source) in enumerate(ahead, 1):
                    here = again if source is None else _kept(source)
                    results.append(_apply_one(conn, run_id, path, doc, new=path in new, again=here))
                    if on_progress is not None:
                        on_progress(n, count, path)
                    if all_or_nothing and results[-1].status in ("failed", "rejected"):
                        break
    except KeyboardInterrupt as exc:
        status = INTERRUPTED
        raise interrupted(conn, run_id, results, count) from exc
    except BaseException:
        status = "failed"
        raise
    finally:
        rejected = rejected_before + tuple(
            Rejected(r.doc_path, r.error or "") for r in results.of("rejected")
        )
        kept = (
            results
            if not results.tally("rejected")
            else Outcomes(r for r in results if r.status != "rejected")
        )
        result = ApplyResult(run_id, kept, rejected, time.monotonic() - started, skipped=skipped)
        if status == "finished" and result.failed:
            status = "failed"
        _finish_quietly(conn, run_id, status, result.counts)
    return result


def _apply_concurrently(
    settings: Settings,
    provider: ConnectionProvider,
    conn: Connection,
    run_id: str,
    todo: Iterator[tuple[str, ToWrite]],
    count: int,
    writers: int,
    results: Outcomes,
    on_progress: Progress | None,
    new: Container[str],
    again: Callable[[str], CutDocument | IucutError] | None,
) -> None:
    """Write the documents of ``todo`` on ``writers`` connections at once (``conn`` and
    more), each document in its own transaction under its lock as :func:`_apply_one`
    does; their results are appended to ``results`` in the order of ``todo``. At most
    two documents a writer are in flight (``todo`` may cut them as it goes): not yet
    written, that is, for they are written in any order (a large document does not hold
    the writers up while the others wait to be reported after it).

    The server works on one document per connection: on several cores, several
    documents are written at the same time. When one document stops the run (a freeze,
    a lost connection) or on Ctrl-C, what is queued is dropped, the documents being
    written are finished (each is whole either way) and their results kept."""
    conns = [conn]
    free: queue.SimpleQueue[Connection] = queue.SimpleQueue()
    free.put(conn)

    def write(path: str, doc: ToWrite) -> DocumentResult:
        mine = free.get()
        try:
            return _apply_one(mine, run_id, path, doc, new=path in new, again=again)
        finally:
            free.put(mine)

    pool = ThreadPoolExecutor(writers, thread_name_prefix="iucut-apply")
    merger: threading.Thread | None = None
    pending: deque[Future[DocumentResult]] = deque()  # not yet reported, in source order
    running: set[Future[DocumentResult]] = set()  # not yet finished, in any order
    done = 0

    def report(block: bool) -> None:
        """Report the finished documents at the head of ``pending``, in source order
        (``block``: wait for the first one)."""
        nonlocal done
        while pending and (block or pending[0].done()):
            block = False
            results.append(pending.popleft().result())
            done += 1
            if on_progress is not None:
                on_progress(done, count, results[-1].doc_path)

    try:
        for _ in range(writers - 1):
            extra = provider.connect(user=settings.apply_role, autocommit=True)
            conns.append(extra)
            plan_for_values(extra)
            free.put(extra)
        for path, doc in todo:
            future = pool.submit(write, path, doc)
            pending.append(future)
            running.add(future)
            # the bound is on the documents not yet written (each holds its units), not
            # on those not yet reported (a result is small): a large document at the
            # head does not stop the other writers, who write the ones after it
            while len(running) >= 2 * writers:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                running -= finished
                if any(f.exception() is not None for f in finished):
                    while pending:  # raised at its own document, after those before it
                        report(block=True)
            report(block=False)
        # every document is cut and in the writers' hands: the search index's pending
        # list is merged meanwhile, on a connection of its own (fn_run_finish, after the
        # last write, then merges only what the last documents added)
        if not on_cluster(conn):
            merger = threading.Thread(
                target=_merge_pending, args=(settings, provider), name="iucut-merge"
            )
            merger.start()
        while pending:
            report(block=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if merger is not None:
            merger.join()
        for future in pending:  # written by another writer before the stop
            if future.done() and not future.cancelled() and future.exception() is None:
                results.append(future.result())
        for extra in conns[1:]:
            with contextlib.suppress(IucutError):
                extra.close()


def _merge_pending(settings: Settings, provider: ConnectionProvider) -> int:
    """Merge the search index's pending list on a connection of its own (0020); returns
    the pages merged. An optimisation only: on any failure nothing is merged here, and
    fn_run_finish merges the list at the end of the run as ever."""
    try:
        extra = provider.connect(user=settings.apply_role, autocommit=True)
    except IucutError:
        return 0
    try:
        row = extra.query("merge_search_pending").fetchone()
        return 0 if row is None else int(row["pages"])
    except IucutError:
        return 0
    finally:
        with contextlib.suppress(IucutError):
            extra.close()


#: The refusals of fn_iu_apply_document that the client checks of a new document's codes
#: (plan_document) say better: which code, on which line of the source.
CODE_REFUSALS = ("IUC01", "IUC08")


def _ahead(
    todo: Iterator[tuple[str, ToWrite]],
    new: Container[str],
    encode: ParameterEncoder | None,
) -> Generator[tuple[str, ToWrite, CutDocument | None], None, None]:
    """The items of ``todo`` for one writer, each taken one document ahead in a thread of
    its own (cut there when ``todo`` cuts in this process), and a new document (a path of
    ``new``) that was not prepared where it was cut prepared there too
    (:func:`prepare_new`, ``encode``: see there): the connection writes one document while
    the client cuts, plans and encodes the next (~2 s of Python per 100k units of a first
    sync that the connection otherwise waits for). Each comes with the document its
    :class:`PreparedWrite` was prepared from here (None: not prepared here), to plan it
    under its lock if the write is refused. One more document in memory; when the loop
    stops early, the one being taken is dropped (it touched nothing)."""

    def take() -> tuple[str, ToWrite, CutDocument | None] | None:
        found = next(todo, None)
        if found is None:
            return None
        path, item = found
        if path in new and isinstance(item, CutDocument):
            return path, prepare_new(item, new=new, encode=encode), item
        return path, item, None

    with ThreadPoolExecutor(1, thread_name_prefix="iucut-ready") as pool:
        try:
            taking = pool.submit(take)
            while (taken := taking.result()) is not None:
                taking = pool.submit(take)
                yield taken
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _kept(doc: CutDocument) -> Callable[[str], CutDocument | IucutError]:
    """``again`` for a write prepared in this process: its document is at hand."""
    return lambda _path: doc


def _apply_one(
    conn: Connection,
    run_id: str,
    doc_path: str,
    doc: ToWrite,
    *,
    new: bool = False,
    again: Callable[[str], CutDocument | IucutError] | None = None,
) -> DocumentResult:
    """Plan one document under its lock and write it, in one transaction.

    A new document is written without first reading whether its codes are taken (the
    function refuses a taken code); when it is refused so, it is planned again with
    those reads, in a new transaction, for the client's error naming the line.

    ``new``: the triage found no document at this path. It is then planned without the
    lock and the read, and written by one statement, its own transaction: the function
    takes the control row and the document's lock itself, in the order every writer
    keeps, and refuses the write (IUS01) if a document was written there since; then it
    is planned under its lock as any other. One round trip instead of four. A
    :class:`PreparedWrite` is such a write planned where the document was cut: when it is
    refused, the document is cut again (``again``) to be planned here."""
    if isinstance(doc, IucutError):  # it could not be cut again (changed, removed)
        return DocumentResult(doc_path, "rejected", error=doc.message)
    try:
        if isinstance(doc, PreparedWrite):
            with contextlib.suppress(StalePlan):
                return _plan_and_write(conn, run_id, doc_path, doc, check_new=False, unread=True)
            doc = _cut_again(again, doc_path)
            if isinstance(doc, IucutError):
                return DocumentResult(doc_path, "rejected", error=doc.message)
        # (on the cluster a new document too is written in a transaction block: Citus
        # sends the SET LOCAL of its search profile to the worker only in one)
        elif new and doc is not None and not on_cluster(conn):
            with contextlib.suppress(StalePlan):
                return _plan_and_write(conn, run_id, doc_path, doc, check_new=False, unread=True)
        return _plan_and_write(conn, run_id, doc_path, doc, check_new=False)
    except ContractError as exc:
        if doc is None or exc.context.get("sqlstate") not in CODE_REFUSALS:
            return _failed(doc_path, exc)
        first = exc
    if isinstance(doc, PreparedWrite):
        doc = _cut_again(again, doc_path)
    if isinstance(doc, IucutError):
        return DocumentResult(doc_path, "rejected", error=doc.message)
    try:
        return _plan_and_write(conn, run_id, doc_path, doc, check_new=True)
    except ContractError as exc:
        return _failed(doc_path, exc if exc.context.get("sqlstate") is None else first)


def _cut_again(
    again: Callable[[str], CutDocument | IucutError] | None, doc_path: str
) -> CutDocument | IucutError:
    assert again is not None, "a prepared write comes with the means to cut it again"
    return again(doc_path)


def _failed(doc_path: str, exc: IucutError) -> DocumentResult:
    if isinstance(exc, ContractError):  # the document is at fault (e.g. a code clash)
        return DocumentResult(doc_path, "rejected", error=exc.message)
    return DocumentResult(doc_path, "failed", error=exc.message)


def _plan_and_write(
    conn: Connection,
    run_id: str,
    doc_path: str,
    doc: CutDocument | PreparedWrite | None,
    *,
    check_new: bool,
    unread: bool = False,
) -> DocumentResult:
    try:
        if isinstance(doc, PreparedWrite):  # unread, planned where it was cut
            counts = _call_apply(conn, run_id, doc.arguments)
            counts["moved"] = counts.get("moved", 0)  # (as write_document counts it)
            return DocumentResult(doc.doc_path, "applied", counts)
        if unread and doc is not None:  # see _apply_one: one statement, no transaction
            dp = plan_document(conn, doc, None, check_new=False)
            if not dp.has_changes:
                return DocumentResult(dp.doc_path, "skipped")
            return DocumentResult(dp.doc_path, "applied", write_document(conn, run_id, dp))
        with conn.transaction():
            # the control row first, then the document: the order every writer keeps
            conn.query("lock_documents", run_id=run_id, doc_paths=[doc_path])
            if doc is None:  # a document retired by --prune
                current = read_documents(conn, [doc_path]).get(doc_path)
                if current is None or current["state"] != "active":
                    return DocumentResult(doc_path, "skipped")
                dp = retire_document(current, read_units(conn, doc_path))
            else:
                current = read_documents(conn, [doc.path]).get(doc.path)
                dp = plan_document(
                    conn, with_stored_profile(doc, current), current, check_new=check_new
                )
            if not dp.has_changes:
                return DocumentResult(dp.doc_path, "skipped")
            counts = write_document(conn, run_id, dp)
        return DocumentResult(dp.doc_path, "applied", counts)
    except (Frozen, ExecutionDisabled, ConnectionFailed):
        raise  # stops the run: every later document would fail the same way
    except IucutError as exc:
        if _after_interrupt(exc):  # e.g. the rollback after Ctrl-C failed: still Ctrl-C
            raise KeyboardInterrupt from exc
        if isinstance(exc, ContractError) or (unread and isinstance(exc, StalePlan)):
            raise  # _apply_one says what the document did wrong, or plans it again
        return DocumentResult(doc_path, "failed", error=exc.message)


def _after_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while a Ctrl-C (KeyboardInterrupt) was being handled."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


#: How an interrupted run is finished: the run table knows 'finished' and 'failed' only
#: (migration 0001), so it is finished 'failed' with ``counts.interrupted = 1``.
INTERRUPTED = "interrupted"


def interrupted(
    conn: Connection, run_id: str, results: Iterable[DocumentResult], total: int
) -> Interrupted:
    """The error of an apply stopped by Ctrl-C: which documents were written before it
    (each one whole, in its own transaction), and that the run is marked interrupted.

    The database says which documents the run wrote: a commit may land as the interrupt
    comes, before its result is counted here. Without a connection, the results say."""
    written = [r.doc_path for r in results if r.status == "applied"]
    try:
        conn.rollback()
        rows = conn.query("run_documents", run_id=run_id).fetchall()
        written = [str(r["doc_path"]) for r in rows]
    except IucutError:
        pass
    return Interrupted(
        f"apply interrupted: {len(written)} of {total} documents written (listed), the "
        f"others not; run {run_id} is marked interrupted",
        hint="run the same apply again: the documents already written are skipped by their hash",
        written=written,
        run_id=run_id,
    )


def _finish_quietly(conn: Connection, run_id: str, status: str, counts: dict[str, int]) -> None:
    if status == INTERRUPTED:
        status, counts = "failed", {**counts, INTERRUPTED: 1}
    try:
        with conn.transaction():
            finish_run(conn, run_id, status, counts)
    except IucutError:
        pass  # the run stays 'running'; its documents are each complete either way


# --------------------------------------------------------------------------------------
# apply --plan FILE: the reviewed plan, exactly, or nothing
# --------------------------------------------------------------------------------------


def check_preconditions(conn: Connection, plan: Plan) -> None:
    """Refuse a plan for another database, or one whose world has moved on."""
    here = read_fingerprint(conn)
    if not here.matches(plan.fingerprint):
        raise StalePlan(
            "the plan was made for another database "
            f"(plan: system {plan.fingerprint.system_identifier}, database "
            f"{plan.fingerprint.database}, schema {plan.fingerprint.schema}, migration "
            f"{plan.fingerprint.migration_version}; here: system {here.system_identifier}, "
            f"database {here.database}, schema {here.schema}, migration "
            f"{here.migration_version}); nothing was written",
            hint="plan again against this database",
        )
    db_docs = read_documents(conn, [d.doc_path for d in plan.documents])
    for dp in plan.documents:
        if not dp.has_changes:
            continue
        current = db_docs.get(dp.doc_path)
        seen = None if current is None else current["doc_hash"]
        if seen != dp.expect_doc_hash:
            raise StalePlan(
                f"{dp.doc_path}: the document changed in the database since the plan; "
                "nothing of the plan was written",
                hint="plan again",
            )
        units = read_units(conn, dp.doc_path)
        for change in dp.changes:
            cur = units.get(change.renamed_from or change.code)
            version = None if cur is None else cur.current_version
            if version != change.expect_version:
                raise StalePlan(
                    f"{dp.doc_path}: unit {change.code} is at version {version}, the plan "
                    f"expected {change.expect_version}; nothing of the plan was written",
                    hint="plan again",
                )


def apply_plan(
    settings: Settings,
    provider: ConnectionProvider,
    plan: Plan,
    plan_id: str,
    *,
    single_transaction: bool = False,
    on_progress: Progress | None = None,
) -> ApplyResult:
    """Apply a reviewed plan: every precondition must still hold, or nothing is written.

    The documents the plan writes are locked first (in code-point order of their paths,
    the order every writer keeps) and every precondition is checked under those locks,
    which are held to the last write: a stale plan writes nothing, and no other writer
    can slip in between two of its documents. Each document is its own transaction, or,
    with ``single_transaction``, the whole plan is one (a crash, a freeze or a refusal
    anywhere then leaves the database as it was). When a write fails after others were
    written, the result lists both and carries the error in ``stopped`` (the caller
    reports it); before the first write the error is raised.
    """
    ensure_enabled(settings)
    started = time.monotonic()
    for dp in plan.documents:
        check_changed_rows(c.unit for c in dp.changes if c.unit is not None)
    todo = [dp for dp in plan.documents if dp.has_changes]
    skipped = Paths(d.doc_path for d in plan.documents if not d.has_changes)
    conn = provider.connect(user=settings.apply_role, autocommit=True)
    try:
        plan_for_values(conn)
        if not todo:
            check_preconditions(conn, plan)
            return ApplyResult(None, (), plan.rejected, time.monotonic() - started, skipped=skipped)
        if single_transaction:
            return _apply_plan_at_once(conn, plan, plan_id, todo, skipped, started, on_progress)
        return _apply_plan_by_document(conn, plan, plan_id, todo, skipped, started, on_progress)
    finally:
        conn.close()


def _apply_plan_by_document(
    conn: Connection,
    plan: Plan,
    plan_id: str,
    todo: list[DocumentPlan],
    skipped: Paths,
    started: float,
    on_progress: Progress | None,
) -> ApplyResult:
    """Session-level locks on every document, the preconditions under them, then one
    transaction per document."""
    paths = [dp.doc_path for dp in todo]
    conn.query("hold_documents", doc_paths=paths)
    try:
        check_preconditions(conn, plan)
        with conn.transaction():
            run_id = begin_run(
                conn, "apply", plan_hash=plan_id, meta={"documents": len(todo), "plan": True}
            )
        results: list[DocumentResult] = []
        stopped: IucutError | None = None
        status = "failed"
        try:
            for n, dp in enumerate(todo, 1):
                try:
                    with conn.transaction():
                        conn.query("lock_documents", run_id=run_id, doc_paths=[dp.doc_path])
                        counts = write_document(conn, run_id, dp)
                except IucutError as exc:
                    if not results or _after_interrupt(exc):
                        raise
                    stopped = exc
                    results.append(DocumentResult(dp.doc_path, "failed", error=exc.message))
                    results += [DocumentResult(d.doc_path, "not_written") for d in todo[n:]]
                    break
                results.append(DocumentResult(dp.doc_path, "applied", counts))
                if on_progress is not None:
                    on_progress(n, len(todo), dp.doc_path)
            if stopped is None:
                status = "finished"
        except (KeyboardInterrupt, IucutError) as exc:
            if isinstance(exc, IucutError) and not _after_interrupt(exc):
                raise
            status = INTERRUPTED
            done = [r for r in results if r.status == "applied"]
            raise interrupted(conn, run_id, done, len(todo)) from exc
        finally:
            result = ApplyResult(
                run_id,
                tuple(results),
                plan.rejected,
                time.monotonic() - started,
                stopped=stopped,
                skipped=skipped,
            )
            _finish_quietly(conn, run_id, status, result.counts)
        return result
    finally:
        _release_quietly(conn, paths)


def _apply_plan_at_once(
    conn: Connection,
    plan: Plan,
    plan_id: str,
    todo: list[DocumentPlan],
    skipped: Paths,
    started: float,
    on_progress: Progress | None,
) -> ApplyResult:
    """The whole plan in one transaction: the run, the locks, the checks, every write."""
    results: list[DocumentResult] = []
    with conn.transaction():
        run_id = begin_run(
            conn,
            "apply",
            plan_hash=plan_id,
            meta={"documents": len(todo), "plan": True, "single_transaction": True},
        )
        conn.query("lock_documents", run_id=run_id, doc_paths=[dp.doc_path for dp in todo])
        check_preconditions(conn, plan)
        for n, dp in enumerate(todo, 1):
            counts = write_document(conn, run_id, dp)
            results.append(DocumentResult(dp.doc_path, "applied", counts))
            if on_progress is not None:
                on_progress(n, len(todo), dp.doc_path)
        result = ApplyResult(
            run_id,
            tuple(results),
            plan.rejected,
            time.monotonic() - started,
            skipped=skipped,
        )
        finish_run(conn, run_id, "finished", result.counts)
    return result


def _release_quietly(conn: Connection, paths: list[str]) -> None:
    # on failure, the connection is closed next, which releases session locks anyway
    with contextlib.suppress(IucutError):
        conn.query("release_documents", doc_paths=paths)
