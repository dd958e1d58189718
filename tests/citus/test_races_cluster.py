"""Races between writers on the Citus cluster: two documents claiming one namespace at
once, a freeze against applies in flight. Each test holds one writer's transaction open
at the point where the race is decided and lets the other run into it.
Run with `make test-citus` (tests/citus/conftest.py starts the cluster)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from tests.citus.conftest import CitusDatabase, wait_for
from tests.citus.test_apply_cluster import LIVE
from tests.citus.test_distributed import layout, on_node, run, sources

from iucut.apply import (
    DocumentResult,
    _apply_one,
    apply_documents,
    begin_run,
    finish_run,
    write_document,
)
from iucut.cut import cut_text
from iucut.db.connector import Connection
from iucut.errors import Frozen
from iucut.plan_state import plan_document
from iucut.units import CutDocument

pytestmark = pytest.mark.citus

LAW = """\
# Luật Mẫu

### Điều 1. Phạm vi

Luật này quy định về mẫu.

### Điều 2. Nguyên tắc

1. Mọi người đều bình đẳng trước pháp luật.
"""

OTHER = LAW.replace("quy định về mẫu", "quy định về một mẫu khác")


def _cut(text: str, path: str, namespace: str) -> CutDocument:
    doc = cut_text(text, path, namespace=namespace)
    assert isinstance(doc, CutDocument)
    return doc


def waiting_anywhere(db: CitusDatabase) -> bool:
    """Whether a backend on any node of the cluster waits for a lock."""
    return any(
        on_node(db, node, "SELECT count(*) FROM pg_locks WHERE NOT granted") > 0
        for node in [db.cluster.coordinator, *db.cluster.workers]
    )


def in_background(target: Any) -> tuple[threading.Thread, list[Any]]:
    """``target()`` in a thread; its result or exception lands in the returned list."""
    out: list[Any] = []

    def body() -> None:
        try:
            out.append(target())
        except Exception as exc:  # handed to the test
            out.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, out


def _write_open(conn: Connection, run_id: str, doc: CutDocument) -> None:
    """The write of ``doc`` as apply makes it, in the caller's open transaction."""
    conn.query("lock_documents", run_id=run_id, doc_paths=[doc.path])
    write_document(conn, run_id, plan_document(conn, doc, None, check_new=False))


def test_two_documents_cannot_claim_one_namespace_at_once(citus_db: CitusDatabase) -> None:
    """Two new documents with the same namespace, written at the same time by two
    appliers (each past the function's check of codes held by other documents before
    the other commits): one of them is refused, never both written. On one server the
    unique index on code decides this race; on the cluster the key is (doc_path, code)."""
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    s = citus_db.schema
    first = citus_db.connect(role="cutter_exec", autocommit=True)
    second = citus_db.connect(role="cutter_exec", autocommit=True)
    runs = []
    for conn in (first, second):
        with conn.transaction():
            runs.append(begin_run(conn, "apply"))
    a = _cut(LAW, "a.md", "MAU")
    b = _cut(OTHER, "b.md", "MAU")
    with first.transaction():
        _write_open(first, runs[0], a)  # written, not committed
        thread, out = in_background(lambda: _apply_one(second, runs[1], "b.md", b))
        wait_for(lambda: not thread.is_alive() or waiting_anywhere(citus_db), timeout=120)
    thread.join(timeout=120)
    assert not thread.is_alive()
    (result,) = out
    assert isinstance(result, DocumentResult), result
    assert result.status == "rejected", result
    assert "MAU" in (result.error or ""), result
    owners = on_node(
        citus_db,
        citus_db.cluster.coordinator,
        f"SELECT string_agg(DISTINCT doc_path, ',') FROM {s}.information_unit",
    )
    assert owners == "a.md"
    for conn, run_id in zip((first, second), runs, strict=True):
        with conn.transaction():
            finish_run(conn, run_id, "finished", {})


