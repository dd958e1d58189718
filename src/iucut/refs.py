"""Cross-references: find label references in a unit's text and resolve them to codes.

The grammar of each profile is data (:data:`GRAMMARS`), like the label rules of
:mod:`iucut.cut.profiles`: a list of *levels* (a keyword regex, the level's rank, its
code prefix, whether it is a unit at all) plus the connectors and act names around
them. A reference mention is a *chain* of elements (``điểm a khoản 2 Điều 5``,
``§ 5 Abs. 2 Satz 1 Nr. 3``, ``khoản 1 và khoản 3 Điều 7``); each element names one
level with one or more labels (lists, ranges). Inner-first chains (vi) attach each
element to the nearest following outer one, outer-first chains (de, en) to the nearest
preceding one; elements no other element hangs under are the targets.

Resolution against the cut document: the levels a chain leaves out come from the
citing unit's ancestors (``khoản 2`` = clause 2 of this article, ``Absatz 1`` = same
§); levels that are no units (``Satz``) are dropped; a chain followed by another act's
name (``Điều 12 Luật Đất đai``, ``Art. 3 GG``, ``§ 5 des Bürgerlichen Gesetzbuchs``)
stays unresolved and keeps the act's name. Nothing here touches how units are cut.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from iucut.cut.codes import label_segment
from iucut.cut.profiles import (
    LATIN,
    LATIN_WORDS,
    ROMANCE_ORDINALS,
    SUP,
    indexed,
    roman_label,
    roman_to_int,
)
from iucut.cut.programs import regex, save_programs
from iucut.db.connector import Connection
from iucut.units import CutDocument, Unit

RANGE_MAX = 200  # a range wider than this names its ends only
AMENDED_ACT = "(the amended act)"  # an amending instruction's references name its units
SOURCE_ACT = "(the compiled source act)"  # "Điều 5 Luật này" in a compilation
OTHER_ACT = "(an act not named)"  # "Artikel 5" in a law that has no articles


@dataclass(frozen=True)
class Level:
    """One level of a profile's reference grammar (``Điều``, ``Abs.``, ``Satz`` …)."""

    kind: str  # the unit kind it names (article, clause, point …)
    rank: int  # outer levels have lower ranks
    prefix: str | None  # code segment prefix; None: not a unit (``Satz``)
    keyword: str  # regex for the keyword (singular and plural forms)
    label: str  # regex for one label
    scope: str = "local"  # "global": code hangs under the namespace
    trim: str = ""  # regex removed from a label (``b.4`` → point ``b``)
    fix: tuple[tuple[str, str], ...] = ()  # OCR look-alikes (``khoản l`` → 1)
    #: with no ancestor of an outer level to start from (a statute's sections hang under
    #: titles the grammar does not know): the unit of this label nearest the citing one
    nearest: bool = False
    #: the prefix of what the same word also names when no unit of ``prefix`` is found
    #: there: US Code ``section 106A`` is its ``§ 106A`` (``§106A``, an article of the cut)
    alias: str | None = None


@dataclass(frozen=True)
class Grammar:
    """A profile's reference grammar: levels, list/range words, act names."""

    name: str
    levels: tuple[Level, ...]
    list_sep: str  # between labels of one element and between elements of one chain
    range_sep: str  # between the two ends of a range
    glue: str  # words allowed between elements of one chain
    this: str  # "this" after a keyword: relative to the citing unit (``Điều này``)
    own_act: str  # the citing document itself (``Luật này``, ``dieses Gesetzes``)
    other_act: str  # another act's name right after a chain
    amending: str = ""  # a paragraph opening so names the amended act's units
    inner_first: bool = False  # "điểm a khoản 2 Điều 5": an element hangs under a later one
    not_before: str = ""  # a keyword right after this is no reference ("(EG) Nr. 810/2009")
    heading: str = ""  # after a keyword and label at a line's start: a heading, no reference
    quoted: str = ""  # a paragraph opening so quotes the amended act's new text
    list_of: str = ""  # "… của Nghị quyết số 254/2025/QH15, gồm:" before a list: its act
    #: a label the codes do not know is looked up in the headings' own numbering (``##
    #: D. User-Generated Content`` / ``### 4. License Grant`` for ``Section D.4``)
    by_heading: bool = False
    #: an act's name after a list binds its last mention only (en), not the whole list
    act_to_last: bool = False
    #: a paragraph opening so outside any article cites the acts it is made under
    #: (``Auf Grund des § 4 Absatz 1 …``): its references are never to this text
    enabling: str = ""
    #: an article whose title says so amends another act: every reference in it (the
    #: instructions and the new text alike) names that act's units
    amends: str = ""


_VI_POINT = r"[a-zđ]\d{0,2}(?:\.\d+)?['’]?(?![\w])"
_VI = Grammar(
    "vi",
    (
        Level(
            "article",
            50,
            "D",
            r"[Đđ]iều",
            r"(?:\d+[a-zđ]?(?:\.(?:\d+[a-zđ]?|[A-ZĐ]{1,4}))*|[IVX]+)(?![\w])",
            "global",
        ),
        Level("clause", 60, "K", r"[Kk]hoản", r"(?:\d+|l)(?![\w.]\d)(?![\w])", fix=(("l", "1"),)),
        Level("point", 70, "", r"[Đđ]iểm", _VI_POINT, trim=r"\.\d+$|['’]$"),
    ),
    list_sep=r"\s*(?:,\s*(?:và\s+|hoặc\s+)?|\s+và\s+|\s+hoặc\s+)",
    range_sep=r"\s*(?:đến|-|–)\s*",
    glue=r"(?:(?:của|tại|thuộc|các|quy định tại|gạch\s+đầu\s+dòng\s+thứ\s+\w+)\s+)*",
    this=r"\s+này(?![\w])",
    own_act=r"\s*(?:,\s*)?(?:của\s+)?(?:Bộ luật|Luật|Nghị định|Nghị quyết|"
    r"Thông tư(?: liên tịch)?|Quyết định|Pháp lệnh|Hiến pháp|Quy chế|Quy định|Điều lệ|Chỉ thị|"
    r"văn bản|Văn bản)\s+này(?![\w])",
    amending=r"[\s>#*_\-\"“']*(?:(?:\d+|[a-zđ])[.)]\**\s*|[Đđ]iều\s+\S+?\.\s*)?"
    r"(?:Sửa|Bổ sung|Bãi bỏ|Thay thế|Thay cụm từ|Thay từ|Bỏ cụm từ|Bỏ từ|Đính chính|Hủy bỏ)",
    other_act=r"\s*(?:,\s*)?(?:của\s+|tại\s+)?(?P<act>(?:Bộ\s+luật|Luật|Nghị\s+định|Nghị\s+quyết|"
    r"Thông\s+tư(?:\s+liên\s+tịch)?|Quyết\s+định|Pháp\s+lệnh|Hiến\s+pháp|Chỉ\s+thị|Công\s+ước|"
    r"Hiệp\s+định|Văn\s+bản\s+hợp\s+nhất|NQ|NĐ|QĐ|TT|TTLT)(?![\w])(?!\s+này)"
    r"(?:(?!\s+(?:và|hoặc|thì|được|quy\s+định|theo|tại)\s|\s+(?:[Đđ]iều|khoản|điểm)\s)"
    r"[^,;.:()\n]){0,80})",
    inner_first=True,
    heading=r"\.(?:[ \t]|\*|$)",
    quoted=r"[\s>*_]*[\"“]",
    list_of=r"(?:của|tại)\s+(?P<act>(?:Bộ\s+luật|Luật|Nghị\s+quyết|Nghị\s+định|Thông\s+tư|Pháp\s+lệnh)"
    r"(?!\s+này)[^:;.]{0,80}?),?\s+(?:gồm|bao\s+gồm)\s*:",
    amends=r"[\s*_]*(?:Sửa\s+đổi|Bổ\s+sung|Bãi\s+bỏ|Thay\s+thế|Đính\s+chính|Hủy\s+bỏ)[^\n]*?"
    r"(?:của|tại)\s+(?:các\s+)?(?:Bộ\s+luật|Luật|Nghị\s+định|Nghị\s+quyết|Thông\s+tư|"
    r"Quyết\s+định|Pháp\s+lệnh)(?!\s+này)(?![\w])",
)

