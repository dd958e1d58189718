"""The compiled cutter core (iucut.cut._core) against the pure-Python cutter, its reference.

Every result of the core must be identical to the Python modules': the marks of the block
scanner, whole cut documents (units, hashes, spans, warnings), the label matcher (every
rule pattern as a program, against re), title cleanup, label segments, heading slugs and
content hashes (OpenSSL's SHA-256, and hashlib's where OpenSSL is not at hand). The core is
compared on every file of ../shared/corpora and on generated Markdown and label texts.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import gc
import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iucut.cut import blocks, codes, cutter, profiles, rxcode
from iucut.cut.frontmatter import split_front_matter
from iucut.cut.source import cut_file
from iucut.errors import ConfigError, InputError
from iucut.units import CutDocument, Unit

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"


def examples(n: int) -> settings:
    """Hypothesis settings: ``n`` examples, no deadline, no health checks."""
    return settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck))


#: The candidate and hint regexes of the built-in profiles, and the hint as a program.
CAND, HINT = cutter._patterns(profiles.starts(profiles.PROFILES))
NATIVE_HINT = cutter._program(HINT)
#: Another hint (the candidates cover its starts).
CUSTOM_CAND = blocks.candidate_pattern(r"\d|Art")
CUSTOM_HINT = re.compile(r"\d|Art")
NATIVE_CUSTOM_HINT = cutter._program(CUSTOM_HINT)

#: Configured rules: the compiled cutter matches them natively too.
CONFIGS: tuple[dict[str, Any], ...] = (
    # head rules only: the built-in hint (alternatives unchanged)
    {
        "labels": {
            "vi": [
                {"kind": "article", "rank": 50, "prefix": "X", "head": r"Article (?P<label>\d+)"}
            ]
        }
    },
    # a line rule too: new hint alternatives, a regex hint
    {
        "labels": {
            "de": [
                {
                    "kind": "article",
                    "rank": 50,
                    "prefix": "A",
                    "head": r"Art(?:icle)?\.? (?P<label>\d+)",
                    "line": r"Art\. (?P<label>\d+)\.?",
                    "start": "Art",
                    "strict": True,
                }
            ],
            "xx": [
                {
                    "kind": "clause",
                    "rank": 60,
                    "prefix": "N",
                    "head": r"N(?P<label>\d+)",
                    "line": r"N(?P<label>\d+)\)",
                    "start": "N",
                    "scope": "local",
                }
            ],
        }
    },
)


def core() -> Any:
    """The compiled core module (a failure, not a skip, when it is missing)."""
    assert cutter._core is not None, "the compiled core did not build"
    return cutter._core


def prepared(text: str) -> tuple[str, int]:
    """The scanned text and the scan start, as ``cutter._cut`` makes them."""
    fm_end, _, _ = split_front_matter(text)
    s = cutter._LONE_CR.sub("\n", text) if "\r" in text else text
    return s, fm_end or (1 if s.startswith("\ufeff") else 0)


def py_marks(
    s: str, start: int, cand: re.Pattern[str], hint: re.Pattern[str] | None
) -> list[tuple[Any, ...]]:
    return [tuple(m) for m in blocks.scan(s, start, cand, hint)]


def c_marks(s: str, start: int, hint: Any) -> list[tuple[Any, ...]]:
    return list(core().Scan(s, start, hint).marks())


@contextmanager
def compiled(on: bool) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cutter, "COMPILED", on)
        yield


def outcome(compiled_path: bool, data: bytes | str, path: str, **kw: Any) -> Any:
    """A cut document, or the InputError it raised (as type and message)."""
    with compiled(compiled_path):
        try:
            return cutter.cut_text(data, path, **kw)
        except InputError as exc:
            return ("InputError", str(exc))


def difference(a: Any, b: Any) -> str:
    """Where two cut documents first differ (for assertion messages)."""
    if not (isinstance(a, CutDocument) and isinstance(b, CutDocument)):
        return f"compiled: {a!r}\npython:   {b!r}"
    for f in fields(CutDocument):
        if f.name != "units" and getattr(a, f.name) != getattr(b, f.name):
            return f"{f.name}: compiled {getattr(a, f.name)!r}, python {getattr(b, f.name)!r}"
    if len(a.units) != len(b.units):
        return (
            f"{len(a.units)} units compiled, {len(b.units)} in python:\n"
            f"compiled {[u.code for u in a.units]}\npython   {[u.code for u in b.units]}"
        )
    for x, y in zip(a.units, b.units, strict=True):
        for f in fields(x):
            if getattr(x, f.name) != getattr(y, f.name):
                return (
                    f"unit {x.position} {f.name}: compiled {getattr(x, f.name)!r}, "
                    f"python {getattr(y, f.name)!r}"
                )
    return "equal"


def assert_same_cut(data: bytes | str, path: str, **kw: Any) -> None:
    fast = outcome(True, data, path, **kw)
    ref = outcome(False, data, path, **kw)
    assert fast == ref, difference(fast, ref)


# -- the core is there ---------------------------------------------------------------------


def test_compiled_core_is_built_and_used() -> None:
    """The C extension built: the cutter uses it unless told not to."""
    assert cutter._core is not None, "the compiled core did not build"
    assert cutter._core.SHA256 in ("OpenSSL", "hashlib")
    if os.environ.get("IUCUT_PURE_PYTHON", "") in ("", "0"):
        assert cutter.COMPILED is True


@pytest.mark.parametrize(
    ("value", "expected"), [(None, True), ("", True), ("0", True), ("1", False)]
)
def test_pure_python_environment_variable_selects_the_python_cutter(
    value: str | None, expected: bool
) -> None:
    """IUCUT_PURE_PYTHON=1 makes the cutter pure Python; unset (or 0) it is compiled."""
    core()
    env = {k: v for k, v in os.environ.items() if k != "IUCUT_PURE_PYTHON"}
    if value is not None:
        env["IUCUT_PURE_PYTHON"] = value
    out = subprocess.run(
        [sys.executable, "-c", "import iucut.cut.cutter as c; print(c.COMPILED)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == str(expected)


# -- the corpora ---------------------------------------------------------------------------


def corpus_files() -> list[Path]:
    assert CORPORA.is_dir(), f"corpora {CORPORA} are missing (tests read them in place)"
    files = sorted(p for p in CORPORA.rglob("*") if p.is_file())
    assert len(files) > 500
    return files


def test_every_corpus_file_cuts_identically_compiled_and_in_python() -> None:
    """Every file of ../shared/corpora gives the same CutDocument both ways."""
    failed = []
    for path in corpus_files():
        with compiled(True):
            fast = cut_file(path, root=CORPORA)
        with compiled(False):
            ref = cut_file(path, root=CORPORA)
        if fast != ref:
            failed.append(f"{path.relative_to(CORPORA)}: {difference(fast, ref)}")
    assert failed == []


def test_every_corpus_file_scans_to_the_same_marks() -> None:
    """The compiled scan's marks are blocks.scan's on every corpus file (built-in hint,
    no hint, a regex hint)."""
    failed = []
    for path in corpus_files():
        s, start = prepared(path.read_bytes().decode("utf-8"))
        for hint, cand, py_hint in (
            (NATIVE_HINT, CAND, HINT),
            (None, CAND, None),
            (NATIVE_CUSTOM_HINT, CUSTOM_CAND, CUSTOM_HINT),
        ):
            if c_marks(s, start, hint) != py_marks(s, start, cand, py_hint):
                failed.append(f"{path.relative_to(CORPORA)} (hint {hint!r})")
    assert failed == []


def match_input(mark: blocks.Mark) -> tuple[bool, str]:
    """(heading, text) that the cutter matches a mark's label on (_Builder._match)."""
    text = mark.text
    if mark.kind != blocks.LINE:
        text, _ = codes.split_id(text)
        heading = True
    else:
        heading = text.startswith(("**", "__"))
    if text.startswith(("*", "_")) or "**" in text[:80] or "__" in text[:80]:
        text = cutter._clean(text)
    return heading, text


