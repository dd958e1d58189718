"""References name the labels the cutter learnt in audit rounds 2 and 3: Latin-suffixed
articles (``Article 5 bis``, ``Art. 2-bis``), the first article spelt out (``article
1er``), superscript indexes (``art. 22¹``), schedules, annexes and appendices, US
statutes' ``SEC.`` and sections under titles, US Code sections (``section 106A``). Each
resolves to the code the cut gives that unit (both cutters), never to another unit."""

from __future__ import annotations

import pytest

from iucut.cut import cut_text
from iucut.refs import document_references


@pytest.fixture(params=[False, True], ids=["python", "compiled"])
def cutter_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Each test runs with the Python cutter and with the compiled core."""
    from iucut.cut import cutter

    assert not request.param or cutter._core is not None, "the compiled core did not build"
    monkeypatch.setattr(cutter, "COMPILED", request.param)
    return bool(request.param)


def refs(text: str, **kw: str) -> dict[str, list[tuple[str, str | None, str | None]]]:
    doc = cut_text(text.encode(), "law.md", namespace="NS", **kw)
    return {
        code: [(r.text, r.target, r.act) for r in found]
        for code, found in document_references(doc).items()
    }


FR = """# Code civil

## Article 1er

Les lois sont exécutoires dans tout le territoire français.

## Article 5

Il est défendu aux juges de prononcer par voie de disposition générale.

## Article 5 bis

Les dispositions de l'article 5 bis s'appliquent sous réserve de l'article 5.

## Article 6

On ne peut déroger à l'article premier ni à l'article 1er bis, ni aux articles 5,
5 ter.
"""


def test_french_suffixed_and_first_articles(cutter_kind: bool) -> None:
    """``article 5 bis`` is ``A5-bis`` (was article 5: the wrong unit), ``article 1er`` and
    ``article premier`` are ``A1``; articles the text lacks (``1er bis``, ``5 ter``) are
    unresolved, not article 1 or 5."""
    got = refs(FR)
    assert got["NS/A5-bis"] == [
        ("article 5 bis", "NS/A5-bis", None),
        ("article 5", "NS/A5", None),
    ]
    assert [(t, target) for t, target, _ in got["NS/A6"]] == [
        ("article premier", "NS/A1"),
        ("article 1er bis", None),
        ("articles 5,\n5 ter", "NS/A5"),
        ("articles 5,\n5 ter", None),
    ]


IT = """# Codice in materia di protezione dei dati personali

##### Art. 2. Finalità

1. Il presente codice reca disposizioni per l'adeguamento.

##### Art. 2-bis. Autorità di controllo

1. L'Autorità di controllo è il Garante.

##### Art. 2-ter. Base giuridica

1. Ai sensi dell'Art. 2-bis e dell'Art. 2 la base giuridica è una norma di legge.
"""


def test_italian_hyphenated_suffixes(cutter_kind: bool) -> None:
    """``Art. 2-bis`` is ``Art2-bis`` (was ``Art2``: the wrong unit)."""
    got = refs(IT)
    assert got["NS/Art2-ter/Nr1"] == [
        ("Art. 2-bis", "NS/Art2-bis", None),
        ("Art. 2", "NS/Art2", None),
    ]


PL = """# Kodeks pracy

**Art. 22.** § 1. Przez nawiązanie stosunku pracy pracownik zobowiązuje się do pracy.

**Art. 22¹.** § 1. Pracodawca żąda od osoby ubiegającej się o zatrudnienie danych.

**Art. 22².** § 1. Monitoring, o którym mowa w art. 22^1, nie obejmuje pomieszczeń
sanitarnych; art. 22 stosuje się odpowiednio, a art. 221 nie istnieje.
"""


def test_polish_superscript_articles(cutter_kind: bool) -> None:
    """``art. 22^1`` is ``Art22^1`` (was article 22: the wrong unit), whatever the label's
    typing in the heading (``22¹``); ``art. 221`` is not it."""
    got = refs(PL, profile="de")
    assert [(t, target) for t, target, _ in got["NS/Art22^2"] if t.startswith("art.")] == [
        ("art. 22^1", "NS/Art22^1"),
        ("art. 22", "NS/Art22"),
        ("art. 221", None),
    ]


UK = """# Data Protection Act 2018

## Part 1 Preliminary

### 1 Overview

(1) Schedule 1 makes provision about special categories of personal data, and the
exemptions are in Schedule 2. The levels are set out in Annex IV, the forms in
Appendix B and the maps in Appendix C; Schedule 9 to the Finance Act does not apply.

## Schedule 1 Special categories of personal data

Text.

## Schedule 2 Exemptions etc from the GDPR

Text.

## Annex IV Levels

Text.

## Appendix B Forms

Text.

## Appendix C Maps

Text.
"""


def test_schedules_annexes_and_appendices(cutter_kind: bool) -> None:
    """``Schedule 2``, ``Annex IV``, ``Appendix B`` are ``Sch2``, ``Anx4``, ``AppB`` (were no
    references); a schedule the text lacks is another act's."""
    got = refs(UK)
    (code,) = [c for c in got if c.endswith("/1-overview")]
    assert [(t, target) for t, target, _ in got[code]] == [
        ("Schedule 1", "NS/Sch1"),
        ("Schedule 2", "NS/Sch2"),
        ("Annex IV", "NS/Anx4"),
        ("Appendix B", "NS/AppB"),
        ("Appendix C", "NS/AppC"),  # a letter, not the Roman 100 (as the cutter reads it)
        ("Schedule 9", None),
    ]


