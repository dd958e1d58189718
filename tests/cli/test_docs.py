"""The README is tested like code: every command documented and with --help, exit codes listed."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from iucut.cli import _register, cli
from iucut.errors import EXIT_CODES

README = Path(__file__).resolve().parents[2] / "README.md"


def command_paths() -> list[tuple[str, ...]]:
    """Every command of the CLI as a path of names: ("plan",), ("db", "start"), ..."""
    _register()
    paths: list[tuple[str, ...]] = []

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name, command in sorted(group.commands.items()):
            if command.hidden:
                continue
            paths.append((*prefix, name))
            if isinstance(command, click.Group):
                walk(command, (*prefix, name))

    walk(cli, ())
    return paths


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands(readme: str) -> None:
    """The README's first code block is the two fresh-machine commands: make demo, make test."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", readme, re.DOTALL)
    assert blocks, "the README has no code block"
    commands = [line.split("#")[0].strip() for line in blocks[0].splitlines()]
    commands = [c for c in commands if c]
    assert commands == ["make demo", "make test"]
    head = readme.split("```")[0]
    assert len(head.splitlines()) <= 12, "the two commands must come first"


def test_makefile_has_the_two_targets() -> None:
    """``make demo`` and ``make test`` exist (the README's promise)."""
    makefile = (README.parent / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.MULTILINE)
    assert re.search(r"^test:", makefile, re.MULTILINE)


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_command_documented(readme: str, path: tuple[str, ...]) -> None:
    """Every CLI command is named in the README as ``iucut COMMAND``."""
    assert f"iucut {' '.join(path)}" in readme


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_command_help(path: tuple[str, ...]) -> None:
    """Every CLI command has working ``--help`` with a description."""
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert (command.help or "").strip(), f"iucut {' '.join(path)} has no help text"


@pytest.mark.parametrize("code", sorted(EXIT_CODES))
def test_exit_code_documented(readme: str, code: int) -> None:
    """Every exit code of errors.EXIT_CODES has a row in the README's exit-code table."""
    assert re.search(rf"^\|\s*{code}\s*\|", readme, re.MULTILINE), f"exit code {code}"


def test_readme_names_real_test_files(readme: str) -> None:
    """Every test file the README cites as evidence exists."""
    cited = set(re.findall(r"`(tests/[\w/]+\.py)`", readme))
    assert cited, "the safety model cites no tests"
    missing = sorted(p for p in cited if not (README.parent / p).is_file())
    assert missing == []
