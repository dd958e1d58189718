"""Database commands: the embedded server (`db`), `migrate`, `freeze`, `unfreeze`, `status`."""

from __future__ import annotations

import sys
from typing import Any

import click

from iucut.cli import Context, cli, echo_json, note, pass_ctx
from iucut.config import Settings
from iucut.db.connector import Connection, ConnectionProvider, open_provider
from iucut.db.embedded import EmbeddedServer, EmbeddedStatus
from iucut.db.queries import Ident
from iucut.db.target import Target, resolve_target
from iucut.errors import ConnectionFailed, DatabaseError, IucutError, NotMigrated
from iucut.migrate import MigrationResult, migrate, status


def _connect(settings: Settings, *, autocommit: bool = False) -> tuple[Connection, Target]:
    provider = open_provider(settings, notify=note)
    conn = provider.connect(autocommit=autocommit)
    return conn, provider.target


def _schema_hint(exc: DatabaseError, settings: Settings) -> DatabaseError:
    """Add the likely remedy to a refusal of an operator command."""
    sqlstate = exc.context.get("sqlstate")
    if isinstance(exc, NotMigrated):
        return exc  # says what to do already
    if sqlstate == "42501":
        exc.hint = (
            f"freeze and unfreeze need the owner role ({settings.roles.owner}) or an "
            "administrator; connect with --dsn as one"
        )
    elif sqlstate in ("42883", "42P01", "3F000"):
        exc.hint = f"schema {settings.schema} is not migrated: run `iucut migrate`"
    return exc


# -- the embedded server ---------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """Manage the embedded PostgreSQL server (used when no database is given)."""


def _embedded(ctx: Context) -> EmbeddedServer:
    settings = ctx.settings
    target = resolve_target(settings)
    if not target.embedded:
        note(
            f"iucut: note: commands use {target.display} ({target.source}), not the embedded server"
        )
    return EmbeddedServer(settings.home, notify=note)


def _print_embedded(state: EmbeddedStatus, as_json: bool) -> None:
    if as_json:
        echo_json(state.to_dict())
        return
    click.echo(f"data:     {state.pgdata}")
    click.echo(f"running:  {'yes, pid ' + str(state.pid) if state.running else 'no'}")
    if state.version:
        click.echo(f"version:  PostgreSQL {state.version}")
    if state.url:
        click.echo(f"url:      {state.url}")


@db_group.command("start")
@click.option("--json", "as_json", is_flag=True, help="Print the server state as JSON.")
@pass_ctx
def db_start(ctx: Context, as_json: bool) -> None:
    """Start the embedded server (initialize it on first use); leave it running."""
    _print_embedded(_embedded(ctx).start(), as_json)


@db_group.command("stop")
@pass_ctx
def db_stop(ctx: Context) -> None:
    """Stop the embedded server (its data stays)."""
    server = _embedded(ctx)
    click.echo("stopped" if server.stop() else "not running")


@db_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the server state as JSON.")
@pass_ctx
def db_status(ctx: Context, as_json: bool) -> None:
    """Show whether the embedded server is initialized and running, and where."""
    _print_embedded(_embedded(ctx).status(), as_json)


@db_group.command("url")
@click.option("--database", default="iucut", show_default=True, help="Database to name.")
@pass_ctx
def db_url(ctx: Context, database: str) -> None:
    """Print a connection URI of the embedded server (for psql, pg_dump, --dsn)."""
    server = _embedded(ctx)
    if not server.status().running:
        note("iucut: the embedded server is not running: start it with `iucut db start`")
    click.echo(server.url(database))


#: Databases `db reset` never drops: the server's own, and the templates.
_NOT_RESETTABLE = ("postgres", "template0", "template1")


@db_group.command("reset")
@click.argument("database")
@click.option("--yes", is_flag=True, help="Confirm: every table in DATABASE is dropped.")
@pass_ctx
def db_reset(ctx: Context, database: str, yes: bool) -> None:
    """Drop DATABASE on the embedded server and create it empty (starting the server).

    \b
    Only the embedded server of IUCUT_HOME is touched, never a server named by --dsn,
    IUCUT_DSN or PG* variables; `iucut demo` resets its own database `iucut_demo` so.
    Refused without --yes, and for postgres and the template databases.
    Then `export IUCUT_DSN=$(iucut db url --database DATABASE)` points iucut at it.
    """
    from iucut.config import identifier

    name = identifier(database, "database")
    if name in _NOT_RESETTABLE:
        raise click.UsageError(f"{name} is the server's own database, it is never reset")
    if not yes:
        raise click.UsageError(
            f"db reset drops every table in the database {name}: add --yes to confirm"
        )
    server = EmbeddedServer(ctx.settings.home, notify=note)
    state = server.start()
    with ConnectionProvider(Target(server.url("postgres"), "embedded")).connect(
        autocommit=True
    ) as admin:
        admin.query("database_drop", database=Ident(name))
        admin.query("database_create", database=Ident(name))
    click.echo(
        f"database {name} on the embedded server: dropped and created afresh "
        f"(data in {state.pgdata})"
    )


