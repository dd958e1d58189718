"""A document stored under older cutting rules is re-planned under new ones as moves of the
same units: a plain heading that a new rule labels (US `SEC. 101.`, `TITLE I—…`, stored as
slugs of their text) keeps its unit, versions and history at its new code and kind, and
the old codes stay with it (never handed to another unit). So are German amending laws
stored when their Roman-numeral articles (`Art I`) were plain headings."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from iucut import browse
from iucut.apply import apply_documents, apply_plan
from iucut.cut import cut_text
from iucut.cut.profiles import LATIN, PROFILES, SUP, Profile
from iucut.plan_state import make_plan
from iucut.planfile import plan_hash
from iucut.units import CutDocument, Plan

EXEC = "cutter_exec"
US = """# Clean Water Act

## SEC. 2. DEFINITIONS.

In this Act, the term "Administrator" means the Administrator of the EPA.

## TITLE I—GRANTS

### SEC. 101. GRANTS TO STATES.

(a) In General.—The Administrator shall make grants to States.

### SEC. 102. AMOUNT.

A grant shall not exceed $10,000,000.
"""
OLD_CODES = {
    "US/clean-water-act/sec-2-definitions": "US/clean-water-act/S2",
    "US/clean-water-act/title-igrants": "US/T1",
    "US/clean-water-act/title-igrants/sec-101-grants-to-states": "US/T1/S101",
    "US/clean-water-act/title-igrants/sec-102-amount": "US/T1/S102",
}


def cut(text: str) -> CutDocument:
    return cut_text(text, "us.md", namespace="US")


def cut_before_the_us_rules(text: str, monkeypatch: pytest.MonkeyPatch) -> CutDocument:
    """``text`` cut as the English profile did before it knew titles and ``SEC.``."""
    en = PROFILES["en"]
    old = tuple(r for r in en.rules if r.kind not in ("title", "subtitle", "section"))
    with monkeypatch.context() as m:
        m.setitem(PROFILES, "en", Profile("en", old, en.signature))
        return cut(text)


def apply(db: Any, doc: CutDocument) -> None:
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_documents(settings, db.provider(), [doc])
    assert not result.failed and not result.rejected, result


def plan(db: Any, doc: CutDocument) -> Plan:
    with db.connect(role=EXEC) as conn:
        return make_plan(conn, [doc])


def unit_ids(db: Any) -> dict[str, Any]:
    with db.connect() as conn:
        rows = conn.execute(
            f"SELECT code, unit_id, kind FROM {db.schema}.information_unit"
        ).fetchall()
    return {r["code"]: (r["unit_id"], r["kind"]) for r in rows}


def test_headings_a_new_rule_labels_move_with_their_history(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored as plain headings, `SEC. 2.`, `TITLE I—GRANTS`, `SEC. 101.` and `SEC. 102.`
    are re-planned as four moves (was the slug code), no retirement and no creation;
    applied, each is the same unit at its new code with its new kind, with a moved event,
    the export is the source, and nothing is left to plan."""
    old_doc = cut_before_the_us_rules(US, monkeypatch)
    assert {u.code for u in old_doc.units} >= set(OLD_CODES)
    apply(db, old_doc)
    before = unit_ids(db)
    the_plan = plan(db, cut(US))
    (dp,) = the_plan.documents
    moves = {c.renamed_from: c.code for c in dp.changes if c.renamed_from is not None}
    assert moves == OLD_CODES
    assert (the_plan.counts["created"], the_plan.counts["retired"]) == (0, 0)
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_plan(settings, db.provider(), the_plan, plan_hash(the_plan))
    assert not result.failed and not result.rejected, result
    after = unit_ids(db)
    for old, new in OLD_CODES.items():
        assert old not in after
        assert after[new][0] == before[old][0]
    assert [after[c][1] for c in OLD_CODES.values()] == ["section", "title", "section", "section"]
    with db.connect() as conn:
        moved = conn.execute(
            f"SELECT detail FROM {db.schema}.iu_lifecycle_log WHERE event = 'moved'"
        ).fetchall()
        assert browse.export(conn, "us.md")[1] == US
    assert sorted((r["detail"]["from_code"], r["detail"]["to_code"]) for r in moved) == sorted(
        OLD_CODES.items()
    )
    assert not plan(db, cut(US)).has_changes


