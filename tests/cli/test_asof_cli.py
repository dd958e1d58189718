"""--as-of and --in-force-on on show, export, ls and refs, as a user runs them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

V1 = (
    "---\nngay_hieu_luc: 2026-01-01\n---\n# Act\n\n## Article 1. Scope\n\nOne.\n\n"
    "## Article 2. Terms\n\nSee Article 1.\n"
)
V2 = V1.replace("2026-01-01", "01/07/2026").replace("One.", "One, revised.")

ON = {"IUCUT_EXECUTION": "enabled"}


def apply(cli: Any, folder: Path) -> str:
    out = cli.run("apply", str(folder), "--root", str(folder), "--json", env=ON)
    assert out.returncode == 0, out.stderr
    run_id = json.loads(out.stdout)["run_id"]
    assert isinstance(run_id, str)
    return run_id


@pytest.mark.parametrize("command", ["show", "export", "ls", "refs"])
def test_read_commands_document_the_point_options(cli_offline: Any, command: str) -> None:
    out = cli_offline.run(command, "--help")
    assert out.returncode == 0, out.stderr
    assert "--as-of RUN|TIME" in out.stdout and "--in-force-on DATE" in out.stdout


def test_as_of_and_in_force_on_from_the_command_line(cli_env: Any, tmp_path: Path) -> None:
    folder = tmp_path / "laws"
    folder.mkdir()
    (folder / "act.md").write_text(V1, encoding="utf-8")
    first = apply(cli_env, folder)
    (folder / "act.md").write_text(V2, encoding="utf-8")
    second = apply(cli_env, folder)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return cli_env.run(*args)  # type: ignore[no-any-return]

    exported = run("export", "act.md", "--as-of", first[:8])
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == V1
    assert run("export", "act.md", "--as-of", second).stdout == V2
    assert run("export", "act.md", "--in-force-on", "2026-03-01").stdout == V1
    assert run("export", "act.md", "--in-force-on", "2026-07-01").stdout == V2

    listed = run("ls", "--as-of", first)
    assert listed.returncode == 0, listed.stderr
    assert "effective 2026-01-01" in listed.stdout and f"run {first[:8]}" in listed.stdout
    doc = json.loads(run("ls", "--in-force-on", "2026-12-31", "--json").stdout)["documents"][0]
    assert doc["effective_date"] == "2026-07-01" and doc["run_id"] == second

    art1 = "ACT/A1"
    shown = run("show", art1, "--as-of", first)
    assert shown.returncode == 0, shown.stderr
    assert "as of:    run " + first in shown.stdout and "One.\n" in shown.stdout
    assert json.loads(run("show", art1, "--as-of", second, "--json").stdout)["current_version"] == 2
    cites = run("refs", "ACT/A2", "--as-of", first, "--json")
    assert cites.returncode == 0, cites.stderr
    assert [r["target_code"] for r in json.loads(cites.stdout)["references"]] == [art1]

    unknown = run("export", "act.md", "--as-of", "deadbeef")
    assert unknown.returncode == 34, unknown.stderr
    assert "no run deadbeef" in unknown.stderr
    early = run("ls", "--as-of", "2001-01-01T00:00:00Z")
    assert early.returncode == 34 and "--as-of 2001-01-01T00:00:00Z is before any run" in (
        early.stderr
    )
    none = run("export", "act.md", "--in-force-on", "2025-01-01")
    assert none.returncode == 34 and "in force on 2025-01-01" in none.stderr
