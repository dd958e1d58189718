"""The fast lane of apply's first pass (issue #16 part 3: one change among many files):
the files of a folder are looked at by one call (``digests.packed_lstats``, compiled in
``iucut._stat``) and compared with the cut cache's chunk in one loop
(``Lookup.fast_run``); what that does not settle is looked up in full, at its place.

The oracles: ``os.lstat`` packed by hand for the stats, and the same pass with the lane
off (each file looked up alone, as before it) for the results."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path
from stat import S_ISREG
from typing import Any

import pytest

from iucut import digests
from iucut.cut import source
from iucut.cut.source import cut_map, walk_sources
from iucut.errors import InputError
from iucut.plan import Digest, Unchanged, digest_of

OLD = 1_700_000_000_000_000_000  # an mtime long before any entry is taken
TEXT = "# Act {n}\n\n## Article 1. One\n\nText {n}.\n"
LIMIT = 10_000


def _by_hand(path: str, limit: int) -> bytes | None:
    """The oracle: ``os.lstat`` of the file itself, packed as the cut cache keeps it."""
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return None
    if not S_ISREG(st.st_mode) or st.st_size > limit:
        return None
    return struct.pack("<QqqQQ", st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _compiled() -> Callable[[str, list[str], int], list[bytes | None]]:
    from iucut._stat import lstat_packed  # (built with the package: gcc is required)

    return lstat_packed


def _pure(folder: str, names: list[str], limit: int) -> list[bytes | None]:
    saved = digests._lstat_packed
    digests._lstat_packed = None
    try:
        return digests.packed_lstats(folder, names, limit)
    finally:
        digests._lstat_packed = saved


def test_the_compiled_listing_gives_what_scandir_gives(tmp_path: Path) -> None:
    """``iucut._stat.entries``: every name of a folder with the kind its directory entry
    gives, as ``os.scandir`` gives it (``source._scanned``): files, a folder, links (to a
    file, to a folder, dangling: none followed), a FIFO, a name that is not UTF-8; and
    the same error for a folder that is not one."""
    from iucut._stat import entries  # (built with the package: gcc is required)

    top = tmp_path / "top"
    (top / "a").mkdir(parents=True)
    (top / "x.md").write_text("# x\n", encoding="utf-8")
    (top / "link.md").symlink_to(top / "x.md")
    (top / "dangling.md").symlink_to(top / "nowhere.md")
    (top / "linked").symlink_to(top / "a")
    os.mkfifo(top / "fifo.md")
    odd = os.fsencode(top) + b"/caf\xe9.md"
    with open(odd, "wb") as f:
        f.write(b"# c\n")
    assert sorted(entries(str(top))) == sorted(source._scanned(str(top)))
    assert (os.fsdecode(odd).rpartition("/")[2], 1) in entries(str(top))
    assert {kind for _, kind in entries(str(top))} == {0, 1, 2}
    for missing in (top / "nowhere", top / "x.md"):
        with pytest.raises(OSError) as compiled:
            entries(str(missing))
        with pytest.raises(OSError) as scanned:
            source._scanned(str(missing))
        assert compiled.value.errno == scanned.value.errno


@pytest.fixture
def odd_folder(tmp_path: Path) -> tuple[str, list[str]]:
    """A folder of files of every kind a glob can match, and names that are not files."""
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "plain.md").write_text("# A\n", encoding="utf-8")
    (folder / "empty.md").write_bytes(b"")
    (folder / "at-limit.md").write_bytes(b"x" * LIMIT)
    (folder / "over-limit.md").write_bytes(b"x" * (LIMIT + 1))
    (folder / "điều 1.md").write_text("# Điều 1\n", encoding="utf-8")
    os.symlink("plain.md", folder / "link.md")
    os.symlink("nowhere.md", folder / "dangling.md")
    (folder / "sub.md").mkdir()
    (folder / "sub.md" / "inner.md").write_text("# B\n", encoding="utf-8")
    os.mkfifo(folder / "fifo.md")
    raw = os.fsdecode(b"latin-\xe9.md")  # (not UTF-8: a surrogate-escaped name)
    with open(os.path.join(os.fsencode(folder), b"latin-\xe9.md"), "wb") as f:
        f.write(b"# C\n")
    os.utime(folder / "plain.md", ns=(OLD, OLD + 123_456_789))
    names = [
        "plain.md",
        "empty.md",
        "at-limit.md",
        "over-limit.md",
        "điều 1.md",
        raw,
        "link.md",
        "dangling.md",
        "sub.md",
        "fifo.md",
        "missing.md",
        "",
        ".",
        "..",
    ]
    return str(folder) + os.sep, names


@pytest.mark.parametrize("implementation", ["compiled", "pure"])
def test_a_folders_stats_packed_as_lstat_gives_them(
    odd_folder: tuple[str, list[str]], implementation: str
) -> None:
    """Each regular file within the limit packed as os.lstat gives it (the file itself,
    not a link's target), None for every other name; in the order asked."""
    folder, names = odd_folder
    looked = (_compiled() if implementation == "compiled" else _pure)(folder, names, LIMIT)
    assert looked == [_by_hand(folder + name, LIMIT) for name in names]
    packed = dict(zip(names, looked, strict=True))
    assert [n for n, p in packed.items() if p is not None] == [
        "plain.md",
        "empty.md",
        "at-limit.md",
        "điều 1.md",
        names[5],
    ]
    mtime_ns = struct.unpack("<QqqQQ", packed["plain.md"] or b"")[1]
    assert mtime_ns == OLD + 123_456_789  # (the nanoseconds kept)


def test_names_that_are_not_one_part_of_the_folder_are_not_looked_at(tmp_path: Path) -> None:
    """A name with a separator or a NUL is None (the lane looks at such a file the slow
    way), even where a file lies at that path."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.md").write_text("# A\n", encoding="utf-8")
    folder = str(tmp_path) + os.sep
    assert _compiled()(folder, ["a/b.md", "a\0b.md", "a"], LIMIT) == [None, None, None]


def test_a_folder_that_cannot_be_opened(tmp_path: Path) -> None:
    """The compiled call says so (OSError naming it); packed_lstats then looks at each
    file alone (here: none is there)."""
    gone = str(tmp_path / "gone") + os.sep
    with pytest.raises(FileNotFoundError) as raised:
        _compiled()(gone, ["a.md"], LIMIT)
    assert "gone" in str(raised.value)
    assert digests.packed_lstats(gone, ["a.md", "b.md"], LIMIT) == [None, None]


def _corpus(folder: Path) -> Path:
    for n in range(30):
        sub = folder / f"f{n // 10}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"d{n:03d}.md"
        path.write_text(TEXT.format(n=n), encoding="utf-8")
        os.utime(path, ns=(OLD, OLD))
    return folder


def _pass(folder: Path, cache: Path, *, lane: bool) -> list[Any]:
    """Apply's first pass over ``folder`` with the real look-ups; ``lane=False``: each
    file looked up alone (``known`` without ``fast_run``)."""
    digests.reread()
    known: Any = digests.Lookup(cache=cache, rules="r", fast=True)
    if not lane:
        full = known
        known = lambda *args: full(*args)  # noqa: E731 (no fast_run: no lane)
    return list(
        cut_map(
            digest_of, [folder], root=folder, known=known, jobs=2, sources=walk_sources([folder])
        )
    )


def _shown(results: list[Any]) -> list[tuple[Any, ...]]:
    """What a result is, without the time its stat was taken."""
    shown: list[tuple[Any, ...]] = []
    for r in results:
        if isinstance(r, Unchanged):
            shown.append(("unchanged", r.path, r.namespace, r.key))
        elif isinstance(r, Digest):
            shown.append(("digest", r.path, r.doc_hash, r.cut_digest, r.cached))
        else:
            assert isinstance(r, InputError)
            shown.append(("error", r.message))
    return shown


@pytest.mark.parametrize("compiled", [True, False])
def test_the_lane_answers_as_the_look_ups_one_by_one_in_source_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compiled: bool
) -> None:
    """Files changed, touched, replaced by a link, by a folder, grown past the limit,
    deleted and added, at the start, middle and end of folders and windows: the lane
    gives what the look-ups one by one give, in source order, and reads alone only the
    entries they read alone (each miss is looked up at its place, before the files
    after it)."""
    if not compiled:
        monkeypatch.setattr(digests, "_lstat_packed", None)
    monkeypatch.setattr(source, "WINDOW", 7)  # (windows across folders)
    folder = _corpus(tmp_path / "src")
    cache = tmp_path / "cache.sqlite3"
    first = _pass(folder, cache, lane=True)
    assert [type(d) for d in first] == [Digest] * 30
    digests.remember(first, cache=cache, rules="r")
    f0, f1, f2 = folder / "f0", folder / "f1", folder / "f2"
    (f0 / "d000.md").write_text(TEXT.format(n=0) + "More.\n", encoding="utf-8")  # changed
    os.utime(f0 / "d004.md", ns=(OLD, OLD + 1))  # touched: read, same bytes
    (f1 / "d013.md").unlink()
    os.symlink("d014.md", f1 / "d013.md")  # a link now
    (f1 / "d015.md").unlink()
    (f1 / "d015.md").mkdir()  # a folder now
    (f1 / "d016.md").unlink()  # deleted
    (f1 / "d016a.md").write_text(TEXT.format(n=99), encoding="utf-8")  # new
    (f2 / "d029.md").write_text(TEXT.format(n=29) + "x" * 200_000, encoding="utf-8")
    monkeypatch.setattr(source, "max_document_bytes", lambda config: 100_000)

    alone: list[str] = []
    real_entry = digests.entry

    def spy_entry(conn: Any, rules: str, doc_path: str) -> Any:
        alone.append(doc_path)
        return real_entry(conn, rules, doc_path)

    monkeypatch.setattr(digests, "entry", spy_entry)
    expected = _shown(_pass(folder, cache, lane=False))
    expected_alone = alone[:]
    alone.clear()
    got = _shown(_pass(folder, cache, lane=True))
    assert got == expected
    kinds = {s[1]: s[0] for s in got if s[0] != "error"}
    assert kinds["f0/d000.md"] == "digest" and kinds["f0/d004.md"] == "digest"
    assert kinds["f1/d016a.md"] == "digest" and "f1/d016.md" not in kinds
    assert sum(1 for s in got if s[0] == "unchanged") == 24
    assert [s[1][:10] for s in got if s[0] == "error"] == ["f2/d029.md"]  # (too large)
    # (the entries read alone are those of the files whose stat differs, as one by one:
    # each miss looked up in its place, not after the look-ups passed it)
    assert alone == expected_alone, (alone, expected_alone)
