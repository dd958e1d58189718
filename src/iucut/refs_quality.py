"""Precision and recall of iucut.refs against a hand-labelled sample (tests/data).

Each labelled row names a keyword occurrence (file, line, column) and the set of what
the mention it belongs to points at: codes relative to the document's namespace,
``external`` (another act), ``unresolved`` (this document, no unit), or nothing (not a
reference). The extractor's answer for a row is the same set, read from the references
of the unit holding the occurrence whose mention (``Reference.group``) covers it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iucut.cut import cut_text
from iucut.refs import Reference, document_references
from iucut.units import CutDocument


@dataclass
class Score:
    """True and false positives and false negatives, summed over the rows."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    mentions: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def _answer(ref: Reference, ns: str) -> str:
    if ref.act is not None:
        return "external"
    if ref.target is None:
        return "unresolved"
    return ref.target[len(ns) + 1 :] if ref.target.startswith(ns + "/") else ref.target


def predicted(doc: CutDocument, refs: Mapping[str, list[Reference]], offset: int) -> set[str]:
    """What the extractor says the mention at character ``offset`` of the document names."""
    start = 0
    for unit in doc.units:
        end = start + len(unit.raw_heading) + len(unit.body)
        if start <= offset < end:
            local = offset - start
            found = refs.get(unit.code, [])
            return {_answer(r, doc.namespace) for r in found if r.group[0] <= local < r.group[1]}
        start = end
    return set()


def score(rows: Iterable[Mapping[str, Any]], corpora: Path) -> Score:
    """Score the extractor on labelled rows (files relative to ``corpora``)."""
    out = Score()
    cache: dict[str, tuple[CutDocument, dict[str, list[Reference]], list[int]]] = {}
    for row in rows:
        name = row["file"]
        if name not in cache:
            data = (corpora / name).read_bytes()
            doc = cut_text(data, name.rsplit("/", 1)[-1])
            text = doc.reassemble()
            starts = [0]
            for line in text.split("\n"):
                starts.append(starts[-1] + len(line) + 1)
            cache[name] = (doc, document_references(doc), starts)
        doc, refs, starts = cache[name]
        got = predicted(doc, refs, starts[row["line"] - 1] + row["col"])
        want = set(row["expected"])
        out.mentions += bool(want)
        out.tp += len(got & want)
        out.fp += len(got - want)
        out.fn += len(want - got)
        if got != want:
            out.misses.append({**row, "got": sorted(got)})
    return out


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
