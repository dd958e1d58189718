"""Apply through the write functions on a real PostgreSQL: gate, idempotency, roles,
prune, collisions, bad input, freeze, and both drivers."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iucut import browse
from iucut.apply import ApplyResult, apply_documents
from iucut.cut import cut_file, cut_paths, cut_text
from iucut.db.connector import Connection
from iucut.errors import ConnectionFailed, ExecutionDisabled, Frozen, IucutError, NotFound
from iucut.units import CutDocument

LAW = """\
# Act on Examples

Preamble of the act.

## Article 1. Scope

This act applies to examples.

## Article 2. Terms

Words mean what they say.

## Article 3. Entry into force

This act enters into force on publication.
"""

OTHER = """\
# Regulation on Samples

## Section 1

Samples are taken daily.

## Section 2

Samples are kept for a year.
"""


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return folder


def cut_folder(folder: Path) -> list[CutDocument | IucutError]:
    return list(cut_paths([folder], glob="**/*.md"))


def apply(db: Any, items: list[CutDocument | IucutError], **kw: Any) -> ApplyResult:
    settings = db.settings(execution="enabled", **kw.pop("settings", {}))
    return apply_documents(settings, db.provider(**kw.pop("provider", {})), items, **kw)


def counts(conn: Connection) -> dict[str, int]:
    conn.rollback()
    row = conn.query("table_counts").fetchone()
    assert row is not None
    return dict(row)


def digests(conn: Connection) -> dict[str, str]:
    conn.rollback()
    row = conn.query("table_digests").fetchone()
    assert row is not None
    return dict(row)


def export(conn: Connection, doc: str) -> str:
    conn.rollback()
    return browse.export(conn, doc)[1]


# --------------------------------------------------------------------------------------
# The kill-switch
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("execution", [None, "", "Enabled", "true", "1", "on", "enabled "])
def test_kill_switch_off_refuses_before_any_connection(
    db: Any, tmp_path: Path, execution: str | None
) -> None:
    """Anything but exactly 'enabled' refuses apply with ExecutionDisabled and 0 connects."""
    items = cut_folder(write(tmp_path / "src", {"law.md": LAW}))
    provider = db.provider()
    settings = db.settings(execution=execution)
    with pytest.raises(ExecutionDisabled) as info:
        apply_documents(settings, provider, items)
    assert provider.calls == 0
    assert info.value.exit_code == 5
    assert "nothing was written" in info.value.message
    with db.connect() as conn:
        assert counts(conn)["iu_run"] == 0


def test_kill_switch_off_refuses_apply_plan_before_any_connection(db: Any) -> None:
    """apply --plan is gated the same way: ExecutionDisabled, 0 provider calls."""
    from iucut.apply import apply_plan
    from iucut.plan_state import make_plan

    with db.connect() as conn:
        plan = make_plan(conn, [cut_text(LAW.encode(), "law.md")])
    provider = db.provider()
    with pytest.raises(ExecutionDisabled):
        apply_plan(db.settings(), provider, plan, "id")
    assert provider.calls == 0


# --------------------------------------------------------------------------------------
# Applying, idempotency, export
# --------------------------------------------------------------------------------------


def test_first_apply_writes_one_version_and_one_created_event_per_unit(
    db: Any, tmp_path: Path
) -> None:
    """A first apply creates every unit at version 1 with one 'created' event, in one run."""
    items = cut_folder(write(tmp_path / "src", {"law.md": LAW, "sub/other.md": OTHER}))
    docs = [d for d in items if isinstance(d, CutDocument)]
    n = sum(len(d.units) for d in docs)
    result = apply(db, items)
    assert result.run_id is not None
    assert result.counts["created"] == n
    assert {d.status for d in result.documents} == {"applied"}
    with db.connect() as conn:
        assert counts(conn) == {
            "information_unit": n,
            "unit_version": n,
            "iu_lifecycle_log": n,
            "iu_run": 1,
            "iu_document": 2,
            "iu_control": 1,
        }
        run = conn.execute(f"SELECT status, mode, counts FROM {db.schema}.iu_run").fetchone()
        assert run is not None and (run["status"], run["mode"]) == ("finished", "apply")
        events = conn.execute(
            f"SELECT DISTINCT event, run_id::text AS run FROM {db.schema}.iu_lifecycle_log"
        ).fetchall()
        assert events == [{"event": "created", "run": result.run_id}]
        assert export(conn, "law.md") == LAW
        assert export(conn, "sub/other.md") == OTHER


def test_second_apply_is_a_no_op(db: Any, tmp_path: Path) -> None:
    """Applying the same source again opens no run and changes no row of any table."""
    folder = write(tmp_path / "src", {"law.md": LAW, "other.md": OTHER})
    apply(db, cut_folder(folder))
    with db.connect() as conn:
        before = digests(conn)
        again = apply(db, cut_folder(folder))
        assert again.run_id is None
        assert {d.status for d in again.documents} == {"skipped"}
        assert sum(again.counts.values()) == 0
        assert digests(conn) == before


def test_one_revised_clause_writes_one_version_and_one_event(db: Any, tmp_path: Path) -> None:
    """Editing one unit's text revises exactly that unit: one version row, one log row."""
    folder = write(tmp_path / "src", {"law.md": LAW, "other.md": OTHER})
    apply(db, cut_folder(folder))
    edited = LAW.replace("Words mean what they say.", "Words mean what they mean.")
    write(folder, {"law.md": edited})
    with db.connect() as conn:
        before = counts(conn)
        result = apply(db, cut_folder(folder))
        after = counts(conn)
        assert result.counts == {
            "created": 0,
            "revised": 1,
            "moved": 0,
            "retired": 0,
            "restored": 0,
            "placed": 0,
        }
        assert [d.status for d in result.documents if d.doc_path == "other.md"] == ["skipped"]
        assert after["unit_version"] - before["unit_version"] == 1
        assert after["iu_lifecycle_log"] - before["iu_lifecycle_log"] == 1
        assert after["information_unit"] == before["information_unit"]
        assert after["iu_run"] - before["iu_run"] == 1
        revised = conn.execute(
            f"SELECT u.code, u.current_version, l.event FROM {db.schema}.iu_lifecycle_log l "
            f"JOIN {db.schema}.information_unit u USING (unit_id) "
            f"WHERE l.run_id = %(run)s",
            {"run": result.run_id},
        ).fetchall()
        assert len(revised) == 1 and revised[0]["event"] == "revised"
        assert revised[0]["current_version"] == 2
        hist = browse.history(conn, revised[0]["code"])
        assert [v["version"] for v in hist.versions] == [1, 2]
        assert "Words mean what they mean." in hist.versions[1]["body"]
        assert export(conn, "law.md") == edited


