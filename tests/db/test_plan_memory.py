"""``iucut plan`` holds memory bounded by the documents in flight, not by the corpus
(issue #16 part 3): it held every document cut again, its plan with every unit's text,
the plan's JSON form and the review's text at once (a first plan's peak RSS grew ~20 KB
a document); now each document's plan is spooled to a temporary file as it is made
(:mod:`iucut.planspool`) and its id, plan file, JSON and review are written from there."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from iucut import plan_state
from iucut.cli import json_text
from iucut.cut import cut_text
from iucut.dangling import Suspects
from iucut.plan import digest_of
from iucut.planfile import plan_hash, plan_to_dict
from iucut.report import review
from iucut.store import Store
from iucut.units import CutDocument

LAW = "# Act {n}\n\n## Article 1. One\n\nText {n}.\n\n## Article 2. Two\n\nMore {n}.\n"


def _doc(n: int) -> CutDocument:
    return cut_text(LAW.format(n=n).encode(), f"laws/d{n:06d}.md", namespace=f"LAWS-D{n}")


def _recut(doc_paths: Sequence[str], /, then: Callable[[Any], Any] | None = None) -> Iterator[Any]:
    for path in doc_paths:  # (as the cutting workers give them: a document at a time)
        doc = _doc(int(path[-9:-3]))
        yield doc if then is None else then(doc)


def test_a_first_plan_holds_no_plan_of_the_corpus(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first plan of a corpus (every document new: each cut again, planned with every
    unit's text) and its outputs (its id, its JSON, its review): the peak of what the
    client holds grows by less than 1,200 bytes a document from 60 documents to 600
    (what remains a document: its digest, held by the triage; main's code, measured
    so, grew ~30 KB a document). The batches of the texts kept for the dangling
    references and of the new documents asked about look-alikes made small, so that
    both corpora are many of them."""
    monkeypatch.setattr(Suspects, "BATCH", 16)
    monkeypatch.setattr(plan_state, "LOOKALIKES_CHUNK", 16)
    store = Store(db.settings(), db.provider())

    def peak(count: int) -> int:
        sink = hashlib.sha256()
        tracemalloc.start()
        try:
            digests = (digest_of(_doc(n)) for n in range(count))
            spool, alike, broken = store.spool_plan_digests(digests, _recut)
            with spool:
                plan_id = spool.id()
                wrapper = {"plan_id": plan_id, **spool.head(), "warnings": [], "dangling": []}
                for piece in spool.pretty_json(wrapper, json_text, lambda d: d):
                    sink.update(piece.encode())
                for piece in review.terminal_chunks(spool.documents()):
                    sink.update(piece.encode())
                counts, documents = dict(spool.counts), spool.count
            _, high = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert documents == count and counts["created"] == 4 * count
        assert not alike and not broken
        return high

    # (first, what is made once: the cutting rules compiled, the statements read)
    peak(600)
    small, large = peak(60), peak(600)
    print(f"plan peak: {small} at 60, {large} at 600: {(large - small) / 540:.0f} B a document")
    assert (large - small) / 540 < 1200, (small, large)


def test_the_spooled_plan_is_the_plan(db: Any) -> None:
    """The spooled plan's id and documents are those of the plan made whole
    (:func:`iucut.plan_state.make_plan_from_digests`) of the same documents."""
    store = Store(db.settings(), db.provider())
    digests = [digest_of(_doc(n)) for n in range(40)]
    whole, _ = store.plan_digests(digests, _recut)
    spool, _, _ = store.spool_plan_digests(digests, _recut)
    with spool:
        assert spool.id() == plan_hash(whole)
        assert spool.to_dict() == plan_to_dict(whole)
        assert (spool.count, spool.skipped) == (40, 0)