DE = """# Gesetz zur Einführung des Bundesversorgungsgesetzes im Saarland

## Art I - Einführung des Bundesversorgungsgesetzes

## § 1

(1) Das Bundesversorgungsgesetz tritt im Saarland in Kraft.

## § 2

Renten werden von Amts wegen umgerechnet.

## Art II - Unterhaltsbeihilfe

## § 1

(1) Das Gesetz über die Unterhaltsbeihilfe tritt im Saarland in Kraft.

## Art III - Schlußvorschriften

## § 1

Mit den sich aus Artikel I § 1 Abs. 1 ergebenden Maßgaben gilt das Recht des Bundes.
"""
#: Round 3's codes (``Art I`` a plain heading, its paragraphs qualified by the heading's
#: ``Word N``) and their codes now.
DE_OLD_CODES = {
    "BVG/gesetz-zur-einfuhrung-des-bundesversorgungsgesetzes-im-saarland/"
    "art-i-einfuhrung-des-bundesversorgungsgesetzes": "BVG/Art1",
    "BVG/art-i/§1": "BVG/Art1/§1",
    "BVG/art-i/§1/Abs1": "BVG/Art1/§1/Abs1",
    "BVG/gesetz-zur-einfuhrung-des-bundesversorgungsgesetzes-im-saarland/"
    "art-ii-unterhaltsbeihilfe": "BVG/Art2",
    "BVG/art-ii/§1": "BVG/Art2/§1",
    "BVG/art-ii/§1/Abs1": "BVG/Art2/§1/Abs1",
    "BVG/gesetz-zur-einfuhrung-des-bundesversorgungsgesetzes-im-saarland/"
    "art-iii-schlussvorschriften": "BVG/Art3",
    "BVG/art-iii/§1": "BVG/Art3/§1",
}


def cut_de(text: str) -> CutDocument:
    return cut_text(text, "bvg.md", namespace="BVG", profile="de")


def cut_before_roman_articles(text: str, monkeypatch: pytest.MonkeyPatch) -> CutDocument:
    """``text`` cut as the German profile did when ``Art`` read Arabic numbers only and
    ranked with ``§``."""
    de = PROFILES["de"]
    arabic = re.compile(r"(?:Art\.?|Artikel)\s*(?P<label>\d+[a-z]?" + SUP + LATIN + r")(?![\w])")
    old = tuple(
        dataclasses.replace(r, head=arabic, rank=50) if r.prefix == "Art" else r for r in de.rules
    )
    with monkeypatch.context() as m:
        m.setitem(PROFILES, "de", Profile("de", old, de.signature))
        return cut_de(text)


def test_roman_articles_stored_as_headings_move_with_their_paragraphs(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored when ``Art I``, ``Art II``, ``Art III`` were plain headings (their ``§ 1``
    qualified by the headings: ``art-i/§1``), the articles and their paragraphs are
    re-planned as moves to ``Art1``, ``Art1/§1`` …: the same units, nothing created,
    retired or revised, the old codes handed to no other unit; applied, nothing is left."""
    old_doc = cut_before_roman_articles(DE, monkeypatch)
    assert {u.code for u in old_doc.units} >= set(DE_OLD_CODES)
    apply(db, old_doc)
    before = unit_ids(db)
    new_doc = cut_de(DE)
    assert {u.code for u in new_doc.units} >= set(DE_OLD_CODES.values())
    the_plan = plan(db, new_doc)
    (dp,) = the_plan.documents
    moves = {c.renamed_from: c.code for c in dp.changes if c.renamed_from is not None}
    assert moves == DE_OLD_CODES
    counts = the_plan.counts
    assert (counts["created"], counts["retired"], counts["revised"]) == (0, 0, 0)
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_plan(settings, db.provider(), the_plan, plan_hash(the_plan))
    assert not result.failed and not result.rejected, result
    after = unit_ids(db)
    for old, new in DE_OLD_CODES.items():
        assert old not in after
        assert after[new][0] == before[old][0]
    assert {after[c][1] for c in ("BVG/Art1", "BVG/Art2", "BVG/Art3")} == {"article"}
    with db.connect() as conn:
        assert browse.export(conn, "bvg.md")[1] == DE
    assert not plan(db, cut_de(DE)).has_changes