CORPUS_PROFILE = {"vn-laws": "vi", "de-laws": "de", "en-terms-history": "en"}

#: Every pattern of the built-in profiles: rule heads and lines, signatures, the hint.
PATTERNS = [
    *(p for prof in profiles.PROFILES.values() for r in prof.rules for p in (r.head, r.line) if p),
    *(prof.signature for prof in profiles.PROFILES.values()),
    HINT,
]
SIGNATURES = tuple(cutter._program(p.signature) for p in profiles.PROFILES.values())


def re_marks(pattern: re.Pattern[str], text: str) -> tuple[int, ...] | None:
    """What Program.match gives, as re finds it: the spans of the groups (-1: unset)."""
    m = pattern.match(text)
    if m is None:
        return None
    spans = [x for g in range(pattern.groups + 1) for x in m.span(g)]
    return tuple(spans + [-1] * (64 - len(spans)))


def assert_program_agrees(pattern: re.Pattern[str], text: str) -> None:
    got = cutter._program(pattern).match(text)
    assert got == re_marks(pattern, text), f"{pattern.pattern!r} on {text!r}"


@pytest.mark.parametrize("folder", sorted(CORPUS_PROFILE))
def test_programs_match_as_re_on_corpus_marks(folder: str) -> None:
    """On every corpus mark (as the cutter matches it) every built-in pattern, run as a
    program by the core, matches as re does: same groups, same spans."""
    for path in sorted((CORPORA / folder).rglob("*.md")):
        s, start = prepared(path.read_bytes().decode("utf-8"))
        for mark in blocks.scan(s, start, CAND, HINT):
            _, text = match_input(mark)
            for pattern in PATTERNS:
                assert_program_agrees(pattern, text)
                assert_program_agrees(pattern, mark.text)


# -- generated Markdown --------------------------------------------------------------------

