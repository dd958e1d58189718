"""The tiny connection interface every driver serves, and the provider that opens them.

Two drivers serve the same surface: psycopg 3 natively (:mod:`iucut.db.psycopg3`) and
psycopg2 through :class:`~iucut.db.psycopg2.Psycopg2ConnectionShim`. Rows are dicts.
Parameters are a dict for ``%(name)s`` placeholders; a ``dict`` value is sent as
``jsonb`` by both drivers. SQL without parameters is sent as is (``%`` is literal).
Driver exceptions never leave a connection: each driver module has one function that
turns them into :mod:`iucut.errors` (see :func:`build_error`, which both share).

Leaving ``with connection:`` rolls back what is not committed and closes: it never
commits (unlike the drivers' own context managers).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from iucut.config import Settings
from iucut.db import queries
from iucut.db.driver_versions import give_versions
from iucut.db.target import Target, resolve_target, scrub, with_user
from iucut.errors import (
    ConfigError,
    ConnectionFailed,
    ContractError,
    DatabaseError,
    FreezeTimeout,
    Frozen,
    IucutError,
    NotFound,
    NotMigrated,
    StalePlan,
)

log = logging.getLogger("iucut.db")

Row = dict[str, Any]
Params = Mapping[str, Any] | None

#: SQLSTATEs raised by the iucut functions that have an error kind of their own.
SQLSTATE_ERRORS: dict[str, type[IucutError]] = {
    "IUF01": Frozen,
    "IUS01": StalePlan,
    "IUC01": ContractError,
    "IUN01": NotFound,
    "IUF02": FreezeTimeout,
    # the database refused what it was told (0004): each is the caller's fault, like IUC01
    "IUC02": ContractError,  # a content hash that is not the hash of the text
    "IUC03": ContractError,  # a code or namespace outside the document's namespace
    "IUC04": ContractError,  # not one tree (a parent missing, elsewhere, later; a cycle)
    "IUC05": ContractError,  # a negative position
    "IUC06": ContractError,  # two units at one position
    "IUC07": ContractError,  # a document digest that is not its units'
    "IUC08": ContractError,  # a create of a code another unit held (0011)
}
#: SQLSTATE classes and codes that mean the connection itself failed or was lost.
CONNECTION_SQLSTATES = ("08", "57P01", "57P02", "57P03")


@dataclass(frozen=True)
class Json:
    """A parameter to send as ``jsonb`` (use it for lists; a plain dict is sent so anyway)."""

    value: Any


@runtime_checkable
class Result(Protocol):
    """What ``execute`` returns: rows as dicts, and the affected row count."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> list[Row]: ...

    def scalar(self) -> Any: ...


@runtime_checkable
class Connection(Protocol):
    """One database session, whichever driver serves it."""

    driver_name: str
    schema: str

    @property
    def autocommit(self) -> bool: ...

    @autocommit.setter
    def autocommit(self, value: bool) -> None: ...

    @property
    def server_version(self) -> int: ...

    @property
    def backend_pid(self) -> int: ...

    @property
    def closed(self) -> bool: ...

    @property
    def in_transaction(self) -> bool:
        """A transaction is open (explicitly, or implicitly by a statement)."""
        ...

    def execute(self, sql: str, params: Params = None) -> Result: ...

    def executescript(self, sql: str) -> None: ...

    def query(self, name: str, /, **params: Any) -> Result: ...

    def parameter_encoder(self) -> ParameterEncoder | None: ...

    def stream(self, name: str, /, **params: Any) -> Iterator[Row]: ...

    def script(self, name: str, /, **tokens: Any) -> None: ...

    def transaction(self, force_rollback: bool = False) -> AbstractContextManager[None]: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Connection: ...

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class RowsResult:
    """A materialized result: the rows of a statement (or none) and its row count."""

    def __init__(self, rows: Sequence[Row] | None, rowcount: int):
        self._rows = list(rows) if rows is not None else None
        self._next = 0
        self._rowcount = rowcount

    @property
    def rowcount(self) -> int:
        return self._rowcount

    def fetchone(self) -> Row | None:
        if not self._rows or self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Row]:
        rows = (self._rows or [])[self._next :]
        self._next += len(rows)
        return rows

    def scalar(self) -> Any:
        """The first column of the next row (None when there is none)."""
        row = self.fetchone()
        return None if row is None else next(iter(row.values()), None)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())


@dataclass(frozen=True, slots=True)
class Encoded:
    """A parameter already encoded as the driver sends it (by another process, e.g. a
    worker that cut the document): its bytes, type oid (0: the server infers it) and
    format. Only a driver whose :meth:`BaseConnection.parameter_encoder` made it sends it."""

    data: bytes
    oid: int
    binary: bool


