"""The reference grammar of each profile: chains, lists, ranges, relative references,
other acts, and resolution against the citing unit's ancestors."""

from __future__ import annotations

import pytest

from iucut import refs as refs_mod
from iucut.cut import cut_text
from iucut.refs import document_references

VI = """\
# Luật Mẫu

### Điều 1. Phạm vi

1. Khoản một.
2. Khoản hai:
a) điểm a;
b) điểm b.

### Điều 2. Áp dụng

1. Theo điểm a khoản 2 Điều 1 và khoản 1 và khoản 2 Điều 1.
2. Theo khoản 1 Điều này, Điều 1, 2 và 3, từ Điều 1 đến Điều 3.
3. Theo Điều 12 Luật Đất đai và khoản 3 Điều 5 Nghị định số 15/2020/NĐ-CP.
4. Theo khoản 1 Điều 1 Luật này; điểm b khoản này.

### Điều 3. Hiệu lực

Luật này có hiệu lực.
"""

DE = """\
# Gesetz

## § 1 Zweck

(1) Satz eins.

(2) Nach Absatz 1 und § 2 Abs. 1 Satz 2 Nr. 2 gilt § 5 des Bürgerlichen Gesetzbuchs.

## § 2 Anwendung

(1) Die §§ 1 bis 3 gelten; Art. 3 GG bleibt unberührt.

1. erstens nach Satz 2,
2. zweitens.

## § 3 Schluss

Text.
"""

EN = """\
# Terms

## Article I

### Section 1

See Section 2 of this Article.

### Section 2

Text.

## Article II

As in Article I, Section 1 and Amendment 5.
"""


def refs(text: str, path: str) -> dict[str, list[tuple[str, str | None, str | None]]]:
    doc = cut_text(text, path)
    return {
        code: [(r.text, r.target, r.act) for r in found]
        for code, found in document_references(doc).items()
    }


def test_vi_nesting_lists_and_ranges() -> None:
    """vi: điểm/khoản/Điều nest inner-first; lists and 'từ … đến' ranges name each target."""
    got = refs(VI, "mau.md")["MAU/D2/K1"]
    assert [t for _, t, _ in got] == ["MAU/D1/K2/a", "MAU/D1/K1", "MAU/D1/K2"]
    got = refs(VI, "mau.md")["MAU/D2/K2"]
    assert [t for _, t, _ in got] == [
        "MAU/D2/K1",
        "MAU/D1",
        "MAU/D2",
        "MAU/D3",
        "MAU/D1",
        "MAU/D2",
        "MAU/D3",
    ]


def test_vi_other_acts_and_this_act() -> None:
    """vi: a chain followed by another act's name is external; 'Luật này' is this document."""
    got = refs(VI, "mau.md")
    assert got["MAU/D2/K3"] == [
        ("Điều 12 Luật Đất đai", None, "Luật Đất đai"),
        ("khoản 3 Điều 5 Nghị định số 15/2020/NĐ-CP", None, "Nghị định số 15/2020/NĐ-CP"),
    ]
    # clause 4 has no points: "điểm b khoản này" names a part of the clause's own text
    assert [t for _, t, _ in got["MAU/D2/K4"]] == ["MAU/D1/K1", "MAU/D2/K4"]


def test_vi_heading_label_is_no_reference() -> None:
    """vi: a unit's own label (and a line opening 'Điều N.') is not a reference."""
    got = refs(VI, "mau.md")
    assert "MAU/D1" not in got and "MAU/D3" not in got


def test_de_paragraphs_sentences_and_numbers() -> None:
    """de: § … Abs. … Satz … Nr. nest outer-first; Satz is no unit; Absatz alone is this §."""
    got = refs(DE, "g.md")["G/§1/Abs2"]
    assert got == [
        ("Absatz 1", "G/§1/Abs1", None),
        ("§ 2 Abs. 1 Satz 2 Nr. 2", "G/§2/Abs1/Nr2", None),
        ("§ 5 des Bürgerlichen Gesetzbuchs", None, "des Bürgerlichen Gesetzbuchs"),
    ]


