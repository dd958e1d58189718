"""A document stored under older cutting rules is re-planned under new ones as moves of the
same units: a plain heading that a new rule labels (US `SEC. 101.`, `TITLE I—…`, stored as
slugs of their text) keeps its unit, versions and history at its new code and kind, and
the old codes stay with it (never handed to another unit)."""

from __future__ import annotations

from typing import Any

import pytest

from iucut import browse
from iucut.apply import apply_documents, apply_plan
from iucut.cut import cut_text
from iucut.cut.profiles import PROFILES, Profile
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
