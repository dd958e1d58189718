"""Flat documents (unlabelled section headings at the level of their articles) whose
articles restart per section: a section inserted in front is planned as created units
only (no unit revised, retired or moved), and a document stored when its articles were
numbered by position (``A1``, ``A1-2``) is re-planned as moves of the same units. So are
the sections of an EU act written at the level of its articles: an article inserted
before a section moves nothing, and sections stored inside the article before them
(``A12/S2``) move to their chapter (``C3/S2``). So are plain headings repeated under one
parent (``## Notes`` after each article): an article inserted with its notes creates only
itself and them, and notes stored numbered (``notes-2``) move under their articles; and
articles after sections named by bold lines alone (``**Terms for businesses**``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

# (applied and planned as the execution role, as the rules' relabelling is tested)
from test_rule_relabel import EXEC, apply, plan
from tests.unit.test_cut_styles import DPA, DPA_INSERTED

from iucut.apply import apply_plan
from iucut.cut import codes, cut_text
from iucut.cut.profiles import PROFILES, Profile
from iucut.planfile import plan_hash
from iucut.units import CutDocument, Op

V1 = """# Terms of Service

Last updated: 1 March 2026.

## Terms for consumers

## Article 1 Scope

These terms apply when you buy as a consumer.

## Article 2 Payment

Payment is due when you place the order.

## Terms for businesses

## Article 1 Scope

These terms apply when you buy for your business.

## Article 2 Payment

