"""Identity through plan and apply on a real database: the profile stored with a
document, units that move to a new code keeping their history, and no code ever handed
to another unit over version histories built from the shared laws."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from iucut.apply import apply_documents, apply_plan
from iucut.cut import cut_text
from iucut.errors import IucutError
from iucut.plan_state import make_plan
from iucut.planfile import plan_hash
from iucut.units import CutDocument

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_cut_history import bgb_versions

EXEC = "cutter_exec"

# Two German articles; the second version adds an English appendix whose three
# "Article N" headings outnumber them, so detection alone would read it as English.
GERMAN = "# Abkommen\n\n## Art 1\n\n(1) Eins.\n\n(2) Zwei.\n\n## Art 2\n\n(1) Drei.\n"
APPENDIX = "\n## Annex\n\n### Article 1\n\nOne.\n\n### Article 2\n\nTwo.\n\n### Article 3\n\nX.\n"


def apply(db: Any, doc: CutDocument) -> Any:
    """Apply one cut document as the execution role; it must not fail."""
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_documents(settings, db.provider(), [doc])
    assert not result.failed and not result.rejected, result
    return result


def stored_profile(db: Any, path: str) -> str | None:
    with db.connect() as conn:
        return conn.execute(
            f"SELECT profile FROM {db.schema}.iu_document WHERE doc_path = %(p)s", {"p": path}
        ).scalar()


def events(db: Any, run_id: str | None) -> list[tuple[str, str]]:
    with db.connect() as conn:
        rows = conn.execute(
            f"SELECT event, code FROM {db.schema}.iu_lifecycle_log WHERE run_id = %(r)s "
            "ORDER BY event_id",
            {"r": run_id},
        ).fetchall()
    return [(r["event"], r["code"]) for r in rows]


def codes_reused(db: Any) -> list[str]:
    """Codes the lifecycle log shows held by more than one unit."""
    with db.connect() as conn:
        rows = conn.execute(
            f"SELECT code FROM {db.schema}.iu_lifecycle_log GROUP BY code "
            "HAVING count(DISTINCT unit_id) > 1"
        ).fetchall()
    return [r["code"] for r in rows]


def test_stored_profile_survives_a_version_that_detects_differently(db: Any) -> None:
    """A document first applied as German keeps its profile when a later version would be
    detected as English: its articles stay, nothing is retired or renamed."""
    first = cut_text(GERMAN, "abk.md")
    assert first.profile == "de"
    apply(db, first)
    assert stored_profile(db, "abk.md") == "de"
    second = cut_text(GERMAN + APPENDIX, "abk.md")
    assert second.profile == "en"  # what detection alone would do
    result = apply(db, second)
    logged = events(db, result.run_id)
    assert [e for e, _ in logged if e in ("retired", "moved")] == []
    assert ("created", "ABK/abkommen/annex/article-1") in logged
    assert stored_profile(db, "abk.md") == "de"
    with db.connect() as conn:
        active = {
            r["code"]
            for r in conn.execute(
                f"SELECT code FROM {db.schema}.information_unit WHERE state = 'active'"
            ).fetchall()
        }
    assert {"ABK/Art1", "ABK/Art1/Abs1", "ABK/Art2/Abs1"} <= active


def test_a_changed_profile_is_an_explicit_planned_change(db: Any) -> None:
    """A profile given on purpose that differs from the stored one is shown in the plan
    (profile, expected profile) and stored when the reviewed plan is applied."""
    apply(db, cut_text(GERMAN, "abk.md"))
    again = cut_text(GERMAN, "abk.md", profile="en")
    with db.connect(role=EXEC) as conn:
        plan = make_plan(conn, [again])
    (dp,) = plan.documents
    assert (dp.expect_profile, dp.profile, dp.profile_changes) == ("de", "en", True)
    assert plan.has_changes
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_plan(settings, db.provider(), plan, plan_hash(plan))
    assert not result.failed
    assert stored_profile(db, "abk.md") == "en"
    with db.connect(role=EXEC) as conn:
        assert not make_plan(conn, [cut_text(GERMAN, "abk.md", profile="en")]).has_changes


def test_the_profile_is_written_by_a_granted_function_only(db: Any) -> None:
    """The execution role cannot write the profile column itself; the function refuses a
    stale expected profile (IUS01)."""
    apply(db, cut_text(GERMAN, "abk.md"))
    with db.connect(role=EXEC) as conn:
        with pytest.raises(IucutError):
            conn.execute(f"UPDATE {db.schema}.iu_document SET profile = 'vi'")
        conn.rollback()
        run = conn.execute(f"SELECT {db.schema}.fn_run_begin('apply') AS r").scalar()
        with pytest.raises(IucutError, match="changed since the plan"):
            conn.execute(
                f"SELECT {db.schema}.fn_iu_document_profile(%(r)s, 'abk.md', 'vi', 'en')",
                {"r": run},
            )
        conn.rollback()
    assert stored_profile(db, "abk.md") == "de"


KAP = "# G\n\n## Abschnitt 1\n\n### Untertitel 1 - Vereine\n\n#### Kapitel 1 - A\n\n#### § 1 x\n\n"
NEW_KAP = "### Untertitel 2 - Stiftungen\n\n#### Kapitel 1 - B\n\n#### § 2 y\n"


def test_a_renumbered_code_is_a_move_of_the_same_unit(db: Any) -> None:
    """When a label starts to repeat, the unit whose code becomes qualified is moved to the
    new code (same unit, its history continues), its old code is handed to no one."""
    apply(db, cut_text(KAP, "g.md", namespace="G"))
    with db.connect() as conn:
        unit_id = conn.execute(
            f"SELECT unit_id FROM {db.schema}.information_unit WHERE code = 'G/Kap1'"
        ).scalar()
    doc = cut_text(KAP + NEW_KAP, "g.md", namespace="G")
    with db.connect(role=EXEC) as conn:
        plan = make_plan(conn, [doc])
    moves = [(c.renamed_from, c.code) for c in plan.documents[0].changes if c.renamed_from]
    assert moves == [("G/Kap1", "G/untertitel-1/Kap1")]
    assert plan.counts["moved"] == 1 and plan.counts["retired"] == 0
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_plan(settings, db.provider(), plan, plan_hash(plan))
    assert result.counts["moved"] == 1 and result.counts["retired"] == 0
    with db.connect() as conn:
        row = conn.execute(
            f"SELECT unit_id, state FROM {db.schema}.information_unit "
            "WHERE code = 'G/untertitel-1/Kap1'"
        ).fetchone()
        assert (row["unit_id"], row["state"]) == (unit_id, "active")
        child = conn.execute(
            f"SELECT parent_code FROM {db.schema}.information_unit WHERE code = 'G/§1'"
        ).scalar()
        assert child == "G/untertitel-1/Kap1"
        old = conn.execute(
            f"SELECT count(*) FROM {db.schema}.information_unit WHERE code = 'G/Kap1'"
        ).scalar()
        assert old == 0
    assert ("moved", "G/untertitel-1/Kap1") in events(db, result.run_id)
    assert codes_reused(db) == []


def test_a_code_once_held_is_never_moved_to_another_unit(db: Any) -> None:
    """fn_iu_recode refuses to give a unit a code another unit held before (IUC01)."""
    apply(db, cut_text(KAP, "g.md", namespace="G"))
    with db.connect(role=EXEC) as conn:
        run = conn.execute(f"SELECT {db.schema}.fn_run_begin('apply') AS r").scalar()
        with pytest.raises(IucutError, match="belongs to another unit"):
            conn.execute(
                f"SELECT {db.schema}.fn_iu_recode(%(r)s, 'g.md', "
                """'[{"from": "G/§1", "to": "G/Kap1", "expect_version": 1}]'::jsonb)""",
                {"r": run},
            )
        conn.rollback()


def test_bgb_history_applies_without_renames_or_reused_codes(db: Any) -> None:
    """The BGB and three built versions (a chapter inserted early, two ancestors
    retitled), planned and applied in turn: nothing is retired, only the inserted units
    are created, the retitled plain heading moves to its new slug with its history, and
    no code is ever held by two units."""
    created: list[int] = []
    moved: list[list[str]] = []
    for n, text in enumerate(bgb_versions()):
        result = apply(db, cut_text(text, "bgb.md", namespace="BGB"))
        logged = events(db, result.run_id)
        assert [x for x in logged if x[0] in ("retired", "restored")] == [], n
        created.append(sum(1 for e, _ in logged if e == "created"))
        moved.append([code for e, code in logged if e == "moved"])
    assert created[1:] == [6, 0, 0]
    heading = "BGB/T2/Abschn8/UAbschn1/untertitel-2-kauf-auf-probe-wiederkauf-vorkauf"
    assert moved[1:] == [[], [heading], []]
    with db.connect() as conn:
        versions = conn.execute(
            f"SELECT current_version FROM {db.schema}.information_unit WHERE code = %(c)s",
            {"c": heading},
        ).scalar()
    assert versions == 2  # the old title is version 1 of the same unit
    assert codes_reused(db) == []
