"""The ``iucut`` program's start (issue #16 part 3): its modules are imported with the
cyclic collector paused, and the command runs with it on again, what the imports made
frozen (no collection walks it again); the library's ``main(argv)`` leaves the
collector as it finds it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import atexit, gc, json, sys

import click

seen = {}


class Watch:  # (told of each import before it happens)
    def find_spec(self, name, path=None, target=None):
        if name == "iucut.cli":
            seen["collector on at the import of iucut.cli"] = gc.isenabled()
        return None


sys.meta_path.insert(0, Watch())
real = click.Command.invoke


def invoke(self, ctx):
    if ctx.parent is not None:  # (the command, not the group)
        seen["collector on in the command"] = gc.isenabled()
        seen["start frozen"] = gc.get_freeze_count() > 0
    return real(self, ctx)


click.Command.invoke = invoke
sys.argv = ["iucut", *sys.argv[1:]]
atexit.register(lambda: print(json.dumps(seen), file=sys.stderr, flush=True))
from iucut import __main__ as program

program.main()  # (it ends the process: the exit handlers run)
"""


def _run(*args: str, code: str = PROBE) -> tuple[int, dict[str, bool]]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )
    found: dict[str, bool] = json.loads(done.stderr.strip().splitlines()[-1])
    return done.returncode, found


def test_the_program_imports_with_the_collector_paused_and_runs_the_command_with_it(
    tmp_path: Path,
) -> None:
    doc = tmp_path / "law.md"
    doc.write_text("# Law\n\n## Article 1. One\n\nText.\n", encoding="utf-8")
    code, seen = _run("cut", str(doc), "--json")
    assert code == 0
    assert seen == {
        "collector on at the import of iucut.cli": False,
        "collector on in the command": True,
        "start frozen": True,
    }


def test_the_entry_points_are_the_program() -> None:
    """``python -m iucut`` and the installed ``iucut`` command both start there."""
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "iucut"]
    assert script.value == "iucut.__main__:main"


def test_main_with_arguments_leaves_the_collector_as_it_is() -> None:
    """A caller's ``main(argv)`` (tests, a library) neither pauses nor freezes."""
    code = """
import gc, json, sys
from iucut.cli import main

before = gc.get_freeze_count()
try:
    main(["cut", "--help"])
except SystemExit:
    pass
print(json.dumps({"on": gc.isenabled(), "frozen": gc.get_freeze_count() - before}),
      file=sys.stderr)
"""
    returncode, seen = _run(code=code)
    assert returncode == 0
    assert seen == {"on": True, "frozen": 0}