CONTAINERS = [
    "",
    "",
    "",
    " ",
    "  ",
    "   ",
    "    ",
    "     ",
    "\t",
    " \t",
    "\t\t",
    "> ",
    ">",
    " > ",
    ">\t",
    "> > ",
    ">> ",
    "- ",
    "* ",
    "+ ",
    "-\t",
    "  - ",
    "    - ",
    "-      ",
    "1. ",
    "2. ",
    "1)  ",
    "10) ",
    "   1. ",
    "٣. ",
    "- - ",
    "1. - ",
    "- 1. ",
    "> - ",
    "- > ",
    "> 1. ",
]
MARKDOWN = [
    # link reference definitions, which may span lines (the core asks blocks._refdef_end)
    "[a]: /u",
    "[a]:",
    "/u",
    "'title'",
    '"t" x',
    "[a]: /u 'x'",
    "[a",
    "b]: /u",
    "(t",
    "2)",
    "# Title",
    "## Heading ##",
    "###### six",
    "####### seven",
    "#nospace",
    "#",
    "#\tTab heading\t#",
    "# Title {#custom-id}",
    "## Heading {#a.b:c-d x=y}",
    "## {#only}",
    "# **Điều 4. Bold heading**",
    "# 1. Scope",
    "## G. Payment",
    "Setext",
    "two words",
    "===",
    "---",
    "- - -",
    "***",
    "* * *",
    "___",
    "_ _ _",
    "=",
    "-",
    "```",
    "```py",
    "``` a`b",
    "````",
    "~~~",
    "~~~~ x",
    "~~~`",
    "``",
    "    indented code",
    "\tcode",
    "> quote",
    ">",
    "> Điều 9. quoted",
    "- item",
    "* item",
    "+ item",
    "1.",
    "1. item",
    "2. item",
    "10) item",
    "1234567890. x",
    "0. zero",
    "1.\tTab item",
    "| a | b |",
    "|---|---|",
    "| Điều | x |",
    "<div>",
    "</div>",
    '<div class="x">',
    "<!-- comment",
    "-->",
    "<!-- one -->",
    "<script>",
    "</script>",
    "<pre>",
    "<style>x</style>",
    "<?php",
    "?>",
    "<!DOCTYPE html>",
    "<![CDATA[",
    "]]>",
    "<a href=x>",
    '<a href="x">',
    "</a>",
    "<x-custom>",
    "<span>text</span>",
    "[a]: /url",
    '[a]: /url "t"',
    "[b]: <x y> 'z'",
    "[]: /x",
    "[a]:",
    " [c]: /u (t)",
    "text",
    "more text here",
    "",
    "",
    "   ",
    "\t",
    "*emph*",
    "**bold**",
    "__under__",
    "_x_",
    "**",
    "__",
    "*",
    "_",
    "**Điều 3.**",
    "**Điều 3.** Nội dung",
    "__§ 7__ Titel",
    "** Điều 5 **",
    "*Điều 6.*",
    "***Chương II***",
    "**(1)** Absatz",
    "**1.** x",
    "** **",
]
LEGAL = [
    "Điều 1.",
    "Điều 2. Phạm vi",
    "Điều 12a. X",
    "Điều 3.2.A: y",
    "Điều 4.ABCDE",
    "Điều  7",
    "Điều\t8.",
    "Điều 1",
    "Điều ٣. x",
    "Điều ² x",
    "Điều\xa01.",
    "Chương IV",
    "Chương I QUY ĐỊNH CHUNG",
    "Chương 2a",
    "Chương IIX",
    "Mục 2",
    "Mục IV. x",
    "Tiểu mục 3",
    "Phần thứ nhất",
    "Phần thứ hai mươi",
    "Phần thứ Hai",
    "Phần II",
    "Phần 3 chung",
    "1.",
    "1. Khoản",
    "2. khoản",
    "12. x",
    "1.text",
    "1.\xa0x",
    "a)",
    "a) điểm",
    "đ) điểm đ",
    "a1) x",
    "b12) y",
    "§ 5",
    "§ 5 Titel",
    "§§ 1 bis 3",
    "§ 1 - 2",
    "§ 3a und 4",
    "§ 3, § 4",
    "§ 4 – 6",
    "§5abcd",
    "(1) Absatz",
    "(2a) x",
    "(1)",
    "(1)\u2003y",
    "(X) § 2",
    "(weggefallen) § 9",
    "aa) y",
    "2a. x",
    "Erster Abschnitt",
    "Zweiter Teil",
    "Dritter Titel",
    "1. Buch",
    "1.Abschnitt",
    "Kapitel 3",
    "Unterabschnitt 2",
    "Abschnitt 3",
    "Art. 5",
    "Artikel 12",
    "Art 3a",
    "Article I",
    "Article 4",
    "ARTICLE. IV",
    "Article v",
    "Article X: y",
    "Section 8",
    "Section 2.",
    "SECTION 1.2",
    "ſection 2",
    "Part İ",
    "PART İ",
    "Part ı",
    "part ii",
    "Chapter 3",
    "Chapter A",
    "Amendment XIV",
    "§ 12 title",
    "Articles of x",
    "Section x of y",
    "² superscript",
    "٣",
    "\xa0Điều 1.",
    "\u2003text",
    "\u3000x",
]
SUFFIXES = ["", "", "", " ", "\t", "  ", " {#id}", " #", " ##", "*", "**", "__", "\xa0", "\u2003"]
#: Characters that matter to the scanner, the matchers and the title cleanup.
CHARS = (
    "0123456789٣²aAbBcdđĐeIiVXxLCDMsSſİıé§–ẞ{}#`~=-*_+<>[]()!:.,;|\\/'\" \t\xa0\u2003\u3000\u2028"
)
FREE = st.text(st.sampled_from(CHARS), max_size=12)
BODY = st.one_of(
    st.sampled_from(MARKDOWN),
    st.sampled_from(LEGAL),
    FREE,
    st.tuples(st.sampled_from(LEGAL + MARKDOWN), FREE).map("".join),
)
NEWLINE = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r"])
LINE = st.tuples(st.sampled_from(CONTAINERS), BODY, st.sampled_from(SUFFIXES), NEWLINE).map("".join)
START = st.sampled_from(
    [
        "",
        "",
        "",
        "\ufeff",
        "---\ntitle: T\n---\n",
        "\ufeff---\r\ntitle: T\r\n---\r\n",
        "+++\ntitle = 'T'\n+++\n",
        "---\niu_profile: de\n---\n",
        "---\n: [bad\n---\n",
    ]
)


