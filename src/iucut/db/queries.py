"""Named queries: SQL files with ``-- name: foo`` headers, loaded once per file.

A file is split at each ``-- name: NAME`` line (a trailing ``--`` is allowed, as in
procrastinate's ``queries.sql``); the text up to the next header is the query, its
leading comment lines included. ``@schema@`` is replaced by the (validated) schema.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from iucut.config import identifier
from iucut.errors import DatabaseError

_HEADER = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:--)?\s*$", re.MULTILINE)
QUERIES_FILE = "queries.sql"


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


@functools.cache
def load(filename: str = QUERIES_FILE) -> dict[str, str]:
    """The named queries of a file shipped in ``iucut/sql`` (read once per process)."""
    path = resources.files("iucut") / "sql" / filename
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise DatabaseError(f"iucut/sql/{filename} is missing from the installation") from exc
    return parse(text, f"iucut/sql/{filename}")


def substitute(sql: str, schema: str) -> str:
    """Replace the ``@schema@`` token (the name is validated, so this is safe)."""
    return sql.replace("@schema@", identifier(schema, "schema"))


def get(name: str, schema: str, filename: str = QUERIES_FILE) -> str:
    """The SQL of named query ``name`` for ``schema``."""
    known = load(filename)
    if name not in known:
        raise DatabaseError(f"no query named {name!r} in iucut/sql/{filename}")
    return substitute(known[name], schema)