# -- migrate ---------------------------------------------------------------------------


def _print_migration(result: MigrationResult, target: Target, schema: str) -> None:
    for filename in result.applied:
        click.echo(f"applied  {filename}")
    where = f"schema {schema} at version {result.current_version}"
    if result.up_to_date:
        click.echo(f"up to date: {where} ({result.already_applied} migration(s) applied before)")
    else:
        click.echo(f"migrated: {where} ({len(result.applied)} applied now)")
    if result.roles:
        click.echo(
            "roles:    owner, execution and reader roles and their privileges set"
            + (" (hardened: no TEMP for PUBLIC)" if result.hardened else "")
        )
    if result.distributed is not None:
        d = result.distributed
        state = "laid out now" if d["laid_out_now"] else "already laid out"
        click.echo(
            f"citus:    {state}: distributed by doc_path on {d['workers']} worker(s) "
            f"(Citus {d['citus_version']})"
        )
    for line in result.notes:
        note(f"iucut: {line}")


@cli.command("migrate")
@click.option(
    "--roles",
    "with_roles",
    is_flag=True,
    help="Also create/check the owner, execution and reader roles and grant them "
    "exactly their privileges (idempotent).",
)
@click.option(
    "--harden",
    is_flag=True,
    help="With --roles: database-wide hardening (REVOKE TEMPORARY ON DATABASE and "
    "CREATE ON SCHEMA public FROM PUBLIC).",
)
@click.option(
    "--distributed",
    is_flag=True,
    help="On a Citus coordinator: then lay the schema out for Citus (tables distributed "
    "by document, run and control tables replicated; data kept). An error without Citus.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def migrate_cmd(
    ctx: Context, with_roles: bool, harden: bool, distributed: bool, as_json: bool
) -> None:
    """Apply the pending schema migrations (each in its own transaction, checksummed)."""
    if harden and not with_roles:
        raise click.UsageError("--harden needs --roles")
    settings = ctx.settings
    conn, target = _connect(settings)
    with conn:
        note(f"iucut: migrating {target.display}, schema {settings.schema}")
        result = migrate(
            conn,
            settings.schema,
            roles=settings.roles if with_roles else None,
            harden=harden,
            owner=settings.roles.owner,
            distribute=distributed,
        )
        searched = _search_configs(conn, settings)
    if as_json:
        echo_json(
            {
                **result.to_dict(),
                "schema": settings.schema,
                "target": target.display,
                "search_configs": searched,
            }
        )
    else:
        _print_migration(result, target, settings.schema)
        for profile, config in searched.items():
            click.echo(f"search:   profile {profile} now indexed with {config}")


def _search_configs(conn: Connection, settings: Settings) -> dict[str, str]:
    """iucut.yaml's ``search:`` mapping (profile → text-search configuration), written."""
    mapping = settings.config.get("search")
    if not mapping:
        return {}
    from iucut.search import set_configs

    return set_configs(conn, mapping)


# -- freeze ----------------------------------------------------------------------------


def _control(conn: Connection, schema: str) -> dict[str, Any] | None:
    return conn.query("control_state", schema=Ident(schema)).fetchone()


def _set_freeze(
    ctx: Context, frozen: bool, reason: str | None, as_json: bool, wait: float = 30.0
) -> None:
    settings = ctx.settings
    conn, target = _connect(settings)
    with conn:
        try:
            with conn.transaction():
                if frozen:
                    conn.query("freeze_wait", timeout=f"{max(1, round(wait * 1000))}ms")
                    conn.query("freeze", reason=reason)
                else:
                    conn.query("unfreeze")
            state = _control(conn, settings.schema) or {}
        except DatabaseError as exc:
            raise _schema_hint(exc, settings) from exc.__cause__
    if as_json:
        echo_json({"target": target.display, "schema": settings.schema, **state})
    elif frozen:
        click.echo(
            f"frozen: live writes to {target.display} are refused for every cutter"
            + (f" (reason: {reason})" if reason else "")
        )
    else:
        click.echo(
            f"unfrozen: live writes to {target.display} are allowed again "
            "(each cutter's kill-switch still applies)"
        )