@st.composite
def markdown(draw: st.DrawFn) -> str:
    text = draw(START) + "".join(draw(st.lists(LINE, max_size=14)))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no final newline
    return text


@examples(2_000)
@given(markdown())
def test_generated_markdown_scans_to_the_same_marks(text: str) -> None:
    """Generated Markdown: the compiled scan's marks equal blocks.scan's, with the
    built-in hint, without one, and with a regex hint."""
    s, start = prepared(text)
    assert c_marks(s, start, NATIVE_HINT) == py_marks(s, start, CAND, HINT)
    assert c_marks(s, start, None) == py_marks(s, start, CAND, None)
    assert c_marks(s, start, NATIVE_CUSTOM_HINT) == py_marks(s, start, CUSTOM_CAND, CUSTOM_HINT)
    custom_cand, custom_hint = cutter._patterns(r"\d|Art")
    assert c_marks(s, start, cutter._program(custom_hint)) == py_marks(
        s, start, custom_cand, custom_hint
    )


@examples(1_000)
@given(markdown(), st.sampled_from([0, 1, 2, 5, 2000, -1]))
def test_generated_markdown_signature_hits(text: str, limit: int) -> None:
    """Scan.signature_hits(programs, limit), what detection reads, is the signature
    counts of every built-in profile over the first marks' texts."""
    s, start = prepared(text)
    scan = core().Scan(s, start, NATIVE_HINT)
    marks = py_marks(s, start, CAND, HINT)
    first = [m[4] for m in (marks if limit < 0 else marks[:limit])]
    assert len(scan) == len(marks)
    hits = tuple(
        sum(1 for t in first if profiles.PROFILES[name].signature.match(t))
        for name in profiles.PROFILES
    )
    assert scan.signature_hits(SIGNATURES, limit) == hits


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffa\n=\n",
        "\ufeffa\nb\n=\n",
        "---\ntitle: T\n---\na\n=\n",
        "---\ntitle: T\n---\n\na\nb\n=\n",
        "+++\nx = 1\n+++\nfoo\nbar\n---\n",
        "\ufeff# A\nb\n=\n",
    ],
    ids=repr,
)
def test_setext_heading_at_the_scan_start_scans_the_same(text: str) -> None:
    """A setext heading right after a BOM or front matter starts where blocks.scan says."""
    s, start = prepared(text)
    assert c_marks(s, start, NATIVE_HINT) == py_marks(s, start, CAND, HINT)
    assert_same_cut(text.encode("utf-8"), "x.md")


@examples(1_500)
@given(markdown())
def test_generated_markdown_cuts_identically(text: str) -> None:
    """Generated Markdown cuts to the same CutDocument compiled and in Python: detected
    profile, each built-in profile, and configured rules (Matcher fallback)."""
    data = text.encode("utf-8")
    assert_same_cut(data, "x.md")
    for name in ("vi", "de", "en"):
        assert_same_cut(data, "x.md", profile=name)
    for config in CONFIGS:
        assert_same_cut(data, "x.md", config=config)
    assert_same_cut(data, "x.md", profile="xx", config=CONFIGS[1])


@pytest.mark.parametrize(
    "text",
    [
        "# Part i\n# Part v\n# Part x\n# Điều 1. A\nĐiều 2. B\n",
        "# Article ı\n# Section İ\n§ 1\n# § 2 Titel\n(1) Absatz\n",
        "**Điều 3.**\n1. khoản\na) điểm\n",
        "§ 1\n\n## § 2 Titel\n(1) eins\n1. Nummer\na) sub\n",
        "Điều 1. X\r\nĐiều 2. Y\rĐiều 3. Z",
        "\ufeffĐiều 1. X\n",
        "# A {#same}\n# B {#same}\n# A\n# A\n",
        "\tĐiều 1. x\n- Điều 2. y\n  1. z\n",
    ],
)
def test_small_documents_cut_identically(text: str) -> None:
    """A few hand-written documents (detection, bold lines, ids, line endings, tabs)."""
    for kw in ({}, {"profile": "vi"}, {"profile": "de"}, {"profile": "en"}):
        assert_same_cut(text.encode("utf-8"), "docs/x.md", **kw)
    for config in CONFIGS:
        assert_same_cut(text.encode("utf-8"), "docs/x.md", config=config)


# -- fast matchers and signatures -----------------------------------------------------------

