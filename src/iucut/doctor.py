"""The deployed-tree gate: checks of the installed package, drivers, database, schema and roles.

:func:`doctor` returns a list of :class:`~iucut.report.Check` and prints nothing. It
generalizes the seed's gate (py_compile and import of every module, drivers present,
the kill-switch state) with the database side: reachable, migrations applied with
intact checksums, and the role privileges as intended, all read from the catalog
(``has_table_privilege``, ``has_function_privilege``, ``pg_has_role``): doctor never
writes to find out whether a write would be allowed.
"""

from __future__ import annotations

import importlib
import py_compile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import iucut
from iucut import manifest
from iucut._version import __version__
from iucut.config import Settings
from iucut.cut.cutter import implementation
from iucut.db.connector import Connection, ConnectionProvider, open_provider
from iucut.errors import IucutError
from iucut.report import Check

#: Modules that need an optional driver: a missing driver is a WARN, not a broken tree.
OPTIONAL = {
    "iucut.db.psycopg2": "psycopg2",
    "iucut.integrations.langchain": "langchain_core",  # iucut[langchain]
    "iucut.integrations.llamaindex": "llama_index",  # iucut[llamaindex]
    "iucut.integrations.mcp": "mcp",  # iucut[mcp]
}
ROLES_HINT = "run `iucut migrate --roles` as an administrator"


@dataclass
class _Checks:
    """The list being built: numbers the checks in the order they are added."""

    items: list[Check] = field(default_factory=list)

    def add(
        self,
        name: str,
        status: str,
        evidence: str | Mapping[str, Any],
        *,
        hint: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Check:
        check = Check(len(self.items) + 1, name, status, evidence, hint, details or {})
        self.items.append(check)
        return check


def doctor(settings: Settings, provider: ConnectionProvider | None = None) -> list[Check]:
    """Run every check; one result per check, in order. Nothing is printed or written."""
    out = _Checks()
    check_package(out, settings)
    check_drivers(out, settings)
    check_kill_switch(out, settings)
    provider = provider or open_provider(settings, notify=lambda _msg: None)
    embedded_before = _embedded_running(provider)
    try:
        conn = provider.connect(autocommit=True)
    except IucutError as exc:
        out.add(
            "database",
            "FAIL",
            f"unreachable: {provider_display(provider)}: {exc.message}",
            hint=exc.hint or "give a database with --dsn, IUCUT_DSN or the PG* variables",
        )
        return out.items
    try:
        check_database(out, conn, provider)
        if provider.target.embedded:
            check_embedded(out, provider, embedded_before)
        if check_schema(out, conn, settings):
            check_database_side(out, conn, settings)
    finally:
        conn.close()
    return out.items


# --------------------------------------------------------------------------------------
# The installed tree (no database)
# --------------------------------------------------------------------------------------


def package_modules() -> list[tuple[str, Path]]:
    """Every module of the installed ``iucut`` package: (dotted name, file)."""
    root = Path(iucut.__file__).resolve().parent
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = ["iucut", *rel.parts]
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


def check_package(out: _Checks, settings: Settings) -> None:
    """py_compile and import every module of the package (the seed's ``67 / 67 files OK``)."""
    modules = package_modules()
    compile_errors: dict[str, str] = {}
    import_errors: dict[str, str] = {}
    optional: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="iucut-doctor-") as tmp:
        for n, (name, path) in enumerate(modules):
            try:
                py_compile.compile(str(path), cfile=str(Path(tmp) / f"{n}.pyc"), doraise=True)
            except py_compile.PyCompileError as exc:
                compile_errors[name] = exc.msg.strip().splitlines()[-1]
    for name, _path in modules:
        if name in compile_errors:
            continue
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if OPTIONAL.get(name) == exc.name:
                optional[name] = f"needs {exc.name}"
            else:
                import_errors[name] = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # any import-time failure is what this check is for
            import_errors[name] = f"{type(exc).__name__}: {exc}"
    total = len(modules)
    compiled = total - len(compile_errors)
    imported = total - len(compile_errors) - len(import_errors)
    evidence = (
        f"py_compile {compiled}/{total} files OK, import {imported}/{total} OK; "
        f"iucut {__version__}, execution_enabled={settings.execution_enabled}; "
        f"cutter: {implementation()}"
    )
    details = {
        "path": str(Path(iucut.__file__).resolve().parent),
        "cutter": implementation(),
        "files": total,
        "compile_errors": compile_errors,
        "import_errors": import_errors,
        "optional_missing": optional,
    }
    if compile_errors or import_errors:
        bad = sorted({*compile_errors, *import_errors})
        out.add(
            "package",
            "FAIL",
            f"{evidence}; broken: {', '.join(bad)}",
            details=details,
            hint="reinstall iucut (pip install --force-reinstall iucut)",
        )
    else:
        out.add("package", "PASS", evidence, details=details)


