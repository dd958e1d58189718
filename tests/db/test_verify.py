"""`iucut verify` re-checks the stored state (hashes, document digests, tree shape),
read-only, and `iucut doctor` includes it: a state changed behind the write functions'
back is named, with exit code 16."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iucut.apply import apply_documents
from iucut.cut import cut_paths
from iucut.doctor import doctor
from iucut.units import CutDocument
from iucut.verify import verify

#: ../shared/corpora of the checkout (found upwards, so a worktree finds it too)
CORPORA = next(
    (
        p / "shared" / "corpora"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "corpora").is_dir()
    ),
    Path(__file__).resolve().parents[3] / "shared" / "corpora",
)


def corpus_docs(n: int = 3) -> list[CutDocument]:
    """The first ``n`` documents of each corpus, cut."""
    docs: list[CutDocument] = []
    for folder in sorted(p for p in CORPORA.iterdir() if p.is_dir()):
        files = sorted(folder.rglob("*.md"))[:n]
        docs += [d for d in cut_paths(files, root=CORPORA) if isinstance(d, CutDocument)]
    return docs


@pytest.fixture
def applied(db: Any) -> list[CutDocument]:
    """A database holding a few real documents of every corpus."""
    docs = corpus_docs()
    assert len(docs) >= 6
    result = apply_documents(db.settings(execution="enabled"), db.provider(), docs)
    assert not result.failed
    return docs


def by_name(checks: Any) -> dict[str, Any]:
    return {c.name: c for c in checks}


def forge(db: Any, sql: str, **params: Any) -> None:
    """Change the stored state as an administrator, past the triggers (a restore, a
    hand edit, a bug): what verify exists to notice."""
    with db.connect() as admin, admin.transaction():
        admin.execute("SET LOCAL session_replication_role = replica")
        admin.execute(sql.replace("@s@", db.schema), params)


def a_unit(db: Any, where: str = "u.depth = 2") -> dict[str, Any]:
    with db.connect(autocommit=True) as conn:
        row = conn.execute(
            f"SELECT u.* FROM {db.schema}.information_unit u WHERE {where} "
            "ORDER BY u.doc_path, u.position LIMIT 1"
        ).fetchone()
    assert row is not None
    return dict(row)


def test_a_clean_state_passes_and_verify_writes_nothing(db: Any, applied: Any) -> None:
    """After apply every check passes; verify changes no row, and the reader may run it."""
    with db.connect(autocommit=True) as conn:
        before = conn.query("table_digests").fetchone()
    with db.connect(role="iucut_reader", autocommit=True) as conn:
        checks = verify(conn)
    assert [c.status for c in checks] == ["PASS"] * 4
    assert f"{sum(len(d.units) for d in applied)} units" in str(
        by_name(checks)["unit hashes"].evidence
    )
    with db.connect(autocommit=True) as conn:
        assert conn.query("table_digests").fetchone() == before


def test_a_version_text_changed_behind_its_hash_is_named(db: Any, applied: Any) -> None:
    """An edited version body: its hash and its document's digest both FAIL, by code."""
    unit = a_unit(db)
    forge(
        db,
        "UPDATE @s@.unit_version SET body = body || 'forged' WHERE unit_id = %(id)s",
        id=unit["unit_id"],
    )
    with db.connect(autocommit=True) as conn:
        checks = by_name(verify(conn))
    assert checks["version hashes"].status == "FAIL"
    assert f"{unit['code']} v1" in str(checks["version hashes"].evidence)
    assert checks["document digests"].status == "FAIL"
    assert unit["doc_path"] in str(checks["document digests"].evidence)
    assert checks["unit hashes"].status == "PASS" and checks["tree shape"].status == "PASS"


def test_a_stale_document_hash_is_named(db: Any, applied: Any) -> None:
    """A document hash that is not its units' (plan would skip it forever) FAILs."""
    doc = applied[1]
    forge(
        db,
        "UPDATE @s@.iu_document SET doc_hash = repeat('0', 64) WHERE doc_path = %(p)s",
        p=doc.path,
    )
    with db.connect(autocommit=True) as conn:
        check = by_name(verify(conn))["document digests"]
    assert check.status == "FAIL"
    assert f"{doc.path}: stored hash {'0' * 64}, its units give {doc.doc_hash}" in str(
        check.evidence
    )


def test_a_unit_hash_that_is_not_its_versions_is_named(db: Any, applied: Any) -> None:
    """A unit row whose hash is not its current version's FAILs, by code."""
    unit = a_unit(db)
    forge(
        db,
        "UPDATE @s@.information_unit SET content_hash = 'x' WHERE unit_id = %(id)s",
        id=unit["unit_id"],
    )
    with db.connect(autocommit=True) as conn:
        check = by_name(verify(conn))["unit hashes"]
    assert check.status == "FAIL" and unit["code"] in str(check.evidence)


@pytest.mark.parametrize(
    "change,rule",
    [
        ("parent_code = code", "cycle"),
        ("position = -1", "position"),
        ("position = 0", "position"),
        ("code = 'ELSEWHERE/' || code", "namespace"),
        ("depth = depth + 3", "parent"),
    ],
)
def test_a_broken_tree_is_named(db: Any, applied: Any, change: str, rule: str) -> None:
    """A parent cycle, negative or duplicate position, a code outside the namespace, a
    wrong depth: each is a FAIL of tree shape naming the rule."""
    unit = a_unit(db)
    forge(
        db, f"UPDATE @s@.information_unit SET {change} WHERE unit_id = %(id)s", id=unit["unit_id"]
    )
    with db.connect(autocommit=True) as conn:
        check = by_name(verify(conn))["tree shape"]
    assert check.status == "FAIL"
    assert f"{unit['doc_path']}: {rule}: " in str(check.evidence)


def test_doctor_includes_verify(db: Any, applied: Any) -> None:
    """doctor's 'stored state' check passes on a clean state and fails on a forged one."""
    assert by_name(doctor(db.settings()))["stored state"].status == "PASS"
    forge(db, "UPDATE @s@.iu_document SET unit_count = unit_count + 1")
    check = by_name(doctor(db.settings()))["stored state"]
    assert check.status == "FAIL" and "document digests" in str(check.evidence)


def test_verify_command_exit_codes_and_json(db: Any, applied: Any, cli_env: Any) -> None:
    """`iucut verify`: exit 0 when clean, 16 with the problem named when not; --json is
    one document either way."""
    ok = cli_env.run("verify")
    assert ok.returncode == 0, ok.stderr
    assert "IUCUT_VERIFY 4/4 ALL_CHECKS_PASS" in ok.stdout
    unit = a_unit(db)
    forge(
        db,
        "UPDATE @s@.unit_version SET content_hash = 'f' WHERE unit_id = %(id)s",
        id=unit["unit_id"],
    )
    bad = cli_env.run("verify")
    assert bad.returncode == 16
    assert unit["code"] in bad.stdout and "FAIL" in bad.stdout
    as_json = cli_env.run("verify", "--json")
    assert as_json.returncode == 16
    data = json.loads(as_json.stdout)
    statuses = {c["name"]: c["status"] for c in data["checks"]}
    assert statuses["version hashes"] == "FAIL" and statuses["tree shape"] == "PASS"
