"""The psycopg 3 connector: the connection interface served natively by psycopg 3."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.abc import Buffer
from psycopg.adapt import Dumper, PyFormat, Transformer
from psycopg.pq import Format
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from iucut.db import queries
from iucut.db.connector import (
    BaseConnection,
    Json,
    Params,
    Result,
    Row,
    RowsResult,
    build_error,
    explain_missing_schema,
)
from iucut.errors import IucutError

DRIVER_NAME = "psycopg"


def translate(
    exc: Exception,
    *,
    connecting: bool = False,
    secrets: Sequence[str] = (),
    display: str | None = None,
) -> IucutError:
    """The one place where psycopg 3 exceptions become iucut errors."""
    if not isinstance(exc, psycopg.Error):
        return build_error(
            sqlstate=None, message=str(exc), connecting=connecting, secrets=secrets, target=display
        )
    diag = exc.diag
    lost = isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) and (
        exc.sqlstate is None
    )
    return build_error(
        sqlstate=exc.sqlstate,
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
        k: Jsonb(v.value if isinstance(v, Json) else v) if isinstance(v, dict | Json) else v
        for k, v in params.items()
    }


class Encoded:
    """A parameter already in PostgreSQL's binary form, with its type (see
    :meth:`Psycopg3Connection.param_encoder`): sent as it is."""

    __slots__ = ("data", "oid")

    def __init__(self, data: Buffer, oid: int):
        self.data = data
        self.oid = oid


class _EncodedDumper(Dumper):
    format = Format.BINARY

    def get_key(self, obj: Any, format: PyFormat) -> Any:
        return (Encoded, obj.oid)  # one dumper a type

    def upgrade(self, obj: Any, format: PyFormat) -> Dumper:
        dumper = _EncodedDumper(Encoded)
        dumper.oid = obj.oid
        return dumper

    def dump(self, obj: Any) -> Buffer:
        return obj.data  # type: ignore[no-any-return]


psycopg.adapters.register_dumper(Encoded, _EncodedDumper)


def _encode_lists(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with each list in PostgreSQL's binary form, as psycopg sends a list
    for a ``%(name)b`` placeholder (its own dumpers, text in UTF-8), other values as they
    are. A transformer of its own, with no connection: psycopg reads the connection's
    encoding from libpq, which must not be called while the connection runs a statement
    in another thread."""
    transformer = Transformer()
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, list):
            dumper = transformer.get_dumper(value, PyFormat.BINARY)
            # (a list of NULLs only has no element type: psycopg sends it as text, of
            # an unknown type, for the server to cast; it is left to psycopg)
            if dumper.format == Format.BINARY:
                data = dumper.dump(value)
                value = Encoded(b"" if data is None else data, dumper.oid)
        out[name] = value
    return out


class Psycopg3Connection(BaseConnection):
    """A psycopg 3 connection behind the iucut connection interface."""

    driver_name = DRIVER_NAME

    def __init__(
        self, raw: psycopg.Connection[dict[str, Any]], *, schema: str, secrets: Sequence[str] = ()
    ):
        self.raw = raw
        self.schema = schema
        self._secrets = tuple(secrets)

    def _error(self, exc: Exception) -> IucutError:
        return explain_missing_schema(translate(exc, secrets=self._secrets), self.schema)

    @property
    def autocommit(self) -> bool:
        return self.raw.autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        try:
            self.raw.autocommit = value
        except psycopg.Error as exc:
            raise self._error(exc) from exc

    @property
    def server_version(self) -> int:
        return self.raw.info.server_version

    @property
    def backend_pid(self) -> int:
        return self.raw.info.backend_pid

    @property
    def closed(self) -> bool:
        return self.raw.closed

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Params = None) -> Result:
        try:
            cur = self.raw.execute(sql, _adapt(params))
            rows = cur.fetchall() if cur.description is not None else None
            return RowsResult(rows, cur.rowcount)
        except psycopg.Error as exc:
            raise self._error(exc) from exc

    def stream(self, name: str, /, **params: Any) -> Iterator[Row]:
        """The rows of ``name``, each converted as it is taken (psycopg 3 keeps the
        result in libpq's buffer, a fraction of the size of its rows as Python dicts)."""
        sql, bound = queries.prepare(name, self.schema, params)
        try:
            cur = self.raw.execute(sql, _adapt(bound or None))
            yield from cur
        except psycopg.Error as exc:
            raise self._error(exc) from exc

    def executescript(self, sql: str) -> None:
        try:
            self.raw.execute(sql)  # no parameters: sent as is, several statements allowed
        except psycopg.Error as exc:
            raise self._error(exc) from exc

    @contextmanager
    def transaction(self, force_rollback: bool = False) -> Iterator[None]:
        try:
            with self.raw.transaction(force_rollback=force_rollback):
                yield
        except psycopg.Error as exc:
            raise self._error(exc) from exc

    def param_encoder(self) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """Lists encoded ahead (in the thread that makes a document's write ready), so
        that this connection only sends them: when the connection speaks UTF-8, as
        iucut's do (psycopg encodes text in the connection's encoding)."""
        if self.raw.info.encoding.lower().replace("-", "") != "utf8":
            return super().param_encoder()
        return _encode_lists

    def commit(self) -> None:
        try:
            self.raw.commit()
        except psycopg.Error as exc:
            raise self._error(exc) from exc

    def rollback(self) -> None:
        try:
            self.raw.rollback()
        except psycopg.Error as exc:
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
) -> Psycopg3Connection:
    """Open a psycopg 3 connection (dict rows, no server-side prepared statements)."""
    try:
        # prepare_threshold=None: prepared statements are session state that outlives
        # a rollback, and a proof must leave none behind
        raw = psycopg.connect(
            conninfo, autocommit=autocommit, row_factory=dict_row, prepare_threshold=None
        )
    except psycopg.Error as exc:
        raise translate(exc, connecting=True, secrets=secrets, display=display) from exc
    return Psycopg3Connection(raw, schema=schema, secrets=secrets)