#: German prose says ``§ 5 bis zum Ablauf``: a Latin suffix only after a hyphen (``Art.
#: 2-bis`` of Italian law); a superscript index (Polish ``art. 22¹``) as the cutter reads it.
_DE_SUFFIX = SUP + r"(?:-" + LATIN_WORDS + ")?"
_DE = Grammar(
    "de",
    (
        Level("article", 50, "§", r"§§?", r"\d+[a-z]{0,3}" + _DE_SUFFIX + r"(?![\w/])", "global"),
        Level(
            "article",
            45,  # holds §§ (``Artikel I § 1 Abs. 1``), as the cutter ranks it
            "Art",
            r"[Aa]rt\.|Artikeln?(?![\w])",
            r"(?:\d+[a-z]?" + _DE_SUFFIX + r"|[IVX]+[a-z]?)(?![\w/])",  # ``Artikel I``, ``Ia``
            "global",
        ),
        Level(
            "clause",
            60,
            "Abs",
            r"Abs\.|Absatz(?:es)?(?![\w])|Absätzen?(?![\w/])",
            r"\d+[a-z]?(?![\w/])",
        ),
        Level("sentence", 65, None, r"Satz(?:es)?(?![\w])|Sätzen?(?![\w/])", r"\d+(?![\w])"),
        Level(
            "point",
            70,
            "Nr",
            r"Nr\.|Nummer(?:n)?(?![\w])|Ziffer(?:n)?(?![\w])|Ziff\.",
            r"\d+[a-z]?(?![\w/])",
        ),
        Level(
            "subpoint",
            80,
            "",
            r"Buchstaben?(?![\w])|Buchst\.|lit\.",
            r"[a-z]{1,2}(?![\w])",
        ),
    ),
    list_sep=r"\s*(?:,\s*(?:und\s+|oder\s+)?|\s+und\s+|\s+oder\s+|\s+sowie\s+"
    r"|\s+in\s+Verbindung\s+mit\s+|\s+i\.\s*V\.\s*m\.\s+)",
    not_before=r"(?:\((?:EG|EU|EWG|Euratom|EGKS)\)|Verordnung|Richtlinie|Beschluss)\s*$",
    range_sep=r"\s*(?:bis|-|–)\s*",
    glue=r"(?:(?:des|der|dem|den|die|im|in)\s+)?",
    this=r"\s+(?:dieses|dieser|diesem)\s+(?:Paragraphen|Absatzes|Artikels|Satzes)(?![\w])",
    own_act=r"\s*(?:,\s*)?(?:dieses|dieser|diesem)\s+(?:Gesetz(?:es|buchs?|buches)?|Verordnung|"
    r"Satzung|Ordnung|Vertrag(?:es)?|Abkommens?|Regelung)(?![\w])",
    other_act=r"\s*(?:,\s*)?(?P<act>(?:des|der|dem|den)\s+(?:[a-zäöüß]+(?:en|er|es)\s+)?"
    r"(?!(?:Anlage|Anhang|Tabelle|Vorschrift)(?![\wäöüß]))"
    r"(?:[A-ZÄÖÜ][\w\-/]*|\d[\w\-/]*|\(\w+\))(?:\s+(?:[A-ZÄÖÜ\d(][\w\-/)]*|über|für|zur|zum|vom|des|der|und)){0,6}|(?:[A-ZÄÖÜ][A-Za-zÄÖÜäöü]*(?:G|V|O|B|GB|StV|Ä)|SGB\s+[IVX]+|"
    r"[A-Z]{2,}[a-z]*)(?![\w])|[A-ZÄÖÜ]{1,3}\s+v\.\s*\d[^,;()\n]{0,30})",
    enabling=r"[\s>*_]*(?:Auf\s+Grund|Aufgrund)\s",
)

