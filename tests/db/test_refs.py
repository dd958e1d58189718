"""Cross-references on a real PostgreSQL: stored per unit version through the write
functions, read back with `refs` and `refs --cited-by`, history kept."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import state_digest
from iucut.apply import _call_apply, apply_documents, begin_run, write_arguments
from iucut.cut import cut_text
from iucut.errors import ContractError
from iucut.plan_state import plan_document
from iucut.refs import read_references

LAW = """\
# Luật Ví dụ

### Điều 1. Phạm vi

1. Luật này quy định về ví dụ.
2. Trường hợp quy định tại khoản 1 Điều này và Điều 3 thì áp dụng Điều 12 Luật Đất đai.

### Điều 2. Giải thích

Theo điểm a khoản 2 Điều 3, xem Điều 1.

### Điều 3. Áp dụng

1. Khoản đầu.
2. Khoản hai:
a) điểm a;
b) điểm b.
"""


def apply(db: Any, text: str) -> None:
    settings = db.settings(execution="enabled")
    result = apply_documents(settings, db.provider(), [cut_text(text, "luat.md")])
    assert not result.failed


def test_references_are_stored_and_read_back(db: Any) -> None:
    """apply stores each unit's references; refs lists them resolved or with the other act."""
    apply(db, LAW)
    conn = db.connect()
    rows = read_references(conn, "LUAT/D1/K2")
    found = [(r["text"], r["target_code"], r["act"]) for r in rows]
    assert found == [
        ("khoản 1 Điều này", "LUAT/D1/K1", None),
        ("Điều 3", "LUAT/D3", None),
        ("Điều 12 Luật Đất đai", None, "Luật Đất đai"),
    ]
    assert [r["target_code"] for r in read_references(conn, "LUAT/D2")] == [
        "LUAT/D3/K2/a",
        "LUAT/D1",
    ]


def test_cited_by_lists_the_citing_units(db: Any) -> None:
    """refs --cited-by names every active unit whose reference points at the code."""
    apply(db, LAW)
    rows = read_references(db.connect(), "LUAT/D3", cited_by=True)
    assert [r["source"] for r in rows] == ["LUAT/D1/K2"]
    rows = read_references(db.connect(), "LUAT/D1", cited_by=True)
    assert [r["source"] for r in rows] == ["LUAT/D2"]


def test_references_have_history(db: Any) -> None:
    """A revised unit gets new references; its earlier version keeps the old ones."""
    apply(db, LAW)
    apply(db, LAW.replace("xem Điều 1.", "xem khoản 1 Điều 3."))
    conn = db.connect()
    now = [r["target_code"] for r in read_references(conn, "LUAT/D2")]
    assert now == ["LUAT/D3/K2/a", "LUAT/D3/K1"]
    before = [r["target_code"] for r in read_references(conn, "LUAT/D2", version=1)]
    assert before == ["LUAT/D3/K2/a", "LUAT/D1"]
    assert [r["source"] for r in read_references(conn, "LUAT/D1", cited_by=True)] == []


