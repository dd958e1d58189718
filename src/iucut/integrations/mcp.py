"""Agents: a read-only Model Context Protocol server (stdio) over the units in the database.

Needs ``pip install 'iucut[mcp]'`` (the official ``mcp`` SDK). It connects as the reader
role (or the role given), checks from the catalog that this role can change nothing
(not a superuser, not a member of the owner, no write privilege on any iucut table, no
EXECUTE on any write function) and refuses to start otherwise (exit 25); its sessions
are read-only transactions too. Tools: list documents, show a unit with its children,
a unit's history, export a document, search units (ranked full-text), changes since a
cursor. Resources: ``iu://CODE``.
"""

from __future__ import annotations

import json
from typing import Any

from iucut.config import Settings
from iucut.db.connector import Connection, ConnectionProvider, open_provider
from iucut.errors import IucutError, NotReadOnly
from iucut.integrations import require
from iucut.store import Store

require("mcp.server.mcpserver", "mcp")

from mcp.server.mcpserver import MCPServer  # noqa: E402
from mcp.server.mcpserver.exceptions import ResourceError, ToolError  # noqa: E402


class ReadOnlyProvider(ConnectionProvider):
    """Connections as one role, each a read-only session."""

    def __init__(self, base: ConnectionProvider, role: str | None):
        super().__init__(lambda: base.target, base.driver, schema=base.schema, notify=base.notify)
        self.role = role

    def connect(self, *, user: str | None = None, autocommit: bool = False) -> Connection:
        conn = super().connect(user=self.role, autocommit=True)
        conn.query("session_read_only")
        conn.autocommit = autocommit
        return conn


def check_read_only(store: Store) -> dict[str, Any]:
    """What the connected role could write, from the catalog; NotReadOnly if anything."""
    with store.reading() as conn:
        row = conn.query("role_can_write", owner=store.settings.roles.owner).fetchone()
    assert row is not None
    role = row["role"]
    kinds = ("superuser", "owner_member", "writable_tables", "executable_functions")
    found = {k: row[k] for k in kinds if row[k]}
    if found:
        what = ", ".join(
            f"{k.replace('_', ' ')}" + (f" ({', '.join(v)})" if isinstance(v, list) else "")
            for k, v in found.items()
        )
        raise NotReadOnly(
            f"the MCP server is read-only, but role {role} can write: {what}",
            hint=f"run it as the reader role ({store.settings.roles.reader}, the default), "
            "which `iucut migrate --roles` sets up",
        )
    return {"role": role}


def _json(data: Any) -> Any:
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


def build_server(store: Store) -> MCPServer:
    """The MCP server's tools and resources over ``store`` (which must read only)."""
    server: MCPServer = MCPServer(
        "iucut",
        instructions="Read-only access to versioned information units (articles, clauses, "
        "points of laws and policies). Codes look like NAMESPACE/D5/K2.",
    )

    def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return _json(fn(*args, **kwargs))
        except IucutError as exc:
            raise ToolError(exc.message + (f" ({exc.hint})" if exc.hint else "")) from exc

    @server.tool()
    def list_documents(namespace_or_path: str | None = None) -> dict[str, Any]:
        """List documents: path, namespace, state, unit counts, last run (optionally of one
        namespace, document path, or folder)."""
        return {"documents": call(lambda: [d.to_dict() for d in store.ls(namespace_or_path)])}

    @server.tool()
    def show_unit(code: str) -> dict[str, Any]:
        """A unit's current version (title, text, document, lines, state) and its children."""
        return dict(call(lambda: store.show(code).to_dict()))

    @server.tool()
    def unit_history(code: str) -> dict[str, Any]:
        """Every version and lifecycle event of a unit."""
        return dict(call(lambda: store.history(code).to_dict()))

    @server.tool()
    def export_document(doc: str) -> dict[str, Any]:
        """A whole document (by path or namespace) rebuilt from its units, byte for byte."""
        return dict(call(_export, doc))

    def _export(doc: str) -> dict[str, str]:
        found = store.export(doc)
        return {"doc_path": found.doc_path, "text": found.text}

    @server.tool()
    def search_units(
        text: str, limit: int = 20, namespace: str | None = None, kind: str | None = None
    ) -> dict[str, Any]:
        """Full-text search of the active units' current text, best first (websearch
        syntax: words, "a phrase", or, -word; Vietnamese diacritics optional, German and
        English stemmed): code, title, rank and a snippet with matches in **bold**."""
        return {
            "units": call(
                lambda: [
                    h.to_dict()
                    for h in store.search(
                        text, namespace=namespace, kind=kind, limit=max(1, min(limit, 200))
                    )
                ]
            )
        }

    @server.tool()
    def changes_since(cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
        """Units created, revised, moved, retired or restored since a cursor (or a run id,
        or an ISO time; none: from the beginning), in commit order, with the next cursor."""
        return dict(call(lambda: store.changes(cursor, limit=max(1, min(limit, 1000))).to_dict()))

    @server.resource("iu://{+code}", mime_type="text/markdown")
    def unit_resource(code: str) -> str:
        """A unit's current text (heading and body)."""
        try:
            unit = store.show(code).unit
        except IucutError as exc:
            raise ResourceError(exc.message) from exc
        return str(unit["raw_heading"] + unit["body"])

    return server


def serve(settings: Settings, *, role: str | None = None) -> None:
    """Run the server on stdio as ``role`` (default: the reader role) after the check."""
    provider = ReadOnlyProvider(open_provider(settings), role or settings.roles.reader)
    store = Store(settings, provider)
    check_read_only(store)
    build_server(store).run("stdio")