LABEL_WORDS = [
    "",
    "",
    "Điều ",
    "Chương ",
    "Mục ",
    "Tiểu mục ",
    "Phần thứ ",
    "Phần ",
    "§ ",
    "§§ ",
    "§",
    "Art. ",
    "Art",
    "Artikel ",
    "Article ",
    "ARTICLE. ",
    "Section ",
    "ſection ",
    "Part ",
    "PART ",
    "Chapter ",
    "Amendment ",
    "Erster ",
    "Abschnitt ",
    "Kapitel ",
    "Buch ",
    "Teil ",
    "Titel ",
    "bis",
    "und",
    "(1) ",
    "1. ",
    "a) ",
]
LABEL_CHARS = (
    [chr(c) for c in range(ord("0"), ord("9") + 1)]
    + ["٣", "²"]
    + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    + ["đ", "Đ"]
    + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    + list("IVXLCDM")
    + ["§", "(", ")", ".", ":", ",", "-", "–", " ", "\t", "\xa0", "\u2003", "_", "ſ", "İ", "ı"]
)
LABEL_TEXT = st.one_of(
    st.tuples(
        st.sampled_from(LABEL_WORDS),
        st.text(st.sampled_from(LABEL_CHARS), max_size=10),
    ).map("".join),
    st.tuples(
        st.sampled_from(LABEL_WORDS),
        st.text(st.sampled_from(LABEL_CHARS), max_size=4),
        st.sampled_from(LABEL_WORDS),
        st.text(st.sampled_from(LABEL_CHARS), max_size=4),
    ).map("".join),
)


@examples(3_000)
@given(text=LABEL_TEXT)
def test_programs_match_as_re_on_generated_label_texts(text: str) -> None:
    """Every built-in pattern as a program matches generated label texts as re does."""
    for pattern in PATTERNS:
        assert_program_agrees(pattern, text)


#: re constructs the built-in rules do not all use, which configured rules may.
CONSTRUCTS = [
    r"(?P<label>a+?)(?P<num>b*)c?",
    r"(?:ab|a)*?b",
    r"(a|ab)(c|bcd)(d*)",
    r"(?i)ſ[a-zß]+ı",
    r"(?i:[^a-c]K)\w",
    r"(?<=a)b|(?<!b)a",
    r"(?P<label>a|b)(?P=label)+",
    r"(?i)(a+)\1",
    r"(?>a+)ab|a++b|a{2,3}+",
    r"\bab\B.|.$|\Z",
    r"(?m)^a$\n?^b",
    r"(?s).{2}|[^\W\d]\S\D",
    r"((a)|(b))+c",
    r"(?:(a)|b)*",
    r"(?:a*)*b",
    r"(?:a|)+b",
    r"(?:(?:a|b){2,3}?)+c",
    r"[\d\s-]{0,3}x",
    r"(?i)k\w|i",
    r"(?!)",  # Python 3.13 parses it to FAILURE, earlier versions to an empty lookahead
    r"a(?!)|b",
    r"(?:(?!)|a)+c",
]
CONSTRUCT_TEXT = st.text(st.sampled_from("abcdABCKßſıİ_1 \n-x\u212a"), max_size=12)


@pytest.mark.parametrize("pattern", CONSTRUCTS)
@examples(500)
@given(text=CONSTRUCT_TEXT)
def test_programs_match_as_re_on_other_constructs(pattern: str, text: str) -> None:
    """Lazy and possessive repeats, lookbehind, backreferences, case folding, anchors:
    the program matches as re does."""
    assert_program_agrees(re.compile(pattern), text)
    assert_program_agrees(re.compile(pattern), "x" + text)


def test_the_characters_lowered_to_ascii_are_those_re_lowers() -> None:
    """rxcode's table of the non-ASCII characters of the BMP that re lowers to an ASCII
    one (FIRST lets them start a case-insensitive match) is complete."""
    want = tuple((ch, low) for ch in range(128, 0x10000) if (low := _sre.unicode_tolower(ch)) < 128)
    assert want == rxcode._LOWER_TO_ASCII


def test_unsupported_constructs_are_refused_in_configuration() -> None:
    """A configured rule whose pattern the core cannot run is a ConfigError naming it."""
    bad = {"kind": "article", "head": r"(?P<label>\d+)(?(label)a|b)"}
    with pytest.raises(ConfigError, match=r"labels\.xx: a label pattern may not use"):
        profiles.configured({"labels": {"xx": [bad]}})


def test_deep_matches_are_decided_by_re() -> None:
    """A match deeper than the core recurses is NotImplemented: re decides it, and the
    cut (and detection) still equals the Python cutter's."""
    pattern = re.compile(r"(?:ab)*c")
    assert cutter._program(pattern).match("ab" * 5000 + "c") is NotImplemented
    config = {"labels": {"xx": [{"kind": "article", "head": r"(?:ab)*(?P<label>\d+)"}]}}
    doc = "# " + "ab" * 5000 + "7\n\ntext\n"
    assert_same_cut(doc, "x.md", config=config)
    assert_same_cut(doc, "x.md", config=config, profile="xx")


