"""Draw the HELD-OUT reference-quality sample: the same broad keyword regexes as
tests/data/refs_candidates.py (not iucut.refs), a new fixed seed, and only documents the
first sample (refs_labels.jsonl) never drew from; plus English mentions from the
GitHub Terms of Service versions. Labelled by hand from the text alone, before running
the extractor (tests/data/refs_labels_heldout.jsonl); this script only proposes.

    .venv/bin/python tests/data/refs_candidates_heldout.py > /tmp/heldout.jsonl
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
FIRST = Path(__file__).resolve().parent / "refs_labels.jsonl"
SEED = 2026
PER_CORPUS = {"vn-laws": 70, "de-laws": 60, "en-terms-history": 25}
BROAD = {
    "vn-laws": re.compile(r"(?i:điều|khoản|điểm)\s+(?:\d|[a-zđ](?![\w]))"),
    "de-laws": re.compile(
        r"(?:§§?|Art\.|Artikel|Abs\.|Absatz|Absätze|Satz|Sätze|Nr\.|Nummer|Buchstabe)\s*\d"
    ),
    "en-terms-history": re.compile(
        r"(?i:article|section|clause|amendment|paragraph)s?\s+(?:\d|[A-Z](?![a-z])|[IVX]+\b)"
    ),
}


def candidates(corpus: str, skip: set[str]) -> list[dict[str, object]]:
    out = []
    for path in sorted((CORPORA / corpus).rglob("*.md")):
        rel = path.relative_to(CORPORA).as_posix()
        if rel in skip:
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        for n, line in enumerate(text.split("\n"), 1):
            for m in BROAD[corpus].finditer(line):
                out.append({"file": rel, "line": n, "col": m.start(), "match": m.group()})
    return out


def main() -> None:
    first = {json.loads(line)["file"] for line in FIRST.read_text("utf-8").splitlines() if line}
    rng = random.Random(SEED)
    for corpus, count in PER_CORPUS.items():
        found = candidates(corpus, first)
        picks = rng.sample(range(len(found)), count)
        for c in sorted((found[i] for i in picks), key=lambda c: (str(c["file"]), int(c["line"]))):  # type: ignore[call-overload]
            sys.stdout.write(json.dumps(c, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
