"""The look-up pass of an unchanged re-sync made cheaper (issue #16 part 3, one change at
1M units): an entry's stat compared as text, its digest decoded by the JSON scanner, the
folder of the last file kept by ``located``, no garbage collection during the pass. Each
must answer what the slower form answered."""

from __future__ import annotations

import functools
import gc
import json
import os
import sqlite3
from pathlib import Path

import pytest

from iucut import digests
from iucut.cut.source import cut_map
from iucut.parallel import gc_paused
from iucut.plan import Digest, digest_of
from iucut.project import ProjectRoot

OLD = 1_700_000_000_000_000_000
NOW = (178, OLD, OLD + 5, 2150035, 65024, OLD + 3 * digests.RACY_MARGIN_NS)


@pytest.mark.parametrize(
    "recorded",
    [
        NOW,
        (17, *NOW[1:]),  # a size that is a prefix of the other's digits
        (1780, *NOW[1:]),
        (NOW[0], NOW[1] + 1, *NOW[2:]),  # mtime
        (*NOW[:2], NOW[2] - 1, *NOW[3:]),  # ctime
        (*NOW[:3], 215003, *NOW[4:]),  # inode: a file replaced by another
        (*NOW[:3], 21500350, *NOW[4:]),
        (*NOW[:4], 6502, NOW[5]),  # device
        (*NOW[:5], NOW[1] + 1),  # racy: taken in the tick of the mtime
        (*NOW[:5], NOW[1] + digests.RACY_MARGIN_NS - 1),
        (*NOW[:5], NOW[1] + digests.RACY_MARGIN_NS),
        (-1, *NOW[1:]),
    ],
)
def test_the_stat_compared_as_text_answers_as_the_stat_compared_as_numbers(
    recorded: tuple[int, ...],
) -> None:
    now = (*NOW[:5], 0)
    text = json.dumps(list(recorded))
    assert digests._same_stat(text, now) == digests.stat_unchanged(list(recorded), now)


@pytest.mark.parametrize(
    "text",
    [None, "", "[]", "[1, 2]", "not json", f"{json.dumps(list(NOW))} ", f"[178,{OLD}]"],
)
def test_a_stat_in_another_form_is_read_whole_or_not_trusted(text: str | None) -> None:
    now = (*NOW[:5], 0)
    expected = digests.stat_unchanged(digests._stat_of(text), now)
    assert digests._same_stat(text, now) == expected
    compact = json.dumps(list(NOW), separators=(",", ":"))  # another writer's form
    assert digests._same_stat(compact, now)


def _cache_with(tmp_path: Path, data: str) -> tuple[Path, str, digests.StatKey]:
    """A cache holding ``data`` as the digest of a file ``a.md`` whose stat is trusted."""
    folder = tmp_path / "src"
    folder.mkdir()
    doc = folder / "a.md"
    doc.write_text("# A\n\n## 1\n\nText.\n", encoding="utf-8")
    os.utime(doc, ns=(OLD, OLD))
    cache = tmp_path / "cache.sqlite3"
    known = functools.partial(digests.lookup, cache=cache, rules="r")
    digests.reread()
    (found,) = list(cut_map(digest_of, [folder], root=folder, known=known))
    assert isinstance(found, Digest)
    digests.remember([found], cache=cache, rules="r")
    with sqlite3.connect(cache) as conn:
        conn.execute("UPDATE digest5 SET data = replace(?, '@', data)", (data,))
    digests.reread()
    return cache, found.doc_hash, digests.stat_key(os.stat(doc))


def test_an_entry_with_text_after_its_digest_is_cut_again(tmp_path: Path) -> None:
    """The scanner reads one JSON value from the start: text after it is no digest
    (json.loads refuses it), so the file is cut, not answered from the entry."""
    cache, doc_hash, key = _cache_with(tmp_path, '@ {"units": 99}')
    assert digests.lookup("a.md", doc_hash, key, cache=cache, rules="r") is None


@pytest.mark.parametrize("around", ["\n @ ", "@ \n", " @"])
def test_an_entry_written_with_spaces_around_it_is_still_read(tmp_path: Path, around: str) -> None:
    cache, doc_hash, key = _cache_with(tmp_path, around)
    found = digests.lookup("a.md", doc_hash, key, cache=cache, rules="r")
    assert found is not None and found.doc_hash == doc_hash and found.cached


