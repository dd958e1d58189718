"""The HTML form of a report: ``template.html`` filled with ``string.Template``, all escaped.

Evidence and details are drawn as tables (mappings of counts side by side, e.g. planned
against written), not as JSON; a plan shows the units it changes, per document, and
links to the plan's review page when there is one (``plan_page``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from html import escape
from importlib import resources
from string import Template
from typing import Any

from iucut.report.model import facts_of
from iucut.report.text import evidence_text

#: Unit changes as a reviewer reads them.
_OP_WORD = {
    "create": "create",
    "revise": "revise",
    "move": "move",
    "restore": "restore",
    "retire": "retire",
}


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
        f"<dt>{escape(str(k))}</dt><dd>{_fact(str(k), v)}</dd>"
        for k, v in {**facts_of(data), "generated at": data.get("generated_at")}.items()
    )
    return _template().substitute(
        title=escape(str(data["title"])),
        verdict=verdict,
        facts=facts,
        checks=_checks_table(data.get("checks") or []),
        details=_details(data.get("checks") or []),
        plan=_plan(data.get("plan"), data.get("plan_page")),
    )


def _fact(key: str, value: Any) -> str:
    if key == "plan_page" and isinstance(value, str) and value:
        return f'<a href="{escape(value)}">{escape(value)}</a> (the plan\'s review page)'
    if isinstance(value, Mapping | list):
        return evidence_html(value)
    return escape(evidence_text(value))


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
            f"<td>{evidence_html(c['evidence'])}{hint}</td></tr>"
        )
    head = "<tr><th>#</th><th>check</th><th>status</th><th>evidence</th></tr>"
    return '<table class="checks">\n' + head + "\n" + "\n".join(rows) + "\n</table>"


def _details(checks: list[Mapping[str, Any]]) -> str:
    parts = []
    for c in checks:
        if c.get("details"):
            parts.append(
                f"<details><summary>{int(c['number'])}. {escape(str(c['name']))}</summary>"
                f"{evidence_html(c['details'])}</details>"
            )
    return ("<h2>Details</h2>\n" + "\n".join(parts)) if parts else ""


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _value(value: Any) -> str:
    if value is None:
        return '<span class="none">–</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    return escape(str(value))


def evidence_html(evidence: Any) -> str:
    """Evidence as HTML: text as text; a mapping as a table of its fields, where
    mappings of plain values that share their keys (``planned``, ``written``) become the
    columns of one table; lists of plain values inline; lists of mappings as tables."""
    if _scalar(evidence):
        return _value(evidence)
    if isinstance(evidence, Sequence) and not isinstance(evidence, str):
        items = list(evidence)
        if all(_scalar(v) for v in items):
            return ", ".join(_value(v) for v in items) if items else '<span class="none">–</span>'
        if all(isinstance(v, Mapping) for v in items):
            return _records(items)
        return "<ul>" + "".join(f"<li>{evidence_html(v)}</li>" for v in items) + "</ul>"
    if not isinstance(evidence, Mapping):
        return escape(str(evidence))
    plain: list[tuple[str, Any]] = []
    groups: dict[tuple[str, ...], list[tuple[str, Mapping[str, Any]]]] = {}
    nested: list[tuple[str, Any]] = []
    for key, value in evidence.items():
        if _scalar(value) or (
            isinstance(value, list) and all(_scalar(v) for v in value) and len(value) <= 12
        ):
            plain.append((str(key), value))
        elif isinstance(value, Mapping) and value and all(_scalar(v) for v in value.values()):
            groups.setdefault(tuple(sorted(map(str, value))), []).append((str(key), value))
        else:
            nested.append((str(key), value))
    parts = []
    if plain:
        rows = "".join(
            f"<tr><th>{escape(k)}</th><td>{evidence_html(v)}</td></tr>" for k, v in plain
        )
        parts.append(f'<table class="ev">{rows}</table>')
    for keys, members in groups.items():
        head = "".join(f"<th>{escape(name)}</th>" for name, _ in members)
        rows = "".join(
            f"<tr><th>{escape(k)}</th>"
            + "".join(f'<td class="n">{_value(m.get(k))}</td>' for _, m in members)
            + "</tr>"
            for k in _ordered(keys, members)
        )
        parts.append(f'<table class="ev grid"><tr><th></th>{head}</tr>{rows}</table>')
    for key, value in nested:
        parts.append(f'<div class="sub"><b>{escape(key)}</b>{evidence_html(value)}</div>')
    return "".join(parts)


def _ordered(keys: tuple[str, ...], members: list[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """The row keys in the order the first mapping has them (its author's order)."""
    first = [str(k) for k in members[0][1]]
    return first + [k for k in keys if k not in first]


def _records(items: list[Mapping[str, Any]]) -> str:
    columns: list[str] = []
    for item in items:
        columns += [str(k) for k in item if str(k) not in columns]
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{evidence_html(item.get(c))}</td>" for c in columns) + "</tr>"
        for item in items
    )
    return f'<table class="ev"><tr>{head}</tr>{rows}</table>'


def _plan(plan: Mapping[str, Any] | None, page: str | None) -> str:
    """The units a plan changes, per document (a table each), with the totals."""
    if not plan:
        return ""
    out = ["<h2>Units driven by the plan</h2>"]
    pid = f" {escape(str(plan['plan_id'])[:12])}" if plan.get("plan_id") else ""
    link = f' — <a href="{escape(page)}">open the review page with every diff</a>' if page else ""
    out.append(f'<p class="plan">plan{pid}: <code>{escape(str(plan["summary"]))}</code>{link}</p>')
    for doc in plan.get("documents", []):
        if doc["action"] == "skip":
            continue
        out.append(
            f'<h3><span class="path">{escape(str(doc["doc_path"]))}</span> '
            f"[{escape(str(doc['action']))}] <code>{escape(str(doc['summary']))}</code></h3>"
        )
        rows = []
        for c in doc["changes"]:
            moved = f"from {c['moved_from']}" if c.get("moved_from") else ""
            op = escape(str(c["op"]))
            rows.append(
                f'<tr class="op-{op}"><td>{escape(_OP_WORD.get(c["op"], c["op"]))}'
                f"</td><td><code>{escape(str(c['code']))}</code></td>"
                f"<td>{escape(str(c.get('title') or ''))}</td><td>{escape(moved)}</td></tr>"
            )
        if doc.get("more"):
            more = f"… and {int(doc['more'])} more"
            rows.append(f'<tr><td colspan="4" class="more">{escape(more)}</td></tr>')
        if rows:
            out.append(
                '<table class="units"><tr><th>change</th><th>code</th><th>title</th>'
                "<th>moved</th></tr>" + "".join(rows) + "</table>"
            )
    for rej in plan.get("rejected", []):
        out.append(
            f'<p class="bad">rejected: {escape(str(rej["path"]))}: '
            f"{escape(str(rej['message']))}</p>"
        )
    return "\n".join(out)
