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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from iucut.cut.codes import label_segment
from iucut.db.connector import Connection
from iucut.units import CutDocument, Unit

RANGE_MAX = 200  # a range wider than this names its ends only


@dataclass(frozen=True)
class Level:
    """One level of a profile's reference grammar (``Điều``, ``Abs.``, ``Satz`` …)."""

    kind: str  # the unit kind it names (article, clause, point …)
    rank: int  # outer levels have lower ranks
    prefix: str | None  # code segment prefix; None: not a unit (``Satz``)
    keyword: str  # regex for the keyword (singular and plural forms)
    label: str  # regex for one label
    scope: str = "local"  # "global": code hangs under the namespace


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
    skip_prefix: str = ""  # a keyword preceded by this is no reference


_VI_POINT = r"[a-zđ]\d{0,2}(?![\w])"
_VI = Grammar(
    "vi",
    (
        Level(
            "article",
            50,
            "D",
            r"[Đđ]iều",
            r"\d+[a-zđ]?(?:\.(?:\d+[a-zđ]?|[A-ZĐ]{1,4}))*(?![\w])",
            "global",
        ),
        Level("clause", 60, "K", r"[Kk]hoản", r"\d+(?![\w.]\d)(?![\w])"),
        Level("point", 70, "", r"[Đđ]iểm", _VI_POINT),
    ),
    list_sep=r"\s*(?:,\s*(?:và\s+|hoặc\s+)?|\s+và\s+|\s+hoặc\s+|;\s*)",
    range_sep=r"\s*(?:đến|-|–)\s*",
    glue=r"\s*(?:,\s*)?(?:của\s+|tại\s+|thuộc\s+)?(?:các\s+)?",
    this=r"\s+này(?![\w])",
    own_act=r"\s*(?:,\s*)?(?:của\s+)?(?:Bộ luật|Luật|Nghị định|Nghị quyết|"
    r"Thông tư(?: liên tịch)?|Quyết định|Pháp lệnh|Hiến pháp|Quy chế|Quy định|Điều lệ|Chỉ thị|"
    r"văn bản|Văn bản)\s+này(?![\w])",
    other_act=r"\s*(?:,\s*)?(?:của\s+|tại\s+)?(?P<act>(?:Bộ luật|Luật|Nghị định|Nghị quyết|"
    r"Thông tư(?: liên tịch)?|Quyết định|Pháp lệnh|Hiến pháp|Chỉ thị|Công ước|Hiệp định|"
    r"Văn bản hợp nhất|NQ|NĐ|QĐ|TT|TTLT)(?![\w])[^,;.:()\n]{0,80})",
)

_DE = Grammar(
    "de",
    (
        Level("article", 50, "§", r"§§?", r"\d+[a-z]{0,3}(?![\w])", "global"),
        Level("article", 50, "Art", r"Art\.|Artikeln?(?![\w])", r"\d+[a-z]?(?![\w])", "global"),
        Level(
            "clause",
            60,
            "Abs",
            r"Abs\.|Absatz(?:es)?(?![\w])|Absätzen?(?![\w])",
            r"\d+[a-z]?(?![\w])",
        ),
        Level("sentence", 65, None, r"Satz(?:es)?(?![\w])|Sätzen?(?![\w])", r"\d+(?![\w])"),
        Level(
            "point",
            70,
            "Nr",
            r"Nr\.|Nummer(?:n)?(?![\w])|Ziffer(?:n)?(?![\w])|Ziff\.",
            r"\d+[a-z]?(?![\w])",
        ),
        Level(
            "subpoint",
            80,
            "",
            r"Buchstaben?(?![\w])|Buchst\.|lit\.",
            r"[a-z]{1,2}(?![\w])",
        ),
    ),
    list_sep=r"\s*(?:,\s*(?:und\s+|oder\s+)?|\s+und\s+|\s+oder\s+|\s+sowie\s+)",
    range_sep=r"\s*(?:bis|-|–)\s*",
    glue=r"\s*(?:,\s*)?(?:des\s+|der\s+|im\s+|in\s+)?",
    this=r"\s+(?:dieses|dieser|diesem)\s+(?:Paragraphen|Absatzes|Artikels|Satzes)(?![\w])",
    own_act=r"\s*(?:,\s*)?(?:dieses|dieser|diesem)\s+(?:Gesetz(?:es|buchs?|buches)?|Verordnung|"
    r"Satzung|Ordnung|Vertrag(?:es)?|Abkommens?|Regelung)(?![\w])",
    other_act=r"\s*(?:,\s*)?(?P<act>(?:des|der|dem|den)\s+(?!Anlage|Anhang|Tabelle|Vorschrift)"
    r"(?:[A-ZÄÖÜ][\w\-/]*|\d[\w\-/]*|\(\w+\))(?:\s+(?:[A-ZÄÖÜ\d(][\w\-/)]*|über|für|zur|zum|vom|des|der|und)){0,6}|(?:[A-ZÄÖÜ][A-Za-zÄÖÜäöü]*(?:G|V|O|B|GB|StV|Ä)|SGB\s+[IVX]+|"
    r"[A-Z]{2,}[a-z]*)(?![\w])|[A-ZÄÖÜ]{1,3}\s+v\.\s*\d[^,;()\n]{0,30})",
)

