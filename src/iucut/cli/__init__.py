"""The thin command line: parse, call the library, format, and map errors to exit codes.

Results go to stdout, progress and diagnostics to stderr. :func:`main` is the one
error boundary: an :class:`~iucut.errors.IucutError` becomes its message (or JSON
with ``--json``) and its exit code; nothing else about errors lives in the CLI.
Each command group lives in a module of this package named after what it owns.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

import click

from iucut._version import __version__
from iucut.config import Settings, load_settings
from iucut.errors import (
    BROKEN_PIPE_EXIT,
    USAGE_EXIT,
    Interrupted,
    IucutError,
    OutputError,
)
from iucut.project import ProjectRoot


class Context:
    """What every command gets: the resolved settings and output preferences."""

    def __init__(self, settings_args: dict[str, Any]):
        self._settings_args = settings_args
        self._settings: Settings | None = None
        self.strict = False  # --strict: a document with a warning is rejected
        #: the warnings shown for this run: (path, its warnings) a document with any (the
        #: digest's own strings: not a dict a warning, 100,449 of them at 1M units)
        self.warnings: list[tuple[str, tuple[str, ...]]] = []
        self._root: ProjectRoot | None = None

    def warning_dicts(self) -> list[dict[str, str]]:
        """The warnings of this run as a command's JSON gives them: ``{path, warning}``."""
        return [{"path": path, "warning": w} for path, ws in self.warnings for w in ws]

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(**self._settings_args)
        return self._settings

    def root(self, paths: Any = (), given: Path | None = None, quiet: bool = False) -> ProjectRoot:
        """The project root for ``paths`` (document identity, see :mod:`iucut.project`),
        found once; its ``iucut.yaml`` becomes the configuration file. When the root was
        guessed (no --root, IUCUT_ROOT or iucut.yaml), says which folder, once, on stderr
        (not when ``quiet``)."""
        if self._root is None:
            from iucut.config import read_env_file
            from iucut.project import MARKER, find_root

            env = dict(os.environ)
            if self._settings_args.get("env_file") is not None:
                env = {**read_env_file(self._settings_args["env_file"]), **env}
            self._root = find_root(list(paths), given=given, environ=env)
            if self._settings is None and (self._root.path / MARKER).is_file():
                self._settings_args = {**self._settings_args, "config_dir": self._root.path}
            if self._root.note and not quiet:
                note(f"iucut: note: {self._root.note}")
        return self._root


pass_ctx = click.make_pass_decorator(Context)


def echo_json(data: Any) -> None:
    """Write one JSON document to stdout (times as ISO 8601 with their offset; every
    password seen masked in its strings)."""
    click.echo(json_text(json_masked(data)))


def json_text(data: Any) -> str:
    """``data`` as :func:`echo_json` writes it (indented by 2)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)


def json_masked(data: Any) -> Any:
    """``data`` with every password this process has seen masked (as :func:`echo_json`)."""
    from iucut.db.target import known_secrets

    return _masked(data) if known_secrets() else data


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def stamp(value: datetime | None) -> str:
    """A time for a terminal line, in the local time zone, with its offset:
    ``2026-11-24 02:10:02+00:00``."""
    if value is None:
        return "-"
    return value.astimezone().isoformat(sep=" ", timespec="seconds")


def _masked(value: Any) -> Any:
    """``value`` with every password this process has seen masked in its strings (before
    JSON escapes a quote or backslash of it, after which it would no longer match)."""
    from iucut.db.target import scrub

    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {_masked(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    if isinstance(value, bool | int | float | datetime) or value is None:
        return value
    return scrub(str(value))


def note(message: str) -> None:
    """A diagnostic line on stderr (never on stdout, which holds results)."""
    from iucut.db.target import known_secrets, scrub

    if known_secrets():
        message = scrub(message)
    click.echo(printable(message, lines=True), err=True)


def plural(count: int, noun: str) -> str:
    """``1 document``, ``2 documents``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


#: C0 and C1 control characters (tab and newline included: these are one-line fields).
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


