"""What apply last saw of a database's stored documents: a re-sync of a database that no
one wrote since needs none of its rows (issue #16 part 3).

Apply's triage compares each file's digest with its stored document row (hash, cut
digest, state, profile: :func:`iucut.plan.is_current`). Reading the rows of a whole
corpus costs the client about 10 µs a document; with this, it reads one *token* of the
stored rows instead (``documents_state``): their number and the sum of a 64-bit hash of
each row's triage columns, computed by the server in the same statement (one snapshot)
as the rows it does return. The token is a function of the rows themselves, so it
changes with any change of any stored document, whoever makes it (another machine,
another cache, ``retire``, a restore, a hand-written UPDATE): nothing has to remember to
bump it, and a database replaced by another with the same name is seen unless it holds
the very same rows (and then what the cache says of them is true of it too).

The cache (a table of the cut cache's SQLite file, per database identity) keeps the
token and, for each document path, a fingerprint of the digest found up to date at it.
A triage reads the database's token first. When it is the one kept, the files whose
digest is the one found up to date at their path are skipped as they come, and the
rows of only the others (the files changed since, or never seen) are read, with the
token again: when it moved in between, what was skipped was up to date at the first
token, and nothing new is kept. When it is not the one kept, every row is read, a chunk
of paths at a time as the files come, between two reads of the token: what is up to
date is kept with the token only when both agree (no one wrote meanwhile). After
apply's own writes, the token is read again with the rows written: when it is what
those rows alone make of the old one, nothing else was written meanwhile and the cache
moves to it; else it stays at the token it was true at (the next apply reads every row
once).

The triage reads the documents once, as the corpus is walked, and the fingerprints in
path order a chunk at a time as they come (the order they are listed in): the client
holds a chunk of them and the documents to do, not the corpus (but when every row is
read: then what it finds up to date, a path and a fingerprint each, to keep).

A false "unchanged" needs two different sets of rows with the same count and the same
sum of 64-bit hashes: a chance of about 2^-64 per change, not a race (one snapshot).
The client never hashes a row itself: it only adds and subtracts the row hashes the
server gives with the token. Each row keeps its hash in a column PostgreSQL generates at
every write of the row (migration 0022), so the formula lives in the schema alone and the
token is a scan of an index of 8-byte keys. A new formula (a later migration) gives
another token for the same rows: the next apply finds it is not the one kept and reads
every row once, as without the cache. On a Citus cluster it is not used (every triage
reads the rows)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, islice
from pathlib import Path
from typing import Any, cast

from iucut.db.connector import Connection
from iucut.plan import Digest, Unchanged, digest_key, is_current, is_current_at
from iucut.units import Paths, UnchangedFolder

#: ``(rows, sum of the row hashes)`` as the database gives it
Token = str
#: the columns of a stored document row the triage keeps (``documents_by_path``'s)
ROW_COLUMNS = ("doc_path", "namespace", "doc_hash", "cut_digest", "state", "unit_count", "profile")


def database_key(conn: Connection) -> str:
    """The identity of the database and schema the cache entries are about."""
    row = conn.query("fingerprint").fetchone()
    assert row is not None
    return f"{row['system_identifier']}/{row['database']}/{row['schema']}"


class Seen:
    """The cache of one database's stored document rows, for one apply."""

    def __init__(self, cache: Path, db: str) -> None:
        self.cache = cache
        self.db = db
        #: the token the triage read (its snapshot); None before it
        self.token: Token | None = None
        #: the token the cache held when it was found true (None: every row was read)
        self.base: Token | None = None
        #: digest fingerprints to keep at ``token`` (every one when ``base`` is None)
        self.updates = Keys()
        #: the documents to do: the fingerprint of each one's digest, and the rows they
        #: had at ``token`` (a first apply's triage finds the whole corpus to do)
        self.todo = Todo()
        #: the folders found up to date at the cached token, with their fingerprints
        #: (:func:`iucut.digests.folder_fingerprint`) and their documents' warnings (a
        #: JSON text, None: none), while a triage that found that token true runs
        #: (None: none is vouched for)
        self.folders: dict[str, tuple[bytes, str | None]] | None = None
        #: the folders of this triage whose files were all known by their stats, with
        #: their fingerprints and warnings; and those with a document not skipped (not
        #: kept)
        self.known_folders: dict[str, tuple[bytes, str | None]] = {}
        self.dirty: set[str] = set()

    # ------------------------------------------------------------------ the triage

    def triage(
        self,
        conn: Connection,
        docs: Iterable[Digest | Unchanged | UnchangedFolder],
        skip: Callable[[Digest | Unchanged | UnchangedFolder], object],
        keep: Callable[[Digest | Unchanged], object] | None = None,
    ) -> tuple[list[Digest | Unchanged], dict[str, dict[str, Any]]]:
        """The documents of ``docs`` not up to date, in their order, with the stored rows
        of those stored (as the triage without the cache finds them); ``skip`` is called
        with each one up to date, as it comes. ``docs`` is read once, as it comes (a
        corpus in path order): the client holds a chunk of entries or rows and the
        documents to do, not the corpus. ``keep``: called with each document to do, in
        their order, instead of listing them (the list is then empty): a first apply
        finds every document to do.

        The database's token is read first. When it is the one the cache holds, each
        document is compared with the fingerprint found up to date at its path, and only
        the rows of the others are read (with the token again: when someone wrote in
        between, what was skipped was up to date at the first token, and nothing new is
        kept). Else the stored rows are read a chunk of paths at a time, with the token
        before and after: only when they agree (no one wrote meanwhile) is what was found
        kept, at that token."""
        cached = self._cached()
        now = self._token(conn) if cached is not None else None
        # (while it runs, the walk's look-ups ask it for whole folders: see :meth:`folder`)
        key = (os.fspath(self.cache), threading.get_ident())
        _active[key] = self
        try:
            if cached is not None and now == cached:
                self.folders = self._folders(cached)
                todo, rows = self._warm(conn, docs, skip, cached)
                if keep is not None:
                    for d in todo:
                        keep(d)
                    todo = []
                return todo, rows
            return self._cold(conn, docs, skip, now, keep)
        finally:
            self.folders = None
            if _active.get(key) is self:
                del _active[key]

    def folder(
        self, folder: str, names: Sequence[str], fingerprint: bytes
    ) -> UnchangedFolder | None:
        """The files ``names`` of the document folder ``folder`` at once, when its
        fingerprint (:func:`iucut.digests.folder_fingerprint`) is the one kept for it
        and the database's token is the one kept (the triage runs warm): every document
        of it was found up to date at that token, and its files are as they were then.
        Else None (its files are looked up one by one). The folder carries the warnings
        of its documents, as kept with it."""
        folders = self.folders
        found = None if folders is None else folders.get(folder)
        if found is None or found[0] != fingerprint:
            return None
        if found[1] is None:
            return UnchangedFolder(folder, names, self)
        try:
            warnings = [(str(path), tuple(map(str, said))) for path, said in json.loads(found[1])]
        except (ValueError, TypeError):
            return None  # (unreadable: its files are looked up one by one)
        return UnchangedFolder(folder, names, self, warnings)

    def known_folder(self, folder: str, fingerprint: bytes, results: Iterable[object]) -> None:
        """Every file of ``folder`` was known by its stat (its fingerprint as
        :meth:`folder` takes it; ``results``: their :class:`~iucut.plan.Unchanged`, for
        the warnings of their documents): kept, unless a document of it is not
        skipped."""
        said = [
            [r.path, list(r.warnings)]
            for r in results
            if type(r) is Unchanged and r.warnings  # (a field of the tuple: the fifth)
        ]
        warnings = json.dumps(said, ensure_ascii=False) if said else None
        self.known_folders[folder] = (fingerprint, warnings)

    def _warm(
        self,
        conn: Connection,
        docs: Iterable[Digest | Unchanged | UnchangedFolder],
        skip: Callable[[Digest | Unchanged | UnchangedFolder], object],
        cached: Token,
    ) -> tuple[list[Digest | Unchanged], dict[str, dict[str, Any]]]:
        ask: list[Digest | Unchanged] = []
        lite = self._connect()
        entries = None if lite is None else _Entries(lite, self.db)
        get = None if entries is None else entries.get
        dirty = self.dirty
        for d in docs:
            if isinstance(d, UnchangedFolder):  # (vouched for by this triage: see folder())
                if d.owner is not self:
                    raise AssertionError("a folder passed at once by another triage")
                skip(d)
                continue
            try:
                found = None if get is None else get(d.path)
            except sqlite3.Error:
                get, found = None, None
            # (an Unchanged's key read as the tuple's third field: a document a file)
            if found is not None and found == (d[2] if type(d) is Unchanged else digest_key(d)):
                skip(d)
            else:
                ask.append(d)
                dirty.add(_folder_of(d.path))
        if not ask:  # (every document up to date at the token just read)
            self.base = cached
            return [], {}
        by_path = {d.path: d for d in ask}
        current, rows = self._split(conn, by_path, list(by_path))
        todo = [d for d in ask if d.path not in current]
        if self.token == cached:
            self.base = cached
        else:  # written in between: what was skipped was up to date at the cached token
            self.token = None
            self.updates.clear()
            self.todo.clear()
            self.known_folders.clear()
        return todo, rows

    def _cold(
        self,
        conn: Connection,
        docs: Iterable[Digest | Unchanged | UnchangedFolder],
        skip: Callable[[Digest | Unchanged | UnchangedFolder], object],
        before: Token | None,
        keep: Callable[[Digest | Unchanged], object] | None = None,
    ) -> tuple[list[Digest | Unchanged], dict[str, dict[str, Any]]]:
        if before is None:
            before = self._token(conn)
        todo: list[Digest | Unchanged] = []
        put = todo.append if keep is None else keep
        rows: dict[str, dict[str, Any]] = {}
        # (no folder is passed at once: it is vouched for only while the triage runs warm)
        for chunk in _chunks(cast(Iterable[Digest | Unchanged], docs), self.CHUNK):
            by_path = {d.path: d for d in chunk}
            current, found = self._split(conn, by_path, list(by_path), hashed_only=True)
            rows.update(found)
            for d in chunk:
                if d.path in current:
                    skip(d)
                else:
                    put(d)
                    self.dirty.add(_folder_of(d.path))
        after = self._token(conn)
        self.token = before if after == before else None  # (else: keep nothing)
        self.base = None  # (every row of the corpus read: the entries are replaced)
        if self.token is None:
            self.updates.clear()
            self.todo.clear()
            self.known_folders.clear()
        return todo, rows

    #: the paths whose stored rows are read at once when the cache does not answer
    CHUNK = 1024

    def _token(self, conn: Connection) -> Token | None:
        """The database's token now (no row)."""
        for _row in self._rows(conn, []):
            pass
        return self.token

    def _cached(self) -> Token | None:
        """The token the cache holds for this database (None: none, or no cache)."""
        conn = self._connect()
        if conn is None:
            return None
        try:
            row = conn.execute(_sql()["seen_token_get"], (self.db,)).fetchone()
        except sqlite3.Error:
            return None
        return None if row is None else str(row[0])

    def _split(
        self,
        conn: Connection,
        by_path: Mapping[str, Digest | Unchanged],
        paths: list[str],
        *,
        hashed_only: bool = False,
    ) -> tuple[set[str], dict[str, dict[str, Any]]]:
        current: set[str] = set()
        rows: dict[str, dict[str, Any]] = {}
        if not hashed_only:
            self.token = None
        found = self._hashed(conn, paths) if hashed_only else self._rows(conn, paths)
        for row in found:
            path = row["doc_path"]
            d = by_path[path]
            if is_current(row, d):
                current.add(path)
                self.updates.append(path, digest_key(d))
            else:
                rows[path] = {k: row[k] for k in ROW_COLUMNS}
                self.todo.append(path, digest_key(d), int(row["row_hash"]))
        for path in paths:
            if path not in current and path not in rows:
                self.todo.append(path, digest_key(by_path[path]), None)  # new: no row
        return current, rows

    def _hashed(self, conn: Connection, paths: list[str]) -> Iterator[Mapping[str, Any]]:
        """The rows of ``paths`` with their hash, without the token."""
        if paths:  # (the token's statement without the token: one hash expression)
            yield from conn.stream("documents_state", paths=paths, token=False)

    def _rows(self, conn: Connection, paths: list[str]) -> Iterator[Mapping[str, Any]]:
        """The rows of ``paths`` with their hash; the token read with them is kept."""
        for row in conn.stream("documents_state", paths=paths, token=True):
            if row["doc_path"] is None:
                self.token = f"{row['token_rows']}:{row['token_sum']}"
            else:
                yield row
        if self.token is None:  # (the token row is always there: a count of rows)
            raise AssertionError("documents_state gave no token")

    # ------------------------------------------------------------------ after writing

    def finish(self, conn: Connection | None, wrote: bool) -> None:
        """Keep what the triage found; ``wrote``: apply may have written the documents
        to do (``conn``: where to read the token again), else nothing was written."""
        if self.token is None:
            return
        token: Token = self.token
        updates: Iterable[tuple[str, int]] = self.updates
        drops: Iterable[str] = ()
        if wrote and self.todo and conn is not None:
            after = self._after(conn)
            if after is not None:
                token, now = after
                # (the documents to do now up to date kept, the others forgotten)
                updates = chain(self.updates, self.todo.having(now, True))
                drops = (path for path, _ in self.todo.having(now, False))
        self._save(token, updates, drops)

    def _after(self, conn: Connection) -> tuple[Token, bytearray] | None:
        """The token after apply's writes, with whether each document to do is now up
        to date (a byte each, in their order), when the old token and those rows alone
        make it (nothing else written); else None. The rows are read a chunk of paths at
        a time (a first apply wrote the corpus), each as it comes: the first chunk with
        the token, the others without it, then the token again (one statement when they
        are a chunk): when the two differ, something was written meanwhile."""
        assert self.token is not None
        before_rows, before_sum = (int(x) for x in self.token.split(":"))
        n, total = before_rows - self.todo.rows, before_sum - self.todo.sum
        old_token = self.token
        now = bytearray()
        after: Token | None = None
        chunks = 0
        try:
            for chunk in _pair_chunks(self.todo, self.CHUNK):
                paths = [path for path, _ in chunk]
                rows = self._hashed(conn, paths) if chunks else self._rows(conn, paths)
                fresh: dict[str, Mapping[str, Any]] = {}
                for row in rows:
                    n, total = n + 1, total + int(row["row_hash"])
                    fresh[row["doc_path"]] = row
                if not chunks:
                    after = self.token
                now += bytes(is_current_at(fresh.get(path), key) for path, key in chunk)
                chunks += 1
            if chunks > 1 and self._token(conn) != after:
                return None  # written meanwhile: the rows read are of no one token
        finally:
            self.token = old_token
        if after is None or after != f"{n}:{total}":
            return None  # something else was written meanwhile: stay at the old token
        return after, now

    # ------------------------------------------------------------------ the cache file

    def _connect(self) -> sqlite3.Connection | None:
        from iucut.digests import _connect

        conn = _connect(self.cache)
        if conn is None:
            return None
        try:
            conn.execute(_sql()["seen_schema_token"])
            conn.execute(_sql()["seen_schema_docs"])
            conn.execute(_sql()["seen_schema_folders"])
        except sqlite3.Error:
            return None
        return conn

    def _folders(self, token: Token) -> dict[str, tuple[bytes, str | None]] | None:
        """The folders kept as found up to date at ``token``, with their fingerprints
        and warnings (None: unreadable)."""
        conn = self._connect()
        if conn is None:
            return None
        try:
            rows = conn.execute(_sql()["seen_folders"], (self.db, token)).fetchall()
        except sqlite3.Error:
            return None
        return {
            str(folder): (bytes(fingerprint), None if said is None else str(said))
            for folder, fingerprint, said in rows
        }

    def _save(
        self,
        token: Token,
        updates: Mapping[str, int] | Iterable[tuple[str, int]],
        drops: Iterable[str],
    ) -> None:
        """Keep ``updates`` (paths and fingerprints; and forget ``drops``) at ``token``:
        on top of the entries when they are still at the token the triage found true
        (``base``), else in their place (every row was read); nothing when another apply
        moved them meanwhile. Both are read once, as they come."""
        conn = self._connect()
        if conn is None:
            return
        sql = _sql()
        pairs = iter(updates.items() if isinstance(updates, Mapping) else updates)
        first_pair = next(pairs, None)
        if first_pair is not None:
            pairs = chain((first_pair,), pairs)
        gone = iter(drops)
        first_gone = next(gone, None)
        if first_gone is not None:
            gone = chain((first_gone,), gone)
        # (a folder with a document not skipped is forgotten: its files come one by one
        # until a triage finds every one of them up to date again)
        folders = [(f, k) for f, k in self.known_folders.items() if f not in self.dirty]
        nothing = first_pair is None and first_gone is None and not folders and not self.dirty
        with contextlib.suppress(sqlite3.Error):  # a cache that cannot be written: none
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(sql["seen_token_get"], (self.db,)).fetchone()
                if self.base is not None and (row is None or row[0] != self.base):
                    conn.execute("ROLLBACK")
                    return
                if self.base is None:
                    conn.execute(sql["seen_docs_clear"], (self.db,))
                    conn.execute(sql["seen_folders_clear"], (self.db,))
                elif row is not None and row[0] == token and nothing:
                    conn.execute("ROLLBACK")  # nothing new: no write
                    return
                conn.executemany(sql["seen_folder_drop"], ((self.db, f) for f in self.dirty))
                if self.base is not None and token != self.base:
                    conn.execute(sql["seen_folders_moved"], (token, self.db, self.base))
                conn.executemany(
                    sql["seen_folder_put"],
                    ((self.db, f, k, said, token) for f, (k, said) in folders),
                )
                conn.executemany(sql["seen_doc_drop"], ((self.db, p) for p in gone))
                conn.executemany(sql["seen_doc_put"], ((self.db, p, k) for p, k in pairs))
                conn.execute(sql["seen_token_put"], (self.db, token))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise


