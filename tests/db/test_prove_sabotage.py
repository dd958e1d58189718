"""Every proof check can fail: one sabotaged setup per check, each making that check FAIL."""

from __future__ import annotations

from typing import Any

import pytest

from iucut import apply as apply_mod
from iucut import plan_state, planfile
from iucut import prove as prove_mod
from iucut.cut import cut_text
from iucut.db.connector import Connection, ConnectionProvider
from iucut.errors import ExecutionDisabled
from iucut.units import DocumentPlan, Plan

DOC = """---
title: Quy chế thử
iu_namespace: QC-SAB
---
# Chương I. Quy định chung

## Điều 1. Phạm vi

1. Quy chế này áp dụng cho mọi đơn vị.
2. Các đơn vị phải tuân thủ.

## Điều 2. Đối tượng

Cán bộ, công chức.
"""


def make_plan(db: Any) -> tuple[Plan, str]:
    with db.connect(autocommit=True) as conn:
        plan = plan_state.make_plan(conn, [cut_text(DOC.encode(), "qc.md")])
    return plan, planfile.plan_hash(plan)


def statuses(report: prove_mod.ProofReport) -> dict[int, str]:
    return {c.number: c.status for c in report.checks}


def admin(db: Any, sql: str) -> None:
    """Run one sabotage statement as the test database's superuser."""
    with db.connect(autocommit=True) as conn:
        conn.execute(sql)


def test_clean_setup_passes_every_check_as_the_execution_role(db: Any) -> None:
    """The baseline: as cutter_exec, all eight checks PASS (no WARN: not a superuser)."""
    plan, plan_id = make_plan(db)
    report = prove_mod.prove(db.settings(apply_role="cutter_exec"), db.provider(), plan, plan_id)
    assert statuses(report) == dict.fromkeys(range(1, 9), "PASS"), report.checks
    assert report.role == "cutter_exec"


def test_proof1_fails_when_the_execution_role_may_insert_into_a_table(db: Any) -> None:
    """GRANT INSERT on information_unit to cutter_exec: PROOF-1 FAILs, naming the right."""
    admin(db, f"GRANT INSERT ON {db.schema}.information_unit TO cutter_exec")
    plan, plan_id = make_plan(db)
    report = prove_mod.prove(db.settings(apply_role="cutter_exec"), db.provider(), plan, plan_id)
    got = statuses(report)
    assert got[1] == "FAIL"
    assert "information_unit:INSERT" in report.checks[0].evidence["direct_table_writes"]
    assert {n for n, s in got.items() if s == "FAIL"} == {1}
    assert "PROOF-1" in report.verdict


def test_proof1_warns_when_proving_as_a_superuser(db: Any) -> None:
    """Proving as the superuser is reported (WARN), not silently taken as least privilege."""
    plan, plan_id = make_plan(db)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id)
    assert statuses(report)[1] == "WARN"
    assert report.checks[0].evidence["superuser_or_owner"] is True
    assert report.passed


