"""The row contract shared by cut and apply: required fields, unique codes, parents, spans."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from iucut.cut import cut_text
from iucut.errors import ContractError
from iucut.validate import (
    check_changed_rows,
    check_rows,
    missing_fields,
    require_row,
    validate_rows,
)

LAW = "# Luật\n\nĐiều 1. Một\n\n1. Khoản\na) điểm\n\nĐiều 2. Hai\n".encode()


def rows() -> list:
    return list(cut_text(LAW, "law.md").units)


def test_bare_row_is_refused_naming_body_and_title() -> None:
    """A bare row (structure only) is refused with its missing fields: missing=[body, title]."""
    bare = {
        "namespace": "NS",
        "code": "NS/D1",
        "kind": "article",
        "ordinal": 1,
        "depth": 1,
        "raw_heading": "",
        "content_hash": "0" * 64,
        "doc_path": "x.md",
    }
    assert missing_fields(bare) == ["body", "title"]
    with pytest.raises(ContractError, match=r"missing=\[body, title\]") as info:
        require_row(bare)
    assert info.value.exit_code == 4
    with pytest.raises(ContractError, match=r"missing=\[body, title\]"):
        check_rows([bare])


def test_cut_rows_pass_as_units_and_as_json_dicts() -> None:
    """Every row of a cut passes, as Unit objects and as dicts read back from plan JSON."""
    units = rows()
    assert validate_rows(units) == []
    assert validate_rows([json.loads(json.dumps(u.to_dict())) for u in units]) == []
    check_rows(units)


def test_duplicate_codes_are_violations() -> None:
    """Two rows with one code break the contract."""
    units = rows()
    dup = replace(
        units[2],
        byte_start=units[-1].byte_end,
        byte_end=units[-1].byte_end + units[2].byte_end - units[2].byte_start,
    )
    found = validate_rows([*units, dup])
    assert [v.rule for v in found] == ["duplicate"]


def test_parents_must_exist_and_come_first() -> None:
    """A parent that is missing or comes later is a violation; only documents lack one."""
    units = rows()
    assert [v.rule for v in validate_rows([units[0], units[3], units[2]])][:1] == ["parent"]
    orphan = replace(units[1], parent_code=None)
    assert any(v.rule == "parent" for v in validate_rows([units[0], orphan]))


def test_spans_and_hash_must_agree_with_the_text() -> None:
    """Byte spans hold the UTF-8 size of the text, rows are contiguous, hashes match."""
    units = rows()
    bad_span = replace(units[1], byte_end=units[1].byte_end + 1)
    assert "span" in {v.rule for v in validate_rows([units[0], bad_span])}
    bad_hash = replace(units[1], body=units[1].body + "x")
    assert "hash" in {v.rule for v in validate_rows([units[0], bad_hash])}
    gap = [units[0], units[2]]
    assert any("expected" in v.message for v in validate_rows(gap))


def test_changed_rows_are_checked_each_on_its_own() -> None:
    """The rows a plan writes (a revised unit in the middle of a document) pass on their
    own, though not contiguous from byte 0; a row whose text is not its hash is refused,
    naming it, and so is a row missing a field."""
    units = rows()
    middle = units[2:3]
    assert validate_rows(middle) != []  # as a whole document it would be refused
    check_changed_rows(middle)
    forged = replace(middle[0], body=middle[0].body + "forged\n")
    with pytest.raises(ContractError, match=f"row {forged.code} refused: content_hash"):
        check_changed_rows([forged])
    with pytest.raises(ContractError, match=r"missing=\[body\]"):
        check_changed_rows([{**middle[0].to_dict(), "body": None}])


def test_a_changed_unit_missing_fields_is_refused_naming_them() -> None:
    """A Unit (not a mapping) the plan writes with required fields missing is refused by
    the row contract, naming each missing field, before its hash is computed."""
    unit = replace(rows()[2], body=None, kind=None)  # type: ignore[arg-type]
    with pytest.raises(ContractError, match=rf"row {unit.code} refused: missing=\[body, kind\]"):
        check_changed_rows([unit])
