"""A plan as a reviewer reads it: each change with its word diff or its first lines.

Works on the plan's JSON form (:func:`iucut.planfile.plan_to_dict`, which is also the plan
file and ``plan --json``), so a plan file can be reviewed offline exactly as planned.
:func:`terminal` draws it for ``iucut plan``; :func:`page_data` feeds the HTML page.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from iucut.dangling import describe as describe_dangling
from iucut.dangling import why as why_dangling
from iucut.report.diff import Segment, first_lines, hunks, visible, word_diff

MARKS = {
    "create": "+",
    "revise": "~",
    "move": "→",
    "restore": "↺",
    "retire": "-",
    "place": "·",
}

#: C0 and C1 controls, drawn as ``\xNN`` (tab and newline are handled by the caller).
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if c != 0x09}


def safe(text: str) -> str:
    """Text for a terminal: no control character reaches it (a document cannot drive it)."""
    return text.translate(_CONTROLS)


def summary_line(counts: Mapping[str, int]) -> str:
    from iucut.report.model import summary_line as line

    return line(counts)


def change_title(change: Mapping[str, Any]) -> str:
    unit = change.get("unit") or change.get("old") or {}
    return str(unit.get("title") or "")


def change_diff(change: Mapping[str, Any]) -> list[Segment] | None:
    """The word diff of a revision or restore (None: no old text in the plan, or no
    text change)."""
    old, unit = change.get("old"), change.get("unit")
    if old is None or unit is None or change["op"] not in ("revise", "restore"):
        return None
    before = old["raw_heading"] + old["body"]
    after = unit["raw_heading"] + unit["body"]
    return None if before == after else word_diff(before, after)


def change_excerpt(change: Mapping[str, Any]) -> str | None:
    """The first lines of what a create adds or a retire removes (its title left out)."""
    source = change.get("unit") if change["op"] == "create" else change.get("old")
    if change["op"] not in ("create", "retire") or source is None:
        return None
    text = (source["raw_heading"] + source["body"]).strip("\n")
    title = str(source.get("title") or "")
    lines = text.splitlines()
    if lines and title and lines[0].lstrip("#").strip().startswith(title.rstrip("…")):
        text = "\n".join(lines[1:]).strip("\n")  # the title shows that line already
    return first_lines(text, 2, 200) if text else None


# -- terminal ------------------------------------------------------------------------------

_STYLE = {"-": "red strike", "+": "green bold"}
_PLAIN = {"-": ("[-", "-]"), "+": ("{+", "+}")}


def _diff_text(line: list[Segment], color: bool, indent: str) -> Text:
    out = Text(indent)
    for op, piece in line:
        if op == "=":
            out.append(safe(piece.rstrip("\r\n")))
            continue
        shown = safe(visible(piece))
        if color:
            out.append(shown, style=_STYLE[op])
        else:
            start, end = _PLAIN[op]
            out.append(f"{start}{shown}{end}")
    return out


def terminal(
    plan: Mapping[str, Any],
    *,
    verbose: bool = False,
    summary: bool = False,
    color: bool = False,
    limit: int | None = None,
    dangling: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The documents of a plan and, unless ``summary``, each change with its diff
    (``limit``: at most that many changes a document, then how many more there are);
    then every reference of an active unit the plan would leave ``dangling`` (the
    citing code, the reference as written, why), however short the review.

    Without ``color`` the changes are marked ``[-removed-]{+added+}`` (as git's
    ``--word-diff=plain``), so the output reads the same in a log or a pipe.
    """
    return "".join(
        terminal_chunks(
            plan.get("documents", []),
            verbose=verbose,
            summary=summary,
            color=color,
            limit=limit,
            dangling=dangling,
        )
    )


