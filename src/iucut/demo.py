"""The guided demo: the tour script's real ``iucut`` commands, on a database of its own.

:func:`run_demo` copies the samples shipped in ``iucut/samples`` to ``docs/`` in a
temporary working copy and runs the steps of ``samples/tour.yaml`` (the README's tour
and a few demo-only steps) in one bash shell there, each ``iucut`` being this
interpreter's ``python -m iucut``. It checks every step's exit code and expectations and
stops at the first that fails.

It never uses the user's database: the shell gets no ``IUCUT_*``, ``PG*`` or
``DATABASE_URL`` variable of the caller, and starts with an ``IUCUT_DSN`` that reaches
nothing, until the script's own steps reset ``iucut_demo`` on the embedded server of
``IUCUT_HOME`` (``iucut db reset``), point ``IUCUT_DSN`` at it and check that
``iucut status`` names it.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from iucut import tour
from iucut._version import __version__
from iucut.config import Settings

DEMO_DATABASE = "iucut_demo"
SAMPLES = ("quy-che-bao-mat-thong-tin.md", "employee-handbook.md")
#: The shell's IUCUT_DSN until the script points it at the demo database: a socket
#: folder that does not exist, so a command run before that fails instead of writing.
UNSET_DSN = "host=/nonexistent/iucut-demo-dsn-not-set-yet dbname=iucut_demo"
#: Output lines the demo prints for a step that passed, when it has no ``show`` pattern.
SHOWN_LINES = 10

#: ``say(text, kind)``; kind: title, command, output, ok, fail, info.
Say = Callable[[str, str], None]


@dataclass
class DemoResult:
    """The demo's outcome: every step run, the total time, where things are."""

    outcomes: list[tour.Outcome]
    total_steps: int
    seconds: float
    workdir: str | None
    reports: list[str]

    @property
    def ok(self) -> bool:
        return len(self.outcomes) == self.total_steps and all(o.ok for o in self.outcomes)

    @property
    def failed_step(self) -> int | None:
        if self.ok:
            return None
        return next((n for n, o in enumerate(self.outcomes, 1) if not o.ok), None) or (
            len(self.outcomes) + 1
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
            "database": DEMO_DATABASE,
            "workdir": self.workdir,
            "reports": self.reports,
            "steps": [
                {
                    "number": n,
                    "say": o.step.say,
                    "run": o.step.run,
                    "expected_exit": o.step.exit,
                    "exit": o.exit,
                    "checks": 1 + len(o.step.expect),
                    "ok": o.ok,
                    "problems": o.problems,
                    "seconds": round(o.seconds, 2),
                    "output": o.output,
                }
                for n, o in enumerate(self.outcomes, 1)
            ],
        }