SIGNATURE_TEXTS = [
    "Điều 5",
    "Điều\xa05",
    "Điều ٣",
    "Điều x",
    "Chương IV",
    "Chương\t2",
    "Chương iv",
    "Mục 1",
    "Mục I",
    "Phần thứ nhất",
    "Phần  thứ",
    "Phần II",
    "(1) § 5",
    "(1)§5",
    "(a)b) § 1",
    "( ) § 1",
    "() § 1",
    "§ 3",
    "§3a",
    "§ x",
    "Erster Abschnitt",
    "1.Abschnitt",
    "Abschnitt",
    "Abschnitte",
    "Unterabschnitt 1",
    "x  Abschnitt",
    "a b Abschnitt",
    "ARTICLE. IV",
    "Article 1",
    "Article i",
    "Article v",
    "article. x",
    "Section C",
    "Section c",
    "ſection 1",
    "SECTİON 2",
    "Part ı",
    "Part İ",
    "Part I",
    "Chapter L",
    "Amendment XIV",
    "Amendment. 2",
    "Part",
    "",
]


@pytest.mark.parametrize("text", SIGNATURE_TEXTS)
def test_signatures_of_real_texts(text: str) -> None:
    """The signature programs match as the profiles' signature regexes do."""
    for prof in profiles.PROFILES.values():
        assert_program_agrees(prof.signature, text)


# -- titles, label segments, slugs ----------------------------------------------------------

CLEAN_CHARS = "*_ \t\n\r\xa0\u2003\u3000abcXYZđ19"
CLEAN_TEXT = st.one_of(
    st.text(st.sampled_from(CLEAN_CHARS), max_size=200),
    st.tuples(
        st.text(st.sampled_from(CLEAN_CHARS), min_size=70, max_size=90),
        st.text(st.sampled_from(CLEAN_CHARS), max_size=120),
    ).map("".join),
)


@examples(3_000)
@given(CLEAN_TEXT)
def test_clean_equals_python(text: str) -> None:
    """_core.clean(text) == cutter._clean(text): emphasis markers (first 80 characters),
    whitespace runs, Unicode spaces."""
    assert core().clean(text) == cutter._clean(text)


@examples(1_000)
@given(st.text(st.characters() | st.sampled_from("*_ \t"), max_size=100))
def test_clean_equals_python_on_any_text(text: str) -> None:
    """_core.clean is cutter._clean on any str (control characters, surrogates, NUL)."""
    assert core().clean(text) == cutter._clean(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "**",
        "****",
        "***x***",
        "_ _x_ _",
        "**a**" + "b" * 76 + "**c**",
        "x" * 79 + "**y",
        "x" * 78 + "**y**",
        "*\u2003x\u2003*",
        "a\u3000\u3000b",
        "a\x1cb  c",
        "\x00*",
        "*\x00",
        "a\x00_",
        "\x00",
    ],
)
def test_clean_equals_python_on_edge_cases(text: str) -> None:
    """Hand-picked _clean inputs: the 80-character window, Unicode spaces, NUL."""
    assert core().clean(text) == cutter._clean(text)


ASCII = st.characters(max_codepoint=127)
LABEL_PREFIXES = st.sampled_from(["", "D", "K", "Abs", "Nr", "TM", "§", "Đ"])


@pytest.mark.parametrize(
    "label",
    [
        *("19a", "1-3", "IV", "a b", "1.2.3", " x ", "--", "a!b", "...", "5 bis 6", "", "\t1\t"),
        *("đ", "L. 111-1", "R*111-1", "LO 1", "A.B 1", "L.\t. 2", "L. x", "L.", "1a. 2"),
    ],
)
@pytest.mark.parametrize("prefix", ["", "D", "§"])
def test_label_segment_of_typical_labels(prefix: str, label: str) -> None:
    """label_segment: ASCII labels as the Python function; others NotImplemented."""
    got = core().label_segment(prefix, label)
    if label.isascii():
        assert got == codes.label_segment(prefix, label)
    else:
        assert got is NotImplemented


@examples(2_000)
@given(LABEL_PREFIXES, st.text(ASCII, max_size=80))
def test_label_segment_equals_python_for_ascii_labels(prefix: str, label: str) -> None:
    """_core.label_segment(prefix, label) == codes.label_segment for any ASCII label."""
    assert core().label_segment(prefix, label) == codes.label_segment(prefix, label)


@examples(500)
@given(LABEL_PREFIXES, st.text(max_size=20).filter(lambda t: not t.isascii()))
def test_label_segment_is_not_implemented_for_unicode_labels(prefix: str, label: str) -> None:
    """Non-ASCII labels are left to Python (its Unicode folding)."""
    assert core().label_segment(prefix, label) is NotImplemented


ENUMERATORS = [
    "",
    "",
    "1. ",
    "12) ",
    "IV) ",
    "iv. ",
    "x. ",
    "1.2.3 ",
    "1.2. ",
    "1.2.3.\t",
    "(a) ",
    "(12) ",
    "(iv)\t",
    "(IV) ",
    "  1. ",
    "\t(a)  ",
    "1.",
    "1. \n",
    "1.\x0b",
    "(a)",
]
SLUG_TEXT = st.one_of(
    st.tuples(st.sampled_from(ENUMERATORS), st.text(ASCII, max_size=30)).map("".join),
    st.tuples(
        st.sampled_from(ENUMERATORS),
        st.lists(
            st.text(st.sampled_from("abcXYZ019"), min_size=1, max_size=12), min_size=4, max_size=14
        ).map(" ".join),
    ).map("".join),
    st.text(st.sampled_from("!-_ .\t()[]/*"), max_size=20),
)


