"""Word-level diffs of a unit's old and new text, with whitespace changes made visible.

A diff is a list of segments ``(op, text)``: ``"="`` kept, ``"-"`` removed, ``"+"``
added. Lines are matched first (:mod:`difflib`), then words inside the lines that were
replaced, so a long unit costs what its changed lines cost. Words, punctuation marks and
each whitespace character are separate tokens, so ``UTF 8`` → ``UTF-8`` is one space
replaced by one hyphen, and a trailing space or a CRLF is a change of its own.

    >>> word_diff("UTF 8\\n", "UTF-8\\n")
    [('=', 'UTF'), ('-', ' '), ('+', '-'), ('=', '8\\n')]
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

Segment = tuple[str, str]

_TOKEN = re.compile(r"\w+|\s|[^\w\s]")

#: How whitespace is drawn inside a change (outside one it is left as it is).
VISIBLE = {" ": "·", "\t": "→", "\n": "↵", "\r": "␍", "\xa0": "⍽"}


def tokens(text: str) -> list[str]:
    """Words, single punctuation marks and single whitespace characters, in order."""
    return _TOKEN.findall(text)


def word_diff(old: str, new: str) -> list[Segment]:
    """The segments that turn ``old`` into ``new`` (merged: no two neighbours share an op)."""
    lines_a, lines_b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    start, end = _common_ends(lines_a, lines_b)
    out: list[Segment] = [("=", "".join(lines_a[:start]))]
    a, b = lines_a[start : len(lines_a) - end], lines_b[start : len(lines_b) - end]
    # autojunk: a line as frequent as the blank line anchors no match (it still joins
    # the matches next to it), which keeps long units with a thousand blank lines fast
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b).get_opcodes():
        if tag == "equal":
            out.append(("=", "".join(a[i1:i2])))
        elif tag == "delete":
            out.append(("-", "".join(a[i1:i2])))
        elif tag == "insert":
            out.append(("+", "".join(b[j1:j2])))
        else:
            out.extend(_words("".join(a[i1:i2]), "".join(b[j1:j2])))
    out.append(("=", "".join(lines_a[len(lines_a) - end :])))
    return _merge(_absorb_lone_spaces(_merge(out)))


def _common_ends(a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    """How many items ``a`` and ``b`` share at their start, and then at their end."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return start, end


#: Above this many token pairs the changed middle of a block is shown as removed and
#: added whole: difflib's matcher is quadratic on frequent tokens such as spaces.
MAX_PAIRS = 400_000


def _words(old: str, new: str) -> list[Segment]:
    a, b = tokens(old), tokens(new)
    start, end = _common_ends(a, b)
    mid_a, mid_b = a[start : len(a) - end], b[start : len(b) - end]
    out: list[Segment] = [("=", "".join(a[:start]))]
    if len(mid_a) * len(mid_b) > MAX_PAIRS:
        out += [("-", "".join(mid_a)), ("+", "".join(mid_b))]
    else:
        matcher = SequenceMatcher(None, mid_a, mid_b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                out.append(("=", "".join(mid_a[i1:i2])))
            else:
                out.append(("-", "".join(mid_a[i1:i2])))
                out.append(("+", "".join(mid_b[j1:j2])))
    out.append(("=", "".join(a[len(a) - end :])))
    return out


def _merge(segments: Iterable[Segment]) -> list[Segment]:
    """Neighbours with the same op joined, empty segments dropped."""
    out: list[Segment] = []
    for op, text in segments:
        if not text:
            continue
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))
    return out


def _absorb_lone_spaces(segments: list[Segment]) -> list[Segment]:
    """A single kept space between two changes joins them: ``[-a b-]{+x y+}`` reads
    better than ``[-a-]{+x+} [-b-]{+y+}`` when a whole phrase was rewritten."""
    out: list[Segment] = []
    n = len(segments)
    for i, (op, text) in enumerate(segments):
        between = 0 < i < n - 1 and segments[i - 1][0] != "=" and segments[i + 1][0] != "="
        if op == "=" and text == " " and between:
            out += [("-", " "), ("+", " ")]
        else:
            out.append((op, text))
    # reorder so that each run of changes is all removals, then all additions
    result: list[Segment] = []
    run: list[Segment] = []
    for seg in [*out, ("=", "")]:
        if seg[0] == "=":
            result += [s for s in run if s[0] == "-"] + [s for s in run if s[0] == "+"]
            run = []
            result.append(seg)
        else:
            run.append(seg)
    return result


def changed(segments: Sequence[Segment]) -> bool:
    return any(op != "=" for op, _ in segments)


def visible(text: str, *, all_space: bool | None = None) -> str:
    """Changed text as shown: newlines, tabs and CRs drawn; spaces too when the change is
    whitespace only (``all_space`` None: decide from ``text``)."""
    if all_space is None:
        all_space = text.isspace()
    table = VISIBLE if all_space else {k: v for k, v in VISIBLE.items() if k != " "}
    return "".join(table.get(ch, ch) for ch in text)


def diff_lines(segments: Sequence[Segment]) -> list[list[Segment]]:
    """The segments split into display lines (a changed newline also ends a line)."""
    lines: list[list[Segment]] = [[]]
    for op, text in segments:
        for piece in text.splitlines(keepends=True):
            lines[-1].append((op, piece))
            if piece.endswith(("\n", "\r")):
                lines.append([])
    if not lines[-1]:
        lines.pop()
    return lines


def hunks(
    segments: Sequence[Segment], context: int = 1, *, blank_lines: bool = False
) -> list[list[Segment] | None]:
    """The display lines with a change and up to ``context`` non-blank lines around
    them, None where lines with text were skipped. Kept blank lines are left out, or
    (``blank_lines``) kept where they separate two shown lines."""
    lines = diff_lines(segments)
    blank = [not changed(line) and "".join(t for _, t in line).isspace() for line in lines]
    keep: set[int] = set()
    for i, line in enumerate(lines):
        if not changed(line):
            continue
        keep.add(i)
        for step in (-1, 1):
            j, found = i + step, 0
            while 0 <= j < len(lines) and found < context:
                if not blank[j]:
                    keep.add(j)
                    found += 1
                j += step
    if blank_lines and keep:
        shown = sorted(keep)
        for a, b in itertools.pairwise(shown):
            if all(blank[a + 1 : b]):
                keep.update(range(a + 1, b))
    out: list[list[Segment] | None] = []
    for i, line in enumerate(lines):
        if i in keep:
            out.append(line)
        elif not blank[i] and (not out or out[-1] is not None):
            out.append(None)
    return out


def first_lines(text: str, lines: int = 3, chars: int = 240) -> str:
    """The start of a text for a create or a retire: a few lines, a few hundred chars."""
    head = "".join(text.splitlines(keepends=True)[:lines])
    if len(head) > chars:
        head = head[:chars].rstrip() + "…"
    elif len(head) < len(text):
        head = head.rstrip("\n") + "\n…"
    return head.rstrip("\n")
