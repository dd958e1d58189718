"""Legal numbering profiles (vi, de, en, fr, eu) as data: label rules, detection, configuration.

A :class:`Rule` says how to recognise one kind of labelled unit: a regex for headings
and bold lead-in lines (``head``), an optional stricter one for plain lines (``line``),
its rank (outer units have lower ranks), the code segment prefix, whether its code
hangs under the namespace (``global``: articles, numbered document-wide) or under its
parent (``local``: clauses, points, sections that restart per chapter), which
parent kinds it needs (``within``: a clause ``1.`` only inside an article), and whether
its headings nest by heading level (``levels``, see :class:`Rule`).

Configuration (``iucut.yaml``) may add rules per profile, tried before the built-in
ones, and pin profiles by path glob::

    profiles: {"laws/vn/**": vi}
    labels:
      vi:
        - {kind: article, rank: 50, prefix: "D", head: "Article (?P<label>\\d+)"}
"""

from __future__ import annotations

import copy
import dataclasses
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any, cast

from iucut.cut.rxcode import Unsupported, compile_pattern
from iucut.errors import ConfigError

ROMAN = "[IVXLCDM]+"
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_VI_ORDINALS = {
    "nhất": 1,
    "một": 1,
    "hai": 2,
    "ba": 3,
    "tư": 4,
    "bốn": 4,
    "năm": 5,
    "sáu": 6,
    "bảy": 7,
    "tám": 8,
    "chín": 9,
    "mười": 10,
}
_DE_ORDINALS = {
    "erst": 1,
    "zweit": 2,
    "dritt": 3,
    "viert": 4,
    "fünft": 5,
    "sechst": 6,
    "siebt": 7,
    "siebent": 7,
    "acht": 8,
    "neunt": 9,
    "zehnt": 10,
    "elft": 11,
    "zwölft": 12,
}
#: Signatures read a mark after its bold or italic lead-in: ``**Điều 1. …**`` and
#: ``__Art 5__`` are evidence like a heading ``Điều 1`` or ``Art 5``.
LEAD_IN = r"^[*_ \t]*"
#: The first article spelt out: ``Article premier`` (French), ``Artículo primero``
#: (Spanish), ``Articolo primo`` (Italian) are article 1.
ROMANCE_ORDINALS = {"premier": 1, "première": 1, "primero": 1, "primo": 1}
_DE_WORD = r"(?:(?P<word>[A-ZÄÖÜ][a-zäöüß]+?)(?:e|er|es|en)\s+)?"
_DE_NUM = r"(?:(?P<num>\d+[a-z]?)\.\s+)?"
#: Latin multiplicative suffixes of inserted articles (``Art. 2-bis``, ``Article 5 ter``):
#: part of the label, or an inserted article would share its predecessor's label and
#: be numbered by position. Not before a digit: German ``§ 5 bis 7`` is a range.
LATIN_WORDS = (
    r"(?:bis|ter|quater|quinquies|sexies|septies|octies|nonies|novies|decies|"
    r"undecies|duodecies|terdecies|quaterdecies|quindecies|sexdecies|septiesdecies|"
    r"octiesdecies|noviesdecies|vicies)(?![\w])(?!\s*\d)"
)
LATIN = r"(?:[\s-]?" + LATIN_WORDS + ")?"

#: A superscript index of an inserted article (Polish ``Art. 22¹``, typed ``22^1``,
#: ``22^1^`` in Pandoc Markdown, ``22<sup>1</sup>`` in HTML): part of the label, read as
#: ``22^1`` (:func:`label_from`), or article 22¹ would be article 22 again (``22^1``) or
#: article 221 (``22¹`` folded). Superscript digits are ``\w``: nothing else reads them.
_SUP_DIGITS = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"  # ⁰ to ⁹
SUP = r"(?:[" + _SUP_DIGITS + r"]+|\^\d+\^?|<sup>\d+</sup>)?"
_SUPERSCRIPT = re.compile(r"([" + _SUP_DIGITS + r"]+)|\^(\d+)\^?|<sup>(\d+)</sup>")
_FROM_SUP = str.maketrans(_SUP_DIGITS, "0123456789")


def _index(m: re.Match[str]) -> str:
    return "^" + (m.group(1).translate(_FROM_SUP) if m.group(1) else m.group(2) or m.group(3))


def indexed(label: str) -> str:
    """A label's superscript index written one way: ``22¹``, ``22^1^``, ``22<sup>1</sup>``
    → ``22^1`` (labels and references alike)."""
    if "^" in label or "<" in label or not label.isascii():
        return _SUPERSCRIPT.sub(_index, label)
    return label


