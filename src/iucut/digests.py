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

The cache is a SQLite file in the iucut home (``IUCUT_HOME``, ``~/.iucut``):
``cut-digests.sqlite3``. Deleting it only costs one re-sync its speed. Its entries for
one rules fingerprint are read in one query at the first look-up after :func:`reread`
(which each command calls; a re-sync looks up every file), and an entry found is handed
over to its digest; its statements are in ``iucut/sql/sqlite.sql``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from iucut._version import __version__
from iucut.plan import Digest

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
#: ``(file_hash, data, stat)`` by document path, per (cache file, rules): read at the
#: first look-up, kept up to date by :func:`remember` (a forked worker inherits them)
_Entry = tuple[str, str, str | None]
_entries: dict[tuple[str, str], dict[str, _Entry]] = {}


@functools.cache
def _sql() -> dict[str, str]:
    """The cache's statements (``iucut/sql/sqlite.sql``), read once."""
    from iucut.db.queries import _read, parse

    return parse(_read(SQL_FILE), f"iucut/sql/{SQL_FILE}")


def rules_fingerprint(
    config: Mapping[str, Any] | None, *, namespace: str | None, profile: str | None
) -> str:
    """The fingerprint of everything besides the bytes that a cut depends on."""
    from iucut.cut.cutter import COMPILED

    data = {
        "iucut": __version__,
        "compiled": COMPILED,
        "pure": os.environ.get("IUCUT_PURE_PYTHON", ""),
        "config": config or {},
        "namespace": namespace,
        "profile": profile,
    }
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _connect(path: Path) -> sqlite3.Connection | None:
    key = (os.getpid(), str(path))
    conn = _open.get(key)
    if conn is None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            conn.execute(_sql()["cache_schema"])
        except sqlite3.Error:
            return None  # no cache: every file is cut
        _open[key] = conn
    return conn


def lookup(
    doc_path: str,
    file_hash: str | Callable[[], str] | None,
    stat: StatKey | None = None,
    *,
    cache: Path,
    rules: str,
    strict: bool = False,
    rehash: bool = False,
) -> Digest | None:
    """The digest of the last cut of ``doc_path`` when its rules are the same and its
    bytes are: ``file_hash`` (the sha256 of the bytes) equal to the entry's, or, when
    ``file_hash`` is None, ``stat`` equal to the entry's and the entry not racy
    (:func:`stat_unchanged`; never under ``rehash``). A function as ``file_hash`` is
    called (the file read and hashed) only when there is an entry and the stat does not
    settle it: a file never cut before is not read here. Else None (also under ``strict``
    for a document with warnings: it is cut, to be rejected as --strict rejects it).

    A digest found by its hash carries ``stat`` when the entry's differs (a touch, a
    racy entry): :func:`remember` takes it again, so the next look needs no read."""
    entries = _load(cache, rules)
    if entries is None:
        return None
    row = entries.get(doc_path)
    if row is None:
        return None
    recorded = _stat_of(row[2])
    refresh: StatKey | None = None
    # (the stat compared once: a look-up a file of the corpus)
    same_stat = stat is not None and stat_unchanged(recorded, stat)
    if callable(file_hash):
        file_hash = None if same_stat and not rehash else file_hash()
    if file_hash is None:
        if rehash or not same_stat:
            return None
    elif row[0] != file_hash:
        return None
    elif stat is not None and not same_stat:
        refresh = stat
    try:
        d = json.loads(row[1])
        if strict and d["warnings"]:
            return None
        found = Digest(
            d["path"],
            d["namespace"],
            d["doc_hash"],
            d["cut_digest"],
            int(d["units"]),
            d["profile"],
            d["profile_source"],
            tuple(d["warnings"]),
            cached=True,
            size=int(d["size"]),  # (an entry without it: cut again)
            stat=refresh,
        )
    except (ValueError, KeyError, TypeError):
        return None
    # handed over: a pass looks a file up until it is found, once, and the digest now
    # holds what the entry held (so the client holds each document's digest once)
    entries.pop(doc_path, None)
    return found


def _stat_of(text: str | None) -> tuple[int, ...] | None:
    """The stat an entry keeps (``json.dumps`` of a list of ints, as :func:`remember`
    writes it), read without the JSON decoder (a look-up a file); None if unreadable."""
    if not text or text[0] != "[" or text[-1] != "]":
        return None
    try:
        return tuple(map(int, text[1:-1].split(",")))
    except ValueError:
        return None


def _load(cache: Path, rules: str) -> dict[str, _Entry] | None:
    """Every entry of ``rules`` in ``cache``, read in one query the first time (None:
    no cache)."""
    key = (os.fspath(cache), rules)
    found = _entries.get(key)
    if found is None:
        conn = _connect(cache)
        if conn is None:
            return None
        try:  # (row by row: not a list of every row besides the dict)
            rows = conn.execute(_sql()["cache_entries"], (rules,))
            found = {r[0]: (r[1], r[2], r[3]) for r in rows}
        except sqlite3.Error:
            return None
        _entries[key] = found
    return found


def reread() -> None:
    """Forget the entries read so far: the next look-up reads the cache file again (a
    command starts with this, so that what other processes wrote since is seen)."""
    _entries.clear()


def remember(digests: Iterable[Digest], *, cache: Path, rules: str) -> None:
    """Keep the digests of files just cut (their document hash is the sha256 of the
    file's bytes) with their stat, and the new stat of files read again unchanged."""
    conn = _connect(cache)
    if conn is None:
        return
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
        loaded = _entries.get((str(cache), rules))
        if loaded is not None:  # what this process reads next is what it wrote
            loaded.update((r[1], (r[2], r[3], r[4])) for r in rows)