US = """# Infrastructure Investment and Jobs Act

## TITLE I—FEDERAL-AID HIGHWAYS

### Subtitle A—Authorizations and Programs

#### SEC. 11101. AUTHORIZATION OF APPROPRIATIONS.

(a) In General.—The following amounts are authorized to be appropriated.

#### SEC. 11102. OBLIGATION CEILING.

(a) General Limitation.—Subject to SEC. 11101 and section 11201, the obligations shall
not exceed the amounts set out.

### Subtitle B—Planning and Performance Management

#### SEC. 11201. TRANSPORTATION PLANNING.

(a) Metropolitan Transportation Planning.—As provided in section 11102(a).
"""


def test_us_statute_sections_under_titles(cutter_kind: bool) -> None:
    """``SEC. 11101`` and ``section 11201`` in a statute whose sections hang under titles
    and subtitles are ``T1/STA/S11101`` and ``T1/STB/S11201`` (were unresolved)."""
    got = refs(US)
    assert [(t, target) for t, target, _ in got["NS/T1/STA/S11102"]] == [
        ("SEC. 11101", "NS/T1/STA/S11101"),
        ("section 11201", "NS/T1/STB/S11201"),
    ]
    assert [target for _, target, _ in got["NS/T1/STB/S11201"]] == ["NS/T1/STA/S11102"]


USC = """# Title 17—Copyrights

## Chapter 1—Subject Matter and Scope of Copyright

### § 106. Exclusive rights in copyrighted works

Subject to sections 107 through 122, the owner of copyright has the exclusive rights.

### § 106A. Rights of certain authors to attribution and integrity

(a) Rights of Attribution and Integrity.—Subject to section 107 and independent of the
exclusive rights provided in section 106, the author of a work of visual art shall have
the rights.

### § 107. Limitations on exclusive rights: Fair use

Notwithstanding the provisions of sections 106 and 106A, the fair use of a copyrighted
work is not an infringement of copyright; see also § 106A(a).
"""


def test_us_code_sections_are_its_paragraphs(cutter_kind: bool) -> None:
    """In the US Code, ``section 106A`` and ``§ 106A`` are ``§106A`` (were no reference or
    unresolved: the grammar read ``106A`` as nothing and ``§`` as a section)."""
    got = refs(USC)
    assert [(t, target) for t, target, _ in got["NS/§107"]] == [
        ("sections 106 and 106A", "NS/§106"),
        ("sections 106 and 106A", "NS/§106A"),
        ("§ 106A", "NS/§106A"),
    ]
    assert [target for _, target, _ in got["NS/§106A"]] == ["NS/§107", "NS/§106"]


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("según el Artículo 2 bis", "NS/A2-bis"),
        ("ai sensi dell'Articolo 1", "NS/A1"),
        ("come previsto dall'articolo primo", "NS/A1"),
    ],
)
def test_spanish_and_italian_articles(cutter_kind: bool, text: str, target: str) -> None:
    """``Artículo``/``Articolo`` references are articles, as the cutter reads them."""
    doc = "# Ley\n\n## Artículo 1\n\nTexto.\n\n## Artículo 2 bis\n\nTexto.\n\n## Artículo 3\n\n"
    got = refs(doc + text + ".\n", profile="en")
    assert [t for _, t, _ in got["NS/A3"]] == [target]


MANTEL = """# Gesetz zur Einführung des Bundesversorgungsgesetzes im Saarland

## Art I - Einführung des Bundesversorgungsgesetzes

## § 1

(1) Das Bundesversorgungsgesetz tritt im Saarland in Kraft.

(2) Die Renten werden umgerechnet.

## § 2

Die Renten werden nach § 1 Abs. 2 erhöht.

## Art II - Unterhaltsbeihilfe

## § 1

Das Gesetz über die Unterhaltsbeihilfe tritt in Kraft.

## § 2

Dabei gelten die §§ 1 und 2 entsprechend.

## Art III - Schlußvorschriften

## § 1

Mit den sich aus Artikel I § 1 Abs. 1 und Artikel II ergebenden Maßgaben gilt das
Recht des Bundes. Artikel Ia bleibt unberührt; Artikel II § 7 gibt es nicht.

## Art IV - Änderung des Rentengesetzes

Das Rentengesetz wird wie folgt geändert.

## Art V

Artikel IV § 5 Nr. 3 gilt ab 1964.
"""


def test_roman_numeral_articles_of_an_amending_law(cutter_kind: bool) -> None:
    """``Artikel I § 1 Abs. 1`` is § 1 Abs. 1 of article I (``Art1/§1/Abs1``; was the
    citing § 1 of article III itself), ``Artikel II`` is ``Art2``; a § inside an article
    is that article's own (``§§ 1 und 2`` in article II are its own), one the article
    lacks is no § elsewhere (``Artikel II § 7``: unresolved, not article I's), and in an
    article not cut into §§ (an amending one) it is a part of that article's text."""
    got = refs(MANTEL, profile="de")
    assert got["NS/Art3/§1"] == [
        ("Artikel I § 1 Abs. 1", "NS/Art1/§1/Abs1", None),
        ("Artikel II", "NS/Art2", None),
        ("Artikel Ia", None, None),
        ("Artikel II § 7", None, None),
    ]
    assert got["NS/Art2/§2"] == [
        ("§§ 1 und 2", "NS/Art2/§1", None),
        ("§§ 1 und 2", "NS/Art2/§2", None),
    ]
    assert got["NS/Art5"] == [("Artikel IV § 5 Nr. 3", "NS/Art4", None)]
    assert got["NS/Art1/§2"] == [("§ 1 Abs. 2", "NS/Art1/§1/Abs2", None)]
