"""How the ``iucut`` program ends (iucut.cli.main without arguments): as the interpreter
would end it — the same status, every exit handler run, standard output flushed, a
thread still running waited for — but without tearing the interpreter down (issue #16
part 3: ~10 ms of every re-sync, whatever its corpus)."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import atexit, sys, threading, time
atexit.register(lambda: sys.stdout.write("handler ran\\n"))
if "thread" in sys.argv[1:]:
    def late():
        time.sleep(0.3)
        sys.stdout.write("thread done\\n")
    threading.Thread(target=late).start()
sys.stdout.write("x" * 100_000)  # (held in the buffer: no newline at its end)
from iucut.cli import main
sys.argv = ["iucut", *[a for a in sys.argv[1:] if a != "thread"]]
main()
"""


def _end(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # (buffered)
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_the_status_handlers_and_output_are_the_interpreters() -> None:
    """``iucut --version``: status 0, the output whole (what an exit handler writes too,
    into a buffer no one else flushes), the exit handler run."""
    done = _end("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("x" * 100_000)
    assert "iucut, version" in done.stdout
    assert done.stdout.endswith("handler ran\n")


def test_a_failing_command_keeps_its_status() -> None:
    """A usage error ends with its own status (64) and message."""
    done = _end("no-such-command")
    assert done.returncode == 64
    assert "No such command" in done.stderr
    assert done.stdout.endswith("handler ran\n")


def test_a_thread_still_running_is_waited_for() -> None:
    """A thread still running when the command is done finishes before the process
    ends, as at the interpreter's exit (the interpreter then ends it)."""
    done = _end("thread", "--version")
    assert done.returncode == 0
    assert "thread done\n" in done.stdout
