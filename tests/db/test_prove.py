"""The rollback-only proof against a real PostgreSQL: passes, changes nothing, and fails
when the write path is sabotaged (a COMMIT inside the proof, a row written on the side)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iucut import apply as apply_mod
from iucut import plan_state, planfile
from iucut import prove as prove_mod
from iucut.cut import cut_text
from iucut.db.connector import Connection
from iucut.errors import ProofFailed
from iucut.units import CutDocument, DocumentPlan, Plan

V1 = """---
title: Quy chế thử
iu_namespace: QC-TEST
---
# Chương I. Quy định chung

## Điều 1. Phạm vi

1. Quy chế này áp dụng cho mọi đơn vị.
2. Các đơn vị phải tuân thủ:
a) Bảo mật thông tin;
b) Báo cáo định kỳ.

## Điều 2. Đối tượng

Cán bộ, công chức.
"""

V2 = V1.replace("b) Báo cáo định kỳ.", "b) Báo cáo hằng tháng.").replace(
    "Cán bộ, công chức.", "Cán bộ, công chức, viên chức.\n\n## Điều 3. Hiệu lực\n\nNgay.\n"
)


def cut(text: str, path: str = "qc.md") -> CutDocument:
    return cut_text(text.encode(), path)


def independent_state(conn: Connection, schema: str) -> dict[str, Any]:
    """Counts and row digests of every iucut table, computed here, not by the proof."""
    state: dict[str, Any] = {}
    for table in (
        "information_unit",
        "unit_version",
        "iu_lifecycle_log",
        "iu_run",
        "iu_document",
        "iu_control",
        "iucut_migration",
    ):
        row = conn.execute(
            f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
            f" AS d FROM {schema}.{table} t"
        ).fetchone()
        assert row is not None
        state[table] = (row["n"], row["d"])
    return state


def applied(db: Any, text: str) -> None:
    """Apply ``text`` for real (the switch on, as the admin)."""
    settings = db.settings(execution="enabled")
    result = apply_mod.apply_documents(settings, db.provider(), [cut(text)])
    assert not result.failed


def make_plan(db: Any, text: str) -> tuple[Plan, str]:
    with db.connect(autocommit=True) as conn:
        plan = plan_state.make_plan(conn, [cut(text)])
    return plan, planfile.plan_hash(plan)


def test_proof_passes_and_leaves_the_database_unchanged(db: Any, driver: str) -> None:
    """A real plan (create, revise) proves 8/8 on both drivers; the tables are unchanged."""
    applied(db, V1)
    plan, plan_id = make_plan(db, V2)
    assert plan.counts["revised"] >= 2 and plan.counts["created"] >= 1
    with db.connect(autocommit=True) as conn:
        before = independent_state(conn, db.schema)
    report = prove_mod.prove(db.settings(driver=driver), db.provider(driver), plan, plan_id)
    assert report.passed, [c for c in report.checks if c.status == "FAIL"]
    assert report.verdict == "IUCUT_PROOF 8/8 ALL_PROOFS_PASS"
    assert report.checks[4].evidence["written"] == {
        e: plan.counts[e] for e in ("created", "revised", "moved", "restored", "retired")
    }
    with db.connect(autocommit=True) as conn:
        assert independent_state(conn, db.schema) == before
    assert report.checks[2].evidence["driver"] == driver


def test_proof_runs_as_the_execution_role(db: Any) -> None:
    """With apply_role=cutter_exec the proof drives the functions as that role and passes."""
    plan, plan_id = make_plan(db, V1)
    settings = db.settings(apply_role="cutter_exec")
    report = prove_mod.prove(settings, db.provider(), plan, plan_id, observer_user="iucut_reader")
    assert report.passed, [c for c in report.checks if c.status == "FAIL"]
    assert report.checks[2].evidence["role"] == "cutter_exec"


def test_kill_switch_is_off_before_and_after_and_the_gate_made_no_connection(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PROOF-1/2/7: the switch is reported off, apply is refused with 0 provider calls."""
    monkeypatch.delenv("IUCUT_EXECUTION", raising=False)
    plan, plan_id = make_plan(db, V1)
    settings = db.settings()
    assert not settings.execution_enabled
    report = prove_mod.prove(settings, db.provider(), plan, plan_id)
    by_number = {c.number: c for c in report.checks}
    assert by_number[1].evidence["execution_enabled"] is False
    assert by_number[2].status == "PASS" and by_number[2].evidence["provider_calls"] == 0
    off = {"execution_enabled": False, "source": "default"}
    assert by_number[7].status == "PASS"
    assert by_number[7].evidence["before"] == by_number[7].evidence["after"] == off
    assert not settings.execution_enabled