@pytest.mark.parametrize(
    "text",
    [
        *[e + "Payment terms" for e in ENUMERATORS],
        "G. Payment",
        "1.2 Scope",
        "IVX. x",
        "1.x",
        "1) ",
        "(1)x",
        "!!!",
        "---",
        "",
        " - ",
        "a" * 65,
        "a" * 64 + " b",
        ("word " * 20).strip(),
        "-" + "ab-" * 30,
        "x" + "-" * 70 + "y",
    ],
)
def test_heading_slug_of_typical_headings(text: str) -> None:
    """heading_slug: enumerators dropped, 64-character cut, ``untitled``."""
    assert core().heading_slug(text) == codes.heading_slug(text)


@examples(3_000)
@given(SLUG_TEXT)
def test_heading_slug_equals_python_for_ascii_text(text: str) -> None:
    """_core.heading_slug(text) == codes.heading_slug(text) for any ASCII text."""
    assert core().heading_slug(text) == codes.heading_slug(text)


@pytest.mark.parametrize("text", ["Điều 1", "Straße", "a\xa0b", "1. café", "ǅ", "\u2003"])
def test_heading_slug_is_not_implemented_for_unicode_text(text: str) -> None:
    """Non-ASCII headings are left to Python (NFKD folding)."""
    assert core().heading_slug(text) is NotImplemented


# -- SHA-256 --------------------------------------------------------------------------------


#: Documents whose units are 0..300 bytes long, twice (every SHA-256 padding case).
PADDING = "".join(f"# h{k}\n{'x' * k}\n" for k in range(301)) * 2


