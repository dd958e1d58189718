"""``iucut demo`` end to end, as a user runs it: the tour script's real commands on a
fresh embedded server in a new home; and that it fails when a step is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from iucut import tour
from iucut.config import load_settings
from iucut.db.connector import ConnectionProvider
from iucut.db.embedded import EmbeddedServer
from iucut.db.target import Target
from iucut.demo import run_demo

if TYPE_CHECKING:
    from conftest import CliEnv

pytestmark = pytest.mark.db

SCRIPT = (Path(tour.__file__).parent / "samples" / "tour.yaml").read_text(encoding="utf-8")
DEMO_STEPS = [s for block in tour.steps_for(tour.load(), tour.DEMO) for s in block]
N = len(DEMO_STEPS)


@pytest.fixture
def demo_env(cli_offline: CliEnv) -> Iterator[CliEnv]:
    """A clean environment with a temporary IUCUT_HOME; its embedded server is stopped after."""
    try:
        yield cli_offline
    finally:
        EmbeddedServer(cli_offline.home).stop()


def number_of(run: str) -> int:
    """The demo's number of the step whose command line is ``run``."""
    return next(n for n, s in enumerate(DEMO_STEPS, 1) if s.run == run)


def test_demo_runs_the_tour_script_and_checks_itself(demo_env: CliEnv) -> None:
    """The demo runs every demo step of tour.yaml as a real command, shows each command
    as written and passes each step's checks. (How long it takes is a benchmark's
    business, not a test's: a loaded machine took 143-167 s for what takes 30 s idle.)"""
    # a user's database settings must not be used: the demo has a database of its own
    proc = demo_env.run(
        "demo", env={"IUCUT_DSN": "postgresql://nobody:pw@127.0.0.1:1/prod"}, timeout=180
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    width = len(str(N))
    for n, step in enumerate(DEMO_STEPS, 1):
        assert f"[{n:>{width}}/{N}] {step.say}\n    $ {step.run}\n" in out, step.run
    assert out.count("    ✓ exit code ") == N
    for expected in (
        "dropped and created afresh",
        "IUCUT_PROOF 8/8 ALL_PROOFS_PASS",
        "the kill-switch is off",
        "by cutter_exec",
        "    identical\n",
        f"demo: all {N} steps passed in",
    ):
        assert expected in out, expected
    assert "pw@" not in out + proc.stderr
    assert len(list((demo_env.home / "demo").glob("proof-*.html"))) == 1
    # the user's own database is not the demo's: the demo ends saying to migrate it first
    ending = out[out.index(f"demo: all {N} steps passed") :]
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
    assert [s["run"] for s in data["steps"]] == [s.run for s in DEMO_STEPS]
    assert all(s["ok"] and s["exit"] == s["expected_exit"] for s in data["steps"])
    assert f"[ 1/{N}]" in second.stderr  # the narrative goes to stderr with --json


def demo_of(script: str, home: Path) -> list[str]:
    """Run the demo in-process on ``script``; its lines."""
    lines: list[str] = []
    settings = load_settings(environ={"IUCUT_HOME": str(home)})
    result = run_demo(settings, say=lambda text, kind: lines.append(text), script=script)
    assert result.ok is (result.failed_step is None)
    return lines


@pytest.mark.parametrize(
    ("right", "wrong", "fails_at"),
    [
        # a wrong command: the plan is written elsewhere; its own step expects plan.json
        ("iucut plan docs -o plan.json ", "iucut plan docs -o plan.jsn ", "iucut plan docs -o"),
        # the refusal no longer checked against the right exit code: it now succeeds
        (
            "run: iucut apply --plan plan.json",
            "run: IUCUT_EXECUTION=enabled iucut apply --plan plan.json",
            "IUCUT_EXECUTION=enabled iucut apply --plan plan.json",
        ),
        # a step that does its job but prints what it should not: its expectation fails
        (
            "run: iucut refs QC-BMTT/D5/K3",
            "run: iucut refs QC-BMTT/D5/K2",
            "iucut refs QC-BMTT/D5/K2",
        ),
    ],
)
def test_demo_fails_at_a_wrong_step(tmp_path: Path, right: str, wrong: str, fails_at: str) -> None:
    """A step changed to a wrong command makes the demo stop at the step whose checks no
    longer hold, naming what failed, and exit non-zero."""
    assert SCRIPT.count(right) == 1
    script = SCRIPT.replace(right, wrong)
    home = tmp_path / "h"
    try:
        lines = demo_of(script, home)
    finally:
        EmbeddedServer(home).stop()
    failed = [line for line in lines if line.startswith("demo: step ")]
    assert failed and " failed after " in failed[0], lines[-5:]
    number = int(failed[0].split()[2])
    steps = [s for b in tour.steps_for(tour.load(script), tour.DEMO) for s in b]
    assert steps[number - 1].run.startswith(fails_at), (steps[number - 1].run, lines[-12:])
    assert any(line.startswith("    ✗ ") for line in lines)


@pytest.mark.parametrize(
    ("removed", "fails_at"),
    [
        # the status check sees the embedded server's own database, not iucut_demo
        (["export IUCUT_DSN=$(iucut db url --database iucut_demo)"], "iucut status"),
        # without the check too: the shell's DSN reaches nothing, so migrate fails
        (
            ["export IUCUT_DSN=$(iucut db url --database iucut_demo)", "iucut status"],
            "iucut migrate --roles",
        ),
    ],
)
def test_demo_without_its_dsn_step_writes_nowhere(
    tmp_path: Path, removed: list[str], fails_at: str
) -> None:
    """With the steps that point IUCUT_DSN at iucut_demo (and check it) removed, the demo
    stops before writing, and the embedded server's own database `iucut` stays empty."""
    data = yaml.safe_load(SCRIPT)
    kept = [[s for s in block if s["run"] not in removed] for block in data["blocks"]]
    assert sum(map(len, data["blocks"])) - sum(map(len, kept)) == len(removed)
    script = yaml.safe_dump({"blocks": kept}, allow_unicode=True)
    assert len([s for b in tour.steps_for(tour.load(script), tour.DEMO) for s in b]) < N
    home = tmp_path / "h"
    try:
        lines = demo_of(script, home)
        n = number_of(fails_at) - sum(number_of(r) < number_of(fails_at) for r in removed)
        assert f"demo: step {n} of {N - len(removed)} failed" in "\n".join(lines)
        server = EmbeddedServer(home)
        with ConnectionProvider(Target(server.url("iucut"), "test")).connect() as conn:
            found = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE tablename = 'information_unit'"
            ).scalar()
        assert found == 0
    finally:
        EmbeddedServer(home).stop()


def test_tour_check_names_what_does_not_hold() -> None:
    """check(): a wrong exit code, a missing substring and an unmatched pattern are each
    reported; output that meets them gives no problem."""
    step = tour.Step(say="s", run="r", exit=2, expect=("plan written", "re:^id [0-9a-f]+$"))
    assert tour.check(step, "plan written\nid 0a1b\n", 2) == []
    assert tour.check(step, "plan written\nid 0a1b\n", 0) == ["exit code 0, expected 2"]
    assert tour.check(step, "id 0a1b\n", 2) == ["not in the output: 'plan written'"]
    assert tour.check(step, "plan written\nid XYZ\n", 2) == ["no line matches /^id [0-9a-f]+$/"]


def test_every_demo_step_is_checked_beyond_a_shell_edit() -> None:
    """Every demo step that runs iucut expects something of its output (or a non-zero exit
    code), so none of them passes on exit code 0 alone."""
    bare = [
        s.run
        for s in DEMO_STEPS
        if "iucut " in s.run and not s.expect and s.exit == 0 and "$(" not in s.run
    ]
    assert bare == []