def check_drivers(out: _Checks, settings: Settings) -> None:
    """psycopg 3 is required; psycopg2 is optional unless it is the configured driver."""
    try:
        import psycopg

        libpq = psycopg.pq.version()
        out.add(
            "driver psycopg",
            "PASS",
            f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__}), libpq "
            f"{libpq // 10000}.{libpq % 10000}"
            + ("; in use" if settings.driver == "psycopg" else ""),
        )
    except ImportError as exc:
        out.add(
            "driver psycopg", "FAIL", f"not importable: {exc}", hint="pip install 'psycopg[binary]'"
        )
    try:
        import psycopg2
        import psycopg2.extensions

        libpq2 = psycopg2.extensions.libpq_version()
        out.add(
            "driver psycopg2",
            "PASS",
            f"psycopg2 {psycopg2.__version__.split()[0]}, libpq "
            f"{libpq2 // 10000}.{libpq2 % 10000}"
            + ("; in use through the shim" if settings.driver == "psycopg2" else ""),
        )
    except ImportError:
        in_use = settings.driver == "psycopg2"
        out.add(
            "driver psycopg2",
            "FAIL" if in_use else "WARN",
            "not installed"
            + (", but it is the configured driver" if in_use else " (optional: psycopg 3 is used)"),
            hint="pip install 'iucut[psycopg2]'",
        )


def check_kill_switch(out: _Checks, settings: Settings) -> None:
    """The switch's state and where it comes from; a near-miss spelling is a WARN."""
    raw, source = settings.execution, settings.execution_source
    if settings.execution_enabled:
        out.add("kill-switch", "PASS", f"ON: live execution enabled by {source}")
    elif raw is None:
        out.add(
            "kill-switch",
            "PASS",
            "OFF (default: IUCUT_EXECUTION is not set); apply is refused, prove runs",
        )
    elif raw.strip().lower() == "enabled":
        out.add(
            "kill-switch",
            "WARN",
            f"OFF: {source} says {raw!r}, not exactly 'enabled'",
            hint="the switch is strict: write IUCUT_EXECUTION=enabled to turn it on",
        )
    else:
        out.add("kill-switch", "PASS", f"OFF: {source} says {raw!r}")


# --------------------------------------------------------------------------------------
# The database
# --------------------------------------------------------------------------------------


def provider_display(provider: ConnectionProvider) -> str:
    try:
        return provider.target.display
    except IucutError:
        return "(unresolved target)"


def _q(conn: Connection, name: str, **params: Any) -> list[dict[str, Any]]:
    return conn.query(name, **params).fetchall()


def _embedded_running(provider: ConnectionProvider) -> bool | None:
    try:
        target = provider.target
    except IucutError:
        return None
    if not target.embedded or target.home is None:
        return None
    from iucut.db.embedded import EmbeddedServer

    return EmbeddedServer(target.home).status().running


def check_database(out: _Checks, conn: Connection, provider: ConnectionProvider) -> None:
    row = _q(conn, "server")[0]
    target = provider.target
    where = target.display if target.embedded else f"{target.display} (from {target.source})"
    evidence = (
        f"{where}: PostgreSQL {row['server_version']}, role {row['role']}, "
        f"driver {conn.driver_name}"
    )
    out.add("database", "PASS", evidence, details={**row, "source": target.source})


def check_embedded(out: _Checks, provider: ConnectionProvider, was_running: bool | None) -> None:
    from iucut.db.embedded import EmbeddedServer

    assert provider.target.home is not None
    status = EmbeddedServer(provider.target.home).status()
    started = " (started by doctor)" if was_running is False else ""
    if status.running:
        out.add(
            "embedded server",
            "PASS",
            f"running{started}, pid {status.pid}, PostgreSQL {status.version}, "
            f"data in {status.pgdata}",
            details=status.to_dict(),
        )
    else:
        out.add(
            "embedded server",
            "FAIL",
            f"not running, data in {status.pgdata}",
            hint="iucut db start; see the log in the data directory",
            details=status.to_dict(),
        )