def test_a_freeze_waits_for_a_cluster_write_in_flight_and_stops_the_rest(
    citus_db: CitusDatabase, tmp_path: Path
) -> None:
    """`iucut freeze` while an apply's document is written on the cluster, not yet
    committed: the freeze waits for it (the writer holds the coordinator's freeze lock),
    the document commits whole, then the same run's next document is refused (Frozen),
    so is a routed write function called on its own (delegated to the document's worker,
    which reads its copy of the control row), and so is an apply started after the
    freeze (exit 6), writing nothing; after `unfreeze` it applies."""
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    s = citus_db.schema
    writer = citus_db.connect(role="cutter_exec", autocommit=True)
    with writer.transaction():
        run_id = begin_run(writer, "apply")
    with writer.transaction():
        _write_open(writer, run_id, _cut(LAW, "a.md", "A"))  # in flight
        freeze, out = in_background(lambda: run(citus_db, "freeze", "--reason", "race"))
        wait_for(lambda: not freeze.is_alive() or waiting_anywhere(citus_db), timeout=120)
        assert freeze.is_alive(), out  # it waits for the write in flight
    freeze.join(timeout=120)
    (frozen,) = out
    assert frozen.returncode == 0, frozen.stderr
    documents = f"SELECT string_agg(doc_path, ',' ORDER BY doc_path) FROM {s}.iu_document"
    assert on_node(citus_db, citus_db.cluster.coordinator, documents) == "a.md"
    with pytest.raises(Frozen):
        _apply_one(writer, run_id, "b.md", _cut(OTHER, "b.md", "B"))
    with pytest.raises(Frozen):  # a routed function on its own: delegated to the worker
        writer.execute(
            f"SELECT {s}.fn_iu_document_profile(%(r)s, 'a.md', 'en', 'vi')", {"r": run_id}
        )
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "c.md").write_text(LAW, encoding="utf-8")
    later = run(citus_db, "apply", str(folder), IUCUT_ROOT=str(folder), **LIVE)
    assert later.returncode == 6, later.stderr
    assert on_node(citus_db, citus_db.cluster.coordinator, documents) == "a.md"
    assert run(citus_db, "unfreeze").returncode == 0
    again = run(citus_db, "apply", str(folder), IUCUT_ROOT=str(folder), **LIVE)
    assert again.returncode == 0, again.stderr
    assert on_node(citus_db, citus_db.cluster.coordinator, documents) == "a.md,c.md"


def test_namespace_claims_come_with_the_layout_and_with_a_later_refresh(
    citus_db: CitusDatabase, tmp_path: Path
) -> None:
    """A single-node schema with documents, moved by `migrate --distributed`, gets one
    namespace claim per document (from its units' codes), replicated; a schema laid out
    before the claims existed gets them from the next `migrate --distributed`; then a
    new document in a claimed namespace is refused, and the claims stay as they were."""
    folder = sources(tmp_path, 3)
    assert run(citus_db, "migrate", "--roles").returncode == 0
    applied = run(citus_db, "apply", str(folder), IUCUT_ROOT=str(folder), **LIVE)
    assert applied.returncode == 0, applied.stderr
    s = citus_db.schema
    documents = (
        f"SELECT string_agg(namespace || '=' || doc_path, ',' ORDER BY namespace) "
        f"  FROM {s}.iu_document"
    )
    claims = (
        f"SELECT string_agg(namespace || '=' || doc_path, ',' ORDER BY namespace) "
        f"  FROM {s}.iu_namespace_claim"
    )
    expected = on_node(citus_db, citus_db.cluster.coordinator, documents)
    assert expected.count("=") == 3
    for step in ("laid out now", "laid out before the claims"):
        moved = run(citus_db, "migrate", "--roles", "--distributed")
        assert moved.returncode == 0, (step, moved.stderr)
        assert layout(citus_db)["iu_namespace_claim"][0] == "n", step
        for node in [citus_db.cluster.coordinator, *citus_db.cluster.workers]:
            assert on_node(citus_db, node, claims) == expected, (step, node.name)
        with citus_db.cluster.connect() as conn:  # as a layout made before them
            conn.execute(f"DROP TABLE {s}.iu_namespace_claim")
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    taken = expected.split(",")[0].split("=")[0]
    settings = citus_db.settings(execution="enabled", apply_role="cutter_exec")
    result = apply_documents(settings, citus_db.provider(), [_cut(LAW, "new.md", taken)])
    assert [r.path for r in result.rejected] == ["new.md"], result
    assert on_node(citus_db, citus_db.cluster.coordinator, claims) == expected


def test_verify_names_a_document_whose_namespace_is_claimed_by_another(
    citus_db: CitusDatabase, tmp_path: Path
) -> None:
    """`iucut verify` on the cluster fails the tree check for an active document whose
    namespace the claims give to another document (what a cluster written before the
    claims, or a claim changed by hand, can hold), naming both; it passes otherwise."""
    folder = sources(tmp_path, 2)
    assert run(citus_db, "migrate", "--roles", "--distributed").returncode == 0
    applied = run(citus_db, "apply", str(folder), IUCUT_ROOT=str(folder), **LIVE)
    assert applied.returncode == 0, applied.stderr
    assert run(citus_db, "verify").returncode == 0
    first = sorted(f.name for f in folder.glob("*.md"))[0]
    on_node(
        citus_db,
        citus_db.cluster.coordinator,
        f"UPDATE {citus_db.schema}.iu_namespace_claim SET doc_path = 'other.md' "
        f" WHERE doc_path = '{first}' RETURNING namespace",
    )
    verified = run(citus_db, "verify")
    assert verified.returncode != 0
    assert "FAIL  tree shape" in verified.stdout, verified.stdout
    assert f"{first}: namespace:" in verified.stdout, verified.stdout
    assert "is claimed by document other.md" in verified.stdout
