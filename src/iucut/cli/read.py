"""Commands that read units: show, history, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from iucut.cli import Context, cli, echo_json, note, pass_ctx, printable, stamp, writing
from iucut.cli.point import point_options
from iucut.store import Store


@cli.command("show")
@click.argument("code")
@point_options
@click.option("--json", "as_json", is_flag=True, help="Print the unit as JSON.")
@pass_ctx
def show_cmd(
    ctx: Context, code: str, as_of: str | None, in_force_on: str | None, as_json: bool
) -> None:
    """Show a unit: its current version, parent, children and state (with --as-of or
    --in-force-on: as it stood at that point)."""
    view = Store(ctx.settings).show(code, as_of=as_of, in_force_on=in_force_on)
    if as_json:
        echo_json(view.to_dict())
        return
    u = view.unit
    if "point" in u:
        p = u["point"]
        at = f" (committed {stamp(p['committed_at'])})" if p["committed_at"] else ""
        click.echo(f"as of:    {printable(_point_label(p))}{at}")
    click.echo(
        f"{u['code']}  [{u['kind']}{' ' + u['label'] if u['label'] else ''}]  "
        f"{u['state']}, version {u['current_version']}"
    )
    click.echo(f"title:    {printable(u['title'])}")
    click.echo(f"document: {printable(u['doc_path'])} lines {u['line_start']}-{u['line_end']}")
    click.echo(f"changed:  {stamp(u['updated_at'])}")
    click.echo(f"parent:   {u['parent_code'] or '-'}")
    for child in view.children:
        click.echo(f"child:    {child['code']}  [{child['kind']}] {child['state']}")
    click.echo("")
    click.echo(u["raw_heading"] + u["body"], nl=False)


@cli.command("history")
@click.argument("code")
@click.option("--diff", nargs=2, type=int, metavar="A B", help="Diff versions A and B.")
@click.option("--json", "as_json", is_flag=True, help="Print the history as JSON.")
@pass_ctx
def history_cmd(ctx: Context, code: str, diff: tuple[int, int] | None, as_json: bool) -> None:
    """Show every version and lifecycle event of a unit."""
    hist = Store(ctx.settings).history(code)
    if diff and as_json:
        echo_json(hist.diff_dict(*diff))
        return
    if diff:
        click.echo(hist.diff(*diff), nl=False)
        return
    if as_json:
        echo_json(hist.to_dict())
        return
    click.echo(f"{code}: {len(hist.versions)} version(s), {len(hist.events)} event(s)")
    for v in hist.versions:
        click.echo(
            f"  v{v['version']}  {stamp(v['created_at'])}  "
            f"{v['content_hash'][:12]}  {printable(v['title'])}"
        )
    for e in hist.events:
        versions = f"v{e['from_version'] or '-'}→v{e['to_version']}"
        click.echo(
            f"  {stamp(e['at'])}  {e['event']:<9} {versions}  by {e['actor']}"
            f"  run {str(e['run_id'])[:8]}"
        )


@cli.command("export")
@click.argument("doc")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of stdout.",
)
@point_options
@pass_ctx
def export_cmd(
    ctx: Context, doc: str, output: Path | None, as_of: str | None, in_force_on: str | None
) -> None:
    """Rebuild a document (by path, in any form plan takes, or namespace) from the
    database, byte for byte; with --as-of or --in-force-on, exactly as it was applied at
    that point."""
    from iucut.cli.project import find_stored

    store = Store(ctx.settings)
    with store.reading() as conn:
        name = find_stored(conn, ctx, doc)
    path, text = store.export(name, as_of=as_of, in_force_on=in_force_on)
    data = text.encode("utf-8", "surrogatepass")
    if output is not None:
        with writing(output):
            output.write_bytes(data)
        note(f"{path}: {len(data)} bytes written to {output}")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _point_label(p: dict[str, Any]) -> str:
    parts = []
    if p["as_of"] is not None:
        parts.append(f"run {p['run_id']}" if p["run_id"] else str(p["as_of"]))
    if p["in_force_on"] is not None:
        parts.append(f"in force on {p['in_force_on']}")
    return ", ".join(parts)