def test_a_commit_inside_the_proof_is_refused_by_the_database(db: Any, driver: str) -> None:
    """A write path that COMMITs is refused by the poison pill; the proof FAILs; no row lands."""

    def sabotaged(conn: Connection, run_id: str, doc: DocumentPlan) -> dict[str, int]:
        counts = apply_mod.write_document(conn, run_id, doc)
        conn.commit()
        return counts

    plan, plan_id = make_plan(db, V1)
    with db.connect(autocommit=True) as conn:
        before = independent_state(conn, db.schema)
    report = prove_mod.prove(
        db.settings(driver=driver), db.provider(driver), plan, plan_id, write_path=sabotaged
    )
    assert not report.passed
    check5 = report.checks[4]
    assert check5.status == "FAIL"
    assert check5.evidence.get("sqlstate") == "IUP01", check5.evidence
    assert "PROOF-5" in report.verdict
    with db.connect(autocommit=True) as conn:
        assert independent_state(conn, db.schema) == before


def test_a_row_written_on_a_second_connection_is_caught(db: Any) -> None:
    """A write path that also commits a row elsewhere (it survives ROLLBACK) fails PROOF-6."""

    def sabotaged(conn: Connection, run_id: str, doc: DocumentPlan) -> dict[str, int]:
        with db.connect(autocommit=True) as side:
            side.execute(f"SELECT {db.schema}.fn_run_begin('apply', 'sabotage')")
        return apply_mod.write_document(conn, run_id, doc)

    plan, plan_id = make_plan(db, V1)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id, write_path=sabotaged)
    check6 = report.checks[5]
    assert check6.status == "FAIL"
    assert "iu_run" in check6.evidence["changed_tables"]
    assert not report.passed


def test_a_stale_plan_fails_the_proof(db: Any) -> None:
    """A plan whose preconditions no longer hold fails PROOF-5 with the stale error."""
    plan, plan_id = make_plan(db, V1)
    applied(db, V1)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id)
    assert report.checks[4].status == "FAIL"
    assert report.checks[4].evidence["sqlstate"] == "IUS01"


def _report(db: Any, text: str, tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    plan, _ = make_plan(db, text)
    plan_file = tmp_path / "plan.json"
    plan_id = planfile.write_plan(plan, plan_file)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id)
    data = report.to_dict()
    report_file = tmp_path / "proof.json"
    report_file.write_text(json.dumps(data))
    return plan_file, report_file, data


def test_require_proof_accepts_only_a_passed_proof_of_this_plan_here(
    db: Any, tmp_path: Path
) -> None:
    """--require-proof refuses another plan, another database and a failed proof."""
    plan_file, report_file, data = _report(db, V1, tmp_path)
    _plan, plan_id = planfile.read_plan(plan_file)
    assert prove_mod.check_proof_report(report_file, plan_id, db.provider())["passed"]

    with pytest.raises(ProofFailed, match="not for this plan"):
        prove_mod.check_proof_report(report_file, "0" * 64, db.provider())

    other_db = dict(data, fingerprint={**data["fingerprint"], "system_identifier": "42"})
    (tmp_path / "other.json").write_text(json.dumps(other_db))
    with pytest.raises(ProofFailed, match="another database"):
        prove_mod.check_proof_report(tmp_path / "other.json", plan_id, db.provider())

    failed = dict(data, passed=False, verdict="IUCUT_PROOF 7/8 FAILED PROOF-6")
    (tmp_path / "failed.json").write_text(json.dumps(failed))
    with pytest.raises(ProofFailed, match="did not pass"):
        prove_mod.check_proof_report(tmp_path / "failed.json", plan_id, db.provider())