Invoices are payable within 30 days.
"""
V2 = V1.replace(
    "## Terms for consumers",
    '## General terms\n\n## Article 1 Definitions\n\n"We" means Example Ltd.\n\n'
    "## Article 2 Changes\n\nWe may change these terms.\n\n## Terms for consumers",
)
#: The codes V1's articles had when they were numbered by position, and their codes now.
NUMBERED = {
    "TOS/A1": "TOS/terms-for-consumers/A1",
    "TOS/A2": "TOS/terms-for-consumers/A2",
    "TOS/A1-2": "TOS/terms-for-businesses/A1",
    "TOS/A2-2": "TOS/terms-for-businesses/A2",
}


def cut(text: str) -> CutDocument:
    return cut_text(text, "tos.md", namespace="TOS")


def cut_numbered(text: str, monkeypatch: pytest.MonkeyPatch) -> CutDocument:
    """``text`` cut as before flat sections qualified their articles (numbered)."""
    with monkeypatch.context() as m:
        m.setattr(codes, "_after_heading", lambda units, repeated: {}, raising=False)
        return cut(text)


def unit_ids(db: Any) -> dict[str, Any]:
    with db.connect() as conn:
        rows = conn.execute(f"SELECT code, unit_id FROM {db.schema}.information_unit").fetchall()
    return {r["code"]: r["unit_id"] for r in rows}


def stored_then_moved(
    db: Any, stored: CutDocument, now: CutDocument, moves: dict[str, str]
) -> None:
    """``stored`` applied, then ``now`` planned: exactly ``moves`` (old code: new code)
    renamed, nothing created, retired or revised; the plan applied keeps each unit's id
    under its new code, and nothing is left to plan."""
    assert set(moves) <= {u.code for u in stored.units}
    apply(db, stored)
    before = unit_ids(db)
    the_plan = plan(db, now)
    (dp,) = the_plan.documents
    assert {c.renamed_from: c.code for c in dp.changes if c.renamed_from} == moves
    counts = the_plan.counts
    assert (counts["created"], counts["retired"], counts["revised"]) == (0, 0, 0)
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_plan(settings, db.provider(), the_plan, plan_hash(the_plan))
    assert not result.failed and not result.rejected, result
    after = unit_ids(db)
    assert {new: after[new] for new in moves.values()} == {
        new: before[old] for old, new in moves.items()
    }
    assert not plan(db, now).has_changes


def test_a_section_inserted_in_front_only_creates(db: Any) -> None:
    """V2 inserts a section with its own articles 1 and 2 in front: the plan creates its
    heading and two articles and touches nothing else (numbered by position, the four
    articles of V1 were each revised to another article's text)."""
    apply(db, cut(V1))
    the_plan = plan(db, cut(V2))
    (dp,) = the_plan.documents
    assert sorted(c.code for c in dp.changes if c.op == Op.CREATE) == [
        "TOS/general-terms/A1",
        "TOS/general-terms/A2",
        "TOS/terms-of-service/general-terms",
    ]
    # the units after it only change place (their position): no version, no event
    assert {c.op for c in dp.changes if c.op != Op.CREATE} == {Op.PLACE}
    assert [c.renamed_from for c in dp.changes if c.renamed_from] == []
    assert the_plan.counts | {"created": 0, "unchanged": 0} == dict.fromkeys(the_plan.counts, 0)
    before = unit_ids(db)
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_plan(settings, db.provider(), the_plan, plan_hash(the_plan))
    assert not result.failed and not result.rejected, result
    after = unit_ids(db)
    assert {c: after[c] for c in before} == before
    assert not plan(db, cut(V2)).has_changes


def test_articles_stored_numbered_move_to_their_qualified_codes(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored as ``A1``, ``A2``, ``A1-2``, ``A2-2``, the four articles are re-planned as four
    moves to their qualified codes: the same units, nothing created or retired."""
    stored_then_moved(db, cut_numbered(V1, monkeypatch), cut(V1), NUMBERED)


def test_removing_a_section_moves_the_articles_that_become_unique(db: Any) -> None:
    """Without the businesses' section, the consumers' articles 1 and 2 no longer repeat and
    lose their qualifier (``A1``, ``A2``): planned as two moves of the same units (history
    kept), the businesses' ones retired, nothing created or revised."""
    apply(db, cut(V1))
    before = unit_ids(db)
    v3 = V1[: V1.index("## Terms for businesses")]
    the_plan = plan(db, cut(v3))
    (dp,) = the_plan.documents
    assert {c.renamed_from: c.code for c in dp.changes if c.renamed_from} == {
        "TOS/terms-for-consumers/A1": "TOS/A1",
        "TOS/terms-for-consumers/A2": "TOS/A2",
    }
    assert sorted(c.code for c in dp.changes if c.op == Op.RETIRE) == [
        "TOS/terms-for-businesses/A1",
        "TOS/terms-for-businesses/A2",
        "TOS/terms-of-service/terms-for-businesses",
    ]
    assert (the_plan.counts["created"], the_plan.counts["revised"]) == (0, 0)
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_plan(settings, db.provider(), the_plan, plan_hash(the_plan))
    assert not result.failed and not result.rejected, result
    after = unit_ids(db)
    assert after["TOS/A1"] == before["TOS/terms-for-consumers/A1"]
    assert not plan(db, cut(v3)).has_changes


EU = """# Regulation (EU) 2016/679

## CHAPTER III Rights of the data subject

## Section 1 Transparency and modalities

## Article 12 Transparent information

1. The controller shall take appropriate measures to provide any information.

## Section 2 Information and access to personal data

## Article 13 Information to be provided

1. Where personal data are collected from the data subject.

## Section 3 Rectification and erasure

## Article 16 Right to rectification

The data subject shall have the right to obtain rectification.
"""
EU_V2 = EU.replace(
    "## Section 2",
    "## Article 12a Electronic means\n\nThe controller may use electronic means.\n\n## Section 2",
)
#: The codes the sections had when a section nested in the article before it.
EU_NESTED = {"EU/A12/S2": "EU/C3/S2", "EU/A13/S3": "EU/C3/S3"}


def cut_eu(text: str) -> CutDocument:
    return cut_text(text, "eu.md", namespace="EU")


def cut_eu_nested(text: str, monkeypatch: pytest.MonkeyPatch) -> CutDocument:
    """``text`` cut as when a section at an article's heading level nested in it."""
    en = PROFILES["en"]
    old = tuple(dataclasses.replace(r, first_in=()) for r in en.rules)
    with monkeypatch.context() as m:
        m.setitem(PROFILES, "en", Profile("en", old, en.signature))
        return cut_eu(text)


def test_an_article_inserted_before_an_eu_section_moves_nothing(db: Any) -> None:
    """Article 12a inserted before ``Section 2`` (all headings ``##``): the plan creates it
    and touches nothing else (no move, no revision: the section was ``A12/S2`` and would
    have moved to ``A12a/S2``, its article 13 following)."""
    apply(db, cut_eu(EU))
    the_plan = plan(db, cut_eu(EU_V2))
    (dp,) = the_plan.documents
    assert [c.code for c in dp.changes if c.op == Op.CREATE] == ["EU/A12a"]
    assert {c.op for c in dp.changes if c.op != Op.CREATE} <= {Op.PLACE}
    assert [c.renamed_from for c in dp.changes if c.renamed_from] == []
    assert the_plan.counts | {"created": 0, "unchanged": 0} == dict.fromkeys(the_plan.counts, 0)


def test_eu_sections_stored_inside_articles_move_to_their_chapter(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored as ``A12/S2`` and ``A13/S3`` (inside the article before each), the sections
    are re-planned as two moves to ``C3/S2`` and ``C3/S3``: the same units, nothing
    created, retired or revised; applied, nothing is left to plan."""
    stored_then_moved(db, cut_eu_nested(EU, monkeypatch), cut_eu(EU), EU_NESTED)


DPA_V2 = DPA.replace(*DPA_INSERTED)
#: The codes the notes had when they were numbered by position, and their codes now.
NOTES = {
    "DPA/data-processing-agreement/notes": "DPA/A1/notes",
    "DPA/data-processing-agreement/notes-2": "DPA/A2/notes",
    "DPA/data-processing-agreement/notes-3": "DPA/A3/notes",
}


def cut_dpa(text: str) -> CutDocument:
    return cut_text(text, "dpa.md", namespace="DPA")


def cut_dpa_numbered(text: str, monkeypatch: pytest.MonkeyPatch) -> CutDocument:
    """``text`` cut as when repeated plain headings were numbered by position."""
    after = codes._after_heading
    with monkeypatch.context() as m:
        m.setattr(
            codes,
            "_after_heading",
            lambda units, repeated: {
                c: h for c, h in after(units, repeated).items() if "/notes" not in c
            },
        )
        return cut_dpa(text)


def test_an_article_inserted_with_its_notes_only_creates(db: Any) -> None:
    """Article 1a inserted with its own ``## Notes``: the plan creates both and touches no
    other unit (numbered by position, article 1a's notes took ``notes-2`` from article 2's
    notes: three notes revised to another's text and one created)."""
    apply(db, cut_dpa(DPA))
    the_plan = plan(db, cut_dpa(DPA_V2))
    (dp,) = the_plan.documents
    assert sorted(c.code for c in dp.changes if c.op == Op.CREATE) == ["DPA/A1a", "DPA/A1a/notes"]
    assert {c.op for c in dp.changes if c.op != Op.CREATE} <= {Op.PLACE}
    assert [c.renamed_from for c in dp.changes if c.renamed_from] == []
    assert the_plan.counts | {"created": 0, "unchanged": 0} == dict.fromkeys(the_plan.counts, 0)


def test_notes_stored_numbered_move_under_their_articles(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored as ``notes``, ``notes-2``, ``notes-3``, the three notes are re-planned as
    three moves to ``A1/notes`` …: the same units, nothing created, retired or revised;
    applied, nothing is left to plan."""
    stored_then_moved(db, cut_dpa_numbered(DPA, monkeypatch), cut_dpa(DPA), NOTES)


BOLD = V1.replace("## Terms for consumers", "**Terms for consumers**").replace(
    "## Terms for businesses", "**Terms for businesses**"
)


def test_articles_after_bold_section_names_stored_numbered_move(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sections named by bold lines alone (``**Terms for businesses**``): stored as ``A1``,
    ``A2``, ``A1-2``, ``A2-2`` (numbered by position), the four articles are re-planned as
    four moves to their qualified codes, nothing created, retired or revised; and a
    section inserted in front then creates only its own articles."""
    with monkeypatch.context() as m:
        m.setattr(codes, "_bold_end", lambda unit: None, raising=False)
        old_doc = cut(BOLD)
    stored_then_moved(db, old_doc, cut(BOLD), NUMBERED)
    inserted = BOLD.replace(
        "**Terms for consumers**",
        "**General terms**\n\n## Article 1 Definitions\n\nWords.\n\n**Terms for consumers**",
    )
    (dp,) = plan(db, cut(inserted)).documents
    assert [c.code for c in dp.changes if c.op == Op.CREATE] == ["TOS/general-terms/A1"]
    assert [c.renamed_from for c in dp.changes if c.renamed_from] == []
    assert {c.op for c in dp.changes if c.op not in (Op.CREATE, Op.PLACE)} == {Op.REVISE}
    assert [c.code for c in dp.changes if c.op == Op.REVISE] == ["TOS/terms-of-service"]
