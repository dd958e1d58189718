"""``iucut db reset``: a scratch database on the embedded server, dropped and made afresh."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from iucut.db.connector import ConnectionProvider
from iucut.db.embedded import EmbeddedServer
from iucut.db.target import Target

if TYPE_CHECKING:
    from conftest import CliEnv

pytestmark = pytest.mark.db


@pytest.fixture
def offline(cli_offline: CliEnv) -> Iterator[CliEnv]:
    """A clean environment with a temporary IUCUT_HOME; its embedded server is stopped after."""
    try:
        yield cli_offline
    finally:
        EmbeddedServer(cli_offline.home).stop()


def test_db_reset_refuses_without_yes_and_for_the_servers_own(offline: CliEnv) -> None:
    """Without --yes, for postgres/template1 and for a bad name: refused (64, 13), and the
    embedded server is not even started."""
    no = offline.run("db", "reset", "scratch")
    assert no.returncode == 64 and "add --yes to confirm" in no.stderr, no.stderr
    for name in ("postgres", "template1"):
        own = offline.run("db", "reset", name, "--yes")
        assert own.returncode == 64 and "never reset" in own.stderr, own.stderr
    bad = offline.run("db", "reset", "Scratch;drop", "--yes")
    assert bad.returncode == 13 and "invalid database name" in bad.stderr, bad.stderr
    assert not (offline.home / "pg").exists()


def test_db_reset_drops_and_recreates_on_the_embedded_server_only(offline: CliEnv) -> None:
    """It empties the database on the embedded server, whatever IUCUT_DSN names."""
    dsn = {"IUCUT_DSN": "postgresql://nobody:s3cr3t@127.0.0.1:1/prod?connect_timeout=1"}
    first = offline.run("db", "reset", "scratch", "--yes", env=dsn)
    assert first.returncode == 0, first.stderr
    assert "database scratch on the embedded server: dropped and created afresh" in first.stdout
    url = EmbeddedServer(offline.home).url("scratch")
    with ConnectionProvider(Target(url, "test")).connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE keep_me (x int)")
    again = offline.run("db", "reset", "scratch", "--yes", env=dsn)
    assert again.returncode == 0, again.stderr
    with ConnectionProvider(Target(url, "test")).connect() as conn:
        left = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'keep_me'").scalar()
    assert left == 0
    assert "s3cr3t" not in first.stdout + first.stderr + again.stdout + again.stderr
