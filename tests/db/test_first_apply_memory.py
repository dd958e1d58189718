"""A first ``iucut apply`` of a corpus (nothing stored, nothing remembered: every document
is new, cut, written and remembered) holds memory bounded by the documents in flight,
not by the corpus (issue #16 part 3): a re-sync's memory was flat, a first apply's grew
~3 KB a document (the digests of every document to do, the list of them, their results,
the rows read again after the writes)."""

from __future__ import annotations

import itertools
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from iucut.apply import apply_digests
from iucut.cut import cut_text
from iucut.plan import Digest, digest_of
from iucut.plan_state import Ledger
from iucut.seen import Seen
from iucut.units import CutDocument, Paths

LAW = "# Act {n}\n\n## Article 1. One\n\nText {n}.\n\n## Article 2. Two\n\nMore {n}.\n"


def _doc(folder: str, n: int) -> CutDocument:
    # (a namespace given: the cutter's cache of the slugs of paths is not filled, here
    # where the documents are cut in this process)
    path = f"{folder}/d{n:06d}.md"
    return cut_text(LAW.format(n=n).encode(), path, namespace=f"{folder.upper()}-D{n}")


def test_a_first_apply_holds_no_object_a_document_of_the_corpus(
    db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digests made as the triage asks for them, the documents as they are cut again
    to be written (as a walk and the cutting workers make them): the peak of what the
    client holds grows by less than 400 bytes a document from 60 documents to 600 (a
    path, a fingerprint and the numbers of a result a document are kept, compactly; it
    grew ~2.5 KB a document). The chunks read at once made small, so that both corpora
    are many of them (the documents in flight: a chunk)."""
    for holder in (Seen, Ledger, Paths):
        monkeypatch.setattr(holder, "CHUNK", 16)
    settings = db.settings(execution="enabled")
    provider = db.provider()
    runs = itertools.count()

    def peak(count: int) -> int:
        folder = f"c{count}-{next(runs)}"  # (a corpus of its own: every document new)

        def digests() -> Iterator[Digest]:
            for n in range(count):
                yield digest_of(_doc(folder, n))

        def recut(
            doc_paths: Sequence[str], /, then: Callable[[Any], Any] | None = None
        ) -> Iterator[Any]:
            for path in doc_paths:
                doc = _doc(folder, int(path[-9:-3]))
                yield doc if then is None else then(doc)

        cache = tmp_path / folder / "cut-digests.sqlite3"
        tracemalloc.start()
        try:
            result = apply_digests(settings, provider, digests(), recut, jobs=2, seen_cache=cache)
            _, high = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(result.written) == count and not result.rejected
        assert result.counts["created"] == 4 * count
        return high

    # (first, what is made once, and the free lists of small objects filled as much as
    # the larger corpus fills them: the cutting rules compiled, the statements read)
    peak(600)
    small, large = peak(60), peak(600)
    assert (large - small) / 540 < 400, (small, large)
