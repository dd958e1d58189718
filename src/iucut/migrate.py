"""Versioned, checksummed schema migrations, and the roles that guard the schema.

Migrations are the package's ``sql/migrations/NNNN_name.sql`` files. Each pending one
runs in its own transaction together with its record row in ``iucut_migration``, under
a transaction-level advisory lock, so concurrent ``iucut migrate`` runs take turns.
An applied migration whose file changed, or an applied version this package does not
know, stops everything before anything runs. Files run without parameters, with
``@schema@`` replaced and ``search_path = pg_catalog, pg_temp`` (qualify every name).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from iucut import distributed, manifest
from iucut.config import Roles, identifier
from iucut.db import queries
from iucut.db.connector import Connection
from iucut.db.queries import Ident, SqlText
from iucut.errors import MigrationError

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_MARKED = re.compile(r"^--\s*(owner-only|internal)\b", re.IGNORECASE)
_CREATE_FUNCTION = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\s+@schema@\.([a-z_][a-z0-9_]*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Migration:
    """One migration file: its version, name, SQL text and checksum (sha256 of the bytes)."""

    version: int
    name: str
    filename: str
    sql: str
    checksum: str


@dataclass(frozen=True)
class MigrationResult:
    """What ``migrate`` did: the files applied now, how many were there, the version now."""

    applied: tuple[str, ...]
    already_applied: int
    current_version: int | None
    roles: bool = False
    hardened: bool = False
    notes: tuple[str, ...] = ()
    distributed: dict[str, Any] | None = None  # what migrate --distributed did (Citus)

    @property
    def up_to_date(self) -> bool:
        return not self.applied

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "up_to_date": self.up_to_date}


@dataclass(frozen=True)
class MigrationStatus:
    """The schema version of a database compared with the package's migrations."""

    current_version: int | None
    latest_version: int | None
    applied: tuple[int, ...]
    pending: tuple[str, ...]
    changed: tuple[str, ...] = ()  # applied files whose checksum differs
    unknown: tuple[int, ...] = ()  # applied versions this package does not have
    problems: tuple[str, ...] = field(default=())

    @property
    def current(self) -> bool:
        return not self.pending and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "current": self.current}


def load_migrations(directory: Path | Traversable | None = None) -> list[Migration]:
    """The migrations in ``directory`` (default: the package's), ordered by version."""
    folder: Path | Traversable = directory or resources.files("iucut") / "sql" / "migrations"
    found: dict[int, Migration] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        m = _FILE.match(entry.name)
        if not m:
            raise MigrationError(f"{entry.name}: migration files are named NNNN_name.sql")
        data = entry.read_bytes()
        version = int(m[1])
        if version in found:
            raise MigrationError(f"{entry.name}: version {version} appears twice")
        found[version] = Migration(
            version=version,
            name=m[2],
            filename=entry.name,
            sql=data.decode("utf-8"),
            checksum=hashlib.sha256(data).hexdigest(),
        )
    return [found[v] for v in sorted(found)]


def owner_only_functions(migrations: Iterable[Migration]) -> list[str]:
    """Functions whose comment block says ``-- owner-only`` or ``-- internal``."""
    names: set[str] = set()
    for migration in migrations:
        block: list[str] = []
        for line in migration.sql.splitlines():
            m = _CREATE_FUNCTION.match(line)
            if m and any(_MARKED.match(c) for c in block):
                names.add(m[1].lower())
            stripped = line.strip()
            block = [*block, stripped] if stripped.startswith("--") else []
    return sorted(names)


def _begin(conn: Connection, schema: str) -> None:
    conn.query("lock", schema=Ident(schema))
    conn.query("search_path", schema=Ident(schema))


def _applied(conn: Connection, schema: str) -> dict[int, dict[str, Any]]:
    present = conn.query(
        "record_table", schema=Ident(schema), table=f"{schema}.iucut_migration"
    ).scalar()
    if not present:
        return {}
    return {row["version"]: row for row in conn.query("applied", schema=Ident(schema)).fetchall()}