def check_schema(out: _Checks, conn: Connection, settings: Settings) -> bool:
    """Migrations applied, checksums intact. True when there is a schema to check further."""
    from iucut import migrate

    try:
        state = migrate.status(conn, settings.schema)
    except IucutError as exc:
        out.add(
            "schema",
            "FAIL",
            f"cannot read the migrations of {settings.schema}: {exc.message}",
            hint="iucut migrate --roles",
        )
        return False
    details = state.to_dict()
    where = f"schema {settings.schema}"
    if state.problems:
        out.add(
            "schema",
            "FAIL",
            f"{where}: " + "; ".join(state.problems),
            details=details,
            hint="never edit an applied migration: restore the file, or reinstall the "
            "iucut version that applied it",
        )
        return bool(state.applied)
    if not state.applied:
        out.add(
            "schema",
            "FAIL",
            f"{where}: not migrated ({len(state.pending)} migration(s) pending)",
            details=details,
            hint="iucut migrate --roles",
        )
        return False
    if state.pending:
        out.add(
            "schema",
            "FAIL",
            f"{where}: at version {state.current_version}, pending: {', '.join(state.pending)}",
            details=details,
            hint="iucut migrate",
        )
        return True
    out.add(
        "schema",
        "PASS",
        f"{where}: version {state.current_version}, "
        f"{len(state.applied)}/{len(state.applied)} migrations applied, checksums intact",
        details=details,
    )
    return True


def check_database_side(out: _Checks, conn: Connection, settings: Settings) -> None:
    """Roles, privileges, definer functions and the freeze, all from the catalog."""
    roles = settings.roles
    found = {
        r["name"]: r
        for r in _q(conn, "role_attributes", roles=[roles.owner, roles.exec, roles.reader])
    }
    relations = _q(conn, "relations")
    functions = _q(conn, "functions")
    set_up = check_roles(out, settings, found, relations)
    if set_up:
        check_table_privileges(out, conn, settings, relations)
        check_function_privileges(out, conn, settings, functions)
        check_exec_reach(out, conn, settings, found)
    check_public_execute(out, functions)
    check_owner(out, settings, found, functions)
    check_definers(out, functions)
    check_freeze(out, conn)
    check_unfinished_runs(out, conn)
    check_stored_state(out, conn)


def check_roles(
    out: _Checks, settings: Settings, found: Mapping[str, Any], relations: list[dict[str, Any]]
) -> bool:
    roles = settings.roles
    missing = [n for n in (roles.owner, roles.exec, roles.reader) if n not in found]
    owners = sorted({r["owner"] for r in relations})
    if missing:
        out.add(
            "roles",
            "FAIL",
            f"roles were never set up: {', '.join(missing)} missing; "
            f"the iucut objects are owned by {', '.join(owners) or '-'}",
            hint=ROLES_HINT,
        )
        return False
    if owners and owners != [roles.owner]:
        out.add(
            "roles",
            "FAIL",
            f"roles exist but were never set up in this database: the "
            f"iucut objects are owned by {', '.join(owners)}, not {roles.owner}",
            hint=ROLES_HINT,
        )
        return False
    extra = f"; apply connects as {settings.apply_role}" if settings.apply_role else ""
    out.add(
        "roles",
        "PASS",
        f"owner {roles.owner}, execution {roles.exec}, reader "
        f"{roles.reader}; {len(relations)} iucut relations owned by {roles.owner}{extra}",
    )
    return True


def check_table_privileges(
    out: _Checks, conn: Connection, settings: Settings, relations: list[dict[str, Any]]
) -> None:
    """Neither exec nor reader may write any iucut table; both may read the main ones."""
    names = [r["name"] for r in relations]
    bad: list[str] = []
    missing: list[str] = []
    for role in (settings.roles.exec, settings.roles.reader):
        for row in _q(
            conn,
            "write_privileges",
            role=role,
            relations=names,
            privileges=list(manifest.WRITE_PRIVILEGES),
        ):
            bad.append(f"{role} has {row['priv']} on {row['name']}")
        for row in _q(conn, "select_missing", role=role, tables=list(manifest.READ_TABLES)):
            missing.append(f"{role} cannot SELECT {row['name']}")
    tables = sum(1 for r in relations if r["relkind"] != "S")
    if bad or missing:
        out.add(
            "table privileges",
            "FAIL",
            "; ".join(bad + missing),
            hint="writes go through the SQL functions only: REVOKE the grant, then "
            "`iucut migrate --roles`",
            details={"too_much": bad, "missing": missing},
        )
    else:
        out.add(
            "table privileges",
            "PASS",
            f"{settings.roles.exec} and {settings.roles.reader}: no INSERT, UPDATE, DELETE, "
            f"TRUNCATE, REFERENCES or TRIGGER on any of {tables} tables, no sequence "
            "UPDATE; SELECT on the unit tables",
        )


