"""Codes of legal styles the first tests did not have: Latin-suffixed article numbers
(``Art. 2-bis``, ``Article 5 bis``), UCC parts inside articles, US statutes (``TITLE I``,
``Subtitle A``, ``SEC. 101.``), numbers with a capital letter (``§ 106A``, ``Part 2A``).
Each is cut by both cutters, and a unit inserted in the middle renames no other unit."""

from __future__ import annotations

import pytest

from iucut.cut import cut_text
from iucut.cut.profiles import PROFILES, hits
from iucut.units import CutDocument

IT = """# Codice in materia di protezione dei dati personali

##### Art. 2. Finalità

1. Il presente codice reca disposizioni per l'adeguamento.

##### Art. 2-ter. Base giuridica

1. La base giuridica è costituita da una norma di legge.

##### Art. 2-quater. Regole deontologiche

1. Il Garante promuove l'adozione di regole deontologiche.
"""
IT_INSERTED = (
    "##### Art. 2-ter",
    "##### Art. 2-bis. Autorità\n\n1. Il Garante.\n\n##### Art. 2-ter",
)
FR = """# Code civil

## Article 5

Il est défendu aux juges de prononcer par voie de disposition générale.

## Article 5 ter

Texte.

## Article 6

On ne peut déroger, par des conventions particulières, aux lois.
"""
FR_INSERTED = ("## Article 5 ter", "## Article 5 bis\n\nNouveau.\n\n## Article 5 ter")
UCC = """# Uniform Commercial Code

## Article 2 Sales

### Part 1 Short Title, General Construction and Subject Matter

#### § 2-101. Short Title.

This Article shall be known as Uniform Commercial Code-Sales.

### Part 2 Form, Formation and Readjustment of Contract

#### § 2-201. Formal Requirements; Statute of Frauds.

Text.

## Article 3 Negotiable Instruments

### Part 1 General Provisions and Definitions

#### § 3-101. Short Title.

This Article may be cited as Uniform Commercial Code-Negotiable Instruments.
"""
UCC_INSERTED = (
    "## Article 3 Negotiable",
    "## Article 2A Leases\n\n### Part 1 General Provisions\n\n#### § 2A-101. Short Title."
    "\n\nLeases.\n\n## Article 3 Negotiable",
)
US = """# Infrastructure Investment and Jobs Act

## SECTION 1. SHORT TITLE; TABLE OF CONTENTS.

(a) Short Title.—This Act may be cited as the "Infrastructure Investment and Jobs Act".

## SEC. 2. DEFINITIONS.

In this Act, the term "Secretary" means the Secretary of Transportation.

## TITLE I—FEDERAL-AID HIGHWAYS

### Subtitle A—Authorizations and Programs

#### SEC. 11101. AUTHORIZATION OF APPROPRIATIONS.

(a) In General.—The following amounts are authorized to be appropriated.

#### SEC. 11102. OBLIGATION CEILING.

(a) General Limitation.—The obligations shall not exceed the amounts set out.

### Subtitle B—Planning and Performance Management

#### SEC. 11201. TRANSPORTATION PLANNING.

(a) Metropolitan Transportation Planning.—Section 134 of title 23 is amended.

## TITLE II—TRANSPORTATION INFRASTRUCTURE FINANCE

### Subtitle A—General Provisions

#### SEC. 21001. TIFIA AMENDMENTS.

(a) Definitions.—Section 601(a) of title 23 is amended.
"""
US_INSERTED = (
    "#### SEC. 11102.",
    "#### SEC. 11101A. NEW PROGRAM.\n\nText.\n\n#### SEC. 11102.",
)