#: The same, for messages of several lines: tab and newline pass.
_MESSAGE_CONTROLS = {c: v for c, v in _CONTROLS.items() if c not in (0x09, 0x0A)}
_CONTROL_RE = re.compile("[" + "".join(f"\\x{c:02x}" for c in _CONTROLS) + "]")
_MESSAGE_CONTROL_RE = re.compile("[" + "".join(f"\\x{c:02x}" for c in _MESSAGE_CONTROLS) + "]")


def printable(text: str, *, lines: bool = False) -> str:
    """A title, path or code for a terminal line (``lines``: a message, whose newlines
    and tabs pass): control characters are shown as ``\\xNN`` and never sent, so that a
    document's text or a file's name cannot drive the terminal."""
    if (_MESSAGE_CONTROL_RE if lines else _CONTROL_RE).search(text) is None:
        return text  # (the common case; translate looks each character up in a dict)
    return text.translate(_MESSAGE_CONTROLS if lines else _CONTROLS)


def relative_glob(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A --glob value: a non-empty pattern relative to each folder (click callback)."""
    if not value or PurePath(value).anchor:
        raise click.BadParameter(
            f"{value!r}: give a pattern relative to each folder, e.g. '**/*.md'"
        )
    return value


def _set_strict(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(Context).strict = True


#: ``--strict`` for the commands that cut documents (cut, plan, apply, prove).
strict_option = click.option(
    "--strict",
    is_flag=True,
    expose_value=False,
    callback=_set_strict,
    help="Reject every document that has a warning (front matter that does not parse, "
    "duplicate labels, control characters...) instead of cutting it.",
)


def _set_jobs(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    ctx.meta[JOBS_KEY] = value
    return value


JOBS_KEY = "iucut.jobs"

#: ``--jobs N`` for the commands that cut documents (cut, plan, apply, prove): read back
#: with :func:`jobs_of` (it is also in ``click.get_current_context().meta``).
jobs_option = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=None,
    envvar="IUCUT_JOBS",
    expose_value=False,
    callback=_set_jobs,
    metavar="N",
    help="Cut documents in N worker processes (default, or 0: one per CPU available; "
    "env IUCUT_JOBS). The output is the same for every N: documents come in source order.",
)


def jobs_of() -> int | None:
    """The ``--jobs`` of the command being run (None: one per CPU available)."""
    value = click.get_current_context().meta.get(JOBS_KEY)
    return None if value is None else int(value)


#: The name :func:`writing` gives standard output.
STDOUT = "standard output"


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Writes to the output file ``path``: an OS error becomes an OutputError naming it."""
    try:
        yield
    except BrokenPipeError:
        raise  # the reader went away (``| head``): not an error to report
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"cannot write {exc.filename or path}: {reason}", path=str(path)) from exc


