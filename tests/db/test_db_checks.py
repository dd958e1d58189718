"""The database checks what it is told: the granted write functions, called directly by
cutter_exec with forged input, refuse a content hash that is not the text's, a document
digest that is not its units', a code outside the document's namespace, a parent cycle,
a negative or a duplicate position — each with its own SQLSTATE and a hint naming the
code — and write nothing. The per-unit functions keep the document's hash that of its
units, so plan sees what they changed and apply repairs it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from iucut.apply import apply_documents, document_payload, op_columns
from iucut.browse import export
from iucut.cut import cut_text
from iucut.db import queries
from iucut.errors import ContractError, IucutError
from iucut.plan import diff_document
from iucut.plan_state import make_plan
from iucut.units import CutDocument

LAW = """\
# Act on Checks

Preamble.

## Article 1. Scope

1. First clause.
2. Second clause.

## Article 2. End

The end.
"""


def cut(text: str = LAW, path: str = "act.md", namespace: str | None = None) -> CutDocument:
    doc = cut_text(text.encode(), path, namespace=namespace)
    assert isinstance(doc, CutDocument)
    return doc


def payload(doc: CutDocument) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The arguments of fn_iu_apply_document that create ``doc``."""
    return document_payload(diff_document(doc, None, {}))


def digest(db: Any) -> dict[str, Any]:
    with db.connect(autocommit=True) as conn:
        row = conn.query("state_digest").fetchone()
        assert row is not None
        return dict(row)


def refusal(db: Any, sql: str, params: dict[str, Any], driver: str = "psycopg") -> ContractError:
    """Run ``sql`` as cutter_exec in an apply run; return the refusal (fails if it works)."""
    conn = db.connect(role="cutter_exec", driver=driver)
    with conn.transaction():
        run = conn.execute(f"SELECT {db.schema}.fn_run_begin('apply') AS r").scalar()
    with pytest.raises(ContractError) as info, conn.transaction():
        conn.execute(sql.replace("@s@", db.schema), {"run": run, **params})
    return info.value


APPLY = "SELECT @s@.fn_iu_apply_document(%(run)s, %(doc)s::jsonb, %(ops)s::jsonb)"


def forged_apply(
    db: Any, document: dict[str, Any], ops: list[dict[str, Any]], driver: str = "psycopg"
) -> ContractError:
    before = digest(db)
    exc = refusal(db, APPLY, {"doc": json.dumps(document), "ops": json.dumps(ops)}, driver)
    assert digest(db) == before, "a refused call wrote something"
    return exc


def check(exc: ContractError, sqlstate: str, code: str) -> None:
    """Refused with ``sqlstate``, and the hint names ``code``."""
    assert exc.context.get("sqlstate") == sqlstate, exc.message
    assert f"code {code}:" in (exc.hint or ""), exc.hint


@pytest.mark.parametrize("field", ["content_hash", "body"])
def test_a_content_hash_that_is_not_the_texts_is_refused(db: Any, driver: str, field: str) -> None:
    """A forged hash, or a text changed under its hash: IUC02 naming the code."""
    document, ops = payload(cut())
    target = ops[3]
    if field == "content_hash":
        target["content_hash"] = "0" * 64
    else:
        target["body"] += "smuggled\n"
    check(forged_apply(db, document, ops, driver), "IUC02", target["code"])


def test_a_document_hash_that_is_not_its_units_is_refused(db: Any, driver: str) -> None:
    """A forged document hash (plan would then skip the document forever): IUC07."""
    doc = cut()
    document, ops = payload(doc)
    document["doc_hash"] = hashlib.sha256(b"something else").hexdigest()
    exc = forged_apply(db, document, ops, driver)
    check(exc, "IUC07", doc.namespace)
    assert doc.doc_hash in exc.message


@pytest.mark.parametrize("field,value", [("size_bytes", 1), ("unit_count", 99)])
def test_a_document_size_or_count_that_is_not_its_units_is_refused(
    db: Any, field: str, value: int
) -> None:
    """A forged size or unit count: IUC07."""
    doc = cut()
    document, ops = payload(doc)
    document[field] = value
    check(forged_apply(db, document, ops), "IUC07", doc.namespace)


def test_a_code_outside_the_documents_namespace_is_refused(db: Any, driver: str) -> None:
    """A unit claiming a code of another namespace: IUC03 naming the code."""
    document, ops = payload(cut())
    last = ops[-1]
    last["code"] = "SOMEONE-ELSE/D9"
    check(forged_apply(db, document, ops, driver), "IUC03", "SOMEONE-ELSE/D9")


def test_a_document_claiming_another_documents_namespace_is_refused(db: Any) -> None:
    """A second document taking the namespace of the first, with codes of its own: IUC03."""
    first = cut()
    apply_documents(db.settings(execution="enabled"), db.provider(), [first])
    other = cut(LAW, "other.md", namespace="OTHER")
    document, ops = payload(other)
    document["namespace"] = first.namespace
    for o in ops:
        o["namespace"] = first.namespace
        o["code"] = first.namespace + "/X" + o["code"].replace("/", "-")
        if o["parent_code"]:
            o["parent_code"] = first.namespace + "/X" + o["parent_code"].replace("/", "-")
    ops[0]["code"] = first.namespace + "/XROOT"
    check(forged_apply(db, document, ops), "IUC03", first.namespace)


