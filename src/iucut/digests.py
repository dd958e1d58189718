"""What a cut made of a file, remembered: an unchanged re-sync reads and hashes every file
but cuts none.

For each file cut, the cache keeps its :class:`~iucut.plan.Digest` (identity, document
hash, cut digest, profile, warnings: no text) under the sha256 of the file's bytes, its
document path and the fingerprint of the rules it was cut with (the iucut version, the
cutter, the configuration, ``--namespace``/``--profile``). Cutting is a function of
exactly these, so a file whose bytes and rules did not change has the digest of its last
cut; apply compares that digest with what the database stores for the document (its
hash, its cut digest, its profile) as it compares a fresh cut, and writes nothing when
they agree. A change of bytes or of rules misses the cache and the file is cut.

**The stat fast path** (git's index): with each digest the cache keeps the file's
``(size, mtime_ns, ctime_ns, inode, device)`` as it was *before* the bytes were read and
the time of that look. A file whose stat is the same today is not read at all, unless
the entry is *racy*: its mtime is within :data:`RACY_MARGIN_NS` of the moment the entry
was taken (a write in the same clock tick as the look leaves the same stat, so such an
entry proves nothing and the file is read and hashed). A racy or stale entry whose
bytes still hash the same is taken again with the new stat, so the next re-sync is fast.
A change of content always moves the ctime (which no program can set back), so it is
seen even when the mtime is restored; what the fast path cannot see is a change that
leaves all five fields equal (a clock set back, a file system that does not keep
them): ``--rehash`` (``plan``/``apply``) reads and hashes every file.

**Apply's look-up** (issue #16 part 3): a file whose stat is its entry's (not racy) is
answered by an :class:`~iucut.plan.Unchanged`: its namespace, the fingerprint of its
digest (:func:`~iucut.plan.digest_key`) and its warnings (shown again at every re-sync),
kept in columns of their own with the five stat fields packed as bytes (``fast_stat``,
NULL for a racy entry; under ``--strict`` an entry with warnings is not answered so: the
document is cut again, to be rejected). No digest is decoded, none made: apply's triage
skips the file by what it last saw of the database (:mod:`iucut.seen`), and reads the
entry again only when the database changed since or the fingerprint is not the one
found up to date there. ``plan`` still gets every digest (it shows each document).

The cache is a SQLite file in the iucut home (``IUCUT_HOME``, ``~/.iucut``):
``cut-digests.sqlite3``. Deleting it only costs one re-sync its speed. Its entries for
one rules fingerprint are read in document-path order, a chunk at a time, as the
look-ups of a pass come in that order (:class:`_Reader`: the client holds a chunk, not
the cache; a look-up out of order reads its entry alone); :func:`reread` (which each
command calls) starts over. Its statements are in ``iucut/sql/sqlite.sql``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sqlite3
import struct
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from stat import S_ISREG
from typing import Any, cast

from iucut._version import __version__
from iucut.plan import Digest, Unchanged, digest_key

FILE_NAME = "cut-digests.sqlite3"
SQL_FILE = "sqlite.sql"
#: An entry taken less than this after the file's mtime is racy: the file is read and
#: hashed (file system clocks are coarse — a tick of a few ms, 2 s on FAT — and a
#: network file system's clock is not ours).
RACY_MARGIN_NS = 2_000_000_000

#: ``(size, mtime_ns, ctime_ns, inode, device, taken_ns)``: a file's stat and when it was
#: taken (wall clock, ns), before its bytes were read.
StatKey = tuple[int, int, int, int, int, int]


def stat_key(st: os.stat_result, taken_ns: int | None = None) -> StatKey:
    """The stat of a file as the cache keeps it (``taken_ns``: when it was taken, now by
    default: take it *before* reading the bytes)."""
    return (
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_ino,
        st.st_dev,
        time.time_ns() if taken_ns is None else taken_ns,
    )


def stat_unchanged(recorded: Any, now: StatKey) -> bool:
    """Whether a file whose stat is ``now`` is known from an entry taken at ``recorded``
    without reading it: the five fields equal and the entry not racy."""
    if not isinstance(recorded, list | tuple) or len(recorded) != 6:
        return False
    if tuple(recorded[:5]) != now[:5]:
        return False
    mtime, taken = now[1], recorded[5]
    return bool(taken - mtime >= RACY_MARGIN_NS)


_open: dict[tuple[int, str], sqlite3.Connection] = {}  # per process (workers fork)
#: this process's id, kept (``os.getpid`` is a system call, and a look-up a file asked it)
_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)
#: an entry: ``(doc_path, file_hash, data, stat, namespace, digest key, fast stat,
#: warnings)`` (a fast look-up's chunk: the second to fourth None when there is a fast
#: stat; the warnings a JSON list, None when there are none)
_Entry = tuple[Any, ...]
_HASH, _DATA, _STAT, _NAMESPACE, _KEY, _FAST, _WARNINGS = 1, 2, 3, 4, 5, 6, 7
#: the five fields of a stat as the fast stat packs them (see :func:`packed_stat`)
_PACK = struct.Struct("<QqqQQ").pack


class _Reader:
    """The entries of one rules fingerprint, read in document-path order a chunk at a
    time and handed to look-ups that come in that order (a corpus listed in order): the
    client holds one chunk of entries, not the cache. A look-up out of that order (a
    path at or before one already passed) reads its entry alone."""

    CHUNK = 512

    def __init__(self, conn: sqlite3.Connection, rules: str, fast: bool = False) -> None:
        self.conn, self.rules = conn, rules
        #: the chunk's entries with a fast stat come without digest, hash and stat text
        self.query = "cache_entries_after_fast" if fast else "cache_entries_after"
        self.chunk: list[tuple[Any, ...]] = []
        self.at = 0  # the next row of the chunk
        self.done = False  # no row after the chunk
        self.after = ""  # the path of the chunk's last row
        #: every entry before this path was passed (None: none yet)
        self.passed: str | None = None
        #: the path of the last entry handed over (asked again: read alone)
        self.taken: str | None = None

    def get(self, doc_path: str) -> _Entry | None:
        row = self.peek(doc_path)
        if row is not None and self.at < len(self.chunk) and self.chunk[self.at] is row:
            self.take()
        return row

    def peek(self, doc_path: str) -> _Entry | None:
        """The entry of ``doc_path`` (as :meth:`get`), left in the chunk: :meth:`take`
        hands it over (a look-up that does not keep it leaves it for a full look-up)."""
        if self.passed is not None and (doc_path < self.passed or doc_path == self.taken):
            return entry(self.conn, self.rules, doc_path)
        while True:
            chunk, at = self.chunk, self.at
            while at < len(chunk) and chunk[at][0] < doc_path:
                at += 1
            self.at = at
            if at < len(chunk) or self.done:
                break
            self._next_chunk(doc_path)
        self.passed = doc_path
        if at < len(chunk) and chunk[at][0] == doc_path:
            return chunk[at]
        return None  # (the next entry's path is after it: it has none)

    def take(self) -> None:
        """The entry :meth:`peek` found handed over (the chunk drops it)."""
        self.taken = self.chunk[self.at][0]
        self.chunk[self.at] = _PASSED  # (the digest holds it now)
        self.at += 1

    def fast_run(
        self,
        doc_paths: Sequence[str],
        packed: Sequence[bytes | None],
        out: list[Any],
        start: int,
        origin: Entries,
        strict: bool = False,
    ) -> int:
        """:meth:`Lookup.fast_run` on this reader: as :meth:`peek` then :meth:`take` for
        each path whose entry's fast stat is its packed stat, inline; it stops at the
        first path that is not one (peeked, left in the chunk), that comes out of order
        (not peeked: a full look-up reads its entry alone) or, under ``strict``, whose
        entry has warnings (the document is cut again, to be rejected)."""
        chunk, at, i, n = self.chunk, self.at, start, len(doc_paths)
        new = _new_unchanged
        try:
            while i < n:
                path, stat = doc_paths[i], packed[i]
                if stat is None:
                    break
                if self.passed is not None and (path < self.passed or path == self.taken):
                    break
                while at < len(chunk) and chunk[at][0] < path:
                    at += 1
                if at == len(chunk) and not self.done:
                    self.at = at
                    self._next_chunk(path)
                    chunk, at = self.chunk, 0
                    continue
                self.passed = path
                if at == len(chunk):
                    break  # (no entry: a miss)
                row = chunk[at]
                if row[0] != path or row[_FAST] != stat:
                    break  # (peeked: the full look-up finds it at ``at``)
                warned = row[_WARNINGS]
                if warned is None:
                    out[i] = new(Unchanged, (path, row[_NAMESPACE], row[_KEY], origin, ()))
                elif strict:
                    break  # (peeked: the full look-up does not answer it under strict)
                else:
                    out[i] = _unchanged(path, row, origin)
                self.taken = path
                chunk[at] = _PASSED
                at += 1
                i += 1
        finally:
            self.at = at
        return i

    def _next_chunk(self, wanted: str) -> None:
        """The chunk from the entry after the last one read, or from ``wanted`` when
        that is after it (the entries between, of files not looked up, are not read)."""
        self.chunk = self.conn.execute(
            _sql()[self.query], (self.rules, next_from(self.after, wanted), self.CHUNK)
        ).fetchall()
        self.at = 0
        if self.chunk:
            self.after = self.chunk[-1][0]
        self.done = len(self.chunk) < self.CHUNK


def next_from(last: str, wanted: str) -> str:
    """Where a chunk read in path order goes on from: the first path after ``last``
    (the one read last; ``""``: none) or ``wanted``, whichever is later. A path holds no
    NUL, so none lies between ``last`` and ``last + "\x01"`` but ``last + "\x00…"``."""
    first = last + "\x01" if last else ""
    return wanted if wanted > first else first


_PASSED: _Entry = ("", "", "", None, None, None, None, None)


def entry(conn: sqlite3.Connection, rules: str, doc_path: str) -> _Entry | None:
    """The entry of ``doc_path`` read alone."""
    row = conn.execute(_sql()["cache_entry"], (rules, doc_path)).fetchone()
    return None if row is None else tuple(row)


class Entries:
    """The entries of one cache file and rules fingerprint read again one by one: what
    an :class:`~iucut.plan.Unchanged` of this pass was made from (one object for every
    file of the pass)."""

    def __init__(self, cache: Path, rules: str) -> None:
        self.cache, self.rules = cache, rules

    def digest(self, doc_path: str, key: int) -> Digest | None:
        """The digest of ``doc_path``'s entry when its fingerprint is still ``key``."""
        conn = _connect(self.cache)
        if conn is None:
            return None
        try:
            row = entry(conn, self.rules, doc_path)
        except sqlite3.Error:
            return None
        if row is None or row[_KEY] != key:
            return None
        return _digest(row[_DATA], None)


