"""Settings: where they come from (flags, environment, env file, config file) and the kill-switch.

Precedence, highest first: command-line flags, the process environment, the file
given with ``--env-file`` (read at run time, never exported), the configuration
file (``IUCUT_CONFIG``, else the ``iucut.yaml`` of the project root: the nearest one
above the paths given, or above the working folder), built-in defaults.

The kill-switch is parsed strictly: live execution is on only when the setting is
exactly ``enabled`` (``IUCUT_EXECUTION=enabled`` or ``execution: enabled`` in the
configuration file). Anything else, including typos, means off.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from iucut.errors import ConfigError

EXECUTION_ON = "enabled"
DEFAULT_CONFIG_FILE = "iucut.yaml"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DRIVERS = ("psycopg", "psycopg2")


@dataclass(frozen=True)
class Roles:
    """Role names: the owner of the schema, the execution role and the reader."""

    owner: str = "iucut_owner"
    exec: str = "cutter_exec"
    reader: str = "iucut_reader"


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about where and how to work."""

    dsn: str | None = None  # None: libpq environment, else the embedded server
    schema: str = "public"
    driver: str = "psycopg"
    execution: str | None = None  # the raw kill-switch setting, as found
    execution_source: str = "default"
    roles: Roles = field(default_factory=Roles)
    apply_role: str | None = None  # connect as this role to write (e.g. cutter_exec)
    home: Path = field(default_factory=lambda: Path.home() / ".iucut")
    env: Mapping[str, str] = field(default_factory=dict)  # env file + process env
    config_path: Path | None = None
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def execution_enabled(self) -> bool:
        """The seed's ``execution_enabled()``: True only for the exact word ``enabled``."""
        return self.execution == EXECUTION_ON

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


#: A variable's name in an env file: anything else is a broken line (e.g. the rest of a
#: value that held a line break), refused rather than read as a strange name.
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def read_env_file(path: Path) -> dict[str, str]:
    """Read a dotenv file (python-dotenv's syntax: ``KEY=VALUE``, ``#`` comments, optional
    ``export``, quotes) without expanding ``${VAR}`` (a password may hold a ``$``)."""
    from dotenv.parser import parse_stream

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read env file {path}: {exc.strerror}") from exc
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if (
            binding.error
            or (binding.key is not None and binding.value is None)
            or (binding.key is not None and not _ENV_KEY.fullmatch(binding.key))
        ):
            # never echo the line: it may hold a password
            raise ConfigError(
                f"{path}:{binding.original.line}: not a KEY=VALUE line",
                hint="write KEY=VALUE (quote a value with spaces)",
            )
        if binding.key is not None and binding.value is not None:
            values[binding.key] = binding.value
    return values


def read_config_file(path: Path) -> dict[str, Any]:
    import yaml  # (here: a command without a configuration file does not import it)

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: configuration file is not valid YAML") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: configuration file must be a mapping")
    return data


def find_config_file(folder: Path | None = None) -> Path | None:
    """``iucut.yaml`` in ``folder`` when given, else the nearest one above the working
    folder (``iucut.yaml`` itself when it is in the working folder)."""
    if folder is not None:
        candidate = folder / DEFAULT_CONFIG_FILE
        return candidate if candidate.is_file() else None
    if Path(DEFAULT_CONFIG_FILE).is_file():
        return Path(DEFAULT_CONFIG_FILE)
    for parent in Path.cwd().parents:
        if (parent / DEFAULT_CONFIG_FILE).is_file():
            return parent / DEFAULT_CONFIG_FILE
    return None


def identifier(value: str, what: str) -> str:
    """Check a schema or role name: lower-case SQL identifiers only, so quoting is moot."""
    if not isinstance(value, str) or not _IDENT.match(value):
        raise ConfigError(f"invalid {what} name {value!r}: use lower-case letters, digits, _")
    return value


def load_settings(
    *,
    dsn: str | None = None,
    env_file: Path | None = None,
    schema: str | None = None,
    driver: str | None = None,
    environ: Mapping[str, str] | None = None,
    config_dir: Path | None = None,
) -> Settings:
    """Resolve settings from flags, environment, env file and configuration file.

    ``config_dir``: the project root found for the paths of a command, whose
    ``iucut.yaml`` is the configuration file (else the nearest one above the working
    folder, as git finds its repository).
    """
    process_env = dict(os.environ if environ is None else environ)
    env: dict[str, str] = {}
    if env_file is not None:
        env.update(read_env_file(env_file))
    env.update(process_env)

    config_path: Path | None = None
    config: dict[str, Any] = {}
    if env.get("IUCUT_CONFIG"):
        config_path = Path(env["IUCUT_CONFIG"])
        config = read_config_file(config_path)
    else:
        config_path = find_config_file(config_dir)
        if config_path is not None:
            config = read_config_file(config_path)

    execution: str | None
    if "IUCUT_EXECUTION" in env:
        execution, source = env["IUCUT_EXECUTION"], "IUCUT_EXECUTION"
    elif "execution" in config:
        execution, source = str(config["execution"]), f"{config_path}"
    else:
        execution, source = None, "default"

    roles_cfg = config.get("roles") or {}
    if not isinstance(roles_cfg, dict):
        raise ConfigError(f"{config_path}: 'roles' must be a mapping")
    default_roles = Roles()

    def role(key: str, env_key: str) -> str:
        value = env.get(env_key) or roles_cfg.get(key) or getattr(default_roles, key)
        return identifier(str(value), "role")

    roles = Roles(
        owner=role("owner", "IUCUT_OWNER_ROLE"),
        exec=role("exec", "IUCUT_EXEC_ROLE"),
        reader=role("reader", "IUCUT_READER_ROLE"),
    )
    chosen_driver = driver or env.get("IUCUT_DRIVER") or config.get("driver") or "psycopg"
    if chosen_driver not in DRIVERS:
        raise ConfigError(f"unknown driver {chosen_driver!r}: choose one of {', '.join(DRIVERS)}")
    apply_role = env.get("IUCUT_APPLY_ROLE") or config.get("apply_role")
    home = Path(env["IUCUT_HOME"]) if env.get("IUCUT_HOME") else Path.home() / ".iucut"
    if env.get("IUCUT_MAX_DOCUMENT_BYTES"):  # the cutter reads it from the configuration
        config = {**config, "max_document_bytes": env["IUCUT_MAX_DOCUMENT_BYTES"]}
    return Settings(
        dsn=dsn or env.get("IUCUT_DSN") or env.get("DATABASE_URL") or config.get("dsn"),
        schema=identifier(
            schema or env.get("IUCUT_SCHEMA") or config.get("schema", "public"), "schema"
        ),
        driver=chosen_driver,
        execution=execution,
        execution_source=source,
        roles=roles,
        apply_role=identifier(apply_role, "role") if apply_role else None,
        home=home.expanduser(),
        env=env,
        config_path=config_path,
        config=config,
    )
