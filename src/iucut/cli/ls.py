"""``iucut ls``: the documents in the database, their namespaces, units, states, last run."""

from __future__ import annotations

import click

from iucut.cli import Context, cli, echo_json, pass_ctx, plural, printable
from iucut.store import Store


@cli.command("ls")
@click.argument("doc", required=False, metavar="[NAMESPACE|PATH]")
@click.option("--json", "as_json", is_flag=True, help="Print the documents as JSON.")
@pass_ctx
def ls_cmd(ctx: Context, doc: str | None, as_json: bool) -> None:
    """List documents: path, namespace, state, unit counts and last run.

    With an argument, only the documents of that namespace, that path, or under that
    folder (exit 14 when there is none).
    """
    docs = Store(ctx.settings).ls(doc)
    if as_json:
        echo_json({"documents": [d.to_dict() for d in docs]})
        return
    for d in docs:
        retired = f" ({d.retired_units} retired)" if d.retired_units else ""
        when = f"{d.last_run_at:%Y-%m-%d %H:%M:%S}" if d.last_run_at is not None else "-"
        run = (d.last_run or "-")[:8]
        click.echo(
            printable(
                f"{d.doc_path}  {d.namespace}  {d.state}  {plural(d.units, 'unit')}{retired}"
                f"  last run {run} {when}"
            )
        )
    click.echo(plural(len(docs), "document"))
