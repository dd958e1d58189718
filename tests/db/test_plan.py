"""Planning against a real database, and applying a reviewed plan: read-only planning,
predicted counts, stale plans and plans for another database refused."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from iucut import browse
from iucut.apply import apply_documents, apply_plan
from iucut.cut import cut_text
from iucut.db.target import with_database
from iucut.errors import StalePlan
from iucut.plan_state import make_plan
from iucut.planfile import plan_hash, read_plan, write_plan
from iucut.units import CutDocument, Plan

LAW = """\
# Act on Plans

Preamble.

## Article 1. Scope

This act applies to plans.

## Article 2. Review

Every plan is reviewed.

## Article 3. Repeal

Older plans are repealed.
"""


def cut(text: str, path: str = "act.md") -> CutDocument:
    doc = cut_text(text.encode(), path)
    assert isinstance(doc, CutDocument)
    return doc


def plan_for(db: Any, *docs: CutDocument, role: str | None = None) -> Plan:
    with db.connect(role=role) as conn:
        return make_plan(conn, list(docs))


def digests(db: Any) -> dict[str, str]:
    with db.connect() as conn:
        row = conn.query("table_digests").fetchone()
        assert row is not None
        return dict(row)


def enabled(db: Any) -> Any:
    return db.settings(execution="enabled")


def test_planning_only_reads_and_works_as_the_reader_role(db: Any) -> None:
    """make_plan writes nothing, and the read-only role can plan."""
    apply_documents(enabled(db), db.provider(), [cut(LAW)])
    before = digests(db)
    plan = plan_for(db, cut(LAW.replace("plans.", "all plans.")), role="iucut_reader")
    assert plan.counts["revised"] == 1
    assert digests(db) == before


def test_plan_counts_predict_what_apply_does(db: Any) -> None:
    """The events a plan announces are exactly the events the apply of it logs."""
    apply_documents(enabled(db), db.provider(), [cut(LAW)])
    new = LAW.replace("Every plan is reviewed.", "Every plan is reviewed twice.")
    new = new.replace("## Article 3. Repeal\n\nOlder plans are repealed.\n", "")
    new += "\n## Article 4. New\n\nA new article.\n"
    plan = plan_for(db, cut(new))
    expected = {k: v for k, v in plan.counts.items() if k != "unchanged"}
    assert expected["revised"] >= 1 and expected["retired"] >= 1 and expected["created"] >= 1
    result = apply_plan(enabled(db), db.provider(), plan, plan_hash(plan))
    assert {k: result.counts[k] for k in expected} == expected
    with db.connect() as conn:
        logged = conn.execute(
            f"SELECT event, count(*) AS n FROM {db.schema}.iu_lifecycle_log "
            "WHERE run_id = %(run)s GROUP BY event",
            {"run": result.run_id},
        ).fetchall()
        assert {r["event"]: r["n"] for r in logged} == {k: v for k, v in expected.items() if v}
        assert browse.export(conn, "act.md")[1] == new


def test_apply_of_a_plan_file_writes_the_plan_and_records_its_id(db: Any, tmp_path: Path) -> None:
    """A plan written to a file and read back applies; the run carries the plan's id."""
    plan = plan_for(db, cut(LAW))
    plan_id = write_plan(plan, tmp_path / "plan.json")
    back, read_id = read_plan(tmp_path / "plan.json")
    result = apply_plan(enabled(db), db.provider(), back, read_id)
    assert result.counts["created"] == plan.counts["created"]
    with db.connect() as conn:
        recorded = conn.execute(f"SELECT plan_hash FROM {db.schema}.iu_run").scalar()
        assert recorded == plan_id
        assert browse.export(conn, "act.md")[1] == LAW


def test_a_plan_applies_once(db: Any) -> None:
    """Once applied, the same plan is stale: applying it again is refused, nothing written."""
    plan = plan_for(db, cut(LAW))
    apply_plan(enabled(db), db.provider(), plan, plan_hash(plan))
    before = digests(db)
    with pytest.raises(StalePlan) as info:
        apply_plan(enabled(db), db.provider(), plan, plan_hash(plan))
    assert info.value.exit_code == 7
    assert digests(db) == before


