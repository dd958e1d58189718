"""The library's database verbs: ``iucut.connect()`` gives a Store with the CLI's verbs.

One calling convention: settings first (resolved once, as the CLI resolves them), each
verb opens the connection it needs and closes it. A :class:`~iucut.units.Plan` carries
its own id (``plan.id``). ``apply`` is refused while the kill-switch is off; an explicit
``execution=True`` turns it on for that one call, and the database freeze still wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iucut import apply as apply_mod
from iucut import plan_state
from iucut.apply import ApplyResult
from iucut.config import EXECUTION_ON, Settings, load_settings
from iucut.cut.source import DEFAULT_GLOB
from iucut.db.connector import Connection, ConnectionProvider, open_provider
from iucut.errors import IucutError
from iucut.plan import Digest, Unchanged
from iucut.project import find_root
from iucut.units import CutDocument, Plan

# (imported where they are used: an apply does not start them, and one that finds
# nothing changed needs neither the cutter nor the reads' modules, issue #16 part 3)
if TYPE_CHECKING:
    from iucut.asof import DocumentAt, Point
    from iucut.browse import DocumentInfo, History, UnitView
    from iucut.dangling import Dangling
    from iucut.feed import Changes, Cursor, Position
    from iucut.migrate import MigrationResult
    from iucut.planspool import SpooledPlan
    from iucut.prove import ProofReport
    from iucut.search import Hit

PathLike = str | Path


@dataclass(frozen=True, slots=True)
class Export:
    """A document rebuilt from the database: its path and its text, byte for byte."""

    doc_path: str
    text: str

    def __iter__(self) -> Iterator[str]:  # ``path, text = store.export(doc)``
        return iter((self.doc_path, self.text))

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True, slots=True)
class CurrentUnit:
    """The current version of an active unit, with what loaders put in metadata."""

    code: str
    namespace: str
    doc_path: str
    parent_code: str | None
    kind: str
    label: str | None
    ordinal: int
    depth: int
    position: int
    version: int
    content_hash: str
    title: str
    raw_heading: str
    body: str
    line_start: int | None
    line_end: int | None

    @property
    def text(self) -> str:
        return self.raw_heading + self.body


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """Where a named consumer of the change feed has got to, kept in the database."""

    consumer: str
    position: Position
    pending: Position | None  # a range it was writing when it last stopped (None: clean)


def connect(
    dsn: str | None = None,
    *,
    schema: str | None = None,
    driver: str | None = None,
    env_file: PathLike | None = None,
    apply_role: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Store:
    """A Store over a database: ``dsn`` (libpq URI or key=value), else as the CLI finds one
    (``IUCUT_DSN``, ``DATABASE_URL``, ``PG*``, ``iucut.yaml``), else the embedded server.

    Nothing is opened until a verb needs it.
    """
    settings = load_settings(
        dsn=dsn,
        schema=schema,
        driver=driver,
        env_file=Path(env_file) if env_file is not None else None,
        environ=environ,
    )
    if apply_role is not None:
        settings = settings.with_(apply_role=apply_role)
    return Store(settings)


class Store:
    """The iucut verbs over one database: plan, prove, apply, show, history, export, ls,
    changes (and migrate)."""

    def __init__(self, settings: Settings, provider: ConnectionProvider | None = None):
        self.settings = settings
        self.provider = provider or open_provider(settings)

    def __repr__(self) -> str:
        return f"<iucut.Store schema={self.settings.schema} driver={self.settings.driver}>"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        return None  # each verb closes its own connection

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads (autocommit), closed afterwards."""
        conn = self.provider.connect(autocommit=True)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A connection as the role that writes (``apply_role``), closed afterwards."""
        conn = self.provider.connect(user=self.settings.apply_role, autocommit=True)
        try:
            yield conn
        finally:
            conn.close()

    # ---------------------------------------------------------------- schema

    def migrate(self, *, roles: bool = False) -> MigrationResult:
        """Bring the schema up to date (``roles``: also the roles and their privileges),
        then write iucut.yaml's ``search:`` mapping if it has one."""
        from iucut.migrate import migrate

        with self.reading() as conn:
            result = migrate(
                conn, self.settings.schema, roles=self.settings.roles if roles else None
            )
            mapping = self.settings.config.get("search")
            if mapping:
                from iucut.search import set_configs

                set_configs(conn, mapping)
            return result

    # ---------------------------------------------------------------- write path

    def cut(
        self,
        paths: Iterable[PathLike],
        *,
        glob: str = DEFAULT_GLOB,
        root: PathLike | None = None,
        jobs: int | None = 1,
    ) -> list[CutDocument | IucutError]:
        """Cut the sources as the CLI does (this store's configuration); a bad document
        is an error in the list and the others go on. ``jobs``: worker processes (None
        or 0: one per CPU available); the list is in source order for any number."""
        from iucut.cutting import iter_cut

        return list(
            iter_cut(
                paths,
                glob=glob,
                root=root,
                config=self.settings.config,
                jobs=jobs,
            )
        )

    def plan(
        self,
        paths: Iterable[PathLike],
        *,
        glob: str = DEFAULT_GLOB,
        root: PathLike | None = None,
        prune: bool = False,
        jobs: int | None = 1,
    ) -> Plan:
        """What apply would do (reads only). ``plan.id`` is its id; ``prune`` retires the
        documents missing from the given folders; ``jobs``: worker processes cutting."""
        given = [Path(p) for p in paths]
        items = self.cut(given, glob=glob, root=root, jobs=jobs)
        scopes = _prune_scopes(given, root) if prune else None
        return self.plan_documents(items, prune_scopes=scopes)

    def plan_documents(
        self,
        items: Iterable[CutDocument | IucutError],
        *,
        prune_scopes: Sequence[str] | None = None,
        on_progress: plan_state.Progress | None = None,
    ) -> Plan:
        """The plan of documents cut already (an error in ``items`` is a rejected
        document); ``prune_scopes``: retire the stored documents under these folders
        that ``items`` lacks."""
        with self.reading() as conn:
            return plan_state.make_plan(
                conn, items, prune_scopes=prune_scopes, on_progress=on_progress
            )

    def plan_digests(
        self,
        digests: Iterable[Digest | IucutError],
        recut: apply_mod.Recut,
        *,
        prune_scopes: Sequence[str] | None = None,
        on_progress: plan_state.Progress | None = None,
    ) -> tuple[Plan, list[CutDocument | IucutError]]:
        """:meth:`plan_documents` from the digests of a first pass (see
        :func:`iucut.plan_state.make_plan_from_digests`): the documents stored as they
        are planned unchanged from their digests, only the others cut again by ``recut``;
        the plan, and the documents cut again (for :meth:`review`)."""
        with self.reading() as conn:
            return plan_state.make_plan_from_digests(
                conn, digests, recut, prune_scopes=prune_scopes, on_progress=on_progress
            )

    def spool_plan_digests(
        self,
        digests: Iterable[Digest | IucutError],
        recut: apply_mod.Recut,
        *,
        prune_scopes: Sequence[str] | None = None,
        on_progress: plan_state.Progress | None = None,
        ordered: bool = True,
    ) -> tuple[SpooledPlan, list[str], list[Dangling]]:
        """:meth:`plan_digests` and :meth:`review` holding the documents in flight, not
        the plan of the corpus: the plan spooled to a temporary file (close it), the
        look-alike warnings and the dangling references (see
        :func:`iucut.plan_state.spool_plan_from_digests`)."""
        with self.reading() as conn:
            return plan_state.spool_plan_from_digests(
                conn,
                digests,
                recut,
                prune_scopes=prune_scopes,
                on_progress=on_progress,
                ordered=ordered,
            )

    def review(
        self,
        plan: Plan,
        items: Sequence[CutDocument | Digest | IucutError],
        cut: Sequence[CutDocument | IucutError] | None = None,
    ) -> tuple[list[str], list[Dangling]]:
        """What a reviewer of ``plan`` should know: warnings about new documents that
        look like stored ones (same bytes or namespace at another path), and the
        references of active units the plan would leave dangling. ``cut``: the documents
        with text when ``items`` are digests (:meth:`plan_digests`)."""
        from iucut.dangling import dangling

        texts = items if cut is None else cut
        with self.reading() as conn:
            alike = plan_state.lookalikes(conn, plan, items)
            broken = dangling(conn, plan, (d for d in texts if isinstance(d, CutDocument)))
        return alike, broken

    def retire_plan(self, names: Sequence[str]) -> Plan:
        """The plan that retires the stored documents named (path or namespace)."""
        with self.reading() as conn:
            return plan_state.retire_plan(conn, names)

    def prove(
        self, plan: Plan, *, plan_id: str | None = None, observer_role: str | None = None
    ) -> ProofReport:
        """The rollback-only proof of ``plan`` (writes nothing; runs with the switch off),
        driven as the role that applies. ``plan_id``: the id of the plan file it was
        read from (default: ``plan.id``)."""
        from iucut.prove import prove

        return prove(
            self.settings,
            self.provider,
            plan,
            plan_id or plan.id,
            observer_user=observer_role,
        )

    def apply(
        self,
        plan: Plan | Iterable[PathLike],
        *,
        execution: bool | None = None,
        glob: str = DEFAULT_GLOB,
        root: PathLike | None = None,
        prune: bool = False,
        all_or_nothing: bool = False,
        jobs: int | None = 1,
    ) -> ApplyResult:
        """Write a reviewed plan exactly (refused if stale), or cut and apply paths.

        ``jobs`` (paths only): worker processes cutting, and connections writing
        documents at once (None or 0: one per CPU available). A reviewed plan is written
        on one connection: it holds the locks of all its documents from its checks on.

        Refused (ExecutionDisabled) while the kill-switch is off. ``execution=True`` turns
        it on for this call only, ``False`` keeps it off whatever the environment says;
        the database freeze is checked by the database and wins either way.
        """
        settings = self.settings
        if execution is True:
            settings = settings.with_(
                execution=EXECUTION_ON, execution_source="apply(execution=True)"
            )
        elif execution is False:
            settings = settings.with_(execution=None, execution_source="apply(execution=False)")
        apply_mod.ensure_enabled(settings)
        store = Store(settings, self.provider)
        if isinstance(plan, Plan):
            return store.apply_plan(plan)
        paths = [Path(p) for p in plan]
        items = self.cut(paths, glob=glob, root=root, jobs=jobs)
        scopes = _prune_scopes(paths, root) if prune else None
        return store.apply_documents(
            items, prune_scopes=scopes, all_or_nothing=all_or_nothing, jobs=jobs
        )

    def apply_plan(
        self,
        plan: Plan,
        plan_id: str | None = None,
        *,
        single_transaction: bool = False,
        require_proof: Path | None = None,
        on_progress: apply_mod.Progress | None = None,
    ) -> ApplyResult:
        """Write a reviewed plan exactly (refused if stale, or while the kill-switch is
        off). ``require_proof``: a proof report that must have passed for this plan on
        this database, driven as the role that applies."""
        apply_mod.ensure_enabled(self.settings)
        plan_id = plan_id or plan.id
        if require_proof is not None:
            from iucut.prove import check_proof_report

            check_proof_report(require_proof, plan_id, self.provider, role=self.settings.apply_role)
        return apply_mod.apply_plan(
            self.settings,
            self.provider,
            plan,
            plan_id,
            single_transaction=single_transaction,
            on_progress=on_progress,
        )

    def apply_documents(
        self,
        items: Iterable[CutDocument | IucutError],
        *,
        prune_scopes: Sequence[str] | None = None,
        all_or_nothing: bool = False,
        on_progress: apply_mod.Progress | None = None,
        jobs: int | None = 1,
    ) -> ApplyResult:
        """Plan and write documents cut already, each under its lock (refused while the
        kill-switch is off)."""
        apply_mod.ensure_enabled(self.settings)
        return apply_mod.apply_documents(
            self.settings,
            self.provider,
            items,
            prune_scopes=prune_scopes,
            all_or_nothing=all_or_nothing,
            on_progress=on_progress,
            jobs=jobs,
        )

    def apply_digests(
        self,
        digests: Iterable[Digest | Unchanged | IucutError],
        recut: apply_mod.Recut,
        *,
        prune_scopes: Sequence[str] | None = None,
        all_or_nothing: bool = False,
        on_progress: apply_mod.Progress | None = None,
        jobs: int | None = 1,
        seen_cache: Path | None = None,
    ) -> ApplyResult:
        """Write documents from the digests of a first pass (see
        :func:`iucut.apply.apply_digests`): those up to date are skipped unread, only the
        others are cut again by ``recut`` as they are written (refused while the
        kill-switch is off)."""
        apply_mod.ensure_enabled(self.settings)
        return apply_mod.apply_digests(
            self.settings,
            self.provider,
            digests,
            recut,
            prune_scopes=prune_scopes,
            all_or_nothing=all_or_nothing,
            on_progress=on_progress,
            jobs=jobs,
            seen_cache=seen_cache,
        )

    # ---------------------------------------------------------------- reads

    def show(
        self,
        code: str,
        *,
        as_of: str | datetime | None = None,
        in_force_on: str | date | None = None,
    ) -> UnitView:
        """A unit: its current version, parent, children and state (NotFound if none).

        ``as_of`` (a run id or prefix, or a time) and ``in_force_on`` (a date): the unit as
        it stood at that point (iucut.asof)."""
        from iucut import asof, browse

        with self.reading() as conn:
            if as_of is None and in_force_on is None:
                return browse.show(conn, code)
            return asof.show(conn, asof.resolve(conn, as_of, in_force_on), code)

    def history(self, code: str) -> History:
        """Every version and lifecycle event of a unit."""
        from iucut import browse

        with self.reading() as conn:
            return browse.history(conn, code)

    def references(
        self,
        code: str,
        *,
        cited_by: bool = False,
        version: int | None = None,
        as_of: str | datetime | None = None,
        in_force_on: str | date | None = None,
    ) -> list[dict[str, Any]]:
        """The references a unit makes (its current version, or ``version``), or with
        ``cited_by`` the active units whose references point at it (iucut.refs);
        ``as_of`` / ``in_force_on``: those of the versions at that point."""
        from iucut import asof
        from iucut.refs import read_references

        with self.reading() as conn:
            if as_of is None and in_force_on is None:
                return read_references(conn, code, cited_by=cited_by, version=version)
            point = asof.resolve(conn, as_of, in_force_on)
            return asof.references(conn, point, code, cited_by=cited_by)

    def export(
        self,
        doc: str,
        *,
        as_of: str | datetime | None = None,
        in_force_on: str | date | None = None,
    ) -> Export:
        """A document (by path or namespace) rebuilt from the database, byte for byte;
        ``as_of`` / ``in_force_on``: exactly as it was applied at that point."""
        from iucut import asof, browse

        with self.reading() as conn:
            if as_of is None and in_force_on is None:
                path, text = browse.export(conn, doc)
            else:
                path, text = asof.export(conn, asof.resolve(conn, as_of, in_force_on), doc)
        return Export(path, text)

    def ls(self, doc: str | None = None) -> list[DocumentInfo]:
        """The documents: all, or those of a namespace, a path, or a folder of paths."""
        from iucut import browse

        with self.reading() as conn:
            return browse.ls(conn, doc)

    def ls_at(
        self,
        doc: str | None = None,
        *,
        as_of: str | datetime | None = None,
        in_force_on: str | date | None = None,
    ) -> list[DocumentAt]:
        """The documents as they stood at a point (``as_of``) or as in force on a date."""
        from iucut import asof

        with self.reading() as conn:
            return asof.ls(conn, asof.resolve(conn, as_of, in_force_on), doc)

    def point(
        self, as_of: str | datetime | None = None, in_force_on: str | date | None = None
    ) -> Point:
        """The point ``as_of`` names (the resolution every ``--as-of`` read uses)."""
        from iucut import asof

        with self.reading() as conn:
            return asof.resolve(conn, as_of, in_force_on)

    def units(self, doc: str | None = None) -> list[CurrentUnit]:
        """The current version of every active unit (of one document or namespace), in
        document order."""
        with self.reading() as conn:
            rows = conn.query("units_current", doc=doc).fetchall()
        return [CurrentUnit(**r) for r in rows]

    def ancestors(self, codes: Sequence[str]) -> dict[str, list[str]]:
        """The titles of each unit's ancestors, root first (current versions)."""
        known: dict[str, tuple[str | None, str]] = {}  # code → (parent, title)
        asked: set[str] = set()
        todo = set(codes)
        with self.reading() as conn:
            while todo:
                asked |= todo
                for r in conn.query("unit_titles", codes=sorted(todo)).fetchall():
                    known[r["code"]] = (r["parent_code"], r["title"])
                todo = {p for p, _ in known.values() if p is not None and p not in asked}
        out: dict[str, list[str]] = {}
        for code in codes:
            chain: list[str] = []
            up = known.get(code, (None, ""))[0]
            while up is not None and up in known and len(chain) < 64:
                chain.append(known[up][1])
                up = known[up][0]
            out[code] = chain[::-1]
        return out

    def search(
        self,
        text: str,
        *,
        namespace: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
        as_of: str | datetime | None = None,
        in_force_on: str | date | None = None,
    ) -> list[Hit]:
        """Full-text search of the active units' current text, best first: websearch
        syntax, per-profile language (Vietnamese diacritics optional, German and English
        stemmed), each hit with code, title, rank and a snippet (iucut.search).

        ``as_of`` (a run id or prefix, or a time) and ``in_force_on`` (a date): search the
        text as it stood at that point (iucut.asof). ``limit``: at most so many hits
        (None: :data:`iucut.search.DEFAULT_LIMIT`)."""
        from iucut import asof
        from iucut import search as search_mod

        with self.reading() as conn:
            point = None
            if as_of is not None or in_force_on is not None:
                point = asof.resolve(conn, as_of, in_force_on)
            return search_mod.search(
                conn,
                text,
                namespace=namespace,
                kind=kind,
                limit=search_mod.DEFAULT_LIMIT if limit is None else limit,
                point=point,
            )

    # ---------------------------------------------------------------- the change feed

    def changes(
        self, since: str | Cursor | datetime | None = None, *, limit: int | None = None
    ) -> Changes:
        """The changes committed after ``since`` (a cursor of this database, a run id, a
        time; None: from the beginning), in commit order; ``.cursor`` resumes. ``limit``:
        at most so many (None: :data:`iucut.feed.DEFAULT_LIMIT`)."""
        from iucut import feed

        with self.reading() as conn:
            return feed.read_changes(
                conn, since, limit=feed.DEFAULT_LIMIT if limit is None else limit
            )

    def head(self) -> Cursor:
        """A cursor after the last committed change."""
        from iucut import feed

        with self.reading() as conn:
            return feed.head(conn)

    def feed_cursor(self, consumer: str) -> FeedCursor | None:
        """Where the consumer ``consumer`` has got to (None: it never synced)."""
        with self.reading() as conn:
            row = conn.query("feed_cursor_get", consumer=consumer).fetchone()
        if row is None:
            return None
        from iucut.feed import Position

        pending = (
            None
            if row["pending_seq"] is None
            else Position(int(row["pending_seq"]), int(row["pending_event"]))
        )
        return FeedCursor(consumer, Position(int(row["commit_seq"]), int(row["event_id"])), pending)

    def set_feed_cursor(
        self,
        consumer: str,
        expect: FeedCursor | None,
        position: Position,
        pending: Position | None = None,
    ) -> FeedCursor:
        """Move a consumer's cursor (refused with StalePlan if it moved meanwhile)."""
        with self.writing() as conn:
            conn.query(
                "feed_cursor_set",
                consumer=consumer,
                expect_seq=None if expect is None else expect.position.commit_seq,
                expect_event=None if expect is None else expect.position.event_id,
                commit_seq=position.commit_seq,
                event_id=position.event_id,
                pending_seq=None if pending is None else pending.commit_seq,
                pending_event=None if pending is None else pending.event_id,
            )
        return FeedCursor(consumer, position, pending)

    def database_tag(self) -> str:
        """The digest of this database's identity that its cursors carry."""
        from iucut import feed

        with self.reading() as conn:
            return feed.database_tag(plan_state.read_fingerprint(conn))


def _prune_scopes(paths: Sequence[Path], root: PathLike | None) -> list[str]:
    """The stored-path prefixes --prune covers: each folder, relative to the project root."""
    project = find_root(paths, given=root)
    return [project.doc_path(p, follow_symlinks=True) for p in paths if p.is_dir()]
