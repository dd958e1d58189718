"""`iucut migrate --distributed` without Citus: a clear error, nothing laid out.

(On a Citus cluster: tests/citus, `make test-citus`.)"""

from __future__ import annotations

import json


def test_migrate_distributed_without_citus_is_a_clear_error(cli_env, db):
    """No citus extension: exit 36, the message says what is missing and what to do, and
    the schema stays as it was (no half layout)."""
    result = cli_env.run("migrate", "--distributed")
    assert result.returncode == 36, result.stderr
    assert "no citus extension" in result.stderr
    assert "Citus coordinator" in result.stderr
    assert "without --distributed" in result.stderr
    with db.connect() as conn:
        columns = conn.execute(
            "SELECT count(*) FROM pg_catalog.pg_attribute "
            "WHERE attrelid = %(t)s::regclass AND attname = 'doc_path'",
            {"t": f"{db.schema}.iu_lifecycle_log"},
        ).scalar()
    assert columns == 0
    again = cli_env.run("migrate", "--distributed", "--json")
    assert again.returncode == 36
    assert json.loads(again.stdout or again.stderr)["exit_code"] == 36


def test_migrate_help_names_distributed(cli_offline):
    result = cli_offline.run("migrate", "--help")
    assert result.returncode == 0
    assert "--distributed" in result.stdout and "Citus" in result.stdout