def _check(applied: dict[int, dict[str, Any]], known: list[Migration]) -> MigrationStatus:
    by_version = {m.version: m for m in known}
    changed = tuple(
        by_version[v].filename
        for v, row in applied.items()
        if v in by_version and row["checksum"] != by_version[v].checksum
    )
    unknown = tuple(sorted(v for v in applied if v not in by_version))
    problems = [
        f"{by_version[v].filename} was changed after it was applied: database has checksum "
        f"{row['checksum']}, the file has {by_version[v].checksum}"
        for v, row in applied.items()
        if v in by_version and row["checksum"] != by_version[v].checksum
    ]
    if unknown:
        problems.append(
            f"the database has migration(s) {', '.join(map(str, unknown))}, newer than this "
            f"iucut knows (latest {known[-1].version if known else 'none'}): upgrade iucut"
        )
    return MigrationStatus(
        current_version=max(applied) if applied else None,
        latest_version=known[-1].version if known else None,
        applied=tuple(sorted(applied)),
        pending=tuple(m.filename for m in known if m.version not in applied),
        changed=changed,
        unknown=unknown,
        problems=tuple(problems),
    )


def status(conn: Connection, schema: str, *, directory: Path | None = None) -> MigrationStatus:
    """Compare the database's applied migrations with the package's (reads only)."""
    identifier(schema, "schema")
    known = load_migrations(directory)
    with conn.transaction(force_rollback=True):
        conn.query("search_path", schema=Ident(schema))
        return _check(_applied(conn, schema), known)


def _objects(conn: Connection, schema: str) -> set[tuple[str, str]]:
    rows = conn.query("schema_objects", schema=Ident(schema)).fetchall()
    return {(r["kind"], r["identity"]) for r in rows}


def _register(conn: Connection, schema: str, objects: set[tuple[str, str]], version: int) -> None:
    if objects:
        kinds, identities = zip(*sorted(objects), strict=True)
        conn.query(
            "register_objects",
            schema=Ident(schema),
            kinds=list(kinds),
            identities=list(identities),
            version=version,
        )


def _apply_one(
    conn: Connection, schema: str, migration: Migration, owner: str, citus: bool = False
) -> bool:
    """Apply one migration and its record in one transaction; False if already applied.
    ``citus``: the schema is distributed (its tables' triggers are Citus's to allow)."""
    with conn.transaction():
        _begin(conn, schema)
        if citus:
            distributed.run_script(conn, queries.get("settings", schema))
        if migration.version in _applied(conn, schema):
            return False  # a concurrent migrate applied it while we waited for the lock
        as_owner = bool(
            conn.query(
                "owner_usable", schema=Ident(schema), **_owner_params(schema, owner)
            ).scalar()
        )
        if as_owner:
            conn.query("set_role", schema=Ident(schema), role=owner)
        before = _objects(conn, schema)
        if citus:  # Citus forwards DDL text to the workers one command at a time
            distributed.run_script(conn, queries.substitute(migration.sql, schema))
        else:
            conn.executescript(queries.substitute(migration.sql, schema))
        conn.query("search_path", schema=Ident(schema))  # a migration may have changed it
        _register(conn, schema, _objects(conn, schema) - before, migration.version)
        if as_owner:
            conn.query("reset_role", schema=Ident(schema))
        conn.query(
            "record",
            schema=Ident(schema),
            version=migration.version,
            name=migration.name,
            checksum=migration.checksum,
        )
    return True


def _apply_roles(
    conn: Connection,
    schema: str,
    roles: Roles,
    known: list[Migration],
    harden: bool,
    citus: bool = False,
) -> None:
    names = [identifier(n, "function") for n in owner_only_functions(known)]
    owner_only = manifest.sql_array(names)
    with conn.transaction():
        _begin(conn, schema)
        database = str(conn.query("database", schema=Ident(schema)).scalar())
        tokens = {
            "schema": Ident(schema),
            "owner": Ident(roles.owner, "role"),
            "exec": Ident(roles.exec, "role"),
            "reader": Ident(roles.reader, "role"),
            "database": SqlText(database),  # quoted by quote_ident()
            "owner_only": SqlText(owner_only),
            "read_tables": SqlText(manifest.sql_array(manifest.READ_TABLES)),
            "write_privileges": SqlText(manifest.sql_array(manifest.WRITE_PRIVILEGES)),
            "write_functions": SqlText(manifest.sql_array(manifest.like_patterns())),
            # roles are global: in a database with Citus every schema's owner logs in
            "owner_login": SqlText("true" if distributed.citus_version(conn) else "false"),
        }
        for section in ("roles", "harden") if harden else ("roles",):
            if citus:  # Citus forwards DDL text to the workers one command at a time
                distributed.run_script(conn, queries.prepare(section, schema, tokens)[0])
            else:
                conn.script(section, **tokens)


