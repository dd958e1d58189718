"""Commands that check the whole: ``doctor`` (the deployed-tree gate) and ``verify``
(the stored state)."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import click

from iucut._version import __version__
from iucut.cli import HOME_REPORTS, Context, cli, note, pass_ctx, report_folder, writing
from iucut.db.connector import open_provider
from iucut.errors import DoctorFailed, IucutError, VerifyFailed
from iucut.report import Report, render, verdict, write_report


@cli.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    is_flag=False,
    flag_value=HOME_REPORTS,
    metavar="[DIR]",
    help="Also write the report as doctor.md, doctor.json and doctor.html in DIR "
    "(--report alone: IUCUT_HOME/reports, outside the source tree).",
)
@pass_ctx
def doctor_cmd(ctx: Context, as_json: bool, report_dir: Path | None) -> None:
    """Check the installed tree, the drivers, the database, the schema and the roles.

    \b
    One line per check (PASS / WARN / FAIL, name, evidence): every module compiles and
    imports; drivers present; database reachable; migrations applied with intact
    checksums; role privileges as intended (read from the catalog, nothing is written);
    SECURITY DEFINER functions pin search_path; the kill-switch and freeze state.
    Exit code 11 when any check fails; WARN does not fail.
    """
    from iucut.doctor import doctor

    settings = ctx.settings
    provider = open_provider(settings, notify=note)
    checks = doctor(settings, provider)
    try:
        target, secrets = provider.target.display, tuple(provider.target.secrets())
    except IucutError:
        target, secrets = "(unresolved)", ()
    line = verdict("IUCUT_DOCTOR", checks)
    report = Report(
        "iucut doctor",
        tuple(checks),
        line,
        facts={
            "tool_version": __version__,
            "python": f"{platform.python_version()} ({sys.executable})",
            "target": target,
            "schema": settings.schema,
            "driver": settings.driver,
        },
        secrets=secrets,
    )
    report_dir = report_folder(ctx, report_dir)
    if report_dir is not None:
        with writing(report_dir):
            written = write_report(report_dir, "doctor", report)
        note("report: " + ", ".join(str(p) for p in written))
    if as_json:
        click.echo(render(report, "json"), nl=False)
        if not report.ok:  # the JSON above is the whole answer: no second error document
            raise SystemExit(DoctorFailed.exit_code)
        return
    click.echo(render(report, "terminal", color=sys.stdout.isatty()), nl=False)
    if not report.ok:
        raise DoctorFailed(line, hint="see the FAIL lines above")


@cli.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many problems each check lists.",
)
@pass_ctx
def verify_cmd(ctx: Context, as_json: bool, limit: int) -> None:
    """Re-check the stored state, read-only: hashes, document digests, tree shape.

    \b
    Every version's hash is recomputed from its text; every unit's hash is its current
    version's; every active document's hash, size and unit count are those of its units
    in order (so `iucut export` gives back what was applied); every document is one tree
    (a root, codes in its namespace, parents one level up and earlier, distinct
    non-negative positions, no cycles). One read-only snapshot; writes nothing.
    Exit code 16 when any check fails. `iucut doctor` runs it too.
    """
    from iucut.verify import verify

    settings = ctx.settings
    provider = open_provider(settings, notify=note)
    with provider.connect(autocommit=True) as conn:
        checks = verify(conn, limit)
    line = verdict("IUCUT_VERIFY", checks)
    report = Report(
        "iucut verify",
        tuple(checks),
        line,
        facts={
            "tool_version": __version__,
            "target": provider.target.display,
            "schema": settings.schema,
        },
        secrets=tuple(provider.target.secrets()),
    )
    if as_json:
        click.echo(render(report, "json"), nl=False)
        if not report.ok:  # the JSON above is the whole answer: no second error document
            raise SystemExit(VerifyFailed.exit_code)
        return
    click.echo(render(report, "terminal", color=sys.stdout.isatty()), nl=False)
    if not report.ok:
        raise VerifyFailed(line, hint="see the FAIL lines above")