#: the reader of each (process, cache file, rules), made at the first look-up
_readers: dict[tuple[int, Path, str, bool], _Reader] = {}


@functools.cache
def _sql() -> dict[str, str]:
    """The cache's statements (``iucut/sql/sqlite.sql``), read once."""
    from iucut.db.queries import _read, parse

    return parse(_read(SQL_FILE), f"iucut/sql/{SQL_FILE}")


#: The folder of the cutter (its rules, scanner and compiled core): what cutting is made of.
CUTTER = Path(__file__).parent / "cut"


@functools.cache
def cutter_digest(folder: Path) -> str:
    """The sha256 of the files of the cutter in ``folder`` (its Python modules, the
    compiled core) and of the unit hash form: cutting rules that change without a new
    version number (a fix, a development install) change it, so the cache never gives a
    file the digest of a cut made by other rules."""
    h = hashlib.sha256((Path(__file__).parent / "units.py").read_bytes())
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in (".py", ".so", ".pyd"):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def rules_fingerprint(
    config: Mapping[str, Any] | None, *, namespace: str | None, profile: str | None
) -> str:
    """The fingerprint of everything besides the bytes that a cut depends on."""
    from iucut.cut import compiled

    data = {
        "iucut": __version__,
        "cutter": cutter_digest(CUTTER),
        "compiled": compiled(),
        "pure": os.environ.get("IUCUT_PURE_PYTHON", ""),
        "config": config or {},
        "namespace": namespace,
        "profile": profile,
    }
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _connect(path: Path) -> sqlite3.Connection | None:
    key = (_pid, str(path))
    conn = _open.get(key)
    if conn is None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            conn.execute(_sql()["cache_schema"])
        except sqlite3.Error:
            return None  # no cache: every file is cut
        _drop_old_tables(conn)
        _open[key] = conn
    return conn


