"""Label patterns as programs for the compiled core's matcher (``ccore/rx.c``).

The label rules are defined once, as ``re`` patterns in :mod:`iucut.cut.profiles`. The
Python cutter matches them with ``re``; the compiled core matches the same patterns with
a small backtracking matcher that runs the program this module makes of each pattern
(from ``re``'s own parse, with ``re``'s semantics: Unicode classes, case folding, greedy
and lazy repeats, lookaround). A pattern using something the program form does not
have (conditionals, the ASCII or LOCALE flag, variable-width lookbehind) is refused:
:class:`Unsupported`, which configuration reports as a :class:`~iucut.errors.ConfigError`.

A program is a flat list of ints: the number of marks it sets, then instructions
(``rx.c`` documents each). Group ``g`` (1-based) is marks ``2g`` and ``2g + 1``. A
pattern that cannot match the empty string starts with FIRST: the ASCII characters a
match can start with and the ranges of the others (or any other); most rules are tried
on texts they cannot match, and this rejects them at their first character.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import array
import re
from dataclasses import dataclass
from functools import cache
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

# Instructions (keep in step with rx.c).
(
    END,
    CHAR,
    SET,
    AT,
    MARK,
    BRANCH,
    JUMP,
    REPEAT_ONE,
    REPEAT,
    UNTIL,
    ASSERT,
    ATOMIC,
    GROUPREF,
    FIRST,
) = range(14)
# AT kinds
BEGIN, BEGIN_LINE, END_TEXT, END_LINE, END_STRING, BOUNDARY, NOT_BOUNDARY = range(7)
# SET flags and categories (category * 2 + negated)
NEGATE, ICASE = 1, 2
DIGIT, SPACE, WORD, LINEBREAK = 0, 2, 4, 6
UNBOUNDED = -1
MAX_MARKS, MAX_REPEATS = 64, 32
# Python 3.13 parses ``(?!)`` to FAILURE; earlier versions to an empty negative lookahead
_FAILURE = c.FAILURE

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
    out.code[0] = 2 * parsed.state.groups
    first, empty = _first(parsed, flags)
    if first is not None and not empty:
        out.first(first)
    out.sequence(parsed, flags)
    out.emit(END)
    return Program(array.array("i", out.code).tobytes(), dict(parsed.state.groupdict))


class _Emitter:
    """Writes the instructions of a parsed pattern (one method per kind of node)."""

    def __init__(self) -> None:
        self.code: list[int] = [0]  # the number of marks
        self.repeats = 0
        self.rest: list[tuple[Any, int]] | None = []  # what follows the node emitted

    def emit(self, *ints: int) -> int:
        """Append instructions; the position of the first."""
        at = len(self.code)
        self.code.extend(ints)
        return at

    def sequence(self, items: Any, flags: int) -> None:
        outer = self.rest
        try:
            for k, (op, av) in enumerate(items):
                self.rest = None if outer is None else [(items[k + 1 :], flags), *outer]
                self.node(op, av, flags)
        finally:
            self.rest = outer

    def inside(self, rest: list[tuple[Any, int]] | None, body: Any) -> None:
        """Emit ``body()`` with ``rest`` as what follows it (None: unknown)."""
        outer, self.rest = self.rest, rest
        try:
            body()
        finally:
            self.rest = outer

    def guard(self) -> None:
        """FIRST of what follows (when known and never empty): a repeat tries only the
        counts after which it can go on."""
        found: First = (0, frozenset())
        for items, flags in self.rest or []:
            first, empty = _first(items, flags)
            if first is None:
                return
            found = _union(found, first)
            if not empty:
                self.first(found)
                return

    def first(self, found: First) -> None:
        bits, other = found
        self.emit(FIRST, *_words(bits))
        if other is None:
            self.emit(-1)
        else:
            spans = _merged(set(), sorted(other))
            self.emit(len(spans), *(x for span in spans for x in span))

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
            self.atomic(lambda: self.inside([], lambda: self.sequence(av, flags)))
        elif op is c.GROUPREF:
            self.emit(GROUPREF, av, 1 if flags & c.SRE_FLAG_IGNORECASE else 0)
        elif op is _FAILURE:  # (?!) as Python 3.13 parses it: a lookahead that always fails
            self.lookaround(True, (1, []), flags)
        else:
            raise Unsupported(f"{op} in a label pattern")

    def char_class(self, op: Any, av: Any, flags: int) -> None:
        negate, icase, ranges, categories = _char_class(op, av, flags)
        if not negate and not icase and not categories and len(ranges) == 1:
            lo, hi = ranges[0]
            if lo == hi:
                self.emit(CHAR, lo)
                return
        # the ASCII characters it matches as a bitmap first: rx.c tests them by one bit
        bits = _first_of(negate, icase, tuple(ranges), tuple(categories))[0]
        self.emit(SET, negate | icase, len(ranges), len(categories), *_words(bits))
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
        """BRANCH n t start_1 .. start_n (t: 128 masks follow, one per ASCII character: the
        alternatives it can start), then each alternative (FIRST when it has one) ending
        in JUMP to the end."""
        n = len(alternatives)
        firsts = [_first(items, flags) for items in alternatives]
        masks = [0] * 128
        for k, (first, empty) in enumerate(firsts[:32]):
            for ch in range(128):
                if first is None or empty or first[0] >> ch & 1:
                    masks[ch] |= 1 << k
        table = n > 1
        at = self.emit(BRANCH, n, int(table), *([0] * n))
        if table:
            self.emit(*(m - (1 << 32) if m >= 1 << 31 else m for m in masks))
        jumps = []
        for k, items in enumerate(alternatives):
            self.code[at + 3 + k] = len(self.code)
            first, empty = firsts[k]
            if first is not None and not empty:
                self.first(first)  # rx.c skips an alternative that cannot start here
            self.sequence(items, flags)
            jumps.append(self.emit(JUMP, 0))
        for j in jumps:
            self.code[j + 1] = len(self.code)

    def repeat(self, op: Any, av: Any, flags: int) -> None:
        lo, hi, items = av
        if op is c.POSSESSIVE_REPEAT:
            self.atomic(lambda: self.inside([], lambda: self.repeat(c.MAX_REPEAT, av, flags)))
            return
        greedy = 1 if op is c.MAX_REPEAT else 0
        top = UNBOUNDED if hi is c.MAXREPEAT else hi
        if len(items) == 1 and items[0][0] in (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY):
            # REPEAT_ONE min max greedy next, then one character class
            at = self.emit(REPEAT_ONE, lo, top, greedy, 0)
            self.inside(None, lambda: self.sequence(items, flags))
            self.code[at + 4] = len(self.code)
            self.guard()
            return
        if self.repeats == MAX_REPEATS:
            raise Unsupported(f"more than {MAX_REPEATS} repeated groups")
        # REPEAT id min max greedy next, the body, UNTIL (position of the REPEAT)
        at = self.emit(REPEAT, self.repeats, lo, top, greedy, 0)
        self.repeats += 1
        self.inside(None, lambda: self.sequence(items, flags))
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
        self.inside([], lambda: self.sequence(items, flags))
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


def _words(bits: int) -> list[int]:
    """128 bits as four int32."""
    words = [(bits >> (32 * k)) & 0xFFFFFFFF for k in range(4)]
    return [w - (1 << 32) if w >= 1 << 31 else w for w in words]


def _merged(codes: set[int], ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Code points and ranges as few sorted, disjoint ranges."""
    spans = sorted([(ch, ch) for ch in codes] + [(lo, hi) for lo, hi in ranges])
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


