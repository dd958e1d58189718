"""A local Citus cluster for the tests marked ``citus``: a coordinator and two workers.

Three PostgreSQL 15 servers (the system's ``/usr/lib/postgresql/15/bin``) in a temporary
directory, on free ports, with ``shared_preload_libraries = citus``, trust authentication
on 127.0.0.1 and ``max_prepared_transactions`` for Citus's two-phase commit; the workers
are added to the coordinator with ``citus_add_node``. Started once per session, stopped
and removed afterwards. The tests run only when selected (``make test-citus``, i.e.
``pytest -m citus tests/citus``); a selected test on a machine without Citus FAILS, with
what to run, it is never skipped.

Each test gets a schema of its own in the session's database (``citus_db``): Citus
propagates schemas and roles to the workers, a fresh database would need the extension
and the nodes set up again on three servers.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from iucut.config import Roles, Settings
from iucut.db.connector import Connection, ConnectionProvider
from iucut.db.target import Target

PG_BIN = Path(os.environ.get("IUCUT_CITUS_PG_BIN", "/usr/lib/postgresql/15/bin"))
CITUS_SO = PG_BIN.parent / "lib" / "citus.so"
DATABASE = "iucut"
BUILD = "bash ../shared/vendor/citus/build.sh"
#: PostgreSQL refuses to run as root: the servers then run as this OS user.
OS_USER = os.environ.get("IUCUT_CITUS_OS_USER", "postgres") if os.geteuid() == 0 else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    name: str
    port: int
    data: Path

    def dsn(self, user: str = "postgres", dbname: str = DATABASE) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"


@dataclass
class CitusCluster:
    """The session's cluster: the coordinator and the workers."""

    coordinator: Node
    workers: list[Node]
    root: Path

    def connect(self, node: Node | None = None, *, user: str = "postgres") -> Connection:
        """An autocommit connection to ``node`` (default the coordinator)."""
        target = Target((node or self.coordinator).dsn(user), "--dsn")
        return ConnectionProvider(target).connect(autocommit=True)

    def pg_ctl(self, node: Node, *args: str) -> None:
        _run([str(PG_BIN / "pg_ctl"), "-D", str(node.data), "-s", *args])


def _run(command: list[str], timeout: float = 300) -> None:
    """Run a server program (as OS_USER when we are root); its output in the failure."""
    env = {**os.environ, "HOME": str(Path(command[2]).parent)}  # not root's ~/.postgresql
    env = {k: v for k, v in env.items() if not k.startswith("PG")}
    done = subprocess.run(
        command, user=OS_USER, env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr or done.stdout}")


@dataclass
class CitusDatabase:
    """One test's schema in the cluster's database (a fresh name per test)."""

    __test__ = False

    cluster: CitusCluster
    schema: str
    home: Path
    roles: Roles = field(default_factory=Roles)
    _open: list[Connection] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return self.cluster.coordinator.dsn()

    def dsn_as(self, role: str, node: Node | None = None) -> str:
        return (node or self.cluster.coordinator).dsn(role)

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "dsn": self.dsn,
            "schema": self.schema,
            "home": self.home,
            "env": {},
            "roles": self.roles,
        }
        values.update(overrides)
        return Settings(**values)

    def provider(self, role: str | None = None, node: Node | None = None) -> ConnectionProvider:
        dsn = self.dsn_as(role or "postgres", node)
        return ConnectionProvider(Target(dsn, "--dsn"), schema=self.schema)

    def connect(
        self, role: str | None = None, *, node: Node | None = None, autocommit: bool = False
    ) -> Connection:
        conn = self.provider(role, node).connect(autocommit=autocommit)
        self._open.append(conn)
        return conn

    def close_all(self) -> None:
        for conn in self._open:
            if not conn.closed:
                conn.close()
        self._open.clear()


def _initdb(node: Node, log: Path) -> None:
    _run(
        [str(PG_BIN / "initdb"), "-D", str(node.data), "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
    )  # fmt: skip
    settings = {
        "port": str(node.port),
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{node.data}'",
        "shared_preload_libraries": "'citus'",
        "max_prepared_transactions": "100",  # Citus's two-phase commit
        "max_connections": "100",
        "shared_buffers": "32MB",
        "fsync": "off",  # test data; kill -9 is still a crash of the server process
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "citus.shard_count": "8",
        "citus.node_conninfo": "'sslmode=disable'",  # the nodes talk over 127.0.0.1
        "logging_collector": "off",
        "log_min_messages": "warning",
    }
    with (node.data / "postgresql.conf").open("a") as conf:
        conf.write("\n# iucut citus test cluster\n")
        for key, value in settings.items():
            conf.write(f"{key} = {value}\n")


def _start(cluster: CitusCluster, node: Node) -> None:
    log = cluster.root / f"{node.name}.log"
    cluster.pg_ctl(node, "-l", str(log), "-w", "-t", "120", "start")


@pytest.fixture(scope="session")
def citus_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CitusCluster]:
    """Three PostgreSQL 15 servers with Citus: a coordinator and two workers."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"no PostgreSQL 15 server binaries in {PG_BIN}", pytrace=False)
    if not CITUS_SO.exists():
        pytest.fail(
            f"Citus is not installed ({CITUS_SO} is missing): build it once with `{BUILD}` "
            "(about 10 minutes) and run `make test-citus` again",
            pytrace=False,
        )
    root = Path(tempfile.mkdtemp(prefix="iucut-citus-"))
    if OS_USER is not None:
        shutil.chown(root, OS_USER)
    nodes = [
        Node(name, _free_port(), root / name) for name in ("coordinator", "worker1", "worker2")
    ]
    cluster = CitusCluster(nodes[0], nodes[1:], root)
    started: list[Node] = []
    try:
        for node in nodes:
            _initdb(node, root)
            _start(cluster, node)
            started.append(node)
        for node in nodes:
            with ConnectionProvider(Target(node.dsn(dbname="postgres"), "--dsn")).connect(
                autocommit=True
            ) as conn:
                conn.execute(f"CREATE DATABASE {DATABASE}")
            with cluster.connect(node) as conn:
                conn.execute("CREATE EXTENSION citus")
        with cluster.connect() as conn:
            conn.execute(
                "SELECT citus_set_coordinator_host('127.0.0.1', %(port)s)",
                {"port": cluster.coordinator.port},
            )
            for worker in cluster.workers:
                conn.execute("SELECT citus_add_node('127.0.0.1', %(port)s)", {"port": worker.port})
        yield cluster
    finally:
        for node in reversed(started):
            with contextlib.suppress(subprocess.SubprocessError, OSError, RuntimeError):
                cluster.pg_ctl(node, "-m", "immediate", "stop")
        if os.environ.get("IUCUT_CITUS_KEEP"):
            print(f"citus cluster kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def citus_db(citus_cluster: CitusCluster, tmp_path: Path) -> Iterator[CitusDatabase]:
    """A schema of its own for this test in the cluster's database (dropped after)."""
    schema = f"iu_{secrets.token_hex(4)}"
    database = CitusDatabase(citus_cluster, schema, tmp_path / "iucut-home")
    try:
        yield database
    finally:
        database.close_all()
        with citus_cluster.connect() as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    """Poll ``predicate()`` until it is true (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.05)
