"""Apply's first pass reads the corpus as it is walked (issue #16 part 3: client memory
bounded by the documents in flight, not the corpus): the files of a listing given as it
comes are looked up and cut a window at a time, in source order, the files the cut cache
knows by their stat answered a folder at a time (``Lookup.fast_run``), the others cut."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iucut import digests
from iucut.cut import source
from iucut.cut.source import cut_map, walk_sources
from iucut.plan import Digest, Unchanged, digest_of

OLD = 1_700_000_000_000_000_000  # an mtime long before any entry is taken
TEXT = "# Act {n}\n\n## Article 1. One\n\nText {n}.\n"


def _corpus(folder: Path, count: int) -> Path:
    for n in range(count):
        sub = folder / f"f{n // 5}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"d{n:03d}.md"
        path.write_text(TEXT.format(n=n), encoding="utf-8")
        os.utime(path, ns=(OLD, OLD))
    return folder


def _pass(folder: Path, cache: Path, jobs: int, taken: list[str] | None = None) -> list[Any]:
    """One first pass of apply: the walk given as it comes, the real look-up."""
    digests.reread()
    known = digests.Lookup(cache=cache, rules="r", fast=True)

    def listing() -> Iterator[tuple[str | Path, Path | None]]:
        for file, given in walk_sources([folder]):
            if taken is not None:
                taken.append(os.fspath(file))
            yield file, given

    found = cut_map(digest_of, [folder], root=folder, known=known, jobs=jobs, sources=listing())
    results: list[Any] = []
    for item in found:
        if taken is not None:  # (what the walk had given when this result came)
            results.append((item, len(taken)))
        else:
            results.append(item)
    return results


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_walk_given_as_it_comes_is_cut_in_source_order_a_window_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """Some files known by their stat, some changed, some new: every result in source
    order, each file known answered without a digest, and no result waits for more of
    the walk than its window."""
    monkeypatch.setattr(source, "WINDOW", 4)
    folder = _corpus(tmp_path / "src", 23)
    cache = tmp_path / "cache.sqlite3"
    first = _pass(folder, cache, jobs)
    assert all(isinstance(d, Digest) for d in first)
    digests.remember(first, cache=cache, rules="r")
    for n in (2, 9, 10, 17):  # changed since
        path = folder / f"f{n // 5}" / f"d{n:03d}.md"
        path.write_text(TEXT.format(n=n) + "More.\n", encoding="utf-8")
    (folder / "f4" / "d099.md").write_text(TEXT.format(n=99), encoding="utf-8")  # new
    taken: list[str] = []
    again = _pass(folder, cache, jobs, taken)
    paths = [d.path for d, _ in again]
    assert paths == sorted(paths) and len(paths) == 24
    kinds = {d.path: type(d) for d, _ in again}
    assert {p for p, k in kinds.items() if k is Digest} == {
        f"f{n // 5}/d{n:03d}.md" for n in (2, 9, 10, 17)
    } | {"f4/d099.md"}
    assert all(k is Unchanged for p, k in kinds.items() if kinds[p] is not Digest)
    # (the k-th result: at most its window, which goes on to the end of its last file's
    # folder, and the next file, read to see where that folder ends)
    folders = [p.rpartition("/")[0] for p in paths]
    bound, start = [], 0
    while start < len(paths):
        end = min(start + 4, len(paths))
        while end < len(paths) and folders[end] == folders[end - 1]:
            end += 1
        bound += [min(end + 1, len(paths))] * (end - start)
        start = end
    for k, (_, walked) in enumerate(again):
        assert walked <= bound[k], (k, walked)
