"""The distributed layout of an iucut schema on Citus (``iucut migrate --distributed``).

On a Citus coordinator, after every migration has run, the tables of one document (its
row, units, versions, lifecycle events, references) are hash-distributed by ``doc_path``
and co-located, and the run, control and feed tables become reference tables; every
primary and unique key starts with ``doc_path`` (``sql/distributed/layout.sql``). The
step runs once, in one transaction, on a fresh schema or on one with data (the data
moves to the workers). Later migrations of a distributed schema re-apply the layout's
functions (``layout_functions``), which a migration may have replaced.

Without Citus it is an error (:class:`CitusUnavailable`), never a silent local layout.
See docs/distributed.md for what is routed to one worker and what fans out.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from weakref import WeakKeyDictionary

from iucut.config import identifier
from iucut.db import queries
from iucut.db.connector import Connection
from iucut.db.queries import Ident
from iucut.errors import CitusUnavailable, DistributedUnsupported, MigrationError

LAYOUT_SQL = "distributed/layout.sql"
#: The tables distributed by the document key, co-located with iu_document.
DISTRIBUTED = ("iu_document", "information_unit", "unit_version", "iu_lifecycle_log",
               "unit_reference", "iu_document_version", "iu_document_effective")  # fmt: skip
#: The tables with a copy on every node.
REFERENCE = ("iu_control", "iu_run", "iu_commit", "iu_feed_cursor", "iu_search_config",
             "iu_search_config_used")  # fmt: skip
#: The reference tables that only the layout makes (no single-node schema has them): the
#: namespace claims. A schema laid out before they existed gets them with its next
#: refresh (``migrate --distributed``, or a migration).
LAYOUT_ONLY = ("iu_namespace_claim",)
#: The bookkeeping of the migrations, kept on the coordinator only.
LOCAL = ("iucut_migration", "iucut_object")
DOCUMENT_KEY = "doc_path"


@dataclass(frozen=True)
class Layout:
    """How the iucut tables of a schema are laid out: table -> 'local' | 'distributed' |
    'reference' (| 'other'), and the distribution column of each distributed table."""

    tables: dict[str, str]
    columns: dict[str, str]
    colocations: dict[str, int]

    @property
    def distributed(self) -> bool:
        """Whether the schema has the whole distributed layout."""
        return (
            all(self.tables.get(t) == "distributed" for t in DISTRIBUTED)
            and all(self.columns.get(t) == DOCUMENT_KEY for t in DISTRIBUTED)
            and len({self.colocations.get(t) for t in DISTRIBUTED}) == 1
            and all(self.tables.get(t) == "reference" for t in REFERENCE)
        )

    @property
    def untouched(self) -> bool:
        """Whether no iucut table is a Citus table yet."""
        return all(self.tables.get(t, "local") == "local" for t in DISTRIBUTED + REFERENCE)


@dataclass(frozen=True)
class DistributeResult:
    """What ``distribute`` did: laid the schema out now, or found it laid out already."""

    citus_version: str
    workers: int
    laid_out_now: bool
    layout: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sql(name: str, schema: str) -> str:
    return queries.get(name, schema)


_DOLLAR = re.compile(r"\$[A-Za-z_]*\$")


def statements(sql: str) -> list[str]:
    """Split a script into its statements (at a ``;`` ending a line outside dollar quotes).

    Citus forwards the text of a DDL command on a distributed object to the workers, and
    refuses to when that text holds several commands: a script runs one statement at a
    time on a Citus coordinator."""
    found: list[str] = []
    current: list[str] = []
    quote: str | None = None
    for line in sql.splitlines(keepends=True):
        current.append(line)
        code = line.split("--", 1)[0] if quote is None else line
        for tag in _DOLLAR.findall(code):
            if quote is None:
                quote = tag
            elif tag == quote:
                quote = None
        if quote is None and code.rstrip().endswith(";"):
            text = "".join(current).strip()
            if any(not ln.strip().startswith("--") for ln in text.splitlines() if ln.strip()):
                found.append(text)
            current = []
    rest = "".join(current).strip()
    if any(not ln.strip().startswith("--") for ln in rest.splitlines() if ln.strip()):
        found.append(rest)
    return found


def run_script(conn: Connection, sql: str) -> None:
    """Run a script one statement at a time (see :func:`statements`)."""
    for statement in statements(sql):
        conn.executescript(statement)


def citus_version(conn: Connection) -> str | None:
    """The installed citus extension's version in this database, or None."""
    row = conn.query("citus_version", schema=Ident("public")).fetchone()
    return None if row is None or row["version"] is None else str(row["version"])


def read_layout(conn: Connection, schema: str) -> Layout:
    """The layout of ``schema``'s tables (every table 'local' without Citus)."""
    if citus_version(conn) is None:
        return Layout({}, {}, {})
    rows = conn.query("layout_state", schema=Ident(schema)).fetchall()
    return Layout(
        tables={r["table_name"]: r["layout"] for r in rows},
        columns={r["table_name"]: r["column_name"] for r in rows if r["column_name"]},
        colocations={r["table_name"]: r["colocation"] for r in rows if r["colocation"]},
    )


def is_distributed(conn: Connection, schema: str) -> bool:
    """Whether ``schema`` has the distributed layout (reads only, any transaction state)."""
    return read_layout(conn, schema).distributed