def test_proof2_fails_when_the_gate_lets_a_connection_through(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An apply whose switch check is gone connects while off: PROOF-2 FAILs."""

    def no_gate(settings: Any, provider: Any, documents: Any, **_: Any) -> Any:
        provider.connect()
        raise ExecutionDisabled("too late: a connection was opened")

    monkeypatch.setattr(prove_mod, "apply_documents", no_gate)
    plan, plan_id = make_plan(db)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id)
    got = statuses(report)
    assert got[2] == "FAIL" and report.checks[1].evidence["refused"] is False
    assert {n for n, s in got.items() if s == "FAIL"} == {2}


class IgnoresRole(ConnectionProvider):
    """A provider that connects as its default role whatever role it is asked for."""

    def connect(self, *, user: str | None = None, **kwargs: Any) -> Connection:
        return super().connect(**kwargs)


def test_proof3_fails_when_the_write_connection_is_not_the_apply_role(db: Any) -> None:
    """apply_role=cutter_exec but the connection comes up as the superuser: PROOF-3 FAILs."""
    base = db.provider()
    provider = IgnoresRole(base.target, base.driver, schema=db.schema)
    plan, plan_id = make_plan(db)
    report = prove_mod.prove(db.settings(apply_role="cutter_exec"), provider, plan, plan_id)
    assert statuses(report)[3] == "FAIL"
    assert report.checks[2].evidence["role"] != "cutter_exec"
    assert not report.passed


def test_proof4_fails_when_the_database_accepts_a_bare_row(db: Any) -> None:
    """fn_iu_apply_document wrapped to fill in a missing title and body: PROOF-4 FAILs.

    The wrapped form is the one the write path calls: the ops as arrays (0013)."""
    s = db.schema
    args = (
        "p_run uuid, p_document jsonb, p_op text[], p_code text[], p_expect_version integer[],"
        " p_namespace text[], p_parent_code text[], p_kind text[], p_label text[],"
        " p_ordinal integer[], p_depth integer[], p_position integer[], p_title text[],"
        " p_body text[], p_raw_heading text[], p_content_hash text[], p_line_start integer[],"
        " p_line_end integer[], p_byte_start bigint[], p_byte_end bigint[], p_refs jsonb"
    )
    types = ", ".join(a.split()[1] for a in args.split(", "))
    admin(
        db, f"ALTER FUNCTION {s}.fn_iu_apply_document({types}) RENAME TO fn_iu_apply_document_real"
    )
    admin(
        db,
        f"CREATE FUNCTION {s}.fn_iu_apply_document({args}) RETURNS jsonb LANGUAGE sql AS $$"
        f" SELECT {s}.fn_iu_apply_document_real(p_run, p_document, p_op, p_code,"
        "   p_expect_version, p_namespace, p_parent_code, p_kind, p_label, p_ordinal, p_depth,"
        "   p_position, ARRAY(SELECT coalesce(t, '') FROM unnest(p_title) t),"
        "   ARRAY(SELECT coalesce(b, '') FROM unnest(p_body) b), p_raw_heading,"
        "   p_content_hash, p_line_start, p_line_end, p_byte_start, p_byte_end, p_refs) $$",
    )
    plan, plan_id = make_plan(db)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id)
    got = statuses(report)
    assert got[4] == "FAIL", report.checks[3].evidence
    # not refused for the missing fields (since migration 0004 the filled-in empty text
    # may still be refused for its content hash, IUC02: not the contract under test)
    assert "IUC01" not in str(report.checks[3].evidence["bare_row_database"])
    assert {n for n, s in got.items() if s == "FAIL"} == {4}


def test_proof5_fails_when_the_write_path_skips_a_document(db: Any) -> None:
    """A write path that writes nothing leaves the deltas short of the plan: PROOF-5 FAILs."""

    def writes_nothing(conn: Connection, run_id: str, doc: DocumentPlan) -> dict[str, int]:
        return {}

    plan, plan_id = make_plan(db)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id, write_path=writes_nothing)
    got = statuses(report)
    assert got[5] == "FAIL"
    assert {n for n, s in got.items() if s == "FAIL"} == {5}


def test_proof6_fails_when_a_session_advisory_lock_is_left(db: Any) -> None:
    """A write path that takes a session-level advisory lock (it outlives ROLLBACK): PROOF-6."""

    def leaves_lock(conn: Connection, run_id: str, doc: DocumentPlan) -> dict[str, int]:
        conn.execute("SELECT pg_advisory_lock(4242)")
        return apply_mod.write_document(conn, run_id, doc)

    plan, plan_id = make_plan(db)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id, write_path=leaves_lock)
    got = statuses(report)
    assert got[6] == "FAIL" and report.checks[5].evidence["advisory_locks_left"] == 1
    assert {n for n, s in got.items() if s == "FAIL"} == {6}


def test_proof6_fails_when_a_write_function_commits_elsewhere(db: Any) -> None:
    """A side connection commits a run row (survives ROLLBACK): PROOF-6 FAILs on iu_run."""

    def side_write(conn: Connection, run_id: str, doc: DocumentPlan) -> dict[str, int]:
        with db.connect(autocommit=True) as side:
            side.execute(f"SELECT {db.schema}.fn_run_begin('apply', 'sabotage')")
        return apply_mod.write_document(conn, run_id, doc)

    plan, plan_id = make_plan(db)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id, write_path=side_write)
    assert statuses(report)[6] == "FAIL"
    assert "iu_run" in report.checks[5].evidence["changed_tables"]


def test_proof7_fails_when_the_switch_is_turned_on_mid_proof(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IUCUT_EXECUTION=enabled set in the environment during the proof: PROOF-7 FAILs."""
    monkeypatch.delenv("IUCUT_EXECUTION", raising=False)

    def turns_switch_on(conn: Connection, run_id: str, doc: DocumentPlan) -> dict[str, int]:
        monkeypatch.setenv("IUCUT_EXECUTION", "enabled")
        return apply_mod.write_document(conn, run_id, doc)

    plan, plan_id = make_plan(db)
    report = prove_mod.prove(
        db.settings(), db.provider(), plan, plan_id, write_path=turns_switch_on
    )
    got = statuses(report)
    assert got[7] == "FAIL"
    evidence = report.checks[6].evidence
    assert evidence["before"]["execution_enabled"] is False
    assert evidence["after"]["execution_enabled"] is True
    assert {n for n, s in got.items() if s == "FAIL"} == {7}


def test_proof7_fails_when_the_control_row_changes_during_the_proof(db: Any) -> None:
    """The control row (freeze state) changed by another session mid-proof: PROOF-7 FAILs."""

    def freezes(conn: Connection, run_id: str, doc: DocumentPlan) -> dict[str, int]:
        admin(db, f"UPDATE {db.schema}.iu_control SET frozen = NOT frozen")
        return apply_mod.write_document(conn, run_id, doc)

    plan, plan_id = make_plan(db)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id, write_path=freezes)
    got = statuses(report)
    assert got[7] == "FAIL" and report.checks[6].evidence["control_row_unchanged"] is False
    assert got[6] == "FAIL"  # the independent check sees the changed table too


def test_proof8_fails_when_the_poison_pill_trigger_is_dropped(db: Any) -> None:
    """Without the constraint trigger the database commits a proof run: PROOF-8 FAILs."""
    admin(db, f"DROP TRIGGER iu_run_proof_never_commits ON {db.schema}.iu_run")
    plan, plan_id = make_plan(db)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id)
    got = statuses(report)
    assert got[8] == "FAIL" and report.checks[7].evidence == {"committed": True}
    assert {n for n, s in got.items() if s == "FAIL"} == {8}
