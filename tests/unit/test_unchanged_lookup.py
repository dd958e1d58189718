"""Apply's look-up of a file the cut cache knows by its stat (issue #16 part 3): an
:class:`~iucut.plan.Unchanged` (namespace and digest fingerprint, from the entry's
columns), no digest decoded nor made; anything the stat does not settle goes the way of
a :class:`~iucut.plan.Digest` as before."""

from __future__ import annotations

import functools
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from iucut import digests
from iucut.cut.source import cut_map
from iucut.plan import Digest, Unchanged, digest_key, digest_of, full_digest

OLD = 1_700_000_000_000_000_000  # an mtime long before any entry is taken
TEXT = "# Act\n\n## Article 1. One\n\nText {n}.\n\n## Article 2. Two\n\nMore.\n"


def _corpus(tmp_path: Path, count: int = 3) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    for n in range(count):
        path = folder / f"d{n}.md"
        path.write_text(TEXT.format(n=n), encoding="utf-8")
        os.utime(path, ns=(OLD, OLD))
    return folder


def _pass(folder: Path, cache: Path, *, jobs: int = 1, fast: bool = True) -> list[Any]:
    """One first pass of apply over ``folder``, what it kept remembered."""
    digests.reread()
    known = functools.partial(digests.lookup, cache=cache, rules="r", fast=fast)
    found = list(cut_map(digest_of, [folder], root=folder, known=known, jobs=jobs))
    digests.remember([d for d in found if isinstance(d, Digest)], cache=cache, rules="r")
    return found


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The entries whose digest was decoded (a Digest made from the cache)."""
    calls: list[str] = []
    real = digests._digest

    def spy(data: str, refresh: Any) -> Digest | None:
        calls.append(data)
        return real(data, refresh)

    monkeypatch.setattr(digests, "_digest", spy)
    return calls


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_known_by_its_stat_makes_no_digest(
    tmp_path: Path, decoded: list[str], jobs: int
) -> None:
    folder = _corpus(tmp_path)
    cache = tmp_path / "cache.sqlite3"
    first = _pass(folder, cache, jobs=jobs)
    assert all(type(d) is Digest and not d.cached for d in first)
    again = _pass(folder, cache, jobs=jobs)
    assert [type(d) for d in again] == [Unchanged] * 3
    assert decoded == []  # no entry decoded, no Digest made
    for old, new in zip(first, again, strict=True):
        assert (new.path, new.namespace, new.key) == (old.path, old.namespace, digest_key(old))
        # read again when the triage needs it after all: the digest of the last cut
        assert full_digest(new) == old
    # the plan's look-ups (not fast) still give digests
    assert all(type(d) is Digest and d.cached for d in _pass(folder, cache, fast=False))


def test_a_racy_entry_is_never_known_by_its_stat(tmp_path: Path, decoded: list[str]) -> None:
    """An entry taken in the tick of the file's mtime proves nothing: no fast stat is
    kept for it, and a same-size rewrite that leaves the very same stat is read,
    hashed and cut (the racy rule of the digest path, kept by the fast path)."""
    folder = _corpus(tmp_path, 1)
    path = folder / "d0.md"
    cache = tmp_path / "cache.sqlite3"
    (first,) = _pass(folder, cache)
    st = os.stat(path)
    # as if the entry had been taken in the same tick as the file's mtime
    racy = (*digests.stat_key(st)[:5], st.st_mtime_ns + 1_000_000)
    digests.remember([Digest(**{**_fields(first), "stat": racy})], cache=cache, rules="r")
    with sqlite3.connect(cache) as conn:
        (kept,) = conn.execute("SELECT fast_stat FROM digest5").fetchone()
    assert kept is None
    # a same-size rewrite whose stat is the one recorded (a coarse clock)
    path.write_text(TEXT.format(n=9), encoding="utf-8")
    os.utime(path, ns=(OLD, OLD))
    now = digests.stat_key(os.stat(path))
    digests.reread()
    found = digests.lookup(
        "d0.md", lambda: "another hash", (*racy[:5], now[5]), cache=cache, rules="r", fast=True
    )
    assert found is None  # not known: cut again


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_entry_with_warnings_comes_with_them_unless_strict(
    tmp_path: Path, decoded: list[str], jobs: int
) -> None:
    """A document with warnings: they are shown at every re-sync, so the Unchanged of
    its entry carries them (no digest decoded: the real 1M-unit corpus has a document
    with warnings in every folder); under --strict the entry answers nothing (the
    document is cut again, to be rejected)."""
    folder = _corpus(tmp_path, 3)
    path = folder / "d1.md"
    path.write_text("---\nnot: [closed\n---\n" + TEXT.format(n=1), encoding="utf-8")
    os.utime(path, ns=(OLD, OLD))
    cache = tmp_path / "cache.sqlite3"
    first = _pass(folder, cache, jobs=jobs)
    assert first[1].warnings and not first[0].warnings
    again = _pass(folder, cache, jobs=jobs)
    assert [type(d) for d in again] == [Unchanged] * 3
    assert [d.warnings for d in again] == [d.warnings for d in first]
    assert decoded == []
    assert full_digest(again[1]) == first[1]
    # --strict: the entry with warnings is not known (by the lane or the full look-up)
    digests.reread()
    strict = digests.Lookup(cache=cache, rules="r", strict=True, fast=True)
    found = list(cut_map(digest_of, [folder], root=folder, known=strict, jobs=jobs))
    assert [type(d) for d in found] == [Unchanged, Digest, Unchanged]
    assert not found[1].cached and found[1].warnings == first[1].warnings
    digests.reread()
    alone = digests.lookup(
        "d1.md", None, digests.stat_key(os.stat(path)), cache=cache, rules="r", fast=True
    )
    assert type(alone) is Unchanged and alone.warnings == first[1].warnings
    digests.reread()
    refused = digests.lookup(
        "d1.md",
        None,
        digests.stat_key(os.stat(path)),
        cache=cache,
        rules="r",
        fast=True,
        strict=True,
    )
    assert refused is None


def test_a_changed_file_and_another_rules_fingerprint_are_not_known(tmp_path: Path) -> None:
    folder = _corpus(tmp_path)
    cache = tmp_path / "cache.sqlite3"
    _pass(folder, cache)
    (folder / "d1.md").write_text(TEXT.format(n=11), encoding="utf-8")
    again = _pass(folder, cache)
    assert [type(d) for d in again] == [Unchanged, Digest, Unchanged]
    assert not again[1].cached
    digests.reread()
    other = functools.partial(digests.lookup, cache=cache, rules="other", fast=True)
    assert not any(
        isinstance(d, Unchanged) for d in cut_map(digest_of, [folder], root=folder, known=other)
    )


def test_an_unchanged_entry_replaced_since_is_read_as_absent(tmp_path: Path) -> None:
    """The entry an Unchanged was made from, replaced by another process before the
    triage reads it again: no digest (the document is to do, and cut again)."""
    folder = _corpus(tmp_path, 1)
    cache = tmp_path / "cache.sqlite3"
    _pass(folder, cache)
    (found,) = _pass(folder, cache)
    assert isinstance(found, Unchanged)
    with sqlite3.connect(cache) as conn:
        conn.execute("UPDATE digest5 SET digest_key = digest_key + 1")
    assert found.digest() is None


def _fields(d: Digest) -> dict[str, Any]:
    return {name: getattr(d, name) for name in Digest.__dataclass_fields__}