#: English labels as the cutter reads them: ``D.4``, ``B(5)``, Roman, ``106A``, ``5a``,
#: ``5 bis``, a letter; an article's may be the first spelt out (``1er``, ``premier``).
_EN_NUMBER = r"\d+(?:\.\d+)*[a-zA-Z]?" + LATIN
_EN_LBL = r"(?:[A-Z](?:\.\d+)+|[A-Z]\(\d+\)|[IVXLCDM]+|" + _EN_NUMBER + r"|[A-Z])(?![\w])"
_EN_ART_LBL = (
    r"(?:[A-Z](?:\.\d+)+|[A-Z]\(\d+\)|[IVXLCDM]+|"
    + _EN_NUMBER
    + r"|[A-Z]|(?:1(?:er|re)|(?i:premier|première|primero|primo))"
    + LATIN
    + r")(?![\w])"
)
#: Schedules, annexes, appendices, exhibits: ``Schedule 2``, ``Annex IV``, ``Appendix B``.
_EN_ANNEX_LBL = r"(?:[IVXLCDM]+|\d+[A-Z]?|[A-Z]{1,2})(?![\w])"
_EN = Grammar(
    "en",
    (
        Level("schedule", 5, "Sch", r"[Ss]chedules?(?![\w])", _EN_ANNEX_LBL, "global"),
        Level("annex", 5, "Anx", r"[Aa]nnex(?:es)?(?![\w])", _EN_ANNEX_LBL, "global"),
        Level("appendix", 5, "App", r"[Aa]ppendix(?:es)?(?![\w])", _EN_ANNEX_LBL, "global"),
        Level("exhibit", 5, "Ex", r"[Ee]xhibits?(?![\w])", _EN_ANNEX_LBL, "global"),
        Level(
            "article",
            30,
            "A",
            r"[Aa]rticles?|[Aa]rt\.|[Aa]rt[ií]culos?|[Aa]rticol[oi]",
            _EN_ART_LBL,
            "global",
        ),
        Level("article", 30, "Am", r"[Aa]mendments?", _EN_LBL, "global"),
        Level("article", 30, "§", r"§§?", _EN_LBL, "global"),  # US Code sections
        Level("section", 40, "S", r"[Ss]ections?|[Ss]ec\.|SEC\.", _EN_LBL, nearest=True, alias="§"),
        Level("clause", 50, None, r"[Cc]lauses?|[Pp]aragraphs?", r"\d+|\([a-z0-9]+\)"),
    ),
    list_sep=r"\s*(?:,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+)",
    range_sep=r"\s*(?:to|through|-|–|—)\s*",
    glue=r"(?:of\s+(?:the\s+)?)?",
    this=r"\s+(?:of\s+)?this\s+(?:Article|Section|clause)(?![\w])",
    own_act=r"\s*(?:,\s*)?(?:of\s+)?(?:this|these)\s+(?:Agreement|Terms|Constitution|Act|Policy)(?![\w])",
    other_act=r"\s*(?:,\s*)?of\s+(?P<act>the\s+[A-Z][^,;.:()\n]{0,70})",
    by_heading=True,
    act_to_last=True,
)

#: French article numbers as the cutter reads them: ``L. 1234-5``, ``R. 12``, ``D. 4``,
#: ``LO 1``, ``R*12-1`` (dotted or spaced: ``R.*12-1``, ``R. *12-1``), ``1240-1``,
#: ``12 bis``, ``1er``/``premier``.
_FR_ART_LBL = (
    r"(?:(?:(?:LO|[LRDA])(?:\s?\.\s?\*?|\*)?\s?)?\d+(?:-\d+)*|1er|premier)"
    r"(?:[\s-](?:bis|ter|quater|quinquies|sexies|septies|octies|nonies|decies))?(?![\w])"
)
#: A French code's references (``l'article L. 1221-2``, ``aux articles L. 1221-1 et
#: L. 1221-2``, ``des articles 1240 à 1244``): its articles, numbered across the whole
#: code (the cutter's ``fr`` profile codes them ``AL1221-2``); a starred label written
#: dotted or spaced is read as the cutter reads it (``R.*12-1`` is ``R*12-1``).
_FR = Grammar(
    "fr",
    (
        Level(
            "article",
            30,
            "A",
            r"[Aa]rticles?(?![\w])|[Aa]rt\.",
            _FR_ART_LBL,
            "global",
            trim=r"(?<=[A-Z])\s?\.\s?(?=\*)|(?<=\*)\s",
        ),
    ),
    list_sep=r"\s*(?:,\s*(?:et\s+|ou\s+)?|\s+et\s+|\s+ou\s+)",
    range_sep=r"\s*(?:à|-|–|—)\s*",
    glue=r"(?:(?:du|de\s+la|de\s+l['’]|des|au|aux)\s+)?",
    this=r"(?!)",  # (French says "le présent article": before the keyword, not after)
    own_act=r"\s*(?:,\s*)?(?:du|de\s+la)\s+(?:présent|présente)\s+"
    r"(?:code|loi|décret|ordonnance|règlement|arrêté)(?![\w])",
    other_act=r"\s*(?:,\s*)?(?:du|de\s+la|de\s+l['’])\s+(?P<act>(?!présent|présente)"
    r"(?:[Cc]ode|[Ll]oi|[Dd]écret|[Oo]rdonnance|[Rr]èglement|[Aa]rrêté)[^,;.:()\n]{0,70})",
)

GRAMMARS: dict[str, Grammar] = {g.name: g for g in (_VI, _DE, _EN, _FR)}


@dataclass(frozen=True)
class Reference:
    """One reference found in a unit: where it is, what it names, where it points."""

    source: str  # the citing unit's code
    start: int  # character offsets in the unit's text (raw_heading + body)
    end: int
    text: str
    path: tuple[tuple[str, str], ...]  # (kind, label) from the outside in, as written
    target: str | None  # the unit code it resolves to (same document), or None
    act: str | None  # another act's name: an external reference
    relative: bool = False  # resolved against the citing unit (``khoản 2``, ``Điều này``)
    group: tuple[int, int] = (0, 0)  # the mention it is part of (``khoản 1 và khoản 3 Điều 7``)

    @property
    def external(self) -> bool:
        return self.act is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "path": [list(p) for p in self.path],
            "target": self.target,
            "act": self.act,
            "relative": self.relative,
        }


@dataclass
class _Element:
    level: Level
    labels: list[str]  # "" for "this" (``Điều này``)
    start: int
    end: int
    listed: bool = False  # joined to the element before by a list word (``und``, ``và``)


class _Compiled:
    """A grammar's regexes, compiled once."""

    def __init__(self, g: Grammar):
        self.g = g
        kws = "|".join(f"(?P<L{i}>{lv.keyword})" for i, lv in enumerate(g.levels))
        self.keyword = regex(rf"(?<![\w§])(?:{kws})")
        # where a chain can start: a keyword (the very match of ``keyword``, kept as it is
        # by the atomic group) followed by "this" or a label of its own level; the words a
        # text uses without a label (``the article``, ``section``) are passed over by the
        # search itself instead of one ``_element_at`` each. (As ``keyword`` then skipping
        # its match: no keyword match starts inside another, each being a word.)
        follows = f"(?:{g.this}|\\s*(?:{g.levels[-1].label}))"
        for i in range(len(g.levels) - 2, -1, -1):
            follows = f"(?(L{i})(?:{g.this}|\\s*(?:{g.levels[i].label}))|{follows})"
        # (led by the characters a keyword can start with: the search then passes over the
        # other characters without trying the lookbehind and every keyword at each)
        # (the lead read off the keywords alone: a match's first character is the atomic
        # group's, whatever follows it, and the parse of the whole is ~10x as long)
        head = rf"(?<![\w§])(?>{kws})"
        self.start = regex(_led(rf"{head}(?={follows})", lead_of=head))
        self.labels = _PerLevel(
            rf"\s*(?P<a>{lv.label})(?:{g.range_sep}(?:{lv.keyword})?\s*(?P<b>{lv.label}))?"
            for lv in g.levels
        )
        self.list_sep = _PerLevel(rf"{g.list_sep}(?=(?:{lv.label}))" for lv in g.levels)
        self.this = regex(g.this)
        self.glue = regex(g.glue)
        self.own_act = regex(g.own_act)
        self.other_act = regex(g.other_act)
        self.list_only = regex(g.list_sep)
        self.chain_sep = regex(rf"(?:{g.list_sep}|\s*,?\s*){g.glue}")
        self.amending = regex(g.amending) if g.amending else None
        self.not_before = regex(g.not_before) if g.not_before else None
        self.heading = regex(g.heading, re.M) if g.heading else None
        self.quoted = regex(g.quoted) if g.quoted else None
        self.list_of = regex(g.list_of) if g.list_of else None
        self.amends = regex(g.amends, re.I) if g.amends else None
        self.enabling = regex(g.enabling) if g.enabling else None
        self.prefixes = frozenset(lv.prefix for lv in g.levels if lv.prefix)
        self.plain_prefixes = {p for p in self.prefixes if not any(ch.isdigit() for ch in p)}