@pytest.fixture(params=[False, True], ids=["python", "compiled"])
def cutter_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Each test runs with the Python cutter and with the compiled core (always built:
    tests/unit/test_cut_core.py fails without it, and so does this)."""
    from iucut.cut import cutter

    assert not request.param or cutter._core is not None, "the compiled core did not build"
    monkeypatch.setattr(cutter, "COMPILED", request.param)
    return bool(request.param)


def cut(text: str, **kw: str) -> CutDocument:
    return cut_text(text.encode(), "law.md", namespace="NS", **kw)


def assert_inserting_renames_nothing(text: str, insert: tuple[str, str], **kw: str) -> set[str]:
    """Cut ``text`` before and after an insertion: every old code still names the unit
    with the same text, and no warning numbered a code. Returns the new codes."""
    before, after = cut(text, **kw), cut(text.replace(*insert, 1), **kw)
    assert insert[0] in text
    old = {u.code: u.content_hash for u in before.units[1:]}
    new = {u.code: u.content_hash for u in after.units[1:]}
    assert {c: h for c, h in old.items() if new.get(c) != h} == {}
    assert before.warnings == after.warnings == ()
    return set(new) - set(old)


def test_latin_suffixed_article_numbers_are_whole_labels(cutter_kind: bool) -> None:
    """``Art. 2-bis``, ``2-ter`` and ``Article 5 bis`` are labels of their own, not article 2
    or 5 again: they were numbered ``Art2-2``, ``Art2-3`` by position, and an inserted
    ``2-bis`` took the code of ``2-ter``."""
    doc = cut(IT)
    assert [u.code for u in doc.units if u.kind == "article"] == [
        "NS/Art2",
        "NS/Art2-ter",
        "NS/Art2-quater",
    ]
    assert assert_inserting_renames_nothing(IT, IT_INSERTED) == {"NS/Art2-bis", "NS/Art2-bis/Nr1"}
    fr = cut(FR)
    assert [(u.code, u.label) for u in fr.units if u.kind == "article"] == [
        ("NS/A5", "5"),
        ("NS/A5-ter", "5 ter"),
        ("NS/A6", "6"),
    ]
    assert assert_inserting_renames_nothing(FR, FR_INSERTED) == {"NS/A5-bis"}
    # a no-break space before the suffix (French typography) is a blank like any other
    nbsp = cut(FR.replace("Article 5 ter", "Article 5\u00a0ter"))
    assert [u.code for u in nbsp.units if u.kind == "article"] == ["NS/A5", "NS/A5-ter", "NS/A6"]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("§ 5 bis 7 (weggefallen)", "5-7"),  # a range, as before: § 5 to § 7
        ("§§ 5 bis 7", "5-7"),
        ("§ 5 bis", "5 bis"),
        ("§ 5bis Neu", "5bis"),
        ("Art. 5 bis", "5 bis"),
    ],
)
def test_german_ranges_are_not_latin_suffixes(text: str, label: str) -> None:
    """``§ 5 bis 7`` stays the range 5–7 (``§5-7``); ``bis`` alone is a suffix."""
    doc = cut_text(f"# G\n\n## {text}\n\nText.\n".encode(), "g.md", profile="de")
    assert [u.label for u in doc.units if u.kind == "article"] == [label]


def test_ucc_parts_inside_articles_are_not_numbered_by_position(cutter_kind: bool) -> None:
    """A ``Part 1`` heading inside ``Article 3`` (UCC: Article > Part > Section) hangs under
    that article, so Part 1 of Article 2 and of Article 3 are ``A2/P1`` and ``A3/P1``: before,
    a part outranked an article, both parts hung under the document heading as ``P1`` and
    ``P1-2``, and an inserted Article 2A handed ``P1-2`` to its own Part 1."""
    doc = cut(UCC)
    got = [(u.code, u.parent_code) for u in doc.units if u.kind in ("article", "part")]
    assert got == [
        ("NS/A2", "NS/uniform-commercial-code"),
        ("NS/A2/P1", "NS/A2"),
        ("NS/§2-101", "NS/A2/P1"),
        ("NS/P2", "NS/A2"),  # document-wide while only one article has a Part 2
        ("NS/§2-201", "NS/P2"),
        ("NS/A3", "NS/uniform-commercial-code"),
        ("NS/A3/P1", "NS/A3"),
        ("NS/§3-101", "NS/A3/P1"),
    ]
    assert assert_inserting_renames_nothing(UCC, UCC_INSERTED) == {
        "NS/A2A",
        "NS/A2A/P1",
        "NS/§2A-101",
    }


def test_flat_headings_still_nest_by_rank(cutter_kind: bool) -> None:
    """Headings of one level nest by rank as before (``## Part 1`` holds ``## Chapter 2``,
    which holds ``## Article 3``), and so do bold lines (``**Section 4.**``); a deeper
    heading is inside the one above it."""
    text = (
        "# Act\n\n## Part 1\n\n## Chapter 2\n\n## Article 3\n\nText.\n\n**Section 4.** Text.\n\n"
        "### Article 4 Deeper\n\n**Section 1.** Lead.\n\n**Article 5.** Bold.\n\n#### Section 2\n"
    )
    doc = cut(text)
    assert [(u.code, u.parent_code) for u in doc.units[2:]] == [
        ("NS/P1", "NS/act"),
        ("NS/C2", "NS/P1"),
        ("NS/A3", "NS/C2"),
        ("NS/A3/S4", "NS/A3"),
        ("NS/A4", "NS/A3"),  # a deeper heading: inside, as written
        ("NS/A4/S1", "NS/A4"),
        ("NS/A5", "NS/C2"),  # a bold line: by rank
        ("NS/A5/S2", "NS/A5"),  # under a bold line: by rank
    ]


def test_us_statute_titles_subtitles_and_sec_are_labels(cutter_kind: bool) -> None:
    """``TITLE I—…``, ``Subtitle A—…`` and ``SEC. 101.`` are labels like ``SECTION 1.``:
    ``T1``, ``T1/STA``, ``…/S11101``, not slugs of their text; a subtitle restarts per
    title, so ``Subtitle A`` of titles I and II are ``T1/STA`` and ``T2/STA``."""
    doc = cut(US)
    assert doc.profile == "en"
    assert [(u.code, u.kind, u.label) for u in doc.units[2:]] == [
        ("NS/infrastructure-investment-and-jobs-act/S1", "section", "1"),
        ("NS/infrastructure-investment-and-jobs-act/S2", "section", "2"),
        ("NS/T1", "title", "1"),
        ("NS/T1/STA", "subtitle", "A"),
        ("NS/T1/STA/S11101", "section", "11101"),
        ("NS/T1/STA/S11102", "section", "11102"),
        ("NS/T1/STB", "subtitle", "B"),
        ("NS/T1/STB/S11201", "section", "11201"),
        ("NS/T2", "title", "2"),
        ("NS/T2/STA", "subtitle", "A"),
        ("NS/T2/STA/S21001", "section", "21001"),
    ]
    assert assert_inserting_renames_nothing(US, US_INSERTED) == {"NS/T1/STA/S11101A"}


def test_sec_lines_of_a_bill_are_sections_and_prose_is_not(cutter_kind: bool) -> None:
    """Plain ``Sec. 2. Findings.`` lines are sections; ``Sec. 2 of the Act …``, ``Title 17
    of the United States Code …`` and ``Section 5(a) of the Act …`` in prose are not."""
    text = (
        "# H.R. 1234\n\nSec. 1. Short title.\n\nThis Act may be cited as the Clean Water Act.\n"
        "\nSec. 2. Findings.\n\nSec. 2 of the Act of 1972 is amended.\nTitle 17 of the United "
        "States Code applies.\nSection 5(a) of the Act is amended by striking.\n"
    )
    doc = cut(text)
    assert [(u.code, u.kind) for u in doc.units[2:]] == [
        ("NS/h-r-1234/S1", "section"),
        ("NS/h-r-1234/S2", "section"),
    ]


@pytest.mark.parametrize(
    ("heading", "code"),
    [
        ("§ 106A. Rights of certain authors", "NS/§106A"),
        ("Part 2A Contaminated land", "NS/P2A"),
        ("Chapter 6A—Public Health Service", "NS/C6A"),
        ("Section 12A. Meaning", "NS/act/S12A"),
        ("Article 5a", "NS/A5a"),
        ("Title 17—Copyrights", "NS/T17"),
        ("§ 2A-101. Short Title.", "NS/§2A-101"),
        ("Title IV-E—Foster Care", "NS/TIV-E"),
    ],
)
def test_numbers_with_a_capital_letter_are_labels(
    cutter_kind: bool, heading: str, code: str
) -> None:
    """``§ 106A`` (US Code), ``Part 2A`` (UK acts) are whole labels, not slugs of the text."""
    doc = cut(f"# Act\n\n## {heading}\n\nText.\n", profile="en")
    assert [u.code for u in doc.units[2:]] == [code]


@pytest.mark.parametrize(
    "heading",
    ["Title", "Titles and headings", "Subtitle", "Title Deed Register"],
)
def test_words_that_are_not_labels_stay_headings(cutter_kind: bool, heading: str) -> None:
    """A heading that only starts like a label (``Title``, ``Titles and …``) is a plain
    heading, coded by its slug."""
    doc = cut(f"# Act\n\n## {heading}\n\nText.\n", profile="en")
    assert [u.kind for u in doc.units[2:]] == ["heading"]


USC = """# Title 17—Copyrights

## Chapter 1—Subject Matter and Scope of Copyright

### § 106a. Rights of certain authors to attribution and integrity

(a) Rights of Attribution and Integrity.—The author of a work of visual art—

(1) shall have the right to claim authorship of that work; and

(2) shall have the right to prevent the use of his or her name.

(b) Scope and Exercise of Rights.—

(1) The rights may be exercised by the author.

(e) Transfer and Waiver.—

(1) The rights conferred by subsection (a) may not be transferred.

### § 107. Limitations on exclusive rights: Fair use

Notwithstanding the provisions of sections 106 and 106A, the fair use is not an infringement.
"""
USC_INSERTED = (
    "(e) Transfer",
    "(d) Duration of Rights.—\n\n(1) Works created after.\n\n(e) Transfer",
)


def test_a_us_code_chapter_is_english_not_german(cutter_kind: bool) -> None:
    """A US Code chapter (``Title``, ``Chapter``, ``§`` sections with ``(a)`` … ``(1)``) is
    English: ``§`` counts for both profiles, and its title and chapter tip it. Detected as
    German, each ``(1)`` of subsections (a), (b), (e) was an Absatz of the same §, numbered
    ``Abs1``, ``Abs1-2``, ``Abs1-3`` by position, and an inserted (d)(1) took ``Abs1-3``.
    In English they are the section's text, so the insertion revises ``§106a`` only."""
    doc = cut(USC)
    assert doc.profile == "en"
    assert [u.code for u in doc.units[1:]] == ["NS/T17", "NS/C1", "NS/§106a", "NS/§107"]
    after = cut(USC.replace(*USC_INSERTED))
    assert [u.code for u in after.units] == [u.code for u in doc.units]
    assert doc.warnings == after.warnings == ()


def test_a_law_of_paragraphs_only_is_still_german(cutter_kind: bool) -> None:
    """``§`` alone is a tie between German and English, which German wins (as before)."""
    text = "# Verordnung\n\n## § 1 Zweck\n\n(1) Satz.\n\n## § 2 Begriffe\n\n(1) Satz.\n"
    doc = cut_text(text.encode(), "v.md")
    assert doc.profile == "de"
    assert [u.code for u in doc.units[2:]] == ["V/§1", "V/§1/Abs1", "V/§2", "V/§2/Abs1"]


UK = """# Data Protection Act 2018

## Part 1 Preliminary

### 1 Overview

(1) This Act makes provision about the processing of personal data.

## Part 2 General processing

### 4 Processing to which this Part applies

(1) This Part is relevant to most processing of personal data.

## Schedule 1 Special categories of personal data

### Part 1 Conditions relating to employment, health and research

#### 1 Employment, social security and social protection

(1) This condition is met if the processing is necessary.

### Part 2 Substantial public interest conditions

#### 5 Requirement for an appropriate policy document

(1) Except as otherwise provided, a reference in this Part to a condition.

## Schedule 2 Exemptions etc from the GDPR

### Part 1 Adaptations and restrictions

#### 1 GDPR provisions to be adapted or restricted

In this Part of this Schedule, "the listed GDPR provisions" means the following.
"""
UK_INSERTED = (
    "## Schedule 2",
    "## Schedule 1A Inserted\n\n### Part 1 New conditions\n\nText.\n\n## Schedule 2",
)


def test_schedules_annexes_and_appendices_are_labels(cutter_kind: bool) -> None:
    """``Schedule 1``, ``Annex A`` and ``Appendix B`` are labels (``Sch1``, ``AnxA``,
    ``AppB``) holding their own parts: Part 1 of Schedules 1 and 2 are ``Sch1/P1`` and
    ``Sch2/P1``; a schedule inserted between them renames nothing."""
    doc = cut(UK)
    assert [(u.code, u.kind) for u in doc.units if u.kind != "heading"][1:] == [
        ("NS/data-protection-act-2018/P1", "part"),
        ("NS/data-protection-act-2018/P2", "part"),
        ("NS/Sch1", "schedule"),
        ("NS/Sch1/P1", "part"),
        ("NS/Sch1/P2", "part"),
        ("NS/Sch2", "schedule"),
        ("NS/Sch2/P1", "part"),
    ]
    assert assert_inserting_renames_nothing(UK, UK_INSERTED) == {"NS/Sch1A", "NS/Sch1A/P1"}
    policy = cut("# Policy\n\n## 1. Purpose\n\nText.\n\n## Annex A Levels\n\n## Appendix B\n")
    assert [u.code for u in policy.units[2:]] == ["NS/policy/purpose", "NS/AnxA", "NS/AppB"]


@pytest.mark.parametrize(
    "heading",
    [
        "Schedule of fees",
        "Schedule Details",
        "Annexes",
        "Appendix",
        "Appendix Contents",
        "Exhibition",
    ],
)
def test_words_like_schedule_that_are_not_labels_stay_headings(
    cutter_kind: bool, heading: str
) -> None:
    """``Schedule of fees``, ``Schedule Details`` (not schedule D), ``Annexes``, a bare
    ``Appendix`` are plain headings."""
    doc = cut(f"# Act\n\n## {heading}\n\nText.\n", profile="en")
    assert [u.kind for u in doc.units[2:]] == ["heading"]


ES = """# Ley 34/2002, de servicios de la sociedad de la información

## CAPÍTULO I. Objeto

Artículo 1. Objeto.

1. Es objeto de la presente Ley la regulación del régimen jurídico.

Artículo 2. Prestadores de servicios establecidos en España.

Artículo 5 de la Ley 7/1998 no se aplica.

ARTÍCULO 3. ÁMBITO.

## CAPÍTULO II. Ámbito de aplicación

Artículo 4. Prestadores establecidos en otro Estado.
"""
ES_INSERTED = ("ARTÍCULO 3.", "Artículo 2 bis. Intermediarios.\n\nTexto.\n\nARTÍCULO 3.")


def test_spanish_and_italian_articles_are_labels(cutter_kind: bool) -> None:
    """``Artículo 1.`` lines (any case) and ``Articolo 5`` headings are articles, as
    ``Article`` is (``Art. 5`` is German's); ``Artículo 5 de la Ley …`` in prose is not."""
    doc = cut(ES)
    assert doc.profile == "en"
    assert [u.code for u in doc.units if u.kind == "article"] == [
        "NS/A1",
        "NS/A2",
        "NS/A3",
        "NS/A4",
    ]
    assert assert_inserting_renames_nothing(ES, ES_INSERTED) == {"NS/A2-bis"}
    it = cut("# Legge\n\n## Articolo 1\n\nTesto.\n\n## Articolo 1-bis\n\nTesto.\n")
    assert [u.code for u in it.units[2:]] == ["NS/A1", "NS/A1-bis"]


TOS = """# Terms of Service

Last updated: 1 March 2026.

## Terms for consumers

## Article 1 Scope

These terms apply when you buy as a consumer.

## Article 2 Payment

Payment is due when you place the order.

## Article 3 Right of withdrawal

You may withdraw from the contract within 14 days.

## Terms for businesses

## Article 1 Scope

These terms apply when you buy for your business.

## Article 2 Payment

Invoices are payable within 30 days.
"""
TOS_INSERTED = (
    "## Terms for consumers",
    '## General terms\n\n## Article 1 Definitions\n\n"We" means Example Ltd.\n\n'
    "## Article 2 Changes\n\nWe may change these terms.\n\n## Terms for consumers",
)
#: Article 3 of the consumers, and the heading after it (where it was inserted, or removed)
TOS_ARTICLE_3 = (
    "## Terms for businesses",
    "## Article 3 Right of withdrawal\n\nYou may withdraw from the contract within 14 days.\n\n"
    "## Terms for businesses",
)
#: A German amending law as the Bundestag's files write it (de-laws/r/rag_6): each
#: ``## Art I`` heading (no label: Art takes Arabic numbers) starts its own ``§ 1``.
RAG = """# Gesetz über die Anpassung der Renten

## Art I - Anpassung der Renten aus den Rentenversicherungen

## § 1

(1) Die Renten werden für Bezugszeiten vom 1. Januar an angepaßt.

## § 2

(1) Die Renten werden um 9 vom Hundert erhöht.

## Art II - Anpassung der Geldleistungen aus der Unfallversicherung

## § 1

(1) Die Renten aus der gesetzlichen Unfallversicherung werden angepaßt.

## Art III - Schlußvorschriften

## § 1

Dieses Gesetz gilt auch im Land Berlin.
"""
RAG_INSERTED = (
    "## Art II -",
    "## Art Ia - Anpassung der Renten der Knappschaft\n\n## § 1\n\n(1) Die Renten der "
    "knappschaftlichen Rentenversicherung werden angepaßt.\n\n## Art II -",
)
HANDBOOK = """# Employee Handbook

## Leave policy

## Section 1 Eligibility

All employees are eligible after their probation.

## Section 2 Requests

Leave is requested in the HR system.

## Travel policy

## Section 1 Approval

Travel is approved by the line manager.
"""
HANDBOOK_INSERTED = (
    "## Travel policy",
    "## Remote work policy\n\n## Section 1 Eligibility\n\nRemote work needs approval.\n\n"
    "## Travel policy",
)


def test_flat_sections_qualify_their_restarting_labels(cutter_kind: bool) -> None:
    """In a flat document (the unlabelled section headings at the level of the articles),
    an article number that restarts per section is qualified by the heading it follows,
    as it is when nested (``terms-for-consumers/A1``), not numbered by position (``A1``,
    ``A1-2``): a section inserted in front took ``A1`` from the consumers' article 1, which
    took ``A1-2`` from the businesses' one. Removing an article renames nothing either."""
    doc = cut(TOS)
    assert [u.code for u in doc.units if u.kind == "article"] == [
        "NS/terms-for-consumers/A1",
        "NS/terms-for-consumers/A2",
        "NS/A3",  # only one article 3: not qualified
        "NS/terms-for-businesses/A1",
        "NS/terms-for-businesses/A2",
    ]
    nested = cut(TOS.replace("## Article", "### Article"))
    assert {u.code for u in nested.units if u.kind == "article"} == {
        u.code for u in doc.units if u.kind == "article"
    }
    assert assert_inserting_renames_nothing(TOS, TOS_INSERTED) == {
        "NS/terms-of-service/general-terms",
        "NS/general-terms/A1",
        "NS/general-terms/A2",
    }
    # removing article 3 (the inverse of inserting it) renames nothing either
    removed = TOS.replace(TOS_ARTICLE_3[1], TOS_ARTICLE_3[0])
    assert assert_inserting_renames_nothing(removed, TOS_ARTICLE_3) == {"NS/A3"}


def test_amending_law_articles_qualify_their_paragraphs(cutter_kind: bool) -> None:
    """``Art I``, ``Art II``, ``Art III`` of an amending law are articles ``Art1``, ``Art2``,
    ``Art3`` (Roman numerals read as everywhere; were plain headings) holding their
    paragraphs at the same heading level: ``§ 1`` of each is ``Art1/§1``, ``Art2/§1``,
    ``Art3/§1`` (were ``art-i/§1`` …, before that ``§1``, ``§1-2``, ``§1-3``); an inserted
    ``Art Ia`` is ``Art1a`` and renames no other unit."""
    doc = cut(RAG, profile="de")
    assert [(u.code, u.parent_code) for u in doc.units if u.kind in ("article", "clause")] == [
        ("NS/Art1", "NS/gesetz-uber-die-anpassung-der-renten"),
        ("NS/Art1/§1", "NS/Art1"),
        ("NS/Art1/§1/Abs1", "NS/Art1/§1"),
        ("NS/§2", "NS/Art1"),  # only one § 2: not qualified
        ("NS/§2/Abs1", "NS/§2"),
        ("NS/Art2", "NS/gesetz-uber-die-anpassung-der-renten"),
        ("NS/Art2/§1", "NS/Art2"),
        ("NS/Art2/§1/Abs1", "NS/Art2/§1"),
        ("NS/Art3", "NS/gesetz-uber-die-anpassung-der-renten"),
        ("NS/Art3/§1", "NS/Art3"),
    ]
    assert [u.label for u in doc.units if u.code.count("/") == 1 and u.kind == "article"] == [
        "1",
        "2",
        "2",
        "3",
    ]
    assert assert_inserting_renames_nothing(RAG, RAG_INSERTED, profile="de") == {
        "NS/Art1a",
        "NS/Art1a/§1",
        "NS/Art1a/§1/Abs1",
    }
    # ``Artikel II`` and ``Art. III`` too; and a law of such articles alone is German
    # (de-laws/n/niederlfrhewgdg_1 was detected as English: no unit had a label)
    only = "# Gesetz\n\n## Art I\n\n-\n\n## Artikel II\n\nText.\n\n## Art. III\n\nText.\n"
    doc = cut(only)
    assert doc.profile == "de"
    assert [u.code for u in doc.units if u.kind == "article"] == ["NS/Art1", "NS/Art2", "NS/Art3"]


def test_flat_sections_qualify_restarting_local_labels(cutter_kind: bool) -> None:
    """Sections restart under their parent (``…/S1``): in a flat handbook, ``Section 1`` of
    each policy is ``employee-handbook/leave-policy/S1`` and ``…/travel-policy/S1`` (its
    code when nested), not ``S1`` and ``S1-2`` by position."""
    doc = cut(HANDBOOK)
    assert [u.code for u in doc.units if u.kind == "section"] == [
        "NS/employee-handbook/leave-policy/S1",
        "NS/employee-handbook/S2",
        "NS/employee-handbook/travel-policy/S1",
    ]
    nested = cut(HANDBOOK.replace("## Section", "### Section"))
    assert [u.code for u in nested.units if u.kind == "section"][::2] == [
        "NS/employee-handbook/leave-policy/S1",
        "NS/employee-handbook/travel-policy/S1",
    ]
    assert assert_inserting_renames_nothing(HANDBOOK, HANDBOOK_INSERTED) == {
        "NS/employee-handbook/remote-work-policy",
        "NS/employee-handbook/remote-work-policy/S1",
    }


def test_true_duplicates_after_one_heading_are_still_numbered(cutter_kind: bool) -> None:
    """Two ``§ 5`` after the same plain heading (an Eingangsformel, as in de-laws/k/kvkg)
    are true duplicates: numbered within their parent as before, with a warning, and not
    qualified by the heading (it tells nothing apart)."""
    text = "# Gesetz\n\n## Eingangsformel\n\n## § 5\n\nAlt.\n\n## § 5\n\nNeu.\n"
    doc = cut(text, profile="de")
    assert [u.code for u in doc.units if u.kind == "article"] == ["NS/§5", "NS/§5-2"]
    assert len(doc.warnings) == 1
    # the same for labels that restart under their parent (sections)
    text = "# Handbook\n\n## Leave policy\n\n## Section 1\n\nOld.\n\n## Section 1\n\nNew.\n"
    doc = cut(text)
    assert [u.code for u in doc.units if u.kind == "section"] == [
        "NS/handbook/S1",
        "NS/handbook/S1-2",
    ]


EU = """# Regulation (EU) 2016/679 of the European Parliament and of the Council

## CHAPTER III Rights of the data subject

## Section 1 Transparency and modalities

## Article 12 Transparent information, communication and modalities

1. The controller shall take appropriate measures to provide any information.

2. The controller shall facilitate the exercise of data subject rights.

## Section 2 Information and access to personal data

## Article 13 Information to be provided where personal data are collected

1. Where personal data relating to a data subject are collected from the data subject.

## Article 14 Information to be provided where personal data have not been obtained

1. Where personal data have not been obtained from the data subject.

## Section 3 Rectification and erasure

## Article 16 Right to rectification

The data subject shall have the right to obtain rectification.
"""
EU_INSERTED = (
    "## Section 2 Information",
    "## Article 12a Communication by electronic means\n\nThe controller may use electronic "
    "means.\n\n## Section 2 Information",
)
US_CONSTITUTION = """# The Constitution of the United States

## Article I

## Section 1

All legislative Powers herein granted shall be vested in a Congress.

## Section 2

The House of Representatives shall be composed of Members chosen every second Year.

## Article II

## Section 1

The executive Power shall be vested in a President of the United States of America.
"""


def test_eu_sections_at_the_level_of_articles_close_them(cutter_kind: bool) -> None:
    """An EU act written flat (chapters, sections and articles all ``##``): a section
    after an article closes it and hangs under its chapter (``C3/S2``, was ``A12/S2``:
    coded by whichever article precedes it), so an article inserted before the section
    renames, moves and revises nothing. The US Constitution's sections written at the
    level of their articles still nest in them (``A1/S1``, ``A1/S2``, ``A2/S1``)."""
    doc = cut(EU)
    assert [(u.code, u.parent_code) for u in doc.units if u.kind != "heading"][1:] == [
        ("NS/C3", "NS/regulation-eu-2016-679-of-the-european-parliament-and-of-the"),
        ("NS/C3/S1", "NS/C3"),
        ("NS/A12", "NS/C3"),
        ("NS/C3/S2", "NS/C3"),
        ("NS/A13", "NS/C3"),
        ("NS/A14", "NS/C3"),
        ("NS/C3/S3", "NS/C3"),
        ("NS/A16", "NS/C3"),
    ]
    assert assert_inserting_renames_nothing(EU, EU_INSERTED) == {"NS/A12a"}
    after = cut(EU.replace(*EU_INSERTED))
    assert {u.code: u.parent_code for u in after.units if u.kind == "section"} == {
        "NS/C3/S1": "NS/C3",
        "NS/C3/S2": "NS/C3",
        "NS/C3/S3": "NS/C3",
    }
    us = cut(US_CONSTITUTION)
    assert [(u.code, u.parent_code) for u in us.units if u.kind == "section"] == [
        ("NS/A1/S1", "NS/A1"),
        ("NS/A1/S2", "NS/A1"),
        ("NS/A2/S1", "NS/A2"),
    ]


PL = """# Ustawa z dnia 26 czerwca 1974 r. Kodeks pracy

## DZIAŁ DRUGI. Stosunek pracy

### Rozdział I. Przepisy ogólne

**Art. 22.** § 1. Przez nawiązanie stosunku pracy pracownik zobowiązuje się do
wykonywania pracy określonego rodzaju na rzecz pracodawcy i pod jego kierownictwem.

**Art. 22¹.** § 1. Pracodawca żąda od osoby ubiegającej się o zatrudnienie podania danych
osobowych obejmujących imię i nazwisko oraz datę urodzenia.

**Art. 22².** § 1. Jeżeli jest to niezbędne do zapewnienia bezpieczeństwa pracowników,
pracodawca może wprowadzić szczególny nadzór nad terenem zakładu pracy.

**Art. 23.** Przepisy niniejszego działu stosuje się do wszystkich stosunków pracy.
"""
PL_INSERTED = (
    "**Art. 23.**",
    "**Art. 22³.** § 1. Jeżeli jest to niezbędne do zapewnienia organizacji pracy, "
    "pracodawca może wprowadzić kontrolę służbowej poczty elektronicznej.\n\n**Art. 23.**",
)


SUPERSCRIPT = {"1": "¹", "2": "²", "3": "³"}


@pytest.mark.parametrize(
    "typed",
    ["{}", "^{}^", "^{}", "<sup>{}</sup>"],  # as printed, Pandoc's superscript, HTML's
    ids=["superscript", "pandoc", "caret", "html"],
)
def test_polish_superscript_articles_are_labels(cutter_kind: bool, typed: str) -> None:
    """``Art. 22¹`` (a Polish article inserted after 22), however typed, is ``Art22^1``:
    was not a label (``22¹``; a bold line, so its text went to article 22), article 22
    again (``22^1``: numbered ``Art22-2`` by position) or article 221 once folded. An
    article 22³ inserted renames nothing."""

    def index(n: str) -> str:
        return SUPERSCRIPT[n] if typed == "{}" else typed.format(n)

    text = PL.replace("22¹", "22" + index("1")).replace("22²", "22" + index("2"))
    doc = cut(text)
    assert doc.profile == "de"
    assert [(u.code, u.label) for u in doc.units if u.kind == "article"] == [
        ("NS/Art22", "22"),
        ("NS/Art22^1", "22^1"),
        ("NS/Art22^2", "22^2"),
        ("NS/Art23", "23"),
    ]
    inserted = (PL_INSERTED[0], PL_INSERTED[1].replace("22³", "22" + index("3")))
    assert assert_inserting_renames_nothing(text, inserted) == {"NS/Art22^3"}


def test_superscripts_are_no_other_article(cutter_kind: bool) -> None:
    """``§ 5¹`` is neither § 5 nor § 51, ``Art. 5a`` (German letter suffix) is its own
    article: five labels, five codes, no warning."""
    text = (
        "# Rozporządzenie\n\n**§ 5.** Tekst.\n\n**§ 5¹.** Tekst.\n\n**§ 51.** Tekst.\n\n"
        "## Art. 5\n\nText.\n\n## Art. 5a\n\nText.\n"
    )
    doc = cut(text, profile="de")
    assert [u.code for u in doc.units if u.kind == "article"] == [
        "NS/§5",
        "NS/§5^1",
        "NS/§51",
        "NS/Art5",
        "NS/Art5a",
    ]
    assert doc.warnings == ()


FR_LOI = """# Loi n° 78-17 du 6 janvier 1978 relative à l'informatique, aux fichiers et aux libertés

## Titre Ier : Dispositions communes

### Chapitre Ier : Principes et définitions

#### Article 1er

L'informatique doit être au service de chaque citoyen. Son développement doit s'opérer
dans le cadre de la coopération internationale.

#### Article 2

La présente loi s'applique aux traitements automatisés en tout ou partie de données à
caractère personnel.

### Chapitre II : Principes relatifs à la protection des données

#### Article 4

Les données à caractère personnel doivent être traitées de manière licite.
"""
FR_LOI_INSERTED = (
    "#### Article 2\n",
    "#### Article 1er bis\n\nLes dispositions de la présente loi sont d'ordre public.\n\n"
    "#### Article 2\n",
)


def test_french_first_articles_are_article_1(cutter_kind: bool) -> None:
    """``Article 1er`` and ``Article premier`` are article 1 (``A1``), ``Article 1er bis`` is
    ``A1-bis``: they were plain headings, coded by the slug of their text (renamed by any
    retitling, unknown to references). An article 1er bis inserted renames nothing."""
    doc = cut(FR_LOI)
    assert [(u.code, u.label) for u in doc.units if u.kind == "article"] == [
        ("NS/A1", "1"),
        ("NS/A2", "2"),
        ("NS/A4", "4"),
    ]
    premier = cut(FR_LOI.replace("Article 1er", "Article premier"))
    assert [u.code for u in premier.units] == [u.code for u in doc.units]
    assert assert_inserting_renames_nothing(FR_LOI, FR_LOI_INSERTED) == {"NS/A1-bis"}


def test_french_titles_and_chapters_are_labels(cutter_kind: bool) -> None:
    """``Titre Ier``, ``Chapitre Ier``, ``Chapitre II`` (and ``CHAPITRE 1er``) are titles
    and chapters ``T1``, ``C1``, ``C2``, as ``TITLE I`` and ``Chapter 2``: they were plain
    headings coded by the slug of their whole text (``titre-ier-dispositions-communes``),
    so a retitled chapter was another unit. Retitled, each keeps its code."""
    doc = cut(FR_LOI)
    assert [(u.code, u.kind, u.label) for u in doc.units if u.kind in ("title", "chapter")] == [
        ("NS/T1", "title", "1"),
        ("NS/C1", "chapter", "1"),
        ("NS/C2", "chapter", "2"),
    ]
    assert [u.parent_code for u in doc.units if u.kind == "article"] == ["NS/C1", "NS/C1", "NS/C2"]
    retitled = cut(
        FR_LOI.replace(
            "Chapitre Ier : Principes et définitions", "CHAPITRE 1er : Définitions"
        ).replace("Titre Ier : Dispositions communes", "TITRE IER - Dispositions générales")
    )
    assert [u.code for u in retitled.units[2:]] == [u.code for u in doc.units[2:]]


@pytest.mark.parametrize(
    ("heading", "code", "label"),
    [
        ("Article L. 121-1", "NS/AL121-1", "L. 121-1"),  # French codes, as before
        ("Article L121-1-1", "NS/AL121-1-1", "L121-1-1"),
        ("Article R. 121-2", "NS/AR121-2", "R. 121-2"),
        ("ARTICLE PREMIER", "NS/A1", "1"),
        ("Article unique", "NS/Aunique", "unique"),  # a law of one article
        ("Artículo único. Aprobación del Reglamento", "NS/Aunico", "único"),
        ("Artículo primero. Objeto", "NS/A1", "1"),
        ("Articolo primo", "NS/A1", "1"),
    ],
)
def test_romance_article_labels(cutter_kind: bool, heading: str, code: str, label: str) -> None:
    """French code articles (``L. 121-1``), the first article spelt out and the only
    one are labels."""
    doc = cut(f"# Loi\n\n## {heading}\n\nTexte.\n", profile="en")
    assert [(u.code, u.label) for u in doc.units[2:]] == [(code, label)]


DPA = """# Data Processing Agreement

## Article 1 Subject matter

The processor processes personal data on behalf of the controller.

## Notes

Article 1 follows the standard contractual clauses.

## Article 2 Duration

This agreement lasts as long as the main contract.

## Notes

The term may be extended by either party.

## Article 3 Security

The processor takes appropriate technical and organisational measures.

## Notes

See Annex II for the measures.
"""
DPA_INSERTED = (
    "## Article 2 Duration",
    "## Article 1a Confidentiality\n\nStaff are bound to confidentiality.\n\n## Notes\n\n"
    "Contractors too.\n\n## Article 2 Duration",
)
#: A German regulation's annexes written flat (de-laws/p/pflschsachkv_2013): each
#: ``## Anlage N`` is followed at its own level by its own ``## Teil A``, ``## Teil B``.
ANLAGEN = """# Sachkundeverordnung

## § 1 Nachweis

(1) Die Sachkunde wird durch ein Zeugnis nachgewiesen.

## Anlage 1 Erforderliche Kenntnisse

## Teil A

Rechtsvorschriften des Pflanzenschutzes.

## Teil B

Eigenschaften der Pflanzenschutzmittel.

## Anlage 2 Anerkannte Berufsabschlüsse

## Teil A

Landwirt, Gärtner, Winzer.
"""
ANLAGEN_INSERTED = (
    "## Anlage 2",
    "## Anlage 1a Prüfungsfragen\n\n## Teil A\n\nFragen zum Recht.\n\n## Anlage 2",
)
#: A Vietnamese law's list of provisions by their long database ids (vn-laws/van-ban/
#: dan-su.md): the ids differ only after their first 64 characters.
ID = "0900100000000000100000030000000000000000000200000000000000000360000000000000000000"
VN_LIST = f"""# Bộ luật Dân sự

## Danh sách điều khoản

### {ID}4022983008800003

Điều 9.1.NĐ.2.3. Nguyên tắc xác định lại giới tính.

### {ID}4022983008800004

Điều 9.1.NĐ.2.4. Hành vi bị nghiêm cấm.

### {ID}4022983008800006

Điều 9.1.NĐ.2.6. Tiêu chuẩn y tế xác định giới tính.
"""
VN_LIST_INSERTED = (
    f"### {ID}4022983008800006",
    f"### {ID}4022983008800005\n\nĐiều 9.1.NĐ.2.5. Tiêu chuẩn y tế.\n\n### {ID}4022983008800006",
)


def test_repeated_plain_headings_go_under_the_sibling_they_follow(cutter_kind: bool) -> None:
    """A plain heading that repeats under one parent (``## Notes`` after each article, a
    ``## Teil A`` after each ``## Anlage``) has the code it has when nested in the sibling
    it follows (``A2/notes``), not ``notes-2``, ``notes-3`` by position: an article or an
    annex inserted with its own notes or parts took ``notes-2`` from article 2's notes,
    which took ``notes-3`` from article 3's. Now it renames nothing."""
    doc = cut(DPA)
    assert [(u.code, u.parent_code) for u in doc.units if u.kind == "heading"][1:] == [
        ("NS/A1/notes", "NS/data-processing-agreement"),
        ("NS/A2/notes", "NS/data-processing-agreement"),
        ("NS/A3/notes", "NS/data-processing-agreement"),
    ]
    nested = cut(DPA.replace("## Notes", "### Notes"))
    assert [u.code for u in nested.units] == [u.code for u in doc.units]
    assert assert_inserting_renames_nothing(DPA, DPA_INSERTED) == {"NS/A1a", "NS/A1a/notes"}
    de = cut(ANLAGEN, profile="de")
    assert [u.code for u in de.units if u.title.startswith("Teil")] == [
        "NS/sachkundeverordnung/anlage-1-erforderliche-kenntnisse/teil-a",
        "NS/sachkundeverordnung/teil-b",  # only one Teil B: not qualified
        "NS/sachkundeverordnung/anlage-2-anerkannte-berufsabschlusse/teil-a",
    ]
    assert assert_inserting_renames_nothing(ANLAGEN, ANLAGEN_INSERTED, profile="de") == {
        "NS/sachkundeverordnung/anlage-1a-prufungsfragen",
        "NS/sachkundeverordnung/anlage-1a-prufungsfragen/teil-a",
    }


def test_long_headings_alike_in_their_first_64_characters_are_not_numbered(
    cutter_kind: bool,
) -> None:
    """Headings whose slugs are cut at 64 characters and then alike (a list of long ids)
    are told apart by a digest of their whole slug (``…-8c7377eb``), not numbered ``-2``,
    ``-3`` by position: an id inserted in the list took the code of the one after it."""
    doc = cut(VN_LIST)
    headings = [u.code for u in doc.units if u.kind == "heading"][2:]
    assert len(set(headings)) == 3 and all(len(c.rsplit("/", 1)[1]) == 64 for c in headings)
    assert all(not c.endswith(("-2", "-3")) for c in headings)
    new = assert_inserting_renames_nothing(VN_LIST, VN_LIST_INSERTED)  # its heading, article
    listed = f"NS/bo-luat-dan-su/danh-sach-dieu-khoan/{ID[:55]}-"
    assert [c.startswith(listed) for c in sorted(new)] == [False, True]
    # one such heading alone keeps its slug cut at 64 characters, as before
    alone = cut(VN_LIST[: VN_LIST.index(f"### {ID}4022983008800004")])
    assert [u.code for u in alone.units if u.kind == "heading"][-1].endswith(f"/{ID[:64]}")


FR_CODE = """# Code de la consommation

## Livre Ier : Information des consommateurs et pratiques commerciales

### Titre Ier : Information des consommateurs

#### Article L. 111-1

Avant que le consommateur ne soit lié par un contrat, le professionnel lui communique
les caractéristiques essentielles du bien ou du service.

## Livre II : Formation et exécution des contrats

### Titre Ier : Conditions générales des contrats

#### Article L. 211-1

Les dispositions du présent chapitre s'appliquent aux contrats de vente de biens.
"""


def test_french_books_are_labels(cutter_kind: bool) -> None:
    """``Livre Ier`` and ``Livre II`` of a French code are books ``Bk1`` and ``Bk2`` (and
    ``Book 3`` in English): they were plain headings coded by the slug of their whole text,
    and the ``Titre Ier`` of each was qualified by it (``livre-ier-information-des-…/T1``),
    so a retitled book renamed itself and its titles. Retitled, each keeps its code."""
    doc = cut(FR_CODE)
    assert [(u.code, u.kind) for u in doc.units if u.kind in ("book", "title")] == [
        ("NS/Bk1", "book"),
        ("NS/Bk1/T1", "title"),
        ("NS/Bk2", "book"),
        ("NS/Bk2/T1", "title"),
    ]
    retitled = cut(
        FR_CODE.replace("Livre Ier : Information des consommateurs", "LIVRE 1er - Information")
    )
    assert [u.code for u in retitled.units[2:]] == [u.code for u in doc.units[2:]]
    assert [u.code for u in cut("# Code\n\n## Book 3\n\nText.\n").units[2:]] == ["NS/Bk3"]


#: A Vietnamese contract template (vn-laws/van-ban/nang-luong-tai-nguyen/243-2026-nd-cp):
#: the points of an article restart under bold lines that name each party's list.
VN_CONTRACT = """# Hợp đồng mua bán điện

### Điều 5. Quyền và nghĩa vụ của các bên

**Bên A có quyền:**

a) Được nhận thanh toán đầy đủ và đúng hạn từ Bên B;

b) Yêu cầu Bên B cung cấp thông tin về số liệu đo đếm.

**Bên A có nghĩa vụ:**

a) Đảm bảo Hệ thống hoạt động đúng công suất;

b) Thực hiện đăng ký, thông báo theo quy định.

### Điều 6. Giải quyết tranh chấp

Các bên thương lượng.
"""
VN_CONTRACT_INSERTED = (
    "**Bên A có nghĩa vụ:**",
    "**Bên B có quyền:**\n\na) Được cung cấp điện đúng hợp đồng;\n\nb) Được bồi thường.\n\n"
    "**Bên A có nghĩa vụ:**",
)
TOS_BOLD = TOS.replace("## Terms for consumers", "**Terms for consumers**").replace(
    "## Terms for businesses", "**Terms for businesses**"
)


def test_bold_lines_that_name_sections_qualify_restarting_labels(cutter_kind: bool) -> None:
    """A section named by a line of bold text alone (``**Bên A có quyền:**``, ``**Terms for
    businesses**``) qualifies the labels that restart after it as a plain heading does
    (``D5/ben-a-co-quyen/a``, ``terms-for-businesses/A1``): they were ``a``, ``a-2`` by
    position, and a list inserted in front took ``a-2`` from the next list's point a."""
    doc = cut(VN_CONTRACT)
    assert [u.code for u in doc.units if u.kind == "point"] == [
        "NS/D5/ben-a-co-quyen/a",
        "NS/D5/ben-a-co-quyen/b",
        "NS/D5/ben-a-co-nghia-vu/a",
        "NS/D5/ben-a-co-nghia-vu/b",
    ]
    # the bold line inserted ends the text of the point before it (each byte is one unit's):
    # that point is revised; every unit keeps its code (its heading or labelled line)
    after = cut(VN_CONTRACT.replace(*VN_CONTRACT_INSERTED))
    heads = {u.code: u.raw_heading for u in after.units}
    assert {u.code: heads.get(u.code) for u in doc.units} == {
        u.code: u.raw_heading for u in doc.units
    }
    assert set(heads) - {u.code for u in doc.units} == {
        "NS/D5/ben-b-co-quyen/a",
        "NS/D5/ben-b-co-quyen/b",
    }
    assert after.warnings == doc.warnings == ()
    tos = cut(TOS_BOLD)
    assert [u.code for u in tos.units if u.kind == "article"] == [
        "NS/terms-for-consumers/A1",
        "NS/terms-for-consumers/A2",
        "NS/A3",
        "NS/terms-for-businesses/A1",
        "NS/terms-for-businesses/A2",
    ]
    # bold text that ends a paragraph names no section: the lists are true duplicates
    numbered = cut(VN_CONTRACT.replace("\n\n**Bên A có nghĩa vụ:**", "\n**Bên A có nghĩa vụ:**"))
    assert [u.code for u in numbered.units if u.kind == "point"][2:] == ["NS/D5/a-2", "NS/D5/b-2"]


#: A French code in its one order (Code du travail style): Livre > Titre > Chapitre >
#: Section > Sous-section > Paragraphe > Article, each division at its own heading level.
FR_TRAVAIL = """# Code du travail

## Première partie : Les relations individuelles de travail

### Livre II : Le contrat de travail

#### Titre II : Formation et exécution du contrat de travail

##### Chapitre Ier : Formation du contrat de travail

###### Section 1 : Dispositions générales

**Article L. 1221-1**

Le contrat de travail est soumis aux règles du droit commun.

**Article L. 1221-2**

Le contrat de travail à durée indéterminée est la forme normale de la relation de travail.

###### Section 2 : Période d'essai

**Sous-section 1 : Durée**

**Paragraphe 1 : Durée initiale**

**Article L. 1221-19**

Le contrat de travail à durée indéterminée peut comporter une période d'essai.

**Article R*1221-2**

Texte réglementaire.

**Paragraphe 2 : Renouvellement**

**Article D. 1221-3**

Texte.

**Sous-section 2 : Rupture**

**Article L. 1221-25**

Lorsqu'il est mis fin à la période d'essai, le salarié est prévenu.

##### Chapitre II : Exécution du contrat de travail

**Article 1240**

Tout fait quelconque de l'homme, qui cause à autrui un dommage, oblige celui par la
faute duquel il est arrivé à le réparer.

**Article 1240-1**

Texte.
"""
FR_TRAVAIL_CODES = [
    ("NS/P1", "part", "NS/code-du-travail"),
    ("NS/Bk2", "book", "NS/P1"),
    ("NS/T2", "title", "NS/Bk2"),
    ("NS/C1", "chapter", "NS/T2"),
    ("NS/C1/S1", "section", "NS/C1"),
    ("NS/AL1221-1", "article", "NS/C1/S1"),
    ("NS/AL1221-2", "article", "NS/C1/S1"),
    ("NS/C1/S2", "section", "NS/C1"),
    ("NS/C1/S2/SS1", "subsection", "NS/C1/S2"),
    ("NS/C1/S2/SS1/Par1", "paragraph", "NS/C1/S2/SS1"),
    ("NS/AL1221-19", "article", "NS/C1/S2/SS1/Par1"),
    ("NS/AR-1221-2", "article", "NS/C1/S2/SS1/Par1"),
    ("NS/C1/S2/SS1/Par2", "paragraph", "NS/C1/S2/SS1"),
    ("NS/AD1221-3", "article", "NS/C1/S2/SS1/Par2"),
    ("NS/C1/S2/SS2", "subsection", "NS/C1/S2"),
    ("NS/AL1221-25", "article", "NS/C1/S2/SS2"),
    ("NS/C2", "chapter", "NS/T2"),
    ("NS/A1240", "article", "NS/C2"),
    ("NS/A1240-1", "article", "NS/C2"),
]
FR_TRAVAIL_INSERTED = (
    "**Paragraphe 2 : Renouvellement**",
    "**Paragraphe 1 bis : Stages**\n\n**Article L. 1221-24**\n\nTexte.\n\n"
    "**Paragraphe 2 : Renouvellement**",
)


def _flat(text: str, how: str = "## ") -> str:
    """``text`` with every heading but the first-level one and every bold line alone
    written one way: ``how`` ``"## "`` or ``"### "``, or ``"**"`` (a bold line)."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("##") or (line.startswith("**") and line.endswith("**")):
            words = line.lstrip("#").strip().strip("*")
            line = f"**{words}**" if how == "**" else how + words
        lines.append(line)
    return "\n".join(lines)


def _tree(doc: CutDocument) -> list[tuple[str, str, str | None]]:
    return [(u.code, u.kind, u.parent_code) for u in doc.units if u.kind != "heading"][1:]


@pytest.mark.parametrize(
    "written",
    ["nested", "flat", "bold", "h3"],
    ids=["heading-levels", "all-h2", "all-bold", "all-h3"],
)
def test_french_divisions_nest_in_one_order_however_written(
    cutter_kind: bool, written: str
) -> None:
    """A French code's Sous-section, Paragraphe and Section hold its articles whether each
    division has its own heading level, all are ``##`` headings, all bold lines or all
    ``###``: one tree, one set of codes (``C1/S2/SS1/Par1``; articles document-wide).
    Cut as English, a section at the level of its articles closed before them, and
    ``Sous-section``/``Paragraphe`` were plain headings coded by the slug of their text."""
    how = {"nested": None, "flat": "## ", "bold": "**", "h3": "### "}[written]
    text, inserted = FR_TRAVAIL, FR_TRAVAIL_INSERTED
    if how is not None:
        text, inserted = _flat(text, how), (_flat(inserted[0], how), _flat(inserted[1], how))
    doc = cut(text)
    assert doc.profile == "fr"
    assert _tree(doc) == FR_TRAVAIL_CODES
    assert doc.warnings == ()
    assert assert_inserting_renames_nothing(text, inserted) == {
        "NS/C1/S2/SS1/Par1-bis",
        "NS/AL1221-24",
    }


@pytest.mark.parametrize(
    ("heading", "code"),
    [
        ("Article L. 1234-5", "NS/AL1234-5"),
        ("Article L1234-5", "NS/AL1234-5"),  # Légifrance's spelling: the same article
        ("Article R. 12-1", "NS/AR12-1"),
        ("Article R*12-1", "NS/AR-12-1"),  # as README and earlier versions code it
        ("Article R.*12-1", "NS/AR-12-1"),
        ("Article R. *12-1", "NS/AR-12-1"),
        ("Article R* 12-1", "NS/AR-12-1"),
        ("Article D. 4", "NS/AD4"),
        ("Article LO 1", "NS/ALO1"),
        ("Article 1240", "NS/A1240"),
        ("Article 1240-1", "NS/A1240-1"),
        ("Article 1er", "NS/A1"),
        ("Sous-section 2 bis : Suite", "NS/C2/SS2-bis"),
        ("Titre préliminaire : De la publication des lois", "NS/Tpreliminaire"),
        ("Partie législative", "NS/Plegislative"),
        ("Deuxième partie", "NS/P2"),
    ],
)
def test_french_labels(cutter_kind: bool, heading: str, code: str) -> None:
    """French article numbers however spelt, and French divisions, are labels: ``R.*12-1``
    was article ``R`` (``AR``, shared by every such article), ``R* 12-1`` ``AR--12-1``."""
    doc = cut(f"# Code\n\n## Chapitre II\n\n## {heading}\n\nTexte.\n")
    assert (doc.profile, doc.units[-1].code) == ("fr", code)


def test_french_article_numbers_are_distinct() -> None:
    """``L. 1234-5``, ``R*12-1``, ``R. 12-1``, ``R.*12-2``, ``R. *13-1``, ``D. 4``, ``1240-1``
    in one code: a code each, no two alike, no warning (``R.*12-2`` and ``R. *13-1`` were
    both article ``R``)."""
    heads = ["L. 1234-5", "R*12-1", "R. 12-1", "R.*12-2", "R. *13-1", "D. 4", "1240-1", "1240"]
    text = "# Code\n\n## Chapitre Ier\n\n" + "".join(f"## Article {h}\n\nT.\n\n" for h in heads)
    doc = cut(text)
    codes = [u.code for u in doc.units if u.kind == "article"]
    assert len(set(codes)) == len(heads) and doc.warnings == ()


def test_a_french_text_of_sections_and_articles_is_french(cutter_kind: bool) -> None:
    """A decree of sections and articles only (``Article 1er``, ``Article L. 1``: French
    alone) is French, its articles in their sections; English counted such lines too, won
    the tie, and closed each section at the article after it. ``Article 5`` and
    ``Section 2`` alone stay English (the US Constitution's sections are in articles)."""
    text = (
        "# Décret n° 2020-1\n\n## Section 1 : Champ\n\n## Article 1er\n\nTexte.\n\n"
        "## Article 2\n\nTexte.\n\n## Section 2 : Contrôle\n\n## Article L. 3\n\nTexte.\n"
    )
    doc = cut(text)
    assert doc.profile == "fr"
    assert [(u.code, u.parent_code) for u in doc.units if u.kind == "article"] == [
        ("NS/A1", "NS/decret-n-2020-1/S1"),
        ("NS/A2", "NS/decret-n-2020-1/S1"),
        ("NS/AL3", "NS/decret-n-2020-1/S2"),
    ]
    assert cut(US_CONSTITUTION).profile == "en"


US_CLAUSES = """# The Constitution of the United States

## Article I

### Section 1

All legislative Powers herein granted shall be vested in a Congress of the United States.

### Section 8

#### Clause 1

The Congress shall have Power To lay and collect Taxes, Duties, Imposts and Excises.

#### Clause 2

To borrow Money on the credit of the United States;

## Article II

### Section 1

#### Clause 1

The executive Power shall be vested in a President of the United States of America.
"""


@pytest.mark.parametrize("written", ["nested", "flat", "bold"])
def test_us_constitution_clauses_are_labels(cutter_kind: bool, written: str) -> None:
    """``Clause 1`` of Article I, Section 8 is ``A1/S8/Cl1`` (was a plain heading: written
    flat, ``clause-2`` hung under the document, ``clause-1`` under whichever section came
    before), whether written at its own level, at the level of its article, or bold."""
    text = {
        "nested": US_CLAUSES,
        "flat": _flat(US_CLAUSES),
        "bold": US_CLAUSES.replace("#### Clause 1", "**Clause 1.**").replace(
            "#### Clause 2", "**Clause 2.**"
        ),
    }[written]
    doc = cut(text)
    assert _tree(doc) == [
        ("NS/A1", "article", "NS/the-constitution-of-the-united-states"),
        ("NS/A1/S1", "section", "NS/A1"),
        ("NS/A1/S8", "section", "NS/A1"),
        ("NS/A1/S8/Cl1", "clause", "NS/A1/S8"),
        ("NS/A1/S8/Cl2", "clause", "NS/A1/S8"),
        ("NS/A2", "article", "NS/the-constitution-of-the-united-states"),
        ("NS/A2/S1", "section", "NS/A2"),
        ("NS/A2/S1/Cl1", "clause", "NS/A2/S1"),
    ]
    prose = cut("# Act\n\n## Section 1\n\nClause 3 of the Agreement applies.\n")
    assert [u.kind for u in prose.units[2:]] == ["section"]


EU_ARTICLES = EU.replace(
    "## Article 16 Right to rectification\n",
    "## Article 16 Right to rectification\n\n1. The data subject shall have the right:\n\n"
    "(a) to obtain rectification;\n\n(b) to have incomplete data completed.\n\n"
    "2. Member States may restrict that right.\n",
)


@pytest.mark.parametrize("written", ["flat", "nested"])
def test_eu_profile_sections_hold_articles_and_articles_paragraphs(
    cutter_kind: bool, written: str
) -> None:
    """Cut with ``--profile eu``, an EU act's sections hold its articles whether written
    at the articles' level or above it (English closes a section at the article after it
    when flat), and its articles hold their paragraphs ``1.`` and points ``(a)``:
    ``A16/Par1/a``. The eu profile is never detected: cut as it is, the same text is
    English as before, its paragraphs the articles' text."""
    text = EU_ARTICLES if written == "flat" else EU_ARTICLES.replace("## Article", "### Article")
    doc = cut(text, profile="eu")
    assert _tree(doc) == [
        ("NS/C3", "chapter", "NS/regulation-eu-2016-679-of-the-european-parliament-and-of-the"),
        ("NS/C3/S1", "section", "NS/C3"),
        ("NS/A12", "article", "NS/C3/S1"),
        ("NS/A12/Par1", "clause", "NS/A12"),
        ("NS/A12/Par2", "clause", "NS/A12"),
        ("NS/C3/S2", "section", "NS/C3"),
        ("NS/A13", "article", "NS/C3/S2"),
        ("NS/A13/Par1", "clause", "NS/A13"),
        ("NS/A14", "article", "NS/C3/S2"),
        ("NS/A14/Par1", "clause", "NS/A14"),
        ("NS/C3/S3", "section", "NS/C3"),
        ("NS/A16", "article", "NS/C3/S3"),
        ("NS/A16/Par1", "clause", "NS/A16"),
        ("NS/A16/Par1/a", "point", "NS/A16/Par1"),
        ("NS/A16/Par1/b", "point", "NS/A16/Par1"),
        ("NS/A16/Par2", "clause", "NS/A16"),
    ]
    assert assert_inserting_renames_nothing(text, EU_INSERTED, profile="eu") == {"NS/A12a"}
    assert cut(text).profile == "en"
    assert "eu" not in hits(["## Article 1"], PROFILES)  # (not even counted)
    assert {u.kind for u in cut(text).units} == {"document", "heading", "chapter"} | {
        "section",
        "article",
    }
