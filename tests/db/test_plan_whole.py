"""A reviewed plan applies whole or not at all: its documents are locked and every
precondition checked before the first write, so a concurrent writer either waits for the
plan or makes it stale before anything is written; `--single-transaction` writes all or
nothing; and the output always lists what was written."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from iucut.apply import apply_documents, apply_plan, begin_run, write_document
from iucut.browse import export
from iucut.cut import cut_text
from iucut.errors import ContractError, StalePlan
from iucut.plan import diff_document
from iucut.plan_state import make_plan, read_documents
from iucut.planfile import plan_hash, write_plan
from iucut.units import CutDocument, Plan

N = 11


def law(i: int, word: str = "applies") -> str:
    return f"# Act {i}\n\n## Article 1. Scope\n\nAct {i} {word}.\n\n## Article 2. End\n\nEnd.\n"


def cut(text: str, path: str) -> CutDocument:
    doc = cut_text(text.encode(), path)
    assert isinstance(doc, CutDocument)
    return doc


def docs(word: str = "applies") -> list[CutDocument]:
    return [cut(law(i, word), f"d{i:02d}.md") for i in range(N)]


def enabled(db: Any, **kw: Any) -> Any:
    return db.settings(execution="enabled", **kw)


def plan_of(db: Any, items: list[CutDocument]) -> Plan:
    with db.connect(autocommit=True) as conn:
        return make_plan(conn, list(items))


def stored(db: Any) -> dict[str, str]:
    """The text of every document, as export gives it back."""
    with db.connect(autocommit=True) as conn:
        paths = conn.execute(f"SELECT doc_path FROM {db.schema}.iu_document").fetchall()
        return {p["doc_path"]: export(conn, p["doc_path"])[1] for p in paths}


def digests(db: Any) -> dict[str, Any]:
    with db.connect(autocommit=True) as conn:
        row = conn.query("table_digests").fetchone()
        assert row is not None
        return dict(row)


LAST = f"d{N - 1:02d}.md"


@pytest.fixture
def reviewed(db: Any) -> Plan:
    """Eleven documents applied, and a reviewed plan that revises every one of them."""
    apply_documents(enabled(db), db.provider(), docs())
    plan = plan_of(db, docs("is amended"))
    assert sum(1 for d in plan.documents if d.has_changes) == N
    return plan


def test_a_writer_during_the_apply_waits_for_the_whole_plan(
    db: Any, reviewed: Plan, driver: str
) -> None:
    """A concurrent writer changing the last document while the plan is being applied
    waits for the plan's locks: all 11 documents are written, then its change lands."""
    theirs = cut(law(N - 1, "is theirs"), LAST)
    finished = threading.Event()
    errors: list[BaseException] = []

    def concurrent_writer() -> None:
        try:
            apply_documents(enabled(db, driver=driver), db.provider(driver), [theirs])
        except BaseException as exc:  # reported by the assertions below
            errors.append(exc)
        finally:
            finished.set()

    writer = threading.Thread(target=concurrent_writer)

    def after_the_first(done: int, total: int, path: str) -> None:
        if done == 1:
            writer.start()
            finished.wait(2.0)  # the writer runs now (and, unlocked, would finish)

    result = apply_plan(
        enabled(db, driver=driver),
        db.provider(driver),
        reviewed,
        plan_hash(reviewed),
        on_progress=after_the_first,
    )
    writer.join(30)
    assert not errors
    assert result.stopped is None
    assert [d.doc_path for d in result.written] == [f"d{i:02d}.md" for i in range(N)]
    texts = stored(db)
    assert all(texts[f"d{i:02d}.md"] == law(i, "is amended") for i in range(N - 1))
    assert texts[LAST] == law(N - 1, "is theirs")  # serialized after the plan


def test_a_writer_holding_a_document_makes_the_plan_stale_before_any_write(
    db: Any, reviewed: Plan, driver: str
) -> None:
    """A writer in flight on the last document when the plan starts: the plan waits for
    its lock, sees the change, and writes nothing at all (exit 7)."""
    writer = db.connect(role="cutter_exec", driver=driver)
    with db.connect(autocommit=True) as conn:
        current = read_documents(conn, [LAST])[LAST]  # with its stored profile
    change = diff_document(cut(law(N - 1, "is theirs"), LAST), current, _units(db, LAST))
    with writer.transaction():
        run = begin_run(writer, "apply")
    writer.query("lock_documents", run_id=run, doc_paths=[LAST])
    write_document(writer, run, change)  # written, not yet committed
    outcome: list[BaseException | None] = []

    def apply_the_plan() -> None:
        try:
            apply_plan(enabled(db, driver=driver), db.provider(driver), reviewed, "id")
            outcome.append(None)
        except BaseException as exc:  # asserted below
            outcome.append(exc)

    thread = threading.Thread(target=apply_the_plan)
    thread.start()
    thread.join(1.5)
    assert thread.is_alive(), "the plan did not wait for the document's writer"
    writer.commit()
    thread.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], StalePlan)
    assert "nothing of the plan was written" in outcome[0].message
    texts = stored(db)
    assert all(texts[f"d{i:02d}.md"] == law(i) for i in range(N - 1))
    assert texts[LAST] == law(N - 1, "is theirs")
    with db.connect(autocommit=True) as conn:
        plan_runs = conn.execute(
            f"SELECT count(*) FROM {db.schema}.iu_run WHERE plan_hash = 'id'"
        ).scalar()
    assert plan_runs == 0


