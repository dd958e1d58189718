"""Where chains start: the search for a keyword followed by its label finds the very chains
a search for every keyword (each tried, its match skipped when no element follows) does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iucut.cut import cut_file
from iucut.refs import GRAMMARS, _Chain, _element_at, _led, chains, grammar

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
CORPUS = {"vi": "vn-laws", "de": "de-laws", "en": "en-terms-history"}
#: a profile without a corpus here (fr): the citations of a French code, many forms each
WRITTEN = {
    "fr": [
        f"Conformément à l'article L. {n}-{n % 7 + 1}, aux articles {n} et {n + 1}, "
        f"des articles R. {n}-1 à R. {n}-4 du présent code, l'article R.*{n}-2, "
        f"article 1er, l'article {n} bis du code civil, les articles, l'article, "
        f"Article D. {n}. Art. {n}-{n}, articles L. {n}-1, L. {n}-2 ou L. {n}-3."
        for n in range(1, 120)
    ]
}


def every_keyword(profile: str, text: str) -> list[tuple[int, int]]:
    """The chains' spans as a plain keyword-by-keyword scan starts them (where each ends,
    past the elements and acts after the first, is ``chains``' own)."""
    c = grammar(profile)
    out = []
    pos = 0
    while True:
        m = c.keyword.search(text, pos)
        if m is None:
            return out
        first = _element_at(c, text, m.start())
        if c.not_before is not None and c.not_before.search(
            text, max(0, m.start() - 40), m.start()
        ):
            first = None
        if first is not None and c.heading is not None and c.heading.match(text, first.end):
            line = text.rfind("\n", 0, first.start) + 1
            if not text[line : first.start].strip(" \t>#*_"):
                first = None
        if first is None:
            pos = m.end()
            continue
        found = chains(profile, text, first.start)
        end = found[0].end if found else len(text)
        out.append((first.start, end))
        pos = end


def spans(found: list[_Chain]) -> list[tuple[int, int]]:
    return [(ch.start, ch.end) for ch in found]


TRICKY = [
    "§§ x § 5, §§ 7 bis 9 und §§§ 3; Art. Art. 5 Artikel Artikeln I § 1 Abs. 2 Abs. Satz",
    "the article, Articles IV and V, Art.5, article premier, section 106A, §§ 2-3, sections",
    "Điều này, Điều Điều 5, khoản l Điều 3, điểm a khoản khoản 2, Điều 1.2.LQ.3",
    "Artikel I\n\n## Artikel 5. Titel\n\nSection. Section 2. Heading\nSEC. 3 (EG) Nr. 810/2009",
    "Clause 2, Paragraph 3, Schedule 1, Annex IV, Exhibit A, Appendix B, Amendment XIV",
    "Khoản 2 Điều 5, Absatz 2, Ziffer 3, Buchstabe a, lit. b, Nr. 4, Sätze 1 bis 3",
]


@pytest.mark.parametrize("profile", sorted(GRAMMARS))
def test_start_search_finds_what_every_keyword_finds(profile: str) -> None:
    """On crafted texts (keywords without labels, repeated, glued) and on every unit of
    the corpus of the profile (written citations for a profile without one), the chains
    found start and end where a keyword-by-keyword scan puts them."""
    texts = list(TRICKY) + WRITTEN.get(profile, [])
    if profile in CORPUS:
        files = sorted((CORPORA / CORPUS[profile]).rglob("*.md"))
        assert files, f"corpora missing at {CORPORA} (tests read them in place)"
        for f in files[:: max(1, len(files) // 60)]:
            doc = cut_file(f, root=CORPORA)
            texts += [u.raw_heading + u.body for u in doc.units]
    checked = 0
    for text in texts:
        found = chains(profile, text)
        assert spans(found) == every_keyword(profile, text), text[:200]
        checked += len(found)
    assert checked > 500


LED = [
    r"a?b",
    r"(?:x|)y",
    r"[a-c]d|e",
    r"(?i:ab)c",
    r"\bfoo|§\s*\d",
    r"(?<!\w)(?>Art\.|Artikel)\s*\d",
    r"(?=a)\w+",
    r"\d+x",
]


@pytest.mark.parametrize("pattern", LED)
def test_led_pattern_finds_the_same(pattern: str) -> None:
    """A pattern led by the characters its matches start with finds what it finds alone;
    a pattern whose first characters are not sure (an optional part, a class such as
    ``\\d``, a flag) is left as it is."""
    text = "ab b xy y ad bd cd e ABc abc foo xfoo § 5 Art. 3 Artikel 4 aw 12x Ab"
    led = _led(pattern)
    assert re.findall(led, text) == re.findall(pattern, text)
    sure = pattern in (r"[a-c]d|e", r"\bfoo|§\s*\d", r"(?<!\w)(?>Art\.|Artikel)\s*\d")
    assert (led != pattern) == sure, led
