"""The freeze holds: once `iucut freeze` returns, no live write commits — not one whose
REPEATABLE READ snapshot predates the freeze, not one in flight — and a freeze that cannot
wait long enough names the writers and changes nothing. Both drivers."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from iucut.apply import document_payload
from iucut.cut import cut_text
from iucut.errors import FreezeTimeout, Frozen
from iucut.plan import diff_document
from iucut.units import CutDocument

LAW = "# Act on Freezing\n\n## Article 1. Scope\n\nThis act applies.\n\n## Article 2. End\n\nEnd.\n"


def payload(path: str = "act.md", text: str = LAW) -> dict[str, str]:
    """The arguments of fn_iu_apply_document that create ``text`` as document ``path``."""
    doc = cut_text(text.encode(), path)
    assert isinstance(doc, CutDocument)
    document, ops = document_payload(diff_document(doc, None, {}))
    return {"doc": json.dumps(document), "ops": json.dumps(ops)}


def apply_sql(schema: str) -> str:
    return f"SELECT {schema}.fn_iu_apply_document(%(run)s, %(doc)s::jsonb, %(ops)s::jsonb)"


def begin_run(db: Any, driver: str = "psycopg") -> str:
    """An apply run, begun and committed by cutter_exec."""
    with db.connect(role="cutter_exec", driver=driver, autocommit=True) as conn:
        return str(conn.execute(f"SELECT {db.schema}.fn_run_begin('apply') AS r").scalar())


def freeze(db: Any, timeout: str = "20s") -> None:
    """What `iucut freeze` does: bounded by lock_timeout, in its own transaction."""
    with db.connect() as admin, admin.transaction():
        admin.execute("SELECT set_config('lock_timeout', %(t)s, true)", {"t": timeout})
        admin.execute(f"SELECT {db.schema}.fn_iu_freeze('test')")


def written(db: Any) -> dict[str, int]:
    with db.connect(autocommit=True) as conn:
        row = conn.query("table_counts").fetchone()
        assert row is not None
        return {k: row[k] for k in ("information_unit", "unit_version", "iu_document")}


NOTHING = {"information_unit": 0, "unit_version": 0, "iu_document": 0}


def test_a_repeatable_read_snapshot_older_than_the_freeze_cannot_begin_a_run(
    db: Any, driver: str
) -> None:
    """A REPEATABLE READ session that took its snapshot before the freeze is refused."""
    writer = db.connect(role="cutter_exec", driver=driver)
    writer.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    writer.execute(f"SELECT count(*) FROM {db.schema}.iu_control")  # the snapshot
    freeze(db)
    with pytest.raises(Frozen, match="freeze state changed"):
        run = writer.execute(f"SELECT {db.schema}.fn_run_begin('apply') AS r").scalar()
        writer.execute(apply_sql(db.schema), {"run": run, **payload()})
        writer.commit()
    writer.rollback()
    assert written(db) == NOTHING


def test_a_repeatable_read_snapshot_older_than_the_freeze_cannot_write_in_a_run(
    db: Any, driver: str
) -> None:
    """A run begun before the freeze, written by a snapshot older than it: refused."""
    run = begin_run(db, driver)
    writer = db.connect(role="cutter_exec", driver=driver)
    writer.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    writer.execute(f"SELECT count(*) FROM {db.schema}.iu_run")  # the snapshot
    freeze(db)
    with pytest.raises(Frozen):
        writer.execute(apply_sql(db.schema), {"run": run, **payload()})
        writer.commit()
    writer.rollback()
    assert written(db) == NOTHING


def test_freeze_waits_for_a_write_in_flight_and_nothing_commits_after_it(
    db: Any, driver: str
) -> None:
    """A freeze returns only after the write in flight committed; the next write is refused."""
    run = begin_run(db, driver)
    writer = db.connect(role="cutter_exec", driver=driver)
    writer.execute(apply_sql(db.schema), {"run": run, **payload()})  # in flight
    returned: list[float] = []
    errors: list[BaseException] = []

    def operator() -> None:
        try:
            freeze(db)
            returned.append(time.monotonic())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=operator)
    thread.start()
    time.sleep(1.0)
    assert not returned and not errors, "freeze returned while a write was in flight"
    committed = time.monotonic()
    writer.commit()
    thread.join(30)
    assert not errors and returned and returned[0] >= committed
    assert written(db)["iu_document"] == 1  # the write in flight finished before the freeze
    with pytest.raises(Frozen):
        writer.execute(apply_sql(db.schema), {"run": run, **payload("other.md")})
    writer.rollback()
    assert written(db)["iu_document"] == 1


def test_a_writer_waiting_behind_the_freeze_is_refused(db: Any, driver: str) -> None:
    """A write that starts while the freeze waits queues behind it and is then refused."""
    run = begin_run(db, driver)
    first = db.connect(role="cutter_exec", driver=driver)
    first.execute(apply_sql(db.schema), {"run": run, **payload()})
    thread = threading.Thread(target=freeze, args=(db,))
    thread.start()
    time.sleep(0.5)
    outcome: list[BaseException | None] = []

    def second_writer() -> None:
        second = db.connect(role="cutter_exec", driver=driver)
        try:
            second.execute(apply_sql(db.schema), {"run": run, **payload("other.md")})
            second.commit()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)
            second.rollback()

    late = threading.Thread(target=second_writer)
    late.start()
    time.sleep(0.5)
    first.commit()
    thread.join(30)
    late.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], Frozen)
    with db.connect(autocommit=True) as conn:
        paths = conn.execute(f"SELECT doc_path FROM {db.schema}.iu_document").fetchall()
    assert [p["doc_path"] for p in paths] == ["act.md"]


def test_a_freeze_that_cannot_wait_names_the_writers_and_changes_nothing(
    db: Any, cli_env: Any
) -> None:
    """`iucut freeze --wait 1` with a write in flight: exit 17, the writer's pid named,
    and the database is not frozen; the writer still commits."""
    run = begin_run(db)
    writer = db.connect(role="cutter_exec")
    writer.execute(apply_sql(db.schema), {"run": run, **payload()})
    pid = writer.backend_pid
    done = cli_env.run("freeze", "--wait", "1", "--reason", "audit")
    assert done.returncode == 17, done.stderr
    assert f"pid {pid} (role cutter_exec" in done.stderr
    assert "not frozen" in done.stderr
    assert done.stdout == ""
    writer.commit()
    with db.connect(autocommit=True) as conn:
        assert conn.query("control").fetchone()["frozen"] is False  # type: ignore[index]
    assert written(db)["iu_document"] == 1
    again = cli_env.run("freeze", "--wait", "1")
    assert again.returncode == 0, again.stderr


def test_a_write_and_a_freeze_in_one_transaction_cannot_commit(db: Any, driver: str) -> None:
    """The deferred check at COMMIT refuses rows of an apply run when the freeze is set."""
    admin = db.connect(driver=driver)
    with pytest.raises(Frozen, match="cannot commit"), admin.transaction():
        run = admin.execute(f"SELECT {db.schema}.fn_run_begin('apply') AS r").scalar()
        admin.execute(apply_sql(db.schema), {"run": run, **payload()})
        admin.execute(f"SELECT {db.schema}.fn_iu_freeze('same transaction')")
    assert written(db) == NOTHING


def test_proofs_still_run_under_a_freeze_in_repeatable_read(db: Any, driver: str) -> None:
    """A proof run is not refused by the freeze, whatever its isolation level."""
    freeze(db)
    with db.connect(role="cutter_exec", driver=driver) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        run = conn.execute(f"SELECT {db.schema}.fn_run_begin('proof') AS r").scalar()
        counts = conn.execute(apply_sql(db.schema), {"run": run, **payload()}).scalar()
        assert json.loads(counts)["created"] > 0 if isinstance(counts, str) else counts["created"]
        conn.rollback()
    assert written(db) == NOTHING


def test_freeze_timeout_maps_to_its_own_error(db: Any) -> None:
    """IUF02 from the database is FreezeTimeout (exit 17) through the connector."""
    run = begin_run(db)
    writer = db.connect(role="cutter_exec")
    writer.execute(apply_sql(db.schema), {"run": run, **payload()})
    with pytest.raises(FreezeTimeout) as info:
        freeze(db, timeout="300ms")
    assert info.value.exit_code == 17
    writer.rollback()
