"""Unit codes ``NAMESPACE/PATH``: label segments, heading slugs, ``{#id}``, collisions.

Rules (stable across runs, machines and Python versions: pure string functions):

* A labelled unit's segment is its rule prefix + its label, ASCII-folded:
  ``Điều 44`` → ``D44``, ``Chương IV`` → ``C4`` (Roman numerals become Arabic),
  ``khoản 2`` → ``K2``, ``điểm a`` → ``a``, ``điểm đ`` → ``dd`` (so it never collides
  with ``d``), ``§ 5a`` → ``§5a``, ``(3)`` → ``Abs3``, German ``1.`` → ``Nr1``.
* A heading without a label gets the slug of its text, without a leading enumerator
  (``G. Payment`` → ``payment``, ``1.2 Scope`` → ``scope``: letters and numbers in
  front of a heading are presentation, renumbered whenever a section is inserted, so
  they would rename every unit below it). The slug is NFKD-folded to ASCII
  (``đ`` → ``d``, ``ß`` → ``ss``, ``ä`` → ``a``), lower case, runs of anything else →
  ``-``, at most 64 characters (cut at a ``-``); ``untitled`` when nothing is left.
* ``{#my-id}`` at the end of a heading replaces the segment and roots it at the
  namespace (an explicit id names the unit within its document).
* A label that repeats in a document (``Kapitel 1`` under each Untertitel of the BGB)
  is qualified by its parent, the nearest ancestor that makes it unique:
  ``BGB/…/untertitel-2-…/Kap1``, not numbered in document order, so a chapter inserted
  elsewhere renames no other chapter. A labelled unit that repeats under one parent and
  follows a plain heading of that parent is coded as if inside that heading: a flat
  document writes its sections at the level of their articles (``## Consumer terms``,
  ``## Article 1``, ``## Business terms``, ``## Article 1``), and its articles are
  ``consumer-terms/A1`` and ``business-terms/A1``, the codes they have when nested; a
  section may also be named by a paragraph of bold text alone (``**Bên A có quyền:**``
  before its points ``a)``, ``b)``), which counts as a plain heading there. A plain
  heading that repeats under one parent goes under the sibling it follows (the latest
  one that does not repeat): ``## Notes`` after each ``## Article N`` is ``A1/notes``,
  ``A2/notes``, its code when nested; a repeated slug cut at 64 characters is told
  apart by a digest of the whole slug (:func:`long_segment`). Only true
  duplicates left, units with the same segment under one parent after the same plain
  heading or sibling (or none), get ``-2``, ``-3`` … in their order within that parent,
  and the document gets a warning (see :func:`requalify`). That order is only the
  first cut's: planned against a stored copy, the members of such a group keep the
  codes their units have there (:mod:`iucut.numbering`).
* The namespace, unless given, is the document path without its extension (without
  a trailing ``index``/``README`` file name), each part slugged, upper case, joined by
  ``.``: ``van-ban/bao-chi/luat-bao-chi.md`` → ``VAN-BAN.BAO-CHI.LUAT-BAO-CHI``.
  A given namespace is one segment: no ``/``, whitespace or control characters.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iucut.units import Unit
import unicodedata
from functools import lru_cache

_SPECIAL = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "TH",
    }
)
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_NON_LABEL = re.compile(r"[^A-Za-z0-9.\-§^]+")
_ID_ATTR = re.compile(r"\{#(?P<id>[A-Za-z0-9_][A-Za-z0-9_.:\-]*)(?:[ \t][^{}]*)?\}$")
_ENUMERATOR = re.compile(
    r"[ \t]*(?:(?:\d+|[A-Za-z]|[IVXLCDM]+|[ivxlcdm]+)[.)]|\d+(?:\.\d+)+\.?"
    r"|\((?:\d+|[A-Za-z]|[ivxlcdm]+)\))[ \t]+(?=\S)"
)
#: Dots and blanks between the one or two capitals a label starts with and a digit
#: (``L. 111-1``, ``LO 1``): dropped in a segment.
_LETTER_NUMBER = re.compile(r"^([A-Z]{1,2})[. \t]+(?=[0-9])")
_INDEX_NAMES = {"index", "readme", "_index"}
#: A line of bold text alone (``**Terms for businesses**``), with a letter in it.
_BOLD_LINE = re.compile(r"[ \t]*(\*\*|__)(?P<text>[^\n*_]*[^\W\d_][^\n*_]*)\1[ \t]*:?[ \t]*")
_BLANK_END = re.compile(r"(?:\A|\n)[ \t]*\n[ \t]*\Z")
MAX_SLUG = 64


def fold(text: str) -> str:
    """ASCII-fold: drop diacritics (NFKD), map the letters NFKD cannot split."""
    text = text.translate(_SPECIAL)
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def heading_slug(text: str) -> str:
    """A heading's path segment: its text's slug without a leading enumerator."""
    m = _ENUMERATOR.match(text)
    return slug(text[m.end() :] if m else text)


@lru_cache(maxsize=4096)  # path parts repeat from one document to the next
def slug(text: str) -> str:
    """A path segment: folded, lower case, ``-`` separated, ≤ 64 characters."""
    s = _NON_SLUG.sub("-", fold(text).lower()).strip("-")
    if len(s) > MAX_SLUG:
        cut = s.rfind("-", 0, MAX_SLUG + 1)
        s = s[: cut if cut > 0 else MAX_SLUG]
    return s or "untitled"


@lru_cache(maxsize=4096)
def label_segment(prefix: str, label: str) -> str:
    """A labelled unit's segment: ``D`` + ``19a`` → ``D19a``; ``đ`` → ``dd``; ``L. 111-1``
    → ``L111-1`` (dots and blanks after the capitals it starts with dropped)."""
    label = fold(label.replace("đ", "dd"))
    if "." in label or " " in label or "\t" in label:  # ``L. 111-1`` is ``L111-1``
        label = _LETTER_NUMBER.sub(r"\1", label, count=1)
    return prefix + _NON_LABEL.sub("-", label.replace(" ", "-")).strip("-")


def split_id(text: str) -> tuple[str, str | None]:
    """Split a trailing ``{#id ...}`` attribute off heading text: ``(text, id)``."""
    if "{#" not in text:
        return text, None
    text = text.rstrip(" \t")
    m = _ID_ATTR.search(text, max(0, text.rfind("{#")))
    if not m:
        return text, None
    return text[: m.start()].rstrip(" \t"), m.group("id")


_NOT_IN_NAMESPACE = re.compile(r"[\s/\x00-\x1f\x7f]")


def namespace_problem(namespace: str) -> str | None:
    """Why a given namespace cannot be one, or None. Codes are ``NAMESPACE/PATH``, so a
    namespace is one non-empty segment: no ``/``, no whitespace or control characters."""
    if not namespace:
        return "is empty"
    bad = _NOT_IN_NAMESPACE.search(namespace)
    if bad is not None:
        what = "'/'" if bad.group() == "/" else f"{bad.group()!r} (whitespace or control)"
        return f"contains {what}: codes are NAMESPACE/PATH, the namespace one segment"
    return None


def namespace_for(doc_path: str) -> str:
    """The default namespace of a document path (see the module docstring)."""
    parts = [p for p in re.split(r"[\\/]+", doc_path) if p not in ("", ".", "..")]
    if parts:
        stem = parts[-1].rsplit(".", 1)[0] if "." in parts[-1][1:] else parts[-1]
        parts[-1] = stem
        if len(parts) > 1 and stem.lower() in _INDEX_NAMES:
            parts.pop()
    ns = ".".join(slug(p).upper() for p in parts)
    return ns or "DOC"


class Coder:
    """Hands out unique codes within one document, in document order."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.next: dict[str, int] = {}  # next suffix to try per colliding code (keeps it linear)
        self.warnings: list[str] = []
        self.base: dict[str, str] = {}  # suffixed code -> the code it would have had

    def claim(self, code: str, line: int) -> str:
        if code not in self.used:
            self.used.add(code)
            return code
        n = self.next.get(code, 2)
        while f"{code}-{n}" in self.used:
            n += 1
        self.next[code] = n + 1
        unique = f"{code}-{n}"
        self.used.add(unique)
        self.base[unique] = code
        self.warnings.append(f"line {line}: duplicate code {code}; this unit is {unique}")
        return unique


_HEADING_LABEL = re.compile(r"[^\W\d_]+\s+(?:\d+[a-z]?|[IVXLCDM]+)(?![\w])")


def qualifier(unit: Unit, seg: str) -> str:
    """What names an ancestor inside a qualified code: its label segment (``UAbschn2``),
    for a plain heading the slug of a leading ``Word N`` (``Untertitel 2 - Vereine`` →
    ``untertitel-2``, so retitling it renames nothing), else its slug."""
    if unit.kind == "heading":
        m = _HEADING_LABEL.match(unit.title)
        if m:
            return slug(m.group())
    return seg


def requalify(
    units: Sequence[Unit],
    base: dict[str, str],
    recode: Callable[[Unit, str, str | None], Unit] | None = None,
) -> tuple[list[Unit], list[str], dict[str, str]]:
    """Codes free of position for a document whose first codes collided.

    The builder hands out codes in document order and numbers a repeated code ``-2``,
    ``-3`` …, so one inserted unit would shift every later number (``base`` maps each
    numbered code to the code it stood for). Here each unit keeps its own segment. A
    document-wide code (one segment under the namespace) that repeats is qualified by
    the nearest ancestors that make it unique, each named by :func:`qualifier`
    (``BGB/Abschn8/UAbschn1/untertitel-2/Kap1``); a segment that repeats under one
    parent is told apart by the plain heading (a labelled unit) or the sibling (a plain
    heading) it follows, else numbered within that parent only. Only those units and the
    units below them are recoded (``recode(unit, code, parent_code)`` makes the new
    unit). Returns the units, a warning per numbered unit and the numbered codes (each
    with the code of the first of its group, :attr:`CutDocument.numbered`).
    """
    ns = units[0].code
    make = recode or (lambda u, c, p: dataclasses.replace(u, code=c, parent_code=p))
    stood = set(base.values())  # the codes numbered ones stood for (a set: asked per unit)
    repeated = {b for b in stood if b.count("/") == 1}  # document-wide codes
    # Which units get a new code: the first of each repeated code, numbered ones, and
    # every unit under one of them (parents come before their children).
    seeds = stood | base.keys()
    # Codes derived from a recoded code start with it; units with a document-wide code
    # under a recoded parent keep their code and only follow the parent.
    ordered = sorted(u.code for u in units)
    todo = set(seeds)
    for seed in seeds:
        lo = bisect.bisect_right(ordered, seed + "/")
        hi = bisect.bisect_left(ordered, seed + "0")  # "0" follows "/" in code points
        todo.update(ordered[lo:hi])
    by_code = {u.code: u for u in units}
    todo.update([u.code for u in units if u.parent_code in todo])

    def seg_of(code: str) -> str:
        return base.get(code, code).rsplit("/", 1)[1]

    recoded = [(i, u) for i, u in enumerate(units) if u.code in todo]  # document order
    clashing = set(base) | stood
    # a plain heading whose slug was cut short is told apart by the rest of its text
    own: dict[str, str] = {}
    for _, u in recoded:
        if u.kind == "heading" and u.code in clashing:
            long = long_segment(u.title, seg_of(u.code))
            if long is not None:
                own[u.code] = long

    def seg2(code: str) -> str:
        return own.get(code) or seg_of(code)

    groups: dict[tuple[str, str], list[str]] = {}
    for _, u in recoded:
        b = base.get(u.code, u.code)
        if b in repeated:
            groups.setdefault((b, seg2(u.code)), []).append(u.code)
    # the plain heading each repeated labelled unit follows, named as a qualifier; for a
    # code repeated under its parent, only where the headings tell its units apart
    follows = _after_heading(units, clashing)
    after = {code: qualifier(h, seg_of(h.code)) for code, h in follows.items()}
    # a plain heading repeated under its parent goes under the sibling it follows, by
    # that sibling's code: the code it has when nested in it
    under = {c: h.code for c, h in follows.items() if by_code[c].kind == "heading"}
    local: dict[tuple[str, str], list[str]] = {}
    for _, u in recoded:
        b = base.get(u.code, u.code)
        if b in stood and b not in repeated:
            local.setdefault((b, seg2(u.code)), []).append(u.code)
    for members in local.values():
        told = under if by_code[members[0]].kind == "heading" else after
        if len(members) == 1 or len({told.get(c) for c in members}) == 1:
            for c in members:
                after.pop(c, None)
                under.pop(c, None)
    prefix: dict[str, str] = {}  # qualified units: their code without the namespace
    for (_, seg), members in groups.items():
        prefix.update(_qualify(by_code, seg_of, seg, members, after))
    used = {u.code for u in units if u.code not in todo}
    new_code: dict[str, str] = {}
    next_suffix: dict[str, int] = {}
    warnings: list[str] = []
    numbered: dict[str, str] = {}
    out = list(units)  # a unit not to recode has no parent to recode either: kept as is
    for at, u in recoded:
        old = u.code
        b = base.get(old, old)
        if old in prefix:
            code = f"{ns}/{prefix[old]}"
        elif b.count("/") == 1:
            code = b
        else:
            parent = new_code.get(u.parent_code or "", u.parent_code)
            heading = after.get(old)
            if old in under:
                code = f"{new_code.get(under[old], under[old])}/{seg2(old)}"
            elif heading:
                code = f"{parent}/{heading}/{seg2(old)}"
            else:
                code = f"{parent}/{seg2(old)}"
        if code in used:
            k = next_suffix.get(code, 2)
            while f"{code}-{k}" in used:
                k += 1
            next_suffix[code] = k + 1
            warnings.append(f"line {u.line_start}: duplicate code {code}; this unit is {code}-{k}")
            numbered[f"{code}-{k}"] = code
            code = f"{code}-{k}"
        used.add(code)
        new_code[old] = code
        parent_code = new_code.get(u.parent_code or "", u.parent_code)
        if code != old or parent_code != u.parent_code:
            out[at] = make(u, code, parent_code)
    return out, warnings, numbered


def _after_heading(units: Sequence[Unit], repeated: set[str]) -> dict[str, Unit]:
    """The sibling each unit of ``repeated`` (codes) follows, for those that follow one:
    for a labelled unit the latest plain heading (where a flat document's section starts),
    for a plain heading the latest sibling not in ``repeated`` (a ``## Notes`` after each
    ``## Article N`` is the article's notes, the code it has when nested in it)."""
    last: dict[str | None, Unit] = {}  # parent code -> its latest plain heading so far
    lone: dict[str | None, Unit] = {}  # parent code -> its latest sibling not repeated
    out: dict[str, Unit] = {}
    before: Unit | None = None
    for u in units:
        # a section named by a bold line alone (``**Terms for businesses**``) right before
        # the unit, at the end of the text before it, starts there like a plain heading
        title = _bold_end(before) if before is not None else None
        before = u
        if title is not None and u.parent_code is not None:
            code = f"{u.parent_code}/{heading_slug(title)}"
            last[u.parent_code] = dataclasses.replace(u, kind="heading", title=title, code=code)
        if u.code in repeated:
            held = lone if u.kind == "heading" else last
            if u.parent_code in held:
                out[u.code] = held[u.parent_code]
        else:
            lone[u.parent_code] = u
        if u.kind == "heading":
            last[u.parent_code] = u
    return out


def _bold_end(unit: Unit) -> str | None:
    """The text of the paragraph of bold text alone that ends ``unit``'s body, if it does
    (right after a labelled line, with no blank line between, it continues that line)."""
    text = unit.body.rstrip()
    if not text.endswith(("**", "__", ":")):
        return None
    at = text.rfind("\n") + 1
    m = _BOLD_LINE.fullmatch(text, at)
    if m is None:
        return None
    if at == 0:
        head = unit.raw_heading.strip()
        if head and not head.startswith("#") and not head.endswith(("=", "-")):
            return None  # the rest of a labelled line's paragraph
    elif _BLANK_END.search(text, 0, at) is None:
        return None  # the end of a paragraph that starts above
    return m.group("text").strip()


def _full_slug(title: str) -> str:
    """:func:`heading_slug` not cut at :data:`MAX_SLUG` characters."""
    m = _ENUMERATOR.match(title)
    return _NON_SLUG.sub("-", fold(title[m.end() :] if m else title).lower()).strip("-")


def long_segment(title: str, seg: str) -> str | None:
    """The segment of a plain heading whose slug ``seg`` was cut at :data:`MAX_SLUG`
    characters and is shared with another heading of its parent: the slug cut shorter,
    then ``-`` and eight hex digits of the SHA-256 of the whole slug (64 characters in
    all), so that two headings that differ only after their first 64 characters (lists
    of long ids, titles that start alike) are not numbered by position. None if ``seg``
    is not ``title``'s slug cut short."""
    whole = _full_slug(title)
    if len(whole) <= MAX_SLUG:
        return None
    cut = whole.rfind("-", 0, MAX_SLUG + 1)  # where slug() cuts it
    if seg != whole[: cut if cut > 0 else MAX_SLUG]:
        return None
    short = whole[: MAX_SLUG - 9]
    cut = short.rfind("-")
    if cut > 0 and whole[len(short) : len(short) + 1] != "-":
        short = short[:cut]
    return f"{short.rstrip('-')}-{hashlib.sha256(whole.encode()).hexdigest()[:8]}"


def _qualify(
    by_code: Mapping[str, Unit],
    seg_of: Callable[[str], str],
    seg: str,
    members: list[str],
    after: Mapping[str, str],
) -> dict[str, str]:
    """The qualified paths (``q2/q1/seg``) of units sharing the document-wide ``seg``:
    each gets as many ancestor qualifiers, nearest first, as it needs to differ from the
    others; units with the same ancestors are qualified by the plain heading they follow
    (``after``: code -> its qualifier), and what is still the same is left to be
    numbered within its parent."""
    chains: dict[str, list[str]] = {}
    for code in members:
        chain: list[str] = []
        parent = by_code[code].parent_code
        while parent is not None and by_code[parent].parent_code is not None:
            chain.append(qualifier(by_code[parent], seg_of(parent)))
            parent = by_code[parent].parent_code
        chains[code] = chain
    out: dict[str, str] = {}
    pending, depth = list(members), 0
    while pending:
        keys: dict[str, list[str]] = {}
        for code in pending:
            keys.setdefault("/".join([*reversed(chains[code][:depth]), seg]), []).append(code)
        still: list[str] = []
        for key, same in keys.items():
            if len(same) == 1:
                out[same[0]] = key
            elif all(chains[c] == chains[same[0]] for c in same):
                # the same ancestors: told apart by the plain heading each follows, if that
                # tells them apart (a flat document), else true duplicates, numbered in
                # their parent
                told = len({after.get(c) for c in same}) > 1
                for c in same:
                    q = after.get(c) if told else None
                    out[c] = "/".join([*reversed(chains[c][:depth]), q, seg]) if q else key
            else:
                still.extend(c for c in same if len(chains[c]) > depth)
                out.update((c, key) for c in same if len(chains[c]) <= depth)
        pending, depth = still, depth + 1
    return out
