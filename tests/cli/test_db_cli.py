"""The database commands as a user runs them: db, migrate, freeze/unfreeze, status."""

from __future__ import annotations

import json
import subprocess

import pytest

from iucut.db.embedded import client_path
from iucut.migrate import load_migrations

LATEST = load_migrations()[-1].version

SECRET = "Cli-s3cret-PW"
COMMANDS = [
    ["db"],
    ["db", "start"],
    ["db", "stop"],
    ["db", "status"],
    ["db", "url"],
    ["migrate"],
    ["freeze"],
    ["unfreeze"],
    ["status"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(cli_offline, command):
    """Each database command answers --help without touching any database."""
    result = cli_offline.run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert not (cli_offline.home / "pg").exists()


def test_fresh_home_migrate_twice_then_psql_and_stop(cli_offline):
    """A fresh machine: migrate starts the embedded server, the second run is a no-op."""
    first = cli_offline.run("migrate")
    assert first.returncode == 0, first.stderr
    assert "applied  0001_initial.sql" in first.stdout
    assert "embedded PostgreSQL" in first.stderr and str(cli_offline.home) in first.stderr
    try:
        second = cli_offline.run("migrate", "--json")
        assert second.returncode == 0, second.stderr
        assert json.loads(second.stdout)["up_to_date"] is True
        url = cli_offline.run("db", "url").stdout.strip()
        out = subprocess.run(
            [str(client_path()), url, "-XAtc", "SELECT max(version) FROM public.iucut_migration"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert out.stdout.strip() == str(LATEST)
        status = json.loads(cli_offline.run("db", "status", "--json").stdout)
        assert status["running"] is True
    finally:
        stop = cli_offline.run("db", "stop")
    assert stop.returncode == 0 and stop.stdout.strip() == "stopped"
    assert json.loads(cli_offline.run("db", "status", "--json").stdout)["running"] is False


def test_status_does_not_start_the_embedded_server(cli_offline):
    """status shows the kill-switch and says the embedded server is not running."""
    result = cli_offline.run("status", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["target"]["source"] == "embedded"
    assert data["execution"] == {"enabled": False, "setting": None, "source": "default"}
    assert data["database"]["reachable"] is None
    assert not (cli_offline.home / "pg" / "postmaster.pid").exists()


def test_migrate_roles_json(cli_env):
    """migrate --roles --json on a migrated database: up to date, roles applied, twice."""
    for _ in range(2):
        result = cli_env.run("migrate", "--roles", "--json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert (data["up_to_date"], data["roles"], data["current_version"]) == (True, True, LATEST)


def test_harden_needs_roles(cli_env):
    """--harden alone is a usage error."""
    result = cli_env.run("migrate", "--harden")
    assert result.returncode == 64
    assert "--roles" in result.stderr


def test_freeze_status_unfreeze(cli_env, db):
    """freeze stops cutters at the database (exec's fn_run_begin is refused); unfreeze lifts it."""
    from iucut.errors import Frozen

    frozen = cli_env.run("freeze", "--reason", "audit")
    assert frozen.returncode == 0, frozen.stderr
    status = json.loads(cli_env.run("status", "--json").stdout)
    assert status["database"]["freeze"]["frozen"] is True
    assert status["database"]["freeze"]["reason"] == "audit"
    assert "FROZEN" in cli_env.run("status").stdout
    conn = db.connect(role=db.roles.exec)
    with pytest.raises(Frozen):
        conn.execute(f"SELECT {db.schema}.fn_run_begin('apply')")
    conn.rollback()
    lifted = cli_env.run("unfreeze", "--json")
    assert lifted.returncode == 0 and json.loads(lifted.stdout)["frozen"] is False
    assert conn.execute(f"SELECT {db.schema}.fn_run_begin('apply') AS r").scalar()


def test_exec_cannot_freeze(cli_env, db):
    """freeze as cutter_exec is refused (exit 8) with a hint naming the owner role."""
    result = cli_env.run("freeze", env={"IUCUT_DSN": db.dsn_as(db.roles.exec)})
    assert result.returncode == 8
    assert "permission denied" in result.stderr and db.roles.owner in result.stderr


def test_status_shows_switch_and_schema(cli_env):
    """status reports the kill-switch and where it was set, the driver and schema version."""
    result = cli_env.run(
        "status", "--json", env={"IUCUT_EXECUTION": "enabled", "IUCUT_DRIVER": "psycopg2"}
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["execution"] == {"enabled": True, "setting": "enabled", "source": "IUCUT_EXECUTION"}
    assert data["driver"] == "psycopg2"
    assert data["database"]["schema"]["current"] is True
    typo = cli_env.run("status", env={"IUCUT_EXECUTION": "enable"})
    assert "kill-switch:  off" in typo.stdout and "'enable'" in typo.stdout


def test_unreachable_status_shows_switch_without_password(cli_offline):
    """An unreachable database: status still shows the switch, exits 8, never the password."""
    dsn = f"postgresql://alice:{SECRET}@127.0.0.1:1/prod"
    for args in (("status",), ("status", "--json")):
        result = cli_offline.run("--dsn", dsn, *args)
        assert result.returncode == 8
        assert "kill-switch" in result.stdout or '"execution"' in result.stdout
        assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize("command", [["migrate"], ["freeze"], ["migrate", "--json"]])
def test_connection_errors_never_show_the_password(cli_offline, command):
    """Commands that cannot connect exit 8 and print no password, text or JSON."""
    env = {"IUCUT_DSN": f"postgresql://alice:{SECRET}@127.0.0.1:1/prod"}
    result = cli_offline.run(*command, env=env)
    assert result.returncode == 8
    assert SECRET not in result.stdout + result.stderr
    assert "127.0.0.1" in result.stdout + result.stderr
