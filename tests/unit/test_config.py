"""Settings resolution and the strictly parsed kill-switch."""

from __future__ import annotations

from pathlib import Path

import pytest

from iucut.config import load_settings
from iucut.errors import ConfigError


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1",
        "true",
        "yes",
        "on",
        "Enabled",
        "ENABLED",
        " enabled",
        "enabled ",
        "enable",
        "disabled",
    ],
)
def test_kill_switch_is_off_for_anything_but_the_exact_word(value: str) -> None:
    """Only IUCUT_EXECUTION=enabled turns live execution on; typos and truthy words do not."""
    settings = load_settings(environ={"IUCUT_EXECUTION": value})
    assert settings.execution_enabled is False
    assert settings.execution_source == "IUCUT_EXECUTION"


def test_kill_switch_is_off_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no setting anywhere, live execution is off."""
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.execution_enabled is False
    assert settings.execution_source == "default"


def test_kill_switch_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact word turns it on, from the environment or the configuration file."""
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={"IUCUT_EXECUTION": "enabled"}).execution_enabled
    (tmp_path / "iucut.yaml").write_text("execution: enabled\n")
    settings = load_settings(environ={})
    assert settings.execution_enabled
    assert settings.execution_source == "iucut.yaml"


def test_environment_overrides_configuration_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An explicit environment value wins over the file, in both directions."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iucut.yaml").write_text("execution: enabled\nschema: from_file\n")
    settings = load_settings(environ={"IUCUT_EXECUTION": "disabled", "IUCUT_SCHEMA": "env_s"})
    assert not settings.execution_enabled
    assert settings.schema == "env_s"


def test_env_file_is_read_and_process_environment_wins(tmp_path: Path) -> None:
    """--env-file supplies variables; the process environment takes precedence."""
    env_file = tmp_path / "db.env"
    env_file.write_text(
        "# comment\nexport IUCUT_DSN='postgresql://u:secret@h/db'\nIUCUT_SCHEMA=from_env_file\n"
    )
    settings = load_settings(env_file=env_file, environ={"IUCUT_SCHEMA": "from_process"})
    assert settings.dsn == "postgresql://u:secret@h/db"
    assert settings.schema == "from_process"


def test_bad_env_file_line_is_named_without_its_content(tmp_path: Path) -> None:
    """A malformed env-file line is reported by line number; its text (a secret?) is not."""
    env_file = tmp_path / "db.env"
    env_file.write_text("IUCUT_SCHEMA=ok\nthis line has password hunter2\n")
    with pytest.raises(ConfigError) as info:
        load_settings(env_file=env_file, environ={})
    assert ":2:" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_a_value_broken_over_two_lines_is_refused_not_read_as_a_name(tmp_path: Path) -> None:
    """An unquoted value with a line break (a raw password in a URI) leaves a second line
    such as ``s3cr@/db?host=/tmp&port=5432``: it is refused by line number, not read as a
    variable named ``s3cr@/db?host`` while the first line's cut DSN goes on to connect
    (and a driver's error then shows the password's first half as the port)."""
    env_file = tmp_path / "db.env"
    env_file.write_text("IUCUT_DSN=postgresql://u:hunter\n2x@/db?host=/tmp&port=5432\n")
    with pytest.raises(ConfigError) as info:
        load_settings(env_file=env_file, environ={})
    assert ":2:" in str(info.value)
    assert "hunter" not in str(info.value) and "2x@" not in str(info.value)


def test_env_file_values_are_dotenv_values_taken_literally(tmp_path: Path) -> None:
    """Double quotes with an escape and a ``#`` inside, an inline comment after a value,
    and a ``$`` that is not expanded (a password may hold one)."""
    env_file = tmp_path / "db.env"
    env_file.write_text(
        'IUCUT_DSN="postgresql://u:p#a\\"s${HOME}@h/db"\nIUCUT_SCHEMA=plain  # the schema\n'
    )
    settings = load_settings(env_file=env_file, environ={})
    assert settings.dsn == 'postgresql://u:p#a"s${HOME}@h/db'
    assert settings.schema == "plain"


@pytest.mark.parametrize("name", ["Public", "a-b", "x;drop", "1abc", ""])
def test_schema_and_role_names_are_checked(name: str) -> None:
    """Schema and role names must be plain lower-case identifiers (they are put in SQL)."""
    with pytest.raises(ConfigError):
        load_settings(schema=name, environ={}) if name else load_settings(
            environ={"IUCUT_APPLY_ROLE": "Bad-Role"}
        )


def test_broken_configuration_file_names_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Invalid YAML in iucut.yaml is a ConfigError naming the file and line."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iucut.yaml").write_text("schema: ok\nroles: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_settings(environ={})
    assert "iucut.yaml:" in str(info.value)