def test_cli_prove_then_apply_with_required_proof(db: Any, cli_env: Any, tmp_path: Path) -> None:
    """iucut prove prints the verdict and writes reports; apply --require-proof then writes."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "qc.md").write_text(V1, encoding="utf-8")
    plan_file = tmp_path / "plan.json"
    out = cli_env.run("plan", str(src), "--root", str(src), "-o", str(plan_file))
    assert out.returncode == 2, out.stderr
    reports = tmp_path / "reports"
    out = cli_env.run("prove", "--plan", str(plan_file), "--report", str(reports))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1] == "IUCUT_PROOF 8/8 ALL_PROOFS_PASS"
    written = sorted(p.suffix for p in reports.iterdir())
    assert ".json" in written and ".md" in written
    report_file = next(reports.glob("*.json"))

    refused = cli_env.run("apply", "--plan", str(plan_file), "--require-proof", str(report_file))
    assert refused.returncode == 5, refused.stderr  # the kill-switch comes first

    ok = cli_env.run(
        "apply",
        "--plan",
        str(plan_file),
        "--require-proof",
        str(report_file),
        env={"IUCUT_EXECUTION": "enabled"},
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with db.connect(autocommit=True) as conn:
        n = conn.execute(f"SELECT count(*) AS n FROM {db.schema}.information_unit").scalar()
    assert n == sum(1 for _ in cut(V1).units)


def test_sequence_values_consumed_are_reported_as_expected(db: Any) -> None:
    """What survives the rollback is named: identity values, one per row inserted."""
    plan, plan_id = make_plan(db, V1)
    report = prove_mod.prove(db.settings(), db.provider(), plan, plan_id)
    survives = report.survives_rollback
    assert survives["consumed_as_expected"] is True
    consumed = survives["sequence_values_consumed"]
    created = plan.counts["created"]
    assert consumed["information_unit_unit_id_seq"] == created
    assert consumed["iu_lifecycle_log_event_id_seq"] == created


def test_cli_prove_fails_naming_rejected_documents(cli_env: Any, tmp_path: Path) -> None:
    """A rejected document of the given paths was never proven: exit 10, named, in --json."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "qc.md").write_text(V1, encoding="utf-8")
    (src / "broken.md").write_bytes(b"# Broken\n\nvalid \xc3\x28 invalid\n")
    out = cli_env.run("prove", str(src), "--root", str(src))
    assert out.returncode == 10, out.stdout + out.stderr
    assert "broken.md" in out.stderr
    assert "rejected, not proven:" in out.stdout and "broken.md" in out.stdout
    assert "ALL_PROOFS_PASS" not in out.stdout
    assert out.stdout.strip().splitlines()[-1].endswith("REJECTED 1")

    as_json = cli_env.run("prove", str(src), "--root", str(src), "--json")
    assert as_json.returncode == 10, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["passed"] is False
    assert [r["path"] for r in data["rejected"]] == ["broken.md"]


def test_cli_prove_says_which_role_drove_the_write_path(cli_env: Any, tmp_path: Path) -> None:
    """IUCUT_APPLY_ROLE=cutter_exec: the text, --json and the report name cutter_exec."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "qc.md").write_text(V1, encoding="utf-8")
    env = {"IUCUT_APPLY_ROLE": "cutter_exec"}
    out = cli_env.run("prove", str(src), "--root", str(src), env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "role cutter_exec" in out.stdout.splitlines()[0]
    reports = tmp_path / "reports"
    as_json = cli_env.run(
        "prove", str(src), "--root", str(src), "--json", "--report", str(reports), env=env
    )
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["role"] == "cutter_exec"
    assert json.loads(next(reports.glob("*.json")).read_text())["role"] == "cutter_exec"


def test_require_proof_refuses_a_proof_driven_as_another_role(
    db: Any, cli_env: Any, tmp_path: Path
) -> None:
    """Proved as the superuser, applied as cutter_exec: --require-proof refuses (exit 10)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "qc.md").write_text(V1, encoding="utf-8")
    plan_file = tmp_path / "plan.json"
    assert cli_env.run("plan", str(src), "--root", str(src), "-o", str(plan_file)).returncode == 2
    reports = tmp_path / "reports"
    proved = cli_env.run("prove", "--plan", str(plan_file), "--report", str(reports))
    assert proved.returncode == 0, proved.stderr
    report_file = next(reports.glob("*.json"))
    on = {"IUCUT_EXECUTION": "enabled", "IUCUT_APPLY_ROLE": "cutter_exec"}
    refused = cli_env.run(
        "apply", "--plan", str(plan_file), "--require-proof", str(report_file), env=on
    )
    assert refused.returncode == 10, refused.stderr
    assert "apply writes as cutter_exec" in refused.stderr
    with db.connect(autocommit=True) as conn:
        assert conn.execute(f"SELECT count(*) AS n FROM {db.schema}.iu_run").scalar() == 0

    again = cli_env.run("prove", "--plan", str(plan_file), "--report", str(reports), env=on)
    assert again.returncode == 0, again.stdout + again.stderr
    ok = cli_env.run("apply", "--plan", str(plan_file), "--require-proof", str(report_file), env=on)
    assert ok.returncode == 0, ok.stdout + ok.stderr