def test_apply_round_trips_crlf_and_trailing_whitespace(db: Any, tmp_path: Path) -> None:
    """Export gives back the exact bytes, CRLF, tabs, trailing spaces and no final newline."""
    text = "# Title  \r\n\r\nBody\twith tab \r\n\n## Part 2\r\nlast line without newline"
    folder = write(tmp_path / "src", {"crlf.md": text})
    apply(db, cut_folder(folder))
    with db.connect() as conn:
        assert export(conn, "crlf.md").encode() == text.encode()


def test_apply_as_the_execution_role_works_through_the_functions(db: Any, tmp_path: Path) -> None:
    """As cutter_exec (no table rights), apply writes through the functions; actor recorded."""
    folder = write(tmp_path / "src", {"law.md": LAW})
    with db.connect(role="cutter_exec") as conn:
        with pytest.raises(IucutError):
            conn.execute(f"DELETE FROM {db.schema}.iu_document")
        conn.rollback()
    result = apply(db, cut_folder(folder), provider={"role": "cutter_exec"})
    assert result.counts["created"] > 0
    edited = LAW.replace("examples.", "every example.")
    write(folder, {"law.md": edited})
    result = apply(db, cut_folder(folder), settings={"apply_role": "cutter_exec"})
    assert result.counts["revised"] == 1
    with db.connect() as conn:
        actors = conn.execute(
            f"SELECT DISTINCT actor FROM {db.schema}.iu_lifecycle_log "
            f"UNION SELECT DISTINCT actor FROM {db.schema}.iu_run"
        ).fetchall()
        assert actors == [{"actor": "cutter_exec"}]
        assert export(conn, "law.md") == edited