def _drop_old_tables(conn: sqlite3.Connection) -> None:
    """Drop the tables an older iucut kept in the cache file and this one does not read
    (their pages go to the new tables). Only a saving of space: when it cannot be done
    now (e.g. another process holds the file), the cache is used as it is."""
    with contextlib.suppress(sqlite3.Error):
        (old,) = conn.execute(_sql()["cache_old_tables"]).fetchone()
        if old:
            conn.executescript(_sql()["cache_drop_old"])


def lookup(
    doc_path: str,
    file_hash: str | Callable[[], str] | None,
    stat: StatKey | None = None,
    *,
    cache: Path,
    rules: str,
    strict: bool = False,
    rehash: bool = False,
    fast: bool = False,
) -> Digest | Unchanged | None:
    """The digest of the last cut of ``doc_path`` when its rules are the same and its
    bytes are: ``file_hash`` (the sha256 of the bytes) equal to the entry's, or, when
    ``file_hash`` is None, ``stat`` equal to the entry's and the entry not racy
    (:func:`stat_unchanged`; never under ``rehash``). A function as ``file_hash`` is
    called (the file read and hashed) only when there is an entry and the stat does not
    settle it: a file never cut before is not read here. Else None (also under ``strict``
    for a document with warnings: it is cut, to be rejected as --strict rejects it).

    A digest found by its hash carries ``stat`` when the entry's differs (a touch, a
    racy entry): :func:`remember` takes it again, so the next look needs no read.

    ``fast`` (apply): a file known by its stat is answered by an
    :class:`~iucut.plan.Unchanged` (its namespace, the fingerprint of its digest and its
    warnings, as the entry keeps them): no digest decoded, none made (under ``strict``,
    not one with warnings)."""
    reader = _reader(cache, rules, fast)
    if reader is None:
        return None
    try:
        row = reader.get(doc_path)
    except sqlite3.Error:
        return None
    if row is None:
        return None
    refresh: StatKey | None = None
    fast_stat = row[_FAST]
    if fast_stat is not None and fast:
        if stat is not None and not rehash and fast_stat == packed_stat(stat):
            if strict and row[_WARNINGS] is not None:
                return None  # (cut again, to be rejected as --strict rejects it)
            return _unchanged(doc_path, row, _entries(cache, rules))
        try:  # (the chunk has not the rest of this entry: read alone)
            row = entry(reader.conn, rules, doc_path)
        except sqlite3.Error:
            return None
        if row is None:
            return None
    # (the stat compared once: a look-up a file of the corpus; read from the entry's
    # text without a decoder when its five fields are the same, as is every file's of an
    # unchanged corpus)
    same_stat = stat is not None and _same_stat(row[_STAT], stat)
    if callable(file_hash):
        file_hash = None if same_stat and not rehash else file_hash()
    if file_hash is None:
        if rehash or not same_stat:
            return None
    elif row[_HASH] != file_hash:
        return None
    elif stat is not None and not same_stat:
        refresh = stat
    found = _digest(row[_DATA], refresh)
    if found is None or (strict and found.warnings):
        return None
    return found


