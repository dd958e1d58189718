"""The command ``demo``: the whole pipeline on sample documents, on a database of its own."""

from __future__ import annotations

import click

from iucut.cli import Context, cli, note, pass_ctx
from iucut.errors import IucutError


@cli.command("demo")
@click.option(
    "--keep", is_flag=True, help="Keep the working copy of the samples (its path is printed)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the steps as JSON at the end.")
@pass_ctx
def demo_cmd(ctx: Context, keep: bool, as_json: bool) -> None:
    """Run the whole pipeline on sample documents, on a database of its own.

    \b
    Uses the embedded PostgreSQL server (in IUCUT_HOME, default ~/.iucut) and a
    database `iucut_demo` that it resets: your own data is never touched, and no
    --dsn / IUCUT_DSN / PG* setting is used. It migrates with roles, cuts, plans,
    proves, applies as cutter_exec (turning the kill-switch on for its own database
    only), edits one clause, plans and applies the revision, shows the history and
    checks that export gives back the edited source byte for byte. Every step checks
    its own outcome: the exit code is 0 only if all of them hold.
    """
    from iucut.demo import run_demo

    def say(text: str) -> None:
        if as_json:
            note(text)
        else:
            click.echo(text)

    result = run_demo(ctx.settings, say=say, keep=keep, notify=note)
    if as_json:
        from iucut.cli import echo_json

        echo_json(result.to_dict())
        if not result.ok:
            raise SystemExit(1)
    if not result.ok:
        raise IucutError(f"demo: step {result.failed_step} failed", hint="see the output above")