@dataclass(frozen=True)
class Rule:
    """How one kind of labelled unit is recognised and coded."""

    kind: str
    rank: int
    prefix: str
    head: re.Pattern[str]
    line: re.Pattern[str] | None = None
    scope: str = "global"  # or "local"
    within: tuple[str, ...] = ()
    strict: bool = False  # plain lines: the next word must not start in lower case
    start: str = ""  # cheap regex for candidate lines (defaults to ``head``)
    #: A heading of this rule and one of another ``levels`` rule at a different heading
    #: level nest by their levels, not their ranks (at the same level, or with a plain or
    #: bold line, ranks decide). For English, whose hierarchy is no one order: UCC Article
    #: > Part > Section, US Code Chapter > Part, EU Chapter > Section > Article.
    levels: bool = False
    #: The label of the first unit of this rule under a parent (``Section 1``), and the
    #: kinds of units (``first_in``) that hold such units only from their first: at the
    #: heading level of one of them that it would nest in by rank, a heading of this rule
    #: nests there only as its first or after another of its kind (``## Article I``, ``##
    #: Section 1``, ``## Section 2``: the US Constitution's sections); any other closes it
    #: (``## Article 25``, ``## Section 2``: an EU act's sections hold its articles, so
    #: the section is not coded by whichever article precedes it).
    first: str = ""
    first_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """A language's label rules and the signature used to detect it."""

    name: str
    rules: tuple[Rule, ...]
    signature: re.Pattern[str]
    extra: dict[str, Any] = field(default_factory=dict)
    #: Whether detection may choose it (a profile that is only ever chosen, ``eu``, is not
    #: counted: its signature is not matched against every line of every document).
    detected: bool = True

    def matcher(self, heading: bool) -> Matcher:
        """All head (or line) rules as one regex, tried in rule order (cached)."""
        key = "head" if heading else "line"
        found = self.extra.get(key)
        if found is None:
            found = self.extra[key] = Matcher(self.rules, heading)
        return found


_GROUP = re.compile(r"\(\?P<(\w+)>|\(\?P=(\w+)\)")


def _suffixed(m: re.Match[str], i: int) -> str:
    if m.group(1):
        return f"(?P<{m.group(1)}__{i}>"
    return f"(?P={m.group(2)}__{i})"


_UNSEEN = "\0"  # not a label: no rule yields a NUL


class Matcher:
    """One alternation of rule patterns; ``lastgroup`` names the rule that matched."""

    def __init__(self, rules: Sequence[Rule], heading: bool):
        self.rules = rules
        self.heading = heading
        alts = []
        for i, rule in enumerate(rules):
            pattern = rule.head if heading else rule.line
            if pattern is None:
                continue
            renamed = _GROUP.sub(partial(_suffixed, i=i), pattern.pattern)
            alts.append(f"(?P<_{i}>{renamed})")
        self._alternation = "|".join(alts) if alts else None
        self.index = {f"_{i}": i for i in range(len(rules))}
        self.labels: list[dict[tuple[str | None, ...], str | None]] = [{} for _ in rules]

    @cached_property
    def names(self) -> list[list[str]]:
        """Each rule's group names (its pattern compiled: asked only when matching)."""
        return [
            list(pattern.groupindex) if pattern is not None else []
            for pattern in (r.head if self.heading else r.line for r in self.rules)
        ]

    @cached_property
    def keys(self) -> list[tuple[str, ...]]:
        return [tuple(f"{name}__{i}" for name in names) for i, names in enumerate(self.names)]

    @cached_property
    def regex(self) -> re.Pattern[str] | None:
        """The alternation, compiled when first matched (the compiled core matches the
        rules' own programs, and asks this only of the rare text they give up on)."""
        return re.compile(self._alternation) if self._alternation is not None else None

    def match(self, text: str, start: int = 0) -> tuple[Rule, str] | None:
        """The first rule (from ``start``) whose pattern matches ``text``, with its label."""
        if self.regex is None:
            return None
        if start == 0:
            m = self.regex.match(text)
            if m is None:
                return None
            i = self.index[m.lastgroup]  # type: ignore[index]
            rule = self.rules[i]
            if self.heading or not rule.strict:
                # The label depends on the groups only: computed once per distinct groups.
                keys = self.keys[i]
                values = tuple(m.group(k) for k in keys)
                labels = self.labels[i]
                label = labels.get(values, _UNSEEN)
                if label is _UNSEEN:
                    if len(labels) >= 4096:
                        labels.clear()
                    label = labels[values] = label_from(
                        dict(zip(self.names[i], values, strict=True))
                    )
                if label is not None:
                    return rule, label
            else:
                groups = dict(zip(self.names[i], (m.group(k) for k in self.keys[i]), strict=True))
                found = self._accept(rule, text, m.end(), groups)
                if found is not None:
                    return found
            start = i + 1
        for rule in self.rules[start:]:
            pattern = rule.head if self.heading else rule.line
            m2 = pattern.match(text) if pattern is not None else None
            if m2 is not None:
                found = self._accept(rule, text, m2.end(), m2.groupdict())
                if found is not None:
                    return found
        return None

    def _accept(
        self, rule: Rule, text: str, end: int, groups: Mapping[str, str | None]
    ) -> tuple[Rule, str] | None:
        if not self.heading and rule.strict:
            rest = text[end:].lstrip(" .:-–—")
            if rest and rest[0].islower():
                return None
        label = label_from(groups)
        return (rule, label) if label is not None else None


