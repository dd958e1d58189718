"""The psycopg2 connector: ``Psycopg2ConnectionShim`` serves the psycopg 3 surface."""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from iucut.db.connector import (
    BaseConnection,
    Json,
    Params,
    Result,
    RowsResult,
    build_error,
    explain_missing_schema,
)
from iucut.errors import IucutError

DRIVER_NAME = "psycopg2"
_IDLE = psycopg2.extensions.TRANSACTION_STATUS_IDLE
#: A binary parameter placeholder of psycopg 3 (queries.sql): psycopg 2 sends it as text.
BINARY_PARAMETER = re.compile(r"%\((\w+)\)b")


def translate(
    exc: Exception,
    *,
    connecting: bool = False,
    secrets: Sequence[str] = (),
    display: str | None = None,
) -> IucutError:
    """The one place where psycopg2 exceptions become iucut errors."""
    if not isinstance(exc, psycopg2.Error):
        return build_error(
            sqlstate=None, message=str(exc), connecting=connecting, secrets=secrets, target=display
        )
    diag = exc.diag
    sqlstate = exc.pgcode
    lost = isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError) and (
        sqlstate is None
    )
    return build_error(
        sqlstate=sqlstate,
        message=diag.message_primary or str(exc),
        hint=diag.message_hint,
        detail=diag.message_detail,
        connecting=connecting,
        lost=lost,
        secrets=secrets,
        target=display,
    )


def _adapt(params: Params) -> Mapping[str, Any] | None:
    if params is None:
        return None
    return {
        k: psycopg2.extras.Json(v.value if isinstance(v, Json) else v)
        if isinstance(v, dict | Json)
        else v
        for k, v in params.items()
    }


class Psycopg2ConnectionShim(BaseConnection):
    """A psycopg2 connection serving the same surface as the psycopg 3 connector.

    psycopg2 has no ``transaction()`` block: the shim opens one (or a savepoint when a
    transaction is already open), commits or rolls back at the end, and, like psycopg 3,
    always rolls back when ``force_rollback`` is set or the block raises.
    """

    driver_name = DRIVER_NAME

    def __init__(self, raw: Any, *, schema: str, secrets: Sequence[str] = ()):
        self.raw = raw
        self.schema = schema
        self._secrets = tuple(secrets)
        self._savepoints = itertools.count(1)

    def _error(self, exc: Exception) -> IucutError:
        return explain_missing_schema(translate(exc, secrets=self._secrets), self.schema)

    @property
    def autocommit(self) -> bool:
        return bool(self.raw.autocommit)

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        try:
            self.raw.autocommit = value
        except psycopg2.Error as exc:
            raise self._error(exc) from exc

    @property
    def server_version(self) -> int:
        return int(self.raw.server_version)

    @property
    def backend_pid(self) -> int:
        return int(self.raw.get_backend_pid())

    @property
    def closed(self) -> bool:
        return bool(self.raw.closed)

    @property
    def in_transaction(self) -> bool:
        return bool(self.raw.info.transaction_status != _IDLE)

    def execute(self, sql: str, params: Params = None) -> Result:
        if params:  # psycopg 2 has no binary parameters: %(name)b is sent as text
            sql = BINARY_PARAMETER.sub(r"%(\1)s", sql)
        try:
            with self.raw.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                cur.execute(sql, _adapt(params))
                rows = [dict(r) for r in cur.fetchall()] if cur.description is not None else None
                return RowsResult(rows, cur.rowcount)
        except psycopg2.Error as exc:
            raise self._error(exc) from exc

    def executescript(self, sql: str) -> None:
        try:
            with self.raw.cursor() as cur:
                cur.execute(sql)  # no parameters: sent as is, several statements allowed
        except psycopg2.Error as exc:
            raise self._error(exc) from exc

    def _run(self, sql: str) -> None:
        try:
            with self.raw.cursor() as cur:
                cur.execute(sql)
        except psycopg2.Error as exc:
            raise self._error(exc) from exc

    @contextmanager
    def transaction(self, force_rollback: bool = False) -> Iterator[None]:
        outer = self.raw.info.transaction_status == _IDLE
        manual = outer and self.raw.autocommit  # else psycopg2 sends BEGIN by itself
        savepoint = None if outer else f"iucut_sp_{next(self._savepoints)}"
        if manual:
            self._run("BEGIN")
        elif savepoint:
            self._run(f"SAVEPOINT {savepoint}")
        try:
            yield
        except BaseException:
            # the original error matters more than a failed rollback (connection gone?)
            with contextlib.suppress(IucutError):
                self._end(commit=False, manual=manual, savepoint=savepoint)
            raise
        self._end(commit=not force_rollback, manual=manual, savepoint=savepoint)

    def _end(self, *, commit: bool, manual: bool, savepoint: str | None) -> None:
        if savepoint:
            self._run(
                f"RELEASE SAVEPOINT {savepoint}" if commit else f"ROLLBACK TO SAVEPOINT {savepoint}"
            )
        elif manual:
            self._run("COMMIT" if commit else "ROLLBACK")
        elif commit:
            self.commit()
        else:
            self.rollback()

    def commit(self) -> None:
        try:
            self.raw.commit()
        except psycopg2.Error as exc:
            raise self._error(exc) from exc

    def rollback(self) -> None:
        try:
            self.raw.rollback()
        except psycopg2.Error as exc:
            raise self._error(exc) from exc

    def close(self) -> None:
        self.raw.close()


def connect(
    conninfo: str,
    *,
    autocommit: bool = False,
    schema: str = "public",
    secrets: Sequence[str] = (),
    display: str | None = None,
) -> Psycopg2ConnectionShim:
    """Open a psycopg2 connection behind the shim (dict rows, UUIDs as ``uuid.UUID``)."""
    try:
        raw = psycopg2.connect(conninfo)
        raw.autocommit = autocommit
        psycopg2.extras.register_uuid(conn_or_curs=raw)
    except psycopg2.Error as exc:
        raise translate(exc, connecting=True, secrets=secrets, display=display) from exc
    return Psycopg2ConnectionShim(raw, schema=schema, secrets=secrets)