def test_refs_command_json(db: Any, cli_env: Any) -> None:
    """`iucut refs CODE --json` prints one JSON document with the references."""
    import json

    apply(db, LAW)
    out = cli_env.run("refs", "LUAT/D2", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [r["target_code"] for r in data["references"]] == ["LUAT/D3/K2/a", "LUAT/D1"]
    out = cli_env.run("refs", "LUAT/D3", "--cited-by")
    assert out.returncode == 0, out.stderr
    assert "LUAT/D1/K2" in out.stdout


ACT = """\
# Luật Mẫu

### Điều 1. Phạm vi

Trường hợp quy định tại Điều 3 thì áp dụng khoản 1 Điều 2.

### Điều 2. Nguyên tắc

1. Mọi người đều bình đẳng trước pháp luật.

### Điều 3. Thẩm quyền cấp giấy phép

Bộ trưởng cấp giấy phép cho các tổ chức đủ điều kiện.
"""

RETIRED = ACT.split("### Điều 3.")[0]
RENUMBERED = ACT.replace(
    "### Điều 3.", "### Điều 3. Điều mới\n\nMột điều khoản mới được chèn vào đây.\n\n### Điều 4."
)


def plan_json(cli_env: Any, folder: Any, text: str, *extra: str) -> Any:
    (folder / "mau.md").write_text(text, encoding="utf-8")
    return cli_env.run("plan", str(folder / "mau.md"), "--root", str(folder), "--json", *extra)


def test_plan_lists_references_to_a_retired_unit(db: Any, cli_env: Any, tmp_path: Any) -> None:
    """plan names the active unit whose reference would point at a retired unit."""
    import json

    db_settings = db.settings(execution="enabled")
    apply_documents(db_settings, db.provider(), [cut_text(ACT, "mau.md")])
    out = plan_json(cli_env, tmp_path, RETIRED)
    assert out.returncode == 2, out.stderr
    dangling = json.loads(out.stdout)["dangling"]
    assert [(d["source"], d["target"], d["reason"]) for d in dangling] == [
        ("MAU/D1", "MAU/D3", "retired")
    ]


def test_plan_lists_references_to_a_renumbered_unit(db: Any, cli_env: Any, tmp_path: Any) -> None:
    """plan names a reference whose code would name another unit after a renumbering."""
    import json

    db_settings = db.settings(execution="enabled")
    apply_documents(db_settings, db.provider(), [cut_text(ACT, "mau.md")])
    out = plan_json(cli_env, tmp_path, RENUMBERED)
    assert out.returncode == 2, out.stderr
    dangling = json.loads(out.stdout)["dangling"]
    assert [(d["source"], d["target"], d["reason"], d["now"]) for d in dangling] == [
        ("MAU/D1", "MAU/D3", "renumbered", "MAU/D4")
    ]


def test_strict_refs_rejects_a_plan_that_breaks_references(
    db: Any, cli_env: Any, tmp_path: Any
) -> None:
    """plan --strict-refs exits 30 naming the citing unit; an unbroken plan passes."""
    db_settings = db.settings(execution="enabled")
    apply_documents(db_settings, db.provider(), [cut_text(ACT, "mau.md")])
    (tmp_path / "mau.md").write_text(RETIRED, encoding="utf-8")
    out = cli_env.run("plan", str(tmp_path / "mau.md"), "--root", str(tmp_path), "--strict-refs")
    assert out.returncode == 30, out.stderr
    assert "MAU/D1" in out.stderr and "MAU/D3" in out.stderr
    assert "dangling reference: MAU/D1" in out.stdout
    fine = ACT.replace("Bình", "bình").replace("đủ điều kiện", "đủ mọi điều kiện")
    (tmp_path / "mau.md").write_text(fine, encoding="utf-8")
    out = cli_env.run("plan", str(tmp_path / "mau.md"), "--root", str(tmp_path), "--strict-refs")
    assert out.returncode == 2, out.stderr


def test_plan_review_page_lists_the_dangling_references(
    db: Any, cli_env: Any, tmp_path: Any
) -> None:
    """plan --report writes the review page with every reference that would dangle: the
    citing code, the reference as written and why; the terminal review lists it too."""
    import json
    import re

    db_settings = db.settings(execution="enabled")
    apply_documents(db_settings, db.provider(), [cut_text(ACT, "mau.md")])
    (tmp_path / "mau.md").write_text(RETIRED, encoding="utf-8")
    report = tmp_path / "review"
    out = cli_env.run(
        "plan", str(tmp_path / "mau.md"), "--root", str(tmp_path), "--report", str(report)
    )
    assert out.returncode == 2, out.stderr
    assert 'dangling reference: MAU/D1 cites "Điều 3": MAU/D3 is retired' in out.stdout
    (page,) = report.glob("plan-*.html")
    found = re.search(r'id="plan-data">(.*?)</script>', page.read_text("utf-8"), re.S)
    assert found is not None
    dangling = json.loads(found.group(1))["dangling"]
    assert [(d["source"], d["text"], d["why"]) for d in dangling] == [
        ("MAU/D1", "Điều 3", "MAU/D3 is retired")
    ]


def test_a_new_documents_reference_from_no_unit_of_it_is_refused(db: Any) -> None:
    """A new document's references are written by fn_iu_apply_document itself (0017);
    one whose source is no unit of the document is refused there (IUC01) as
    fn_iu_set_references refuses it, by the execution role, and nothing is written."""
    doc = cut_text(LAW, "luat.md")
    with db.connect(role="cutter_exec") as conn:
        dp = plan_document(conn, doc, None)
        conn.rollback()
    with db.connect() as admin:
        before = state_digest(admin, db.schema)
    with db.connect(role="cutter_exec", autocommit=True) as conn:
        with conn.transaction():
            run_id = begin_run(conn, "apply")
        arguments = write_arguments(dp)
        refs = json.loads(arguments["refs"])
        assert refs, "the law cites"
        refs.append({**refs[0], "code": "luat/khong-co"})
        arguments = {**arguments, "refs": json.dumps(refs)}
        with pytest.raises(ContractError) as caught, conn.transaction():
            _call_apply(conn, run_id, arguments)
    assert caught.value.context.get("sqlstate") == "IUC01"
    assert "reference source luat/khong-co" in str(caught.value)
    with db.connect() as admin:
        assert state_digest(admin, db.schema) == before
        n = admin.execute(f"SELECT count(*) FROM {db.schema}.unit_reference").scalar()
    assert n == 0