class Lookup:
    """:func:`lookup` with its cache, rules and options bound (what a pass over the corpus
    hands the cutter as its ``known``), and :meth:`fast_run`: the look-ups of a folder's
    files by their packed stats alone (:func:`iucut.cut.source.cut_map`)."""

    def __init__(
        self,
        *,
        cache: Path,
        rules: str,
        strict: bool = False,
        rehash: bool = False,
        fast: bool = False,
    ) -> None:
        self.cache, self.rules = cache, rules
        self.strict, self.rehash, self.fast_lookups = strict, rehash, fast
        #: what an Unchanged of this pass reads its entry again from (one for the pass)
        self.origin = _entries(cache, rules)

    def __call__(
        self, doc_path: str, file_hash: str | Callable[[], str] | None, stat: StatKey | None = None
    ) -> Digest | Unchanged | None:
        return lookup(
            doc_path,
            file_hash,
            stat,
            cache=self.cache,
            rules=self.rules,
            strict=self.strict,
            rehash=self.rehash,
            fast=self.fast_lookups,
        )

    def fast_run(
        self, doc_paths: Sequence[str], packed: Sequence[bytes | None], out: list[Any], start: int
    ) -> int:
        """An :class:`~iucut.plan.Unchanged` for each of ``doc_paths[start:]`` whose
        entry's fast stat is its packed stat (:func:`packed_stat`; None: a file not to
        look up so), put in ``out`` at the same places, up to the first that it does
        not answer (a miss, or a path out of the order of the look-ups): its index is
        returned (``len(doc_paths)`` when every one was answered). The caller looks that
        one up in full before it asks for the rest, so look-ups stay in path order (the
        entry of a file whose stat differs may still settle it by hash). None is
        answered under ``rehash`` or without ``fast``. One loop over the cache's chunk,
        not a call a file: what an unchanged re-sync does for each file of the corpus."""
        n = len(doc_paths)
        if self.rehash or not self.fast_lookups or start >= n:
            return start
        reader = _reader(self.cache, self.rules, True)
        if reader is None:
            return start
        try:
            return reader.fast_run(doc_paths, packed, out, start, self.origin, self.strict)
        except sqlite3.Error:
            return start

    def folder_pass(
        self, folder: str, names: Sequence[str], packed: Sequence[bytes | None]
    ) -> tuple[Any, Callable[[list[Any]], object] | None]:
        """A folder's files at once (:data:`iucut.cut.source.FolderPass`): when apply's
        triage is running on this cache (:func:`iucut.seen.active`), the
        :class:`~iucut.units.UnchangedFolder` it vouches for when the folder's
        fingerprint (:func:`folder_fingerprint`) is one it found up to date at the
        database's token (with its documents' warnings), else None and what tells it
        that every file of the folder was then known by its stat (their
        :class:`~iucut.plan.Unchanged`, for their warnings). Nothing under ``rehash`` or
        without ``fast``; under ``strict``, not a folder with warnings (its documents
        are cut again, to be rejected)."""
        if self.rehash or not self.fast_lookups:
            return None, None
        from iucut.seen import active

        seen = active(self.cache)
        if seen is None:
            return None, None
        fingerprint = folder_fingerprint(self.rules, names, packed)
        whole = seen.folder(folder, names, fingerprint)
        if whole is not None:
            if self.strict and whole.warnings:
                return None, None
            return whole, None
        return None, functools.partial(seen.known_folder, folder, fingerprint)


