"""The block scanner against markdown-it-py (a CommonMark parser) as an independent oracle."""

from __future__ import annotations

import html as htmllib
import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from iucut.cut import cut_text, cutter
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
# (markdown-it and cmark differ on them: lone CRs, as ours reads them, read as cmark does;
# a heading in a block quote is not a top-level one)
@example(["[a]: /b", "1. ", "-"], "\r")
@example(["[a]: /b", "    #", "---", "> #"], "\n")
def test_top_level_headings_match_markdown_it(lines: list[str], newline: str) -> None:
    """ATX and setext headings outside containers are exactly markdown-it-py's: none inside
    fenced or indented code, HTML blocks, block quotes or list items. Where markdown-it
    departs from the reference implementation (``  1. x\n    #\n<a href='x'>\n#\n``: the
    last line is an empty top-level heading to cmark, a lazy line to markdown-it), the
    headings are cmark's, level and text."""
    src = newline.join(lines) + newline
    if ours(src) == theirs(src):
        return
    if shutil.which("cmark") is None:  # (a fresh machine; CI installs Debian's cmark)
        pytest.skip(f"differs from markdown-it and cmark is not installed to judge: {src!r}")
    assert [h[1:] for h in ours_with_text(src)] == [h[1:] for h in cmark_headings(src)]


def test_a_heading_after_a_lazy_html_line_in_a_list_item_is_cmarks() -> None:
    """The case hypothesis found where markdown-it and cmark part: iucut follows cmark."""
    src = "  1. x\n    #\n<a href='x'>\n#\n"
    assert ours_with_text(src) == [(4, 1, "")]
    if shutil.which("cmark"):
        assert ours_with_text(src) == cmark_headings(src)


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


#: Link reference definitions that span lines, then a setext heading (or not).
DEF_CASES = [
    "[a]: /u\n'title'\nFoo\n---\n",
    "[a]:\n/u\nFoo\n===\n",
    '[a\nb]: /u "t\n2"\nFoo\n---\n',
    '[a]: /u "t" x\nFoo\n---\n',
    '[a]: /u\n"t" x\nFoo\n---\n',
    "[a]: /u\n[b]: /v\n'w'\nBar\n---\n",
    "[a]: <u v>\n'title'\nFoo\n---\n",
    "[a]: /u\n'title'\n---\n",
    "# H\n\n[a]: /u\n'title'\nFoo\nbar\n===\n",
    "[]: /u\nFoo\n---\n",
]


#: Where markdown-it-py departs from the spec (and cmark): a title in parentheses that
#: spans lines. Checked against cmark only.
MARKDOWN_IT_DIFFERS = [
    "[a]: /u\n(t\n2)\nFoo\n===\n",
    # an indented paragraph line after a definition: a setext heading to cmark, with
    # emphasis in its text (found by test_top_level_headings_match_markdown_it)
    "[a]: /b\n    **Điều 2.**\n---\n",
]
DEF_CASES += MARKDOWN_IT_DIFFERS


def _plain(text: str) -> str:
    """Heading text without brackets, emphasis markers, tags or line breaks (a reference
    cmark resolved to a link reads ``a`` where the source says ``[a]``; ``**x**`` is
    ``<strong>x</strong>`` to cmark)."""
    text = htmllib.unescape(re.sub(r"<[^>]*>", "", text))
    return " ".join(re.sub(r"[][*_]", "", text).split())


def cmark_headings(src: str) -> list[tuple[int, int, str]]:
    """(end line, level, text) of each top-level heading cmark (the CommonMark reference C
    parser) finds: none inside a block quote or a list item, as :func:`ours`. Its source
    positions start a setext heading at the definitions before it, so where a heading
    starts is read from its text."""
    html = subprocess.run(
        ["cmark", "--sourcepos"], input=src, capture_output=True, text=True, check=True, timeout=30
    ).stdout
    found = []
    heading = r'<h([1-6]) data-sourcepos="\d+:\d+-(\d+):\d+">(.*?)</h\1>'
    for m in re.finditer(heading, html, re.S):
        before = html[: m.start()]
        opened = len(re.findall(r"<(?:blockquote|li)[ >]", before))
        if opened == len(re.findall(r"</(?:blockquote|li)>", before)):  # (not inside one)
            found.append((int(m[2]), int(m[1]), _plain(m[3])))
    return found


