"""The reference grammar of each profile: chains, lists, ranges, relative references,
other acts, and resolution against the citing unit's ancestors."""

from __future__ import annotations

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