def terminal_chunks(
    documents: Iterable[Mapping[str, Any]],
    *,
    verbose: bool = False,
    summary: bool = False,
    color: bool = False,
    limit: int | None = None,
    dangling: Sequence[Mapping[str, Any]] = (),
) -> Iterator[str]:
    """:func:`terminal` of the documents as they come, a document's text at a time
    (``iucut plan`` reads them back from its spooled plan)."""
    buf = io.StringIO()
    console = Console(
        file=buf,
        force_terminal=color,
        no_color=not color,
        width=10_000,
        soft_wrap=True,
        highlight=False,
        emoji=False,
        markup=False,
    )
    for doc in documents:
        if doc["action"] == "skip" and not verbose:
            continue
        if buf.tell():
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        line = summary_line({**doc["counts"], "unchanged": doc["unchanged"]})
        console.print(Text(safe(f"{doc['doc_path']}  [{doc['action']}]  {line}")))
        profile, was = doc.get("profile"), doc.get("expect_profile")
        if doc["action"] == "update" and profile is not None and profile != was:
            arrow = f"{was} → " if was else ""
            console.print(Text(safe(f"  profile: {arrow}{profile}")))
        if summary:
            continue
        shown = [c for c in doc["changes"] if verbose or c["op"] != "place"]
        hidden = 0
        if limit is not None and len(shown) > limit:
            shown, hidden = shown[:limit], len(shown) - limit
        cut_as = {planned: cut for cut, planned in doc.get("numbered") or ()}
        for change in shown:
            if change["code"] in cut_as:  # a true duplicate numbered from the history
                change = {**change, "cut_as": cut_as[change["code"]]}
            _print_change(console, change, color)
        if hidden:
            more = f"{hidden} more change{'' if hidden == 1 else 's'}"
            console.print(Text(f"  … and {more} (-v lists every one)"))
    for d in dangling:
        warning = Text("dangling reference: ", style="red bold" if color else "")
        warning.append(safe(describe_dangling(d)))
        console.print(warning)
    yield buf.getvalue()


def _print_change(console: Console, change: Mapping[str, Any], color: bool) -> None:
    extra = f" (from {change['moved_from']})" if change.get("moved") else ""
    if change.get("renamed_from") is not None:
        extra += f" (was {change['renamed_from']})"
    if change.get("cut_as") is not None:  # a true duplicate numbered from the history
        extra += f" (numbered from the history; {change['cut_as']} in document order)"
    title = change_title(change)
    head = Text(safe(f"  {MARKS.get(change['op'], '·')} {change['code']}{extra}"))
    if title:
        head.append(safe(f"  {title}"), style="bold" if color else "")
    console.print(head)
    indent = "      "
    if change.get("moved"):
        parent = (change.get("unit") or {}).get("parent_code")
        console.print(Text(safe(f"{indent}parent: {change['moved_from']} → {parent}")))
    if change["op"] in ("revise", "restore"):
        segments = change_diff(change)
        if segments is not None:
            for hunk in hunks(segments):
                if hunk is None:
                    console.print(Text(f"{indent}…", style="dim"))
                else:
                    console.print(_diff_text(hunk, color, indent))
        elif change.get("old") is None and change["op"] == "revise":
            console.print(Text(f"{indent}(the plan holds no old text to compare)", style="dim"))
    excerpt = change_excerpt(change)
    if excerpt:
        for text_line in excerpt.splitlines():
            console.print(Text(safe(f"{indent}{text_line}"), style="dim"))


# -- the HTML page's data ------------------------------------------------------------------


def page_data(
    plan: Mapping[str, Any],
    plan_id: str | None,
    dangling: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """What the HTML review page shows, as plain data: per document its changes, each
    with its diff segments (revisions) or first lines (creates, retires); and the
    references of active units the plan would leave dangling, each with why."""
    documents = []
    for doc in plan.get("documents", []):
        changes = []
        for c in doc["changes"]:
            unit = c.get("unit") or {}
            item: dict[str, Any] = {
                "op": c["op"],
                "code": c["code"],
                "title": change_title(c),
                "kind": unit.get("kind"),
                "depth": unit.get("depth"),
            }
            if c.get("moved"):
                item["from"] = c.get("moved_from")
                item["to"] = unit.get("parent_code")
            diff = change_diff(c)
            if diff is not None:
                item["diff"] = [[op, text] for op, text in diff]
            elif c["op"] == "revise" and c.get("old") is None:
                item["no_old"] = True
            excerpt = change_excerpt(c)
            if excerpt:
                item["text"] = excerpt
            changes.append(item)
        documents.append(
            {
                "path": doc["doc_path"],
                "namespace": doc["namespace"],
                "action": doc["action"],
                "summary": summary_line({**doc["counts"], "unchanged": doc["unchanged"]}),
                "counts": {**doc["counts"], "unchanged": doc["unchanged"]},
                "units": doc["unit_count"],
                "changes": changes,
            }
        )
    fp = plan.get("fingerprint") or {}
    return {
        "plan_id": plan_id,
        "tool_version": plan.get("tool_version"),
        "target": {k: fp.get(k) for k in ("database", "schema", "migration_version")},
        "summary": summary_line(plan.get("counts") or {}),
        "counts": plan.get("counts") or {},
        "documents": documents,
        "rejected": list(plan.get("rejected") or []),
        "dangling": [
            {
                "source": d["source"],
                "doc_path": d.get("doc_path"),
                "text": " ".join(str(d["text"]).split()),
                "target": d["target"],
                "reason": d["reason"],
                "now": d.get("now"),
                "why": why_dangling(d),
            }
            for d in dangling
        ],
    }