def _write_functions(functions: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """(functions exec must execute, iucut functions exec must not), by signature."""
    from iucut import migrate

    owner_only = set(migrate.owner_only_functions(migrate.load_migrations()))
    granted: set[str] = set()
    withheld: set[str] = set()
    for f in functions:
        if not _ours(f["name"]):
            continue
        if f["definer"] and not f["trigger"] and f["name"] not in owner_only:
            granted.add(f["signature"])
        else:
            withheld.add(f["signature"])
    return granted, withheld


def _ours(name: str) -> bool:
    return name.startswith(manifest.WRITE_FUNCTION_PREFIXES)


def check_function_privileges(
    out: _Checks, conn: Connection, settings: Settings, functions: list[dict[str, Any]]
) -> None:
    """exec executes the write functions and nothing owner-only; reader executes none."""
    granted, withheld = _write_functions(functions)
    exec_can = {r["signature"] for r in _q(conn, "executable_by", role=settings.roles.exec)}
    reader_can = {r["signature"] for r in _q(conn, "executable_by", role=settings.roles.reader)}
    problems = [f"{settings.roles.exec} cannot execute {s}" for s in sorted(granted - exec_can)]
    problems += [
        f"{settings.roles.exec} can execute owner-only {s}" for s in sorted(withheld & exec_can)
    ]
    problems += [
        f"{settings.roles.reader} can execute {s}"
        for s in sorted((granted | withheld) & reader_can)
    ]
    if problems:
        out.add(
            "function privileges",
            "FAIL",
            "; ".join(problems),
            hint=ROLES_HINT,
            details={"problems": problems},
        )
    else:
        out.add(
            "function privileges",
            "PASS",
            f"{settings.roles.exec} executes the {len(granted)} granted write functions, none "
            f"of the {len(withheld)} owner-only/internal ones; {settings.roles.reader} "
            "executes none",
            details={"write_functions": sorted(granted)},
        )


def check_exec_reach(
    out: _Checks, conn: Connection, settings: Settings, found: Mapping[str, Any]
) -> None:
    """The execution role cannot reach the owner's rights, DDL, or other roles."""
    roles = settings.roles
    problems: list[str] = []
    for role in (roles.exec, roles.reader):
        attrs = found[role]
        for attr in ("superuser", "createrole", "createdb", "replication", "bypassrls"):
            if attrs[attr]:
                problems.append(f"{role} is {attr.upper()}")
        reach = _q(conn, "role_reach", role=role, owner=roles.owner)[0]
        if reach["member_of_owner"]:
            problems.append(f"{role} is a member of {roles.owner}")
        if reach["schema_create"]:
            problems.append(f"{role} has CREATE on schema {settings.schema}")
        if reach["database_create"]:
            problems.append(f"{role} has CREATE on the database")
        if reach["database_owner"]:
            problems.append(f"{role} owns the database")
    if problems:
        out.add(
            "execution role",
            "FAIL",
            "; ".join(problems),
            hint="the execution role must hold no rights beyond EXECUTE and SELECT: "
            f"REVOKE them, then {ROLES_HINT}",
        )
    else:
        out.add(
            "execution role",
            "PASS",
            f"{roles.exec} and {roles.reader}: not superuser, CREATEROLE, CREATEDB, "
            f"REPLICATION or BYPASSRLS; not members of {roles.owner}; no CREATE on schema "
            f"{settings.schema} or the database; not the database owner",
        )


def check_public_execute(out: _Checks, functions: list[dict[str, Any]]) -> None:
    ours = [f for f in functions if _ours(f["name"])]
    public = [f["signature"] for f in ours if f["public_execute"]]
    if public:
        out.add(
            "PUBLIC execute",
            "FAIL",
            f"PUBLIC can execute {', '.join(public)}",
            hint="REVOKE EXECUTE ON FUNCTION ... FROM PUBLIC (or `iucut migrate --roles`)",
        )
    else:
        out.add(
            "PUBLIC execute", "PASS", f"PUBLIC executes none of the {len(ours)} iucut functions"
        )


def check_owner(
    out: _Checks, settings: Settings, found: Mapping[str, Any], functions: list[dict[str, Any]]
) -> None:
    """The owner of the definer functions must not be a superuser (escapes a rollback)."""
    owner = settings.roles.owner
    problems = []
    if owner in found and found[owner]["superuser"]:
        problems.append(f"role {owner} is a superuser")
    super_owned = sorted(
        {
            f["owner"]
            for f in functions
            if _ours(f["name"]) and f["definer"] and f["owner_superuser"]
        }
    )
    if super_owned:
        problems.append(f"definer functions are owned by superuser {', '.join(super_owned)}")
    if problems:
        out.add(
            "owner",
            "FAIL",
            "; ".join(problems),
            hint="a superuser-owned definer function can write files and open "
            f"connections that survive a rollback: {ROLES_HINT}",
        )
    else:
        owners = sorted({f["owner"] for f in functions if _ours(f["name"])})
        out.add(
            "owner", "PASS", f"iucut functions owned by {', '.join(owners) or '-'}, not a superuser"
        )


def _search_path(config: list[str] | None) -> str | None:
    for item in config or []:
        if item.startswith("search_path="):
            return item[len("search_path=") :]
    return None


def check_definers(out: _Checks, functions: list[dict[str, Any]]) -> None:
    """Every SECURITY DEFINER function pins search_path (pg_temp last)."""
    definers = [f for f in functions if f["definer"]]
    unpinned_ours: list[str] = []
    unpinned_other: list[str] = []
    temp_not_last: list[str] = []
    for f in definers:
        path = _search_path(f["config"])
        if path is None:
            (unpinned_ours if _ours(f["name"]) else unpinned_other).append(f["signature"])
        else:
            parts = [p.strip().strip('"') for p in path.split(",") if p.strip().strip('"')]
            if parts and parts[-1] != "pg_temp":
                temp_not_last.append(f"{f['signature']} (search_path={path})")
    if unpinned_ours:
        out.add(
            "definer functions",
            "FAIL",
            "SECURITY DEFINER without a pinned search_path: " + ", ".join(unpinned_ours),
            hint="ALTER FUNCTION ... SET search_path = pg_catalog, pg_temp",
        )
    elif unpinned_other or temp_not_last:
        parts = []
        if unpinned_other:
            parts.append(
                "other SECURITY DEFINER functions in the schema without a pinned "
                "search_path: " + ", ".join(unpinned_other)
            )
        if temp_not_last:
            parts.append(
                "pg_temp not last (a temporary table is searched first): "
                + ", ".join(temp_not_last)
            )
        out.add(
            "definer functions",
            "WARN",
            "; ".join(parts),
            hint="SET search_path = pg_catalog, pg_temp on each",
        )
    else:
        out.add(
            "definer functions",
            "PASS",
            f"all {len(definers)} SECURITY DEFINER functions pin search_path with pg_temp last",
        )


def check_unfinished_runs(out: _Checks, conn: Connection) -> None:
    """Apply runs left 'running' for over an hour: killed, or their connection was lost."""
    row = conn.query("runs_unfinished").fetchone() or {}
    n = int(row.get("runs") or 0)
    if n:
        out.add(
            "unfinished runs",
            "WARN",
            f"{n} apply run(s) never finished (oldest started {row['oldest']:%Y-%m-%d %H:%M}); "
            "each document is wholly old or wholly new, nothing is half written",
            hint="apply the same source again: it converges to the complete state",
        )
    else:
        out.add("unfinished runs", "PASS", "every apply run older than an hour has finished")


def check_freeze(out: _Checks, conn: Connection) -> None:
    row = conn.query("control").fetchone()
    if row is None:
        out.add("freeze", "FAIL", "the control row is missing", hint="iucut migrate")
    elif row["frozen"]:
        out.add(
            "freeze",
            "WARN",
            f"FROZEN by {row['changed_by']} at "
            f"{row['changed_at']:%Y-%m-%d %H:%M:%S}: {row['reason'] or 'no reason given'}; "
            "apply is refused on every host, prove runs",
            hint="iucut unfreeze",
        )
    else:
        out.add("freeze", "PASS", "not frozen: live writes allowed where the kill-switch is on")


def check_stored_state(out: _Checks, conn: Connection) -> None:
    """`iucut verify` in one line: hashes, document digests and tree shape."""
    from iucut.verify import verify

    try:
        checks = verify(conn, limit=5)
    except IucutError as exc:
        out.add("stored state", "FAIL", f"cannot be read: {exc.message}", hint="iucut verify")
        return
    failed = [c for c in checks if c.status == "FAIL"]
    if failed:
        out.add(
            "stored state",
            "FAIL",
            "; ".join(f"{c.name}: {c.evidence}" for c in failed),
            hint="iucut verify lists every problem",
            details={c.name: dict(c.details) for c in failed},
        )
    else:
        out.add(
            "stored state",
            "PASS",
            f"iucut verify {len(checks)}/{len(checks)}: "
            + ", ".join(c.name for c in checks)
            + " check out",
        )
