"""The refs command: what a unit cites, and what cites it."""

from __future__ import annotations

import click

from iucut.cli import Context, cli, echo_json, pass_ctx, printable
from iucut.cli.point import point_options
from iucut.store import Store


@cli.command("refs")
@click.argument("code")
@click.option("--cited-by", is_flag=True, help="List the active units that cite CODE.")
@point_options
@click.option("--json", "as_json", is_flag=True, help="Print the references as JSON.")
@pass_ctx
def refs_cmd(
    ctx: Context,
    code: str,
    cited_by: bool,
    as_of: str | None,
    in_force_on: str | None,
    as_json: bool,
) -> None:
    """List the references a unit makes (resolved code, or the other act), or with
    --cited-by the units whose references point at it; with --as-of, those of the
    versions at that point (--in-force-on: not with --cited-by)."""
    rows = Store(ctx.settings).references(
        code, cited_by=cited_by, as_of=as_of, in_force_on=in_force_on
    )
    if as_json:
        echo_json({"code": code, "cited_by": cited_by, "references": rows})
        return
    for r in rows:
        text = printable(" ".join(str(r["text"]).split()))
        if cited_by:
            click.echo(f'{r["source"]}  "{text}"')
        elif r["act"]:
            click.echo(f'"{text}"  → {printable(r["act"])} (other act)')
        elif r["target_code"] is None:
            click.echo(f'"{text}"  → ? (no unit of this document)')
        else:
            gone = "" if r["target_state"] == "active" else f"  [{r['target_state'] or 'absent'}]"
            click.echo(f'"{text}"  → {r["target_code"]}{gone}')