class _Pattern:
    """A built-in rule's pattern, compiled by ``re`` when it is first matched (or asked
    for what only the compiled pattern knows): the compiled core matches the programs
    made of the patterns' text (kept between processes, :mod:`iucut.cut.programs`) and
    asks ``re`` only of the rare text they give up on, and compiling every built-in
    pattern at import was ~25 ms of a re-sync that cuts one document (issue #16 part 3).
    It stands for the ``re.Pattern`` it compiles to: the same matches, flags, groups."""

    __slots__ = ("_compiled", "given_flags", "pattern")

    def __init__(self, pattern: str, flags: int):
        self.pattern = pattern
        self.given_flags = flags  # (``flags`` adds the pattern's own and re's defaults)
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        found = self._compiled
        if found is None:
            found = self._compiled = re.compile(self.pattern, self.given_flags)
        return found

    @property
    def flags(self) -> int:
        return self.compiled().flags

    @property
    def groupindex(self) -> Mapping[str, int]:
        return self.compiled().groupindex

    @property
    def groups(self) -> int:
        return self.compiled().groups

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().match(string, pos, endpos)

    def fullmatch(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> re.Match[str] | None:
        return self.compiled().fullmatch(string, pos, endpos)

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().search(string, pos, endpos)

    def __getattr__(self, name: str) -> Any:  # (finditer, sub, split, ...)
        return getattr(self.compiled(), name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Pattern):
            return (self.pattern, self.given_flags) == (other.pattern, other.given_flags)
        return self.compiled() == other

    def __hash__(self) -> int:
        return hash((self.pattern, self.given_flags))

    def __repr__(self) -> str:
        return repr(self.compiled())

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Pattern, (self.pattern, self.given_flags))

    def __copy__(self) -> _Pattern:
        return self

    def __deepcopy__(self, memo: Any) -> _Pattern:
        return self


