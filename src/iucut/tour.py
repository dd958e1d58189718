"""The tour script (``samples/tour.yaml``): its steps, how they run, and their checks.

One script of real ``iucut`` command lines feeds the demo (``iucut demo``), the README's
tour and their tests. :func:`load` reads it, :func:`run` runs steps in one bash shell
(so ``$first`` set by one step is there for the next, as in a terminal) and yields each
step's merged output and exit code as soon as it ends, and :func:`check` says which of
a step's expectations do not hold.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from iucut.errors import ConfigError

#: The consumers a step can be limited to.
DEMO, README = "demo", "readme"


@dataclass(frozen=True)
class Step:
    """One command line of the tour and what it must do."""

    say: str
    run: str
    exit: int = 0
    expect: tuple[str, ...] = ()
    show: str | None = None
    only: str | None = None

    def for_(self, consumer: str) -> bool:
        return self.only in (None, consumer)


@dataclass(frozen=True)
class Outcome:
    """What a step did: its output (stdout and stderr as a terminal interleaves them)."""

    step: Step
    output: str
    exit: int
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()


def load(text: str | None = None) -> list[list[Step]]:
    """The tour's blocks of steps (the shipped script unless ``text`` is given)."""
    if text is None:
        text = (resources.files("iucut") / "samples" / "tour.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    blocks: list[list[Step]] = []
    for b, block in enumerate(data.get("blocks") or [], 1):
        steps = []
        for raw in block:
            try:
                step = _step(raw)
            except (TypeError, ValueError, re.error) as exc:
                raise ConfigError(f"tour.yaml block {b}: {exc}") from exc
            steps.append(step)
        blocks.append(steps)
    return blocks


def _step(raw: Mapping[str, Any]) -> Step:
    unknown = set(raw) - {"say", "run", "exit", "expect", "show", "only"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    for key in ("say", "run"):
        if not isinstance(raw.get(key), str):
            raise ValueError(f"{key}: must be a string (quote it), not {raw.get(key)!r}")
    if raw.get("only") not in (None, DEMO, README):
        raise ValueError(f"only: {raw['only']!r} is neither {DEMO} nor {README}")
    expect = tuple(str(e) for e in raw.get("expect") or ())
    for e in expect:
        if e.startswith("re:"):
            re.compile(e[3:])
    if raw.get("show"):
        re.compile(raw["show"])
    return Step(
        say=str(raw["say"]),
        run=str(raw["run"]),
        exit=int(raw.get("exit", 0)),
        expect=expect,
        show=raw.get("show"),
        only=raw.get("only"),
    )


def steps_for(blocks: Sequence[Sequence[Step]], consumer: str) -> list[list[Step]]:
    """The blocks as one consumer sees them (blocks left empty are dropped)."""
    kept = [[s for s in block if s.for_(consumer)] for block in blocks]
    return [block for block in kept if block]


def check(step: Step, output: str, exit_code: int) -> list[str]:
    """The expectations of ``step`` that ``output`` and ``exit_code`` do not meet."""
    problems = []
    if exit_code != step.exit:
        problems.append(f"exit code {exit_code}, expected {step.exit}")
    lines = output.splitlines()
    for e in step.expect:
        if e.startswith("re:"):
            pattern = re.compile(e[3:])
            if not any(pattern.search(line) for line in lines):
                problems.append(f"no line matches /{e[3:]}/")
        elif e not in output:
            problems.append(f"not in the output: {e!r}")
    return problems


def run(
    steps: Sequence[Step], *, cwd: Path, env: Mapping[str, str], shell: str = "bash"
) -> Generator[Outcome, None, None]:
    """Run ``steps`` in order in one ``shell``, yielding each step's checked outcome
    as soon as it ends (a step after one that failed still runs: the caller stops)."""
    import time

    salt = f"IUCUT-TOUR-{uuid.uuid4().hex}"
    marker = re.compile(rf"^{salt} (\d+) (\d+)$")
    script = ["exec 2>&1"]
    for i, step in enumerate(steps):
        script += [step.run, f"printf '\\n%s %d %d\\n' {salt} {i} \"$?\""]
    proc = subprocess.Popen(
        [shell, "-c", "\n".join(script) + "\n"],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    buffer: list[bytes] = []
    started = time.monotonic()
    try:
        for raw in proc.stdout:
            found = marker.match(raw.decode("utf-8", "replace").rstrip("\n"))
            if not found:
                buffer.append(raw)
                continue
            data = b"".join(buffer)
            data = data[:-1] if data.endswith(b"\n") else data  # printf's leading newline
            buffer = []
            step = steps[int(found.group(1))]
            output = data.decode("utf-8", "backslashreplace")
            code = int(found.group(2))
            now = time.monotonic()
            yield Outcome(step, output, code, now - started, check(step, output, code))
            started = now
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


def transcript(outcomes: Sequence[Outcome]) -> list[str]:
    """A block as the README shows it: ``$ command``, its output, ``[N]`` when not 0."""
    lines: list[str] = []
    for o in outcomes:
        lines.append(f"$ {o.step.run}")
        lines += [line.rstrip() for line in o.lines]
        if o.exit:
            lines.append(f"[{o.exit}]")
    return lines


def shell_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``base`` (the process environment) without anything that names a database or an
    iucut setting, plus ``extra``."""
    env = dict(os.environ if base is None else base)
    for name in list(env):
        if name.startswith(("IUCUT_", "PG")) or name == "DATABASE_URL":
            del env[name]
    env.update(extra)
    return env