def _units(db: Any, path: str) -> Any:
    from iucut.plan_state import read_units

    with db.connect(autocommit=True) as conn:
        return read_units(conn, path)


def forged_last(plan: Plan) -> Plan:
    """The plan with the last document's hash forged: the rows pass the client's row
    contract, the database refuses the document (IUC07)."""
    documents = list(plan.documents)
    documents[-1] = replace(documents[-1], doc_hash="0" * 64)
    return replace(plan, documents=tuple(documents))


def test_single_transaction_writes_nothing_when_a_document_is_refused(
    db: Any, reviewed: Plan, driver: str
) -> None:
    """--single-transaction: the last document refused, the ten before it are not kept."""
    before = digests(db)
    plan = forged_last(reviewed)
    with pytest.raises(ContractError):
        apply_plan(
            enabled(db, driver=driver),
            db.provider(driver),
            plan,
            plan_hash(plan),
            single_transaction=True,
        )
    after = digests(db)
    assert {k: v for k, v in after.items() if k != "iu_run"} == {
        k: v for k, v in before.items() if k != "iu_run"
    }


def test_a_plan_stopped_midway_lists_what_was_written(db: Any, reviewed: Plan) -> None:
    """Without --single-transaction each document is whole; a refusal at the last one
    stops the plan and the result says which ten were written and which one was not."""
    plan = forged_last(reviewed)
    result = apply_plan(enabled(db), db.provider(), plan, plan_hash(plan))
    assert isinstance(result.stopped, ContractError)
    assert [d.doc_path for d in result.written] == [f"d{i:02d}.md" for i in range(N - 1)]
    assert [(d.doc_path, d.status) for d in result.documents][-1] == (LAST, "failed")
    texts = stored(db)
    assert texts[LAST] == law(N - 1)  # untouched
    assert texts["d00.md"] == law(0, "is amended")


def test_the_apply_command_lists_what_was_written_when_a_plan_stops(
    db: Any, reviewed: Plan, cli_env: Any, tmp_path: Path
) -> None:
    """`iucut apply --plan` (text and --json): what was written and what was not, then the
    error and its exit code; --single-transaction writes none of it."""
    path = tmp_path / "plan.json"
    write_plan(forged_last(reviewed), path)
    env = {"IUCUT_EXECUTION": "enabled"}
    at_once = cli_env.run("apply", "--plan", str(path), "--single-transaction", env=env)
    assert at_once.returncode == 4, at_once.stderr
    assert stored(db) == {f"d{i:02d}.md": law(i) for i in range(N)}
    as_json = cli_env.run("apply", "--plan", str(path), "--json", env=env)
    assert as_json.returncode == 4, as_json.stderr
    data = json.loads(as_json.stdout)  # one JSON document
    result = data["context"]["result"]
    assert result["written"] == [f"d{i:02d}.md" for i in range(N - 1)]
    assert "the plan stopped after 10 documents of 11 were written" in data["message"]


def test_the_apply_command_text_output_lists_the_documents(
    db: Any, reviewed: Plan, cli_env: Any, tmp_path: Path
) -> None:
    """Text output of a stopped plan: one 'written' line per written document and one
    NOT WRITTEN line for the rest, on stdout; the error on stderr."""
    path = tmp_path / "plan.json"
    write_plan(forged_last(reviewed), path)
    done = cli_env.run("apply", "--plan", str(path), env={"IUCUT_EXECUTION": "enabled"})
    assert done.returncode == 4, done.stderr
    lines = done.stdout.splitlines()
    assert [ln.split(":")[0] for ln in lines if ": written" in ln] == [
        f"d{i:02d}.md" for i in range(N - 1)
    ]
    assert f"{LAST}: NOT WRITTEN" in lines
    assert "10 documents of 11 were written" in done.stderr
