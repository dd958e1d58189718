"""Commands that own the project and its documents' identity: ``init`` and ``retire``."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import click

from iucut import apply as apply_mod
from iucut import planfile
from iucut.cli import Context, cli, echo_json, note, pass_ctx, printable, writing
from iucut.cli.write import print_plan
from iucut.errors import PLAN_CHANGES_EXIT, IucutError, NotFound
from iucut.project import init_project
from iucut.store import Store
from iucut.units import summary_line


@cli.command("init")
@click.argument(
    "folder", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
def init_cmd(folder: Path) -> None:
    """Make FOLDER (default: the current one) a project root: create its iucut.yaml.

    Document paths, and so document identity, are relative to the nearest folder
    above them that holds iucut.yaml, whatever folder iucut is run from. The file is
    also the project's configuration (commented settings inside).
    """
    click.echo(f"created {init_project(folder)}")


def stored_names(ctx: Context, name: str) -> list[str]:
    """The stored names to try for a document given as ``name``: when it is a path in
    any form ``plan`` takes (relative to the working folder, absolute, through ``..``),
    its stored path relative to the project root first; then ``name`` itself (a stored
    path or a namespace)."""
    names = []
    path = Path(name)
    if os.path.lexists(path) or path.is_absolute() or os.sep in name:
        with contextlib.suppress(IucutError):  # not under the root: only the name can match
            names.append(ctx.root([path]).doc_path(path, follow_symlinks=True))
    if name not in names:
        names.append(name)
    return names


def find_stored(conn: Any, ctx: Context, name: str) -> str:
    """The stored path of the document given as ``name`` (see :func:`stored_names`)."""
    names = stored_names(ctx, name)
    for candidate in names:
        row = conn.query("document_find", doc=candidate).fetchone()
        if row is not None:
            return str(row["doc_path"])
    tried = " or ".join(dict.fromkeys(names))
    raise NotFound(f"no document {tried}", hint="give its path (any form) or its namespace")


@cli.command("retire")
@click.argument("docs", nargs=-1, required=True, metavar="PATH|NAMESPACE...")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Only plan: write the plan file (for prove --plan and apply --plan); write nothing.",
)
@click.option("--dry-run", is_flag=True, help="Only plan: show what would be retired.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan or the result as JSON.")
@pass_ctx
def retire_cmd(
    ctx: Context, docs: tuple[str, ...], output: Path | None, dry_run: bool, as_json: bool
) -> None:
    """Retire stored documents by path (any form plan takes) or namespace.

    Every active unit of each document is retired (its history stays; a later apply
    of the file restores it). Planned and gated like every write: without --dry-run
    or -o it needs the kill-switch on (IUCUT_EXECUTION=enabled; exit 5 before any
    connection while off) and is refused while writes are frozen. With -o FILE it
    only writes the plan, to review, `iucut prove --plan FILE` and
    `iucut apply --plan FILE`. Exit 2 after planning: there are changes.
    """
    settings = ctx.settings
    planning = dry_run or output is not None
    if not planning:
        apply_mod.ensure_enabled(settings)  # first: no connection, nothing
    store = Store(settings)
    with store.reading() as conn:
        names = [find_stored(conn, ctx, d) for d in docs]
    the_plan = store.retire_plan(names)
    plan_id = planfile.plan_hash(the_plan)
    if planning:
        if output is not None:
            with writing(output):
                plan_id = planfile.write_plan(the_plan, output)
            note(f"plan written to {output} (id {plan_id})")
        if as_json:
            echo_json({"plan_id": plan_id, **planfile.plan_to_dict(the_plan)})
        else:
            print_plan(the_plan, plan_id, verbose=True)
        if the_plan.has_changes:
            raise SystemExit(PLAN_CHANGES_EXIT)
        return
    result = store.apply_plan(the_plan, plan_id)
    if as_json:
        echo_json({"plan_id": plan_id, **result.to_dict()})
        return
    for doc in result.documents:
        if doc.status == "applied":
            click.echo(f"{printable(doc.doc_path)}: retired  {summary_line(doc.counts)}")
        else:
            click.echo(f"{printable(doc.doc_path)}: already retired")
    click.echo(f"retire: {summary_line(result.counts)}  run {result.run_id or '-'}")
