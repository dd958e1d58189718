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


DRIVER_PROBE = """
import sys
import iucut.apply, iucut.cli.write, iucut.db.target
before = "psycopg" in sys.modules
from iucut.db.connector import preload
preload("psycopg")
import threading
for thread in threading.enumerate():
    if thread.name == "iucut-preload":
        thread.join(60)
print(before, "iucut.db.psycopg3" in sys.modules)
"""


def test_the_driver_is_imported_only_when_preloaded_or_first_needed() -> None:
    """apply's modules start without psycopg (~0.25 s of a one-change re-sync), and
    ``preload`` imports it in a thread of its own while the corpus is walked."""
    done = subprocess.run(
        [sys.executable, "-c", DRIVER_PROBE], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False True", done.stderr