_EN_LBL = r"(?:[IVXLCDM]+|\d+(?:\.\d+)*[a-z]?|[A-Z](?:\.\d+)*)(?![\w])"
_EN = Grammar(
    "en",
    (
        Level("article", 30, "A", r"[Aa]rticles?|[Aa]rt\.", _EN_LBL, "global"),
        Level("article", 30, "Am", r"[Aa]mendments?", _EN_LBL, "global"),
        Level("section", 40, "S", r"[Ss]ections?|[Ss]ec\.|§§?", _EN_LBL),
        Level("clause", 50, None, r"[Cc]lauses?|[Pp]aragraphs?", r"\d+|\([a-z0-9]+\)"),
    ),
    list_sep=r"\s*(?:,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+)",
    range_sep=r"\s*(?:to|through|-|–)\s*",
    glue=r"\s*(?:,\s*)?(?:of\s+(?:the\s+)?)?",
    this=r"\s+(?:of\s+)?this\s+(?:Article|Section|clause)(?![\w])",
    own_act=r"\s*(?:,\s*)?(?:of\s+)?(?:this|these)\s+(?:Agreement|Terms|Constitution|Act|Policy)(?![\w])",
    other_act=r"\s*(?:,\s*)?of\s+(?P<act>the\s+[A-Z][^,;.:()\n]{0,70})",
)

GRAMMARS: dict[str, Grammar] = {g.name: g for g in (_VI, _DE, _EN)}


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


class _Compiled:
    """A grammar's regexes, compiled once."""

    def __init__(self, g: Grammar):
        self.g = g
        kws = "|".join(f"(?P<L{i}>{lv.keyword})" for i, lv in enumerate(g.levels))
        self.keyword = re.compile(rf"(?<![\w§])(?:{kws})")
        self.labels = [
            re.compile(
                rf"\s*(?P<a>{lv.label})(?:{g.range_sep}(?:{lv.keyword})?\s*(?P<b>{lv.label}))?"
            )
            for lv in g.levels
        ]
        self.list_sep = [
            re.compile(rf"{g.list_sep}(?:{lv.keyword})?\s*(?=(?:{lv.label}))") for lv in g.levels
        ]
        self.this = re.compile(g.this)
        self.glue = re.compile(g.glue)
        self.own_act = re.compile(g.own_act)
        self.other_act = re.compile(g.other_act)
        self.chain_sep = re.compile(rf"(?:{g.list_sep}|{g.glue})")


_COMPILED: dict[str, _Compiled] = {}


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
        labels.extend(_expand(lm.group("a"), lm.group("b")))
        end = lm.end()
        sep = c.list_sep[i].match(text, end)
        if sep is None:
            break
        nxt = c.labels[i].match(text, sep.end())
        if nxt is None:
            break
        lm = nxt
    return _Element(level, labels, m.start(), end)


_NUM = re.compile(r"(\d+)([a-zđ]{0,3})$")


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
    return [a, b]


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
        m = c.keyword.search(text, pos)
        if m is None:
            return out
        first = _element_at(c, text, m.start())
        if first is None:
            pos = m.end()
            continue
        elements = [first]
        end = first.end
        while True:
            sep = c.chain_sep.match(text, end)
            nxt = _element_at(c, text, sep.end()) if sep is not None else None
            if nxt is None:
                break
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
        out.append(_Chain(elements, first.start, end, act, own))
        pos = end


# --------------------------------------------------------------------------------------
# Resolving
# --------------------------------------------------------------------------------------


def _targets(chain: _Chain) -> list[tuple[list[tuple[Level, str]], int, int]]:
    """Each target of a chain: its (level, label) from the outside in, and its span (the
    elements naming it; with the other act's name when there is one)."""
    els = chain.elements
    ranks = [e.level.rank for e in els]
    outer_first = next(
        (ranks[i] < ranks[i + 1] for i in range(len(ranks) - 1) if ranks[i] != ranks[i + 1]),
        True,
    )
    parent: list[int | None] = [None] * len(els)
    for i, e in enumerate(els):
        order = range(i - 1, -1, -1) if outer_first else range(i + 1, len(els))
        for j in order:
            if els[j].level.rank < e.level.rank:
                parent[i] = j
                break
            if els[j].level.rank == e.level.rank and outer_first:
                # a sibling of the same level before it: share its parent
                parent[i] = parent[j]
                break
    has_child = {p for p in parent if p is not None}
    out = []
    for i in range(len(els)):
        if i in has_child:
            continue
        outer = []
        p = parent[i]
        lo, hi = els[i].start, els[i].end
        while p is not None:
            lo, hi = min(lo, els[p].start), max(hi, els[p].end)
            labels = els[p].labels
            outer.append((els[p].level, labels[-1] if outer_first else labels[0]))
            p = parent[p]
        for label in els[i].labels:
            out.append(([*outer[::-1], (els[i].level, label)], lo, hi))
    return out