def _r(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return cast(re.Pattern[str], _Pattern(pattern, flags))


_VI_LBL = r"\d+[a-zđ]?(?:\.(?:\d+[a-zđ]?|[A-ZĐ]{1,4}))*"
VI = Profile(
    "vi",
    (
        Rule(
            "part",
            10,
            "P",
            _r(
                r"Phần\s+(?:thứ\s+(?P<word>\w+(?:\s+(?:mươi|một|hai|ba|tư|năm|lăm))*)"
                r"|(?P<label>" + ROMAN + r"|\d+))(?![\w])"
            ),
            _r(r"Phần\s+(?:thứ\s+(?P<word>\w+)|(?P<label>" + ROMAN + r"|\d+))(?![\w])"),
            strict=True,
            start="Phần",
        ),
        Rule(
            "chapter",
            20,
            "C",
            _r(r"Chương\s+(?P<label>" + ROMAN + r"|\d+[a-z]?)(?![\w])"),
            _r(r"Chương\s+(?P<label>" + ROMAN + r"|\d+[a-z]?)(?![\w])"),
            strict=True,
            start="Chương",
        ),
        Rule(
            "subsection",
            40,
            "TM",
            _r(r"Tiểu\s+mục\s+(?P<label>\d+|" + ROMAN + r")(?![\w])"),
            _r(r"Tiểu\s+mục\s+(?P<label>\d+|" + ROMAN + r")(?![\w])"),
            scope="local",
            strict=True,
            start="Tiểu",
        ),
        Rule(
            "section",
            30,
            "M",
            _r(r"Mục\s+(?P<label>\d+|" + ROMAN + r")(?![\w])"),
            _r(r"Mục\s+(?P<label>\d+|" + ROMAN + r")(?![\w])"),
            scope="local",
            strict=True,
            start="Mục",
        ),
        Rule(
            "article",
            50,
            "D",
            _r(r"Điều\s+(?P<label>" + _VI_LBL + r")(?![\w])"),
            _r(r"Điều\s+(?P<label>" + _VI_LBL + r")[.:](?=\s|$)"),
            start="Điều",
        ),
        Rule(
            "clause",
            60,
            "K",
            _r(r"(?P<label>\d+)\.(?=\s|$)"),
            _r(r"(?P<label>\d+)\.(?=\s|$)"),
            scope="local",
            within=("article",),
            start=r"\d",
        ),
        Rule(
            "point",
            70,
            "",
            _r(r"(?P<label>[a-zđ]\d{0,2})\)(?=\s|$)"),
            _r(r"(?P<label>[a-zđ]\d{0,2})\)(?=\s|$)"),
            scope="local",
            within=("clause", "article"),
            start=r"[a-zđ]\d{0,2}\)",
        ),
    ),
    _r(LEAD_IN + r"(?:Điều\s+\d|Chương\s+[IVXLCDM\d]|Mục\s+\d|Phần\s+thứ)", re.M),
)

DE = Profile(
    "de",
    (
        Rule(
            "part",
            10,
            "T",
            _r(
                _DE_WORD
                + _DE_NUM
                + r"(?:Buch|Teil)(?:\s+(?P<label>\d+[a-z]?|"
                + ROMAN
                + r"))?(?![\w])"
            ),
            start=r"[A-ZÄÖÜ\d]",
        ),
        Rule(
            "chapter",
            20,
            "Kap",
            _r(_DE_WORD + _DE_NUM + r"Kapitel(?:\s+(?P<label>\d+[a-z]?|" + ROMAN + r"))?(?![\w])"),
            start=r"[A-ZÄÖÜ\d]",
        ),
        Rule(
            "subsection",
            40,
            "UAbschn",
            _r(
                _DE_WORD
                + _DE_NUM
                + r"(?:Unterabschnitt|Titel)(?:\s+(?P<label>\d+[a-z]?|"
                + ROMAN
                + r"))?(?![\w])"
            ),
            scope="local",
            start=r"[A-ZÄÖÜ\d]",
        ),
        Rule(
            "section",
            30,
            "Abschn",
            _r(
                _DE_WORD + _DE_NUM + r"Abschnitt(?:\s+(?P<label>\d+[a-z]?|" + ROMAN + r"))?(?![\w])"
            ),
            scope="local",
            start=r"[A-ZÄÖÜ\d]",
        ),
        Rule(
            "article",
            50,
            "§",
            _r(
                r"(?:\(\S+\)\s*)?§§?\s*(?P<label>\d+[a-z]{0,3}"
                + SUP
                + LATIN
                + r")(?:\s*(?:bis|und|,|-|–)\s*(?:§\s*)?"
                r"(?P<label2>\d+[a-z]{0,3}))?(?![\w])"
            ),
            start=r"[§(]",
        ),
        Rule(
            "article",
            # An Artikel holds Paragraphen, never the reverse (amending and introductory
            # laws: ``Art I`` or ``Art 2``, then ``§ 1``, ``§ 2`` at the same heading
            # level): ranked just outside ``§``, or each article's ``§ 1`` would be a
            # sibling of the others, numbered by position. Roman numerals as elsewhere
            # (``Art III`` is ``Art3``, an inserted ``Art Ia`` is ``Art1a``).
            45,
            "Art",
            _r(
                r"(?:Art\.?|Artikel)\s*(?P<label>\d+[a-z]?"
                + SUP
                + LATIN
                + r"|"
                + ROMAN
                + r"[a-z]?)(?![\w])"
            ),
            start="Art",
        ),
        Rule(
            "clause",
            60,
            "Abs",
            _r(r"\((?P<label>\d+[a-z]?)\)(?=\s|$)"),
            _r(r"\((?P<label>\d+[a-z]?)\)(?=\s|$)"),
            scope="local",
            within=("article",),
            start=r"\(",
        ),
        Rule(
            "point",
            70,
            "Nr",
            _r(r"(?P<label>\d+[a-z]?)\.(?=\s|$)"),
            _r(r"(?P<label>\d+[a-z]?)\.(?=\s|$)"),
            scope="local",
            within=("clause", "article"),
            start=r"\d",
        ),
        Rule(
            "subpoint",
            80,
            "",
            _r(r"(?P<label>[a-z]{1,2})\)(?=\s|$)"),
            _r(r"(?P<label>[a-z]{1,2})\)(?=\s|$)"),
            scope="local",
            within=("point", "clause"),
            start=r"[a-z]{1,2}\)",
        ),
    ),
    _r(
        LEAD_IN
        + r"(?:(?:\(\S+\)\s*)?§\s*\d|\S*\s*Abschnitt\b|(?:Art\.?|Artikel)\s*(?:\d|[IVX]+\b))",
        re.M,
    ),
)

#: English labels: a lettered number as French codes write it (``L. 111-1``, ``R*111-1``,
#: ``LO 1``; tried before the Roman numerals, which would take its ``L``), a Roman
#: numeral, a number of parts, each with a letter or not (``1.2``, UCC ``1-201``, ``2A-101``,
#: ``106A``, ``5a``), and a Latin suffix (``5 bis``), a letter.
_EN_NUM = r"\d+[a-zA-Z]?(?:[.-]\d+[a-zA-Z]?)*" + LATIN
_EN_LBL = (
    r"(?P<label>[A-Z]{1,2}\*{0,2}(?:\.\s?|\s)?\d+(?:-\d+)*(?![\w])|"
    + ROMAN
    + r"|"
    + _EN_NUM
    + r"|[A-Z])"
)
#: An article's label may also be the first spelt out (``Article 1er``, ``Article premier``,
#: ``Artículo primero``: article 1; ``Article 1er bis`` is ``1-bis``) or the only one
#: (``Article unique``, ``Artículo único``).
_EN_ART_LBL = (
    "(?:"
    + _EN_LBL
    + r"|(?P<num>1)(?:er|re)(?:[\s-](?P<label2>"
    + LATIN_WORDS
    + "))?"
    + r"|(?P<word>(?i:premier|première|primero|primo|unique|único|única|unico)))"
)
#: French writes the first title or chapter ``Ier`` (``IER``) or ``1er`` (``Titre Ier``,
#: ``Chapitre 1er``): the number, its ``er`` no part of the label.
_FR_FIRST = r"(?:(?<=I)(?:er|ER)|(?<=1)er)?"
#: A plain line is no label when its number is followed by a parenthesis: ``Section 5(a)
#: of the Act is amended`` and ``Article 5(1) of the GDPR applies`` are citations in prose.
_EN_END = r"(?![\w(])"


def _annex(kind: str, word: str, prefix: str) -> Rule:
    """A schedule, annex, appendix or exhibit heading (``Schedule 1``, ``ANNEX IV``,
    ``Appendix B``): outermost like a title, document-wide; headings and bold lines only
    (``Schedule 1 to the Act applies`` starts prose)."""
    return Rule(
        kind,
        5,
        prefix,
        _r(word + r"\s+(?P<label>" + ROMAN + r"|\d+[A-Z]?|[A-Z]{1,2})(?![\w])"),
        start=word,
        levels=True,
    )


def _en(word: str, label: str = _EN_LBL) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """An English rule's head and plain-line patterns: ``word``, blanks, the label."""
    return _r(word + r"\s+" + label + r"(?![\w])"), _r(word + r"\s+" + label + _EN_END)


EN = Profile(
    "en",
    (
        Rule(
            "book",
            3,
            "Bk",
            # French codes: ``Livre Ier`` > ``Titre`` > ``Chapitre`` (``LIVRE II``, ``Livre
            # 1er``), and ``Book 2`` in English; headings and bold lines only
            _r(r"(?i:livre|book)\s+(?P<label>" + ROMAN + r"|\d+)" + _FR_FIRST + r"(?![\w])"),
            scope="global",
            start="(?i:livre|book)",
            levels=True,
        ),
        Rule(
            "title",
            5,
            "T",
            # US statutes and codes, EU acts: ``TITLE I—GENERAL``, ``Title 17``, ``Title
            # IV-E``; headings and bold lines only (``Title 42 U.S.C. 1983 …`` starts prose);
            # French ``Titre Ier`` (the first spelt ``Ier``/``1er``: title 1)
            _r(
                r"(?i:title|titre)\s+(?P<label>"
                + ROMAN
                + r"(?:-[A-Z])?|\d+[A-Z]?)"
                + _FR_FIRST
                + r"(?![\w])"
            ),
            scope="global",
            start="(?i:tit(?:le|re))",
            levels=True,
        ),
        Rule(
            "subtitle",
            7,
            "ST",
            _r(r"(?i:subtitle)\s+(?P<label>" + ROMAN + r"|[A-Z]|\d+[A-Z]?)(?![\w])"),
            scope="local",
            start="(?i:subtitle)",
            levels=True,
        ),
        _annex("schedule", "(?i:schedule)", "Sch"),
        _annex("annex", "(?i:annex)", "Anx"),
        _annex("appendix", "(?i:appendix)", "App"),
        _annex("exhibit", "(?i:exhibit)", "Ex"),
        Rule(
            "part",
            10,
            "P",
            *_en("(?i:part)"),
            strict=True,
            start="(?i:part)",
            levels=True,
        ),
        Rule(
            "chapter",
            20,
            "C",
            # French ``Chapitre Ier`` too (chapter 1)
            *_en("(?i:chapter|chapitre)", _EN_LBL + _FR_FIRST),
            strict=True,
            start="(?i:chap(?:ter|itre))",
            levels=True,
        ),
        Rule(
            "article",
            30,
            "A",
            # Spanish and Italian spell it out (``Artículo 5.``, ``Articolo 5``); their
            # ``Art. 5`` is the German profile's
            *_en(r"(?i:article|art[ií]culo|articolo)\.?", _EN_ART_LBL),
            strict=True,
            start="(?i:art[ií]c)",
            levels=True,
        ),
        Rule(
            "article",
            30,
            "Am",
            *_en("(?i:amendment)"),
            strict=True,
            start="(?i:amendment)",
            levels=True,
        ),
        Rule(
            "article",
            30,
            "§",
            _r(r"§\s*(?P<label>" + _EN_NUM + r")(?![\w])"),
            start="§",
            levels=True,
        ),
        Rule(
            "section",
            40,
            "S",
            # ``Section 1.``, and ``SEC. 101.`` / ``Sec. 2.`` of US statutes
            *_en(r"(?i:sec\.|section\.?)"),
            scope="local",
            strict=True,
            start=r"(?i:sec(?:\.|tion))",
            levels=True,
            first="1",
            first_in=("article",),
        ),
        Rule(
            "clause",
            50,
            "Cl",
            # the US Constitution's clauses (``Clause 1`` of Article I, Section 8), a
            # contract's ``Clause 12``: inside a section, under their parent; headings and
            # bold lines only (``Clause 3 of the Agreement applies`` is prose)
            _r(r"(?i:clause)\s+(?P<label>\d+[a-z]?|" + ROMAN + r")(?![\w])"),
            scope="local",
            start="(?i:clause)",
            levels=True,
        ),
    ),
    _r(
        LEAD_IN
        + r"(?:(?i:article|art[ií]culo|articolo|section|sec\.|chapter|part|amendment|title)"
        # (not a French code's ``Article L. 111-1``, ``R*12``, nor ``Article 1er``: French
        # evidence, counted by the fr profile alone, or a French text of articles and
        # sections only would be a tie, which English wins)
        + r"\.?\s+(?!1(?:er|re)(?![\w])|[LRDA]O?[.*\s]*\d)[\dIVXLC]"
        + r"|§\s*\d)",
        re.M,
    ),
)

#: French ordinals of the parts of a code (``Première partie``, ``Deuxième partie``).
FR_ORDINALS = {
    "première": 1,
    "premiere": 1,
    "deuxième": 2,
    "deuxieme": 2,
    "seconde": 2,
    "troisième": 3,
    "troisieme": 3,
    "quatrième": 4,
    "quatrieme": 4,
    "cinquième": 5,
    "cinquieme": 5,
    "sixième": 6,
    "sixieme": 6,
    "septième": 7,
    "septieme": 7,
    "huitième": 8,
    "huitieme": 8,
    "neuvième": 9,
    "neuvieme": 9,
}
#: A French division's number: Roman or Arabic, the first spelt ``Ier``/``1er`` (no part
#: of the label), a capital letter or a Latin suffix of an inserted one (``Section 2 bis``:
#: ``S2-bis``), or ``préliminaire`` (the Code civil's ``Titre préliminaire``).
_FR_DIV = (
    r"(?:(?P<label>"
    + ROMAN
    + r"|\d+[A-Z]?)"
    + _FR_FIRST
    + r"(?:[\s-](?P<label2>"
    + LATIN_WORDS
    + r"))?|(?P<word>(?i:pr[ée]liminaire|liminaire)))(?![\w])"
)


def _fr(word: str, label: str = _FR_DIV) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A French rule's head and plain-line patterns: ``word``, blanks, the label."""
    return _r(word + r"\s+" + label), _r(word + r"\s+" + label + _EN_END)


#: French codes and laws: one order, outermost first: Partie législative (réglementaire) >
#: Première partie > Livre > Titre > Sous-titre > Chapitre > Section > Sous-section >
#: Paragraphe > Sous-paragraphe > Article. Unlike English, whose ``Section`` is inside an
#: article (US Constitution) or above it (EU acts), a French section holds articles:
#: ranks alone nest them, so a code written with each division at its own heading level,
#: all at one level, or as bold lines gives the same tree and codes. Segments as in
#: English (``Bk1``, ``T2``, ``C3``, ``S1``, ``AL1234-5``): a French text cut as English
#: before keeps the codes English gave right (a section English put in the bold article
#: before it, ``AL1221-2/S2``, is ``C1/S2``; a sous-section is ``SS1``, no slug). A stored
#: document keeps the profile it was stored with. Sections and what is below them
#: restart per parent (local).
FR = Profile(
    "fr",
    (
        Rule(
            "part",
            1,
            "P",
            # ``Partie législative``, ``Partie réglementaire``, ``Partie Arrêtés``
            _r(
                r"(?i:partie)\s+(?P<label>(?i:l[ée]gislative|r[ée]glementaire|arr[êe]t[ée]s"
                r"|d[ée]crets))(?![\w])"
            ),
            start="(?i:partie)",
        ),
        Rule(
            "part",
            2,
            "P",
            # ``Première partie``, ``Partie 1``, ``PARTIE II``
            _r(
                r"(?:(?P<word>(?i:premi[eè]re|deuxi[eè]me|seconde|troisi[eè]me|quatri[eè]me|"
                r"cinqui[eè]me|sixi[eè]me|septi[eè]me|huiti[eè]me|neuvi[eè]me))\s+(?i:partie)"
                r"|(?i:partie)\s+(?P<label>" + ROMAN + r"|\d+))" + _FR_FIRST + r"(?![\w])"
            ),
            start=r"(?i:partie|\w+\s+partie)",
        ),
        _annex("annex", "(?i:annexe)", "Anx"),
        Rule(
            "book",
            3,
            "Bk",
            _r(r"(?i:livre)\s+" + _FR_DIV),
            start="(?i:livre)",
        ),
        Rule(
            "title",
            5,
            "T",
            _r(r"(?i:titre)\s+" + _FR_DIV),
            start="(?i:titre)",
        ),
        Rule(
            "subtitle",
            7,
            "ST",
            _r(r"(?i:sous-titre)\s+" + _FR_DIV),
            scope="local",
            start="(?i:sous-titre)",
        ),
        Rule(
            "chapter",
            20,
            "C",
            *_fr("(?i:chapitre)"),
            strict=True,
            start="(?i:chap(?:ter|itre))",  # (English's: one alternative of candidate lines)
        ),
        Rule(
            "section",
            22,
            "S",
            *_fr("(?i:section)"),
            scope="local",
            strict=True,
            start=r"(?i:sec(?:\.|tion))",
        ),
        Rule(
            "subsection",
            24,
            "SS",
            *_fr("(?i:sous-section)"),
            scope="local",
            strict=True,
            start="(?i:sous-)",
        ),
        Rule(
            "paragraph",
            26,
            "Par",
            *_fr("(?i:paragraphe)"),
            scope="local",
            strict=True,
            start="(?i:paragraphe)",
        ),
        Rule(
            "subparagraph",
            28,
            "SPar",
            *_fr("(?i:sous-paragraphe)"),
            scope="local",
            strict=True,
            start="(?i:sous-)",
        ),
        Rule(
            "article",
            30,
            "A",
            # ``Article R*12-1`` (a decree of the Conseil des ministres) dotted or spaced
            # (``R.*12-1``, ``R. *12-1``, ``R* 12-1``): ``R-12-1``, coded ``AR-12-1`` as
            # ``R*12-1`` is (the next rule), never ``R`` alone or a code of its own
            *_en(
                r"(?i:article)",
                r"(?P<label>[A-Z]{1,2})(?:\.\s?\*\s?|\*\s)(?P<label2>\d+(?:-\d+)*)",
            ),
            strict=True,
            start="(?i:art[ií]c)",
        ),
        Rule(
            "article",
            30,
            "A",
            *_en(r"(?i:article)", _EN_ART_LBL),
            strict=True,
            start="(?i:art[ií]c)",
        ),
    ),
    _r(
        LEAD_IN
        + r"(?:(?i:livre|titre|sous-titre|chapitre|section|sous-section|paragraphe"
        + r"|sous-paragraphe)\s+[\dIVXLC]|(?i:article)\s+(?:[LRDA]O?\*{0,2}\.?\s?\d|\d|premier)"
        + r"|(?i:partie)\s+(?:l[ée]gislative|r[ée]glementaire)"
        + r"|(?i:premi[eè]re|deuxi[eè]me)\s+partie)",
        re.M,
    ),
)


def _eu_rule(rule: Rule) -> Rule:
    """An English rule as the EU profile has it: a section holds articles (EU acts:
    Chapter > Section > Article, one order), ranked between chapter and article, so that
    an act written flat nests as when written at heading levels."""
    if rule.kind != "section":
        return rule
    return dataclasses.replace(rule, rank=25, first="", first_in=())


#: Acts of the European Union (and treaties written alike): the English rules (its
#: sections holding articles: :func:`_eu_rule`), and an article's numbered paragraphs
#: ``1.`` (``A5/Par1``, EUR-Lex's ``par_1``) and their points ``(a)`` (``A5/Par1/a``).
#: Never detected (``detected``; its signature matches nothing): an English text's
#: numbered lists are no paragraphs of an article unless its author says so. Chosen with
#: ``--profile eu``, front matter ``iu_profile: eu`` or configuration ``profiles``, so no
#: English document cut before changes.
EU = Profile(
    "eu",
    (
        *(_eu_rule(r) for r in EN.rules),
        Rule(
            "clause",
            60,
            "Par",
            _r(r"(?P<label>\d+)\.(?=\s|$)"),
            _r(r"(?P<label>\d+)\.(?=\s|$)"),
            scope="local",
            within=("article",),
            start=r"\d",
        ),
        Rule(
            "point",
            70,
            "",
            _r(r"\((?P<label>[a-z]{1,2})\)(?=\s|$)"),
            _r(r"\((?P<label>[a-z]{1,2})\)(?=\s|$)"),
            scope="local",
            within=("clause", "article"),
            start=r"\(",
        ),
    ),
    _r(r"(?!)"),
    detected=False,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (VI, DE, EN, FR, EU)}
DEFAULT = "en"


def roman_to_int(label: str) -> int | None:
    """``XIV`` → 14; None for anything that is not a well-formed Roman numeral."""
    total, prev = 0, 0
    for ch in reversed(label):
        value = _ROMAN_VALUES.get(ch)
        if value is None:
            return None
        total = total - value if value < prev else total + value
        prev = max(prev, value)
    return total if total and _int_to_roman(total) == label else None


def _int_to_roman(n: int) -> str:
    out = []
    for value, sym in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)