def folder_fingerprint(rules: str, names: Sequence[str], packed: Sequence[bytes | None]) -> bytes:
    """What a folder's files are as the cut cache knows them by their stats: the rules
    fingerprint, their names (in their order) and their packed stats
    (:func:`packed_stat`, each the same length; None is not one)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(rules.encode("utf-8", "surrogatepass"))
    h.update(b"\0")
    h.update("\0".join(names).encode("utf-8", "surrogateescape"))
    h.update(b"\0")
    if None in packed:
        raise ValueError("a file without a packed stat has no folder fingerprint")
    h.update(b"".join(cast("Sequence[bytes]", packed)))  # (as one update of each: the same)
    return h.digest()


def _digest(data: str, refresh: StatKey | None) -> Digest | None:
    """The digest an entry keeps (None: unreadable)."""
    try:
        d = _decoded(data)
        return Digest(
            d["path"],
            d["namespace"],
            d["doc_hash"],
            d["cut_digest"],
            int(d["units"]),
            # (a few values across the corpus: one string each, not one a document)
            _interned(d["profile"]),
            _interned(d["profile_source"]),
            tuple(d["warnings"]),
            True,  # cached (the last three by position: a look-up a file)
            int(d["size"]),  # size (an entry without it: cut again)
            refresh,  # stat
        )
    except (ValueError, KeyError, TypeError):
        return None


@functools.lru_cache(maxsize=8)
def _entries(cache: Path, rules: str) -> Entries:
    return Entries(cache, rules)


_new_unchanged: Callable[[type[Unchanged], tuple[Any, ...]], Unchanged] = tuple.__new__


def _unchanged(doc_path: str, row: _Entry, origin: Entries) -> Unchanged:
    """The :class:`~iucut.plan.Unchanged` of an entry known by its stat (the tuple made
    directly: a look-up a file of the corpus), with the warnings it keeps."""
    warned = row[_WARNINGS]
    warnings: tuple[str, ...] = ()
    if warned is not None:
        with contextlib.suppress(ValueError, TypeError):
            warnings = tuple(str(w) for w in json.loads(warned))
    return _new_unchanged(Unchanged, (doc_path, row[_NAMESPACE], row[_KEY], origin, warnings))


#: the JSON decoder's scanner (C): an object at the start of a text and where it ends
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _decoded(text: str) -> Any:
    """``json.loads`` of an entry's digest, by the scanner alone when the text is one
    value with nothing around it (as :func:`remember` writes it): half the cost."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return json.loads(text)  # (raises as json.loads does)
    return value if end == len(text) else json.loads(text)