class _Entries:
    """The fingerprints a database's cache keeps, read in path order a chunk at a time
    and handed to look-ups that come in that order; a look-up out of that order reads
    its entry alone (as :class:`iucut.digests._Reader` reads the cut cache)."""

    CHUNK = 512

    def __init__(self, conn: sqlite3.Connection, db: str) -> None:
        self.conn, self.db = conn, db
        self.chunk: list[tuple[str, int]] = []
        self.at = 0
        self.done = False
        self.after = ""
        self.passed: str | None = None

    def get(self, path: str) -> int | None:
        passed = self.passed
        if passed is not None and path <= passed:
            row = self.conn.execute(_sql()["seen_doc_get"], (self.db, path)).fetchone()
            return None if row is None else int(row[0])
        self.passed = path
        chunk, at = self.chunk, self.at
        if at < len(chunk) and chunk[at][0] == path:  # (the next one: a corpus in order)
            self.at = at + 1
            return chunk[at][1]
        while True:
            chunk, at = self.chunk, self.at
            while at < len(chunk) and chunk[at][0] < path:
                at += 1
            self.at = at
            if at < len(chunk) or self.done:
                break
            from iucut.digests import next_from  # (from the path when it is further)

            self.chunk = self.conn.execute(
                _sql()["seen_docs_after"], (self.db, next_from(self.after, path), self.CHUNK)
            ).fetchall()
            self.at = 0
            if self.chunk:
                self.after = self.chunk[-1][0]
            self.done = len(self.chunk) < self.CHUNK
        if at < len(chunk) and chunk[at][0] == path:
            self.at = at + 1
            return chunk[at][1]
        return None


