"""``iucut mcp``: the read-only Model Context Protocol server for agents, on stdio."""

from __future__ import annotations

import click

from iucut.cli import Context, cli, pass_ctx
from iucut.errors import ConfigError


@cli.command("mcp")
@click.option(
    "--role",
    help="Connect as this role (default: the reader role, iucut_reader). A role that "
    "can write is refused (exit 25).",
)
@pass_ctx
def mcp_cmd(ctx: Context, role: str | None) -> None:
    """Serve the units to agents over the Model Context Protocol (stdio), read-only.

    \b
    Tools: list_documents, show_unit, unit_history, export_document, search_units,
    changes_since. Resources: iu://CODE. Needs `pip install 'iucut[mcp]'`.
    """
    try:
        from iucut.integrations.mcp import serve
    except ModuleNotFoundError as exc:
        raise ConfigError(str(exc), hint="pip install 'iucut[mcp]'") from exc
    serve(ctx.settings, role=role)
