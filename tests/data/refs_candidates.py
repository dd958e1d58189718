"""Draw the reference-quality sample: candidate mentions found by a deliberately broad
regex (a keyword followed by something label-like), NOT by iucut.refs, from the vn-laws
and de-laws corpora, chosen at random with a fixed seed. Each is then labelled by hand
(tests/data/refs_labels.jsonl); this script only proposes the candidates.

    .venv/bin/python tests/data/refs_candidates.py > /tmp/candidates.jsonl
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
SEED = 15
PER_CORPUS = 180
#: a second draw from the candidates left, so that the sample holds 300+ references
EXTRA = {"vn-laws": 50, "de-laws": 40}
BROAD = {
    "vn-laws": re.compile(r"(?i:điều|khoản|điểm)\s+(?:\d|[a-zđ](?![\w]))"),
    "de-laws": re.compile(
        r"(?:§§?|Art\.|Artikel|Abs\.|Absatz|Absätze|Satz|Sätze|Nr\.|Nummer|Buchstabe)\s*\d"
    ),
}


def candidates(corpus: str) -> list[dict[str, object]]:
    out = []
    for path in sorted((CORPORA / corpus).rglob("*.md")):
        rel = path.relative_to(CORPORA).as_posix()
        text = path.read_bytes().decode("utf-8", "replace")
        for n, line in enumerate(text.split("\n"), 1):
            for m in BROAD[corpus].finditer(line):
                out.append({"file": rel, "line": n, "col": m.start(), "match": m.group()})
    return out


def main() -> None:
    rng = random.Random(SEED)
    found = {corpus: candidates(corpus) for corpus in BROAD}
    drawn: dict[str, list[int]] = {}
    for corpus in BROAD:
        drawn[corpus] = rng.sample(range(len(found[corpus])), PER_CORPUS)
        write(found[corpus], drawn[corpus])
    for corpus, extra in EXTRA.items():
        taken = set(drawn[corpus])
        left = [i for i in range(len(found[corpus])) if i not in taken]
        write(found[corpus], rng.sample(left, extra))


def write(found: list[dict[str, object]], picks: list[int]) -> None:
    for c in sorted((found[i] for i in picks), key=lambda c: (str(c["file"]), int(c["line"]))):  # type: ignore[call-overload]
        sys.stdout.write(json.dumps(c, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