def test_de_ranges_and_articles_of_other_acts() -> None:
    """de: '§§ 1 bis 3' names each §; 'Art. 3 GG' is external; 'nach Satz 2' is this paragraph."""
    got = refs(DE, "g.md")
    assert got["G/§2/Abs1"] == [
        ("§§ 1 bis 3", "G/§1", None),
        ("§§ 1 bis 3", "G/§2", None),
        ("§§ 1 bis 3", "G/§3", None),
        ("Art. 3 GG", None, "GG"),
    ]
    assert got["G/§2/Abs1/Nr1"] == [("Satz 2", "G/§2/Abs1", None)]


def test_en_articles_sections_and_amendments() -> None:
    """en: Article/Section/Amendment; 'Section 2 of this Article' is relative."""
    got = refs(EN, "terms.md")
    assert [t for _, t, _ in got["TERMS/A1/S1"]] == ["TERMS/A1/S2"]
    assert [t for _, t, _ in got["TERMS/A2"]] == ["TERMS/A1/S1", None]


AMENDING = """\
# Nghị định sửa đổi

### Điều 1. Sửa đổi Nghị định số 15/2020/NĐ-CP

1. Sửa đổi, bổ sung khoản 2 Điều 1 như sau:

"2. Theo khoản 1 Điều 3 Nghị định này."

2. Theo khoản 1 Điều này.
"""


def test_amending_instructions_name_the_amended_act() -> None:
    """vi: an amending instruction and the quoted new text name the amended act's units."""
    got = refs(AMENDING, "sua-doi.md")["SUA-DOI/D1/K1"]
    assert [(t, a) for _, t, a in got] == [(None, "(the amended act)")] * 2
    assert [t for _, t, _ in refs(AMENDING, "sua-doi.md")["SUA-DOI/D1/K2"]] == ["SUA-DOI/D1/K1"]


def test_regulation_numbers_are_no_references() -> None:
    """de: 'Verordnung (EG) Nr. 810/2009' names a regulation, not a point."""
    text = DE.replace("Text.", "Nach Artikel 2 der Verordnung (EG) Nr. 810/2009.")
    got = refs(text, "g.md")["G/§3"]
    assert [(t, a) for _, t, a in got] == [(None, "der Verordnung (EG) Nr")]


AMENDING_ARTICLE = """\
# Nghị định sửa đổi

### Điều 1. Sửa đổi, bổ sung một số điều của Nghị định số 15/2020/NĐ-CP

1. Bổ sung điểm c vào sau điểm b.

Theo khoản 7 và khoản 8 Điều 11 Nghị định này thì hồ sơ gồm:

2. Bỏ cụm từ "x" tại khoản 2 Điều 3, khoản 4 Điều 38.

### Điều 2. Hiệu lực

Theo khoản 1 Điều 1 Nghị định này.
"""


def test_an_article_amending_another_act_names_that_acts_units() -> None:
    """vi: every reference in an article whose title amends another act names that act's
    units, its "Nghị định này" too (the new text is that act's); other articles do not."""
    got = refs(AMENDING_ARTICLE, "sd.md")
    for code in ("SD/D1/K1", "SD/D1/K2"):
        assert {a for _, _, a in got[code]} == {"(the amended act)"}, code
    assert got["SD/D2"] == [("khoản 1 Điều 1 Nghị định này", "SD/D1/K1", None)]


LIST_UNDER = """\
# Thông tư

### Điều 1. Phạm vi

1. Quy định chi tiết một số điều của Luật Quản lý thuế gồm:

a) Khoản 1 Điều 2 về người nộp thuế;

b) khoản 3 Điều 15, khoản 4 Điều 24, điểm d
khoản 2 Điều 40 Nghị định số 252/2026/NĐ-CP;

### Điều 2. Khác

Theo khoản 1 Điều 1, khoản 2 Điều này.
"""


def test_list_items_take_the_act_their_list_opens_with() -> None:
    """vi: items cut as units of their own take the act their parent's list opens with
    ("… của Luật Quản lý thuế gồm:"); an act after a list of mentions names each."""
    got = refs(LIST_UNDER, "tt.md")
    assert got["TT/D1/K1/a"] == [("Khoản 1 Điều 2", None, "Luật Quản lý thuế")]
    acts = {a for _, _, a in got["TT/D1/K1/b"]}
    assert acts == {"Nghị định số 252/2026/NĐ-CP"}
    assert len(got["TT/D1/K1/b"]) == 3
    # no act after it: "khoản 2 Điều này" keeps the citing article
    assert [t for _, t, _ in got["TT/D2"]] == ["TT/D1/K1", "TT/D2"]