#: Encodes the parameters of ``%(name)b`` placeholders as a connection would send them.
ParameterEncoder = Callable[[Sequence[Any]], list[Any]]


class BaseConnection:
    """What both drivers share: named queries and the never-commit context manager."""

    driver_name = "?"
    schema = "public"

    def parameter_encoder(self) -> ParameterEncoder | None:
        """A function (it pickles: a module-level one) that encodes the values of
        ``%(name)b`` placeholders exactly as this connection would, into :class:`Encoded`
        values that it sends as they are; None when the driver has none."""
        return None

    def execute(self, sql: str, params: Params = None) -> Result:
        raise NotImplementedError

    def executescript(self, sql: str) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def query(self, name: str, /, **params: Any) -> Result:
        """Run the named query ``name`` (see :mod:`iucut.db.queries`) for this
        connection's schema: the one way iucut runs a statement."""
        sql, bound = queries.prepare(name, self.schema, params)
        return self.execute(sql, bound or None)

    def stream(self, name: str, /, **params: Any) -> Iterator[Row]:
        """The rows of the named query ``name``, one at a time: a driver that can makes
        each row's Python objects as it is taken (not the whole result's at once)."""
        return iter(self.query(name, **params).fetchall())

    def script(self, name: str, /, **tokens: Any) -> None:
        """Run the named query ``name``, a script of several statements (no parameters
        bound: ``tokens`` are :class:`~iucut.db.queries.Ident` or ``SqlText``)."""
        sql, _ = queries.prepare(name, self.schema, tokens)
        self.executescript(sql)

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.rollback()
        except IucutError:
            pass  # the connection may be gone already; closing is what matters
        finally:
            self.close()


def build_error(
    *,
    sqlstate: str | None,
    message: str,
    hint: str | None = None,
    detail: str | None = None,
    connecting: bool = False,
    lost: bool = False,
    secrets: Sequence[str] = (),
    target: str | None = None,
) -> IucutError:
    """The iucut error for a driver failure, every text scrubbed of passwords.

    ``connecting``: the failure happened while opening the connection; ``lost``: the
    driver says the connection broke (no SQLSTATE, or a connection-exception class).
    """
    # the functions mark their messages "iucut: ..." for the server's log; the error is
    # iucut's already, and the CLI says "iucut: error:" once
    message = scrub(message.strip().removeprefix("iucut: ") or "unknown error", secrets)
    hint = scrub(hint, secrets) if hint else None
    context: dict[str, Any] = {"sqlstate": sqlstate}
    if detail:
        context["detail"] = scrub(detail, secrets)
    if sqlstate in SQLSTATE_ERRORS:
        return SQLSTATE_ERRORS[sqlstate](message, hint=hint, **context)
    if connecting:
        where = f"cannot connect to {scrub(target, secrets)}" if target else "cannot connect"
        return ConnectionFailed(f"{where}: {message}", hint=hint, **context)
    if lost or (sqlstate or "").startswith(CONNECTION_SQLSTATES):
        return ConnectionFailed(f"database connection lost: {message}", hint=hint, **context)
    return DatabaseError(message, hint=hint, **context)


#: SQLSTATEs of a missing relation, schema or function: an iucut schema not (fully) migrated.
UNDEFINED_SQLSTATES = ("42P01", "3F000", "42883")
#: SQLSTATE of a missing column: iucut's statements name only its own tables' columns, so
#: one missing is a migration not yet applied (PostgreSQL's message names no schema).
UNDEFINED_COLUMN = "42703"


def explain_missing_schema(error: IucutError, schema: str) -> IucutError:
    """A database error about a missing relation, schema or function of the iucut schema
    ``schema``, or a missing column, becomes :class:`NotMigrated`, one line naming the
    schema and the remedy; any other error is returned as it is."""
    sqlstate = error.context.get("sqlstate")
    if type(error) is not DatabaseError or (
        sqlstate not in UNDEFINED_SQLSTATES and sqlstate != UNDEFINED_COLUMN
    ):
        return error
    named = f"{schema}." in error.message or f'schema "{schema}"' in error.message
    if not named and sqlstate != UNDEFINED_COLUMN:
        return error
    return NotMigrated(
        f"schema {schema} is not migrated ({error.message}): run `iucut migrate --roles` "
        "as an administrator (`iucut migrate` without the roles)",
        **error.context,
    )


