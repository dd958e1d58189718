"""``iucut demo`` end to end, as a user runs it: a fresh embedded server in a new home."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from iucut.db.embedded import EmbeddedServer

if TYPE_CHECKING:
    from conftest import CliEnv

pytestmark = pytest.mark.db


@pytest.fixture
def demo_env(cli_offline: CliEnv) -> Iterator[CliEnv]:
    """A clean environment with a temporary IUCUT_HOME; its embedded server is stopped after."""
    try:
        yield cli_offline
    finally:
        EmbeddedServer(cli_offline.home).stop()


def test_demo_runs_and_checks_itself(demo_env: CliEnv) -> None:
    """The demo passes every step in under a minute and tells the story on stdout."""
    started = time.monotonic()
    # a user's database settings must not be used: the demo has a database of its own
    proc = demo_env.run(
        "demo", env={"IUCUT_DSN": "postgresql://nobody:pw@127.0.0.1:1/prod"}, timeout=180
    )
    elapsed = time.monotonic() - started
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert elapsed < 60
    for expected in (
        "[ 1/15] Start the embedded server, reset the demo database",
        "$ iucut migrate --roles",
        "ALL_CHECKS_PASS",
        "reassembles byte for byte",
        "IUCUT_PROOF",
        "ALL_PROOFS_PASS",
        "refused (exit code 5)",
        "connections opened: 0",
        "written by cutter_exec",
        "+0 ~1 →0 ↺0 -0",
        "2 versions, events created by cutter_exec, revised by cutter_exec",
        "identical to the working copy",
        "no changes (exit code 0)",
        "demo: all 15 steps passed in",
    ):
        assert expected in out, expected
    assert "pw@" not in out + proc.stderr
    reports = list((demo_env.home / "demo").glob("proof-*.html"))
    assert len(reports) == 1
    # the user's own database is not the demo's: the demo ends saying to migrate it first
    ending = out[out.index("demo: all 15 steps passed") :]
    assert "next, on your own database" in ending
    assert "  iucut migrate --roles     # once per database, as an administrator" in ending


def test_demo_twice_resets_its_database(demo_env: CliEnv) -> None:
    """A second run starts from a fresh demo database again; --json gives the steps."""
    first = demo_env.run("demo", timeout=180)
    assert first.returncode == 0, first.stdout + first.stderr
    second = demo_env.run("demo", "--json", timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    data = json.loads(second.stdout)
    assert data["ok"] is True
    assert len(data["steps"]) == 15 and all(s["ok"] for s in data["steps"])
    assert "[ 1/15]" in second.stderr  # the narrative goes to stderr with --json