@contextmanager
def progress(enabled: bool, label: str) -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress bar on stderr for long work, or None: ``update(done, total, name)``.

    Rich draws it only on a terminal (and clears it when done); diagnostics written
    meanwhile appear above it.
    """
    if not enabled:  # (rich not imported: a quiet run starts its workers sooner)
        yield None
        return
    if os.environ.get("TTY_INTERACTIVE") != "1" and not stdout_is_terminal(sys.stderr):
        # (not a terminal as rich tells it: no bar, and rich not imported for that answer)
        yield None
        return
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_interactive:  # (a log would get a stray blank line)
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def update(done: int, total: int, name: str) -> None:
            # (a total of 0: files cut as they are found, their number not known)
            bar.update(task, completed=done, total=total or None, description=name)

        yield update


@contextlib.contextmanager
def progress_later(enabled: bool, label: str) -> Iterator[Callable[[int, int, str], None]]:
    """:func:`progress`, its bar drawn at the first update: for work that another bar's
    work feeds as it goes (apply's writes after the cutting pass it reads as it comes),
    since one bar is drawn at a time."""
    with contextlib.ExitStack() as stack:
        bar: list[Callable[[int, int, str], None] | None] = []

        def update(done: int, total: int, name: str) -> None:
            if not bar:
                bar.append(stack.enter_context(progress(enabled, label)))
            if bar[0] is not None:
                bar[0](done, total, name)

        yield update


class _PipeClosed(Exception):
    """Standard output was closed by its reader (carried past click, which would exit 1)."""


#: The module of ``iucut.cli`` that defines each command, imported when the command is
#: run: ``iucut cut`` does not import the database driver, a few tenths of a second of
#: start-up that every worker-free part of a run would wait for (``--help`` and an
#: unknown command import them all).
COMMAND_MODULES = {
    "cut": "cut",
    "db": "db",
    "migrate": "db",
    "freeze": "db",
    "unfreeze": "db",
    "status": "db",
    "plan": "write",
    "apply": "write",
    "show": "read",
    "history": "read",
    "export": "read",
    "prove": "prove",
    "doctor": "doctor",
    "verify": "doctor",
    "demo": "demo",
    "changes": "feed",
    "ls": "ls",
    "mcp": "mcp",
    "init": "project",
    "retire": "project",
    "refs": "refs",
    "search": "search",
}


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise _PipeClosed from exc

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            module = COMMAND_MODULES.get(cmd_name)
            if module is None:
                _register()  # every command, for click's "did you mean"
            else:
                _register([module])
        _resume_collector()  # (the command's modules are imported)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        _register()
        return super().list_commands(ctx)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="iucut")
@click.option(
    "--dsn",
    envvar=None,
    help="Database to use (libpq URI or key=value). "
    "Default: IUCUT_DSN, DATABASE_URL, PG* variables, else the embedded server. "
    "Keep passwords out of the command line (other users can read it in `ps`): "
    "use IUCUT_DSN, a service file (PGSERVICE) or ~/.pgpass.",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read IUCUT_*/DATABASE_URL/PG* variables from this file at run time.",
)
@click.option("--schema", help="Database schema of the iucut tables (default: public).")
@click.option(
    "--driver",
    type=click.Choice(["psycopg", "psycopg2"]),
    help="Database driver (default: psycopg 3; psycopg2 through the adapter).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    dsn: str | None,
    env_file: Path | None,
    schema: str | None,
    driver: str | None,
) -> None:
    """Cut Markdown documents into addressable, versioned information units in PostgreSQL.

    \b
    Pipeline: cut -> plan -> prove -> apply, then show / history / export.
    Live writes are OFF unless IUCUT_EXECUTION=enabled (the kill-switch).
    Exit codes: see `iucut exit-codes`.
    """
    ctx.obj = Context({"dsn": dsn, "env_file": env_file, "schema": schema, "driver": driver})
    _route_notes()


class _StderrNotes(logging.Handler):
    """Show the database layer's notes (e.g. 'using the embedded server') on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(record.getMessage(), err=True)


def _route_notes() -> None:
    """The database layer's notes to stderr, for every command (once)."""
    logger = logging.getLogger("iucut.db")
    if not any(isinstance(h, _StderrNotes) for h in logger.handlers):
        logger.addHandler(_StderrNotes(logging.INFO))
        logger.setLevel(logging.INFO)
        logger.propagate = False


@cli.command("exit-codes")
def exit_codes() -> None:
    """List the exit codes of every command."""
    from iucut.errors import EXIT_CODES

    for code, meaning in sorted(EXIT_CODES.items()):
        click.echo(f"{code:>3}  {meaning}")


def hide_dsn_from_title(argv: list[str] | None = None) -> None:
    """Remember the password of a ``--dsn`` value (every message masks it) and, for the
    process's own arguments, rewrite the process title (``ps``, ``/proc/PID/cmdline``)
    without it: it would be readable by every user for the whole run."""
    args = list(getattr(sys, "orig_argv", sys.argv)) if argv is None else ["iucut", *argv]
    shown: list[str] = []
    hidden = False
    for i, arg in enumerate(args):
        if i and args[i - 1] == "--dsn":
            shown.append(_title_dsn(arg))
            hidden = True
        elif arg.startswith("--dsn="):
            shown.append("--dsn=" + _title_dsn(arg[len("--dsn=") :]))
            hidden = True
        else:
            shown.append(arg)
    if hidden and argv is None:
        import setproctitle

        setproctitle.setproctitle(" ".join(shown))


def _title_dsn(dsn: str) -> str:
    from iucut.db.target import (
        candidate_secrets,
        redact,
        remember_secrets,
        split_password,
    )

    remember_secrets(candidate_secrets(dsn))
    try:
        return redact(split_password(dsn)).replace(" ", ",")
    except Exception:  # BadConninfo, or anything else: show nothing of it
        return "***"


def _register(modules: Iterable[str] | None = None) -> None:
    """Import the command ``modules`` of ``iucut.cli`` (default: all of them): each adds
    its commands to ``cli``. Missing modules are skipped while the tree is being built."""
    import importlib

    for name in dict.fromkeys(COMMAND_MODULES.values()) if modules is None else modules:
        try:
            importlib.import_module(f"iucut.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"iucut.cli.{name}":
                raise


def stdout_is_terminal(stream: Any = None) -> bool:
    """Whether standard output (or ``stream``) is a terminal, as rich decides it
    (``TTY_COMPATIBLE``, ``FORCE_COLOR``, else the stream), without importing rich: a
    summary written to a pipe or a file is plain text, drawn in a fraction of the time.
    (Rich also says no in IDLE and Jupyter: a no here is rich's no.)"""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    try:
        return bool((sys.stdout if stream is None else stream).isatty())
    except (ValueError, AttributeError):  # closed; not a file
        return False


def stdout_console(**options: Any) -> Any:
    """A rich console on stdout, full width when stdout is not a terminal (a pipe or a
    file gets whole lines, not lines cut at 80 columns), and whose broken pipe ends the
    command like any other (exit 141, see :func:`main`) instead of rich's exit 1."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    console = _Console(**options)
    if not console.is_terminal and "width" not in options:
        console.width = 10_000
    return console


def _stdout_gone() -> None:
    """Standard output was closed by its reader: nothing else (the interpreter's last
    flush included) may try to write there."""
    with suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _report_interrupted(exc: Interrupted, json_mode: bool) -> None:
    """Ctrl-C: list what was written before it, on stdout (the log a user redirected)
    and on stderr (the terminal), then the error."""
    written = [str(path) for path in exc.context.get("written") or []]
    if json_mode:
        echo_json(exc.to_dict())
    else:
        for path in written:
            click.echo(f"{printable(path)}: written before the interrupt")
        click.echo(f"interrupted: {exc.message}")
    for path in written:
        note(f"iucut: written before the interrupt: {path}")
    note(f"iucut: interrupted: {exc.message}")
    if exc.hint:
        note(f"hint: {exc.hint}")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: the single place where errors become messages and exit codes.

    Without ``argv`` (the ``iucut`` program: the process ends with the command), what
    it made is left to the system at exit: the interpreter's last collections would
    walk every object it holds (the modules, psycopg's types, the rows read), ~0.1 s of
    a re-sync's second (issue #16 part 3), and tearing it down frees them one by one
    (~10 ms more, whatever the corpus). Every file is closed and every handler run as
    before; only the walk and the teardown are spared (``gc.freeze`` as the last exit
    handler, then :func:`_end_process`)."""
    if argv is not None:
        _main(argv)
        return
    global _collector_paused
    _collector_paused = not gc.isenabled()  # (by iucut.__main__, for the imports)
    atexit.register(gc.freeze)  # (runs after the handlers the command registers)
    try:
        _main(None)
    except SystemExit as exc:
        _end_process(exc)


#: whether the program started with the cyclic collector paused (:mod:`iucut.__main__`)
_collector_paused = False


def _resume_collector() -> None:
    """The collector back on, once, when the program paused it for its imports: what
    they made is frozen first (``gc.freeze``: modules, classes and functions live as
    long as the process; no collection walks them again)."""
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        gc.freeze()
        gc.enable()


def _end_process(exc: SystemExit) -> None:
    """End the process as the interpreter ends it after ``exc`` (its threads finished,
    the exit handlers run, the standard streams flushed, the same status), without the
    teardown of the interpreter. Where the interpreter would do more (a thread still
    running to wait for, a status that is not a number, a stream it cannot flush), it
    ends the process itself, as before."""
    code = exc.code
    main_thread = threading.main_thread()
    if not (code is None or isinstance(code, int)) or any(
        t.is_alive() and not t.daemon for t in threading.enumerate() if t is not main_thread
    ):
        raise exc
    atexit._run_exitfuncs()  # (each run once: the interpreter finds none left after)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise exc from None  # (the interpreter's own exit: status 120, its message)
    os._exit(code or 0)


def _main(argv: list[str] | None) -> None:
    hide_dsn_from_title(argv)  # (each command's module is imported when it is run)
    json_mode = "--json" in (argv if argv is not None else sys.argv[1:])
    try:
        # Outside standalone mode click returns the code of ``ctx.exit(n)`` / ``Exit(n)``.
        code = cli.main(args=argv, prog_name="iucut", standalone_mode=False)
    except (BrokenPipeError, _PipeClosed):
        _stdout_gone()  # the reader (``| head``) has what it wanted: a quiet exit
        sys.exit(BROKEN_PIPE_EXIT)
    except Interrupted as exc:
        try:
            _report_interrupted(exc, json_mode)
        except BrokenPipeError:
            _stdout_gone()
        sys.exit(exc.exit_code)
    except IucutError as exc:
        if isinstance(exc, OutputError) and isinstance(exc.__cause__, BrokenPipeError):
            _stdout_gone()
            sys.exit(BROKEN_PIPE_EXIT)
        if isinstance(exc, OutputError) and exc.context.get("path") == STDOUT:
            # stdout itself failed (a full disk): say so on stderr, and let nothing else
            # (the interpreter's last flush included) try stdout again
            json_mode = False
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if json_mode:
            echo_json(exc.to_dict())
        else:
            note(f"iucut: error: {exc.message}")
            if exc.hint:
                note(f"hint: {exc.hint}")
        sys.exit(exc.exit_code)
    except SystemExit:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _stdout_gone()
            sys.exit(BROKEN_PIPE_EXIT)
        raise
    except click.exceptions.Abort:
        click.echo("iucut: aborted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(USAGE_EXIT if isinstance(exc, click.UsageError) else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("iucut: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        # a bug in iucut: a message (never a traceback, whose text may hold a password)
        if os.environ.get("IUCUT_DEBUG"):
            raise
        problem = f"internal error ({type(exc).__name__}): {exc}"
        hint = "this is a bug in iucut: set IUCUT_DEBUG=1 to see the traceback and report it"
        if json_mode:
            echo_json({"error": "InternalError", "message": problem, "hint": hint, "exit_code": 1})
        else:
            note(f"iucut: error: {problem}")
            note(f"hint: {hint}")
        sys.exit(1)
    try:
        sys.stdout.flush()  # here, not at interpreter exit, where a broken pipe is exit 120
    except BrokenPipeError:
        _stdout_gone()
        sys.exit(BROKEN_PIPE_EXIT)
    sys.exit(code if isinstance(code, int) else 0)


#: The value of ``--report`` given without a folder: the reports then go to
#: ``IUCUT_HOME/reports``, outside the source tree (see :func:`report_folder`).
HOME_REPORTS = "@iucut-home"


def report_folder(ctx: Context, value: Path | None) -> Path | None:
    """The folder of ``--report [DIR]``: DIR, or ``IUCUT_HOME/reports`` when the flag
    came without one (never the working folder, where the sources often are)."""
    if value is not None and str(value) == HOME_REPORTS:
        return ctx.settings.home / "reports"
    return value
