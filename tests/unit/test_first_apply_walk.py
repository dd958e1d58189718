"""The walk of a first ``iucut apply`` (an empty cut cache: every document is cut, its
digest made and remembered) holds memory bounded by the documents in flight, not by the
corpus (issue #16 part 3), and each document to write is cut again from the file the
walk found it in."""

from __future__ import annotations

import itertools
import tracemalloc
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from iucut.apply import ApplyResult
from iucut.cli import main
from iucut.cli import write as write_mod
from iucut.store import Store
from iucut.units import Paths

TEXT = "# Act {n}\n\n## Article 1. One\n\nText {n}.\n"


def _corpus(folder: Path, count: int) -> Path:
    for n in range(count):
        sub = folder / f"f{n // 40}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"d{n:04d}.md").write_text(TEXT.format(n=n), encoding="utf-8")
    return folder


def test_the_walk_of_a_first_apply_holds_no_digest_a_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """``iucut apply --jobs 2`` of corpora never cut, the database's part played by a
    stand-in that reads every digest (keeping the paths, compactly, as the triage does)
    and has every document cut again: the peak of what the client holds grows by less
    than 500 bytes a document from 60 documents to 600, ~250 of them the walk's window
    of files read ahead (up to 1,024: here the whole corpus; a smaller window makes the
    walk slower), the rest the stand-in's paths (every digest was kept to be remembered
    at the end, and every file's name, and a Path each to cut again: ~900 bytes a
    document). The batches remembered made small, so that both are many of them."""
    monkeypatch.setattr(write_mod, "REMEMBER_BATCH", 16)
    monkeypatch.setattr(Paths, "CHUNK", 16)
    got: dict[str, Paths] = {}

    def stand_in(store: Store, digests: Iterable[Any], recut: Any, **_: Any) -> ApplyResult:
        got["paths"] = Paths(d.path for d in digests)
        got["again"] = Paths(doc.path for doc in recut(got["paths"]))
        return ApplyResult(None, (), (), 0.0)

    monkeypatch.setattr(Store, "apply_digests", stand_in)
    runs = itertools.count()

    def peak(count: int) -> int:
        folder = _corpus(tmp_path / f"c{next(runs)}", count)
        for key, value in {
            "IUCUT_DSN": "postgresql://nobody@127.0.0.1:9/none",
            "IUCUT_EXECUTION": "enabled",
            "IUCUT_HOME": str(folder.with_name(folder.name + "-home")),
            "IUCUT_ROOT": str(folder),
        }.items():
            monkeypatch.setenv(key, value)
        tracemalloc.start()
        try:
            with pytest.raises(SystemExit) as done:
                main(["apply", "--jobs", "2", str(folder)])
            _, high = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert done.value.code == 0
        capsys.readouterr()
        expected = sorted(f"f{n // 40}/d{n:04d}.md" for n in range(count))
        assert list(got["paths"]) == list(got["again"]) == expected
        return high

    peak(600)  # (first, what is made once, and the free lists filled as 600 fill them)
    small, large = peak(60), peak(600)
    assert (large - small) / 540 < 500, (small, large)