def test_stale_plan_is_refused_when_the_document_moved_on(db: Any) -> None:
    """A plan made before someone else applied a change is refused; nothing is written."""
    apply_documents(enabled(db), db.provider(), [cut(LAW)])
    mine = plan_for(db, cut(LAW.replace("plans.", "my plans.")))
    apply_documents(enabled(db), db.provider(), [cut(LAW.replace("plans.", "their plans."))])
    before = digests(db)
    with pytest.raises(StalePlan, match="changed in the database since the plan"):
        apply_plan(enabled(db), db.provider(), mine, plan_hash(mine))
    assert digests(db) == before
    with db.connect() as conn:
        assert "their plans." in browse.export(conn, "act.md")[1]


def test_stale_plan_is_refused_when_a_unit_version_moved_on(db: Any) -> None:
    """A unit precondition that no longer holds refuses the whole plan before any write."""
    apply_documents(enabled(db), db.provider(), [cut(LAW)])
    plan = plan_for(db, cut(LAW.replace("plans.", "my plans.")))
    doc = plan.documents[0]
    change = next(c for c in doc.changes if c.op == "revise")
    bad = replace(change, expect_version=(change.expect_version or 0) + 1)
    tampered = replace(
        plan,
        documents=(replace(doc, changes=tuple(bad if c is change else c for c in doc.changes)),),
    )
    before = digests(db)
    with pytest.raises(StalePlan, match="expected"):
        apply_plan(enabled(db), db.provider(), tampered, plan_hash(tampered))
    assert digests(db) == before


def test_stale_precondition_is_also_enforced_by_the_database(db: Any) -> None:
    """Even past the client's check, fn_iu_apply_document refuses a stale document plan."""
    from iucut.apply import begin_run, write_document

    apply_documents(enabled(db), db.provider(), [cut(LAW)])
    plan = plan_for(db, cut(LAW.replace("plans.", "my plans.")))
    apply_documents(enabled(db), db.provider(), [cut(LAW.replace("plans.", "x plans."))])
    with db.connect() as conn:
        with conn.transaction():
            run = begin_run(conn, "apply")
        with pytest.raises(StalePlan), conn.transaction():
            write_document(conn, run, plan.documents[0])
        conn.rollback()
        assert "x plans." in browse.export(conn, "act.md")[1]


def test_a_plan_made_for_another_database_is_refused(
    db: Any, pg_server: Any, pg_template: str
) -> None:
    """A plan bound to another database (same server, same schema) is refused, unwritten."""
    other = f"iucut_other_{secrets.token_hex(4)}"
    with pg_server.admin() as admin:
        admin.execute(f"CREATE DATABASE {other} TEMPLATE {pg_template}")
    try:
        other_db = replace(db, name=other, dsn=with_database(db.dsn, other), _open=[])
        plan = plan_for(other_db, cut(LAW))
        other_db.close_all()
        assert plan.fingerprint.database == other
        before = digests(db)
        with pytest.raises(StalePlan, match="made for another database"):
            apply_plan(enabled(db), db.provider(), plan, plan_hash(plan))
        assert digests(db) == before
        with db.connect() as conn:
            assert conn.query("table_counts").fetchone()["iu_run"] == 0  # type: ignore[index]
    finally:
        with pg_server.admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {other} WITH (FORCE)")


@pytest.mark.parametrize(
    "field,value",
    [("schema", "elsewhere"), ("system_identifier", "1"), ("migration_version", 999)],
)
def test_a_plan_with_another_fingerprint_is_refused(db: Any, field: str, value: Any) -> None:
    """Another schema, cluster or schema version in the fingerprint refuses the plan."""
    plan = plan_for(db, cut(LAW))
    foreign = replace(plan, fingerprint=replace(plan.fingerprint, **{field: value}))
    with pytest.raises(StalePlan, match="another database"):
        apply_plan(enabled(db), db.provider(), foreign, plan_hash(foreign))
    with db.connect() as conn:
        assert conn.query("table_counts").fetchone()["information_unit"] == 0  # type: ignore[index]


