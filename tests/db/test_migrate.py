"""Migrations: fresh apply, no-op re-run, tampering refused, newer database, concurrency."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from iucut.config import Roles
from iucut.db.connector import Connection, ConnectionProvider
from iucut.db.target import Target, with_database
from iucut.errors import MigrationError
from iucut.migrate import load_migrations, migrate, owner_only_functions, status

pytestmark = pytest.mark.db
SCHEMA = "iu"


class EmptyDatabase:
    """A new, empty database on the session's server."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        self._open: list[Connection] = []

    def connect(self, user: str | None = None) -> Connection:
        conn = ConnectionProvider(Target(self.dsn, "--dsn")).connect(user=user)
        self._open.append(conn)
        return conn


@pytest.fixture
def empty(pg_server) -> Iterator[EmptyDatabase]:
    """An empty database (no iucut schema), dropped after the test."""
    name = f"iucut_m_{secrets.token_hex(4)}"
    with pg_server.admin() as admin:
        admin.execute(f"CREATE DATABASE {name}")
    database = EmptyDatabase(with_database(pg_server.dsn, name))
    try:
        yield database
    finally:
        for conn in database._open:
            conn.close()
        with pg_server.admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """A copy of the package's migrations, to edit or extend."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    for entry in (resources.files("iucut") / "sql" / "migrations").iterdir():
        if entry.name.endswith(".sql"):
            (folder / entry.name).write_bytes(entry.read_bytes())
    return folder


def latest(folder: Path) -> int:
    return max(int(p.name[:4]) for p in folder.glob("*.sql"))


def add(folder: Path, name: str, sql: str) -> str:
    filename = f"{latest(folder) + 1:04d}_{name}.sql"
    (folder / filename).write_text(sql)
    return filename


def test_fresh_apply_then_no_op(empty):
    """A fresh database gets every migration recorded; the second run changes nothing."""
    conn = empty.connect()
    known = load_migrations()
    first = migrate(conn, SCHEMA)
    assert first.applied == tuple(m.filename for m in known)
    assert first.current_version == known[-1].version
    rows = conn.execute(f"SELECT version, checksum FROM {SCHEMA}.iucut_migration").fetchall()
    assert {(r["version"], r["checksum"]) for r in rows} == {(m.version, m.checksum) for m in known}
    conn.rollback()
    second = migrate(conn, SCHEMA)
    assert second.up_to_date and second.applied == ()
    assert second.already_applied == len(known)
    assert conn.execute(f"SELECT count(*) AS n FROM {SCHEMA}.iucut_migration").scalar() == len(
        known
    )


def test_schema_is_created_and_marked_as_ours(empty):
    """A missing schema is created and marked as iucut's own."""
    conn = empty.connect()
    migrate(conn, "iucut_fresh")
    comment = conn.execute(
        "SELECT obj_description('iucut_fresh'::regnamespace, 'pg_namespace') AS c"
    ).scalar()
    assert comment.startswith("iucut:")


def test_status_before_and_after(empty):
    """status() lists pending migrations, then reports the schema current; it writes nothing."""
    conn = empty.connect()
    before = status(conn, SCHEMA)
    assert before.current_version is None and not before.current
    assert before.pending == tuple(m.filename for m in load_migrations())
    assert conn.execute("SELECT to_regnamespace('iu') IS NULL AS absent").scalar()
    conn.rollback()
    migrate(conn, SCHEMA)
    after = status(conn, SCHEMA)
    assert after.current and after.pending == () and after.current_version == after.latest_version


def test_changed_migration_is_refused(empty, migrations):
    """An applied migration whose file changed stops migrate, naming it and both checksums."""
    conn = empty.connect()
    extra = add(migrations, "extra", "CREATE TABLE @schema@.extra (x int);\n")
    migrate(conn, SCHEMA, directory=migrations)
    old = {m.filename: m.checksum for m in load_migrations(migrations)}[extra]
    (migrations / extra).write_text("CREATE TABLE @schema@.extra (x bigint);\n")
    new = {m.filename: m.checksum for m in load_migrations(migrations)}[extra]
    with pytest.raises(MigrationError) as info:
        migrate(conn, SCHEMA, directory=migrations)
    assert extra in str(info.value) and old in str(info.value) and new in str(info.value)
    assert info.value.exit_code == 9
    assert status(conn, SCHEMA, directory=migrations).changed == (extra,)


def test_newer_database_is_refused(empty, migrations):
    """A database with a migration this package does not know is an error, not a downgrade."""
    conn = empty.connect()
    extra = add(migrations, "future", "CREATE TABLE @schema@.future (x int);\n")
    migrate(conn, SCHEMA, directory=migrations)
    (migrations / extra).unlink()
    with pytest.raises(MigrationError, match="newer"):
        migrate(conn, SCHEMA, directory=migrations)


def test_each_migration_is_atomic_with_its_record(empty, migrations):
    """A failing migration leaves no trace and no record; earlier ones stay applied."""
    conn = empty.connect()
    ok = add(migrations, "ok", "CREATE TABLE @schema@.ok_table (x int);\n")
    bad = add(migrations, "bad", "CREATE TABLE @schema@.half (x int);\nSELECT no_such_fn();\n")
    with pytest.raises(Exception, match="no_such_fn"):
        migrate(conn, SCHEMA, directory=migrations)
    applied = [r["name"] for r in conn.execute(f"SELECT name FROM {SCHEMA}.iucut_migration")]
    assert ok[5:-4] in applied and bad[5:-4] not in applied
    assert conn.execute(f"SELECT to_regclass('{SCHEMA}.half') IS NULL AS gone").scalar()


