"""Lossless cutting: generated Markdown and arbitrary input round-trip or fail as InputError."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iucut.cut import cut_text, cutter
from iucut.errors import InputError
from iucut.units import CutDocument
from iucut.validate import validate_rows

LINES = [
    "# Title",
    "## Chương I QUY ĐỊNH CHUNG",
    "### Mục 1",
    "#### Điều 1. Phạm vi",
    "Điều 2. Đối tượng",
    "**Điều 3. In đậm**",
    "1. Khoản một",
    "2. Khoản hai:",
    "a) điểm a;",
    "đ) điểm đ;",
    "a1) điểm a1",
    "## § 1 Anwendungsbereich",
    "(1) Absatz eins",
    "1.  Nummer",
    "Part II",
    "Article IV",
    "Section 2.",
    "Amendment XIV",
    "text",
    "more text here",
    "",
    "",
    "   ",
    "---",
    "===",
    "***",
    "- item",
    "* item",
    "+ item",
    "  - nested",
    "    indented",
    "\tcode",
    "> quote",
    "> Điều 9. quoted",
    ">",
    "```",
    "```py",
    "~~~",
    "````",
    "<div>",
    "</div>",
    "<!-- comment",
    "-->",
    "| a | b |",
    "|---|---|",
    "Setext",
    "# Heading {#custom}",
    "+++",
    "title: x",
    "[ref]: /url",
    "# Heading ##",
    "#nope",
    "Phần thứ nhất",
    "Tiểu mục 2",
    "Abschnitt 3",
    "§ 4a",
    "1) item",
    "<script>",
    "</script>",
    "ÿ\u00a0é\u2028x",
]
NEWLINES = ["\n", "\r\n", "\r"]


FREE = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from(" \t"), max_size=10
)
LINE = st.tuples(st.sampled_from(LINES) | FREE, st.sampled_from(NEWLINES)).map("".join)
PREFIX = st.sampled_from(["", "", "\ufeff", "---\ntitle: T\n---\n", "+++\ntitle = 'T'\n+++\n"])


@st.composite
def markdown(draw: st.DrawFn) -> str:
    text = draw(PREFIX) + "".join(draw(st.lists(LINE, max_size=16)))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no final newline
    return text


def assert_lossless(doc: CutDocument, data: bytes) -> None:
    assert doc.reassemble().encode("utf-8") == data
    assert doc.doc_hash == hashlib.sha256(data).hexdigest()
    assert validate_rows(doc.units) == []


@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(markdown())
def test_generated_markdown_round_trips_byte_for_byte(text: str) -> None:
    """Generated Markdown (fences, setext, lists, tables, legal lines, CRLF/CR, BOM, no final
    newline) reassembles byte for byte, and its rows pass the row contract."""
    data = text.encode("utf-8")
    assert_lossless(cut_text(data, "gen.md"), data)


@settings(max_examples=2_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=300))
def test_arbitrary_bytes_cut_losslessly_or_fail_as_input_error(data: bytes) -> None:
    """Any bytes either cut (and round-trip) or raise InputError; nothing else escapes."""
    try:
        doc = cut_text(data, "fuzz.md")
    except InputError as exc:
        assert exc.exit_code == 3
        return
    assert_lossless(doc, data)


@settings(max_examples=2_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=300))
def test_arbitrary_text_cuts_losslessly_or_fails_as_input_error(text: str) -> None:
    """Any str (control characters, lone surrogates, other line separators) round-trips or
    raises InputError."""
    try:
        doc = cut_text(text, "fuzz.md")
    except InputError:
        return
    assert_lossless(doc, text.encode("utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        ">" * 100_000 + " deep\n",
        "[" * 100_000 + "\n",
        "- " * 30_000 + "x\n",
        "1. " * 30_000 + "x\n",
        "# " + " " * 1_000_000 + "x\n",
        "x" * 10_000_000,
        "*" * 200_000 + "\n" + "_" * 200_000,
        "[a" * 50_000 + "]: /b\n---\n",
        "<!--" * 50_000 + "\n# h\n",
        "`" * 100_000 + "\n# h\n",
        "> " * 2_000 + "\n" + ("> " * 2_000 + "x\n") * 200,
        "Điều 1. " * 100_000 + "\n",
    ],
    ids=lambda t: repr(t[:12]),
)
def test_pathological_input_is_cut_quickly_and_losslessly(text: str) -> None:
    """Pathological nesting and a 10 MB single line neither crash nor lose bytes."""
    data = text.encode()
    assert_lossless(cut_text(data, "patho.md"), data)


def test_invalid_utf8_names_file_line_and_byte() -> None:
    """Invalid UTF-8 is an InputError naming the file, the line and the byte offset."""
    with pytest.raises(InputError) as info:
        cut_text(b"# ok\nline two \xff\xfe\n", "bad.md")
    assert info.value.context["offset"] == 14
    assert info.value.context["line"] == 2
    assert "bad.md:2 (byte 14)" in info.value.message


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\0\0\0IHDR", b"\x01\x02\x03\x04" * 100])
def test_binary_files_are_refused(data: bytes) -> None:
    """Binary data (a NUL byte, or mostly control bytes) is refused as a binary file."""
    with pytest.raises(InputError, match="binary file"):
        cut_text(data, "image.md")


def test_empty_file_gives_only_its_document_unit() -> None:
    """An empty file cuts into exactly its document unit, with an empty body."""
    doc = cut_text(b"", "docs/empty.md")
    assert [(u.kind, u.code, u.body, u.line_start, u.line_end) for u in doc.units] == [
        ("document", "DOCS.EMPTY", "", 1, 0)
    ]


def test_bom_and_line_endings_are_kept() -> None:
    """A BOM stays in the document unit's body; CRLF and lone CR endings are kept as is."""
    data = "\ufeff# A\r\ntext\r## B\rmore".encode()
    doc = cut_text(data, "x.md")
    assert [u.raw_heading for u in doc.units] == ["", "# A\r\n", "## B\r"]
    assert doc.units[0].body == "\ufeff"
    assert [u.line_start for u in doc.units[1:]] == [1, 3]
    assert doc.reassemble().encode() == data


