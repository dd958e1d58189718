"""Shared fixtures: a real PostgreSQL, a fresh migrated database per test, the installed CLI.

The server is the one named by ``IUCUT_TEST_DSN`` (a superuser connection), else an
embedded server in a temporary iucut home, started once per session. A database test
never skips: no server is a failure. A template database is migrated once per session
with ``--roles`` (roles are cluster-wide: created once); each test that asks for ``db``
gets its own copy, dropped afterwards. Tests that use none of these fixtures start
nothing.

    def test_exec_can_read(db):
        with db.connect(role="cutter_exec") as conn:
            assert conn.execute(f"SELECT count(*) AS n FROM {db.schema}.iu_run").scalar() == 0
        db.settings(execution="enabled")   # a Settings pointing at this database
        db.dsn_as("iucut_reader")          # a DSN for another role
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from iucut.config import Roles, Settings
from iucut.db.connector import Connection, ConnectionProvider
from iucut.db.embedded import EmbeddedServer
from iucut.db.target import Target, redact, with_database, with_user
from iucut.errors import IucutError

# In CI (CI=true) the property tests draw the same examples every run: a run on a clean
# clone passes or fails by the code, not by the draw. Elsewhere they explore afresh each
# run (what found this session's oracle cases), and what they find is kept in .hypothesis.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    hypothesis_settings.load_profile("ci")

TEST_SCHEMA = "iu"
DB_FIXTURES = {"pg_server", "pg_template", "db", "cli_env", "empty_db"}


@dataclass
class PgServer:
    """The session's PostgreSQL server: an admin (superuser) DSN and where it came from."""

    dsn: str
    embedded: bool
    home: Path | None = None

    def admin(self, dbname: str | None = None) -> Connection:
        """An autocommit superuser connection (to ``dbname``, default the DSN's)."""
        dsn = with_database(self.dsn, dbname) if dbname else self.dsn
        return ConnectionProvider(Target(dsn, "--dsn")).connect(autocommit=True)


@dataclass
class TestDatabase:
    """One test's own database, migrated with roles, on the session's server."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    name: str
    dsn: str
    schema: str
    home: Path
    roles: Roles = field(default_factory=Roles)
    _open: list[Connection] = field(default_factory=list)

    def dsn_as(self, role: str) -> str:
        """The DSN of this database for another role (trust auth in tests)."""
        return with_user(self.dsn, role)

    def settings(self, **overrides: Any) -> Settings:
        """Settings pointing at this database (schema, a temporary home, no environment)."""
        values: dict[str, Any] = {
            "dsn": self.dsn,
            "schema": self.schema,
            "home": self.home,
            "env": {},
            "roles": self.roles,
        }
        values.update(overrides)
        return Settings(**values)

    def provider(self, driver: str = "psycopg", role: str | None = None) -> ConnectionProvider:
        """A connection provider for this database (as ``role`` if given)."""
        dsn = self.dsn_as(role) if role else self.dsn
        return ConnectionProvider(Target(dsn, "--dsn"), driver, schema=self.schema)

    def connect(
        self, role: str | None = None, driver: str = "psycopg", autocommit: bool = False
    ) -> Connection:
        """A connection (closed after the test) as the admin or as ``role``."""
        conn = self.provider(driver, role).connect(autocommit=autocommit)
        self._open.append(conn)
        return conn

    def close_all(self) -> None:
        for conn in self._open:
            if not conn.closed:
                conn.close()
        self._open.clear()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    """The PostgreSQL server of the session: IUCUT_TEST_DSN, else an embedded one."""
    dsn = os.environ.get("IUCUT_TEST_DSN")
    if dsn:
        server = PgServer(dsn, embedded=False)
        try:
            server.admin().close()
        except IucutError as exc:
            pytest.fail(f"IUCUT_TEST_DSN ({redact(dsn)}) is unreachable: {exc}", pytrace=False)
        yield server
        return
    home = tmp_path_factory.mktemp("iucut-home")
    embedded = EmbeddedServer(home)
    try:
        embedded.start()
    except IucutError as exc:
        pytest.fail(f"cannot start the embedded PostgreSQL server: {exc}", pytrace=False)
    try:
        yield PgServer(embedded.url("postgres"), embedded=True, home=home)
    finally:
        embedded.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> Iterator[str]:
    """A template database migrated once per session with roles; yields its name."""
    from iucut.migrate import migrate

    name = f"iucut_tpl_{os.getpid()}_{secrets.token_hex(3)}"
    with pg_server.admin() as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with pg_server.admin(name) as conn:
            migrate(conn, TEST_SCHEMA, roles=Roles())
        yield name
    finally:
        with pg_server.admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db(pg_server: PgServer, pg_template: str, tmp_path: Path) -> Iterator[TestDatabase]:
    """A fresh database for this test, a copy of the migrated template (dropped after)."""
    name = f"iucut_t_{os.getpid()}_{secrets.token_hex(4)}"
    with pg_server.admin() as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    database = TestDatabase(
        name=name,
        dsn=with_database(pg_server.dsn, name),
        schema=TEST_SCHEMA,
        home=tmp_path / "iucut-home",
    )
    try:
        yield database
    finally:
        database.close_all()
        with pg_server.admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["psycopg", "psycopg2"])
def driver(request: pytest.FixtureRequest) -> str:
    """Each database driver in turn: psycopg 3, and psycopg2 through the shim."""
    return str(request.param)


def iucut_command() -> list[str]:
    """The installed ``iucut`` command of this environment."""
    script = Path(sys.executable).with_name("iucut")
    return [str(script)] if script.exists() else [sys.executable, "-m", "iucut"]


@pytest.fixture
def empty_db(pg_server: PgServer) -> Iterator[str]:
    """A new, empty database on the tests' server (not migrated): its DSN, as the admin;
    dropped after."""
    name = f"iucut_t_empty_{os.getpid()}_{secrets.token_hex(4)}"
    with pg_server.admin() as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield with_database(pg_server.dsn, name)
    finally:
        with pg_server.admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def migrations_up_to(version: int, tmp_path: Path) -> Path:
    """A folder holding the package's migrations up to ``version``, as they are (to
    migrate a database as an older iucut left it: ``migrate(..., directory=)``)."""
    from importlib import resources

    from iucut.migrate import load_migrations

    folder = tmp_path / f"upto{version}"
    folder.mkdir()
    package = resources.files("iucut") / "sql" / "migrations"
    for m in load_migrations():
        if m.version <= version:
            (folder / m.filename).write_bytes((package / m.filename).read_bytes())
    return folder


def state_digest(conn: Connection, schema: str) -> dict[str, Any]:
    """What the units of ``schema`` say, blind to ids, run ids and timestamps: equal for
    databases brought to the same sources by whatever path (the named query
    ``state_digest``). Reads outside any transaction of the caller's."""
    from iucut.db.queries import Ident

    conn.rollback()
    row = conn.query("state_digest", schema=Ident(schema)).fetchone()
    conn.rollback()
    assert row is not None
    return dict(row)


