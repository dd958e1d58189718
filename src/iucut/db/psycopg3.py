"""The psycopg 3 connector: the connection interface served natively by psycopg 3."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.adapt import Dumper, PyFormat, Transformer
from psycopg.pq import Format
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from iucut.db import queries
from iucut.db.connector import (
    BaseConnection,
    Encoded,
    Json,
    ParameterEncoder,
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


def encode_binary(values: Sequence[Any]) -> list[Any]:
    """The values of ``%(name)b`` placeholders as a psycopg 3 connection with the default
    adapters and the UTF-8 client encoding sends them (its own dumpers, in this process):
    each an :class:`Encoded` (None stays None)."""
    tx = Transformer(None)  # (no connection: the default adapters, UTF-8)
    dumped = tx.dump_sequence(values, [PyFormat.BINARY] * len(values))
    assert tx.types is not None and tx.formats is not None
    return [
        None if data is None else Encoded(bytes(data), oid, fmt == Format.BINARY)
        for data, oid, fmt in zip(dumped, tx.types, tx.formats, strict=True)
    ]


class _EncodedDumper(Dumper):
    """Sends an :class:`Encoded` value as it is, with its type oid and format."""

    format = Format.BINARY

    def get_key(self, obj: Any, format: PyFormat) -> Any:
        return (Encoded, obj.oid, obj.binary)

    def upgrade(self, obj: Any, format: PyFormat) -> Dumper:
        dumper = (_EncodedDumper if obj.binary else _EncodedTextDumper)(Encoded)
        dumper.oid = obj.oid
        return dumper

    def dump(self, obj: Any) -> bytes:
        return bytes(obj.data)


class _EncodedTextDumper(_EncodedDumper):
    format = Format.TEXT


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

    def parameter_encoder(self) -> ParameterEncoder | None:
        # the same dumpers and encoding as encode_binary's: the defaults, UTF-8
        return encode_binary if self.raw.info.encoding == "utf-8" else None

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
    raw.adapters.register_dumper(Encoded, _EncodedDumper)
    raw.adapters.register_dumper(Encoded, _EncodedTextDumper)
    return Psycopg3Connection(raw, schema=schema, secrets=secrets)