def roman_label(label: str) -> str:
    """A label with its Roman numeral as a number (``IV`` → ``4``, an inserted ``Ia`` →
    ``1a``); a single ``C``, ``D``, ``L`` or ``M`` stays a letter, anything else as is."""
    if len(label) > 1 or label in "IVX":
        value = roman_to_int(label)
        if value is not None:
            return str(value)
        if label[-1].islower() and label[-1].isascii() and (len(label) > 2 or label[0] in "IVX"):
            value = roman_to_int(label[:-1])  # ``Art Ia`` (inserted after ``Art I``): 1a
            if value is not None:
                return f"{value}{label[-1]}"
    return label


def label_of(m: re.Match[str]) -> str | None:
    """The label a rule matched: a number (Roman and ordinal words converted), or None."""
    return label_from(m.groupdict())


def label_from(groups: Mapping[str, str | None]) -> str | None:
    """:func:`label_of` from a rule's named groups."""
    label = groups.get("label") or groups.get("num")
    word = groups.get("word")
    if label is None and word:
        word = word.lower()
        value = _VI_ORDINALS.get(word.split()[0] if word else "") if " " not in word else None
        if value is None:
            value = _DE_ORDINALS.get(word) or ROMANCE_ORDINALS.get(word) or FR_ORDINALS.get(word)
        label = str(value) if value is not None else word
    if label is None:
        return None
    label = roman_label(indexed(label))
    last = groups.get("label2")
    return f"{label}-{last}" if last else label


