"""The HTML form of a report: ``template.html`` filled with ``string.Template``, all escaped."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from html import escape
from importlib import resources
from string import Template
from typing import Any

from iucut.report.model import facts_of
from iucut.report.text import evidence_text, plan_lines


@functools.cache
def _template() -> Template:
    text = (resources.files("iucut") / "report" / "template.html").read_text(encoding="utf-8")
    return Template(text)


def render(data: Mapping[str, Any]) -> str:
    """A standalone HTML page (no scripts, no external resources)."""
    verdict = ""
    if data.get("verdict"):
        cls = "ok" if data.get("ok") else "bad"
        verdict = f'<p class="verdict {cls}">{escape(str(data["verdict"]))}</p>'
    facts = "\n".join(
        f"<dt>{escape(str(k))}</dt><dd>{escape(evidence_text(v))}</dd>"
        for k, v in {**facts_of(data), "generated at": data.get("generated_at")}.items()
    )
    return _template().substitute(
        title=escape(str(data["title"])),
        verdict=verdict,
        facts=facts,
        checks=_checks_table(data.get("checks") or []),
        details=_details(data.get("checks") or []),
        plan=_plan(data.get("plan")),
    )


def _checks_table(checks: list[Mapping[str, Any]]) -> str:
    if not checks:
        return ""
    rows = []
    for c in checks:
        hint = ""
        if c.get("hint") and c["status"] != "PASS":
            hint = f'<div class="hint">hint: {escape(str(c["hint"]))}</div>'
        rows.append(
            f'<tr><td class="num">{int(c["number"])}</td><td>{escape(str(c["name"]))}</td>'
            f'<td class="{escape(c["status"])}">{escape(c["status"])}</td>'
            f"<td>{escape(evidence_text(c['evidence']))}{hint}</td></tr>"
        )
    head = "<tr><th>#</th><th>check</th><th>status</th><th>evidence</th></tr>"
    return "<table>\n" + head + "\n" + "\n".join(rows) + "\n</table>"


def _details(checks: list[Mapping[str, Any]]) -> str:
    parts = []
    for c in checks:
        if c.get("details"):
            body = json.dumps(c["details"], ensure_ascii=False, indent=2, default=str)
            parts.append(
                f"<details><summary>{int(c['number'])}. {escape(str(c['name']))}</summary>"
                f"<pre>{escape(body)}</pre></details>"
            )
    return ("<h2>Details</h2>\n" + "\n".join(parts)) if parts else ""


def _plan(plan: Mapping[str, Any] | None) -> str:
    if not plan:
        return ""
    return "<h2>Plan</h2>\n<pre>" + escape("\n".join(plan_lines(plan))) + "</pre>"
