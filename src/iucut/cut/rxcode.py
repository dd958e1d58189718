"""Label patterns as programs for the compiled core's matcher (``ccore/rx.c``).

The label rules are defined once, as ``re`` patterns in :mod:`iucut.cut.profiles`. The
Python cutter matches them with ``re``; the compiled core matches the same patterns with
a small backtracking matcher that runs the program this module makes of each pattern
(from ``re``'s own parse, with ``re``'s semantics: Unicode classes, case folding, greedy
and lazy repeats, lookaround). A pattern using something the program form does not
have (conditionals, the ASCII or LOCALE flag, variable-width lookbehind) is refused:
:class:`Unsupported`, which configuration reports as a :class:`~iucut.errors.ConfigError`.

A program is a flat list of ints; ``rx.c`` documents each instruction. Group ``g``
(1-based) is marks ``2g`` and ``2g + 1``.
"""

from __future__ import annotations

import array
import re
from dataclasses import dataclass
from typing import Any

import _sre
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

# Instructions (keep in step with rx.c).
END, CHAR, SET, AT, MARK, BRANCH, JUMP, REPEAT_ONE, REPEAT, UNTIL, ASSERT, ATOMIC, GROUPREF = range(13)
# AT kinds
BEGIN, BEGIN_LINE, END_TEXT, END_LINE, END_STRING, BOUNDARY, NOT_BOUNDARY = range(7)
# SET flags and categories (category * 2 + negated)
NEGATE, ICASE = 1, 2
DIGIT, SPACE, WORD, LINEBREAK = 0, 2, 4, 6
UNBOUNDED = -1
MAX_MARKS, MAX_REPEATS = 64, 32

_CATEGORIES = {
    c.CATEGORY_DIGIT: DIGIT,
    c.CATEGORY_NOT_DIGIT: DIGIT + 1,
    c.CATEGORY_SPACE: SPACE,
    c.CATEGORY_NOT_SPACE: SPACE + 1,
    c.CATEGORY_WORD: WORD,
    c.CATEGORY_NOT_WORD: WORD + 1,
    c.CATEGORY_LINEBREAK: LINEBREAK,
    c.CATEGORY_NOT_LINEBREAK: LINEBREAK + 1,
}
_AT = {
    c.AT_BEGINNING_STRING: BEGIN,
    c.AT_END_STRING: END_STRING,
    c.AT_BOUNDARY: BOUNDARY,
    c.AT_NON_BOUNDARY: NOT_BOUNDARY,
}
#: Code points that fold together beyond lower() (re's ``_EXTRA_CASES``, e.g. s ~ ſ).
_FOLDS: dict[int, tuple[int, ...]] = re._compiler._EXTRA_CASES  # type: ignore[attr-defined]


class Unsupported(ValueError):
    """The pattern uses something the core's program form does not have."""


@dataclass(frozen=True)
class Program:
    """A pattern compiled for the core: its code and the group numbers of its names."""

    code: bytes  # int32 instructions, native byte order
    groups: dict[str, int]

    def group(self, name: str) -> int:
        """The number of group ``name``, or -1 when the pattern has none of that name."""
        return self.groups.get(name, -1)


def compile_pattern(pattern: re.Pattern[str]) -> Program:
    """``pattern`` as a program for the core's matcher (:class:`Unsupported` if it cannot)."""
    if not isinstance(pattern.pattern, str):
        raise Unsupported("a bytes pattern")
    parsed = _parser.parse(pattern.pattern, pattern.flags)
    flags = parsed.state.flags
    if flags & (c.SRE_FLAG_ASCII | c.SRE_FLAG_LOCALE):
        raise Unsupported("the ASCII or LOCALE flag")
    if 2 * parsed.state.groups > MAX_MARKS:
        raise Unsupported(f"more than {MAX_MARKS // 2 - 1} groups")
    out = _Emitter()
    out.sequence(parsed, flags)
    out.emit(END)
    return Program(array.array("i", out.code).tobytes(), dict(parsed.state.groupdict))