def _own_label(unit: Unit, c: _Compiled) -> int:
    """Where the citing unit's own heading label ends (0 if it has none)."""
    if unit.label is None or not unit.raw_heading:
        return 0
    m = re.match(r"[#>*\s_]*(?:\(\S+\)\s*)?", unit.raw_heading)
    pos = m.end() if m else 0
    el = _element_at(c, unit.raw_heading, pos)
    return el.end if el is not None else 0


class Resolver:
    """Resolves references of one cut document to its unit codes."""

    def __init__(self, doc: CutDocument, profile: str):
        self.doc = doc
        self.profile = profile
        self.units = doc.by_code()
        self.c = grammar(profile)
        self.ns = doc.namespace
        self.children: dict[str, set[str]] = {}
        for u in doc.units:
            if u.parent_code is not None:
                self.children.setdefault(u.parent_code, set()).add(u.kind)

    def ancestors(self, unit: Unit) -> list[Unit]:
        """The unit and its ancestors, innermost first."""
        out = []
        u: Unit | None = unit
        while u is not None:
            out.append(u)
            u = self.units.get(u.parent_code) if u.parent_code else None
        return out

    def references(self, unit: Unit) -> list[Reference]:
        text = unit.raw_heading + unit.body
        out: list[Reference] = []
        for chain in chains(self.profile, text, _own_label(unit, self.c)):
            for path, start, end in _targets(chain):
                if chain.act is not None or chain.own:
                    end = chain.end
                out.append(self._reference(unit, text, chain, path, start, end))
        return out

    def _reference(
        self,
        unit: Unit,
        text: str,
        chain: _Chain,
        path: list[tuple[Level, str]],
        start: int,
        end: int,
    ) -> Reference:
        written = tuple((lv.kind, label) for lv, label in path)
        if chain.act is not None:
            return Reference(unit.code, start, end, text[start:end], written, None, chain.act)
        relative = path[0][0].scope != "global" or any(label == "" for _, label in path)
        target = self._resolve(unit, path)
        return Reference(
            unit.code, start, end, text[start:end], written, target, None, relative=relative
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
                rank = _rank(self.c.g, a.kind)
                if a.kind == "document":
                    break
                if rank is not None and (rank < top.rank or (top_label == "" and rank == top.rank)):
                    base = a
                    break
            if base is None:
                return None
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
            if nxt not in self.units:
                if lv.scope != "global" and not self._has_children(code, lv.kind):
                    # not cut that finely: the reference names a part of this unit's text
                    return code
                return None
            code = nxt
        return code

    def _has_children(self, code: str, kind: str) -> bool:
        kids = self.children.get(code)
        return kids is not None and kind in kids


def _rank(g: Grammar, kind: str) -> int | None:
    for lv in g.levels:
        if lv.kind == kind and lv.prefix is not None:
            return lv.rank
    return None


_PREFIX_PROFILE = (("D", "vi"), ("§", "de"), ("Art", "de"), ("A", "en"), ("Am", "en"))


def profile_of(doc: CutDocument) -> str:
    """The profile a document was cut with: stored on it (when the cut records it), its
    front matter's ``iu_profile``, else read off its article codes (``D`` vi, ``§`` de)."""
    given = getattr(doc, "profile", None) or doc.front_matter.get("iu_profile")
    if isinstance(given, str) and given in GRAMMARS:
        return given
    counts: dict[str, int] = {}
    for u in doc.units:
        if u.kind == "article" and u.label:
            seg = u.code.rsplit("/", 1)[-1]
            for prefix, name in _PREFIX_PROFILE:
                if seg.startswith(prefix) and seg[len(prefix) : len(prefix) + 1].isdigit():
                    counts[name] = counts.get(name, 0) + 1
                    break
    return max(counts, key=lambda k: counts[k]) if counts else "en"


def document_references(doc: CutDocument, profile: str | None = None) -> dict[str, list[Reference]]:
    """Every unit's references, by the citing unit's code (units without any left out)."""
    r = Resolver(doc, profile or profile_of(doc))
    out: dict[str, list[Reference]] = {}
    for u in doc.units:
        refs = r.references(u)
        if refs:
            out[u.code] = refs
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

    if cited_by:
        rows = conn.query("unit_cited_by", code=code).fetchall()
    else:
        rows = conn.query("unit_references", code=code, version=version).fetchall()
    if not rows and conn.query("unit_show", code=code).fetchone() is None:
        raise no_unit(conn, code)
    return [dict(r) for r in rows]