def configured(config: Mapping[str, Any] | None) -> dict[str, Profile]:
    """Built-in profiles, with rules from configuration (``labels``) tried first.

    The profiles of the last ``labels`` seen are kept, with their compiled matchers:
    a cut asks for them once per document, with the same configuration."""
    global _last_configured
    extra = (config or {}).get("labels") or {}
    if not extra:
        return PROFILES
    if not isinstance(extra, Mapping):
        raise ConfigError("'labels' must map a profile name to a list of rules")
    if _last_configured is not None and _last_configured[0] == extra:
        return _last_configured[1]
    out = _configured(extra)
    _last_configured = (copy.deepcopy(extra), out)
    return out


_last_configured: tuple[Any, dict[str, Profile]] | None = None


def _configured(extra: Mapping[str, Any]) -> dict[str, Profile]:
    out = dict(PROFILES)
    for name, specs in extra.items():
        base = PROFILES.get(name)
        rules = tuple(_rule(name, s) for s in _as_list(specs, name))
        if base is None:
            out[name] = Profile(name, rules, _signature(rules))
        else:
            out[name] = Profile(name, rules + base.rules, base.signature, detected=base.detected)
    return out


def _as_list(specs: Any, name: str) -> Sequence[Mapping[str, Any]]:
    if not isinstance(specs, list) or not all(isinstance(s, Mapping) for s in specs):
        raise ConfigError(f"labels.{name} must be a list of rule mappings")
    return specs


