"""True duplicates numbered from the stored history, not by position (pure).

The cutter numbers the units it cannot tell apart (the same segment under one parent
after the same heading or sibling: :func:`iucut.cut.codes.requalify`) ``X``, ``X-2``,
``X-3`` in document order, so a duplicate inserted before the others would take ``X``
from the unit that held it, and each later one the code of the one before it. Planned
against the stored copy of the document, the members of such a group are numbered from
what is stored instead:

* the stored active members (in their stored order) and the new members (in document
  order) are aligned on a longest common subsequence, first of the hashes of their
  texts with the texts below them (the same empty heading over other sections is
  another member), then, between the pairs found, of the hashes of their own texts: a
  new member with the text of a stored one keeps its code, identical texts paired in
  order, never by chance; a new member left between two aligned pairs takes the code of
  a stored member left in the same gap (a revision), the first with the first;
* a new member still left takes the code of a retired member with its text (restored),
  else a number never used in the group: the first of ``X``, ``X-2``, … that no unit of
  the document holds, held, or held once (codes are never reused);
* a stored member left over has no code in the document: the plan retires it.

The units below a member follow its code, as they follow it in the cutter. A document
without a stored copy keeps the cutter's numbering, and so does a document whose codes
from the history would clash with another of its codes (the check is kept, though the
numbers chosen avoid every other code of the document).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from difflib import SequenceMatcher

from iucut.units import CutDocument, UnitState, UnitStatus

#: Reads which of some codes a unit held once (:func:`iucut.plan_state.read_holders`).
HeldOnce = Callable[[Collection[str]], Collection[str]]

_NUMBER = re.compile(r"-([2-9]|[1-9][0-9]+)$")


def renumber(
    doc: CutDocument, db_units: Mapping[str, UnitState], held_once: HeldOnce
) -> tuple[CutDocument, dict[str, str]]:
    """``doc`` with its true duplicates numbered from ``db_units`` (the stored units of the
    document, by code), and the members whose code changed (code as cut -> code planned;
    the units below them follow); ``doc`` itself when none did."""
    groups = _groups(doc, db_units)
    if not groups:
        return doc, {}
    by_code = {u.code: u for u in doc.units}
    stored: dict[str, list[UnitState]] = {}  # code X -> the stored units X, X-2, X-3 …
    for code, cur in db_units.items():
        stored.setdefault(code, []).append(cur)
        m = _NUMBER.search(code)
        if m is not None:
            stored.setdefault(code[: m.start()], []).append(cur)
    to: dict[str, str] = {}  # code as cut -> code planned, for the members of each group

    def now(code: str) -> str:
        """``code`` after the groups renumbered so far (the longest member prefix)."""
        at = len(code)
        while at > 0:
            head = code[:at]
            if head in to:
                return to[head] + code[at:]
            at = code.rfind("/", 0, at)
        return code

    trees = _Trees(doc, db_units)
    for members in groups:  # outer groups first: an inner one's codes follow them
        current = [now(c) for c in members]
        other = _other(by_code, now, members, current[0])
        kind = by_code[members[0]].kind  # (a stored unit of another kind is another unit)
        kin = [c for c in stored.get(current[0], ()) if c.kind == kind and not other(c.code)]
        kin.sort(key=lambda cur: (cur.position, cur.code))
        active = [cur for cur in kin if cur.state == UnitStatus.ACTIVE]
        old = [(cur.content_hash, trees.stored(cur.code)) for cur in active]
        new = [(by_code[c].content_hash, trees.cut(c)) for c in members]
        retired = [cur for cur in kin if cur.state != UnitStatus.ACTIVE]
        planned = _number(current, new, active, old, retired, db_units, other, held_once)
        to.update(zip(members, planned, strict=True))
    units = []
    for u in doc.units:
        code = now(u.code)
        parent = None if u.parent_code is None else now(u.parent_code)
        if code != u.code or parent != u.parent_code:
            u = replace(u, code=code, parent_code=parent)
        units.append(u)
    renamed = {cut: code for cut, code in to.items() if cut != code}
    if not renamed or len({u.code for u in units}) != len(units):
        return doc, {}  # (a clash cannot happen: _number avoids the other codes)
    return replace(doc, units=tuple(units)), renamed


def _other(
    by_code: Collection[str], now: Callable[[str], str], members: Sequence[str], base_now: str
) -> Callable[[str], bool]:
    """Whether a unit not of the group ``members`` (codes as cut; ``base_now``: the first
    one's code after the groups renumbered so far, ``now``) has a code ``X``, ``X-k``."""
    own = set(members)

    def other(code: str) -> bool:
        cut = members[0] + code[len(base_now) :]
        return cut in by_code and cut not in own and now(cut) == code

    return other


def _groups(doc: CutDocument, db_units: Mapping[str, UnitState]) -> list[list[str]]:
    """The true-duplicate groups of ``doc`` to number from the history, each as its
    members' codes in document order, the groups in the order of their first members:
    the groups the cutter numbered, and a unit alone now whose code has stored numbered
    duplicates (``X`` now, ``X`` and ``X-2`` stored: which of them is ``X`` now?)."""
    if not db_units:
        return []
    bases: dict[str, list[str]] = {}
    for code, base in doc.numbered:
        bases.setdefault(base, [base]).append(code)
    codes = {u.code for u in doc.units}
    for code, cur in db_units.items():
        m = _NUMBER.search(code)
        if m is None or code in codes or cur.state != UnitStatus.ACTIVE:
            continue
        base = code[: m.start()]
        stored = db_units.get(base)
        if base in codes and base not in bases and (stored is None or stored.kind == cur.kind):
            bases[base] = [base]
    if not bases:
        return []
    at = {u.code: i for i, u in enumerate(doc.units)}
    parent = {u.code: u.parent_code for u in doc.units}
    out = []
    for members in bases.values():
        if all(c in at for c in members) and len({parent[c] for c in members}) == 1:
            out.append(sorted(members, key=at.__getitem__))
    out.sort(key=lambda members: at[members[0]])
    return out


def _number(
    members: Sequence[str],
    new: Sequence[tuple[str, str]],
    active: Sequence[UnitState],
    old: Sequence[tuple[str, str]],
    retired: Sequence[UnitState],
    db_units: Mapping[str, UnitState],
    other: Callable[[str], bool],
    held_once: HeldOnce,
) -> list[str]:
    """The codes of one group's ``members`` (their codes as cut, in document order; ``new``:
    the hash of each one's text and of its text with everything below it), from its stored
    members (``active`` in stored order, ``old`` the same hashes of them; ``retired``),
    else fresh (``other``: whether a unit not of the group has a code ``X-k``)."""
    out: list[str | None] = [None] * len(members)
    # whole subtrees first (the same heading over other sections is another member),
    # then the texts alone between them (a member whose sections changed)
    pairs, gaps = _aligned([t for _, t in old], [t for _, t in new])
    left: list[tuple[list[int], list[int]]] = []
    for i_gap, j_gap in gaps:
        more, rest = _aligned([old[i][0] for i in i_gap], [new[j][0] for j in j_gap])
        pairs += [(i_gap[i], j_gap[j]) for i, j in more]
        left += [
            ([i_gap[i] for i in i_rest], [j_gap[j] for j in j_rest]) for i_rest, j_rest in rest
        ]
    for i, j in pairs:
        out[j] = active[i].code
    for cur in retired:  # a retired member's text back: restored
        for j, (digest, _) in enumerate(new):
            if out[j] is None and digest == cur.content_hash:
                out[j] = cur.code
                break
    for i_gap, j_gap in left:  # revisions: the first left with the first left
        for i, j in zip(i_gap, [j for j in j_gap if out[j] is None], strict=False):
            out[j] = active[i].code
    if all(code is not None for code in out):
        return [code for code in out if code is not None]
    # numbers never used in the group: not stored, not held once, no other unit's code
    base = members[0]
    used = {c for c in out if c is not None}
    need = out.count(None)
    fresh: list[str] = []
    k = 1
    while len(fresh) < need:
        batch = [base if n == 1 else f"{base}-{n}" for n in range(k, k + need + 8)]
        k += need + 8
        batch = [c for c in batch if c not in db_units and c not in used and not other(c)]
        once = set(held_once(batch)) if batch else set()
        fresh.extend(c for c in batch if c not in once)
    codes = iter(fresh)
    return [code if code is not None else next(codes) for code in out]


#: Above this many cells (stored members times new ones) the alignment is difflib's, not
#: a longest common subsequence: a group that large is a table's rows, not sections.
_LCS_CELLS = 250_000


def _aligned(
    a: Sequence[str], b: Sequence[str]
) -> tuple[list[tuple[int, int]], list[tuple[list[int], list[int]]]]:
    """``a`` and ``b`` aligned on a longest common subsequence (equal items, in order; of
    the longest ones, the one that pairs the earliest items): the pairs of equal items,
    and what is left between them on each side."""
    n, m = len(a), len(b)
    if n * m > _LCS_CELLS:
        blocks = SequenceMatcher(None, a, b, False).get_matching_blocks()
        pairs = [(i + k, j + k) for i, j, size in blocks for k in range(size)]
    else:
        # longest[i][j]: the length of a longest common subsequence of a[i:] and b[j:]
        longest = [[0] * (m + 1) for _ in range(n + 1)]
        for i in range(n - 1, -1, -1):
            row, below = longest[i], longest[i + 1]
            for j in range(m - 1, -1, -1):
                row[j] = below[j + 1] + 1 if a[i] == b[j] else max(below[j], row[j + 1])
        pairs, i, j = [], 0, 0
        while i < n and j < m:
            if a[i] == b[j] and longest[i][j] == longest[i + 1][j + 1] + 1:
                pairs.append((i, j))
                i, j = i + 1, j + 1
            elif longest[i + 1][j] >= longest[i][j + 1]:
                i += 1
            else:
                j += 1
    gaps: list[tuple[list[int], list[int]]] = []
    i = j = 0
    for pi, pj in [*pairs, (n, m)]:
        if i < pi or j < pj:
            gaps.append((list(range(i, pi)), list(range(j, pj))))
        i, j = pi + 1, pj + 1
    return pairs, gaps


class _Trees:
    """The hash of a unit's text with the texts of every unit below it, in document
    order: of a unit of the cut document (:meth:`cut`), of a stored active unit
    (:meth:`stored`)."""

    def __init__(self, doc: CutDocument, db_units: Mapping[str, UnitState]) -> None:
        self.units = doc.units
        self.at = {u.code: i for i, u in enumerate(doc.units)}
        self.db_units = db_units
        self.children: dict[str, list[UnitState]] | None = None

    def cut(self, code: str) -> str:
        at = self.at[code]
        inside = {code}
        h = hashlib.sha256(self.units[at].content_hash.encode())
        for u in itertools.islice(self.units, at + 1, None):  # (a subtree is contiguous)
            if u.parent_code not in inside:
                break
            inside.add(u.code)
            h.update(u.content_hash.encode())
        return h.hexdigest()

    def stored(self, code: str) -> str:
        if self.children is None:
            self.children = {}
            for cur in self.db_units.values():
                if cur.state == UnitStatus.ACTIVE and cur.parent_code is not None:
                    self.children.setdefault(cur.parent_code, []).append(cur)
            for kids in self.children.values():
                kids.sort(key=lambda cur: cur.position)
        h = hashlib.sha256(self.db_units[code].content_hash.encode())
        stack = list(reversed(self.children.get(code, ())))
        while stack:  # depth first, in document order
            cur = stack.pop()
            h.update(cur.content_hash.encode())
            stack.extend(reversed(self.children.get(cur.code, ())))
        return h.hexdigest()
