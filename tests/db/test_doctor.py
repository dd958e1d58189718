"""iucut doctor against a real PostgreSQL: green when all is as intended, and each drift caught."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from iucut.config import Settings
from iucut.doctor import doctor
from iucut.errors import DoctorFailed
from iucut.migrate import load_migrations
from iucut.report import FORMATS, Check, Report, render
from iucut.report import verdict as verdict_line

if TYPE_CHECKING:
    from conftest import CliEnv, PgServer, TestDatabase


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def failures(checks: list[Check]) -> dict[str, str]:
    return {c.name: str(c.evidence) for c in checks if c.status == "FAIL"}


def test_all_green_on_migrated_database_with_roles(db: TestDatabase) -> None:
    """A database migrated with --roles passes every check (WARN only for optional things)."""
    checks = doctor(db.settings())
    assert failures(checks) == {}
    names = [c.name for c in checks]
    for expected in (
        "package",
        "driver psycopg",
        "driver psycopg2",
        "kill-switch",
        "database",
        "schema",
        "roles",
        "table privileges",
        "function privileges",
        "execution role",
        "PUBLIC execute",
        "owner",
        "definer functions",
        "freeze",
    ):
        assert expected in names
    assert [c.number for c in checks] == list(range(1, len(checks) + 1))
    package = by_name(checks)["package"]
    assert "files OK" in str(package.evidence)
    latest = load_migrations()[-1].version
    assert f"schema iu: version {latest}" in str(by_name(checks)["schema"].evidence)


def test_package_counts_every_module(db: TestDatabase) -> None:
    """The package check compiles and imports every module: n/n, like the seed's gate."""
    from iucut.doctor import package_modules

    check = doctor(db.settings())[0]
    n = len(package_modules())
    assert n > 10
    assert f"py_compile {n}/{n} files OK, import {n}/{n} OK" in str(check.evidence)
    assert "execution_enabled=False" in str(check.evidence)


def test_tampered_migration_checksum(db: TestDatabase) -> None:
    """An applied migration whose recorded checksum differs from the file is a FAIL."""
    with db.connect(autocommit=True) as admin:
        admin.execute(
            f"UPDATE {db.schema}.iucut_migration SET checksum = 'tampered' WHERE version = 1"
        )
    check = by_name(doctor(db.settings()))["schema"]
    assert check.status == "FAIL"
    assert "0001_initial.sql" in str(check.evidence)
    assert "changed after it was applied" in str(check.evidence)


def test_exec_role_with_insert_on_a_table(db: TestDatabase) -> None:
    """GRANT INSERT to the execution role: FAIL naming the role, the privilege and the table."""
    with db.connect(autocommit=True) as admin:
        admin.execute(f"GRANT INSERT ON {db.schema}.information_unit TO cutter_exec")
    check = by_name(doctor(db.settings()))["table privileges"]
    assert check.status == "FAIL"
    assert f"cutter_exec has INSERT on {db.schema}.information_unit" in str(check.evidence)


def test_reader_with_delete_and_column_update(db: TestDatabase) -> None:
    """Reader DELETE on the log and a column-level UPDATE both count as write privileges."""
    with db.connect(autocommit=True) as admin:
        admin.execute(f"GRANT DELETE ON {db.schema}.iu_lifecycle_log TO iucut_reader")
        admin.execute(f"GRANT UPDATE (state) ON {db.schema}.information_unit TO cutter_exec")
    evidence = str(by_name(doctor(db.settings()))["table privileges"].evidence)
    assert f"iucut_reader has DELETE on {db.schema}.iu_lifecycle_log" in evidence
    assert f"cutter_exec has UPDATE on {db.schema}.information_unit" in evidence


def test_reader_may_not_execute_write_functions(db: TestDatabase) -> None:
    """EXECUTE on a write function for the reader is a FAIL."""
    with db.connect(autocommit=True) as admin:
        admin.execute(
            f"GRANT EXECUTE ON FUNCTION {db.schema}.fn_iu_apply_document(uuid, jsonb, jsonb) "
            "TO iucut_reader"
        )
    check = by_name(doctor(db.settings()))["function privileges"]
    assert check.status == "FAIL"
    assert "iucut_reader can execute" in str(check.evidence)
    assert "fn_iu_apply_document" in str(check.evidence)


