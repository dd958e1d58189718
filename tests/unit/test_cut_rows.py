"""The fast row constructor of the cutter builds exactly what ``Unit(...)`` builds."""

from __future__ import annotations

from dataclasses import astuple

import pytest

from iucut.cut import cut_text
from iucut.cut.cutter import _unit_factory
from iucut.units import Unit

LAW = "# Luật\n\n## Điều 1. Phạm vi\n\n1. Khoản một.\n2. Khoản hai:\na) điểm a.\n"


def test_fast_rows_equal_rows_built_through_init() -> None:
    """Every unit of a cut equals the Unit built from the same values by its __init__."""
    doc = cut_text(LAW.encode(), "law.md")
    assert len(doc.units) >= 5
    for unit in doc.units:
        again = Unit(*astuple(unit))
        assert again == unit
        assert type(unit) is Unit


def test_fast_constructor_falls_back_when_unit_gains_post_init(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Unit with __post_init__ must be built through __init__, never around it."""
    monkeypatch.setattr(Unit, "__post_init__", lambda self: None, raising=False)
    assert _unit_factory() is Unit
