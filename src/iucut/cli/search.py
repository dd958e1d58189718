"""The search command: ranked full-text search of the active units' current text."""

from __future__ import annotations

import click

from iucut.cli import Context, cli, echo_json, pass_ctx, printable
from iucut.cli.point import point_options
from iucut.errors import SEARCH_NO_MATCH_EXIT
from iucut.search import DEFAULT_LIMIT, MAX_LIMIT
from iucut.store import Store


@cli.command("search")
@click.argument("query")
@click.option("--namespace", help="Only units of this namespace (e.g. ICX-QC-BMTT).")
@click.option("--kind", help="Only units of this kind (article, clause, point, section, …).")
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many units.",
)
@point_options
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@pass_ctx
def search_cmd(
    ctx: Context,
    query: str,
    namespace: str | None,
    kind: str | None,
    limit: int,
    as_of: str | None,
    in_force_on: str | None,
    as_json: bool,
) -> None:
    """Find active units by their current text, best first: code, title and a snippet
    with the matches in **bold**.

    QUERY uses web-search syntax: words (all must occur), "a phrase", `or`, `-word`.
    Vietnamese matches with or without diacritics (`mat khau` finds `mật khẩu`); German
    and English match word forms (`Gesetze` finds `Gesetz`). --as-of / --in-force-on:
    the text as it stood at that point, with the codes of then. Exit 33 when nothing
    matches, 32 when the query has no word to search for."""
    hits = Store(ctx.settings).search(
        query,
        namespace=namespace,
        kind=kind,
        limit=limit,
        as_of=as_of,
        in_force_on=in_force_on,
    )
    if as_json:
        echo_json({"query": query, "count": len(hits), "hits": [h.to_dict() for h in hits]})
    else:
        for h in hits:
            click.echo(f"{printable(h.code)}  {printable(h.title)}")
            click.echo(f"    {printable(' '.join(h.snippet.split()))}")
    if not hits:
        if not as_json:
            click.echo(f"no unit matches {printable(query)!r}", err=True)
        raise SystemExit(SEARCH_NO_MATCH_EXIT)
