"""Reports of checks and plans in four forms: terminal, Markdown, JSON and HTML.

Every form is rendered from :meth:`Report.to_dict`, which masks secrets first, and
the rendered text is scrubbed once more, so no password reaches any output.

    report = Report("iucut doctor", checks, verdict("IUCUT_DOCTOR", checks))
    print(render(report, "terminal"))
    write_report(Path("reports"), "doctor", report)   # doctor.md, doctor.json, doctor.html
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from iucut.db.target import MASK
from iucut.report import html, text
from iucut.report.model import (
    STATUSES,
    Check,
    Report,
    as_check,
    as_checks,
    as_report,
    plan_summary,
    redact,
    tally,
    verdict,
)

__all__ = [
    "FORMATS",
    "STATUSES",
    "Check",
    "Report",
    "as_check",
    "as_checks",
    "as_report",
    "plan_summary",
    "redact",
    "render",
    "render_checks",
    "render_plan",
    "tally",
    "verdict",
    "write_report",
]

#: Output formats and the file suffix of each (terminal has no file).
FORMATS = {"terminal": None, "md": ".md", "json": ".json", "html": ".html"}
_ALIASES = {"markdown": "md", "text": "terminal", "term": "terminal"}


def render(
    report: Report | Mapping[str, Any], fmt: str = "terminal", *, color: bool = False
) -> str:
    """The report in one format: ``terminal`` (``color`` adds ANSI styles), md, json, html.

    ``report`` may also be a mapping with ``checks`` and ``verdict`` (see :func:`as_report`).
    """
    report = as_report(report)
    fmt = _ALIASES.get(fmt, fmt)
    data = report.to_dict()
    if fmt == "terminal":
        out = text.terminal(data, color=color)
    elif fmt == "md":
        out = text.markdown(data)
    elif fmt == "json":
        out = text.to_json(data)
    elif fmt == "html":
        out = html.render(data)
    else:
        raise ValueError(f"unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}")
    # the data is redacted already; mask the caller's known secrets once more, verbatim
    # (a pattern scrub here could eat the quote or tag that follows a masked value)
    for secret in report.secrets:
        if secret:
            out = out.replace(secret, MASK)
    return out


def render_checks(
    title: str,
    checks: Iterable[Any],
    verdict_line: str | None,
    fmt: str = "terminal",
    *,
    facts: Mapping[str, Any] | None = None,
    secrets: Sequence[str] = (),
    color: bool = False,
) -> str:
    """Render a list of checks (``Check``, mappings, or objects with the same fields)."""
    report = Report(title, as_checks(checks), verdict_line, facts or {}, secrets=tuple(secrets))
    return render(report, fmt, color=color)


def render_plan(
    plan: Any,
    fmt: str = "terminal",
    *,
    plan_id: str | None = None,
    title: str = "iucut plan",
    secrets: Sequence[str] = (),
) -> str:
    """Render a plan summary; ``plan`` is a :class:`~iucut.units.Plan` or its summary."""
    summary = plan if isinstance(plan, Mapping) else plan_summary(plan, plan_id)
    report = Report(title, (), None, {}, plan=summary, secrets=tuple(secrets))
    return render(report, fmt)


def write_report(
    directory: Path,
    basename: str,
    data: Report | Mapping[str, Any],
    formats: Sequence[str] = ("md", "json", "html"),
) -> list[Path]:
    """Write the report as ``basename.md``, ``.json`` and ``.html`` in ``directory``.

    ``data`` is a :class:`Report` or a mapping with ``checks`` and ``verdict`` (such as
    a proof report's ``to_dict()``), whose other keys stay at the top of the JSON.
    """
    report = as_report(data)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        fmt = _ALIASES.get(fmt, fmt)
        suffix = FORMATS.get(fmt)
        if suffix is None:
            raise ValueError(f"cannot write a {fmt!r} report to a file")
        path = directory / f"{basename}{suffix}"
        path.write_text(render(report, fmt), encoding="utf-8")
        written.append(path)
    return written
