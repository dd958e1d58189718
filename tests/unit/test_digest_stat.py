"""The cut cache's stat fast path (iucut.digests, as git's index): a file whose stat is
unchanged and whose entry is not racy is not read; anything else is read and hashed."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from iucut import digests
from iucut.cut.source import cut_map
from iucut.plan import Digest, digest_of

TEXT_A = "# Luật\n\n## Điều 1. Phạm vi\n\nNội dung A của điều một.\n"
TEXT_B = "# Luật\n\n## Điều 1. Phạm vi\n\nNội dung B của điều một.\n"  # same size
OLD = 1_700_000_000_000_000_000  # an mtime long before any entry is taken


def _sync(
    monkeypatch: pytest.MonkeyPatch, folder: Path, cache: Path, *, rehash: bool = False
) -> tuple[Digest, int]:
    """One pass of apply's first step over ``folder`` (one file): its digest and how many
    times a file was read."""
    reads: list[Path] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    digests.reread()  # each sync is a command of its own: the cache file is read afresh
    known = functools.partial(digests.lookup, cache=cache, rules="r", rehash=rehash)
    try:
        (found,) = list(cut_map(digest_of, [folder], root=folder, known=known))
    finally:
        monkeypatch.setattr(Path, "read_bytes", real)
    assert isinstance(found, Digest)
    digests.remember([found], cache=cache, rules="r")
    return found, len(reads)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    path = folder / "luat.md"
    path.write_text(TEXT_A, encoding="utf-8")
    assert len(TEXT_A.encode()) == len(TEXT_B.encode())
    return path


def test_an_unchanged_file_with_an_old_entry_is_not_read(
    doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.utime(doc, ns=(OLD, OLD))
    cache = tmp_path / "cache.sqlite3"
    first, reads = _sync(monkeypatch, doc.parent, cache)
    assert not first.cached and reads >= 1 and first.doc_hash == _sha(doc)
    again, reads = _sync(monkeypatch, doc.parent, cache)
    assert again.cached and reads == 0  # the fast path: no byte read
    assert again.doc_hash == first.doc_hash and again.cut_digest == first.cut_digest


def test_a_file_never_cut_is_read_once_by_its_cut_not_to_look_it_up(
    doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the cache holds no entry for is not hashed to be looked up (a first apply
    would read and hash the whole corpus serially in the parent before any worker
    starts): it is read once, where it is cut; so is a file of another path."""
    cache = tmp_path / "cache.sqlite3"
    first, reads = _sync(monkeypatch, doc.parent, cache)
    assert not first.cached and reads == 1
    other = doc.parent / "other.md"
    doc.rename(other)  # the same bytes under a path the cache never saw
    again, reads = _sync(monkeypatch, doc.parent, cache)
    assert not again.cached and reads == 1 and again.doc_hash == first.doc_hash


