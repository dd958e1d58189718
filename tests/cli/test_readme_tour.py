"""The README's tour is a transcript of the tour script (``iucut/samples/tour.yaml``, the
script ``iucut demo`` runs too): its steps are run, as written, in one bash shell in one
folder on a fresh embedded server; every step must meet the script's exit code and
expectations, the README's console blocks must hold the script's commands, and what they
print must be what the README shows.

Volatile parts (run and plan ids, times, durations, pids, versions, the folders of
this run) are matched by the patterns of :data:`VOLATILE`; everything else is exact.
After an intended change of the script or the output, regenerate the README's blocks with:

    IUCUT_README_REGEN=1 .venv/bin/python -m pytest tests/cli/test_readme_tour.py

(or `make readme`) and review the diff of README.md.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from iucut import tour
from iucut.db.embedded import EmbeddedServer

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TOUR = "## A short tour"
#: How the README shows the folders of the run: the user's home and iucut checkout.
SHOWN_HOME = "/home/you/.iucut"
SHOWN_CHECKOUT = "/home/you/iucut"
REGEN = os.environ.get("IUCUT_README_REGEN") == "1"

#: Parts of the output that differ from run to run, and what they are compared as.
VOLATILE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\brun [0-9a-f]{8}\b"), "run <run>"),
    (re.compile(r"\b(plan|id) [0-9a-f]{12,64}\b"), r"\1 <plan-id>"),
    (re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d"), "<time>"),
    (re.compile(r"\b\d+\.\d+s\b"), "<seconds>"),
    (re.compile(r"\bpid \d+"), "pid <pid>"),
    (re.compile(r"\b\d+\.\d+\.\d+\b"), "<version>"),
    (re.compile(r"\b(PostgreSQL|libpq) \d+(\.\d+)?"), r"\1 <version>"),
    (re.compile(r"proof-[0-9a-f]{12}"), "proof-<plan-id>"),
    (re.compile(r"plan-[0-9a-f]{12}"), "plan-<plan-id>"),  # the plan's review page
    (re.compile(r'"(xid|server_version)": "[\d.]+"'), r'"\1": "<n>"'),
    (re.compile(r"(cutter: )[^;]*$"), r"\1<which cutter runs on this machine>"),
]


@dataclass
class Block:
    """A console block of the tour: where it is in the README, and its lines."""

    start: int  # index of the first line inside the fence
    end: int  # index of the closing fence
    lines: list[str]


def tour_blocks(text: list[str]) -> list[Block]:
    """The ```console blocks between the tour's heading and the next ``## `` heading."""
    begin = text.index(TOUR)
    end = next((i for i in range(begin + 1, len(text)) if text[i].startswith("## ")), len(text))
    blocks: list[Block] = []
    i = begin
    while i < end:
        if text[i].strip() == "```console":
            close = text.index("```", i + 1)
            blocks.append(Block(i + 1, close, text[i + 1 : close]))
            i = close
        i += 1
    return blocks


def commands(lines: list[str]) -> list[str]:
    """The command lines of a console block (``$ …``), without the prompt."""
    return [line[2:] for line in lines if line.startswith("$ ")]


def shown_as_user(lines: list[str], shown: dict[str, str]) -> list[str]:
    """Output lines with the run's folders shown as a user's."""
    out = []
    for line in lines:
        for real, display in shown.items():
            line = line.replace(real, display)
        out.append(line.rstrip())
    return out


def normalized(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for pattern, placeholder in VOLATILE:
            line = pattern.sub(placeholder, line)
        out.append(line.rstrip())
    return out


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A folder that looks like a fresh checkout after `make demo`/`make test` (src/ and the
    .venv of this run), and a new iucut home; its embedded server is stopped after."""
    folder = tmp_path / "iucut"
    folder.mkdir()
    (folder / "src").symlink_to(ROOT / "src")
    (folder / ".venv").symlink_to(Path(sys.prefix))
    home = tmp_path / "h"
    try:
        yield folder, home
    finally:
        EmbeddedServer(home).stop()


def test_readme_blocks_hold_the_tour_script() -> None:
    """Each console block of the README's tour holds the commands of the same block of
    the tour script, in order (the demo runs the script: the README cannot drift).
    (Under `make readme` it runs too: its first pass, which rewrites the README, may
    fail here; the second pass checks the rewritten README.)"""
    blocks = tour_blocks(README.read_text(encoding="utf-8").split("\n"))
    script = tour.steps_for(tour.load(), tour.README)
    assert len(blocks) == len(script), "the README's tour and tour.yaml differ in blocks"
    for block, steps in zip(blocks, script, strict=True):
        assert commands(block.lines) == [s.run for s in steps], f"README.md:{block.start + 1}"


def test_readme_tour_runs_as_written(checkout: tuple[Path, Path]) -> None:
    """The tour script's README steps, run in order in one shell in one folder as a user
    would (the first is `source .venv/bin/activate`), meet the script's exit codes and
    expectations and print what the README shows."""
    folder, home = checkout
    text = README.read_text(encoding="utf-8").split("\n")
    blocks = tour_blocks(text)
    script = tour.steps_for(tour.load(), tour.README)
    assert script[0][0].run.startswith("source .venv/bin/activate")
    assert len(blocks) == len(script), (
        "the README's tour and tour.yaml differ in blocks: add or remove a ```console "
        "block in the README where the script's block goes"
    )
    env = {
        "HOME": str(home.parent),
        "IUCUT_HOME": str(home),
        # (a login shell's: as root, the embedded server adds its system user with useradd)
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "COLUMNS": "100",
    }
    shown = {str(home): SHOWN_HOME, str(folder): SHOWN_CHECKOUT, str(ROOT): SHOWN_CHECKOUT}
    steps = [s for block in script for s in block]
    outcomes = list(tour.run(steps, cwd=folder, env=env, shell="/bin/bash"))
    assert len(outcomes) == len(steps), "the shell stopped before the end of the tour"
    unmet = [f"{o.step.run}: {problem}\n{o.output}" for o in outcomes for problem in o.problems]
    failures = []
    i = 0
    for block, steps_of_block in zip(blocks, script, strict=True):
        mine = outcomes[i : i + len(steps_of_block)]
        i += len(steps_of_block)
        actual = shown_as_user(tour.transcript(mine), shown)
        if normalized(actual) != normalized(block.lines):
            failures.append((block, actual))
    if REGEN and failures:
        for block, actual in sorted(failures, key=lambda f: -f[0].start):
            text[block.start : block.end] = actual
        README.write_text("\n".join(text), encoding="utf-8")
        pytest.fail(f"README.md regenerated ({len(failures)} blocks): review `git diff README.md`")
    assert not unmet, "steps of the tour script do not do what it expects:\n" + "\n".join(unmet)
    report = [
        "\n".join(
            difflib.unified_diff(
                block.lines, actual, f"README.md:{block.start + 1}", "actual", lineterm=""
            )
        )
        for block, actual in failures
    ]
    assert not failures, (
        "the README's tour does not match the real output; after an intended change run "
        "`IUCUT_README_REGEN=1 .venv/bin/python -m pytest tests/cli/test_readme_tour.py` "
        "(or `make readme`)\n" + "\n".join(report)
    )
