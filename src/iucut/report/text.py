"""The text forms of a report: terminal lines (rich), Markdown and JSON."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from iucut.report.model import facts_of

_STYLE = {"PASS": "bold green", "WARN": "bold yellow", "FAIL": "bold red"}
_OP_MARK = {"create": "+", "revise": "~", "move": "→", "restore": "↺", "retire": "-"}


def evidence_text(evidence: Any) -> str:
    """Evidence on one line: a string as is, a mapping as ``key=value, …``."""
    if isinstance(evidence, Mapping):
        return ", ".join(f"{k}={_short(v)}" for k, v in evidence.items())
    return str(evidence).replace("\n", " ")


def _short(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


# -- terminal ------------------------------------------------------------------------------


def terminal(data: Mapping[str, Any], *, color: bool = False, width: int = 100) -> str:
    """One line per check (``PASS name — evidence``), hints under failures, the verdict."""
    from rich.console import Console  # (imported when drawn: start-up stays short)
    from rich.text import Text

    buf = io.StringIO()
    console = Console(
        file=buf,
        force_terminal=color,
        no_color=not color,
        width=width,
        soft_wrap=True,
        highlight=False,
        emoji=False,
    )
    for check in data.get("checks", []):
        line = Text()
        line.append(f"{check['status']:<4}", style=_STYLE.get(check["status"], ""))
        line.append(f"  {check['name']} — {evidence_text(check['evidence'])}")
        console.print(line)
        if check.get("hint") and check["status"] != "PASS":
            console.print(Text(f"      hint: {check['hint']}", style="dim"))
    plan = data.get("plan")
    if plan:
        for plan_line in plan_lines(plan):
            console.print(Text(plan_line))
    if data.get("verdict"):
        style = "bold green" if data.get("ok") else "bold red"
        console.print(Text(str(data["verdict"]), style=style))
    return buf.getvalue()


def plan_lines(plan: Mapping[str, Any]) -> list[str]:
    """The plan summary as plain lines (documents with changes, then the totals)."""
    lines: list[str] = []
    for doc in plan.get("documents", []):
        if doc["action"] == "skip":
            continue
        lines.append(f"{doc['doc_path']}  [{doc['action']}]  {doc['summary']}")
        for change in doc["changes"]:
            title = f"  {change['title']}" if change.get("title") else ""
            lines.append(f"  {_OP_MARK.get(change['op'], '·')} {change['code']}{title}")
    for rej in plan.get("rejected", []):
        lines.append(f"rejected: {rej['path']}: {rej['message']}")
    pid = f" {str(plan['plan_id'])[:12]}" if plan.get("plan_id") else ""
    lines.append(f"plan{pid}: {plan['summary']}")
    return lines


# -- Markdown ------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    text = evidence_text(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def markdown(data: Mapping[str, Any]) -> str:
    """A Markdown document: title, verdict, facts, the checks table, details, the plan."""
    out = [f"# {data['title']}", ""]
    if data.get("verdict"):
        out += [f"**{data['verdict']}**", ""]
    facts = facts_of(data)
    if facts or data.get("generated_at"):
        out += [f"- **{k}**: {_cell(v)}" for k, v in facts.items()]
        out += [f"- **generated at**: {data.get('generated_at')}", ""]
    checks = data.get("checks") or []
    if checks:
        out += ["| # | check | status | evidence |", "|---:|---|---|---|"]
        for c in checks:
            evidence = _cell(c["evidence"])
            if c.get("hint") and c["status"] != "PASS":
                evidence += f" (hint: {_cell(c['hint'])})"
            out.append(f"| {c['number']} | {_cell(c['name'])} | {c['status']} | {evidence} |")
        out.append("")
        detailed = [c for c in checks if c.get("details")]
        if detailed:
            out += ["## Details", ""]
            for c in detailed:
                body = json.dumps(c["details"], ensure_ascii=False, indent=2, default=str)
                out += [f"### {c['number']}. {c['name']}", "", "```json", body, "```", ""]
    plan = data.get("plan")
    if plan:
        out += ["## Plan", "", "```", *plan_lines(plan), "```", ""]
    return "\n".join(out)


def to_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