class _PerLevel:
    """A regex for each level of a grammar, each compiled when first asked for: a
    document's references name a few levels, and compiling the label regexes of all of
    them was most of a grammar's compile (~15 ms of English's ~27 ms, in every process
    that plans a document)."""

    __slots__ = ("_compiled", "_patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns = list(patterns)
        self._compiled: list[re.Pattern[str] | None] = [None] * len(self._patterns)

    def __len__(self) -> int:
        return len(self._patterns)

    def __getitem__(self, i: int) -> re.Pattern[str]:
        found = self._compiled[i]
        if found is None:  # (two threads may both compile it: the same regex either way)
            found = self._compiled[i] = regex(self._patterns[i])
        return found


_COMPILED: dict[str, _Compiled] = {}


def _led(pattern: str, lead_of: str | None = None) -> str:
    """``pattern`` led by a lookahead for the characters its matches can start with (when
    they are sure: :func:`_first_chars`): the same matches, but a search passes over the
    other characters without trying the pattern at each (2-3x faster on the corpora).
    ``lead_of``: a start of ``pattern`` its matches' first character is read off (one
    sure to consume it: else no lead is found, and the pattern is not led)."""
    lead = _first_chars(pattern if lead_of is None else lead_of)
    return f"(?=[{lead}])(?:{pattern})" if lead else pattern


def _first_chars(pattern: str) -> str | None:
    """The characters a match of ``pattern`` can start with, escaped for a character
    class, read off its parse; None when that is not plain (a class such as ``\\w``, a
    flag, a part that can be empty): a search is only led by it when it is sure."""
    sre: Any = importlib.import_module("re._parser")  # (the parse ``re`` compiles)
    chars: set[str] = set()

    def first(items: Any) -> bool:  # whether a character is sure to be consumed
        for op, av in items:
            if op is sre.LITERAL:
                chars.add(chr(av))
                return True
            if op is sre.IN:
                for o, a in av:
                    if o is sre.LITERAL:
                        chars.add(chr(a))
                    elif o is sre.RANGE and a[1] - a[0] < 64:
                        chars.update(map(chr, range(a[0], a[1] + 1)))
                    else:
                        raise ValueError(o)  # (a negated class, ``\w``, a wide range)
                return True
            if op is sre.BRANCH:
                if not all([first(alt) for alt in av[1]]):
                    raise ValueError(op)
                return True
            if op in (sre.SUBPATTERN, sre.ATOMIC_GROUP):
                inner = av if op is sre.ATOMIC_GROUP else av[3]
                if op is sre.SUBPATTERN and (av[1] or av[2]):
                    raise ValueError(op)  # (a flag: ``(?i:…)``)
                if first(inner):
                    return True
            elif op not in (sre.ASSERT, sre.ASSERT_NOT, sre.AT):
                raise ValueError(op)
        return False

    try:
        parsed = sre.parse(pattern)
        if parsed.state.flags & ~re.U or not first(parsed):  # (a global flag: none)
            return None
    except ValueError:
        return None
    return "".join(re.escape(ch) for ch in sorted(chars))


def grammar(profile: str) -> _Compiled:
    found = _COMPILED.get(profile)
    if found is None:
        found = _COMPILED[profile] = _Compiled(GRAMMARS.get(profile, _EN))
    return found


# --------------------------------------------------------------------------------------
# Finding chains
# --------------------------------------------------------------------------------------


def _element_at(c: _Compiled, text: str, pos: int) -> _Element | None:
    m = c.keyword.match(text, pos)
    if m is None:
        return None
    i = int(m.lastgroup[1:])  # type: ignore[index]
    level = c.g.levels[i]
    t = c.this.match(text, m.end())
    if t is not None:
        return _Element(level, [""], m.start(), t.end())
    labels: list[str] = []
    end = m.end()
    lm = c.labels[i].match(text, end)
    if lm is None:
        return None
    while lm is not None:
        labels.extend(_clean(level, x) for x in _expand(lm.group("a"), lm.group("b")))
        end = lm.end()
        sep = c.list_sep[i].match(text, end)
        if sep is None:
            break
        nxt = c.labels[i].match(text, sep.end())
        if nxt is None:
            break
        lm = nxt
    return _Element(level, labels, m.start(), end)


def _clean(level: Level, label: str) -> str:
    for wrong, right in level.fix:
        if label == wrong:
            return right
    if not (label.isascii() and label.isdigit()):  # (a plain number, most: none of these)
        if label[:1] in "IVXLCDM" and label.isalpha():
            # "Article IV" is coded A4, "Artikel Ia" Art1a (as the cutter does)
            roman = roman_label(label)
            if roman != label:
                return roman
        first = _FIRST.match(label)  # "article premier", "article 1er bis": 1, 1 bis
        if first is not None:
            label = "1" + label[first.end() :]
        label = indexed(label)  # "art. 22¹" is article 22^1
    return re.sub(level.trim, "", label) if level.trim else label


_NUM = re.compile(r"(\d+)([a-zđ]{0,3})$")
_FIRST = re.compile("1er|1re|" + "|".join(ROMANCE_ORDINALS) + r"(?![\w])", re.I)


def _expand(a: str, b: str | None) -> list[str]:
    """A range's labels: ``10 đến 15`` → 10 … 15; ``73 bis 73c`` → 73, 73c (the ends)."""
    if b is None:
        return [a]
    ma, mb = _NUM.match(a), _NUM.match(b)
    if ma and mb and not ma.group(2) and not mb.group(2):
        lo, hi = int(ma.group(1)), int(mb.group(1))
        if lo < hi and hi - lo <= RANGE_MAX:
            return [str(n) for n in range(lo, hi + 1)]
    if len(a) == 1 and len(b) == 1 and a.isalpha() and b.isalpha() and a < b:
        return [chr(n) for n in range(ord(a), ord(b) + 1)]
    ta, tb = _TAIL.match(a), _TAIL.match(b)
    if ta and tb and ta.group(1) == tb.group(1):  # "D.4 — D.7": D.4 … D.7
        lo, hi = int(ta.group(2)), int(tb.group(2))
        if lo < hi and hi - lo <= RANGE_MAX:
            return [f"{ta.group(1)}{n}" for n in range(lo, hi + 1)]
    return [a, b]


_TAIL = re.compile(r"(.*?\.)(\d+)$")


@dataclass
class _Chain:
    elements: list[_Element]
    start: int
    end: int
    act: str | None
    own: bool  # followed by "this act"


def chains(profile: str, text: str, start: int = 0) -> list[_Chain]:
    """The reference chains in ``text`` from ``start``."""
    c = grammar(profile)
    out: list[_Chain] = []
    pos = start
    while True:
        m = c.start.search(text, pos)
        if m is None:
            return out
        first = _element_at(c, text, m.start())
        if c.not_before is not None and c.not_before.search(
            text, max(0, m.start() - 40), m.start()
        ):
            first = None
        if first is not None and c.heading is not None and c.heading.match(text, first.end):
            line = text.rfind("\n", 0, first.start) + 1
            if not text[line : first.start].strip(" \t>#*_"):
                first = None  # "Điều 5. Title" opening a line: a heading, not a reference
        if first is None:
            pos = m.end()
            continue
        elements = [first]
        end = first.end
        while True:
            sep = c.chain_sep.match(text, end)
            nxt = _element_at(c, text, sep.end()) if sep is not None else None
            if nxt is None or sep is None:
                break
            nxt.listed = c.list_only.match(text, end) is not None
            elements.append(nxt)
            end = nxt.end
        act: str | None = None
        own = False
        om = c.own_act.match(text, end)
        if om is not None:
            own, end = True, om.end()
        else:
            am = c.other_act.match(text, end)
            if am is not None:
                act = " ".join(am.group("act").split()).rstrip(" -–")
                end = am.end()
        if (act is not None or own) and not c.g.act_to_last:
            # "khoản 2 Điều 14; khoản 1 Điều 15 Nghị định số …": one act for the list
            at = first.start
            for prev in reversed(out):
                if prev.act is not None or prev.own:
                    break
                if not re.fullmatch(r"\s*;\s*", text[prev.end : at]):
                    break
                prev.act, prev.own = act, own
                at = prev.start
        out.append(_Chain(elements, first.start, end, act, own))
        pos = end


# --------------------------------------------------------------------------------------
# Resolving
# --------------------------------------------------------------------------------------


def _targets(
    chain: _Chain, inner_first: bool
) -> list[tuple[list[tuple[Level, str]], int, int, int, int]]:
    """Each target of a chain: its (level, label) from the outside in, its span (the
    elements naming it) and its group's span (the outermost written element with every
    element under it: one mention, ``khoản 1 và khoản 3 Điều 7``)."""
    els = chain.elements
    if len(els) == 1:  # (most chains: one element, each label a target of its own)
        e = els[0]
        return [([(e.level, label)], e.start, e.end, e.start, e.end) for label in e.labels]
    parent: list[int | None] = [None] * len(els)
    for i, e in enumerate(els):
        before = range(i - 1, -1, -1)
        after = range(i + 1, len(els))
        fallback = (
            (
                range(i + 1, min(i + 2, len(els)))
                if i + 1 < len(els) and not els[i + 1].listed
                else range(0)
            )
            if not inner_first
            else (range(i - 1, i - 2, -1) if i > 0 and not e.listed else range(0))
        )
        for order in (after, fallback) if inner_first else (before, fallback):
            for j in order:
                if els[j].level.rank < e.level.rank:
                    parent[i] = j
                    break
                sibling_parent = parent[j] if j < i else None
                same = els[j].level.rank == e.level.rank
                if same and sibling_parent is not None and sibling_parent < j:
                    # a sibling of the same level before it: share its parent
                    parent[i] = sibling_parent
                    break
            if parent[i] is not None:
                break
    root = list(range(len(els)))
    for i in range(len(els)):
        p = parent[i]
        while p is not None:
            root[i] = p
            p = parent[p]
    group: dict[int, tuple[int, int]] = {}
    for i, e in enumerate(els):
        lo, hi = group.get(root[i], (e.start, e.end))
        group[root[i]] = (min(lo, e.start), max(hi, e.end))
    # the label of a list that the inner elements hang under: the nearest one
    attach = {p: (0 if p > i else -1) for i, p in enumerate(parent) if p is not None}
    out = []
    for i, e in enumerate(els):
        outer = []
        p = parent[i]
        lo, hi = e.start, e.end
        while p is not None:
            lo, hi = min(lo, els[p].start), max(hi, els[p].end)
            outer.append((els[p].level, els[p].labels[attach[p]]))
            p = parent[p]
        labels = list(e.labels)
        if i in attach:
            del labels[attach[i]]  # named through the elements under it
        g_lo, g_hi = group[root[i]]
        for label in labels:
            out.append(([*outer[::-1], (e.level, label)], lo, hi, g_lo, g_hi))
    return out


def _own_label(unit: Unit, c: _Compiled) -> int:
    """Where the citing unit's own heading label ends (0 if it has none): the heading's
    first element when it names the unit's own label (``## § 5``, not ``(4) § 370``)."""
    if unit.label is None or not unit.raw_heading:
        return 0
    m = _OPENING.match(unit.raw_heading)
    pos = m.end() if m else 0
    el = _element_at(c, unit.raw_heading, pos)
    if el is None:
        return 0
    first, own = el.labels[0], unit.label
    # (its label as written, without a suffix, or the same segment: ``L. 1221-1``,
    # ``R.*12-1`` read as the cutter reads them)
    if first != own.split("-")[0] and label_segment("", first) != label_segment("", own):
        return 0
    return el.end


_OPENING = re.compile(r"[#>*\s_]*(?:\(\S+\)\s*)?")


class Resolver:
    """Resolves references of one cut document to its unit codes."""

    def __init__(self, doc: CutDocument, profile: str):
        self.doc = doc
        self.profile = profile
        self.units = doc.by_code()
        self.c = grammar(profile)
        self.ns = doc.namespace
        self.children: dict[str, set[str]] = {}
        labels = [u.label for u in doc.units if u.kind == "article" and u.label]
        self.compiled = bool(labels) and all("." in label for label in labels)
        #: the codes of each global segment (``D3``) wherever the cut put it: under a
        #: part or chapter when the label repeats or the articles hang there
        self.placed: dict[str, list[str]] = {}
        segments = set()
        for u in doc.units:
            if u.parent_code is not None:
                self.children.setdefault(u.parent_code, set()).add(u.kind)
            seg = u.code.rsplit("/", 1)[-1]
            self.placed.setdefault(seg, []).append(u.code)
            if u.kind == "article":
                segments.add(seg)
        self.prefixes = _numbered(self.c, segments)
        self.ranks: dict[str, int | None] = {}  # (``_rank`` of each unit asked, by code)
        self.lineage: dict[str, tuple[Unit, ...]] = {}  # (``ancestors`` of each, by code)
        self.amends: dict[str, bool] = {}  # (whether an article amends, by its code)
        self.numbered: dict[str, list[Unit]] | None = None  # (by_heading, made when asked)

    def ancestors(self, unit: Unit) -> tuple[Unit, ...]:
        """The unit and its ancestors, innermost first (made once a unit: every chain of
        the unit asks, some several times)."""
        found = self.lineage.get(unit.code)
        if found is None or found[0] is not unit:
            out = []
            u: Unit | None = unit
            while u is not None:
                out.append(u)
                u = self.units.get(u.parent_code) if u.parent_code else None
            found = self.lineage[unit.code] = tuple(out)
        return found

    def references(self, unit: Unit) -> list[Reference]:
        text = unit.raw_heading + unit.body
        out: list[Reference] = []
        amends = self._in_amending_article(unit)
        for chain in chains(self.profile, text, _own_label(unit, self.c)):
            if (amends and chain.act is None) or self._quoted(text, chain.start):
                chain.act, chain.own = AMENDED_ACT, False  # its "Nghị định này" too
            elif chain.act is None and not chain.own:
                if self._amending(text, chain.start):
                    chain.act = AMENDED_ACT
                elif self._enabling(unit, text, chain.start):
                    chain.act = OTHER_ACT
                else:
                    chain.act = self._list_of(text, chain.start) or self._listed_under(unit)
            targets = _targets(chain, self.c.g.inner_first)
            last = max((t[3] for t in targets), default=0)
            for path, start, end, g_lo, g_hi in targets:
                named = chain
                if self.c.g.act_to_last and g_lo != last and (chain.act or chain.own):
                    # "Article I, Section 8 and Article 5 of the Treaty": the act's name
                    # binds the last mention only
                    named = dataclasses.replace(chain, act=None, own=False)
                elif chain.act is not None or chain.own:
                    end = chain.end
                out.append(self._reference(unit, text, named, path, start, end, (g_lo, g_hi)))
        return out

    def _in_amending_article(self, unit: Unit) -> bool:
        """Whether the unit is (in) an article whose title amends another act (``Điều 3.
        Sửa đổi, bổ sung một số điều của Nghị định số 137/2020/NĐ-CP``)."""
        if self.c.amends is None:
            return False
        for a in self.ancestors(unit):
            if a.kind == "article":
                if a.code not in self.amends:
                    self.amends[a.code] = self._amends(a)
                return self.amends[a.code]
        return False

    def _amends(self, a: Unit) -> bool:
        """Whether article ``a``'s title amends another act."""
        assert self.c.amends is not None
        title = a.title
        if a.label and title.startswith(a.label):
            title = title[len(a.label) :]
        head = self.c.keyword.match(title.lstrip(" #*_"))
        if head is not None:  # "Điều 3. Sửa đổi …": past the article's own label
            title = title.lstrip(" #*_")[head.end() :].lstrip(" 0123456789.:")
        return self.c.amends.match(title.lstrip(" .:-–")) is not None

    def _list_of(self, text: str, at: int) -> str | None:
        """The act a list opens with (``… của Nghị quyết số 254/2025/QH15, gồm: …``), when
        the chain is in that list (no sentence ends between)."""
        if self.c.list_of is None:
            return None
        para = max(text.rfind("\n\n", 0, at), 0)
        found = None
        for m in self.c.list_of.finditer(text, para, at):
            found = m
        if found is None or "." in text[found.end() : at].replace("\n", " ").rstrip():
            return None
        return " ".join(found.group("act").split())

    def _listed_under(self, unit: Unit) -> str | None:
        """The act a list opens with when the unit is an item of it: its parent's text
        ends with the opening (``… của Luật Quản lý thuế gồm:``, items ``a) Khoản 1 Điều
        2 …`` cut as units of their own), or its grandparent's, through openings."""
        if self.c.list_of is None:
            return None
        parent = self.units.get(unit.parent_code) if unit.parent_code else None
        while parent is not None and parent.kind != "document":
            own = (parent.raw_heading + parent.body).rstrip(" \t\r\n*_")
            if not own.endswith(":"):
                return None
            found = None
            for m in self.c.list_of.finditer(own, max(0, len(own) - 400)):
                found = m
            if found is not None and found.end() == len(own):
                return " ".join(found.group("act").split())
            parent = self.units.get(parent.parent_code) if parent.parent_code else None
        return None

    def _enabling(self, unit: Unit, text: str, at: int) -> bool:
        """Whether ``at`` is in a paragraph outside any article that cites the acts the
        text is made under (``Auf Grund des § 4 Absatz 1 … verordnet``)."""
        if self.c.enabling is None or any(a.kind == "article" for a in self.ancestors(unit)):
            return False
        # from any paragraph opening so up to ``at`` (its list of acts may be paragraphs)
        starts = [0] + [m.end() for m in _PARAGRAPH.finditer(text, 0, at)]
        return any(self.c.enabling.match(text, p) for p in starts if p < at)

    def _quoted(self, text: str, at: int) -> bool:
        """Whether the paragraph holding ``at`` opens with a quote: an amended act's text."""
        if self.c.quoted is None:
            return False
        para = max(text.rfind("\n\n", 0, at), text.rfind("\n \n", 0, at))
        return self.c.quoted.match(text, para + 1 if para >= 0 else 0) is not None

    def _amending(self, text: str, at: int) -> bool:
        """Whether the paragraph holding ``at`` is an amending instruction (``Sửa đổi,
        bổ sung khoản 1 Điều 5 như sau:``): its references name the amended act's units."""
        if self.c.amending is None:
            return False
        para = max(text.rfind("\n\n", 0, at), text.rfind("\n \n", 0, at))
        para = para + 1 if para >= 0 else 0
        if ":" in text[para:at]:
            return False  # past "như sau:": the new text itself
        return self.c.amending.match(text, para) is not None

    def _reference(
        self,
        unit: Unit,
        text: str,
        chain: _Chain,
        path: list[tuple[Level, str]],
        start: int,
        end: int,
        group: tuple[int, int],
    ) -> Reference:
        written = tuple((lv.kind, label) for lv, label in path)
        if chain.act is not None:
            return Reference(
                unit.code, start, end, text[start:end], written, None, chain.act, group=group
            )
        relative = path[0][0].scope != "global" or any(label == "" for _, label in path)
        target = self._resolve(unit, path)
        if target is None and self.c.g.by_heading:
            target = self._by_heading(unit, path)
        top, label = path[0]
        if target is None and top.scope == "global" and label:
            if self.compiled:
                # a compilation (articles 9.1.LQ.40 …) has no article N: the source's;
                # a compiled article not here is in another topic of the compilation
                act = SOURCE_ACT if "." not in label else OTHER_ACT
                return Reference(
                    unit.code, start, end, text[start:end], written, None, act, group=group
                )
            if top.prefix not in self.prefixes:
                # "Artikel 5" in a law of §§: an act the text leaves unnamed (EU law)
                return Reference(
                    unit.code, start, end, text[start:end], written, None, OTHER_ACT, group=group
                )
        return Reference(
            unit.code,
            start,
            end,
            text[start:end],
            written,
            target,
            None,
            relative=relative,
            group=group,
        )

    def _resolve(self, unit: Unit, path: list[tuple[Level, str]]) -> str | None:
        """The code a path names: missing outer levels from the citing unit's ancestors."""
        top, top_label = path[0]
        code = self.ns
        if top.scope != "global" or top_label == "":
            # relative: under the nearest ancestor of a level outside the chain's first
            # (``khoản 2`` → this article), or that level itself (``Điều này``)
            base = None
            for a in self.ancestors(unit):
                rank = self._rank(a)
                if a.kind == "document":
                    break
                if rank is not None and (rank < top.rank or (top_label == "" and rank == top.rank)):
                    base = a
                    break
            if base is None and top.prefix is None:
                base = unit  # "Satz 1" in a unit of no numbered paragraph: its own text
            if base is None:
                # no ancestor of an outer level (``Section 101`` of a statute whose
                # sections hang under titles): the unit of that label nearest the citing one
                return self._nearest(unit, path) if top.nearest and top_label else None
            code = base.code
            if top_label == "":
                path = path[1:]
        for lv, label in path:
            if lv.prefix is None:
                continue  # not a unit (Satz): the reference names a part of its holder
            if label == "":
                return None
            seg = label_segment(lv.prefix, label)
            nxt = f"{self.ns}/{seg}" if lv.scope == "global" else f"{code}/{seg}"
            if lv.scope == "global" and code != self.ns:
                # under a unit the chain named (``Artikel I § 1``): that unit's own, never
                # one elsewhere; a unit holding none of its kind is not cut that finely
                # (``Artikel 2 § 5`` of an amending article: a part of its text)
                below = self._below(code, seg)
                if below is None:
                    return None if self._has_children(code, lv.kind) else code
                nxt = below
            if nxt not in self.units and lv.scope == "global":
                nxt = self._placed(unit, seg) or nxt
            if nxt not in self.units and lv.alias is not None:
                nxt = self._placed(unit, label_segment(lv.alias, label)) or nxt
            if nxt not in self.units:
                if lv.scope != "global" and not self._has_children(code, lv.kind):
                    # not cut that finely: the reference names a part of this unit's text
                    return code
                return None
            code = nxt
        return code

    def _nearest(self, unit: Unit, path: list[tuple[Level, str]]) -> str | None:
        """A path of local levels with no ancestor to start from: its first label's unit
        nearest the citing unit (``Section 101`` → ``T1/S101``), or the unit its alias
        names (US Code ``section 106A`` → ``§106A``); the rest of the path under it."""
        top, label = path[0]
        if top.prefix is None:
            return None
        code = self._placed(unit, label_segment(top.prefix, label))
        if code is None and top.alias is not None:
            code = self._placed(unit, label_segment(top.alias, label))
        if code is None:
            return None
        for lv, inner in path[1:]:
            if lv.prefix is None:
                continue
            if inner == "":
                return None
            nxt = f"{code}/{label_segment(lv.prefix, inner)}"
            if nxt not in self.units:
                return code if not self._has_children(code, lv.kind) else None
            code = nxt
        return code

    def _by_heading(self, unit: Unit, path: list[tuple[Level, str]]) -> str | None:
        """The unit a path names through the headings' own numbering: ``Section D.4`` is
        the ``4.`` heading under the ``D.`` heading, ``Section B(5)`` the ``5.`` under
        ``B.`` (the outermost the shallowest, then the nearest to the citing unit)."""
        parts = [p for lv, label in path if lv.prefix for p in _LABEL_PARTS.findall(label)]
        if not parts or any(label == "" for _, label in path):
            return None
        if self.numbered is None:
            self.numbered = {}
            for u in self.doc.units:
                m = _NUMBERED.match(u.raw_heading) if u.raw_heading else None
                if m is not None:
                    self.numbered.setdefault(_norm(m.group(1)), []).append(u)
        found = self.numbered.get(_norm(parts[0]), [])
        if not found:
            return None
        top = min(u.depth for u in found)
        found = [u for u in found if u.depth == top]
        if len(found) > 1:
            best = self._placed_among(unit, [u.code for u in found])
            found = [u for u in found if u.code == best]
        code = found[0].code
        for part in parts[1:]:
            kids = [u for u in self.numbered.get(_norm(part), []) if u.parent_code == code]
            if len(kids) != 1:
                return None
            code = kids[0].code
        return code

    def _rank(self, unit: Unit) -> int | None:
        """The rank of the level that names a unit: of its code's prefix (``Art1`` an
        Artikel, ``§1`` a Paragraph), else of the first level of its kind."""
        if unit.code in self.ranks:
            return self.ranks[unit.code]
        rank = self.ranks[unit.code] = self._rank_of(unit)
        return rank

    def _rank_of(self, unit: Unit) -> int | None:
        seg = unit.code.rsplit("/", 1)[-1]
        found = [
            lv
            for lv in self.c.g.levels
            if lv.kind == unit.kind
            and lv.prefix
            and seg.startswith(lv.prefix)
            and seg[len(lv.prefix) : len(lv.prefix) + 1].isdigit()
        ]
        if found:
            return max(found, key=lambda lv: len(lv.prefix or "")).rank
        return _rank(self.c.g, unit.kind)

    def _below(self, code: str, seg: str) -> str | None:
        """The unit of document-wide segment ``seg`` inside unit ``code`` (qualified by it,
        ``Art1/§1``, or not, ``§2`` under ``Art1``), the first in the text."""
        for found in self.placed.get(seg, []):
            u: Unit | None = self.units.get(found)
            while u is not None and u.parent_code is not None:
                if u.parent_code == code:
                    return found
                u = self.units.get(u.parent_code)
        return None

    def _placed(self, unit: Unit, seg: str) -> str | None:
        """The unit of segment ``seg`` (``D3``) not at the namespace's top: the one
        sharing the most of the citing unit's code (its part or chapter), if one does."""
        found = self.placed.get(seg, [])
        if len(found) < 2:
            return found[0] if found else None
        return self._placed_among(unit, found)

    def _placed_among(self, unit: Unit, found: list[str]) -> str:
        """Of several units, the one nearest the citing unit: the deepest common ancestor
        (its part or chapter); between equals the first in the text (the main text,
        before a compilation's or an annex's copy)."""
        mine = {a.code: a.depth for a in self.ancestors(unit)}

        def shared(code: str) -> int:
            u: Unit | None = self.units.get(code)
            while u is not None:
                if u.code in mine:
                    return mine[u.code]
                u = self.units.get(u.parent_code) if u.parent_code else None
            return -1

        best = max(shared(c) for c in found)
        return next(c for c in found if shared(c) == best)

    def _has_children(self, code: str, kind: str) -> bool:
        kids = self.children.get(code)
        return kids is not None and kind in kids


_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_LABEL_PARTS = re.compile(r"[^.()\s]+")
#: a heading's own number: "## D. User-Generated Content", "### 4. License", "## IV."
_NUMBERED = re.compile(
    r"[#\s*_]*(?:(?:Article|Section|Part|Chapter|Amendment)\s+)?([A-Z]|[IVXLC]+|\d+)[.):]\s",
    re.I,
)


def _numbered(c: _Compiled, segments: Collection[str]) -> set[str]:
    """The grammar's prefixes some segment is made of, then a number (``A4`` is of ``A``,
    not of ``Am``): of a prefix without digits, the segment's head before its first digit."""
    heads = set()
    for g in segments:
        for i, ch in enumerate(g):
            if ch.isdigit():
                heads.add(g[:i])
                break
    found = c.plain_prefixes & heads
    for p in c.prefixes - c.plain_prefixes:
        if any(g.startswith(p) and g[len(p) : len(p) + 1].isdigit() for g in segments):
            found.add(p)
    return found


def _norm(label: str) -> str:
    """One spelling for comparing labels: roman numerals as numbers (as ``_clean``)."""
    if label.isupper() and label.isalpha():
        value = roman_to_int(label)
        if value is not None:
            return str(value)
    return label


def _rank(g: Grammar, kind: str) -> int | None:
    for lv in g.levels:
        if lv.kind == kind and lv.prefix is not None:
            return lv.rank
    return None


_PREFIX_PROFILE = (("D", "vi"), ("§", "de"), ("Art", "de"), ("A", "en"), ("Am", "en"))


@functools.cache
def _keywords() -> dict[str, re.Pattern[str]]:
    """Each profile's keywords, for a text with neither a profile nor articles to tell it
    (compiled when first needed: most documents say their profile)."""
    return {
        "vi": re.compile(_led(r"\b[Đđ]iều\s+\d|\bkhoản\s+\d")),
        "de": re.compile(_led(r"§\s*\d|\bAbs(?:atz|\.)\s*\d")),
        "en": re.compile(_led(r"\b(?:Article|Section|Amendment)\s+[\dIVX]")),
    }


def profile_of(doc: CutDocument) -> str:
    """The profile a document was cut with: stored on it (when the cut records it), its
    front matter's ``iu_profile``, else read off its article codes (``D`` vi, ``§`` de),
    else the profile whose keywords its text uses most."""
    given = getattr(doc, "profile", None) or doc.front_matter.get("iu_profile")
    chosen = getattr(doc, "profile_source", None) in ("given", "front matter", "configuration")
    articles = any(u.kind == "article" and u.label for u in doc.units)
    if isinstance(given, str) and given in GRAMMARS and (chosen or articles):
        return given  # (a detected profile of a text without articles says nothing)
    counts: dict[str, int] = {}
    for u in doc.units:
        if u.kind == "article" and u.label:
            seg = u.code.rsplit("/", 1)[-1]
            for prefix, name in _PREFIX_PROFILE:
                if seg.startswith(prefix) and seg[len(prefix) : len(prefix) + 1].isdigit():
                    counts[name] = counts.get(name, 0) + 1
                    break
    if not counts:
        sample = "".join(u.raw_heading + u.body for u in doc.units[:400])[:200_000]
        counts = {name: len(rx.findall(sample)) for name, rx in _keywords().items()}
    best = max(counts, key=lambda k: counts[k]) if counts else "en"
    return best if counts.get(best) else "en"


def document_references(doc: CutDocument, profile: str | None = None) -> dict[str, list[Reference]]:
    """Every unit's references, by the citing unit's code (units without any left out)."""
    r = Resolver(doc, profile or profile_of(doc))
    out: dict[str, list[Reference]] = {}
    for u in doc.units:
        refs = r.references(u)
        if refs:
            out[u.code] = refs
    save_programs()  # (the grammar's regexes compiled here, kept for the next process)
    return out


def references_payload(refs: Mapping[str, Sequence[Reference]]) -> list[dict[str, Any]]:
    """The references as rows for ``fn_iu_set_references`` (one per reference)."""
    rows = []
    for code, found in refs.items():
        for i, r in enumerate(found, 1):
            rows.append(
                {
                    "code": code,
                    "ordinal": i,
                    "char_start": r.start,
                    "char_end": r.end,
                    "text": r.text,
                    "target_code": r.target,
                    "act": r.act,
                    "relative": r.relative,
                }
            )
    return rows


# --------------------------------------------------------------------------------------
# Reading stored references
# --------------------------------------------------------------------------------------


def read_references(
    conn: Connection, code: str, *, cited_by: bool = False, version: int | None = None
) -> list[dict[str, Any]]:
    """The stored references of unit ``code`` (its current version, or ``version``), or
    with ``cited_by`` those of active units that point at it. ``version`` is the hook
    for point-in-time reads: the version current at that point."""
    from iucut.browse import no_unit
    from iucut.distributed import on_cluster

    suffix = "_distributed" if on_cluster(conn) else ""
    if cited_by:
        rows = conn.query("unit_cited_by" + suffix, code=code).fetchall()
    else:
        rows = conn.query("unit_references" + suffix, code=code, version=version).fetchall()
    if not rows and conn.query("unit_show", code=code).fetchone() is None:
        raise no_unit(conn, code)
    return [dict(r) for r in rows]