#: the Seen whose triage runs, by the file of its cache (:meth:`Seen.folder`)
#: (one a thread: the walk runs in the thread of the triage that reads it)
_active: dict[tuple[str, int], Seen] = {}


def active(cache: Path) -> Seen | None:
    """The :class:`Seen` whose triage runs on the cache file ``cache`` (in this process),
    if one does: what the walk's look-ups ask for whole folders."""
    return _active.get((os.fspath(cache), threading.get_ident()))


def _folder_of(doc_path: str) -> str:
    return doc_path[: doc_path.rfind("/") + 1]


def _sql() -> dict[str, str]:
    from iucut.digests import _sql as sql

    return sql()


def open_seen(cache: Path | None, conn: Connection) -> Seen | None:
    """The cache of ``conn``'s stored documents in ``cache``, or None (no cache; a Citus
    cluster)."""
    if cache is None:
        return None
    from iucut.distributed import on_cluster

    if on_cluster(conn):
        return None
    return Seen(cache, database_key(conn))


def _chunks(items: Iterable[Digest | Unchanged], size: int) -> Iterator[list[Digest | Unchanged]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _pair_chunks(items: Iterable[tuple[str, int]], size: int) -> Iterator[list[tuple[str, int]]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class Keys:
    """Document paths, each with the fingerprint of a digest (:func:`~iucut.plan.digest_key`),
    in the order they came, kept compactly: a path ~1 byte a character (:class:`Paths`),
    a fingerprint 8 bytes, where a dict held ~150 bytes more a document (issue #16 part
    3: a triage that reads every row finds the whole corpus up to date, or to do)."""

    __slots__ = ("keys", "paths")

    def __init__(self) -> None:
        self.paths = Paths()
        self.keys = array("q")

    def append(self, path: str, key: int) -> None:
        self.paths.append(path)
        self.keys.append(key)

    def clear(self) -> None:
        self.paths, self.keys = Paths(), array("q")

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return zip(self.paths, self.keys, strict=True)

    def having(self, flags: bytes | bytearray, value: bool) -> Iterator[tuple[str, int]]:
        """The pairs whose flag (a byte each, in their order) is ``value``."""
        return (pair for pair, flag in zip(self, flags, strict=True) if bool(flag) is value)


class Todo(Keys):
    """The documents to do of a triage (:class:`Keys`), and the stored rows they had at
    its token: how many, and the sum of their hashes (what :meth:`Seen._after` takes
    from the token to add the rows written in their place)."""

    __slots__ = ("rows", "sum")

    def __init__(self) -> None:
        super().__init__()
        self.rows = 0
        self.sum = 0

    def append(self, path: str, key: int, row_hash: int | None = None) -> None:
        super().append(path, key)
        if row_hash is not None:
            self.rows, self.sum = self.rows + 1, self.sum + row_hash

    def clear(self) -> None:
        super().clear()
        self.rows = self.sum = 0
