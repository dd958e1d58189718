"""The cut cache is read a chunk at a time in document-path order (issue #16 part 3: the
client holds a chunk of entries, not the cache): look-ups in that order read each entry
once, look-ups out of it still find theirs."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from iucut import digests
from iucut.plan import Digest

RULES = "rules"


def _digest(n: int) -> Digest:
    return Digest(f"d/{n:05d}.md", f"NS{n}", f"{n:064x}", f"c{n}", 3, size=10)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of 1,000 entries (paths d/00000.md … with every third number missing),
    read 64 entries a chunk."""
    path = tmp_path / digests.FILE_NAME
    digests.reread()
    digests.remember([_digest(n) for n in range(1500) if n % 3], cache=path, rules=RULES)
    digests.reread()
    monkeypatch.setattr(digests._Reader, "CHUNK", 64)
    return path


def _look(cache: Path, n: int) -> Digest | None:
    return digests.lookup(f"d/{n:05d}.md", f"{n:064x}", cache=cache, rules=RULES)


def test_look_ups_in_path_order_read_each_entry_once(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every entry found, absent paths absent, in 16 chunks of at most 64 entries."""
    chunks: list[int] = []
    real = digests._Reader._next_chunk

    def counted(self: digests._Reader, wanted: str) -> None:
        real(self, wanted)
        chunks.append(len(self.chunk))

    monkeypatch.setattr(digests._Reader, "_next_chunk", counted)
    found = [_look(cache, n) for n in range(1500)]
    assert [n for n, d in enumerate(found) if d is not None] == [n for n in range(1500) if n % 3]
    assert found[1] == _digest(1)
    assert len(chunks) == 16 and max(chunks) == 64  # 1,000 entries: 15 full chunks and 40


def test_look_ups_out_of_order_find_their_entries(cache: Path) -> None:
    """A path at or before one already passed is read alone: shuffled look-ups, and a
    second look-up of the same path, find the same entries."""
    order = list(range(1500))
    random.Random(7).shuffle(order)
    found = {n: _look(cache, n) for n in order}
    assert sorted(n for n, d in found.items() if d is not None) == [n for n in range(1500) if n % 3]
    assert _look(cache, 1) == _digest(1)


def test_what_a_process_wrote_is_what_it_reads_next(cache: Path) -> None:
    """After :func:`digests.remember`, a look-up reads the entries afresh (an entry
    written just ahead of the reader's position, inside the chunk it holds, is found)."""
    assert _look(cache, 901) is not None
    digests.remember([_digest(903)], cache=cache, rules=RULES)
    assert _look(cache, 903) == _digest(903)


def test_look_ups_that_leap_ahead_read_from_the_path_asked_for(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entries between two look-ups far apart (a folder passed at once) are not read:
    the next chunk starts at the path asked for, not after the last one read."""
    first: list[str] = []
    real = digests._Reader._next_chunk

    def counted(self: digests._Reader, wanted: str) -> None:
        real(self, wanted)
        first.append(self.chunk[0][0] if self.chunk else "")

    monkeypatch.setattr(digests._Reader, "_next_chunk", counted)
    found = [_look(cache, n) for n in (1, 700, 701, 1401, 1499)]
    assert found == [_digest(1), _digest(700), _digest(701), None, _digest(1499)]
    assert first == ["d/00001.md", "d/00700.md", "d/01402.md", "d/01499.md"]


def test_next_from() -> None:
    assert digests.next_from("", "a") == "a"
    assert digests.next_from("a/b.md", "a/a.md") == "a/b.md\x01"
    assert digests.next_from("a/b.md", "a/c.md") == "a/c.md"
    assert "a/b.md" < digests.next_from("a/b.md", "") < "a/b.md "
