"""The plan artifact: canonical JSON, content-addressed, refused when it is not a plan."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factory import make_document, make_unit
from iucut.errors import PlanFileError
from iucut.plan import diff_document, retire_document
from iucut.planfile import (
    PLAN_FORMAT,
    plan_from_dict,
    plan_hash,
    plan_to_dict,
    read_plan,
    write_plan,
)
from iucut.units import CutDocument, Fingerprint, Plan, Rejected, Unit, UnitState, content_hash

FP = Fingerprint("7312345678901234567", "iucut", "public", 1)


def unit(code: str, parent: str | None, position: int, heading: str, body: str) -> Unit:
    return make_unit(
        code,
        parent=parent,
        heading=heading,
        body=body,
        label=str(position) if parent else None,
        ordinal=max(position, 1),
        position=position,
        doc_path="vn/luật.md",
        line_start=1 + position,
        line_end=1 + position,
    )


def document(units: list[Unit]) -> CutDocument:
    return make_document(units)


def sample_plan() -> Plan:
    """A plan with every kind of change, non-ASCII text and a rejected document."""
    old = document(
        [
            unit("LUẬT", None, 0, "", "Căn cứ Hiến pháp;\r\n"),
            unit("LUẬT/D1", "LUẬT", 1, "## Điều 1. Phạm vi\n", "Luật này quy định…\n"),
            unit("LUẬT/D2", "LUẬT", 2, "## Điều 2\n", "“Trích dẫn” \t\n"),
            unit("LUẬT/D3", "LUẬT", 3, "## Điều 3\n", "Bãi bỏ.\n"),
        ]
    )
    new = document(
        [
            unit("LUẬT", None, 0, "", "Căn cứ Hiến pháp;\r\n"),
            unit("LUẬT/D1", "LUẬT", 1, "## Điều 1. Phạm vi\n", "Luật này quy định rõ…\n"),
            unit("LUẬT/D4", "LUẬT", 2, "## Điều 4\n", "Mới.\n"),
            unit("LUẬT/D2", "LUẬT", 3, "## Điều 2\n", "“Trích dẫn” \t\n"),
        ]
    )
    state = {
        u.code: UnitState(
            u.code,
            u.parent_code,
            u.kind,
            u.label,
            u.ordinal,
            u.depth,
            u.position,
            "active",
            2,
            u.content_hash,
            u.doc_path,
        )
        for u in old.units
    }
    db_doc = {
        "doc_path": old.path,
        "namespace": old.namespace,
        "doc_hash": old.doc_hash,
        "state": "active",
        "unit_count": 4,
    }
    changed = diff_document(new, db_doc, state)
    created = diff_document(document([unit("LUẬT", None, 0, "", "x\n")]), None, {})
    pruned = retire_document({**db_doc, "doc_path": "gone.md"}, state)
    return Plan(
        fingerprint=FP,
        documents=(changed, created, pruned),
        tool_version="0.1.0",
        prune=True,
        rejected=(Rejected("bad.md", "bad.md: invalid UTF-8 at byte 3"),),
    )


def test_write_then_read_gives_the_same_plan_and_id(tmp_path: Path) -> None:
    """A plan written and read back is equal, and its id is the same three ways."""
    plan = sample_plan()
    assert {c.op for d in plan.documents for c in d.changes} >= {
        "create",
        "revise",
        "retire",
        "place",
    }
    path = tmp_path / "plan.json"
    written_id = write_plan(plan, path)
    back, read_id = read_plan(path)
    assert back == plan
    assert written_id == read_id == plan_hash(plan) == plan_hash(back)
    assert read_id == hashlib.sha256(path.read_bytes()).hexdigest()


def test_plan_file_is_canonical_json(tmp_path: Path) -> None:
    """The file is sorted, compact UTF-8 JSON: writing it twice gives the same bytes."""
    plan = sample_plan()
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_plan(plan, a)
    write_plan(read_plan(a)[0], b)
    assert a.read_bytes() == b.read_bytes()
    data = json.loads(a.read_bytes())
    assert data["format"] == PLAN_FORMAT
    assert "Điều 1" in a.read_text(encoding="utf-8")  # not \\u-escaped
    assert data["counts"] == plan.counts


def test_plan_file_keeps_exact_text(tmp_path: Path) -> None:
    """Unit text survives the file byte for byte (CRLF, tabs, trailing spaces, non-ASCII)."""
    plan = sample_plan()
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    back, _ = read_plan(path)
    before = [c.unit for d in plan.documents for c in d.changes if c.unit]
    after = [c.unit for d in back.documents for c in d.changes if c.unit]
    assert [u.text for u in after] == [u.text for u in before]
    assert all(content_hash(u.raw_heading, u.body) == u.content_hash for u in after)


def test_any_edit_changes_the_plan_id(tmp_path: Path) -> None:
    """The id is content-addressed: a one-character edit of the file gives another id."""
    path = tmp_path / "plan.json"
    original_id = write_plan(sample_plan(), path)
    raw = path.read_text(encoding="utf-8")
    tampered = raw.replace("Luật này quy định rõ", "Luật này quy định RÕ", 1)
    assert tampered != raw
    path.write_text(tampered, encoding="utf-8")
    plan, tampered_id = read_plan(path)
    assert tampered_id != original_id
    assert plan_hash(plan) != original_id


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json at all",
        b'{"format": "iucut-plan/1", "documents": [',  # truncated
        b"\xff\xfe\x00garbage",
        b'{"format": "something-else/1"}',
        b'{"documents": []}',  # no format
        b'{"format": "iucut-plan/1"}',  # no fingerprint, no documents
        b"[]",
        b"null",
        b'"iucut-plan/1"',
        b"42",
    ],
    ids=[
        "empty",
        "text",
        "truncated",
        "binary",
        "other-format",
        "no-format",
        "missing-keys",
        "list",
        "null",
        "string",
        "number",
    ],
)
def test_a_file_that_is_not_a_plan_is_refused(tmp_path: Path, content: bytes) -> None:
    """Anything but a well-formed plan is refused as bad input (exit 27), never a crash."""
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    with pytest.raises(PlanFileError) as info:
        read_plan(path)
    assert info.value.exit_code == 27


def _drop_title(data: dict[str, Any]) -> None:
    del data["documents"][0]["changes"][0]["unit"]["title"]


def _unit_is_text(data: dict[str, Any]) -> None:
    data["documents"][0]["changes"][0]["unit"] = "a unit"


def _documents_not_a_list(data: dict[str, Any]) -> None:
    data["documents"] = 5


def _fingerprint_is_a_list(data: dict[str, Any]) -> None:
    data["fingerprint"] = []


@pytest.mark.parametrize(
    "mangle", [_drop_title, _unit_is_text, _documents_not_a_list, _fingerprint_is_a_list]
)
def test_a_plan_with_mangled_content_is_refused(
    tmp_path: Path, mangle: Callable[[dict[str, Any]], None]
) -> None:
    """A plan file with a well-formed header but mangled rows is refused, not half read."""
    data = plan_to_dict(sample_plan())
    mangle(data)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PlanFileError):
        read_plan(path)


def test_a_missing_plan_file_is_refused(tmp_path: Path) -> None:
    """A plan path that cannot be read is a PlanFileError naming the file."""
    with pytest.raises(PlanFileError, match="cannot read plan"):
        read_plan(tmp_path / "nope.json")


def test_plan_from_dict_refuses_another_format() -> None:
    """The format tag is checked first, so a future plan format is never misread."""
    data = plan_to_dict(sample_plan())
    data["format"] = "iucut-plan/2"
    with pytest.raises(PlanFileError, match="not an iucut plan"):
        plan_from_dict(data)


SAFE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(SAFE_TEXT, SAFE_TEXT), min_size=1, max_size=6))
def test_round_trip_of_arbitrary_text(
    tmp_path_factory: pytest.TempPathFactory, texts: list[tuple[str, str]]
) -> None:
    """Any Unicode text in any unit survives write → read with the same id."""
    units = [unit("LUẬT", None, 0, "", texts[0][1])] + [
        unit(f"LUẬT/D{i}", "LUẬT", i, h, b) for i, (h, b) in enumerate(texts[1:], 1)
    ]
    plan = Plan(FP, (diff_document(document(units), None, {}),), "0.1.0")
    path = tmp_path_factory.mktemp("p") / "plan.json"
    pid = write_plan(plan, path)
    back, rid = read_plan(path)
    assert back == plan and rid == pid == plan_hash(back)
