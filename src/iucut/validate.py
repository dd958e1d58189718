"""The row contract, shared by cut (before writing a plan) and apply (before every write).

Rows are :class:`~iucut.units.Unit` objects or plain mappings (rows read back from a
plan's JSON). The contract:

* every field of :data:`~iucut.units.REQUIRED_FIELDS` is present and not None
  (an empty body or title is a value; a missing one is not);
* codes are unique;
* every parent code is the code of an earlier row (only ``document`` rows have none);
* spans are consistent: ``byte_end - byte_start`` is the UTF-8 size of
  ``raw_heading + body``, a document's rows are contiguous from byte 0, lines do not
  run backwards, and ``content_hash`` is the hash of ``raw_heading`` and ``body``.

A plan holds only the units that change, so the rows it writes are checked each on its
own (:func:`check_changed_rows`: every required field, and a hash of its own text); the
rules of a whole document (spans contiguous from byte 0, parents in earlier rows) hold
for a cut document (:func:`check_rows`).

API: :func:`missing_fields` / :func:`require_row` for one row, :func:`validate_rows`
(all violations, as data) / :func:`check_rows` (raise on the first few) for a whole
document's rows, :func:`check_changed_rows` for the rows a plan writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import Any

from iucut.errors import ContractError
from iucut.units import REQUIRED_FIELDS, Unit, content_hash

Row = Unit | Mapping[str, Any]

#: A unit's required fields, as a tuple (one C call: check_changed_rows runs per unit).
_required = attrgetter(*REQUIRED_FIELDS)


@dataclass(frozen=True)
class Violation:
    """One broken rule: which row (by code, or position when it has none), and why."""

    code: str | None
    rule: str  # missing | duplicate | parent | span | hash
    message: str

    def __str__(self) -> str:
        return f"{self.code or '<no code>'}: {self.message}"


def _get(row: Row, name: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(name)
    return getattr(row, name, None)


def missing_fields(row: Row) -> list[str]:
    """Names of the required fields the row lacks (absent or None), sorted."""
    return _missing(_getter(row))


def _getter(row: Row) -> Callable[[str], Any]:
    if type(row) is dict:
        return row.get
    return partial(_get, row)


def _missing(get: Callable[[str], Any]) -> list[str]:
    return sorted(name for name in REQUIRED_FIELDS if get(name) is None)


def require_row(row: Row) -> None:
    """Raise :class:`ContractError` naming the missing fields, e.g. ``missing=[body, title]``."""
    missing = missing_fields(row)
    if missing:
        raise ContractError(
            f"row {_get(row, 'code') or '<no code>'} refused: missing=[{', '.join(missing)}]",
            hint="cut the document again: every row needs its structure and its content",
        )


def validate_rows(rows: Iterable[Row]) -> list[Violation]:
    """Every violation of the row contract in ``rows`` (in order); empty when all pass."""
    out: list[Violation] = []
    seen: set[str] = set()
    next_byte: dict[str, int] = {}
    for row in rows:
        # a Unit as a dict (its fields are atoms): plain dict lookups from here on
        get = _getter(row.to_dict() if type(row) is Unit else row)
        code = get("code")
        missing = _missing(get)
        if missing:
            out.append(Violation(code, "missing", f"missing=[{', '.join(missing)}]"))
        if isinstance(code, str):
            if code in seen:
                out.append(Violation(code, "duplicate", "code is not unique"))
            seen.add(code)
        parent = get("parent_code")
        if parent is None:
            if get("kind") not in (None, "document"):
                out.append(Violation(code, "parent", "only a document unit has no parent"))
        elif parent not in seen or parent == code:
            out.append(Violation(code, "parent", f"parent {parent} is not an earlier row"))
        out.extend(_spans(get, next_byte))
    return out


def _spans(get: Callable[[str], Any], next_byte: dict[str, int]) -> list[Violation]:
    code = get("code")
    head, body = get("raw_heading"), get("body")
    if not isinstance(head, str) or not isinstance(body, str):
        return []
    out: list[Violation] = []
    b0, b1 = get("byte_start"), get("byte_end")
    size = len((head + body).encode("utf-8", "surrogatepass"))
    if isinstance(b0, int) and isinstance(b1, int):
        if b1 - b0 != size:
            out.append(Violation(code, "span", f"bytes {b0}-{b1} do not hold {size} bytes"))
        doc = str(get("doc_path"))
        expected = next_byte.get(doc, 0)
        if b0 != expected:
            out.append(Violation(code, "span", f"starts at byte {b0}, expected {expected}"))
        next_byte[doc] = b1
    l0, l1 = get("line_start"), get("line_end")
    if isinstance(l0, int) and isinstance(l1, int) and (l0 < 1 or l1 < l0 - 1):
        out.append(Violation(code, "span", f"lines {l0}-{l1} run backwards"))
    digest = get("content_hash")
    if isinstance(digest, str) and digest != content_hash(head, body):
        out.append(Violation(code, "hash", "content_hash does not match raw_heading + body"))
    return out


def check_rows(rows: Iterable[Row], *, limit: int = 10) -> None:
    """Raise :class:`ContractError` listing the first ``limit`` violations, if any."""
    found = validate_rows(rows)
    if found:
        shown = "; ".join(str(v) for v in found[:limit])
        more = f" (and {len(found) - limit} more)" if len(found) > limit else ""
        raise ContractError(f"{len(found)} row contract violation(s): {shown}{more}")


def check_changed_rows(rows: Iterable[Row]) -> None:
    """The row contract for rows written on their own (the units a plan changes): each
    carries every required field and a hash of its own text (raise on the first)."""
    for row in rows:
        if type(row) is Unit:  # the common case (apply): attributes, no lookup per field
            if None in _required(row):
                require_row(row)  # raises, naming the fields
            head, body = row.raw_heading, row.body
        else:
            require_row(row)
            head, body = _get(row, "raw_heading"), _get(row, "body")
        if _get(row, "content_hash") != content_hash(head, body):
            raise ContractError(
                f"row {_get(row, 'code')} refused: content_hash does not match raw_heading + body",
                hint="cut the document again: the plan's text was changed after planning",
            )