@pytest.mark.parametrize("sha", ["OpenSSL", "hashlib"])
def test_content_hashes_of_every_length_equal_hashlib(sha: str) -> None:
    """Content hashes over units of 0..300 bytes equal hashlib's (and the Python cutter's),
    with OpenSSL's SHA-256 and with the hashlib fallback (IUCUT_CORE_HASHLIB, in a fresh
    process: the choice is made when the core loads)."""
    script = (
        "import sys; from iucut.cut import cutter, _core\n"
        "doc = cutter.cut_text(sys.stdin.read(), 'pad.md')\n"
        "print(_core.SHA256, *[u.content_hash for u in doc.units])"
    )
    env = {**os.environ, "IUCUT_CORE_HASHLIB": "1" if sha == "hashlib" else ""}
    out = subprocess.run(
        [sys.executable, "-c", script], input=PADDING, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    used, *hashes = out.stdout.split()
    assert used == sha
    ref = outcome(False, PADDING, "pad.md")
    assert hashes == [u.content_hash for u in ref.units]
    head = cutter._HASH_HEAD + b"# h300\n\0" + b"x" * 300 + b"\n"
    assert hashes[-1] == hashlib.sha256(head).hexdigest()


def test_a_rule_changed_in_profiles_py_changes_both_cutters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A built-in rule is defined once: edited in profiles.py, both cutters cut with the
    edited rule, alike (no other place to change)."""
    vi = profiles.PROFILES["vi"]
    article = next(r for r in vi.rules if r.kind == "article")
    changed = replace(article, head=re.compile(r"Article\s+(?P<label>\d+)"), line=None)
    edited = replace(vi, rules=tuple(changed if r is article else r for r in vi.rules), extra={})
    text = "# Chương I. Chung\n\n## Điều 5. Phạm vi\n\n1. Khoản một.\n\n## Article 6\n"
    before = outcome(True, text, "vi.md", profile="vi")
    assert [u.kind for u in before.units][:4] == ["document", "chapter", "article", "clause"]
    monkeypatch.setitem(cutter.PROFILES, "vi", edited)
    ref = outcome(False, text, "vi.md", profile="vi")
    assert [u.kind for u in ref.units] == ["document", "chapter", "heading", "article"]
    assert outcome(True, text, "vi.md", profile="vi") == ref


def test_a_configured_profile_is_matched_natively(monkeypatch: pytest.MonkeyPatch) -> None:
    """Configured rules (a new profile, and rules added to a built-in one) are matched
    by the core itself, not through the Python Matcher, and cut as the Python cutter
    cuts them."""
    doc = (
        "# Title\n\nArt. 1. Erster\n\n(1) Absatz\n\n## Art 2\n\nN3) Punkt\n\n"
        "# N4\n\nN5) fünf\n\n**Art. 6.** fett\n"
    )
    refs = [outcome(False, doc, "x.md", profile=name, config=CONFIGS[1]) for name in ("de", "xx")]

    def no_python_matching(*args: Any) -> None:
        raise AssertionError("the compiled cutter asked the Python Matcher")

    monkeypatch.setattr(profiles.Matcher, "match", no_python_matching)
    for name, ref in zip(("de", "xx"), refs, strict=True):
        got = outcome(True, doc, "x.md", profile=name, config=CONFIGS[1])
        assert got == ref, difference(got, ref)
        assert {u.kind for u in got.units} > {"document", "article" if name == "de" else "clause"}


def test_configured_line_rules_without_a_start_can_be_joined() -> None:
    """Two configured line rules with (?P<label>...) and no ``start`` make one hint regex
    (their groups unnamed); both cutters cut with them, and alike."""
    config = {
        "labels": {
            "xx": [
                {
                    "kind": "article",
                    "rank": 50,
                    "prefix": "A",
                    "head": r"A (?P<label>\d+)",
                    "line": r"A (?P<label>\d+)\.",
                },
                {
                    "kind": "clause",
                    "rank": 60,
                    "prefix": "B",
                    "head": r"B (?P<label>\d+)",
                    "line": r"B (?P<label>\d+)\.",
                    "scope": "local",
                },
            ]
        }
    }
    doc = "# T\n\nA 1. first\n\nB 2. second\n\nA 3. third\n"
    a = outcome(True, doc, "x.md", profile="xx", config=config)
    b = outcome(False, doc, "x.md", profile="xx", config=config)
    assert a == b, difference(a, b)
    assert [u.code for u in a.units] == ["X", "X/t", "X/A1", "X/A1/B2", "X/A3"]


@pytest.mark.parametrize(
    "text",
    [
        ">" * 100_000 + " deep\n",
        "- " * 30_000 + "x\n",
        "1. " * 30_000 + "x\n",
        "# " + " " * 1_000_000 + "x\n",
        "x" * 2_000_000,
        "*" * 200_000 + "\n" + "_" * 200_000,
        "[a" * 50_000 + "]: /b\n---\n",
        "> " * 2_000 + "\n" + ("> " * 2_000 + "x\n") * 200,
        "Điều 1. " * 100_000 + "\n",
        "\t" * 1_000_000 + "x\n",
        "- " * 10_000 + "\t" * 10_000 + "x\n",
        ("a\n" * 3 + "===\n") * 20_000,
        "\r" * 100_000,
        "1.\n" * 100_000,
    ],
    ids=lambda t: repr(t[:12]),
)
def test_pathological_input_cuts_identically(text: str) -> None:
    """Deep nesting, enormous lines and long runs: the same units from both cutters."""
    data = text.encode()
    a, b = outcome(True, data, "patho.md"), outcome(False, data, "patho.md")
    assert a == b, difference(a, b)


LEAK_DOC = (
    "---\ntitle: T\n---\n# Luật {#luat}\n\nChương I\n\nĐiều 1. Phạm vi\n\n1. Khoản một:\n"
    "a) điểm a;\nđ) điểm đ.\n\n**Điều 2.** In đậm\n\nTiêu đề\n===\n\n## Straße\n\n"
    "§ 5 Titel\n\n(1) Absatz\n\n\tcode\n\n> quote\n\n- item\n\n<div>\nx\n</div>\n\n"
    "[ref]: /url\n\n# Luật {#luat}\n"
).encode()


def test_repeated_cuts_keep_no_memory() -> None:
    """The compiled core keeps nothing from one cut to the next: a reference leaked per
    cut would grow the allocated blocks with the number of cuts; CPython's free lists
    fill up to a bound and then stop growing."""
    with compiled(True):
        for _ in range(3000):
            cutter.cut_text(LEAK_DOC, "leak.md")
        gc.collect()
        start = sys.getallocatedblocks()
        for _ in range(3000):
            cutter.cut_text(LEAK_DOC, "leak.md")
        gc.collect()
        grown = sys.getallocatedblocks() - start
    # one reference leaked per cut (LEAK_DOC takes every path of the core) is >= 3000
    # blocks; free lists and caches filling up stay far below that
    assert grown < 1000, f"{grown} blocks more after 3000 more cuts"


def test_a_unit_class_with_post_init_is_built_through_its_init(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The core fills Unit's slots directly only for the plain frozen dataclass: a class
    with __post_init__ (or other slots) is called, so its __post_init__ runs per unit."""
    seen: list[str] = []

    @dataclass(frozen=True, slots=True)
    class CheckedUnit(Unit):
        def __post_init__(self) -> None:
            seen.append(self.code)

    data = "# T\n\nĐiều 1. A\n\n1. one\n".encode()
    plain = outcome(True, data, "x.md")
    monkeypatch.setattr(cutter, "Unit", CheckedUnit)
    checked = outcome(True, data, "x.md")
    assert all(type(u) is CheckedUnit for u in checked.units)
    assert seen == [u.code for u in plain.units]
    assert [u.to_dict() for u in checked.units] == [u.to_dict() for u in plain.units]


# -- inputs found by the fuzzer (fuzz/) -------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        # a tab after a lone CR: _core.Scan and blocks.scan expand it to different columns,
        # so every cut must turn lone CRs into newlines before either scans
        b"1\r4ti\t\t\t\tble>\n",
        b"1\r4ti\t\t\t\tble>\r",
        b"# T\r\tx\r\n\t\ty\rArticle 1.\tz\r",
        # indented code, then a paragraph and setext underlines: before main's 070fd87 the
        # core put "    -" in the code block and Python made it part of the heading
        b"    Foo\n    -\n --\n   Foo\n---\n",
    ],
)
def test_fuzzer_inputs_cut_identically(data: bytes) -> None:
    """Inputs the fuzzer found (fuzz/): the same cut compiled and in Python, reassembling
    the source byte for byte."""
    for kw in ({}, {"profile": "vi"}, {"profile": "de"}, {"profile": "en"}):
        assert_same_cut(data, "docs/x.md", **kw)
    doc = outcome(True, data, "docs/x.md")
    assert doc.reassemble().encode() == data
