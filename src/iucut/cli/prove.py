"""The ``iucut prove`` command: the rollback-only proof of a plan against a live database."""

from __future__ import annotations

import json
from pathlib import Path

import click

from iucut import planfile
from iucut.cli import HOME_REPORTS, Context, cli, echo_json, note, pass_ctx, report_folder, writing
from iucut.cli.cut import named
from iucut.cli.write import cut_sources, rejected_error, with_sources
from iucut.errors import ProofFailed
from iucut.store import Store

#: Units listed per document in the proof report (the plan's review page has them all).
PROOF_UNITS_SHOWN = 200


@cli.command("prove")
@with_sources
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Prove this plan file (else plan the PATHs now).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    is_flag=False,
    flag_value=HOME_REPORTS,
    metavar="[DIR]",
    help="Write the report as proof-<plan>.md, .json and .html in DIR "
    "(--report alone: IUCUT_HOME/reports, outside the source tree).",
)
@click.option(
    "--observer-role",
    metavar="ROLE",
    help="Role of the independent verifying connection (e.g. iucut_reader).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def prove_cmd(
    ctx: Context,
    paths: tuple[Path, ...],
    glob: str,
    root: Path | None,
    plan_file: Path | None,
    report_dir: Path | None,
    observer_role: str | None,
    as_json: bool,
) -> None:
    """Prove the real write path against the database without changing it.

    Drives the plan through the SQL functions inside one transaction that the database
    refuses to commit, rolls it back, then checks from an independent connection that
    nothing changed. Works while the kill-switch is off. Exit 0 only if every check
    passes (10 otherwise).
    """
    if paths:  # the project root first: its iucut.yaml is the configuration to read
        ctx.root(named(paths, glob), root)
    settings = ctx.settings
    store = Store(settings)
    if plan_file is not None:
        if paths:
            raise click.UsageError("give either PATHs or --plan, not both")
        the_plan, plan_id = planfile.read_plan(plan_file)
    else:
        items = cut_sources(ctx, paths, glob, root, show=not as_json)
        the_plan = store.plan_documents(items)
        plan_id = planfile.plan_hash(the_plan)
    report = store.prove(the_plan, plan_id=plan_id, observer_role=observer_role)
    data = report.to_dict()
    report_dir = report_folder(ctx, report_dir)
    # Documents of the given paths that were rejected were never proven: the proof of
    # the paths fails, naming them.
    rejected = [{"path": r.path, "message": r.message} for r in the_plan.rejected]
    data["rejected"] = rejected
    proven = report.passed and not rejected
    if rejected:
        data["passed"] = False
        data["verdict"] = report.verdict.replace("ALL_PROOFS_PASS", "FAILED") + (
            f" REJECTED {len(rejected)}"
        )
    if report_dir is not None:
        from iucut.report import plan_summary
        from iucut.report.page import write_plan_page

        with writing(report_dir):
            page = write_plan_page(report_dir, planfile.plan_to_dict(the_plan), plan_id)
            files = {
                **data,
                "plan_page": page.name,
                "plan": plan_summary(the_plan, plan_id, max_changes=PROOF_UNITS_SHOWN),
            }
            written = write_proof_report(report_dir, f"proof-{plan_id[:12]}", files)
        note("report: " + ", ".join(str(p) for p in [*written, page]))
    if as_json:
        echo_json(data)
        if not proven:  # one JSON document on stdout, not a second error document
            raise click.exceptions.Exit(ProofFailed.exit_code)
    else:
        click.echo(
            f"iucut prove  plan {plan_id[:12]}  driver {report.driver}  role {report.role}"
            f"  tool {report.tool_version}"
        )
        for check in report.checks:
            click.echo(f"PROOF-{check.number}  {check.status}  {check.name}")
            click.echo(f"         {json.dumps(check.evidence, ensure_ascii=False, default=str)}")
        drift = report.survives_rollback.get("sequence_values_consumed", {})
        if any(drift.values()):
            click.echo(f"survives rollback (expected): sequence values consumed {drift}")
        for r in rejected:
            click.echo(f"rejected, not proven: {r['message']}")
        click.echo(data["verdict"])
    if rejected:
        err = rejected_error(the_plan.rejected, "so they were not proven")
        raise ProofFailed(
            err.message, hint="fix the documents named, then prove again", rejected=rejected
        )
    if not report.passed:
        raise ProofFailed(report.verdict)


def write_proof_report(directory: Path, basename: str, data: dict[str, object]) -> list[Path]:
    """Write the proof report as Markdown, JSON (and HTML when the renderer is there)."""
    from iucut.report import write_report

    return list(write_report(directory, basename, data))