#: Whether a connection's schema has the Citus layout (read once per connection).
_ON_CLUSTER: WeakKeyDictionary[Connection, bool] = WeakKeyDictionary()


def on_cluster(conn: Connection) -> bool:
    """:func:`is_distributed` for ``conn``'s schema, read once per connection: the reads
    that join the log with the units on ``unit_id`` alone take the document key too on
    the distributed layout (the log has it there only; Citus plans no such join)."""
    known = _ON_CLUSTER.get(conn)
    if known is None:
        known = _ON_CLUSTER[conn] = is_distributed(conn, conn.schema)
    return known


def _objects(conn: Connection, schema: str) -> set[tuple[str, str]]:
    rows = conn.query("schema_objects", schema=Ident(schema)).fetchall()
    return {(r["kind"], r["identity"]) for r in rows}


def _register(conn: Connection, schema: str, objects: set[tuple[str, str]]) -> None:
    """Record the layout's new objects (e.g. fn_iu_doc_key) as iucut's, under the latest
    migration's version, so that ``migrate --roles`` hands them to the owner role."""
    if not objects:
        return
    version = conn.query("applied", schema=Ident(schema)).fetchall()[-1]
    kinds, identities = zip(*sorted(objects), strict=True)
    conn.query(
        "register_objects",
        schema=Ident(schema),
        kinds=list(kinds),
        identities=list(identities),
        version=version["version"],
    )


def require_citus(conn: Connection) -> tuple[str, int]:
    """The Citus version and worker count of this coordinator; CitusUnavailable if none."""
    version = citus_version(conn)
    if version is None:
        raise CitusUnavailable(
            "migrate --distributed: this database has no citus extension, it is no Citus "
            "coordinator",
            hint="run it against a Citus coordinator (shared_preload_libraries = citus, "
            "CREATE EXTENSION citus, workers added with citus_add_node), or migrate "
            "without --distributed for a single server",
        )
    row = conn.query("citus_role", schema=Ident("public")).fetchone()
    assert row is not None
    if not row["coordinator"]:
        raise CitusUnavailable(
            "migrate --distributed: this server is a Citus worker, not the coordinator",
            hint="connect to the coordinator: the layout is changed there only",
        )
    return version, int(row["workers"])


def distribute(conn: Connection, schema: str) -> DistributeResult:
    """Lay ``schema`` (migrated) out for Citus, in one transaction; idempotent.

    The caller has run every migration. The connection must be outside any transaction.
    """
    identifier(schema, "schema")
    with conn.transaction():
        version, workers = require_citus(conn)
        conn.query("lock", schema=Ident(schema))
        conn.query("search_path", schema=Ident(schema))
        layout = read_layout(conn, schema)
        if layout.distributed:
            refresh_functions(conn, schema)
            return DistributeResult(version, workers, False, layout.tables)
        if not layout.untouched:
            raise MigrationError(
                f"schema {schema} is partly laid out for Citus: "
                + ", ".join(f"{t} {k}" for t, k in sorted(layout.tables.items())),
                hint="the layout is made in one transaction by iucut migrate --distributed; "
                "undo the Citus tables made by hand (undistribute_table) and run it again",
            )
        before = _objects(conn, schema)
        run_script(conn, _sql("settings", schema))
        run_script(conn, _sql("layout_functions", schema))
        run_script(conn, _sql("layout_tables", schema))
        run_script(conn, _sql("layout_claims", schema))
        run_script(conn, _sql("layout_routing", schema))
        conn.query("search_path", schema=Ident(schema))
        _register(conn, schema, _objects(conn, schema) - before)
        after = read_layout(conn, schema)
        if not after.distributed:
            raise MigrationError(f"schema {schema}: the distributed layout did not take hold")
    return DistributeResult(version, workers, True, after.tables)


def refresh_functions(conn: Connection, schema: str) -> None:
    """Re-apply the layout's functions after a migration of a distributed schema (a
    migration may have replaced one of them). In the caller's transaction."""
    before = _objects(conn, schema)
    run_script(conn, _sql("settings", schema))
    run_script(conn, _sql("layout_claims", schema))  # a schema laid out before it
    run_script(conn, _sql("layout_functions", schema))
    run_script(conn, _sql("layout_routing", schema))
    conn.query("search_path", schema=Ident(schema))
    _register(conn, schema, _objects(conn, schema) - before)


def refuse_feed(conn: Connection) -> None:
    """The change feed numbers commits on one server: refused on a distributed schema."""
    if is_distributed(conn, conn.schema):
        raise DistributedUnsupported(
            f"the change feed is single-node only: schema {conn.schema} is distributed "
            "with Citus (no cluster-wide commit order to number)",
            hint="read history per unit (iucut history) or export documents; "
            "see docs/distributed.md",
        )


def refuse_point_in_time(conn: Connection) -> None:
    """--as-of / --in-force-on read document versions by their commit number, which a
    distributed schema does not register: refused there (exit 37), as the feed is."""
    if on_cluster(conn):
        raise DistributedUnsupported(
            f"--as-of / --in-force-on are single-node only: schema {conn.schema} is "
            "distributed with Citus (document versions carry no cluster-wide commit order)",
            hint="read the current state, or a unit's versions with iucut history; "
            "see docs/distributed.md",
        )
