"""The block scanner against markdown-it-py (a CommonMark parser) as an independent oracle."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from iucut.cut import cut_text
from iucut.cut.blocks import ATX, SETEXT, candidate_pattern, scan

MD = MarkdownIt("commonmark")
CAND = candidate_pattern()


def ours(src: str) -> list[tuple[int, int, int]]:
    """(first line, end line, level) of each top-level heading the scanner finds."""
    s = re.sub(r"\r(?!\n)", "\n", src)
    out = []
    for m in scan(s, 0, CAND, None):
        if m.kind in (ATX, SETEXT):
            end = s.count("\n", 0, m.end) + (0 if s[m.end - 1 : m.end] == "\n" else 1)
            out.append((s.count("\n", 0, m.start), end, m.level))
    return out


def theirs(src: str) -> list[tuple[int, int, int]]:
    """The same from markdown-it-py: heading tokens outside any container."""
    return [
        (t.map[0], t.map[1], int(t.tag[1]))
        for t in MD.parse(src)
        if t.type == "heading_open" and t.level == 0 and t.map
    ]


# Container prefixes exclude ">>": markdown-it ends a nested quote's lazy paragraph at an
# indented line (it parses ">> a\n    b" as a quote and a code block), unlike CommonMark.
PREFIX = st.sampled_from(
    [
        "",
        " ",
        "  ",
        "   ",
        "    ",
        "\t",
        "> ",
        ">",
        " > ",
        "- ",
        "1. ",
        "10) ",
        "  - ",
        "> - ",
        "-\t",
        ">\t",
        "- > ",
    ]
)
BODY = st.sampled_from(
    [
        "",
        "#",
        "# x",
        "##  x  #",
        "###### y",
        "####### z",
        "text",
        "```",
        "``` a`b",
        "~~~",
        "````",
        "---",
        "===",
        "- - -",
        "* * *",
        "___",
        "<div>",
        "</div>",
        "<!--",
        "-->",
        "<a href='x'>",
        "<pre>",
        "</pre>",
        "<?",
        "?>",
        "<!X",
        ">",
        "<![CDATA[",
        "]]>",
        "1. x",
        "2. y",
        "- z",
        "*",
        "a",
        "-",
        "+",
        "    code",
        "[a]: /b",
        "| a | b |",
        "|---|",
        "Điều 1. X",
        "**Điều 2.**",
        "a) điểm",
    ]
)
LINE = st.tuples(PREFIX, BODY).map("".join)


@settings(max_examples=3_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(LINE, max_size=10), st.sampled_from(["\n", "\r\n", "\r"]))
def test_top_level_headings_match_markdown_it(lines: list[str], newline: str) -> None:
    """ATX and setext headings outside containers are exactly markdown-it-py's: none inside
    fenced or indented code, HTML blocks, block quotes or list items."""
    src = newline.join(lines) + newline
    assert ours(src) == theirs(src)


@pytest.mark.parametrize(
    ("src", "titles"),
    [
        ("```\n# no\n```\n# yes\n", ["yes"]),
        ("~~~~\n# no\n~~~\n# still code\n", []),
        ("````\n# unclosed fence runs to the end\n", []),
        ("    # indented code\n# yes\n", ["yes"]),
        ("<div>\n# no\n\n# yes\n", ["yes"]),
        ("<!--\n# no\n-->\n# yes\n", ["yes"]),
        ("> # quoted\n> Điều 9. quoted article\n# yes\n", ["yes"]),
        ("Title\n=====\nSub\n---\n", ["Title", "Sub"]),
        ("two\nlines\n===\n", ["two lines"]),
        ("---\ntitle: x\n---\n# yes\n", ["yes"]),
        ("+++\ntitle = 'x'\n+++\n# yes\n", ["yes"]),
        ("# closed ##\n", ["closed"]),
    ],
)
def test_structure_follows_commonmark_blocks(src: str, titles: list[str]) -> None:
    """Headings inside code, HTML, quotes and front matter are body text, not units."""
    doc = cut_text(src.encode(), "x.md", profile="vi")
    assert [u.title for u in doc.units[1:]] == titles
