"""The MCP server (official mcp SDK) driven by the SDK's own stdio client: tools listed and
called, resources read, nothing written through it, and a role that can write refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

import iucut

LAW = """\
# Act on Examples

## Article 1. Scope

This act applies to examples.

## Article 2. Terms

Words mean what they say.
"""

TOOLS = {
    "list_documents",
    "show_unit",
    "unit_history",
    "export_document",
    "search_units",
    "changes_since",
}


def server_env(db: Any, tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("IUCUT_", "PG")) or k == "DATABASE_URL")
    }
    env.update(IUCUT_DSN=db.dsn, IUCUT_SCHEMA=db.schema, IUCUT_HOME=str(tmp_path / "home"))
    return env


def payload(result: Any) -> Any:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


async def session_run(params: StdioServerParameters, code: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        out["tools"] = {t.name for t in (await session.list_tools()).tools}
        call = session.call_tool
        out["ls"] = payload(await call("list_documents", {}))
        out["show"] = payload(await call("show_unit", {"code": code}))
        out["history"] = payload(await call("unit_history", {"code": code}))
        out["export"] = payload(await call("export_document", {"doc": "docs/act.md"}))
        out["search"] = payload(await call("search_units", {"text": "MEAN WHAT"}))
        out["changes"] = payload(await call("changes_since", {}))
        out["missing"] = await call("show_unit", {"code": "NO/SUCH"})
        hostile = "x'); DELETE FROM information_unit; --"
        out["hostile"] = payload(await call("search_units", {"text": hostile}))
        out["unknown_tool"] = await call("apply", {"paths": ["docs"]})
        resource = await session.read_resource(f"iu://{code}")
        out["resource"] = resource.contents[0].text  # type: ignore[union-attr]
    return out


def test_mcp_tools_resources_and_no_write(db, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every tool answers from the database over stdio, iu://CODE reads a unit, an unknown
    or hostile call is an error or a no-op, and the database is unchanged afterwards."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iucut.yaml").touch()  # the project root (iucut init): paths read docs/…
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "act.md").write_text(LAW, encoding="utf-8")
    store = iucut.Store(db.settings(execution="enabled"))
    store.apply(["docs"])
    code = next(u.code for u in store.units() if u.title.startswith("Article 2"))
    digest = db.connect(autocommit=True).query("state_digest").fetchone()
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "iucut", "mcp"], env=server_env(db, tmp_path)
    )
    out = anyio.run(session_run, params, code)
    assert out["tools"] == TOOLS
    assert out["ls"]["documents"][0]["doc_path"] == "docs/act.md"
    assert out["show"]["code"] == code and out["show"]["title"].startswith("Article 2")
    assert out["history"]["versions"][0]["version"] == 1
    assert out["export"]["text"] == LAW
    assert [u["code"] for u in out["search"]["units"]] == [code]
    assert out["changes"]["count"] == len(store.units()) and out["changes"]["cursor"]
    assert out["missing"].is_error and "no unit NO/SUCH" in out["missing"].content[0].text
    assert out["hostile"]["units"] == [] and out["unknown_tool"].is_error
    assert out["resource"] == "## Article 2. Terms\n\nWords mean what they say.\n"
    after = db.connect(autocommit=True).query("state_digest").fetchone()
    assert after == digest


def test_mcp_refuses_a_role_that_can_write(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Started as a superuser or as the execution role, the server refuses (exit 25)
    naming what the role could write, before serving anything."""
    for role, why in (("postgres", "superuser"), (db.roles.exec, "fn_iu_apply_document")):
        proc = subprocess.run(
            [sys.executable, "-m", "iucut", "mcp", "--role", role],
            env=server_env(db, tmp_path),
            input="",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 25, proc.stderr
        assert why in proc.stderr and proc.stdout == ""


def test_reader_sessions_are_read_only(db) -> None:  # type: ignore[no-untyped-def]
    """The server's connections refuse writes even where a privilege would allow one."""
    from iucut.integrations.mcp import ReadOnlyProvider

    provider = ReadOnlyProvider(db.provider(), None)  # as the (superuser) test admin
    conn = provider.connect(autocommit=True)
    with pytest.raises(iucut.IucutError, match="read-only"):
        conn.query("run_begin", mode="apply", tool_version="x", plan_hash=None, meta="{}")
    conn.close()