def migrate(
    conn: Connection,
    schema: str,
    *,
    roles: Roles | None = None,
    harden: bool = False,
    owner: str | None = None,
    directory: Path | None = None,
    distribute: bool = False,
) -> MigrationResult:
    """Bring ``schema`` up to date; with ``roles``, (re)apply the roles and privileges.

    ``owner``: the owner role to run migrations as when it exists (default: the roles'
    owner or ``iucut_owner``). ``directory``: another migrations folder (tests).
    ``distribute``: then lay the schema out for Citus (:mod:`iucut.distributed`; an error
    without Citus, checked before any migration runs). A schema laid out so before keeps
    its layout through later migrations.
    """
    identifier(schema, "schema")
    if harden and roles is None:
        raise MigrationError("--harden needs --roles")
    owner = identifier(owner or (roles or Roles()).owner, "role")
    known = load_migrations(directory)
    if conn.in_transaction:
        # our transactions would become savepoints of the caller's, committed by nobody
        raise MigrationError("migrate needs a connection outside any transaction")
    if conn.autocommit:
        conn.autocommit = False
    with conn.transaction():
        _begin(conn, schema)
        conn.script("create_schema", schema=Ident(schema))
        fresh = not _applied(conn, schema)
        before = _objects(conn, schema) if fresh else set()
        conn.script("bootstrap", schema=Ident(schema))
        if fresh:
            _register(conn, schema, _objects(conn, schema) - before, 0)
        state = _check(_applied(conn, schema), known)
        citus = distributed.is_distributed(conn, schema)
    if distribute and not citus:
        with conn.transaction():
            distributed.require_citus(conn)
    if state.problems:
        raise MigrationError(
            "; ".join(state.problems), hint="never edit an applied migration: add a new one"
        )
    applied = [
        m.filename
        for m in known
        if m.version not in state.applied and _apply_one(conn, schema, m, owner, citus)
    ]
    laid_out: dict[str, Any] | None = None
    if distribute:
        laid_out = distributed.distribute(conn, schema).to_dict()
    elif citus and applied:
        with conn.transaction():
            _begin(conn, schema)
            distributed.refresh_functions(conn, schema)
    notes: list[str] = []
    if roles is not None:
        _apply_roles(conn, schema, roles, known, harden, citus or laid_out is not None)
    elif applied and _owner_exists(conn, schema, owner):
        notes.append("roles are set up: run `iucut migrate --roles` to grant the new objects")
    final = status(conn, schema, directory=directory)
    return MigrationResult(
        applied=tuple(applied),
        already_applied=len(state.applied),
        current_version=final.current_version,
        roles=roles is not None,
        hardened=harden,
        notes=tuple(notes),
        distributed=laid_out,
    )


def _owner_params(schema: str, owner: str) -> dict[str, str]:
    return {"owner": owner, "table": f"{schema}.iucut_migration"}


def _owner_exists(conn: Connection, schema: str, owner: str) -> bool:
    with conn.transaction(force_rollback=True):
        return bool(
            conn.query(
                "owner_usable", schema=Ident(schema), **_owner_params(schema, owner)
            ).scalar()
        )


#: The file of the current definitions (``make schema`` writes it; a test holds a fresh
#: migration equal to it).
SCHEMA_FILE = "schema.sql"


def current_definitions(conn: Connection, schema: str) -> str:
    """The definitions of ``schema`` as the catalog holds them (types, sequences, tables,
    constraints, indexes, functions, triggers, owners and grants), in a fixed order, with
    the schema's name written ``@schema@`` as in the migrations: the text of
    ``iucut/sql/schema.sql`` when ``schema`` was freshly migrated with ``--roles``."""
    identifier(schema, "schema")
    version = status(conn, schema).current_version
    rows = conn.query("schema_definitions", schema=Ident(schema)).fetchall()
    own = re.compile(rf"(?<!\w){re.escape(schema)}(?!\w)")  # in names and lock keys
    head = (
        "-- iucut: the current definitions of the schema, as `iucut migrate --roles` leaves a\n"
        f"-- fresh database (schema version {version}), with the default role names.\n"
        "-- Generated from the catalog by `make schema`: do not edit. The migrations are the\n"
        "-- source; this file is their sum, to read (tests/db/test_schema_file.py holds a\n"
        "-- fresh migration equal to it).\n"
    )
    titles = {
        1: "types",
        2: "sequences",
        3: "tables",
        4: "views",
        5: "constraints",
        6: "indexes",
        7: "functions",
        8: "triggers",
        9: "owners",
        10: "grants",
    }
    out = [head]
    section = None
    for row in rows:
        if row["section"] != section:
            section = row["section"]
            out.append(f"\n-- {titles.get(section, str(section))}\n")
        out.append("\n" + own.sub("@schema@", row["definition"]).rstrip() + "\n")
    return "".join(out)
