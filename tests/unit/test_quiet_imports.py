"""A command whose standard error is not a terminal draws no progress bar, and does not
import rich to learn that (~15 ms of an apply's start-up, issue #16 part 3)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
from iucut.cli import progress
with progress(True, "x") as bar:
    seen = (bar is None, "rich.console" in sys.modules)
print(*seen)  # (after the bar: rich shows what is printed while it is drawn on stderr)
"""


def _probe(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("TTY_COMPATIBLE", "FORCE_COLOR")}
    clean.pop("TTY_INTERACTIVE", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_no_bar_and_no_rich_when_stderr_is_a_pipe() -> None:
    assert _probe({}) == "True False"


@pytest.mark.parametrize(
    "env",
    [
        {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"},
        {"FORCE_COLOR": "1", "TTY_INTERACTIVE": "1"},
        {"TTY_INTERACTIVE": "1"},
    ],
)
def test_what_rich_is_told_is_still_asked_of_rich(env: dict[str, str]) -> None:
    """Told that stderr is a terminal (or interactive), the bar is rich's to decide."""
    assert _probe(env).endswith("True")