def _rule(name: str, spec: Mapping[str, Any]) -> Rule:
    try:
        head = re.compile(str(spec["head"]))
        line = re.compile(str(spec["line"])) if spec.get("line") else None
        if "label" not in head.groupindex:
            raise ConfigError(f"labels.{name}: pattern {spec['head']!r} needs (?P<label>...)")
        start = str(spec.get("start", ""))
        for pattern in (head, line, re.compile(start) if start else None):
            if pattern is not None:
                compile_pattern(pattern)  # the compiled core matches it too
        return Rule(
            kind=str(spec["kind"]),
            rank=int(spec.get("rank", 50)),
            prefix=str(spec.get("prefix", "")),
            head=head,
            line=line,
            scope=str(spec.get("scope", "global")),
            within=tuple(spec.get("within", ())),
            strict=bool(spec.get("strict", False)),
            levels=bool(spec.get("levels", False)),
            first=str(spec.get("first", "")),
            first_in=tuple(spec.get("first_in", ())),
            start=start,
        )
    except KeyError as exc:
        raise ConfigError(f"labels.{name}: a rule needs {exc.args[0]!r}") from exc
    except re.error as exc:
        raise ConfigError(f"labels.{name}: bad regex: {exc}") from exc
    except Unsupported as exc:
        raise ConfigError(
            f"labels.{name}: a label pattern may not use {exc} (iucut matches rules with "
            "re's common constructs only); write the rule without it"
        ) from exc