@pytest.mark.parametrize("driver_name", ["psycopg", "psycopg2"])
def test_both_drivers_apply_revise_and_skip(db: Any, tmp_path: Path, driver_name: str) -> None:
    """psycopg 3 and psycopg2 (through the shim) give the same apply path and results."""
    folder = write(tmp_path / "src", {"law.md": LAW, "other.md": OTHER})
    first = apply(
        db, cut_folder(folder), settings={"driver": driver_name}, provider={"driver": driver_name}
    )
    assert first.counts["created"] > 0 and not first.failed
    write(folder, {"other.md": OTHER.replace("daily", "hourly")})
    second = apply(db, cut_folder(folder), provider={"driver": driver_name})
    assert second.counts["revised"] == 1 and not second.failed
    third = apply(db, cut_folder(folder), provider={"driver": driver_name})
    assert third.run_id is None
    with db.connect(driver=driver_name) as conn:
        assert conn.driver_name == driver_name
        assert export(conn, "other.md") == OTHER.replace("daily", "hourly")
        runs = conn.execute(f"SELECT status FROM {db.schema}.iu_run").fetchall()
        assert runs == [{"status": "finished"}] * 2


# --------------------------------------------------------------------------------------
# Prune, retire and restore
# --------------------------------------------------------------------------------------


def test_prune_retires_a_missing_document_and_export_refuses_it(db: Any, tmp_path: Path) -> None:
    """With --prune a document gone from the folder is retired; export then refuses it."""
    folder = write(tmp_path / "src", {"law.md": LAW, "other.md": OTHER})
    first = apply(db, cut_folder(folder))
    n_other = next(
        len(d.units)
        for d in cut_folder(folder)
        if isinstance(d, CutDocument) and d.path == "other.md"
    )
    (folder / "other.md").unlink()
    without_prune = apply(db, cut_folder(folder))
    assert without_prune.run_id is None  # not pruning: a missing document is left alone
    pruned = apply(db, cut_folder(folder), prune_scopes=[""])
    assert pruned.counts["retired"] == n_other
    with db.connect() as conn:
        with pytest.raises(NotFound, match="retired"):
            browse.export(conn, "other.md")
        conn.rollback()
        assert export(conn, "law.md") == LAW
        states = conn.execute(
            f"SELECT doc_path, state FROM {db.schema}.iu_document ORDER BY doc_path"
        ).fetchall()
        assert states == [
            {"doc_path": "law.md", "state": "active"},
            {"doc_path": "other.md", "state": "retired"},
        ]
        live = conn.execute(
            f"SELECT count(*) AS n FROM {db.schema}.information_unit "
            "WHERE doc_path = 'other.md' AND state = 'active'"
        ).scalar()
        assert live == 0
    assert first.run_id != pruned.run_id
    # pruning again does nothing; bringing the file back restores every unit
    assert apply(db, cut_folder(folder), prune_scopes=[""]).run_id is None
    write(folder, {"other.md": OTHER})
    back = apply(db, cut_folder(folder), prune_scopes=[""])
    assert back.counts["restored"] == n_other and back.counts["created"] == 0
    with db.connect() as conn:
        assert export(conn, "other.md") == OTHER


def test_prune_only_touches_documents_under_the_given_folders(db: Any, tmp_path: Path) -> None:
    """A prune scope limits retirement to documents under it; others stay active."""
    folder = write(tmp_path / "src", {"a/law.md": LAW, "b/other.md": OTHER})
    apply(db, cut_folder(folder))
    (folder / "b" / "other.md").unlink()
    only_a: list[CutDocument | IucutError] = [cut_file(folder / "a" / "law.md", root=folder)]
    result = apply(db, only_a, prune_scopes=["a"])
    assert result.run_id is None
    result = apply(db, only_a, prune_scopes=["b"])
    assert result.counts["retired"] > 0


# --------------------------------------------------------------------------------------
# Bad and colliding documents: rejected alone, the others proceed
# --------------------------------------------------------------------------------------


