"""The ``iucut`` program leaves what it made to the system at exit (issue #16 part 3: the
interpreter's last collections walked every object of a re-sync, ~0.1 s of its second),
after every exit handler of the command has run; ``main(argv)`` called in a process that
goes on (a test, a host program) changes nothing of its collector."""

from __future__ import annotations

import atexit
import subprocess
import sys

import pytest

from iucut.cli import main

#: a handler registered before the program runs: it runs after the program's own
PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("frozen", gc.get_freeze_count() > 0, flush=True))
sys.argv = ["iucut", {args}]
from iucut.cli import main
main()
"""


@pytest.mark.parametrize("args", ['"--version"', '"exit-codes"', '"no-such-command"'])
def test_the_program_leaves_its_objects_to_the_system_at_exit(args: str) -> None:
    """At exit, after the command's handlers, its objects are out of the collector's
    reach (frozen), whatever the command and however it ends."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.stdout.strip().splitlines()[-1] == "frozen True", done.stderr


def test_main_called_with_arguments_leaves_the_collector_alone() -> None:
    """A host process (a test) that calls main([...]) goes on: nothing is registered."""
    before = atexit._ncallbacks()
    with pytest.raises(SystemExit):
        main(["--version"])
    assert atexit._ncallbacks() == before