def ours_with_text(src: str) -> list[tuple[int, int, str]]:
    """:func:`ours` as (end line, level, text), comparable with :func:`cmark_headings`
    (a lone CR ends a line, as in :func:`ours`)."""
    src = re.sub(r"\r(?!\n)", "\n", src)
    out = []
    for m in scan(src, 0, CAND, None):
        if m.kind in (ATX, SETEXT):
            end = src.count("\n", 0, m.end) + (0 if src[m.end - 1 : m.end] == "\n" else 1)
            out.append((end, m.level, _plain(m.text)))
    return out


@pytest.mark.parametrize("src", DEF_CASES)
def test_link_definitions_before_a_setext_heading_are_not_part_of_it(src: str) -> None:
    """A link reference definition (over several lines: a title on the next line, a
    label or title with a line break) before a setext underline is not part of the
    heading: the heading starts after it, as markdown-it-py and cmark both say."""
    if src not in MARKDOWN_IT_DIFFERS:
        assert ours(src) == theirs(src)
    if shutil.which("cmark") is None:
        pytest.skip("cmark is not installed (Debian package cmark): markdown-it-py checked only")
    assert ours_with_text(src) == cmark_headings(src)


def test_the_heading_after_a_titled_definition_is_its_own_unit() -> None:
    """``[a]: /u\\n'title'\\nFoo\\n---``: the unit Foo's heading is only ``Foo\\n---``; the
    definition stays the body of the unit before it."""
    doc = cut_text(b"# A\n\n[a]: /u\n'title'\nFoo\n---\nbody\n", "x.md")
    foo = doc.units[-1]
    assert (foo.title, foo.raw_heading) == ("Foo", "Foo\n---\n")
    assert doc.units[-2].body.endswith("[a]: /u\n'title'\n")


DEF_LINE = st.sampled_from(
    [
        "[a]: /u",
        "[a]:",
        "/u",
        "'t'",
        '"t" x',
        "[a",
        "b]: /u",
        "Foo",
        "===",
        "",
        "# H",
        "    x",
        "[b]: /v 'w'",
        "'t",
        "u'",
    ]
)


@settings(max_examples=1_500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(DEF_LINE, max_size=8))
# an indented line after a paragraph of definitions only goes on with the paragraph
# (cmark); markdown-it makes it code and reads ``[a]:`` + ``===`` as a definition
@example(["[a]: /u", "    x", "[a]:", "==="])
@example(["[a]: /u", "    x", "==="])
def test_link_definitions_over_lines_match_markdown_it_or_cmark(lines: list[str]) -> None:
    """Top-level headings around link definitions of one or several lines (a title, a
    destination or a label over two lines) are markdown-it-py's, or, where markdown-it
    reads a definition on across an underline (``[a\\n===\\nb]: /u``, which CommonMark
    does not), cmark's (level and text). Underlines are ``===`` only: ``---`` right
    after a paragraph of definitions only is a thematic break to markdown-it (and to
    iucut) but paragraph text to cmark 0.30, so neither oracle holds for every mix."""
    src = "\n".join(lines) + "\n"
    if ours(src) == theirs(src):
        return
    if shutil.which("cmark") is None:  # (a fresh machine; CI installs Debian's cmark)
        pytest.skip(f"differs from markdown-it and cmark is not installed to judge: {src!r}")
    assert [h[1:] for h in ours_with_text(src)] == [h[1:] for h in cmark_headings(src)]