def test_a_file_replaced_by_one_of_the_same_size_and_times_is_read(tmp_path: Path) -> None:
    """A file replaced (renamed over) by one of the same size, its mtime set to the old
    one: the inode (and ctime) differ, so the entry does not answer for it."""
    cache, _, _ = _cache_with(tmp_path, "@")
    doc = tmp_path / "src" / "a.md"
    new = tmp_path / "src" / "new.tmp"
    new.write_bytes(doc.read_bytes().replace(b"Text", b"Txet"))
    os.utime(new, ns=(OLD, OLD))
    os.replace(new, doc)
    asked: list[int] = []

    def hashing() -> str:
        asked.append(1)
        return "another hash"

    key = digests.stat_key(os.stat(doc))
    assert digests.lookup("a.md", hashing, key, cache=cache, rules="r") is None
    assert asked == [1]  # read and hashed: the stat did not settle it


def test_another_rules_fingerprint_finds_no_entry(tmp_path: Path) -> None:
    cache, _, key = _cache_with(tmp_path, "@")
    assert digests.lookup("a.md", None, key, cache=cache, rules="r") is not None
    digests.reread()
    assert digests.lookup("a.md", None, key, cache=cache, rules="r2") is None


def test_a_forked_process_knows_its_own_id(tmp_path: Path) -> None:
    """The cache's connections and readers are per process (a worker must not use its
    parent's SQLite connection): the id kept is the child's after a fork."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        os.close(read)
        os.write(write, b"1" if digests._pid == os.getpid() else b"0")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"1" and digests._pid == os.getpid()


def test_located_answers_alike_whatever_file_was_asked_before(tmp_path: Path) -> None:
    """The folder of the last file asked is kept: a file of another folder whose name
    starts as it does, a relative name, a link, each get what a fresh root gives."""
    for folder in ("a", "a/b", "ab", "a/b/c"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "x.md").write_text("# X\n", encoding="utf-8")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir(exist_ok=True)
    (outside / "x.md").write_text("# O\n", encoding="utf-8")
    (tmp_path / "ln").symlink_to(outside)
    (tmp_path / "a" / "lx.md").symlink_to(tmp_path / "ab" / "x.md")
    root = ProjectRoot(tmp_path, "--root")
    names = [
        f"{tmp_path}/a/x.md",
        f"{tmp_path}/a/b/x.md",
        f"{tmp_path}/a/x.md",
        f"{tmp_path}/ab/x.md",
        f"{tmp_path}/a/b/c/x.md",
        f"{tmp_path}/a/b/../x.md",
        f"{tmp_path}/a/lx.md",
        f"{tmp_path}/a//x.md",
        f"{tmp_path}/ln/x.md",
        f"{tmp_path}/a/x.md",
    ]
    # then relative names, the same one from two working folders (another file each)
    steps: list[tuple[Path | None, str]] = [(None, n) for n in names] + [
        (tmp_path / "a", n) for n in ("x.md", "b/x.md", f"{tmp_path}/a/b/x.md", "./x.md")
    ]
    steps += [(tmp_path / "ab", n) for n in ("./x.md", "x.md", f"{tmp_path}/ab/x.md")]
    cwd = os.getcwd()
    one = root.fresh()
    try:
        for where, name in steps:
            if where is not None:
                os.chdir(where)
            try:
                expected: object = root.fresh().located(name)
            except Exception as exc:  # (the same refusal expected)
                expected = type(exc)
            try:
                got: object = one.located(name)
            except Exception as exc:
                got = type(exc)
            if isinstance(expected, tuple) and isinstance(got, tuple):
                assert got[0] == expected[0], (where, name)
                assert (got[1] is None) == (expected[1] is None), (where, name)
            else:
                assert got == expected, (where, name)
    finally:
        os.chdir(cwd)


def test_gc_paused_restores_collection_as_it_was() -> None:
    assert gc.isenabled()
    try:
        with gc_paused():
            assert not gc.isenabled()
            with gc_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the outer pause holds
        assert gc.isenabled()
        gc.disable()
        with gc_paused():
            pass
        assert not gc.isenabled()  # off before: off after
    finally:
        gc.enable()


def test_the_rules_fingerprint_follows_the_cutter_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change of the cutter's files (a rule fixed without a new version number) changes
    the rules fingerprint, so the cut cache gives no file the digest of a cut made by the
    old rules (a stale entry would keep its document at its old codes)."""
    import shutil

    folder = tmp_path / "cut"
    folder.mkdir()
    for path in digests.CUTTER.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    monkeypatch.setattr(digests, "CUTTER", folder)

    def fingerprint() -> str:
        digests.cutter_digest.cache_clear()
        return digests.rules_fingerprint({}, namespace=None, profile=None)

    first = fingerprint()
    assert fingerprint() == first
    rules = folder / "profiles.py"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# a rule fixed\n", encoding="utf-8")
    assert fingerprint() != first
    digests.cutter_digest.cache_clear()
