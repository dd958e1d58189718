"""The embedded server: first start, reuse, stop, url for psql, stale pid file, races."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from iucut.config import Settings
from iucut.db.connector import open_provider
from iucut.db.embedded import EmbeddedServer, client_path
from iucut.errors import ConnectionFailed

pytestmark = pytest.mark.db


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """An embedded server in a fresh home, stopped after the test."""
    notes: list[str] = []
    embedded = EmbeddedServer(tmp_path / "home", notify=notes.append)
    embedded.notes = notes  # type: ignore[attr-defined]
    try:
        yield embedded
    finally:
        embedded.stop()


def psql(url: str, sql: str) -> str:
    out = subprocess.run(
        [str(client_path("psql")), url, "-XAtc", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip()


def test_first_start_creates_iucut_database(server):
    """The first start initializes the cluster, creates database iucut and says where."""
    assert not server.status().initialized
    status = server.start()
    assert status.running and status.initialized and status.pid
    assert Path(status.pgdata) == server.pgdata
    assert psql(server.url(), "SELECT current_database()") == "iucut"
    assert any(str(server.pgdata) in note for note in server.notes)


def test_url_works_with_psql_for_any_database(server):
    """url(database=...) is a URI psql accepts (socket dir as host)."""
    server.start()
    assert psql(server.url("postgres"), "SELECT current_database()") == "postgres"
    assert "host=" in server.url()


def test_second_start_reuses_the_running_server(server):
    """A later start (another command) reuses the running server: same pid, no new notes."""
    first = server.start()
    count = len(server.notes)
    again = EmbeddedServer(server.home).start()
    assert again.pid == first.pid
    assert len(server.notes) == count


def test_stop_and_restart_keep_the_data(server):
    """stop() stops the server (False when already stopped); data survives a restart."""
    server.start()
    psql(server.url(), "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
    assert server.stop() is True
    assert not server.status().running
    assert server.stop() is False
    server.start()
    assert psql(server.url(), "SELECT x FROM kept") == "7"


def test_stale_pid_file_is_removed(server):
    """A postmaster.pid naming a live non-postgres process (pid reuse) does not block a start."""
    server.start()
    server.stop()
    (server.pgdata / "postmaster.pid").write_text(f"{os.getpid()}\n{server.pgdata}\n")
    assert not server.status().running
    status = server.start()
    assert status.running and status.pid != os.getpid()
    assert any("stale" in note for note in server.notes)


def test_a_standalone_backends_pid_file_is_neither_a_server_nor_stale(server):
    """initdb's bootstrap and single-user mode write postmaster.pid with the pid negated:
    another process looking meanwhile (a concurrent first start) must not take it for a
    server nor crash on it (psutil refused the negative pid), and a start must not remove
    the file of a live standalone backend."""
    server.start()
    server.stop()
    pidfile = server.pgdata / "postmaster.pid"
    pidfile.write_text(f"-{os.getpid()}\n{server.pgdata}\n")
    assert not server.status().running
    with pytest.raises(ConnectionFailed, match="standalone PostgreSQL backend"):
        server.start()
    assert pidfile.exists()
    pidfile.unlink()
    assert server.start().running


def test_concurrent_first_start(tmp_path):
    """Two processes starting the same fresh home both succeed, with one server."""
    home = tmp_path / "home"
    code = (
        "import sys; from pathlib import Path; from iucut.db.embedded import EmbeddedServer; "
        "print(EmbeddedServer(Path(sys.argv[1])).start().pid)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        results = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], results
        pids = {out.strip() for out, _ in results}
        assert len(pids) == 1
        assert (
            psql(
                EmbeddedServer(home).url(),
                "SELECT count(*) FROM pg_database WHERE datname = 'iucut'",
            )
            == "1"
        )
    finally:
        EmbeddedServer(home).stop()


def test_unusable_home_is_a_clear_error(tmp_path):
    """A home that cannot be created gives ConnectionFailed naming it, with a hint."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConnectionFailed) as info:
        EmbeddedServer(blocker / "home").start()
    assert str(blocker / "home") in str(info.value)
    assert "IUCUT_HOME" in (info.value.hint or "")


def test_provider_starts_the_embedded_server_on_first_connect(tmp_path):
    """With no database configured, the first connect() starts the server and notes it."""
    notes: list[str] = []
    settings = Settings(home=tmp_path / "home", env={})
    provider = open_provider(settings, notify=notes.append)
    assert not EmbeddedServer(settings.home).status().running
    try:
        with provider.connect() as conn:
            assert conn.execute("SELECT current_database() AS d").scalar() == "iucut"
        assert provider.calls == 1
        assert any("embedded PostgreSQL" in n and str(settings.home) in n for n in notes)
    finally:
        EmbeddedServer(settings.home).stop()


def _set_server_state(server: EmbeddedServer, state: str) -> None:
    """Write ``state`` where the postmaster writes its state (line 8 of postmaster.pid)."""
    # in place, as the postmaster does (its states are all 8 characters wide): a file
    # written again from empty is seen empty by a reader in between, who then finds no
    # server and starts one (a flake under load: "shared memory block still in use")
    pidfile = server.pgdata / "postmaster.pid"
    lines = pidfile.read_bytes().split(b"\n")
    assert len(lines[7]) == 8, lines[7]
    with pidfile.open("r+b") as f:
        f.seek(sum(len(line) + 1 for line in lines[:7]))
        f.write(f"{state:<8}".encode())


def test_start_waits_for_a_server_another_process_is_bringing_up(server):
    """While the postmaster says 'starting' (another process brings it up after a
    crash), start() does not report 'running': it waits until the server is ready."""
    import threading

    server.start()
    _set_server_state(server, "starting")
    try:
        other = EmbeddedServer(server.home)
        assert not other.status().running  # `iucut db status` says it is not up yet
        result: list[object] = []
        waiter = threading.Thread(target=lambda: result.append(other.start()), daemon=True)
        waiter.start()
        waiter.join(1.5)
        assert waiter.is_alive() and not result  # still waiting, not "running"
    finally:
        _set_server_state(server, "ready")
    waiter.join(30)
    assert result and result[0].running  # type: ignore[attr-defined]