def test_percent_in_migration_is_literal(empty, migrations):
    """Migration files run without parameters: % in RAISE and strings is safe."""
    conn = empty.connect()
    add(
        migrations,
        "percent",
        "CREATE TABLE @schema@.pct AS SELECT '100%' AS v;\n"
        "DO $$ BEGIN RAISE NOTICE 'done %', 1; END $$;\n",
    )
    migrate(conn, SCHEMA, directory=migrations)
    assert conn.execute(f"SELECT v FROM {SCHEMA}.pct").scalar() == "100%"


def test_concurrent_migrate(empty, migrations):
    """Two migrate runs at once: one applies, the other waits and finds nothing to do."""
    add(migrations, "slow", "SELECT pg_sleep(1);\nCREATE TABLE @schema@.slow (x int);\n")
    results, errors = [], []

    def run() -> None:
        try:
            conn = empty.connect()
            results.append(migrate(conn, SCHEMA, directory=migrations))
        except Exception as exc:  # collected: a thread cannot fail the test directly
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    total = len(load_migrations(migrations))
    assert sorted(len(r.applied) for r in results)[1] > 0
    assert sum(len(r.applied) for r in results) == total
    conn = empty.connect()
    assert conn.execute(f"SELECT count(*) AS n FROM {SCHEMA}.iucut_migration").scalar() == total


def test_later_migrations_run_as_the_owner(empty, migrations):
    """After --roles, a new migration's objects belong to the owner; PUBLIC cannot execute."""
    conn = empty.connect()
    migrate(conn, SCHEMA, roles=Roles(), directory=migrations)
    add(
        migrations,
        "later",
        "CREATE TABLE @schema@.later (x int);\n"
        "CREATE FUNCTION @schema@.fn_iu_later() RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
    )
    result = migrate(conn, SCHEMA, directory=migrations)
    assert any("--roles" in note for note in result.notes)
    owners = conn.execute(
        "SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE oid = 'iu.later'::regclass"
    ).scalar()
    assert owners == "iucut_owner"
    fn = "'iu.fn_iu_later()'::regprocedure"
    row = conn.execute(
        f"SELECT pg_get_userbyid(proowner) AS o, has_function_privilege('public', {fn}, "
        f"'EXECUTE') AS pub FROM pg_proc WHERE oid = {fn}"
    ).fetchone()
    assert row == {"o": "iucut_owner", "pub": False}


def test_shared_schema_objects_are_left_alone(empty):
    """In a shared schema (public) --roles touches only iucut's objects, not the others."""
    conn = empty.connect()
    conn.executescript("CREATE TABLE public.directus_users (id int)")
    conn.commit()
    migrate(conn, "public", roles=Roles())
    row = conn.execute(
        "SELECT pg_get_userbyid(relowner) AS owner, "
        "has_table_privilege('cutter_exec', 'public.directus_users', 'SELECT') AS exec_reads, "
        "has_table_privilege('cutter_exec', 'public.information_unit', 'SELECT') AS exec_iu "
        "FROM pg_class WHERE oid = 'public.directus_users'::regclass"
    ).fetchone()
    assert row == {"owner": "postgres", "exec_reads": False, "exec_iu": True}


def test_bad_migration_file_names_are_refused(tmp_path):
    """Migration files must be named NNNN_name.sql, each version once."""
    (tmp_path / "1_init.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        load_migrations(tmp_path)
    (tmp_path / "1_init.sql").unlink()
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="twice"):
        load_migrations(tmp_path)


def test_owner_only_markers(tmp_path):
    """Functions under a '-- owner-only' or '-- internal' comment are found by name."""
    (tmp_path / "0001_a.sql").write_text(
        "-- owner-only\nCREATE FUNCTION @schema@.fn_iu_freeze() RETURNS int AS 'x';\n\n"
        "-- a helper\n-- internal\nCREATE OR REPLACE FUNCTION @schema@.fn_iu_help() RETURNS int;\n"
        "\n-- public\nCREATE FUNCTION @schema@.fn_iu_create() RETURNS int AS 'x';\n"
    )
    assert owner_only_functions(load_migrations(tmp_path)) == ["fn_iu_freeze", "fn_iu_help"]


def test_package_marks_freeze_owner_only():
    """The shipped migrations mark fn_iu_freeze and fn_iu_unfreeze owner-only."""
    marked = owner_only_functions(load_migrations())
    assert {"fn_iu_freeze", "fn_iu_unfreeze"} <= set(marked)


def test_open_transaction_is_refused(empty):
    """migrate refuses a connection inside a transaction (its work would stay uncommitted)."""
    conn = empty.connect()
    conn.execute("SELECT 1")
    assert conn.in_transaction
    with pytest.raises(MigrationError, match="outside any transaction"):
        migrate(conn, SCHEMA)


def test_harden_needs_roles(empty):
    """--harden without --roles is refused before anything runs."""
    with pytest.raises(MigrationError, match="--roles"):
        migrate(empty.connect(), SCHEMA, harden=True)


def test_migrations_are_package_data():
    """The package's migration files are found through importlib.resources."""
    known = load_migrations()
    assert known and known[0].version == 1 and len(known[0].checksum) == 64