def _same_stat(text: str | None, now: StatKey) -> bool:
    """:func:`stat_unchanged` of the stat an entry keeps (the text :func:`remember`
    writes: ``json.dumps`` of a list of six ints) and ``now``: its five fields compared
    as text, only the time it was taken read as a number."""
    if not text:
        return False
    head = f"[{now[0]}, {now[1]}, {now[2]}, {now[3]}, {now[4]}, "
    if not text.startswith(head) or text[-1] != "]":
        return stat_unchanged(_stat_of(text), now)  # (another form: read whole)
    try:
        taken = int(text[len(head) : -1])
    except ValueError:
        return False
    return taken - now[1] >= RACY_MARGIN_NS


def packed_stat(stat: tuple[int, ...]) -> bytes | None:
    """The five fields of a stat key packed (what an entry's fast stat is compared
    with: one bytes object, not five numbers, read from the cache); None when they do
    not fit."""
    try:
        return _PACK(stat[0], stat[1], stat[2], stat[3], stat[4])
    except (struct.error, IndexError, TypeError):
        return None


def packed_lstat(path: str, limit: int) -> bytes | None:
    """The :func:`packed_stat` of the regular file ``path`` names itself (not through a
    link) when it holds at most ``limit`` bytes, else None (a link, another kind of file,
    too large, gone): a file of the corpus compared with its entry by one ``lstat``."""
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return None
    if not S_ISREG(st.st_mode) or st.st_size > limit:
        return None
    try:
        return _PACK(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    except struct.error:
        return None


_LstatPacked = Callable[[str, Sequence[str], int], list[bytes | None]]
_lstat_packed: _LstatPacked | None
try:  # (compiled: the folder opened once and its files looked at without the GIL)
    from iucut._stat import lstat_packed as _lstat_packed
except ImportError:  # (no C compiler at install: os.lstat, one file at a time)
    _lstat_packed = None


def packed_lstats(folder: str, names: Sequence[str], limit: int) -> list[bytes | None]:
    """:func:`packed_lstat` of each of ``names`` in ``folder`` (a path that ends with a
    separator): the files of a folder of the corpus compared with their entries by one
    call (compiled, ``iucut._stat``: the folder opened once, its files looked at
    relative to it, without the GIL)."""
    if _lstat_packed is not None:
        try:
            return _lstat_packed(folder, names, limit)
        except (OSError, ValueError, UnicodeError):
            pass  # (a folder that cannot be opened: each file says why, the slow way)
    return [packed_lstat(folder + name, limit) for name in names]


def _fast_stat(d: Digest) -> bytes | None:
    """An entry's fast stat: None when the entry is racy (its mtime within the margin
    of when it was taken)."""
    stat = d.stat
    if stat is None or len(stat) != 6 or stat[5] - stat[1] < RACY_MARGIN_NS:
        return None
    return packed_stat(stat)


def _interned(value: str | None) -> str | None:
    return None if value is None else sys.intern(value)


def _stat_of(text: str | None) -> tuple[int, ...] | None:
    """The stat an entry keeps (``json.dumps`` of a list of ints, as :func:`remember`
    writes it), read without the JSON decoder (a look-up a file); None if unreadable."""
    if not text or text[0] != "[" or text[-1] != "]":
        return None
    try:
        return tuple(map(int, text[1:-1].split(",")))
    except ValueError:
        return None


def _reader(cache: Path, rules: str, fast: bool = False) -> _Reader | None:
    """The reader of the entries of ``rules`` in ``cache`` (None: no cache); ``fast``:
    for :func:`lookup`'s fast look-ups."""
    key = (_pid, cache, rules, fast)
    found = _readers.get(key)
    if found is None:
        conn = _connect(cache)
        if conn is None:
            return None
        found = _readers[key] = _Reader(conn, rules, fast)
    return found


def reread() -> None:
    """Forget the entries read so far: the next look-up reads the cache file again (a
    command starts with this, so that what other processes wrote since is seen)."""
    _readers.clear()


def remember(
    digests: Iterable[Digest],
    *,
    cache: Path,
    rules: str,
    reread: bool = True,
    wrote: bool = False,
) -> None:
    """Keep the digests of files just cut (their document hash is the sha256 of the
    file's bytes) with their stat, and the new stat of files read again unchanged.

    ``reread``: this process's next look-up reads the cache afresh (what it wrote);
    false for a batch remembered during a walk (a first apply remembers its digests a
    batch at a time): the walk's readers go on from where they are (the entries written
    are of files they passed; a reader made again would read every entry from the first
    one up to the walk's place). ``wrote``: earlier batches of this walk wrote entries
    (the readers are then made again even when these digests write none)."""
    conn = _connect(cache)
    if conn is None:
        return
    if reread and wrote:
        _forget_readers(cache, rules)
    rows = [
        (
            rules,
            d.path,
            d.doc_hash,
            json.dumps(
                {
                    "path": d.path,
                    "namespace": d.namespace,
                    "doc_hash": d.doc_hash,
                    "cut_digest": d.cut_digest,
                    "units": d.units,
                    "profile": d.profile,
                    "profile_source": d.profile_source,
                    "warnings": list(d.warnings),
                    "size": d.size,
                },
                ensure_ascii=False,
            ),
            None if d.stat is None else json.dumps(list(d.stat)),
            d.namespace,
            digest_key(d),
            _fast_stat(d),
            json.dumps(list(d.warnings), ensure_ascii=False) if d.warnings else None,
        )
        for d in digests
        if not d.cached or d.stat is not None
    ]
    if not rows:
        return
    with contextlib.suppress(sqlite3.Error):  # a cache that cannot be written: no cache
        conn.execute("BEGIN")
        conn.executemany(_sql()["cache_put"], rows)
        conn.execute("COMMIT")
        if reread:  # what this process reads next is what it wrote: it reads afresh
            _forget_readers(cache, rules)


def _forget_readers(cache: Path, rules: str) -> None:
    for fast in (False, True):
        _readers.pop((_pid, cache, rules, fast), None)