# Lines that cannot interrupt a paragraph (an HTML block of type 7, an empty list item,
# an ordered item not starting at 1) go on with one that so far holds only link
# definitions: CommonMark takes definitions out when the paragraph closes (cmark, the
# reference parser); markdown-it closes a definition first, so it differs here.
NO_INTERRUPT_AFTER_DEFINITIONS = [
    # (source, cmark's headings: end line, level, plain text; written down from cmark 0.30)
    ("[a]: /u\n<x-y>\n===\n", [(3, 1, "")]),
    ("[a]: /u\n</pre>\n---\n", [(3, 2, "")]),
    ("[b]: <x y> \"t\"\n<a href='x'>\n## Article 1. x\n", [(3, 2, "Article 1. x")]),
    ("[a]: /u\n<x-y>\n   # h3\n", [(3, 1, "h3")]),
    ("[a]: /u\n+ \n---\n", [(3, 2, "+")]),
    ("[a]: /u\n2. x\n===\n", [(3, 1, "2. x")]),
]


@pytest.mark.parametrize(("src", "expected"), NO_INTERRUPT_AFTER_DEFINITIONS)
def test_no_block_interrupts_a_paragraph_of_definitions_only(
    src: str, expected: list[tuple[int, int, str]]
) -> None:
    """The headings of both cutters (Python and compiled) are cmark's: the line after the
    definitions continues the paragraph, so the underline or ATX line below is a heading.
    The expectations are cmark's, written down so the test runs without it; where cmark is
    installed (CI), it is asked again."""
    if shutil.which("cmark") is not None:
        assert cmark_headings(src) == expected, src
    assert ours_with_text(src) == expected
    lines = {end for end, _level, _text in expected}
    for compiled in (False, True):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(cutter, "COMPILED", compiled and cutter._core is not None)
            doc = cut_text(src, "x.md", profile="en")
        ends = {u.line_end for u in doc.units[1:]}
        assert ends == lines, (compiled, [(u.code, u.raw_heading) for u in doc.units])


# A line of blanks after a list marker with nothing after it: indented as far as the item's
# content, it goes on with the item (cmark matches a list item by indentation first, blank
# line or not), so the heading below is in the item; an empty line ends the item.
BLANKS_AFTER_AN_EMPTY_ITEM = [
    # (source, cmark's top-level headings, written down from cmark 0.30)
    ("-\n\t\n   # h3\n", []),
    ("1.\n      \n   # h\n", []),
    ("-\n  \n  # h\n", []),
    ("-\n    \n\n  # h\n", [(4, 1, "h")]),
    ("- a\n\n  -\n      \n    # h\n", []),
    ("> -\n>   \n>   # h\n\n# after\n", [(5, 1, "after")]),
    ("-\n  \n  Article 1. x\n", []),
]


def cmark_top_headings(src: str) -> list[tuple[int, int, str]]:
    """:func:`cmark_headings` outside any container (the children of cmark's document)."""
    import xml.etree.ElementTree as ET

    xml = subprocess.run(
        ["cmark", "--to", "xml", "--sourcepos"],
        input=src,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    ns = "{http://commonmark.org/xml/1.0}"
    return [
        (
            int(h.get("sourcepos", "").split("-")[1].split(":")[0]),
            int(h.get("level", "0")),
            _plain("".join(h.itertext())),
        )
        for h in ET.fromstring(xml)
        if h.tag == ns + "heading"
    ]


@pytest.mark.parametrize(("src", "expected"), BLANKS_AFTER_AN_EMPTY_ITEM)
def test_an_indented_blank_line_goes_on_with_an_empty_list_item(
    src: str, expected: list[tuple[int, int, str]]
) -> None:
    """The top-level headings of both cutters (Python and compiled) are cmark's (written
    down so the test runs without cmark; asked again where it is installed)."""
    if shutil.which("cmark") is not None:
        assert cmark_top_headings(src) == expected, src
    assert ours_with_text(src) == expected
    lines = {end for end, _level, _text in expected}
    for compiled in (False, True):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(cutter, "COMPILED", compiled and cutter._core is not None)
            doc = cut_text(src, "x.md", profile="en")
        ends = {u.line_end for u in doc.units[1:]}
        assert ends == lines, (compiled, [(u.code, u.raw_heading) for u in doc.units])