def test_the_hash_is_asked_for_only_when_an_entry_exists_and_its_stat_does_not_settle_it(
    doc: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.sqlite3"
    asked: list[str] = []

    def hashing() -> str:
        asked.append("hash")
        return _sha(doc)

    key = digests.stat_key(os.stat(doc))
    digests.reread()
    assert digests.lookup("luat.md", hashing, key, cache=cache, rules="r") is None
    assert asked == []  # no entry: nothing to compare the bytes with
    os.utime(doc, ns=(OLD, OLD))
    known = functools.partial(digests.lookup, cache=cache, rules="r")
    (found,) = list(cut_map(digest_of, [doc.parent], root=doc.parent, known=known))
    digests.remember([found], cache=cache, rules="r")
    digests.reread()
    key = digests.stat_key(os.stat(doc))
    assert digests.lookup("luat.md", hashing, key, cache=cache, rules="r") is not None
    assert asked == []  # settled by the stat
    digests.reread()
    hit = digests.lookup("luat.md", hashing, key, cache=cache, rules="r", rehash=True)
    assert hit is not None and asked == ["hash"]  # --rehash: read and hashed


def test_a_same_size_rewrite_in_the_same_tick_as_the_entry_is_read(
    doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The racy case: the entry was taken in the same tick as the file's mtime, so a
    rewrite of the same size in that tick leaves the same stat; the file must be hashed."""
    cache = tmp_path / "cache.sqlite3"
    first, _ = _sync(monkeypatch, doc.parent, cache)
    doc.write_text(TEXT_B, encoding="utf-8")
    st = os.stat(doc)
    # as if A's bytes had been read after a look at the stat B's write left (same tick)
    racy = digests.stat_key(st, taken_ns=st.st_mtime_ns + 1_000_000)
    with sqlite3.connect(cache) as conn:
        conn.execute("UPDATE digest5 SET stat = ?", (json.dumps(list(racy)),))
    again, reads = _sync(monkeypatch, doc.parent, cache)
    assert reads >= 1 and again.doc_hash == _sha(doc) != first.doc_hash
    # the same entry taken well after the mtime is trusted: that is the fast path (and
    # why such an entry is never taken in the same tick: see the racy rule)
    trusted = digests.stat_key(st, taken_ns=st.st_mtime_ns + digests.RACY_MARGIN_NS)
    with sqlite3.connect(cache) as conn:
        conn.execute(
            "UPDATE digest5 SET stat = ?, file_hash = ?, data = ?",
            (json.dumps(list(trusted)), first.doc_hash, _data(first)),
        )
    stale, reads = _sync(monkeypatch, doc.parent, cache)
    assert reads == 0 and stale.doc_hash == first.doc_hash


def _data(d: Digest) -> str:
    return json.dumps(
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
        }
    )


def test_a_fresh_entry_is_racy_and_the_file_is_read(
    doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file written just before it was cut: its entry is racy, so it is read again."""
    cache = tmp_path / "cache.sqlite3"
    _sync(monkeypatch, doc.parent, cache)
    again, reads = _sync(monkeypatch, doc.parent, cache)
    assert again.cached and reads == 1  # hashed, same bytes: not cut


def test_a_touch_without_change_is_hashed_once_then_trusted(
    doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.utime(doc, ns=(OLD, OLD))
    cache = tmp_path / "cache.sqlite3"
    first, _ = _sync(monkeypatch, doc.parent, cache)
    os.utime(doc, ns=(OLD + 10**9, OLD + 10**9))  # touched: new mtime, same bytes
    touched, reads = _sync(monkeypatch, doc.parent, cache)
    assert touched.cached and reads == 1 and touched.doc_hash == first.doc_hash
    again, reads = _sync(monkeypatch, doc.parent, cache)
    assert again.cached and reads == 0  # the entry was taken again with the new stat


def test_a_content_change_with_the_mtime_set_back_is_seen(
    doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same size, mtime restored: the ctime (which no program sets) still moved."""
    os.utime(doc, ns=(OLD, OLD))
    cache = tmp_path / "cache.sqlite3"
    first, _ = _sync(monkeypatch, doc.parent, cache)
    time.sleep(0.02)  # past the file system's clock tick
    doc.write_text(TEXT_B, encoding="utf-8")
    os.utime(doc, ns=(OLD, OLD))
    changed, reads = _sync(monkeypatch, doc.parent, cache)
    assert reads >= 1 and not changed.cached
    assert changed.doc_hash == _sha(doc) != first.doc_hash


def test_rehash_reads_every_file(
    doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.utime(doc, ns=(OLD, OLD))
    cache = tmp_path / "cache.sqlite3"
    _sync(monkeypatch, doc.parent, cache)
    again, reads = _sync(monkeypatch, doc.parent, cache, rehash=True)
    assert again.cached and reads == 1


def test_an_entry_of_the_old_cache_or_a_broken_stat_is_never_trusted(tmp_path: Path) -> None:
    st: Any = os.stat(tmp_path)
    key = digests.stat_key(st, taken_ns=st.st_mtime_ns + 10 * digests.RACY_MARGIN_NS)
    assert digests.stat_unchanged(list(key), key)
    assert not digests.stat_unchanged(None, key)
    assert not digests.stat_unchanged([1, 2], key)
    assert not digests.stat_unchanged([*key[:4], key[4] + 1, key[5]], key)  # device


def test_under_two_jobs_the_known_files_are_answered_in_order_and_the_others_cut(
    tmp_path: Path,
) -> None:
    """--jobs 2: the files known by their stat are answered without a worker, the others
    are cut by the workers; the results stay in source order."""
    folder = tmp_path / "src"
    folder.mkdir()
    names = [f"d{n}.md" for n in range(6)]
    for name in names:
        (folder / name).write_text(TEXT_A.replace("Luật", f"Luật {name}"), encoding="utf-8")
        os.utime(folder / name, ns=(OLD, OLD))
    cache = tmp_path / "cache.sqlite3"
    known = functools.partial(digests.lookup, cache=cache, rules="r")
    first = list(cut_map(digest_of, [folder], root=folder, known=known, jobs=2))
    digests.remember(first, cache=cache, rules="r")  # type: ignore[arg-type]
    for name in names[1::2]:  # every other file changed
        (folder / name).write_text(TEXT_B.replace("Luật", f"Luật {name}"), encoding="utf-8")
    again = list(cut_map(digest_of, [folder], root=folder, known=known, jobs=2))
    assert [d.path for d in again] == names  # type: ignore[union-attr]
    assert [d.cached for d in again] == [True, False] * 3  # type: ignore[union-attr]
    for d in again:
        assert d.doc_hash == _sha(folder / d.path)  # type: ignore[union-attr]


def test_a_pass_reads_the_cache_in_one_query_and_a_command_reads_it_afresh(
    tmp_path: Path,
) -> None:
    """A pass over many files reads every entry of its rules in one SELECT (not one per
    file); reread() (each command) reads the file again, seeing what others wrote."""
    folder = tmp_path / "src"
    folder.mkdir()
    names = [f"d{n}.md" for n in range(20)]
    for name in names:
        (folder / name).write_text(TEXT_A.replace("Luật", f"Luật {name}"), encoding="utf-8")
        os.utime(folder / name, ns=(OLD, OLD))
    cache = tmp_path / "cache.sqlite3"
    known = functools.partial(digests.lookup, cache=cache, rules="r")
    digests.reread()
    first = list(cut_map(digest_of, [folder], root=folder, known=known))
    digests.remember(first, cache=cache, rules="r")  # type: ignore[arg-type]
    digests.reread()
    statements: list[str] = []
    conn = digests._connect(cache)
    assert conn is not None
    conn.set_trace_callback(statements.append)
    try:
        again = list(cut_map(digest_of, [folder], root=folder, known=known))
    finally:
        conn.set_trace_callback(None)
    assert [d.cached for d in again] == [True] * len(names)  # type: ignore[union-attr]
    assert len([s for s in statements if "SELECT" in s.upper()]) == 1, statements
    # another process empties the cache: this one sees it only after reread()
    with sqlite3.connect(cache) as other:
        other.execute("DELETE FROM digest5")
    digests.reread()
    fresh = list(cut_map(digest_of, [folder], root=folder, known=known))
    assert not any(d.cached for d in fresh)  # type: ignore[union-attr]


def test_under_two_jobs_a_file_known_by_its_hash_goes_to_no_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--rehash (or a touch, a fresh clone): a file whose bytes hash to its entry is
    answered by the parent; only the changed file is sent to a worker to be cut."""
    from iucut.cut import source

    folder = tmp_path / "src"
    folder.mkdir()
    names = [f"d{n}.md" for n in range(4)]
    for name in names:
        (folder / name).write_text(TEXT_A.replace("Luật", f"Luật {name}"), encoding="utf-8")
        os.utime(folder / name, ns=(OLD, OLD))
    cache = tmp_path / "cache.sqlite3"
    digests.reread()
    known = functools.partial(digests.lookup, cache=cache, rules="r")
    first = list(cut_map(digest_of, [folder], root=folder, known=known, jobs=2))
    digests.remember(first, cache=cache, rules="r")  # type: ignore[arg-type]
    (folder / "d2.md").write_text(TEXT_B.replace("Luật", "Luật d2.md"), encoding="utf-8")
    sent: list[str | Path] = []
    real_map = source.Workers.map  # (what the windows of a pass hand the workers)

    def recording(workers: Any, items: Any, **options: Any) -> Any:
        items = list(items)
        sent.extend(items)
        return real_map(workers, items, **options)

    monkeypatch.setattr(source.Workers, "map", recording)
    digests.reread()
    rehash = functools.partial(digests.lookup, cache=cache, rules="r", rehash=True)
    again = list(cut_map(digest_of, [folder], root=folder, known=rehash, jobs=2))
    assert [d.cached for d in again] == [True, True, False, True]  # type: ignore[union-attr]
    assert [Path(p) for p in sent] == [folder / "d2.md"]  # (paths sent as strings)


def test_an_older_iucuts_tables_are_dropped(tmp_path: Path) -> None:
    """An upgraded home: the tables an older iucut kept (digest2, digest4, seen_folder),
    which this one does not read, are dropped when the cache is first opened (their
    pages go to the new tables: the file does not keep both); the others stay."""
    cache = tmp_path / "cut-digests.sqlite3"
    with sqlite3.connect(cache) as conn:
        for table in ("digest2", "digest4", "seen_folder", "seen_token"):
            conn.execute(f"CREATE TABLE {table} (x TEXT)")
            conn.execute(f"INSERT INTO {table} VALUES ('kept by an older iucut')")
    conn.close()
    opened = digests._connect(cache)
    try:
        assert opened is not None
        names = {row[0] for row in opened.execute("SELECT name FROM sqlite_master")}
    finally:
        mine = digests._open.pop((digests._pid, str(cache)), None)
        if mine is not None:
            mine.close()
    assert "digest5" in names and "seen_token" in names
    assert not names & {"digest2", "digest4", "seen_folder"}


def test_a_drop_of_old_tables_that_fails_leaves_the_cache_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropping an older iucut's tables only saves space: when it fails (here a drop
    statement the file refuses), the cache is opened and used all the same."""
    cache = tmp_path / "cut-digests.sqlite3"
    with sqlite3.connect(cache) as conn:
        conn.execute("CREATE TABLE digest4 (x TEXT)")
    conn.close()
    statements = dict(digests._sql())
    statements["cache_drop_old"] = "DROP TABLE no_such_table;"
    monkeypatch.setattr(digests, "_sql", lambda: statements)
    opened = digests._connect(cache)
    try:
        assert opened is not None
        names = {row[0] for row in opened.execute("SELECT name FROM sqlite_master")}
        assert {"digest4", "digest5"} <= names
    finally:
        mine = digests._open.pop((digests._pid, str(cache)), None)
        if mine is not None:
            mine.close()
