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
from typing import Any

from iucut.config import Settings


def conninfo_to_dict(conninfo: str) -> dict[str, Any]:
    """psycopg's parse of a connection string (libpq's), imported when first needed: a
    command starts without the driver, which an apply imports while it walks the corpus
    (:func:`iucut.db.connector.preload`)."""
    from iucut.db.driver_versions import give_versions

    give_versions()
    from psycopg.conninfo import conninfo_to_dict as parse

    return parse(conninfo)


def make_conninfo(conninfo: str = "", **kwargs: Any) -> str:
    """psycopg's make_conninfo, imported when first needed (see :func:`conninfo_to_dict`)."""
    from iucut.db.driver_versions import give_versions

    give_versions()
    from psycopg.conninfo import make_conninfo as make

    return make(conninfo, **kwargs)


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
    #: why the connection string given cannot be used (it is then never handed to a
    #: driver, whose messages quote the fragments they cannot parse)
    problem: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        remember_secrets(secrets_of(self.conninfo))
        if not self.display:
            object.__setattr__(self, "display", redact(self.conninfo))

    def secrets(self) -> list[str]:
        """The password(s) this target carries, for scrubbing messages."""
        return secrets_of(self.conninfo)


def resolve_target(settings: Settings, *, dsn_source: str | None = None) -> Target:
    """Find the target database without touching it (the embedded server is not started)."""
    env = settings.env
    remember_secrets(v for k, v in env.items() if k == "PGPASSWORD" or k.endswith("_PASSWORD"))
    if settings.dsn:
        source = dsn_source or _dsn_source(settings)
        remember_secrets(candidate_secrets(settings.dsn))
        try:
            conninfo = split_password(settings.dsn)
        except BadConninfo as exc:
            return Target(
                "",
                source,
                display=f"(the connection string from {_where(source)}: not shown, it does "
                "not parse)",
                problem=f"the connection string from {_where(source)} {exc.reason}",
            )
        return Target(_with_env_defaults(conninfo, env), source)
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


def _where(source: str) -> str:
    return "the configuration file" if source == "config" else source


class BadConninfo(ValueError):
    """A connection string that cannot be parsed; ``reason`` quotes none of it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_URI = re.compile(r"\A\s*(?P<scheme>postgres(?:ql)?://)(?P<rest>.*)\Z", re.I | re.S)
#: fields of a URI parse that cannot hold an ``@`` unless a raw password was split wrongly
_AUTHORITY = ("host", "hostaddr", "port", "dbname", "user")


def split_password(dsn: str) -> str:
    """``dsn`` as a key=value connection string libpq reads exactly as meant, with its
    password (if any) moved out of the URI into a quoted ``password=`` keyword.

    A URI password is taken up to the last ``@`` whatever it holds (spaces, ``#``,
    ``/``, ``?``, ``@``, quotes: users write them raw), and percent-decoded as libpq
    does. A string libpq cannot parse raises :class:`BadConninfo`, whose reason quotes
    nothing of the string (libpq's own messages quote the fragment, password included).
    """
    m = _URI.match(dsn)
    params = _parse(dsn)
    if m is not None:
        rest = m["rest"]
        at = rest.rfind("@")
        userinfo = rest[:at] if at >= 0 else ""
        if at >= 0 and ":" in userinfo:
            from urllib.parse import unquote

            user, _, raw_pw = userinfo.partition(":")
            try:
                password: str | None = unquote(raw_pw, errors="strict")
            except UnicodeDecodeError:
                password = None
            # libpq's own reading is kept when it agrees: the same password (or none, as
            # for ``?application_name=a@b``) and no "@" where a split password would land
            trusted = (
                params is not None
                and not any("@" in str(params.get(k) or "") for k in _AUTHORITY)
                and params.get("password") in (None, password)
            )
            if not trusted:
                if password is None:
                    raise BadConninfo("has a password whose percent escapes are not UTF-8 text")
                params = _parse(
                    f"{m['scheme']}{user}@{rest[at + 1 :]}"
                    if user
                    else f"{m['scheme']}{rest[at + 1 :]}"
                )
                if params is None:
                    raise BadConninfo("is not a valid postgresql:// URI")
                params["password"] = password
    if params is None:
        raise BadConninfo(
            "is not a valid postgresql:// URI"
            if m is not None
            else "is not a valid key=value connection string: quote values that hold spaces "
            "or quotes (password='...'), or better keep the password out of it (PGPASSWORD, "
            "~/.pgpass or a service file)"
        )
    try:
        return make_conninfo("", **{k: str(v) for k, v in params.items() if v is not None})
    except Exception:  # e.g. text libpq cannot carry: its message would quote it
        raise BadConninfo("cannot be handed to libpq (a value it cannot carry)") from None


def _parse(conninfo: str) -> dict[str, str] | None:
    try:
        return {k: str(v) for k, v in conninfo_to_dict(conninfo).items()}
    except Exception:
        return None


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
        return "(a connection string that does not parse: not shown)"
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


def candidate_secrets(dsn: str) -> list[str]:
    """Everything in ``dsn`` that may be (part of) a password, however it is written:
    the parsed password, a URI's userinfo after the user up to each ``@``, and what
    follows ``password=`` up to the next ``key=`` or the end; each also percent-decoded
    and cut at white space and quotes (libpq's messages quote such pieces)."""
    found = set(secrets_of(dsn))
    m = _URI.match(dsn)
    if m is not None:
        rest = m["rest"]
        colon = rest.find(":")
        if colon >= 0:
            for at in (i for i, c in enumerate(rest) if c == "@" and i > colon):
                found.add(rest[colon + 1 : at])
    for kv in re.finditer(r"password\s*=\s*", dsn, re.I):
        tail = dsn[kv.end() :]
        nxt = re.search(r"\s[A-Za-z_]+\s*=", tail)
        found.add(tail[: nxt.start()] if nxt else tail)
    from urllib.parse import unquote

    found |= {unquote(f, errors="surrogateescape") for f in list(found)}
    pieces = {p for f in found for p in re.split(r"[\s'\"\\]+", f)}
    found |= {p for p in pieces if len(p) >= _PIECE}
    return sorted((f.strip() for f in found if f.strip()), key=len, reverse=True)


#: Pieces of a candidate password shorter than this are not masked on their own (they
#: would mask ordinary words); the whole password always is.
_PIECE = 4
#: Every password this process has seen: the CLI's error boundary and report writers
#: mask them in whatever they print, whichever path the text took.
_KNOWN: set[str] = set()


def remember_secrets(secrets: Iterable[str]) -> None:
    """Add passwords to the ones :func:`scrub` always masks in this process."""
    # shorter ones would mask letters of every message; they are still never shown by
    # construction (displays are built from parsed parts, the password left out)
    _KNOWN.update(s for s in secrets if len(s.strip()) >= _PIECE)


def known_secrets() -> list[str]:
    """The passwords seen so far, longest first."""
    return sorted(_KNOWN, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove the given passwords, every password seen so far, and anything that looks
    like one from a message."""
    for secret in sorted({*secrets, *_KNOWN}, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return _regex_redact(text)