def test_check_detects_a_document_that_does_not_round_trip() -> None:
    """`cut --check`'s test fails a document whose units do not give back its bytes."""
    from dataclasses import replace

    from iucut.cli.cut import round_trips

    doc = cut_text(b"# A\ntext\n", "x.md")
    assert round_trips(doc)
    broken = replace(doc, units=(doc.units[0], replace(doc.units[1], body="text")))
    assert not round_trips(broken)


@pytest.mark.parametrize("code", range(1, 128))
def test_a_control_character_is_warned_about_wherever_it_is(code: int) -> None:
    """Each control character (not tab, LF, CR) gets the warning at its line and byte,
    in a body line, a line with tabs, a code block or the front matter, by the compiled
    core (which notes them as it scans) and by the Python cutter alike; any other ASCII
    character does not."""
    control = (code < 0x20 and code not in (0x09, 0x0A, 0x0D)) or code == 0x7F
    c = chr(code)
    for doc, line, byte in [
        (f"# T\n\nä text\nmore {c}x\n", 4, 18),
        (f"# T\n\n\tä\ttext\t{c}\n", 3, 14),
        (f"# T\n\n```\nä{c}\n```\n", 4, 11),
        (f"---\ntitle: a{c}\n---\n# T\n", 2, 12),
    ]:
        want = [f"line {line} (byte {byte}): control character U+{code:04X}; kept as is"]
        for pure in ("", "1"):
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(cutter, "COMPILED", not pure and cutter.COMPILED)
                try:
                    got = cut_text(doc, "c.md").warnings
                except InputError:  # a control character the YAML parser refuses
                    assert doc.startswith("---")
                    continue
            warned = [w for w in got if "control character" in w]
            assert warned == (want if control else []), (doc, pure)