def copy_samples(dest: Path) -> list[Path]:
    """Copy the shipped sample documents to ``dest``; returns the copies."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name in SAMPLES:
        data = (resources.files("iucut") / "samples" / name).read_bytes()
        (dest / name).write_bytes(data)
        out.append(dest / name)
    return out


def command_folder(dest: Path) -> Path:
    """A folder of ``iucut`` and ``python`` commands that run this interpreter."""
    dest.mkdir(parents=True, exist_ok=True)
    python = shlex.quote(sys.executable)
    for name, line in (("iucut", f"exec {python} -m iucut"), ("python", f"exec {python}")):
        path = dest / name
        path.write_text(f'#!/bin/sh\n{line} "$@"\n', encoding="utf-8")
        path.chmod(0o755)
    return dest


def shown(outcome: tour.Outcome) -> list[str]:
    """The output lines the demo prints for a step: all of them when it failed."""
    lines = outcome.lines
    if not outcome.ok:
        return lines
    if outcome.step.show:
        pattern = re.compile(outcome.step.show)
        picked = [line for line in lines if pattern.search(line)]
        left = len(lines) - len(picked)
        return picked + ([f"… ({left} other lines)"] if left else [])
    if len(lines) > SHOWN_LINES:
        left = len(lines) - SHOWN_LINES + 1
        return [*lines[: SHOWN_LINES - 2], f"… ({left} more lines)", lines[-1]]
    return lines


def run_demo(
    settings: Settings,
    *,
    say: Say | None = None,
    keep: bool = False,
    script: str | None = None,
) -> DemoResult:
    """Run the tour's demo steps in order, stopping at the first that fails; never
    raises for a step. ``script`` replaces the shipped tour.yaml (for tests)."""
    out: Say = say or (lambda text, kind: print(text))
    started = time.monotonic()
    steps = [s for block in tour.steps_for(tour.load(script), tour.DEMO) for s in block]
    bash = shutil.which("bash")
    root = Path(tempfile.mkdtemp(prefix="iucut-demo-"))
    workdir = root / "work"
    copy_samples(workdir / "docs")
    bin_dir = command_folder(root / "bin")
    env = tour.shell_env(
        IUCUT_HOME=str(settings.home),
        IUCUT_DRIVER=settings.driver,
        IUCUT_DSN=UNSET_DSN,
        PATH=f"{bin_dir}:{tour.shell_env().get('PATH', '/usr/bin:/bin')}",
    )
    out(
        f"iucut {__version__} demo: the README's tour, {len(steps)} real iucut commands "
        f"on a database of its own ({DEMO_DATABASE}); each one checked",
        "info",
    )
    out(
        f"  working copy: {workdir}  (docs/: {', '.join(SAMPLES)})"
        + ("" if keep else "; removed at the end (--keep keeps it)"),
        "info",
    )
    outcomes: list[tour.Outcome] = []
    try:
        if bash is None:
            out("demo: needs bash, to run the commands as the README shows them", "fail")
        else:
            outcomes = _run_steps(steps, workdir, env, bash, out)
    finally:
        reports = _keep_reports(workdir / "reports", settings.home / "demo")
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    result = DemoResult(
        outcomes, len(steps), time.monotonic() - started, str(workdir) if keep else None, reports
    )
    out("", "info")
    if result.ok:
        out(f"demo: all {len(steps)} steps passed in {result.seconds:.1f}s", "ok")
    else:
        out(
            f"demo: step {result.failed_step} of {len(steps)} failed after {result.seconds:.1f}s",
            "fail",
        )
    if reports:
        out(f"reports (proof, plan review page) kept in {settings.home / 'demo'}", "info")
    if keep:
        out(
            f"working copy kept: cd {workdir} && export IUCUT_DSN=$(iucut db url --database "
            f"{DEMO_DATABASE})",
            "info",
        )
    if result.ok:
        for line in next_steps():
            out(line, "info")
    return result


def _run_steps(
    steps: list[tour.Step], workdir: Path, env: dict[str, str], bash: str, out: Say
) -> list[tour.Outcome]:
    outcomes: list[tour.Outcome] = []
    width = len(str(len(steps)))
    outcomes_iter = tour.run(steps, cwd=workdir, env=env, shell=bash)
    try:
        for number, outcome in enumerate(outcomes_iter, 1):
            outcomes.append(outcome)
            step = outcome.step
            out("", "info")
            out(f"[{number:>{width}}/{len(steps)}] {step.say}", "title")
            out(f"    $ {step.run}", "command")
            for line in shown(outcome):
                out(f"    {line}", "output")
            checks = 1 + len(step.expect)
            if outcome.ok:
                found = checks - 1
                out(
                    f"    ✓ exit code {outcome.exit}"
                    + (f"; {found} expected line{'s' if found > 1 else ''} found" if found else ""),
                    "ok",
                )
            else:
                for problem in outcome.problems:
                    out(f"    ✗ {problem}", "fail")
                break
    finally:
        outcomes_iter.close()  # a failed step stops the shell
    return outcomes


def _keep_reports(source: Path, dest: Path) -> list[str]:
    """Copy the reports the tour wrote (proof, plan review) to ``dest``, replacing the
    previous run's; returns the files kept."""
    if not source.is_dir():
        return []
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest)
    return sorted(str(p) for p in dest.iterdir())


def next_steps() -> list[str]:
    """What to do after the demo: its database was its own, so the user's own database
    (the embedded server's ``iucut``, or the one IUCUT_DSN names) still needs migrating;
    and where the ``iucut`` command is when it is not on PATH (``make demo``'s .venv)."""
    lines = [
        "",
        "next, on your own database (the demo used iucut_demo, a database of its own; your "
        "documents go to the embedded server's database iucut, or to --dsn / IUCUT_DSN):",
        "  iucut migrate --roles     # once per database, as an administrator",
        "  iucut plan docs           # then cut, plan, prove and apply: see the README's tour",
    ]
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    on_path = shutil.which("iucut")
    if (
        script is not None
        and script.name == "iucut"
        and (on_path is None or Path(on_path).resolve() != script)
    ):
        activate = script.parent / "activate"
        how = (
            f"`source {activate}` puts it there"
            if activate.is_file()
            else f"add {script.parent} to PATH"
        )
        lines.append(f"the iucut command is {script}, not on your PATH: {how}")
    return lines
