"""The plan's HTML review page: one self-contained file (no network), rendered lazily.

The plan's review data (:func:`iucut.report.review.page_data`) is embedded as JSON in
the page; a small script draws a document's changes only when it is opened, a few
hundred at a time, so a 60,000-unit first plan opens at once. Every text reaches the
page through ``textContent`` (never as markup): a document's text cannot inject any.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from html import escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from iucut.report.diff import hunks, visible
from iucut.report.review import page_data

#: What must not appear raw inside a <script> element: ``</script>``, ``<!--`` and the
#: line separators some parsers treated as newlines; lone surrogates (not UTF-8) too.
_SCRIPT_UNSAFE = re.compile("[<>&\u2028\u2029\ud800-\udfff]")


@functools.cache
def _template() -> Template:
    text = (resources.files("iucut") / "report" / "plan.html").read_text(encoding="utf-8")
    return Template(text)


def script_json(data: Any) -> str:
    """JSON that is safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return _SCRIPT_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _shown(segments: list[list[str]]) -> list[list[str]]:
    """Diff segments as the page draws them: hunks with context, whitespace changes
    drawn (a changed newline is drawn and also breaks the line), gaps as ``…``."""
    out: list[list[str]] = []
    for hunk in hunks([(op, text) for op, text in segments], context=2, blank_lines=True):
        if hunk is None:
            out.append(["gap", "…\n"])
            continue
        for op, piece in hunk:
            if op == "=":
                out.append([op, piece])
            else:
                newline = "\n" if piece.endswith(("\n", "\r")) else ""
                out.append([op, visible(piece) + newline])
    return out


def render_plan_page(
    plan: Mapping[str, Any],
    plan_id: str | None,
    dangling: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The page for a plan in its JSON form (:func:`iucut.planfile.plan_to_dict`), with the
    references it would leave ``dangling`` (:meth:`iucut.dangling.Dangling.to_dict`)."""
    data = page_data(plan, plan_id, dangling)
    for doc in data["documents"]:
        for change in doc["changes"]:
            if "diff" in change:
                change["diff"] = _shown(change["diff"])
    title = f"iucut plan {plan_id[:12]}" if plan_id else "iucut plan"
    return _template().substitute(title=escape(title), data=script_json(data))


def plan_page_name(plan_id: str | None) -> str:
    return f"plan-{plan_id[:12]}.html" if plan_id else "plan.html"


def write_plan_page(
    directory: Path,
    plan: Mapping[str, Any],
    plan_id: str | None,
    dangling: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """Write ``plan-<id>.html`` in ``directory`` (made if missing); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / plan_page_name(plan_id)
    path.write_text(render_plan_page(plan, plan_id, dangling), encoding="utf-8")
    return path