BULLETS = """\
# Thông tư

### Điều 1. Bãi bỏ

Gạch đầu dòng thứ hai điểm a và gạch đầu dòng thứ hai điểm b khoản 2
Điều 19 Thông tư số 103/2025/TT-BQP.
"""


def test_vi_bullets_join_a_chain() -> None:
    """vi: "gạch đầu dòng thứ hai điểm b" (a bullet of a point) stays in the chain, so
    both points take the act after it."""
    got = refs(BULLETS, "tt.md")["TT/D1"]
    assert [(t, a) for _, t, a in got] == [(None, "Thông tư số 103/2025/TT-BQP")] * 2


CHAPTERS = """\
# Bộ pháp điển

## Chương I

### Điều 45.5.LQ.1. Phạm vi

Xem Điều 45.5.LQ.23.

## Chương II

### Điều 45.5.LQ.23. Điều kiện

Văn bản.

## Chương III

### Điều 45.5.LQ.23. Điều kiện

Bản sao.

### Điều 3. Khác

Theo Điều 45.5.LQ.23.
"""


def test_an_article_coded_under_its_chapter_is_found() -> None:
    """vi: an article the cut codes under its chapter (its label repeats) is found: the
    one in the citing unit's chapter, else the first in the text."""
    got = refs(CHAPTERS, "pd.md")
    assert [t for _, t, _ in got["PD/D45.5.LQ.1"]] == ["PD/C2/D45.5.LQ.23"]
    assert [t for _, t, _ in got["PD/D3"]] == ["PD/C3/D45.5.LQ.23"]


NO_ARTICLES = """\
# Thông tư 47/2026/TT-BTC

## 1. Mẫu biểu

Theo Điều 3 Thông tư 47/2026/TT-BTC, mẫu biểu gồm các mẫu sau.
"""


def test_a_text_without_articles_is_read_with_its_languages_grammar() -> None:
    """A text the cutter finds no articles in is read with the grammar its keywords say
    (vi here), not the cutter's fallback profile."""
    got = refs(NO_ARTICLES, "mb.md")
    assert [(r, a) for r, _, a in next(iter(got.values()))] == [
        ("Điều 3 Thông tư 47/2026/TT-BTC", "Thông tư 47/2026/TT-BTC")
    ]


EINGANG = """\
# Verordnung

## Eingangsformel

Auf Grund

–   des § 69 Absatz 1 in Verbindung mit § 44
    Absatz 6 des Sechsten Buches Sozialgesetzbuch, von denen § 2 durch Artikel 4
    des Gesetzes vom 15. Juli 2009 geändert worden ist, verordnet die Bundesregierung:

## § 1 Zweck

Nach § 2 gilt.

## § 2 Rest

Text.
"""


def test_de_eingangsformel_cites_the_enabling_acts() -> None:
    """de: the Eingangsformel's references are to the acts the text is made under, even
    a paragraph away from its "Auf Grund"; a § of the text's own articles resolves."""
    got = refs(EINGANG, "vo.md")
    intro = [c for c in got if c not in ("VO/§1",)]
    assert intro and all(a is not None for c in intro for _, _, a in got[c])
    assert got["VO/§1"] == [("§ 2", "VO/§2", None)]


TOS = """\
# Terms

## A. Definitions

See Section B(2): Extra Terms and Section D.1, but not Section C.

## B. Account Terms

### 1. Controls

Text.

### 2. Extra Terms

Text.

## C. Acceptable Use

You grant the rights in Sections D.1 — D.3.

## D. Content

### 1. Grant

Text.

### 2. Other

Text.

### 3. More

This Section D.3 ends here.
"""


def test_en_lettered_sections_resolve_through_the_headings_numbering() -> None:
    """en: "Section D.1" is the "1." heading under the "D." heading, "Section B(2)" the
    "2." under "B.", "Sections D.1 — D.3" each of D.1 … D.3, "Section C" the C heading
    (a letter, though C is also a roman numeral)."""
    got = refs(TOS, "tos.md")
    assert [t for _, t, _ in got["TOS/terms/definitions"]] == [
        "TOS/terms/account-terms/extra-terms",
        "TOS/terms/content/grant",
        "TOS/terms/acceptable-use",
    ]
    assert [t for _, t, _ in got["TOS/terms/acceptable-use"]] == [
        "TOS/terms/content/grant",
        "TOS/terms/content/other",
        "TOS/terms/content/more",
    ]
    assert [t for _, t, _ in got["TOS/terms/content/more"]] == ["TOS/terms/content/more"]