#: The characters a match can start with: ASCII ones as bits, and the ranges of the
#: others (None: any other).
First = tuple[int, frozenset[tuple[int, int]] | None]


def _union(a: First, b: First) -> First:
    other = None if a[1] is None or b[1] is None else a[1] | b[1]
    return a[0] | b[0], other


def _first(items: Any, flags: int) -> tuple[First | None, bool]:
    """(the first characters of a match of ``items`` (None: any), whether it can be empty)."""
    found: First = (0, frozenset())
    for op, av in items:
        first, empty = _first_node(op, av, flags)
        if first is None:
            return None, False
        found = _union(found, first)
        if not empty:
            return found, False
    return found, True


def _first_node(op: Any, av: Any, flags: int) -> tuple[First | None, bool]:
    if op in (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY):
        return _first_chars(*_char_class(op, av, flags)), False
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return (0, frozenset()), True
    if op is _FAILURE:  # matches nothing: no first character, never empty
        return (0, frozenset()), False
    if op is c.SUBPATTERN:
        return _first(av[3], (flags | av[1]) & ~av[2])
    if op is c.ATOMIC_GROUP:
        return _first(av, flags)
    if op is c.BRANCH:
        found: First = (0, frozenset())
        empty = False
        for items in av[1]:
            first, can = _first(items, flags)
            if first is None:
                return None, False
            found, empty = _union(found, first), empty or can
        return found, empty
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        first, empty = _first(av[2], flags)
        return first, empty or av[0] == 0
    return None, False  # a backreference: anything


def _first_chars(negate: int, icase: int, ranges: list[tuple[int, int]], cats: list[int]) -> First:
    """The characters one class matches, as :data:`First` (exact for ASCII)."""
    return _first_of(negate, icase, tuple(ranges), tuple(cats))


@cache
def _first_of(
    negate: int, icase: int, ranges: tuple[tuple[int, int], ...], cats: tuple[int, ...]
) -> First:
    inside = 0  # the ASCII members, as bits
    for lo, hi in ranges:
        if lo < 128:
            inside |= (1 << (min(hi, 127) + 1)) - (1 << lo)
    if icase:  # a character is in when its lower case is: A-Z as a-z
        inside = (inside & ~_UPPER) | (inside >> 32 & _UPPER)
    for k in cats:
        inside |= _category_bits(k)
    bits = inside ^ (1 << 128) - 1 if negate else inside
    if negate or cats:
        return bits, None
    if icase:  # the characters that lower to a member (all beyond the BMP)
        if any(hi >= 128 for lo, hi in ranges):
            return bits, None
        others = {ch for ch, low in _LOWER_TO_ASCII if any(lo <= low <= hi for lo, hi in ranges)}
        return bits, frozenset([(ch, ch) for ch in others] + [(0x10000, 0x10FFFF)])
    return bits, frozenset((max(lo, 128), hi) for lo, hi in ranges if hi >= 128)


_UPPER = (1 << 91) - (1 << 65)
#: The characters of the BMP beyond ASCII that re lowers to an ASCII one (tests check it).
_LOWER_TO_ASCII = ((0x130, 0x69), (0x212A, 0x6B))


@cache
def _category_bits(cat: int) -> int:
    """The ASCII characters in category ``cat``, as bits."""
    return sum(1 << ch for ch in range(128) if _category(cat, ch))


def _category(cat: int, ch: int) -> bool:
    """rx.c's category test on an ASCII character."""
    char = chr(ch)
    yes = (char.isdecimal(), char.isspace(), char.isalnum() or char == "_", char == "\n")[cat >> 1]
    return yes != bool(cat & 1)
