"""``iucut changes``: the change feed, every unit event since a cursor, run or time."""

from __future__ import annotations

import click

from iucut.cli import Context, cli, echo_json, note, pass_ctx, printable
from iucut.feed import DEFAULT_LIMIT
from iucut.store import Store


@cli.command("changes")
@click.option(
    "--since",
    metavar="CURSOR|RUN|TIME",
    help="Start after this point: a cursor printed before (iuc1.…), a run id (or the prefix "
    "apply prints), or an ISO time (UTC unless it says). Default: from the beginning.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many changes; the cursor resumes after the last one.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the changes and cursor as JSON.")
@pass_ctx
def changes_cmd(ctx: Context, since: str | None, limit: int, as_json: bool) -> None:
    """List every created, revised, moved, retired and restored unit since a point, in
    commit order, with its version, hash and text; then the cursor to resume from.

    Read from the lifecycle log, so it is exactly what was committed. Reading again from
    the same cursor gives the same changes. A cursor from another database is refused
    (exit 24).
    """
    page = Store(ctx.settings).changes(since, limit=limit)
    if as_json:
        echo_json(page.to_dict())
        return
    for c in page.changes:
        versions = f"v{c.from_version or '-'}→v{c.version}"
        hash_ = (c.content_hash or "")[:12]
        click.echo(
            printable(
                f"{c.position.commit_seq}.{c.position.event_id}  {c.event:<9} {c.code}  "
                f"{versions}  {hash_}  {c.title or ''}"
            )
        )
    more = " (more: run again with this cursor)" if page.more else ""
    click.echo(f"cursor {page.cursor}{more}")
    if not page.changes:
        note("no changes since that point")