def test_a_parent_cycle_is_refused(db: Any, driver: str) -> None:
    """Two units each the other's parent: IUC04, named a cycle."""
    document, ops = payload(cut())
    heading, article = ops[1], ops[2]
    assert article["parent_code"] == heading["code"]
    heading["parent_code"] = article["code"]
    exc = forged_apply(db, document, ops, driver)
    check(exc, "IUC04", heading["code"])
    assert "cycle" in exc.message


def test_a_parent_in_another_document_is_refused(db: Any) -> None:
    """A parent that is a unit of another document: IUC04."""
    first = cut()
    apply_documents(db.settings(execution="enabled"), db.provider(), [first])
    other = cut(LAW, "other.md", namespace="OTHER")
    document, ops = payload(other)
    ops[-1]["parent_code"] = first.units[1].code
    check(forged_apply(db, document, ops), "IUC04", ops[-1]["code"])


def test_a_negative_position_is_refused(db: Any, driver: str) -> None:
    """A unit at position -1: IUC05 naming it."""
    document, ops = payload(cut())
    ops[2]["position"] = -1
    check(forged_apply(db, document, ops, driver), "IUC05", ops[2]["code"])


def test_a_duplicate_position_is_refused(db: Any, driver: str) -> None:
    """Two units at one position: IUC06 naming both."""
    document, ops = payload(cut())
    ops[3]["position"] = ops[2]["position"]
    exc = forged_apply(db, document, ops, driver)
    assert exc.context.get("sqlstate") == "IUC06"
    assert ops[2]["code"] in (exc.hint or "") and ops[3]["code"] in (exc.hint or "")


def test_a_forged_update_of_an_applied_document_writes_nothing(db: Any) -> None:
    """An update whose text does not match its hash, on a document already applied: IUC02,
    and the stored document is still the source."""
    doc = cut()
    apply_documents(db.settings(execution="enabled"), db.provider(), [doc])
    new = cut(LAW.replace("First clause.", "First clause, amended."))
    with db.connect(autocommit=True) as conn:
        plan = make_plan(conn, [new])
    document, ops = document_payload(plan.documents[0])
    revised = next(o for o in ops if o["op"] == "update")
    revised["body"] = revised["body"].replace("amended", "forged")
    check(forged_apply(db, document, ops), "IUC02", revised["code"])
    with db.connect(autocommit=True) as conn:
        assert export(conn, "act.md")[1] == LAW


def test_op_arrays_of_different_lengths_are_refused(db: Any) -> None:
    """The array form of fn_iu_apply_document (0013) refuses op arrays of unequal length
    (a short one would pad with NULLs, silently for the columns that may be NULL)."""
    document, ops = payload(cut())
    columns = op_columns(ops)
    columns["line_start"] = columns["line_start"][:-1]  # a column that may be NULL
    sql = queries.get("apply_document", db.schema).replace("%(run_id)s", "%(run)s")
    before = digest(db)
    exc = refusal(db, sql, {"document": json.dumps(document), "refs": None, **columns})
    assert exc.context.get("sqlstate") == "IUC01" and "differ in length" in exc.message
    assert digest(db) == before


def test_a_run_cannot_be_deleted(db: Any) -> None:
    """The foreign keys to iu_run are gone (0013): the run rows that units, versions and
    events name can be neither deleted nor truncated, even by the owner."""
    settings = db.settings(execution="enabled")
    assert apply_documents(settings, db.provider(), [cut()]).run_id is not None
    with db.connect(autocommit=True) as conn:
        for sql in (f"DELETE FROM {db.schema}.iu_run", f"TRUNCATE {db.schema}.iu_run CASCADE"):
            with pytest.raises(IucutError) as info:
                conn.execute(sql)
            assert info.value.context.get("sqlstate") == "IUI01", sql
        assert conn.execute(f"SELECT count(*) AS n FROM {db.schema}.iu_run").scalar() == 1


def test_the_profile_given_with_a_document_is_checked_like_fn_iu_document_profile(
    db: Any,
) -> None:
    """fn_iu_apply_document stores the document's profile in its own row write (0013):
    an empty profile is refused (IUC01), a stale expected profile too (IUS01), and
    nothing is written; the right one is stored."""
    document, ops = payload(cut())
    exc = forged_apply(db, {**document, "profile": "", "expect_profile": None}, ops)
    assert exc.context.get("sqlstate") == "IUC01"
    before = digest(db)
    conn = db.connect(role="cutter_exec")
    with conn.transaction():
        run = conn.execute(f"SELECT {db.schema}.fn_run_begin('apply') AS r").scalar()
    stale = {**document, "profile": "vi", "expect_profile": "en"}
    with pytest.raises(IucutError, match="changed since the plan") as info, conn.transaction():
        conn.execute(
            APPLY.replace("@s@", db.schema),
            {"run": run, "doc": json.dumps(stale), "ops": json.dumps(ops)},
        )
    assert info.value.context.get("sqlstate") == "IUS01"
    assert digest(db) == before
    with conn.transaction():
        conn.execute(
            APPLY.replace("@s@", db.schema),
            {
                "run": run,
                "doc": json.dumps({**stale, "expect_profile": None}),
                "ops": json.dumps(ops),
            },
        )
    profile = conn.execute(f"SELECT profile FROM {db.schema}.iu_document").scalar()
    conn.close()
    assert profile == "vi"