def missing_role(error: IucutError, user: str) -> IucutError:
    """A refused login as the role ``user`` that does not exist: the iucut roles were
    never created (``iucut migrate --roles``), or the role setting names another."""
    if not isinstance(error, ConnectionFailed) or f'role "{user}" does not exist' not in (
        error.message
    ):
        return error
    return NotMigrated(
        f"role {user} does not exist: run `iucut migrate --roles` as an administrator to "
        "create the iucut roles (or set IUCUT_APPLY_ROLE to a role that exists)",
        **error.context,
    )


ConnectFn = Callable[..., Connection]

#: the module of each driver (imported when first connecting)
DRIVER_MODULES = {"psycopg": "iucut.db.psycopg3", "psycopg2": "iucut.db.psycopg2"}


def preload(driver: str = "psycopg") -> None:
    """Import ``driver`` in a thread of its own while the caller goes on: psycopg's
    import is ~0.25 s, half of what a re-sync with one change may take (issue #16 part
    3), and an apply spends that time walking the corpus, mostly in system calls and
    SQLite, which release the interpreter lock. The connection imports it as ever: it
    waits for this import when it is not done (Python's import lock), and an import that
    fails here fails there again, with its error."""
    module = DRIVER_MODULES.get(driver)
    if module is None or module in sys.modules:
        return
    threading.Thread(
        target=_import_quietly, args=(module,), name="iucut-preload", daemon=True
    ).start()


def _import_quietly(module: str) -> None:
    with contextlib.suppress(Exception):
        if module == DRIVER_MODULES["psycopg"]:
            give_versions()
        importlib.import_module(module)


def driver_connect(driver: str) -> ConnectFn:
    """The ``connect(conninfo, *, autocommit, schema, secrets, display)`` of a driver."""
    if driver == "psycopg":
        give_versions()
        from iucut.db.psycopg3 import connect as connect3

        return connect3
    if driver == "psycopg2":
        try:
            from iucut.db.psycopg2 import connect as connect2
        except ImportError as exc:
            if (exc.name or "").split(".")[0] != "psycopg2":
                raise
            raise ConfigError(
                "driver psycopg2 is not installed: pip install 'iucut[psycopg2]' "
                "(or use the default driver, psycopg 3)",
                driver=driver,
            ) from exc
        return connect2
    raise DatabaseError(f"unknown driver {driver!r}")


class ConnectionProvider:
    """Opens connections to one target; ``calls`` counts every ``connect()`` attempt."""

    def __init__(
        self,
        target: Target | Callable[[], Target],
        driver: str = "psycopg",
        *,
        schema: str = "public",
        notify: Callable[[str], None] | None = None,
    ):
        self._target = target if isinstance(target, Target) else None
        self._resolve = None if isinstance(target, Target) else target
        self.driver = driver
        self.schema = schema
        self.notify = notify or log.info
        self.calls = 0
        self._announced = False

    @property
    def target(self) -> Target:
        """The target, resolved on first use (resolving never starts a server)."""
        if self._target is None:
            assert self._resolve is not None
            self._target = self._resolve()
        return self._target

    def connect(self, *, user: str | None = None, autocommit: bool = False) -> Connection:
        """Open a connection (as ``user`` if given); starts the embedded server if needed."""
        self.calls += 1
        target = self.target
        if target.problem:
            raise ConfigError(
                target.problem,
                hint="give the password apart from the connection string: IUCUT_DSN without "
                "it plus ~/.pgpass, PGPASSWORD or a service file (PGSERVICE)",
            )
        conninfo = target.conninfo
        if target.embedded:
            conninfo = self._embedded_conninfo(target)
        if user:
            conninfo = with_user(conninfo, user)
        try:
            return driver_connect(self.driver)(
                conninfo,
                autocommit=autocommit,
                schema=self.schema,
                secrets=target.secrets(),
                display=target.display,
            )
        except ConnectionFailed as exc:
            if user:
                raise missing_role(exc, user) from exc.__cause__
            raise

    def _embedded_conninfo(self, target: Target) -> str:
        from iucut.db.embedded import EmbeddedServer

        assert target.home is not None
        server = EmbeddedServer(target.home, notify=self.notify)
        server.start()
        if not self._announced:
            self.notify(f"iucut: using the embedded PostgreSQL server (data in {server.pgdata})")
            self._announced = True
        return server.url()


def open_provider(
    settings: Settings, *, notify: Callable[[str], None] | None = None
) -> ConnectionProvider:
    """A provider for the settings' target and driver; nothing is resolved or opened yet."""
    return ConnectionProvider(
        lambda: resolve_target(settings),
        settings.driver,
        schema=settings.schema,
        notify=notify,
    )