def test_exec_may_not_execute_owner_only_functions(db: TestDatabase) -> None:
    """EXECUTE on the owner-only freeze for the execution role is a FAIL."""
    with db.connect(autocommit=True) as admin:
        admin.execute(f"GRANT EXECUTE ON FUNCTION {db.schema}.fn_iu_unfreeze() TO cutter_exec")
    evidence = str(by_name(doctor(db.settings()))["function privileges"].evidence)
    assert "cutter_exec can execute owner-only" in evidence and "fn_iu_unfreeze" in evidence


def test_exec_with_create_on_schema(db: TestDatabase) -> None:
    """CREATE on the schema for the execution role (DDL) is a FAIL."""
    with db.connect(autocommit=True) as admin:
        admin.execute(f"GRANT CREATE ON SCHEMA {db.schema} TO cutter_exec")
    check = by_name(doctor(db.settings()))["execution role"]
    assert check.status == "FAIL"
    assert f"cutter_exec has CREATE on schema {db.schema}" in str(check.evidence)


def test_definer_function_without_pinned_search_path(db: TestDatabase) -> None:
    """A SECURITY DEFINER fn_iu_* without SET search_path is a FAIL, and PUBLIC can run it."""
    with db.connect(autocommit=True) as admin:
        admin.execute(
            f"CREATE FUNCTION {db.schema}.fn_iu_unpinned() RETURNS integer "
            "LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'"
        )
    checks = by_name(doctor(db.settings()))
    assert checks["definer functions"].status == "FAIL"
    assert f"{db.schema}.fn_iu_unpinned()" in str(checks["definer functions"].evidence)
    assert checks["PUBLIC execute"].status == "FAIL"
    assert "fn_iu_unpinned" in str(checks["PUBLIC execute"].evidence)


def test_foreign_definer_function_is_a_warning(db: TestDatabase) -> None:
    """Another application's unpinned definer function in a shared schema is a WARN only."""
    with db.connect(autocommit=True) as admin:
        admin.execute(
            f"CREATE FUNCTION {db.schema}.other_app_fn() RETURNS integer "
            "LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'"
        )
    check = by_name(doctor(db.settings()))["definer functions"]
    assert check.status == "WARN"
    assert "other_app_fn" in str(check.evidence)


def test_freeze_is_reported(db: TestDatabase) -> None:
    """A frozen database is a WARN naming who froze it and why."""
    with db.connect(autocommit=True) as admin:
        admin.execute(f"SELECT {db.schema}.fn_iu_freeze('audit in progress')")
    check = by_name(doctor(db.settings()))["freeze"]
    assert check.status == "WARN"
    assert "FROZEN by postgres" in str(check.evidence)
    assert "audit in progress" in str(check.evidence)


def test_kill_switch_near_miss_is_a_warning(db: TestDatabase) -> None:
    """``IUCUT_EXECUTION=Enabled`` leaves the switch off, and doctor says why."""
    checks = by_name(doctor(db.settings(execution="Enabled", execution_source="IUCUT_EXECUTION")))
    assert checks["kill-switch"].status == "WARN"
    assert "not exactly 'enabled'" in str(checks["kill-switch"].evidence)
    on = by_name(doctor(db.settings(execution="enabled", execution_source="IUCUT_EXECUTION")))
    assert on["kill-switch"].status == "PASS"
    assert "ON" in str(on["kill-switch"].evidence)


@pytest.fixture
def bare_database(pg_server: PgServer) -> Iterator[str]:
    """An empty database on the session's server (dropped after): a DSN to it."""
    from iucut.db.target import with_database

    name = f"iucut_bare_{os.getpid()}_{secrets.token_hex(3)}"
    with pg_server.admin() as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield with_database(pg_server.dsn, name)
    finally:
        with pg_server.admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _settings(dsn: str, tmp_path: Path) -> Settings:
    return Settings(dsn=dsn, schema="iu", home=tmp_path / "home", env={})


