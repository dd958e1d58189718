"""A code once held is never handed to another unit: after a unit moved to a new code, a
later version that creates a brand-new unit at the old code is rejected by the plan (and
apply), and refused by the database (SQLSTATE IUC08) whoever calls it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import state_digest
from iucut.apply import apply_documents, document_payload
from iucut.cut import cut_text
from iucut.errors import ContractError
from iucut.plan import diff_document
from iucut.plan_state import make_plan, read_documents, read_units
from iucut.units import CutDocument

EXEC = "cutter_exec"

# v1: one chapter, G/Kap1 (unit X). v2: the label repeats under a second Untertitel, so
# X moves to G/untertitel-1/Kap1. v3: both chapters gone, a new, different chapter under
# a third Untertitel is the only Kapitel 1 again: its code would be G/Kap1, X's old code.
KAP = "# G\n\n## Abschnitt 1\n\n### Untertitel 1 - Vereine\n\n#### Kapitel 1 - A\n\n#### § 1 x\n\n"
NEW_KAP = "### Untertitel 2 - Stiftungen\n\n#### Kapitel 1 - B\n\n#### § 2 y\n"
V3 = (
    "# G\n\n## Abschnitt 1\n\n### Untertitel 1 - Vereine\n\n#### § 1 x\n\n"
    "### Untertitel 2 - Stiftungen\n\n#### § 2 y\n\n"
    "### Untertitel 3 - Neu\n\n#### Kapitel 1 - C\n\nNeu.\n"
)
OLD = "G/Kap1"
HOLDER = "G/untertitel-1/Kap1"


def cut(text: str) -> CutDocument:
    return cut_text(text, "g.md", namespace="G")


def settings(db: Any) -> Any:
    return db.settings(execution="enabled", apply_role=EXEC)


def history(db: Any) -> CutDocument:
    """Apply v1 and v2 (X moves from G/Kap1 to G/untertitel-1/Kap1); return v3."""
    for text in (KAP, KAP + NEW_KAP):
        result = apply_documents(settings(db), db.provider(), [cut(text)])
        assert not result.failed and not result.rejected, result
    with db.connect() as conn:
        held = conn.execute(
            f"SELECT u.code FROM {db.schema}.iu_lifecycle_log l "
            f"JOIN {db.schema}.information_unit u USING (unit_id) WHERE l.code = %(c)s",
            {"c": OLD},
        ).fetchall()
    assert {r["code"] for r in held} == {HOLDER}
    v3 = cut(V3)
    assert OLD in {u.code for u in v3.units}
    return v3


def log_size(db: Any) -> int:
    with db.connect() as conn:
        n = conn.execute(f"SELECT count(*) FROM {db.schema}.iu_lifecycle_log").scalar()
    return int(n)


def test_the_plan_rejects_a_new_unit_at_a_code_another_unit_held(db: Any) -> None:
    """The plan rejects v3 (file, line, the code, the unit now holding its history, what
    to do) and plans nothing for it; apply rejects it the same way and writes nothing."""
    v3 = history(db)
    with db.connect(role=EXEC) as conn:
        plan = make_plan(conn, [v3])
    assert [d.doc_path for d in plan.documents] == []
    ((rejected),) = plan.rejected
    assert rejected.path == "g.md"
    line = next(u.line_start for u in v3.units if u.code == OLD)
    assert rejected.message.startswith(f"g.md:{line}: code {OLD} was held by another unit")
    assert HOLDER in rejected.message and "another label or title" in rejected.message
    with db.connect() as admin:
        before = state_digest(admin, db.schema)
    events = log_size(db)
    result = apply_documents(settings(db), db.provider(), [v3])
    assert [r.path for r in result.rejected] == ["g.md"]
    assert f"code {OLD} was held by another unit" in result.rejected[0].message
    assert result.counts["created"] == 0
    with db.connect() as admin:
        assert state_digest(admin, db.schema) == before
    assert log_size(db) == events


def test_the_database_refuses_a_create_of_a_code_once_held(db: Any) -> None:
    """fn_iu_apply_document called directly by the execution role with a create of X's old
    code is refused with IUC08 (hint naming the code and the unit holding its history);
    nothing changes."""
    v3 = history(db)
    with db.connect(role=EXEC) as conn:
        db_doc = read_documents(conn, ["g.md"])["g.md"]
        dp = diff_document(v3, db_doc, read_units(conn, "g.md"))  # no plan-time check
        conn.rollback()
    assert OLD in [c.code for c in dp.changes if c.op == "create"]
    document, ops = document_payload(dp)
    with db.connect() as admin:
        before = state_digest(admin, db.schema)
    with db.connect(role=EXEC) as conn:
        run = conn.execute(f"SELECT {db.schema}.fn_run_begin('apply') AS r").scalar()
        with pytest.raises(ContractError) as caught:
            conn.execute(
                f"SELECT {db.schema}.fn_iu_apply_document(%(r)s, %(d)s::jsonb, %(o)s::jsonb)",
                {"r": run, "d": json.dumps(document), "o": json.dumps(ops)},
            )
        conn.rollback()
    assert caught.value.context.get("sqlstate") == "IUC08"
    assert f"code {OLD}" in str(caught.value.hint) and HOLDER in str(caught.value.hint)
    with db.connect() as admin:
        assert state_digest(admin, db.schema) == before


def test_a_unit_moves_back_to_a_code_it_held_itself(db: Any) -> None:
    """v1 again after v2: X moves back to G/Kap1 (its own old code, same unit), which is
    neither rejected nor refused, and no code is held by two units."""
    history(db)
    with db.connect() as conn:
        unit_id = conn.execute(
            f"SELECT unit_id FROM {db.schema}.information_unit WHERE code = %(c)s", {"c": HOLDER}
        ).scalar()
    result = apply_documents(settings(db), db.provider(), [cut(KAP)])
    assert not result.failed and not result.rejected, result
    assert result.counts["moved"] >= 1 and result.counts["created"] == 0
    with db.connect() as conn:
        back = conn.execute(
            f"SELECT unit_id FROM {db.schema}.information_unit WHERE code = %(c)s", {"c": OLD}
        ).scalar()
        reused = conn.execute(
            f"SELECT count(*) FROM (SELECT code FROM {db.schema}.iu_lifecycle_log GROUP BY code "
            "HAVING count(DISTINCT unit_id) > 1) r"
        ).scalar()
    assert (back, reused) == (unit_id, 0)
