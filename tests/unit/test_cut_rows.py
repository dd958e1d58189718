"""The fast row constructor of the cutter builds exactly what ``Unit(...)`` builds."""

from __future__ import annotations

from dataclasses import astuple, fields

import pytest

from iucut.cut import cut_text
from iucut.cut.cutter import _unit_factory
from iucut.units import Unit

LAW = "# Luật\n\n## Điều 1. Phạm vi\n\n1. Khoản một.\n2. Khoản hai:\na) điểm a.\n"


def test_fast_constructor_puts_each_value_in_its_own_field() -> None:
    """The fast constructor, given distinct values, builds the Unit that __init__ builds."""
    make = _unit_factory()
    assert make is not Unit  # the fast path is the one under test
    values = tuple(f"value-{i}" for i in range(len(fields(Unit))))
    fast = make(*values)
    assert type(fast) is Unit
    assert astuple(fast) == values  # no slot swapped, none left unset
    assert fast == Unit(*values)


def test_cut_units_are_units() -> None:
    """A real cut builds its rows as Unit instances with every field set."""
    doc = cut_text(LAW.encode(), "law.md")
    assert len(doc.units) >= 5
    assert all(type(u) is Unit and len(astuple(u)) == len(fields(Unit)) for u in doc.units)


def test_fast_constructor_falls_back_when_unit_gains_post_init(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Unit with __post_init__ must be built through __init__, never around it."""
    monkeypatch.setattr(Unit, "__post_init__", lambda self: None, raising=False)
    assert _unit_factory() is Unit