class _Emitter:
    """Writes the instructions of a parsed pattern (one method per kind of node)."""

    def __init__(self) -> None:
        self.code: list[int] = []
        self.repeats = 0

    def emit(self, *ints: int) -> int:
        """Append instructions; the position of the first."""
        at = len(self.code)
        self.code.extend(ints)
        return at

    def sequence(self, items: Any, flags: int) -> None:
        for op, av in items:
            self.node(op, av, flags)

    def node(self, op: Any, av: Any, flags: int) -> None:
        if op in (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY):
            self.char_class(op, av, flags)
        elif op is c.AT:
            self.at(av, flags)
        elif op is c.SUBPATTERN:
            self.group(av, flags)
        elif op is c.BRANCH:
            self.branch(av[1], flags)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            self.repeat(op, av, flags)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            self.lookaround(op is c.ASSERT_NOT, av, flags)
        elif op is c.ATOMIC_GROUP:
            self.atomic(lambda: self.sequence(av, flags))
        elif op is c.GROUPREF:
            self.emit(GROUPREF, av, 1 if flags & c.SRE_FLAG_IGNORECASE else 0)
        else:
            raise Unsupported(f"{op} in a label pattern")

    def char_class(self, op: Any, av: Any, flags: int) -> None:
        negate, icase, ranges, categories = _char_class(op, av, flags)
        if not negate and not icase and not categories and len(ranges) == 1:
            lo, hi = ranges[0]
            if lo == hi:
                self.emit(CHAR, lo)
                return
        self.emit(SET, negate | icase, len(ranges), len(categories))
        for lo, hi in ranges:
            self.emit(lo, hi)
        self.emit(*categories)

    def at(self, av: Any, flags: int) -> None:
        multiline = bool(flags & c.SRE_FLAG_MULTILINE)
        if av is c.AT_BEGINNING:
            self.emit(AT, BEGIN_LINE if multiline else BEGIN)
        elif av is c.AT_END:
            self.emit(AT, END_LINE if multiline else END_TEXT)
        elif av in _AT:
            self.emit(AT, _AT[av])
        else:
            raise Unsupported(f"{av} in a label pattern")

    def group(self, av: Any, flags: int) -> None:
        number, add, remove, items = av
        inner = (flags | add) & ~remove
        if inner & (c.SRE_FLAG_ASCII | c.SRE_FLAG_LOCALE):
            raise Unsupported("the ASCII or LOCALE flag")
        if number is not None:
            self.emit(MARK, 2 * number)
        self.sequence(items, inner)
        if number is not None:
            self.emit(MARK, 2 * number + 1)

    def branch(self, alternatives: Any, flags: int) -> None:
        """BRANCH n start_1 .. start_n, then each alternative ending in JUMP to the end."""
        at = self.emit(BRANCH, len(alternatives), *([0] * len(alternatives)))
        jumps = []
        for k, items in enumerate(alternatives):
            self.code[at + 2 + k] = len(self.code)
            self.sequence(items, flags)
            jumps.append(self.emit(JUMP, 0))
        for j in jumps:
            self.code[j + 1] = len(self.code)

    def repeat(self, op: Any, av: Any, flags: int) -> None:
        lo, hi, items = av
        if op is c.POSSESSIVE_REPEAT:
            self.atomic(lambda: self.repeat(c.MAX_REPEAT, av, flags))
            return
        greedy = 1 if op is c.MAX_REPEAT else 0
        top = UNBOUNDED if hi is c.MAXREPEAT else hi
        if len(items) == 1 and items[0][0] in (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY):
            # REPEAT_ONE min max greedy next, then one character class
            at = self.emit(REPEAT_ONE, lo, top, greedy, 0)
            self.sequence(items, flags)
            self.code[at + 4] = len(self.code)
            return
        if self.repeats == MAX_REPEATS:
            raise Unsupported(f"more than {MAX_REPEATS} repeated groups")
        # REPEAT id min max greedy next, the body, UNTIL (position of the REPEAT)
        at = self.emit(REPEAT, self.repeats, lo, top, greedy, 0)
        self.repeats += 1
        self.sequence(items, flags)
        self.emit(UNTIL, at)
        self.code[at + 5] = len(self.code)

    def lookaround(self, negated: bool, av: Any, flags: int) -> None:
        """ASSERT kind width next, the body, END (kind: 1 negated, 2 behind)."""
        direction, items = av
        width = 0
        if direction < 0:
            lo, hi = items.getwidth()
            if lo != hi:
                raise Unsupported("a lookbehind of variable width")
            width = lo
        kind = (1 if negated else 0) | (2 if direction < 0 else 0)
        at = self.emit(ASSERT, kind, width, 0)
        self.sequence(items, flags)
        self.emit(END)
        self.code[at + 3] = len(self.code)

    def atomic(self, body: Any) -> None:
        """ATOMIC next, the body, END."""
        at = self.emit(ATOMIC, 0)
        body()
        self.emit(END)
        self.code[at + 1] = len(self.code)


def _char_class(op: Any, av: Any, flags: int) -> tuple[int, int, list[tuple[int, int]], list[int]]:
    """(negate, icase, code point ranges, categories) of one character class, as re
    matches it: with IGNORECASE and a cased member, the character is lowered first and
    the members are their lower cases and the extra folds."""
    if op is c.ANY:
        dotall = flags & c.SRE_FLAG_DOTALL
        return NEGATE, 0, ([] if dotall else [(10, 10)]), []
    items = [(c.LITERAL, av)] if op in (c.LITERAL, c.NOT_LITERAL) else list(av)
    negate = NEGATE if op is c.NOT_LITERAL else 0
    if items and items[0][0] is c.NEGATE:
        negate, items = NEGATE, items[1:]
    codes: set[int] = set()
    ranges: list[tuple[int, int]] = []
    categories: list[int] = []
    for kind, value in items:
        if kind is c.LITERAL:
            codes.add(value)
        elif kind is c.RANGE:
            ranges.append(value)
        elif kind is c.CATEGORY:
            categories.append(_CATEGORIES[value])
        else:
            raise Unsupported(f"{kind} in a character class")
    if not flags & c.SRE_FLAG_IGNORECASE:
        return negate, 0, _merged(codes, ranges), categories
    members = set(codes)
    for lo, hi in ranges:
        if hi > 0xFFFF:
            raise Unsupported("a case-insensitive range beyond U+FFFF")
        members.update(range(lo, hi + 1))
    if not any(_sre.unicode_iscased(ch) for ch in members):
        return negate, 0, _merged(codes, ranges), categories
    folded: set[int] = set()
    for ch in members:
        low = _sre.unicode_tolower(ch)
        folded.add(low)
        folded.update(_FOLDS.get(low, ()))
    return negate, ICASE, _merged(folded, []), categories


def _merged(codes: set[int], ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Code points and ranges as few sorted, disjoint ranges."""
    spans = sorted([(ch, ch) for ch in codes] + [tuple(r) for r in ranges])  # type: ignore[misc]
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out