@cli.command("freeze")
@click.option("--reason", help="Why writes are frozen (shown by `iucut status`).")
@click.option(
    "--wait",
    type=click.FloatRange(min=0.001),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for writes in flight to finish; past it nothing is frozen and "
    "the error names them (exit 17).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the control row as JSON.")
@pass_ctx
def freeze_cmd(ctx: Context, reason: str | None, wait: float, as_json: bool) -> None:
    """Freeze live writes at the database: every cutter on every host is refused.

    Waits for the writes in flight to commit (up to --wait): once freeze returns, no
    write commits until `iucut unfreeze`.
    """
    _set_freeze(ctx, True, reason, as_json, wait)


@cli.command("unfreeze")
@click.option("--json", "as_json", is_flag=True, help="Print the control row as JSON.")
@pass_ctx
def unfreeze_cmd(ctx: Context, as_json: bool) -> None:
    """Lift a freeze set with `iucut freeze`."""
    _set_freeze(ctx, False, None, as_json)


# -- status ----------------------------------------------------------------------------


def _switch(settings: Settings) -> dict[str, Any]:
    return {
        "enabled": settings.execution_enabled,
        "setting": settings.execution,
        "source": settings.execution_source,
    }


def _database_state(settings: Settings, target: Target) -> dict[str, Any]:
    """Reachability, schema version and freeze state; never raises for an unreachable db."""
    if target.embedded and target.home and not EmbeddedServer(target.home).status().running:
        return {
            "reachable": None,
            "error": "the embedded server is not running "
            "(it starts on demand, or with `iucut db start`)",
        }
    try:
        conn = open_provider(settings, notify=lambda _m: None).connect(autocommit=False)
    except IucutError as exc:
        return {"reachable": False, "error": exc.message}
    with conn:
        state: dict[str, Any] = {"reachable": True, "server_version": conn.server_version}
        try:
            migrations = status(conn, settings.schema)
            state["schema"] = migrations.to_dict()
            if migrations.current_version is not None:
                with conn.transaction(force_rollback=True):
                    state["freeze"] = _control(conn, settings.schema)
        except IucutError as exc:
            state["error"] = exc.message
    return state


def _print_status(data: dict[str, Any]) -> None:
    t, switch, database = data["target"], data["execution"], data["database"]
    click.echo(f"target:       {t['display']}  [{t['source']}]")
    click.echo(f"driver:       {data['driver']}")
    if switch["enabled"]:
        click.echo(f"kill-switch:  ON: live execution enabled (by {switch['source']})")
    elif switch["setting"] is None:
        click.echo("kill-switch:  off (default; IUCUT_EXECUTION=enabled turns it on)")
    else:
        click.echo(
            f"kill-switch:  off ({switch['source']} is {switch['setting']!r}, not 'enabled')"
        )
    if database["reachable"] is None:
        click.echo(f"database:     {database['error']}")
        return
    if not database["reachable"]:
        click.echo(f"database:     UNREACHABLE: {database['error']}")
        return
    version = database["server_version"]
    click.echo(f"database:     reachable, PostgreSQL {version // 10000}.{version % 10000}")
    schema = database.get("schema")
    if schema:
        current = schema["current_version"]
        line = f"{data['schema']}, " + (
            "not migrated (run `iucut migrate`)" if current is None else f"version {current}"
        )
        if current is not None and schema["pending"]:
            line += f", {len(schema['pending'])} migration(s) pending (run `iucut migrate`)"
        for problem in schema["problems"]:
            line += f"; PROBLEM: {problem}"
        click.echo(f"schema:       {line}")
    freeze = database.get("freeze")
    if freeze:
        if freeze["frozen"]:
            click.echo(
                f"writes:       FROZEN since {freeze['changed_at']} by {freeze['changed_by']}"
                + (f" (reason: {freeze['reason']})" if freeze["reason"] else "")
            )
        else:
            click.echo("writes:       not frozen")
    if database.get("error"):
        click.echo(f"error:        {database['error']}")


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@pass_ctx
def status_cmd(ctx: Context, as_json: bool) -> None:
    """Show the target, driver, kill-switch, freeze state and schema version.

    The kill-switch is shown even when the database is unreachable (exit code 8 then).
    The embedded server is not started by this command.
    """
    settings = ctx.settings
    target = resolve_target(settings)
    data: dict[str, Any] = {
        "target": {"display": target.display, "source": target.source, "embedded": target.embedded},
        "driver": settings.driver,
        "schema": settings.schema,
        "execution": _switch(settings),
        "database": _database_state(settings, target),
    }
    if as_json:
        echo_json(data)
    else:
        _print_status(data)
    if data["database"]["reachable"] is False:
        # not an error boundary message: the status above already says why
        sys.exit(ConnectionFailed.exit_code)
