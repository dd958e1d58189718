"""Where the database is: the target, where it was named, and its password-free display.

Order: ``--dsn``, ``IUCUT_DSN``, ``DATABASE_URL``, the configuration file's ``dsn``;
else the libpq environment (``PG*`` variables, also from ``--env-file``); else the
embedded server. Connection strings are handed to libpq untouched apart from
keywords filled in from the environment, so ``.pgpass`` and service files keep
working: iucut never adds an empty password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from iucut.config import Settings

#: Variables that make iucut use the libpq environment instead of the embedded server.
LIBPQ_TRIGGERS = (
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGSERVICE",
    "PGSERVICEFILE",
)
#: libpq environment variables and the connection keyword each one stands for.
LIBPQ_ENV = {
    "PGHOST": "host",
    "PGHOSTADDR": "hostaddr",
    "PGPORT": "port",
    "PGDATABASE": "dbname",
    "PGUSER": "user",
    "PGPASSWORD": "password",
    "PGPASSFILE": "passfile",
    "PGSERVICE": "service",
    # PGSERVICEFILE has no keyword before libpq 18: libpq reads it from the environment
    "PGOPTIONS": "options",
    "PGAPPNAME": "application_name",
    "PGSSLMODE": "sslmode",
    "PGSSLROOTCERT": "sslrootcert",
    "PGSSLCERT": "sslcert",
    "PGSSLKEY": "sslkey",
    "PGCONNECT_TIMEOUT": "connect_timeout",
    "PGTARGETSESSIONATTRS": "target_session_attrs",
    "PGCHANNELBINDING": "channel_binding",
    "PGGSSENCMODE": "gssencmode",
}
MASK = "***"
EMBEDDED_DATABASE = "iucut"


@dataclass(frozen=True)
class Target:
    """A database to connect to; ``display`` is safe to print, ``conninfo`` is not."""

    conninfo: str
    source: str  # "--dsn" | "IUCUT_DSN" | "DATABASE_URL" | "config" | "libpq-env" | "embedded"
    embedded: bool = False
    home: Path | None = None  # the iucut home of an embedded target
    display: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.display:
            object.__setattr__(self, "display", redact(self.conninfo))

    def secrets(self) -> list[str]:
        """The password(s) this target carries, for scrubbing messages."""
        return secrets_of(self.conninfo)


def resolve_target(settings: Settings, *, dsn_source: str | None = None) -> Target:
    """Find the target database without touching it (the embedded server is not started)."""
    env = settings.env
    if settings.dsn:
        source = dsn_source or _dsn_source(settings)
        return Target(_with_env_defaults(settings.dsn, env), source)
    if any(env.get(name) for name in LIBPQ_TRIGGERS):
        return Target(_with_env_defaults("", env), "libpq-env")
    from iucut.db.embedded import EmbeddedServer

    server = EmbeddedServer(settings.home)
    return Target(
        server.url(EMBEDDED_DATABASE),
        "embedded",
        embedded=True,
        home=settings.home,
        display=f"embedded PostgreSQL in {server.pgdata} (database {EMBEDDED_DATABASE})",
    )


def _dsn_source(settings: Settings) -> str:
    env = settings.env
    if env.get("IUCUT_DSN") == settings.dsn:
        return "IUCUT_DSN"
    if env.get("DATABASE_URL") == settings.dsn:
        return "DATABASE_URL"
    if settings.config.get("dsn") == settings.dsn:
        return "config"
    return "--dsn"


def _with_env_defaults(conninfo: str, env: Mapping[str, str]) -> str:
    # libpq fills missing keywords from the process environment by itself; the env file
    # is not in the process environment, so do the same for it (and for a full display).
    try:
        given = conninfo_to_dict(conninfo)
    except Exception:
        return conninfo  # the driver reports the malformed string (scrubbed)
    extra = {kw: env[var] for var, kw in LIBPQ_ENV.items() if env.get(var) and kw not in given}
    if "host" in given or "hostaddr" in given:
        extra.pop("host", None)
        extra.pop("hostaddr", None)
    if "service" in given or "service" in extra:
        # a service file outranks the environment in libpq: only name the service
        extra = {k: v for k, v in extra.items() if k in _SERVICE_SAFE}
    return make_conninfo(conninfo, **extra) if extra else conninfo


_SERVICE_SAFE = ("service", "password", "passfile")


def redact(conninfo: str) -> str:
    """The connection string without its password (``password=***``): safe to show."""
    try:
        params = conninfo_to_dict(conninfo)
    except Exception:
        return _regex_redact(conninfo)
    if params.get("password"):
        params["password"] = MASK
    else:
        params.pop("password", None)
    return make_conninfo("", **{k: str(v) for k, v in params.items()})


def with_user(conninfo: str, user: str) -> str:
    """The same target, connecting as another role (the first role's password is dropped)."""
    params = conninfo_to_dict(conninfo)
    if params.get("user") != user:
        params.pop("password", None)
    params["user"] = user
    return make_conninfo("", **{k: str(v) for k, v in params.items()})


def with_database(conninfo: str, dbname: str) -> str:
    """The same server and role, another database."""
    return make_conninfo(conninfo, dbname=dbname)


# A password in a URI runs to the "@" before the host, even with characters that should
# have been percent-encoded (#, ?, /): users write them raw, and those must not leak.
_URI_PASSWORD = re.compile(r"(?P<pre>://[^:/@?#\s]*:)(?P<pw>[^@\s]*)(?P<post>@)")
_KV_PASSWORD = re.compile(
    r"(?P<pre>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^\s&]+)", re.IGNORECASE
)


def _regex_redact(text: str) -> str:
    text = _URI_PASSWORD.sub(lambda m: f"{m['pre']}{MASK}{m['post']}", text)
    return _KV_PASSWORD.sub(lambda m: f"{m['pre']}{MASK}", text)


def secrets_of(conninfo: str) -> list[str]:
    """Every password written in a connection string (parsed, or found by pattern)."""
    found: list[str] = []
    try:
        pw = conninfo_to_dict(conninfo).get("password")
        if pw:
            found.append(str(pw))
    except Exception:
        pass
    for regex in (_URI_PASSWORD, _KV_PASSWORD):
        for m in regex.finditer(conninfo):
            pw = m["pw"].strip("'")
            if pw:
                found.append(pw)
    from urllib.parse import unquote

    found += [unquote(pw) for pw in found]
    return sorted({pw for pw in found if pw}, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove the given passwords and anything that looks like one from a message."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _regex_redact(text)