def _signature(rules: Sequence[Rule]) -> re.Pattern[str]:
    """A configured profile's signature: any of its heading patterns (groups unnamed)."""
    alts = [_anonymous(r.head.pattern) for r in rules if "(?P=" not in r.head.pattern]
    return re.compile("^(?:" + ("|".join(alts) or "(?!)") + ")", re.M)


def starts(profiles: Mapping[str, Profile]) -> str:
    """Alternatives matching the first characters of any plain label line (for the
    scanner's candidate lines; headings and bold lines are candidates anyway)."""
    alts = sorted(
        {
            r.start or _anonymous(r.line.pattern)
            for p in profiles.values()
            for r in p.rules
            if r.line is not None
        }
    )
    return "|".join(alts)


def _anonymous(pattern: str) -> str:
    """A rule's line pattern as a start alternative: its named groups unnamed, so that
    several can be joined in one regex (with a backreference: any non-blank)."""
    if "(?P=" in pattern:
        return r"\S"
    return "(?:" + re.sub(r"\(\?P<\w+>", "(?:", pattern) + ")"


def detect(texts: Sequence[str], profiles: Mapping[str, Profile]) -> str:
    """The profile whose signature matches most of ``texts``: every heading, bold lead-in
    and legal-looking plain line of the whole document (not the first ones: a law whose
    articles start after a long preamble is still a law)."""
    return most_hits(hits(texts, profiles))


def hits(texts: Sequence[str], profiles: Mapping[str, Profile]) -> dict[str, int]:
    """How many of ``texts`` match each detected profile's signature (``Profile.detected``)."""
    return {
        name: sum(1 for t in texts if p.signature.match(t))
        for name, p in profiles.items()
        if p.detected
    }


def most_hits(hits: Mapping[str, int]) -> str:
    """The profile with the most signature hits (the first one on a tie; DEFAULT if none)."""
    best, best_hits = DEFAULT, 0
    for name, count in hits.items():
        if count > best_hits:
            best, best_hits = name, count
    return best
