"""One manifest of tables and privileges (iucut/manifest.py): ``migrate --roles`` (the
checks closing roles.sql) and ``doctor`` both judge a database by it."""

from __future__ import annotations

import pytest

from iucut import manifest
from iucut.config import Roles
from iucut.doctor import doctor
from iucut.errors import IucutError
from iucut.migrate import migrate


@pytest.fixture
def unreadable(db, monkeypatch):
    """A table in the manifest's read tables that the roles cannot read."""
    with db.connect(autocommit=True) as admin:
        admin.execute(f"CREATE TABLE {db.schema}.extra_readable (x int)")
    monkeypatch.setattr(manifest, "READ_TABLES", (*manifest.READ_TABLES, "extra_readable"))
    return "extra_readable"


def test_migrate_roles_checks_the_manifest_read_tables(db, unreadable) -> None:
    """roles.sql's closing check refuses a setup where a role cannot read a table the
    manifest lists, naming role and table."""
    with db.connect(autocommit=True) as admin, pytest.raises(IucutError) as caught:
        migrate(admin, db.schema, roles=Roles())
    assert f"cutter_exec cannot SELECT {unreadable}" in caught.value.message


def test_doctor_checks_the_manifest_read_tables(db, unreadable) -> None:
    """doctor FAILs the table privileges on the same manifest entry."""
    checks = {c.name: c for c in doctor(db.settings())}
    check = checks["table privileges"]
    assert check.status == "FAIL"
    assert f"iucut_reader cannot SELECT {db.schema}.{unreadable}" in str(check.evidence)


def test_migrate_roles_checks_the_manifest_write_privileges(db, monkeypatch) -> None:
    """A privilege the manifest forbids that the roles hold (SELECT, forbidden here for
    the test) is refused by roles.sql's closing check, naming it."""
    monkeypatch.setattr(manifest, "WRITE_PRIVILEGES", (*manifest.WRITE_PRIVILEGES, "SELECT"))
    with db.connect(autocommit=True) as admin, pytest.raises(IucutError) as caught:
        migrate(admin, db.schema, roles=Roles())
    assert "has SELECT on" in caught.value.message
