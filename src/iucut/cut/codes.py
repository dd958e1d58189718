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
* Two units that would get the same code get ``-2``, ``-3`` … on their last segment,
  in document order, and the document gets a warning.
* The namespace, unless given, is the document path without its extension (without
  a trailing ``index``/``README`` file name), each part slugged, upper case, joined by
  ``.``: ``van-ban/bao-chi/luat-bao-chi.md`` → ``VAN-BAN.BAO-CHI.LUAT-BAO-CHI``.
  A given namespace is one segment: no ``/``, whitespace or control characters.
"""

from __future__ import annotations

import re
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
_NON_LABEL = re.compile(r"[^A-Za-z0-9.\-§]+")
_ID_ATTR = re.compile(r"\{#(?P<id>[A-Za-z0-9_][A-Za-z0-9_.:\-]*)(?:[ \t][^{}]*)?\}$")
_ENUMERATOR = re.compile(
    r"[ \t]*(?:(?:\d+|[A-Za-z]|[IVXLCDM]+|[ivxlcdm]+)[.)]|\d+(?:\.\d+)+\.?"
    r"|\((?:\d+|[A-Za-z]|[ivxlcdm]+)\))[ \t]+(?=\S)"
)
_INDEX_NAMES = {"index", "readme", "_index"}
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
    """A labelled unit's segment: ``D`` + ``19a`` → ``D19a``; ``đ`` → ``dd``."""
    label = label.replace("đ", "dd").replace(" ", "-")
    return prefix + _NON_LABEL.sub("-", fold(label)).strip("-")


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
        self.warnings.append(f"line {line}: duplicate code {code}; this unit is {unique}")
        return unique