def test_a_document_colliding_with_another_documents_codes_is_rejected_alone(
    db: Any, tmp_path: Path
) -> None:
    """A document whose codes another document holds is rejected; the rest are written."""
    apply(db, [cut_text(LAW.encode(), "first.md", namespace="ACT")])
    with db.connect() as conn:
        before = digests(conn)
    clash = cut_text(LAW.encode(), "second.md", namespace="ACT")
    fine = cut_text(OTHER.encode(), "fine.md", namespace="REG")
    result = apply(db, [clash, fine])
    assert [r.path for r in result.rejected] == ["second.md"]
    assert "already belongs to document first.md" in result.rejected[0].message
    assert [(d.doc_path, d.status) for d in result.documents] == [("fine.md", "applied")]
    with db.connect() as conn:
        paths = conn.execute(
            f"SELECT DISTINCT doc_path FROM {db.schema}.information_unit ORDER BY 1"
        ).fetchall()
        assert paths == [{"doc_path": "fine.md"}, {"doc_path": "first.md"}]
        assert digests(conn)["information_unit"] != before["information_unit"]
        assert export(conn, "first.md") == LAW


def test_two_new_documents_with_one_namespace_do_not_block_the_others(
    db: Any, tmp_path: Path
) -> None:
    """Two documents of one run sharing a namespace are refused; other documents proceed."""
    a = cut_text(LAW.encode(), "a.md", namespace="SAME")
    b = cut_text(OTHER.encode(), "b.md", namespace="SAME")
    c = cut_text(OTHER.encode(), "c.md", namespace="THIRD")
    result = apply(db, [a, b, c])
    assert [(d.doc_path, d.status) for d in result.documents] == [("c.md", "applied")]
    assert sorted(r.path for r in result.rejected) == ["a.md", "b.md"]
    assert "namespace SAME" in result.rejected[0].message
    with db.connect() as conn:
        docs = conn.execute(f"SELECT doc_path FROM {db.schema}.iu_document").fetchall()
        assert docs == [{"doc_path": "c.md"}]


def test_invalid_utf8_document_writes_nothing_while_valid_ones_are_written(
    db: Any, tmp_path: Path
) -> None:
    """A document that is not UTF-8 is rejected (nothing of it written); the others apply."""
    folder = write(
        tmp_path / "src",
        {
            "good.md": LAW,
            "bad.md": b"# Title\n\nvalid start \xff\xfe broken\n",
            "other.md": OTHER,
        },
    )
    items = cut_folder(folder)
    result = apply(db, items)
    assert [r.path for r in result.rejected] == ["bad.md"]
    assert sorted(d.doc_path for d in result.documents if d.status == "applied") == [
        "good.md",
        "other.md",
    ]
    with db.connect() as conn:
        rows = conn.execute(
            f"SELECT count(*) AS n FROM {db.schema}.information_unit WHERE doc_path = 'bad.md'"
        ).scalar()
        assert rows == 0
        docs = conn.execute(f"SELECT doc_path FROM {db.schema}.iu_document ORDER BY 1").fetchall()
        assert docs == [{"doc_path": "good.md"}, {"doc_path": "other.md"}]


def test_prune_never_retires_a_document_that_is_present_but_rejected(
    db: Any, tmp_path: Path
) -> None:
    """A file that is still there but cannot be cut is rejected, not pruned as missing."""
    folder = write(tmp_path / "src", {"law.md": LAW, "other.md": OTHER})
    apply(db, cut_folder(folder))
    write(folder, {"other.md": OTHER.encode() + b"\xff broken"})
    result = apply(db, cut_folder(folder), prune_scopes=[""])
    assert [r.path for r in result.rejected] == ["other.md"]
    assert result.counts["retired"] == 0
    with db.connect() as conn:
        assert export(conn, "other.md") == OTHER


def test_all_or_nothing_writes_nothing_when_one_document_is_rejected(
    db: Any, tmp_path: Path
) -> None:
    """--all-or-nothing: one rejected document and nothing at all is written."""
    folder = write(tmp_path / "src", {"good.md": LAW, "bad.md": b"\xff\xfe\x00\x01"})
    with pytest.raises(IucutError, match="nothing was written"):
        apply(db, cut_folder(folder), all_or_nothing=True)
    with db.connect() as conn:
        assert counts(conn)["iu_run"] == 0 and counts(conn)["information_unit"] == 0


