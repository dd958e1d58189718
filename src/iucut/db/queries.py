"""Named queries: every statement iucut runs (but the migrations) lives in a ``.sql`` file
of ``iucut/sql`` under a ``-- name: foo`` header; this module is the one way to them.

A file is split at each ``-- name: NAME`` line (a trailing ``--`` is allowed, as in
procrastinate's ``queries.sql``); the text up to the next header is the query, its
leading comment lines included. A name is defined once across all the files, so a
caller names the query, never the file: ``conn.query("fingerprint")``.

``@schema@`` is replaced by the connection's (validated) schema. Other ``@name@`` tokens
are replaced by the parameters of that name given as :class:`Ident` (a validated
identifier: a database, a role) or :class:`SqlText` (SQL the caller built from validated
parts); every other parameter is bound by the driver, never spliced into the text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iucut.config import identifier
from iucut.errors import DatabaseError

_HEADER = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:--)?\s*$", re.MULTILINE)
QUERIES_FILE = "queries.sql"
#: The files of named queries, read in this order: the statements of the library
#: (queries.sql), the migration runner (bootstrap.sql), doctor (doctor.sql) and the
#: roles and privileges that ``migrate --roles`` sets (roles.sql), and the layout of
#: ``migrate --distributed`` on Citus (distributed/layout.sql).
FILES = (QUERIES_FILE, "bootstrap.sql", "doctor.sql", "roles.sql", "distributed/layout.sql")


class Ident(str):
    """A parameter spliced into the query's ``@name@`` token as an identifier (checked:
    lower-case letters, digits and ``_``), for what cannot be bound (CREATE DATABASE)."""

    __slots__ = ()

    def __new__(cls, value: str, what: str = "identifier") -> Ident:
        return super().__new__(cls, identifier(value, what))


class SqlText(str):
    """A parameter spliced into the query's ``@name@`` token as SQL text: only for text
    the caller built from checked parts (an array of checked names)."""

    __slots__ = ()


def parse(text: str, origin: str = "<sql>") -> dict[str, str]:
    """Split a named-query file into ``{name: sql}``; a name may appear only once."""
    found: dict[str, str] = {}
    headers = list(_HEADER.finditer(text))
    for i, m in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        name = m[1]
        if name in found:
            raise DatabaseError(f"{origin}: query {name!r} is defined twice")
        found[name] = text[m.end() : end].strip() + "\n"
    return found


def _read(filename: str) -> str:
    # (the package's folder, not importlib.resources: ~10 ms of start-up a command;
    # iucut is installed as files, never run from a zip: the C core is a file too)
    path = Path(__file__).resolve().parent.parent / "sql" / filename
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise DatabaseError(f"iucut/sql/{filename} is missing from the installation") from exc


@functools.cache
def load() -> dict[str, str]:
    """Every named query of every file (read once per process); a name defined in two
    files is refused."""
    known: dict[str, str] = {}
    where: dict[str, str] = {}
    for filename in FILES:
        for name, sql in parse(_read(filename), f"iucut/sql/{filename}").items():
            if name in known:
                raise DatabaseError(
                    f"iucut/sql/{filename}: query {name!r} is defined in {where[name]} too"
                )
            known[name] = sql
            where[name] = f"iucut/sql/{filename}"
    return known


def substitute(sql: str, schema: str) -> str:
    """Replace the ``@schema@`` token (the name is validated, so this is safe)."""
    return sql.replace("@schema@", identifier(schema, "schema"))


def prepare(name: str, schema: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The SQL of named query ``name`` for ``schema`` with its tokens replaced, and the
    parameters left to bind. A ``schema`` parameter given as :class:`Ident` is the
    schema of the tokens (migrate works on a schema named by its caller)."""
    known = load()
    if name not in known:
        raise DatabaseError(f"no query named {name!r} in iucut/sql ({', '.join(FILES)})")
    tokens = {k: v for k, v in params.items() if isinstance(v, Ident | SqlText)}
    sql = substitute(known[name], str(tokens.get("schema", schema)))
    for key, value in tokens.items():
        sql = sql.replace(f"@{key}@", value)
    bound = {
        k: str(v) if isinstance(v, Ident | SqlText) else v
        for k, v in params.items()
        if k not in tokens or f"%({k})s" in sql
    }
    return sql, bound


def get(name: str, schema: str) -> str:
    """The text of named query ``name`` for ``schema`` (to show or explain it; run it
    with :meth:`Connection.query <iucut.db.connector.BaseConnection.query>`)."""
    return prepare(name, schema, {})[0]