def test_empty_plan_opens_no_run(db: Any) -> None:
    """A plan with nothing to do writes nothing, not even a run row."""
    apply_documents(enabled(db), db.provider(), [cut(LAW)])
    plan = plan_for(db, cut(LAW))
    assert not plan.has_changes
    before = digests(db)
    result = apply_plan(enabled(db), db.provider(), plan, plan_hash(plan))
    assert result.run_id is None
    assert digests(db) == before


def test_a_tampered_unit_in_a_plan_file_is_refused_by_the_row_contract(
    db: Any, tmp_path: Path
) -> None:
    """A plan file whose unit text was edited (hash no longer matching) is refused, exit 4."""
    import json

    from iucut.errors import ContractError

    plan = plan_for(db, cut(LAW))
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    data = json.loads(path.read_bytes())
    unit = data["documents"][0]["changes"][1]["unit"]
    unit["body"] = unit["body"] + "Injected text.\n"
    path.write_text(json.dumps(data), encoding="utf-8")
    tampered, tampered_id = read_plan(path)
    with pytest.raises(ContractError, match="content_hash") as info:
        apply_plan(enabled(db), db.provider(), tampered, tampered_id)
    assert info.value.exit_code == 4
    with db.connect() as conn:
        assert conn.query("table_counts").fetchone()["iu_run"] == 0  # type: ignore[index]


def test_a_plan_row_missing_fields_is_refused_naming_them(db: Any) -> None:
    """A row without body and title is refused before any write, naming [body, title]."""
    from iucut.errors import ContractError

    plan = plan_for(db, cut(LAW))
    doc = plan.documents[0]
    first = doc.changes[0]
    assert first.unit is not None
    bare = replace(first, unit=replace(first.unit, body=None, title=None))  # type: ignore[arg-type]
    broken = replace(plan, documents=(replace(doc, changes=(bare, *doc.changes[1:])),))
    provider = db.provider()
    with pytest.raises(ContractError, match=r"missing=\[body, title\]"):
        apply_plan(enabled(db), provider, broken, plan_hash(broken))
    assert provider.calls == 0  # refused before connecting


def test_plan_and_apply_plan_with_each_driver(db: Any, driver: str) -> None:
    """make_plan and apply_plan give the same result through psycopg 3 and psycopg2."""
    with db.connect(driver=driver) as conn:
        plan = make_plan(conn, [cut(LAW)])
    result = apply_plan(
        db.settings(execution="enabled", driver=driver), db.provider(driver), plan, plan_hash(plan)
    )
    assert result.counts["created"] == plan.counts["created"]
    with db.connect(driver=driver) as conn:
        revised = make_plan(conn, [cut(LAW.replace("reviewed.", "read."))])
    assert revised.counts["revised"] == 1
    again = apply_plan(
        db.settings(execution="enabled", driver=driver),
        db.provider(driver),
        revised,
        plan_hash(revised),
    )
    assert again.counts["revised"] == 1
    with db.connect(driver=driver) as conn:
        assert browse.export(conn, "act.md")[1] == LAW.replace("reviewed.", "read.")


def test_plan_carries_the_stored_text_of_revised_and_retired_units_only(db: Any) -> None:
    """make_plan reads the stored text of the units it revises or retires (for their
    diff), as the reader role, and of no other unit."""
    before = cut(LAW)
    apply_documents(enabled(db), db.provider(), [before])
    edited = LAW.replace("Every plan is reviewed.", "Every  plan is reviewed. ").replace(
        "## Article 3. Repeal\n\nOlder plans are repealed.\n", "## Article 4. New\n\nNew.\n"
    )
    plan = plan_for(db, cut(edited), role="iucut_reader")
    old = before.by_code()
    changes = plan.documents[0].changes
    ops = {c.op for c in changes}
    assert {"revise", "retire", "create"} <= ops
    for change in changes:
        if change.op in ("revise", "retire"):
            assert change.old is not None and change.old.text == old[change.code].text
            assert change.old.title == old[change.code].title
        else:
            assert change.old is None
    revised = next(c for c in changes if c.op == "revise")
    assert "Every plan is reviewed." in revised.old.text  # type: ignore[union-attr]
    assert revised.unit is not None and "Every  plan is reviewed. " in revised.unit.text