# --------------------------------------------------------------------------------------
# Freeze
# --------------------------------------------------------------------------------------


def test_frozen_database_refuses_apply_and_writes_nothing(db: Any, tmp_path: Path) -> None:
    """An operator's freeze stops apply with Frozen (exit 6) whatever the local switch says."""
    folder = write(tmp_path / "src", {"law.md": LAW})
    with db.connect(autocommit=True) as admin:
        admin.execute(f"SELECT {db.schema}.fn_iu_freeze('maintenance')")
    with pytest.raises(Frozen) as info:
        apply(db, cut_folder(folder))
    assert info.value.exit_code == 6
    with db.connect(autocommit=True) as conn:
        assert counts(conn)["iu_run"] == 0 and counts(conn)["information_unit"] == 0
        conn.execute(f"SELECT {db.schema}.fn_iu_unfreeze()")
    assert apply(db, cut_folder(folder)).counts["created"] > 0


def test_freeze_between_documents_stops_the_run_with_whole_documents(
    db: Any, tmp_path: Path
) -> None:
    """A freeze landing mid-run stops the next document; each written one is whole."""
    folder = write(
        tmp_path / "src", {f"d{i}.md": LAW.replace("examples", f"ex {i}") for i in range(4)}
    )
    items = cut_folder(folder)
    seen: list[str] = []

    def freeze_after_first(done: int, total: int, path: str) -> None:
        seen.append(path)
        if done == 1:
            with db.connect(autocommit=True) as admin:
                admin.execute(f"SELECT {db.schema}.fn_iu_freeze()")

    with pytest.raises(Frozen):
        apply(db, items, on_progress=freeze_after_first)
    with db.connect() as conn:
        docs = conn.execute(f"SELECT doc_path FROM {db.schema}.iu_document").fetchall()
        assert [d["doc_path"] for d in docs] == seen[:1]
        assert export(conn, seen[0]) == LAW.replace("examples", f"ex {seen[0][1]}")
        status = conn.execute(f"SELECT status FROM {db.schema}.iu_run").scalar()
        assert status in ("failed", "running")


# --------------------------------------------------------------------------------------
# Property: any document round-trips, and a second apply is a no-op
# --------------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        "# Title\n",
        "## Article 1. Scope\n",
        "## Article 2\r\n",
        "### Điều 3. Phạm vi\n",
        "1. A clause.\n",
        "2. Another clause.\n",
        "a) a point;\n",
        "Plain text with trailing spaces   \n",
        "\n",
        "\r\n",
        "```\n# not a heading\n```\n",
        "    indented code\n",
        "> quote\n",
        "text without newline",
        "Ünïcödé — “quotes” ✓\n",
        "\t\n",
    ]
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(FRAGMENTS, max_size=25), st.lists(FRAGMENTS, max_size=25))
def test_any_document_round_trips_and_reapplies_as_a_no_op(
    db: Any, first: list[str], second: list[str]
) -> None:
    """Any text applies, exports byte for byte and re-applies as a no-op; so does a second
    text over it, and the first again (restoring what the second retired)."""
    path = f"prop/{uuid.uuid4().hex}.md"
    with db.connect() as conn:
        for text in ("".join(first), "".join(second), "".join(first)):
            doc = cut_text(text.encode(), path)
            result = apply(db, [doc])
            assert not result.failed and not result.rejected
            assert export(conn, path).encode() == text.encode()
            before = digests(conn)
            assert apply(db, [cut_text(text.encode(), path)]).run_id is None
            assert digests(conn) == before
            assert_history_consistent(conn, db.schema)