CONSTITUTION = """\
# Constitution

## Article I

### Section 8

Congress shall have power.

### Section 9

No tax shall be laid, except as provided in Article I, Section 8, clause 1.

## Article II

### Section 1

Under Sections 8 and 9 of Article I, Article I, Section 8 and Amendment V,
and Article 5 of the Treaty of Rome, and Section 2 of this Article.

## Amendment V

Text.
"""


def test_en_article_section_clause_and_amendment() -> None:
    """en: "Article I, Section 8" (roman, comma), a clause is no unit (its section's
    text), "Sections 8 and 9 of Article I" (inner first with "of"), "Amendment V",
    "Article 5 of the Treaty of Rome" is another act, "Section 2" is relative."""
    got = refs(CONSTITUTION, "c.md")
    assert got["C/A1/S9"] == [("Article I, Section 8, clause 1", "C/A1/S8", None)]
    found = [(r, t, a) for r, t, a in got["C/A2/S1"]]
    targets = [t for _, t, _ in found]
    assert targets[:4] == ["C/A1/S8", "C/A1/S9", "C/A1/S8", "C/Am5"]
    assert ("Article 5 of the Treaty of Rome", None, "the Treaty of Rome") in found
    assert found[-1] == ("Section 2", None, None)  # no Section 2 in Article II; not external


@pytest.mark.parametrize("profile", sorted(refs_mod.GRAMMARS))
def test_a_chains_start_is_led_by_its_keywords_first_characters(profile: str) -> None:
    """The search for where a chain starts is led by the characters its keywords start
    with (read off the keywords alone, not the whole pattern's parse), the same lead the
    whole pattern's parse gives."""
    start = refs_mod._Compiled(refs_mod.GRAMMARS[profile]).start.pattern
    assert start.startswith("(?=["), start[:80]
    whole = start[start.index("])(?:") + len("])(?:") : -1]
    assert start == refs_mod._led(whole)


FR = """\
# Code du travail

## Partie législative

### Livre Ier

#### Titre II

##### Chapitre Ier

###### Section 1

**Article L. 1221-1**

Le contrat de travail est soumis aux règles du droit commun. Voir l'article L. 1221-2.

**Article L. 1221-2**

Le contrat à durée indéterminée est la forme normale. Les dispositions de l'article
L. 1221-1 s'appliquent, ainsi que l'article 5 du code pénal.

**Article R. 1221-3**

Conformément aux articles L. 1221-1 et L. 1221-2 du présent code, voir l'article R.*12-1.

**Article R*12-1**

Les articles 1240 à 1242 et l'article 1er.

**Article 1er**

Un.

**Article 1240**

Deux.

**Article 1241**

Trois.

**Article 1242**

Quatre.
"""


def test_a_french_code_cites_its_articles_by_their_numbers() -> None:
    """French article numbers (``L. 1221-2``, ``R.*12-1``, ``1er``, ranges with ``à``,
    lists with ``et``) resolve to the articles the cutter coded; an article's own heading
    is no reference to itself; another code is another act."""
    assert refs(FR, "code.md") == {
        "CODE/AL1221-1": [("article L. 1221-2", "CODE/AL1221-2", None)],
        "CODE/AL1221-2": [
            ("article\nL. 1221-1", "CODE/AL1221-1", None),
            ("article 5 du code pénal", None, "code pénal"),
        ],
        "CODE/AR1221-3": [
            ("articles L. 1221-1 et L. 1221-2 du présent code", "CODE/AL1221-1", None),
            ("articles L. 1221-1 et L. 1221-2 du présent code", "CODE/AL1221-2", None),
            ("article R.*12-1", "CODE/AR-12-1", None),
        ],
        "CODE/AR-12-1": [
            ("articles 1240 à 1242", "CODE/A1240", None),
            ("articles 1240 à 1242", "CODE/A1241", None),
            ("articles 1240 à 1242", "CODE/A1242", None),
            ("article 1er", "CODE/A1", None),
        ],
    }
