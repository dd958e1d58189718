"""What an apply keeps of each document it wrote, kept compactly (issue #16 part 3: a
first apply writes the corpus): every result read back as it was given, in order, and
what apply's triage keeps of a digest (its fingerprint) says what the digest says."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iucut.apply import ApplyResult, DocumentResult, Outcomes
from iucut.plan import Digest, digest_key, is_current, is_current_at
from iucut.units import Paths, Rejected

RESULTS = [
    DocumentResult("a.md", "applied", {"created": 3, "revised": 0, "moved": 1, "placed": 2}),
    DocumentResult("b/c.md", "skipped"),
    DocumentResult("b/d.md", "failed", error="the database said no"),
    DocumentResult("e.md", "applied", {"created": 0, "revised": 7, "moved": 0, "placed": 0}),
    DocumentResult("f.md", "applied", {"retired": 1, "moved": 0}),
    DocumentResult("g.md", "not_written"),
]


def test_each_result_is_read_back_as_it_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """Statuses, counts (their names in their order), errors, in order, by index and
    by iteration, across chunks of paths; what the result derives from them too."""
    monkeypatch.setattr(Paths, "CHUNK", 2)
    kept = Outcomes()
    for r in RESULTS:
        kept.append(r)
        assert kept[-1] == r
    assert list(kept) == RESULTS
    assert [kept[i] for i in range(len(RESULTS))] == RESULTS
    assert [list(kept[i].counts) for i in range(len(RESULTS))] == [list(r.counts) for r in RESULTS]
    assert kept[-3] == RESULTS[-3] and kept[1:3] == tuple(RESULTS[1:3])
    with pytest.raises(IndexError):
        kept[len(RESULTS)]
    result = ApplyResult("run", RESULTS, (Rejected("x.md", "bad"),), 1.0, skipped=Paths(["s.md"]))
    assert result.outcomes == tuple(RESULTS)
    assert result.failed == (RESULTS[2],)
    assert result.written == (RESULTS[0], RESULTS[3], RESULTS[4])
    assert result.unchanged == 2
    assert result.counts == {
        "created": 3,
        "revised": 7,
        "moved": 1,
        "restored": 0,
        "retired": 1,
        "placed": 2,
    }
    assert result.to_dict()["documents"] == [
        {"doc_path": "s.md", "status": "skipped", "counts": {}, "error": None},
        *(
            {"doc_path": r.doc_path, "status": r.status, "counts": r.counts, "error": r.error}
            for r in RESULTS
        ),
    ]


def _row(state: str, doc_hash: str, cut: str | None, profile: str | None) -> dict[str, Any]:
    return {"state": state, "doc_hash": doc_hash, "cut_digest": cut, "profile": profile}


def test_a_digest_is_current_by_its_fingerprint_as_by_itself() -> None:
    """Every combination of a stored row (state, hash, cut digest, profile: the same, or
    another, or none) and a digest (a profile, or none): the fingerprint says what the
    digest says (apply keeps the fingerprints of the documents it writes, to check
    them after)."""
    for profile in (None, "vi"):
        d = Digest("a.md", "A", "h1", "c1", 3, profile)
        for state, doc_hash, cut, stored in itertools.product(
            ("active", "retired"), ("h1", "h2"), ("c1", "c2", None), (None, "vi", "de")
        ):
            row = _row(state, doc_hash, cut, stored)
            assert is_current_at(row, digest_key(d)) == is_current(row, d), (profile, row)
        assert not is_current_at(None, digest_key(d))


class _Small(Paths):
    __slots__ = ()
    CHUNK = 4


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(min_value=0, max_value=9)), min_size=0, max_size=12
    )
)
def test_paths_extended_hold_what_appended_hold(steps: list[tuple[bool, int]]) -> None:
    """Paths extended by a folder's files at once (chunks of 4 here) keep every path in
    order, as appended one by one: iterated, counted and indexed."""
    counter = itertools.count()
    both, one_by_one, expected = _Small(), _Small(), []
    for bulk, count in steps:
        batch = [f"f{next(counter)}.md" for _ in range(count)]
        if bulk:
            both.extend(batch)
        else:
            for path in batch:
                both.append(path)
        for path in batch:
            one_by_one.append(path)
        expected += batch
    assert list(both) == expected == list(one_by_one)
    assert len(both) == len(expected)
    assert [both[i] for i in range(len(expected))] == expected