def assert_history_consistent(conn: Connection, schema: str) -> None:
    """Versions run 1..current with no gap, the unit row's hash is its current version's,
    and every version after the first has a revised or restored event that made it."""
    conn.rollback()
    bad = conn.execute(
        f"""SELECT
              (SELECT count(*) FROM {schema}.information_unit u
                WHERE u.current_version <> (SELECT max(v.version) FROM {schema}.unit_version v
                                             WHERE v.unit_id = u.unit_id)
                   OR (SELECT count(*) FROM {schema}.unit_version v
                        WHERE v.unit_id = u.unit_id) <> u.current_version) AS gaps,
              (SELECT count(*) FROM {schema}.information_unit u
                 JOIN {schema}.unit_version v
                   ON v.unit_id = u.unit_id AND v.version = u.current_version
                WHERE v.content_hash <> u.content_hash) AS stale_hash,
              (SELECT count(*) FROM {schema}.unit_version v
                WHERE v.version > 1 AND NOT EXISTS (
                      SELECT 1 FROM {schema}.iu_lifecycle_log l
                       WHERE l.unit_id = v.unit_id AND l.to_version = v.version
                         AND l.event IN ('revised', 'restored'))) AS unlogged"""
    ).fetchone()
    conn.rollback()
    assert bad == {"gaps": 0, "stale_hash": 0, "unlogged": 0}


def test_a_lost_connection_stops_the_run_with_whole_documents(db: Any) -> None:
    """Connection lost mid-run: apply stops with ConnectionFailed (exit 8), not one failure
    per remaining document; the documents written before are whole, the rest untouched."""
    docs = [cut_text(f"# D{i}\n\n## A\n\ntext {i}\n".encode(), f"d{i}.md") for i in range(5)]

    def terminate_after_two(done: int, total: int, path: str) -> None:
        if done == 2:
            with db.connect(autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )

    with pytest.raises(ConnectionFailed) as info:
        apply(db, list(docs), on_progress=terminate_after_two)
    assert info.value.exit_code == 8
    with db.connect() as conn:
        written = conn.execute(f"SELECT doc_path FROM {db.schema}.iu_document ORDER BY 1")
        assert [r["doc_path"] for r in written.fetchall()] == ["d0.md", "d1.md"]
        for doc in docs[:2]:
            assert export(conn, doc.path) == doc.reassemble()


@pytest.mark.parametrize("role", [None, "cutter_exec"])
def test_a_new_document_written_since_the_triage_is_planned_again_under_its_lock(
    db: Any, tmp_path: Path, role: str | None
) -> None:
    """A document the triage found absent is written by one statement without the lock
    and the read; when another cutter wrote it in between, the function refuses that
    statement (the plan is stale) and the document is planned again under its lock:
    skipped when it is current, revised when it differs; the effective date rides along."""
    from iucut.apply import _apply_one, begin_run, finish_run

    dated = "---\neffective_date: 2024-01-01\n---\n" + LAW
    doc = cut_text(dated.encode(), "law.md")
    assert isinstance(doc, CutDocument)
    apply(db, [doc])  # "another cutter" wrote it after our triage
    conn = db.connect(role=role, autocommit=True)
    with conn.transaction():
        run_id = begin_run(conn, "apply")
    same = _apply_one(conn, run_id, "law.md", doc, new=True)
    assert (same.status, same.error) == ("skipped", None)
    changed = cut_text(dated.replace("to examples.", "to tests.").encode(), "law.md")
    assert isinstance(changed, CutDocument)
    revised = _apply_one(conn, run_id, "law.md", changed, new=True)
    assert (revised.status, revised.counts["revised"]) == ("applied", 1), revised
    fresh = cut_text(OTHER.encode(), "other.md")
    assert isinstance(fresh, CutDocument)
    created = _apply_one(conn, run_id, "other.md", fresh, new=True)
    assert (created.status, created.counts["created"]) == ("applied", len(fresh.units))
    with conn.transaction():
        finish_run(conn, run_id, "finished", {})
    dates = conn.execute(
        f"SELECT v.doc_path, e.effective_date::text AS d FROM {db.schema}.iu_document_effective e"
        f" JOIN {db.schema}.iu_document_version v USING (doc_version_id) ORDER BY 1, 2"
    ).fetchall()
    assert [(r["doc_path"], r["d"]) for r in dates] == [
        ("law.md", "2024-01-01"),
        ("law.md", "2024-01-01"),
    ]
