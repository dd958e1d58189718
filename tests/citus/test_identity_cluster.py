"""Identity on the Citus cluster as on one server: a renumbered unit moves to its new
code (fn_iu_recode inside apply's transaction) keeping its history, a code once held is
never handed to another unit, and plan names the references a change would leave
dangling (retired or renumbered targets, ``--strict-refs`` exit 30). Each is the
single-node test of tests/db/test_identity.py or tests/db/test_refs.py run on the
distributed schema, its state compared with a single-node schema's where it writes.
Run with `make test-citus` (tests/citus/conftest.py starts the cluster)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.citus.conftest import CitusDatabase
from tests.citus.test_apply_cluster import LIVE, digest
from tests.citus.test_distributed import on_node, run

from iucut.apply import apply_documents
from iucut.cut import cut_text
from iucut.errors import IucutError

pytestmark = pytest.mark.citus

EXEC = "cutter_exec"
KAP = "# G\n\n## Abschnitt 1\n\n### Untertitel 1 - Vereine\n\n#### Kapitel 1 - A\n\n#### § 1 x\n\n"
NEW_KAP = "### Untertitel 2 - Stiftungen\n\n#### Kapitel 1 - B\n\n#### § 2 y\n"

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


@pytest.fixture
def both(citus_db: CitusDatabase) -> Iterator[list[CitusDatabase]]:
    """The test's distributed schema and a single-node schema beside it (coordinator)."""
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    single = CitusDatabase(citus_db.cluster, f"{citus_db.schema}_one", citus_db.home)
    assert run(citus_db, "migrate", "--roles", IUCUT_SCHEMA=single.schema).returncode == 0
    try:
        yield [citus_db, single]
    finally:
        single.close_all()
        with citus_db.cluster.connect() as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {single.schema} CASCADE")


def apply(db: CitusDatabase, text: str, path: str, namespace: str | None = None) -> Any:
    """Apply one document as the execution role; it must not fail."""
    settings = db.settings(execution="enabled", apply_role=EXEC)
    result = apply_documents(settings, db.provider(), [cut_text(text, path, namespace=namespace)])
    assert not result.failed and not result.rejected, result
    return result


def scalar(db: CitusDatabase, sql: str) -> Any:
    return on_node(db, db.cluster.coordinator, sql.format(s=db.schema))


def test_a_renumbered_code_is_a_move_of_the_same_unit_on_the_cluster(
    both: list[CitusDatabase],
) -> None:
    """A unit whose code becomes qualified is moved to the new code on the cluster as on
    one server: same unit id, its child follows, the old code is held by no unit, one
    'moved' event; the state is the single-node schema's; then fn_iu_recode refuses to
    hand the old code to another unit (IUC01)."""
    for db in both:
        apply(db, KAP, "g.md", "G")
        before = scalar(db, "SELECT unit_id FROM {s}.information_unit WHERE code = 'G/Kap1'")
        result = apply(db, KAP + NEW_KAP, "g.md", "G")
        assert result.counts["moved"] == 1 and result.counts["retired"] == 0, result.counts
        moved = "G/untertitel-1/Kap1"
        row = scalar(db, "SELECT unit_id || ' ' || state FROM {s}.information_unit "
                         "WHERE code = 'G/untertitel-1/Kap1'")  # fmt: skip
        assert row == f"{before} active", db.schema
        child = "SELECT parent_code FROM {s}.information_unit WHERE code = 'G/§1'"
        assert scalar(db, child) == moved
        assert scalar(db, "SELECT count(*) FROM {s}.information_unit WHERE code = 'G/Kap1'") == 0
        events = "SELECT count(*) FROM {s}.iu_lifecycle_log WHERE event = 'moved'"
        assert scalar(db, events) == 1
    cluster, single = both
    assert digest(cluster) == digest(cluster, single.schema)
    for db in both:
        with db.connect(role=EXEC, autocommit=True) as conn:
            run_id = conn.execute(f"SELECT {db.schema}.fn_run_begin('apply') AS r").scalar()
            with pytest.raises(IucutError, match="belongs to another unit"):
                conn.execute(
                    f"SELECT {db.schema}.fn_iu_recode(%(r)s, 'g.md', "
                    """'[{"from": "G/§1", "to": "G/Kap1", "expect_version": 1}]'::jsonb)""",
                    {"r": run_id},
                )
    assert digest(cluster) == digest(cluster, single.schema)


def _plan(db: CitusDatabase, folder: Path, text: str, *extra: str) -> Any:
    (folder / "mau.md").write_text(text, encoding="utf-8")
    return run(db, "plan", str(folder / "mau.md"), "--root", str(folder), *extra)


def test_plan_names_dangling_references_on_the_cluster(
    citus_db: CitusDatabase, tmp_path: Path
) -> None:
    """plan on the cluster names the active unit whose reference a change would leave
    pointing at a retired unit, or at another unit after a renumbering; --strict-refs
    refuses such a plan (exit 30) naming the citing unit, and passes an unbroken one."""
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    folder = tmp_path / "acts"
    folder.mkdir()
    (folder / "mau.md").write_text(ACT, encoding="utf-8")
    applied = run(citus_db, "apply", str(folder), IUCUT_ROOT=str(folder), **LIVE)
    assert applied.returncode == 0, applied.stderr

    out = _plan(citus_db, folder, RETIRED, "--json")
    assert out.returncode == 2, out.stderr
    dangling = json.loads(out.stdout)["dangling"]
    assert [(d["source"], d["target"], d["reason"]) for d in dangling] == [
        ("MAU/D1", "MAU/D3", "retired")
    ]
    out = _plan(citus_db, folder, RENUMBERED, "--json")
    assert out.returncode == 2, out.stderr
    dangling = json.loads(out.stdout)["dangling"]
    assert [(d["source"], d["target"], d["reason"], d["now"]) for d in dangling] == [
        ("MAU/D1", "MAU/D3", "renumbered", "MAU/D4")
    ]
    out = _plan(citus_db, folder, RETIRED, "--strict-refs")
    assert out.returncode == 30, out.stderr
    assert "MAU/D1" in out.stderr and "MAU/D3" in out.stderr
    fine = ACT.replace("Bình", "bình").replace("đủ điều kiện", "đủ mọi điều kiện")
    out = _plan(citus_db, folder, fine, "--strict-refs")
    assert out.returncode == 2, out.stderr
