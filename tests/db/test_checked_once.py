"""A new document is checked and its version recorded once, by fn_iu_apply_document
(0021): the row's triggers skip their reading of the document only for the insert that
the function's receipt (the document version it recorded in the same transaction, equal
to the row) covers. Every other write of a document row is checked in full as before:
an update in the same transaction, an insert whose last version is another
transaction's, and a new document whose path already holds units."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iucut.apply import apply_documents, document_payload
from iucut.cut import cut_text
from iucut.errors import ContractError
from iucut.plan import diff_document
from iucut.units import CutDocument

LAW = """\
# Act on Receipts

Preamble.

## Article 1. Scope

1. First clause.
2. Second clause.

## Article 2. End

The end.
"""

APPLY = "SELECT @s@.fn_iu_apply_document(%(run)s, %(doc)s::jsonb, %(ops)s::jsonb)"


def cut(path: str = "act.md") -> CutDocument:
    doc = cut_text(LAW.encode(), path)
    assert isinstance(doc, CutDocument)
    return doc


def arguments(doc: CutDocument, run: Any) -> dict[str, Any]:
    document, ops = document_payload(diff_document(doc, None, {}))
    return {"run": run, "doc": json.dumps(document), "ops": json.dumps(ops)}


def sqlstate(exc: BaseException) -> str | None:
    assert isinstance(exc, ContractError), exc
    return exc.context.get("sqlstate")


def test_the_version_recorded_by_the_function_is_the_documents_units(db: Any) -> None:
    """The folded record holds what fn_iu_record_document_version reads from the tables:
    the current versions, codes and parents of the active units in position order."""
    doc = cut()
    apply_documents(db.settings(execution="enabled"), db.provider(), [doc])
    s = db.schema
    with db.connect(autocommit=True) as conn:
        recorded = conn.execute(
            f"SELECT doc_hash, namespace, state, size_bytes, version_ids, codes, parent_codes "
            f"FROM {s}.iu_document_version WHERE doc_path = 'act.md'"
        ).fetchall()
        units = conn.execute(
            f"SELECT array_agg(v.version_id ORDER BY u.position) AS ids, "
            f"array_agg(u.code ORDER BY u.position) AS codes, "
            f"array_agg(u.parent_code ORDER BY u.position) AS parents "
            f"FROM {s}.information_unit u JOIN {s}.unit_version v "
            f"ON v.unit_id = u.unit_id AND v.version = u.current_version "
            f"WHERE u.doc_path = 'act.md' AND u.state = 'active'"
        ).fetchone()
    assert len(recorded) == 1
    row = dict(recorded[0])
    assert (row["doc_hash"], row["namespace"], row["state"], row["size_bytes"]) == (
        doc.doc_hash,
        doc.namespace,
        "active",
        doc.size,
    )
    assert list(row["version_ids"]) == list(units["ids"])
    assert list(row["codes"]) == list(units["codes"]) == [u.code for u in doc.units]
    assert list(row["parent_codes"]) == list(units["parents"])


def test_an_update_in_the_same_transaction_is_checked_in_full(db: Any) -> None:
    """The receipt covers the function's insert only: after it, in the same transaction,
    a unit moved after its parent's place and the row written again unchanged is
    refused (IUC04), though the row still equals the version the function recorded."""
    doc = cut()
    s = db.schema
    conn = db.connect()
    with pytest.raises(ContractError) as info, conn.transaction():
        run = conn.execute(f"SELECT {s}.fn_run_begin('apply') AS r").scalar()
        conn.execute(APPLY.replace("@s@", s), arguments(doc, run))
        clause = doc.units[3]
        conn.execute(
            f"UPDATE {s}.information_unit SET parent_code = %(later)s WHERE code = %(code)s",
            {"later": doc.units[-1].code, "code": clause.code},
        )
        conn.execute(f"UPDATE {s}.iu_document SET last_run = last_run WHERE doc_path = 'act.md'")
    assert sqlstate(info.value) == "IUC04", info.value.message


def test_an_insert_after_another_transactions_version_is_checked_in_full(db: Any) -> None:
    """A document's last version recorded by an earlier transaction is no receipt: its row
    deleted and inserted again, equal to that version, over a broken tree, is refused."""
    doc = cut()
    apply_documents(db.settings(execution="enabled"), db.provider(), [doc])
    s = db.schema
    conn = db.connect()
    with pytest.raises(ContractError) as info, conn.transaction():
        conn.execute(
            f"CREATE TEMP TABLE kept AS SELECT * FROM {s}.iu_document WHERE doc_path = 'act.md'"
        )
        conn.execute(
            f"UPDATE {s}.information_unit SET parent_code = %(later)s WHERE code = %(code)s",
            {"later": doc.units[-1].code, "code": doc.units[3].code},
        )
        conn.execute(f"DELETE FROM {s}.iu_document WHERE doc_path = 'act.md'")
        conn.execute("ALTER TABLE kept DROP COLUMN row_hash")  # (0022: PostgreSQL's to compute)
        conn.execute(f"INSERT INTO {s}.iu_document SELECT * FROM kept")
    assert sqlstate(info.value) == "IUC04", info.value.message


def test_a_new_document_whose_path_holds_a_unit_is_checked_in_full(db: Any) -> None:
    """A path with an active unit but no row (written around the functions): the units
    created by the call are not all of the document's, so nothing is folded and the row's
    check counts the other unit too (refused, and nothing written)."""
    doc = cut()
    s = db.schema
    conn = db.connect()
    with conn.transaction():
        run = conn.execute(f"SELECT {s}.fn_run_begin('apply') AS r").scalar()
        conn.execute(
            f"INSERT INTO {s}.information_unit (code, namespace, doc_path, parent_code, kind, "
            "label, ordinal, depth, position, current_version, content_hash, created_run, "
            "updated_run) VALUES (%(code)s, %(ns)s, 'act.md', %(ns)s, 'paragraph', NULL, 9, 1, "
            "999, 1, %(hash)s, %(run)s, %(run)s)",
            {"code": doc.namespace + "/STRAY", "ns": doc.namespace, "hash": "0" * 64, "run": run},
        )
    with pytest.raises(ContractError) as info, conn.transaction():
        run = conn.execute(f"SELECT {s}.fn_run_begin('apply') AS r").scalar()
        conn.execute(APPLY.replace("@s@", s), arguments(doc, run))
    assert sqlstate(info.value) in {"IUC02", "IUC07"}, info.value.message
    with db.connect(autocommit=True) as check:
        assert check.execute(f"SELECT count(*) FROM {s}.iu_document").scalar() == 0
        assert check.execute(f"SELECT count(*) FROM {s}.iu_document_version").scalar() == 0


def test_a_new_document_without_its_document_unit_is_refused(db: Any) -> None:
    """The document unit given a parent (no root, parents still before children): IUC04,
    from the row's check, as before 0021."""
    doc = cut()
    document, ops = document_payload(diff_document(doc, None, {}))
    ops[0]["parent_code"] = ops[1]["code"]
    s = db.schema
    conn = db.connect(role="cutter_exec")
    with conn.transaction():
        run = conn.execute(f"SELECT {s}.fn_run_begin('apply') AS r").scalar()
    with pytest.raises(ContractError) as info, conn.transaction():
        conn.execute(
            APPLY.replace("@s@", s),
            {"run": run, "doc": json.dumps(document), "ops": json.dumps(ops)},
        )
    assert sqlstate(info.value) == "IUC04", info.value.message


def test_a_new_document_with_a_parent_after_its_child_is_refused(db: Any) -> None:
    """A clause whose parent comes after it (no cycle): IUC04."""
    doc = cut()
    document, ops = document_payload(diff_document(doc, None, {}))
    ops[3]["parent_code"] = ops[-1]["code"]
    s = db.schema
    conn = db.connect(role="cutter_exec")
    with conn.transaction():
        run = conn.execute(f"SELECT {s}.fn_run_begin('apply') AS r").scalar()
    with pytest.raises(ContractError) as info, conn.transaction():
        conn.execute(
            APPLY.replace("@s@", s),
            {"run": run, "doc": json.dumps(document), "ops": json.dumps(ops)},
        )
    assert sqlstate(info.value) == "IUC04", info.value.message
    assert ops[3]["code"] in info.value.message