@dataclass
class CliEnv:
    """An environment to run the installed ``iucut`` in, and a runner for it."""

    env: dict[str, str]
    home: Path

    def run(
        self,
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``iucut ARGS`` (never raises on a non-zero exit; check ``returncode``)."""
        return subprocess.run(
            [*iucut_command(), *args],
            input=input,
            text=True,
            capture_output=True,
            env={**self.env, **(env or {})},
            timeout=timeout,
            check=False,
        )


def clean_environment(home: Path) -> dict[str, str]:
    """The process environment without IUCUT_*, DATABASE_URL and PG* variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("IUCUT_", "PG")) or k == "DATABASE_URL")
    }
    env["IUCUT_HOME"] = str(home)
    return env


@pytest.fixture
def cli_env(db: TestDatabase, tmp_path: Path) -> CliEnv:
    """Run the installed ``iucut`` against this test's database (kill-switch unset)."""
    home = tmp_path / "cli-home"
    env = clean_environment(home)
    env.update(IUCUT_DSN=db.dsn, IUCUT_SCHEMA=db.schema)
    return CliEnv(env=env, home=home)


@pytest.fixture
def cli_offline(tmp_path: Path) -> CliEnv:
    """Run the installed ``iucut`` with no database configured (a command that needs one
    would start an embedded server in a temporary home)."""
    home = tmp_path / "cli-home"
    return CliEnv(env=clean_environment(home), home=home)


def pytest_configure(config: pytest.Config) -> None:
    """Give the session a base temp dir of its own (unless --basetemp is given).

    pytest's default numbered dirs are pruned by *other* concurrent sessions of the same
    user (it keeps the last three), which removed a running embedded server's data dir
    under our feet on a shared machine.
    """
    if not config.option.basetemp:
        config.option.basetemp = tempfile.mkdtemp(prefix="iucut-pytest-")
        config.add_cleanup(lambda: shutil.rmtree(config.option.basetemp, ignore_errors=True))


CITUS_DIR = Path(__file__).resolve().parent / "citus"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The ``citus`` tests' folder is not even collected unless a ``-m`` expression names
    them: its conftest (the cluster fixture) would otherwise shadow this one for the test
    modules that import ``conftest``."""
    if "citus" in (config.option.markexpr or ""):
        return None
    path = collection_path.resolve()
    return True if path == CITUS_DIR or CITUS_DIR in path.parents else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses a database fixture ``db`` (and CLI runners ``cli``).

    The tests marked ``citus`` run only when a ``-m`` expression names them (``make
    test-citus``): the default run needs no Citus. Selected, they fail without it."""
    if "citus" not in (config.option.markexpr or ""):
        kept = [i for i in items if i.get_closest_marker("citus") is None]
        if len(kept) != len(items):
            config.hook.pytest_deselected(items=[i for i in items if i not in kept])
            items[:] = kept
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & DB_FIXTURES:
            item.add_marker(pytest.mark.db)
        if names & {"cli_env", "cli_offline"}:
            item.add_marker(pytest.mark.cli)
