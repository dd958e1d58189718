"""The command ``demo``: the whole pipeline on sample documents, on a database of its own."""

from __future__ import annotations

import click

from iucut.cli import Context, cli, note, pass_ctx
from iucut.errors import IucutError

#: How each kind of demo line is drawn on a terminal (rich styles).
_STYLES = {"title": "bold", "command": "cyan", "output": "", "ok": "green", "fail": "bold red"}


@cli.command("demo")
@click.option(
    "--keep", is_flag=True, help="Keep the working copy of the samples (its path is printed)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the steps as JSON at the end.")
@pass_ctx
def demo_cmd(ctx: Context, keep: bool, as_json: bool) -> None:
    """Run the README's tour as real iucut commands, on a database of its own.

    \b
    The steps are the script iucut/samples/tour.yaml, which the README's tour shows:
    each is run by bash, as written, in a temporary copy of the sample documents, with
    `iucut` being this installation's. It resets the database `iucut_demo` on the
    embedded server (in IUCUT_HOME, default ~/.iucut) and points IUCUT_DSN at it: your
    own data is never touched, and no --dsn / IUCUT_DSN / PG* setting of yours is used.
    It migrates with roles, cuts, plans, proves and applies as cutter_exec (the
    kill-switch on for those commands only), edits clauses, shows history, references
    and search, and checks that export gives back the edited source byte for byte.
    Every step checks its exit code and its output: the demo's exit code is 0 only if
    all of them hold. The proof and plan reports are kept in IUCUT_HOME/demo.
    """
    import sys

    from iucut.demo import run_demo

    console = None
    if not as_json and sys.stdout.isatty():
        from rich.console import Console

        console = Console(highlight=False, soft_wrap=True)

    def say(text: str, kind: str) -> None:
        if as_json:
            note(text)
        elif console is not None:
            console.print(text, style=_STYLES.get(kind) or None, markup=False)
        else:
            click.echo(text)

    result = run_demo(ctx.settings, say=say, keep=keep)
    if as_json:
        from iucut.cli import echo_json

        echo_json(result.to_dict())
        if not result.ok:
            raise SystemExit(1)
    if not result.ok:
        raise IucutError(f"demo: step {result.failed_step} failed", hint="see the output above")
