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
server gives with the token, so the formula lives in the query alone. A new formula
(a new iucut) gives another token for the same rows: the next apply finds it is not
the one kept and reads every row once, as without the cache. On a Citus cluster it is
not used (every triage reads the rows)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any

from iucut.db.connector import Connection
from iucut.plan import Digest, Unchanged, digest_key, is_current

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
        self.updates: dict[str, int] = {}
        #: the documents to do: their digest and their row's hash at ``token`` (None: no row)
        self.todo: dict[str, tuple[Digest | Unchanged, int | None]] = {}

    # ------------------------------------------------------------------ the triage

    def triage(
        self,
        conn: Connection,
        docs: Iterable[Digest | Unchanged],
        skip: Callable[[Digest | Unchanged], object],
    ) -> tuple[list[Digest | Unchanged], dict[str, dict[str, Any]]]:
        """The documents of ``docs`` not up to date, in their order, with the stored rows
        of those stored (as the triage without the cache finds them); ``skip`` is called
        with each one up to date, as it comes. ``docs`` is read once, as it comes (a
        corpus in path order): the client holds a chunk of entries or rows and the
        documents to do, not the corpus.

        The database's token is read first. When it is the one the cache holds, each
        document is compared with the fingerprint found up to date at its path, and only
        the rows of the others are read (with the token again: when someone wrote in
        between, what was skipped was up to date at the first token, and nothing new is
        kept). Else the stored rows are read a chunk of paths at a time, with the token
        before and after: only when they agree (no one wrote meanwhile) is what was found
        kept, at that token."""
        cached = self._cached()
        now = self._token(conn) if cached is not None else None
        if cached is not None and now == cached:
            return self._warm(conn, docs, skip, cached)
        return self._cold(conn, docs, skip, now)

    def _warm(
        self,
        conn: Connection,
        docs: Iterable[Digest | Unchanged],
        skip: Callable[[Digest | Unchanged], object],
        cached: Token,
    ) -> tuple[list[Digest | Unchanged], dict[str, dict[str, Any]]]:
        ask: list[Digest | Unchanged] = []
        lite = self._connect()
        entries = None if lite is None else _Entries(lite, self.db)
        get = None if entries is None else entries.get
        for d in docs:
            try:
                found = None if get is None else get(d.path)
            except sqlite3.Error:
                get, found = None, None
            # (an Unchanged's key read as the tuple's third field: a document a file)
            if found is not None and found == (d[2] if type(d) is Unchanged else digest_key(d)):
                skip(d)
            else:
                ask.append(d)
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
        return todo, rows

    def _cold(
        self,
        conn: Connection,
        docs: Iterable[Digest | Unchanged],
        skip: Callable[[Digest | Unchanged], object],
        before: Token | None,
    ) -> tuple[list[Digest | Unchanged], dict[str, dict[str, Any]]]:
        if before is None:
            before = self._token(conn)
        todo: list[Digest | Unchanged] = []
        rows: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(docs, self.CHUNK):
            by_path = {d.path: d for d in chunk}
            current, found = self._split(conn, by_path, list(by_path), hashed_only=True)
            rows.update(found)
            for d in chunk:
                if d.path in current:
                    skip(d)
                else:
                    todo.append(d)
        after = self._token(conn)
        self.token = before if after == before else None  # (else: keep nothing)
        self.base = None  # (every row of the corpus read: the entries are replaced)
        if self.token is None:
            self.updates.clear()
            self.todo.clear()
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
                self.updates[path] = digest_key(d)
            else:
                rows[path] = {k: row[k] for k in ROW_COLUMNS}
                self.todo[path] = (d, row["row_hash"])
        for path in paths:
            if path not in current and path not in rows:
                self.todo[path] = (by_path[path], None)  # new: no row
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
        token, updates, drops = self.token, dict(self.updates), set[str]()
        if wrote and self.todo and conn is not None:
            after = self._after(conn)
            if after is not None:
                token, more, drops = after
                updates.update(more)
        self._save(token, updates, drops)

    def _after(self, conn: Connection) -> tuple[Token, dict[str, int], set[str]] | None:
        """The token after apply's writes, with the documents to do now up to date, when
        the old token and those rows alone make it (nothing else written); else None."""
        assert self.token is not None
        before_rows, before_sum = (int(x) for x in self.token.split(":"))
        n, total = before_rows, before_sum
        for _d, old in self.todo.values():
            if old is not None:
                n, total = n - 1, total - old
        current: dict[str, int] = {}
        drops: set[str] = set()
        old_token = self.token
        rows = list(self._rows(conn, list(self.todo)))
        after = self.token
        self.token = old_token
        for row in rows:
            n, total = n + 1, total + int(row["row_hash"])
        if after != f"{n}:{total}":
            return None  # something else was written meanwhile: stay at the old token
        fresh = {row["doc_path"]: row for row in rows}
        for path, (d, _old) in self.todo.items():
            if is_current(fresh.get(path), d):
                current[path] = digest_key(d)
            else:
                drops.add(path)
        assert after is not None
        return after, current, drops

    # ------------------------------------------------------------------ the cache file

    def _connect(self) -> sqlite3.Connection | None:
        from iucut.digests import _connect

        conn = _connect(self.cache)
        if conn is None:
            return None
        try:
            conn.execute(_sql()["seen_schema_token"])
            conn.execute(_sql()["seen_schema_docs"])
        except sqlite3.Error:
            return None
        return conn

    def _save(self, token: Token, updates: Mapping[str, int], drops: Iterable[str]) -> None:
        """Keep ``updates`` (and forget ``drops``) at ``token``: on top of the entries
        when they are still at the token the triage found true (``base``), else in their
        place (every row was read); nothing when another apply moved them meanwhile."""
        conn = self._connect()
        if conn is None:
            return
        sql = _sql()
        with contextlib.suppress(sqlite3.Error):  # a cache that cannot be written: none
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(sql["seen_token_get"], (self.db,)).fetchone()
                if self.base is not None and (row is None or row[0] != self.base):
                    conn.execute("ROLLBACK")
                    return
                if self.base is None:
                    conn.execute(sql["seen_docs_clear"], (self.db,))
                elif row is not None and row[0] == token and not updates and not drops:
                    conn.execute("ROLLBACK")  # nothing new: no write
                    return
                conn.executemany(sql["seen_doc_drop"], ((self.db, p) for p in drops))
                conn.executemany(sql["seen_doc_put"], ((self.db, p, k) for p, k in updates.items()))
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
            self.chunk = self.conn.execute(
                _sql()["seen_docs_after"], (self.db, self.after, self.CHUNK)
            ).fetchall()
            self.at = 0
            if self.chunk:
                self.after = self.chunk[-1][0]
            self.done = len(self.chunk) < self.CHUNK
        if at < len(chunk) and chunk[at][0] == path:
            self.at = at + 1
            return chunk[at][1]
        return None


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
