"""``iucut ls``: the documents in the database, their namespaces, units, states, last run."""

from __future__ import annotations

import click

from iucut.cli import Context, cli, echo_json, pass_ctx, plural, printable, stamp
from iucut.cli.point import point_options
from iucut.store import Store


@cli.command("ls")
@click.argument("doc", required=False, metavar="[NAMESPACE|PATH]")
@point_options
@click.option("--json", "as_json", is_flag=True, help="Print the documents as JSON.")
@pass_ctx
def ls_cmd(
    ctx: Context, doc: str | None, as_of: str | None, in_force_on: str | None, as_json: bool
) -> None:
    """List documents: path, namespace, state, unit counts and last run.

    With an argument, only the documents of that namespace, that path, or under that
    folder (exit 14 when there is none). With --as-of or --in-force-on, the documents as
    they stood at that point: the run that wrote that version, when it committed, and the
    effective date its front matter carried.
    """
    store = Store(ctx.settings)
    if as_of is not None or in_force_on is not None:
        point = store.point(as_of, in_force_on)
        found = store.ls_at(doc, as_of=as_of, in_force_on=in_force_on)
        if as_json:
            echo_json({"point": point.to_dict(), "documents": [d.to_dict() for d in found]})
            return
        for a in found:
            when = stamp(a.committed_at)
            effective = f"  effective {a.effective_date}" if a.effective_date else ""
            click.echo(
                printable(
                    f"{a.doc_path}  {a.namespace}  {a.state}  {plural(a.units, 'unit')}"
                    f"  run {a.run_id[:8]} {when}{effective}"
                )
            )
        click.echo(f"{plural(len(found), 'document')} at {point.label}")
        return
    docs = store.ls(doc)
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