def test_not_migrated(bare_database: str, tmp_path: Path) -> None:
    """An empty database: the schema check fails with the hint to migrate."""
    checks = by_name(doctor(_settings(bare_database, tmp_path)))
    assert checks["database"].status == "PASS"
    assert checks["schema"].status == "FAIL"
    assert "not migrated" in str(checks["schema"].evidence)
    assert checks["schema"].hint == "iucut migrate --roles"
    assert "roles" not in checks  # nothing to check privileges on


def test_roles_never_set_up(bare_database: str, tmp_path: Path) -> None:
    """Migrated without --roles: the roles check fails and says to run migrate --roles."""
    from iucut.db.connector import ConnectionProvider
    from iucut.db.target import Target
    from iucut.migrate import migrate

    with ConnectionProvider(Target(bare_database, "--dsn")).connect() as conn:
        migrate(conn, "iu")
    checks = by_name(doctor(_settings(bare_database, tmp_path)))
    assert checks["schema"].status == "PASS"
    assert checks["roles"].status == "FAIL"
    assert "never set up" in str(checks["roles"].evidence)
    assert "iucut migrate --roles" in str(checks["roles"].hint)
    assert checks["owner"].status == "FAIL"  # the superuser owns the definer functions


def test_unreachable_database_names_no_password(tmp_path: Path) -> None:
    """An unreachable target is one FAIL with its redacted address; no password anywhere."""
    password = "Very-Secret-42"
    dsn = f"postgresql://someone:{password}@127.0.0.1:1/nowhere?connect_timeout=2"
    checks = doctor(_settings(dsn, tmp_path))
    database = by_name(checks)["database"]
    assert database.status == "FAIL"
    assert "unreachable" in str(database.evidence)
    assert checks[-1] is database  # nothing after it could be checked
    report = Report("iucut doctor", tuple(checks), verdict_line("IUCUT_DOCTOR", checks))
    for fmt in FORMATS:
        assert password not in render(report, fmt)


# -- the command -----------------------------------------------------------------------


def test_cli_doctor_green(cli_env: CliEnv) -> None:
    """``iucut doctor`` prints one line per check and the verdict, exit 0."""
    proc = cli_env.run("doctor")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("PASS  package — py_compile ")
    assert any(line.startswith("PASS  table privileges — ") for line in lines)
    assert lines[-1].startswith("IUCUT_DOCTOR ") and "ALL_CHECKS_PASS" in lines[-1]


def test_cli_doctor_json_and_report(cli_env: CliEnv, tmp_path: Path) -> None:
    """``--json`` prints one JSON document; ``--report`` writes .md, .json and .html."""
    proc = cli_env.run("doctor", "--json", "--report", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is True and data["counts"]["FAIL"] == 0
    assert {p.name for p in (tmp_path / "r").iterdir()} == {
        "doctor.md",
        "doctor.json",
        "doctor.html",
    }


def test_cli_doctor_fails_with_exit_11(cli_env: CliEnv, db: TestDatabase) -> None:
    """A failing check gives exit code 11 (also with --json, which stays one document)."""
    with db.connect(autocommit=True) as admin:
        admin.execute(f"GRANT TRUNCATE ON {db.schema}.iu_run TO cutter_exec")
    proc = cli_env.run("doctor")
    assert proc.returncode == DoctorFailed.exit_code == 11
    assert f"FAIL  table privileges — cutter_exec has TRUNCATE on {db.schema}.iu_run" in (
        proc.stdout
    )
    assert "IUCUT_DOCTOR" in proc.stderr  # the error line
    proc = cli_env.run("doctor", "--json")
    assert proc.returncode == 11
    assert json.loads(proc.stdout)["ok"] is False


def test_an_apply_run_that_never_finished_is_a_warning(db: TestDatabase) -> None:
    """An apply run left 'running' for over an hour (killed) is reported, not failed."""
    assert by_name(doctor(db.settings()))["unfinished runs"].status == "PASS"
    with db.connect(autocommit=True) as conn:
        conn.execute(f"SELECT {db.schema}.fn_run_begin('apply', 'killed')")
        conn.execute(f"UPDATE {db.schema}.iu_run SET started_at = now() - interval '2 hours'")
    check = by_name(doctor(db.settings()))["unfinished runs"]
    assert check.status == "WARN"
    assert "1 apply run(s) never finished" in str(check.evidence)
