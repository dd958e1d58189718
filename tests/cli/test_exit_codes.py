"""`iucut exit-codes` held against what each command really returns for each condition:
one row per (condition, command), run with the installed CLI on a database of its own."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "iucut" / "samples"
ON = {"IUCUT_EXECUTION": "enabled"}
UNREACHABLE = {"IUCUT_DSN": "postgresql://nobody@127.0.0.1:1/nowhere?connect_timeout=3"}
UNMIGRATED = {"IUCUT_SCHEMA": "never_migrated"}

Proc = subprocess.CompletedProcess[str]


class Case:
    """A user in front of a condition: the folder with the samples, and the database."""

    def __init__(self, cli_env: Any, db: Any, tmp_path: Path):
        self.cli = cli_env
        self.db = db
        self.tmp = tmp_path
        self.docs = tmp_path / "docs"
        self.docs.mkdir()
        for sample in SAMPLES.glob("*.md"):
            shutil.copy(sample, self.docs / sample.name)

    def run(self, *args: str, env: dict[str, str] | None = None) -> Proc:
        return self.cli.run(*args, env=env)

    def source(self, *args: str, env: dict[str, str] | None = None) -> Proc:
        """A command on the samples (paths stored relative to the temporary folder)."""
        return self.run(*args, str(self.docs), "--root", str(self.tmp), env=env)

    def applied(self) -> Case:
        done = self.source("apply", env=ON)
        assert done.returncode == 0, done.stderr
        return self

    def clash(self) -> Path:
        """A folder whose document takes a code that belongs to another document."""
        self.applied()
        other = self.tmp / "other"
        other.mkdir()
        shutil.copy(SAMPLES / "employee-handbook.md", other / "copy.md")
        return other

    def plan_file(self) -> Path:
        path = self.tmp / "plan.json"
        made = self.source("plan", "-o", str(path))
        assert made.returncode == 2, made.stderr
        return path

    def junk(self, text: str) -> Path:
        path = self.tmp / "junk.json"
        path.write_text(text, encoding="utf-8")
        return path


def _stale(c: Case) -> Proc:
    plan = c.plan_file()
    assert c.run("apply", "--plan", str(plan), env=ON).returncode == 0
    return c.run("apply", "--plan", str(plan), env=ON)


def _frozen(c: Case) -> Proc:
    assert c.run("freeze", "--reason", "test").returncode == 0
    return c.source("apply", env=ON)


def _edited_migration(c: Case) -> Proc:
    with c.db.connect(autocommit=True) as conn:
        conn.execute(f"UPDATE {c.db.schema}.iucut_migration SET checksum = 'edited'")
    return c.run("migrate")


def _bad_bytes(c: Case) -> Path:
    path = c.tmp / "bad.md"
    path.write_bytes(b"# Title\n\nbad \xff\xfe bytes\n")
    return path


def _bad_config(c: Case) -> dict[str, str]:
    path = c.tmp / "iucut.yaml"
    path.write_text("dsn: [\n", encoding="utf-8")
    return {"IUCUT_CONFIG": str(path)}


def _link_out(c: Case) -> Path:
    """A folder whose only document is a link to a file outside it (the project root)."""
    folder = c.tmp / "linked"
    folder.mkdir()
    (folder / "bad.md").symlink_to(SAMPLES / "employee-handbook.md")
    return folder


def _two_projects(c: Case) -> list[str]:
    """Two folders, each a project root of its own (iucut.yaml)."""
    folders = [c.tmp / "one", c.tmp / "two"]
    for folder in folders:
        folder.mkdir()
        (folder / "iucut.yaml").touch()
        shutil.copy(SAMPLES / "employee-handbook.md", folder / "a.md")
    return [str(f) for f in folders]


#: (condition, command, expected exit code, how the user gets there)
CONDITIONS: list[tuple[str, str, int, Callable[[Case], Proc]]] = [
    ("success", "cut", 0, lambda c: c.source("cut")),
    ("no changes", "plan", 0, lambda c: c.applied().source("plan")),
    ("success", "show", 0, lambda c: c.applied().run("show", "QC-BMTT/D5/K2")),
    ("changes to apply", "plan", 2, lambda c: c.source("plan")),
    ("bad input document", "cut", 3, lambda c: c.run("cut", str(_bad_bytes(c)))),
    ("bad input document", "plan", 3, lambda c: c.run("plan", str(_bad_bytes(c)))),
    ("rejected document", "plan", 3, lambda c: c.run("plan", str(c.clash()))),
    ("rejected document", "apply", 3, lambda c: c.run("apply", str(c.clash()), env=ON)),
    (
        "a document cannot be cut, --all-or-nothing",
        "apply",
        4,
        lambda c: c.run("apply", "--all-or-nothing", str(_bad_bytes(c)), str(c.docs), env=ON),
    ),
    ("kill-switch off", "apply", 5, lambda c: c.source("apply")),
    ("frozen", "apply", 6, _frozen),
    ("stale plan", "apply", 7, _stale),
    ("unreachable database", "plan", 8, lambda c: c.source("plan", env=UNREACHABLE)),
    ("unreachable database", "show", 8, lambda c: c.run("show", "X", env=UNREACHABLE)),
    ("edited applied migration", "migrate", 9, _edited_migration),
    ("a check fails (schema missing)", "doctor", 11, lambda c: c.run("doctor", env=UNMIGRATED)),
    ("invalid configuration", "status", 13, lambda c: c.run("status", env=_bad_config(c))),
    ("invalid configuration", "plan", 13, lambda c: c.source("plan", env=_bad_config(c))),
    ("no such unit", "show", 14, lambda c: c.applied().run("show", "QC-BMTT/D99")),
    ("no such unit", "history", 14, lambda c: c.applied().run("history", "QC-BMTT/D99")),
    ("no such document", "export", 14, lambda c: c.applied().run("export", "NOPE")),
    (
        "output not writable",
        "plan",
        15,
        lambda c: c.source("plan", "-o", str(c.tmp / "no" / "such" / "plan.json")),
    ),
    (
        "output not writable",
        "cut",
        15,
        lambda c: c.source("cut", "-o", str(c.tmp / "no" / "such" / "rows.jsonl")),
    ),
    (
        "plan file not JSON",
        "apply",
        27,
        lambda c: c.run("apply", "--plan", str(c.junk("not json")), env=ON),
    ),
    ("plan file not a plan", "prove", 27, lambda c: c.run("prove", "--plan", str(c.junk("[]")))),
    (
        "proof report not JSON",
        "apply",
        27,
        lambda c: c.run(
            "apply", "--plan", str(c.plan_file()), "--require-proof", str(c.junk("{")), env=ON
        ),
    ),
    ("a link out of the project root", "cut", 20, lambda c: c.run("cut", str(_link_out(c)))),
    ("paths of two projects", "cut", 21, lambda c: c.run("cut", *_two_projects(c))),
    (
        "--root that is no folder",
        "plan",
        21,
        lambda c: c.run("plan", str(c.docs), "--root", str(c.tmp / "nope")),
    ),
    ("schema not migrated", "plan", 28, lambda c: c.source("plan", env=UNMIGRATED)),
    ("schema not migrated", "apply", 28, lambda c: c.source("apply", env={**ON, **UNMIGRATED})),
    ("schema not migrated", "show", 28, lambda c: c.run("show", "X", env=UNMIGRATED)),
    ("schema not migrated", "export", 28, lambda c: c.run("export", "X", env=UNMIGRATED)),
    ("schema not migrated", "freeze", 28, lambda c: c.run("freeze", env=UNMIGRATED)),
    (
        "apply role missing",
        "apply",
        28,
        lambda c: c.source("apply", env={**ON, "IUCUT_APPLY_ROLE": "no_such_role"}),
    ),
]
for _command in ("cut", "plan", "apply", "prove"):
    CONDITIONS.append(
        (
            "a PATH that does not exist",
            _command,
            64,
            lambda c, command=_command: c.run(command, str(c.tmp / "nonexistent"), env=ON),
        )
    )
CONDITIONS += [
    ("unknown option", "show", 64, lambda c: c.run("show", "--no-such-option")),
    ("missing argument", "history", 64, lambda c: c.run("history")),
]


def _forged(c: Case) -> Proc:
    """A stored state changed behind the write functions' back (an administrator, past
    the triggers): verify names it."""
    c.applied()
    with c.db.connect() as admin, admin.transaction():
        admin.execute("SET LOCAL session_replication_role = replica")
        admin.execute(f"UPDATE {c.db.schema}.iu_document SET unit_count = unit_count + 1")
    return c.run("verify")


def _freeze_blocked(c: Case) -> Proc:
    """A write in flight (a run begun, not committed: it holds the control row) and a
    freeze that may wait one second for it."""
    writer = c.db.connect(role="cutter_exec")
    writer.execute(f"SELECT {c.db.schema}.fn_run_begin('apply')")
    try:
        return c.run("freeze", "--wait", "1")
    finally:
        writer.rollback()


CONDITIONS += [
    ("clean stored state", "verify", 0, lambda c: c.applied().run("verify")),
    ("stored state changed behind the functions", "verify", 16, _forged),
    ("a write in flight outlasts --wait", "freeze", 17, _freeze_blocked),
]
CONDITIONS += [
    (
        "a cursor from another database",
        "changes",
        24,
        lambda c: c.run("changes", "--since", "iuc1.0000000000000000.1.1"),
    ),
    ("a role that can write", "mcp", 25, lambda c: c.run("mcp", "--role", "postgres")),
    ("a query without words", "search", 32, lambda c: c.applied().run("search", "?! --")),
    ("no unit matches", "search", 33, lambda c: c.applied().run("search", "zebra")),
    ("no Citus", "migrate --distributed", 36, lambda c: c.run("migrate", "--distributed")),
]

#: Codes no row above produces, and why (a new exit code must get a row or a reason).
CONDITIONS += [
    (
        "unknown run",
        "export",
        34,
        lambda c: c.applied().run("export", "QC-BMTT", "--as-of", "deadbeef"),
    ),
    ("a time before any run", "ls", 34, lambda c: c.run("ls", "--as-of", "2001-01-01")),
]


NOT_HERE = {
    1: "an unexpected error is a bug: no condition should produce it",
    10: "a failing proof needs a database that breaks the write path (tests/db/test_prove.py)",
    12: "a document that does not round-trip is a cutter bug (tests/unit/test_cut_roundtrip.py)",
    130: "Ctrl-C: tests/cli/test_failures.py::test_interrupted_apply_lists_what_was_written",
    141: "a closed stdout: tests/cli/test_failures.py::test_closed_stdout_is_a_quiet_exit",
    37: "the change feed on a schema distributed with Citus needs a Citus cluster: "
    "tests/citus/test_distributed.py::test_the_feed_is_refused_on_a_distributed_schema",
    30: "plan --strict-refs needs an applied document whose references a change breaks: "
    "tests/db/test_refs.py::test_strict_refs_rejects_a_plan_that_breaks_references",
    35: "a point before the upgrade to schema 15 needs a database migrated before it: "
    "tests/db/test_asof.py::test_points_before_the_upgrade_are_refused_and_later_ones_read",
}


def documented(cli: Any) -> dict[int, str]:
    """`iucut exit-codes` as {code: meaning}."""
    proc = cli.run("exit-codes")
    assert proc.returncode == 0, proc.stderr
    return {
        int(m.group(1)): m.group(2)
        for m in re.finditer(r"^\s*(\d+)\s+(.*)$", proc.stdout, re.MULTILINE)
    }


@pytest.mark.parametrize(
    ("condition", "command", "code", "action"),
    CONDITIONS,
    ids=[f"{cmd}: {cond} -> {code}" for cond, cmd, code, _ in CONDITIONS],
)
def test_each_condition_exits_with_its_documented_code(
    cli_env: Any,
    db: Any,
    tmp_path: Path,
    condition: str,
    command: str,
    code: int,
    action: Callable[[Case], Proc],
) -> None:
    """The command exits with the code `iucut exit-codes` lists for the condition, says
    so on stderr (never a traceback), and prints no error JSON but with --json."""
    proc = action(Case(cli_env, db, tmp_path))
    assert proc.returncode == code, f"{condition}: {proc.returncode}\n{proc.stderr}"
    assert code in documented(cli_env)
    assert "Traceback" not in proc.stderr
    if code not in (0, 2):
        assert proc.stderr.strip(), "a failure says what happened on stderr"
        assert "iucut: error: iucut:" not in proc.stderr, "the prefix is said once"
        assert not proc.stdout.lstrip().startswith('{"error"')


def test_every_documented_code_is_held_by_a_condition(cli_offline: Any) -> None:
    """Each code of `iucut exit-codes` is produced by a row above, or says why not here."""
    table = documented(cli_offline)
    held = {code for _, _, code, _ in CONDITIONS}
    assert sorted(set(table) - held - set(NOT_HERE)) == []
    assert sorted((held | set(NOT_HERE)) - set(table)) == []


def test_json_error_carries_the_same_code(cli_env: Any, db: Any, tmp_path: Path) -> None:
    """With --json the error is a JSON document whose exit_code is the process's."""
    proc = Case(cli_env, db, tmp_path).run("show", "NOPE/D1", "--json")
    assert proc.returncode == 14
    assert json.loads(proc.stdout)["exit_code"] == 14
