"""Write-path plans that cannot go stale: with generic plans made while the tables were
empty (plan_cache_mode = force_generic_plan, statistics of empty tables), writing a small
document into a database that holds thousands of units reads only that document's rows.

Nothing is timed: the rows each statement read are counted by the server
(``pg_stat_xact_user_tables``, this transaction's own counters).
"""

from __future__ import annotations

from typing import Any

import pytest

from iucut.apply import begin_run, finish_run, write_document
from iucut.cut import cut_text
from iucut.db.connector import Connection
from iucut.plan_state import plan_document, plan_for_values, read_documents
from iucut.units import CutDocument

BIG_UNITS = 3000
HISTORY = (
    "information_unit",
    "unit_version",
    "iu_lifecycle_log",
    "iu_document_version",
    "unit_reference",
)


def law(title: str, articles: dict[int, str], cite: str = "") -> str:
    """A small act: one unit per article (each citing ``cite``: a reference row)."""
    body = "".join(f"## Article {n}. Rule {n}\n\n{text}{cite}\n\n" for n, text in articles.items())
    return f"# {title}\n\n{body}"


SMALL = law("Act on Small Things", {n: f"Small rule {n} applies." for n in range(1, 6)})
# Article 2 revised, article 5 gone (retired), article 6 new (created).
SMALL_V2 = law(
    "Act on Small Things",
    {
        1: "Small rule 1 applies.",
        2: "Small rule 2 applies, amended.",
        3: "Small rule 3 applies.",
        4: "Small rule 4 applies.",
        6: "Small rule 6 applies.",
    },
)
# Every article cites the first: 3,000 reference rows that the small document's write
# must not read (fn_iu_set_references replaces the small document's references).
BIG = law(
    "Code of Many Things",
    {n: f"Many rule {n} applies." for n in range(1, BIG_UNITS + 1)},
    " See Article 1.",
)
OTHER = law("Act on Other Things", {n: f"Other rule {n} applies." for n in range(1, 4)})


READS = (
    "SELECT relname, seq_tup_read, coalesce(idx_tup_fetch, 0) AS idx_tup_fetch"
    " FROM pg_catalog.pg_stat_xact_user_tables WHERE schemaname = %(schema)s"
)


def reads(conn: Connection, schema: str) -> dict[str, int]:
    """Rows this transaction has read so far per table (sequentially or by an index)."""
    rows = conn.execute(READS, {"schema": schema}).fetchall()
    return {r["relname"]: r["seq_tup_read"] + r["idx_tup_fetch"] for r in rows}


def apply_one(conn: Connection, run_id: str, doc: CutDocument, schema: str) -> dict[str, Any]:
    """Plan and write one document in one transaction, as apply does; return what was
    written and the rows read per table by the planning reads and by the write function."""
    with conn.transaction():
        before = reads(conn, schema)
        conn.query("lock_document", doc_path=doc.path)
        current = read_documents(conn, [doc.path]).get(doc.path)
        dp = plan_document(conn, doc, current)
        planned = reads(conn, schema)
        counts = write_document(conn, run_id, dp)
        written = reads(conn, schema)
    return {
        "counts": counts,
        "plan": {t: planned.get(t, 0) - before.get(t, 0) for t in HISTORY},
        "write": {t: written.get(t, 0) - planned.get(t, 0) for t in HISTORY},
    }


def load_then_change(db: Any, role: str | None, *, client_setting: bool) -> dict[str, Any]:
    """In one session under force_generic_plan with the statistics of empty tables: write
    a small document (every statement planned on empty tables), a 3,000-unit one, then a
    change of the small one (revise, retire, create); returns that change's figures."""
    with db.connect(autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {db.name} SET plan_cache_mode = force_generic_plan")
        for table in (*HISTORY, "iu_document", "iu_run"):
            admin.execute(f"ANALYZE {db.schema}.{table}")  # statistics of empty tables
    conn = db.connect(role=role, autocommit=True)
    mode = conn.execute("SHOW plan_cache_mode").fetchone()
    assert mode is not None and mode["plan_cache_mode"] == "force_generic_plan"
    if client_setting:
        plan_for_values(conn)  # as apply and plan do on their connection
    with conn.transaction():
        run_id = begin_run(conn, "apply")
    small = cut_text(SMALL, "small.md")
    assert apply_one(conn, run_id, small, db.schema)["counts"]["created"] == len(small.units)
    big = cut_text(BIG, "big.md")
    assert apply_one(conn, run_id, big, db.schema)["counts"]["created"] == len(big.units)
    assert len(big.units) > BIG_UNITS
    change = apply_one(conn, run_id, cut_text(SMALL_V2, "small.md"), db.schema)
    # a new document after the load: the one-statement probe of its codes (0016)
    other = cut_text(OTHER, "other.md")
    change["new"] = apply_one(conn, run_id, other, db.schema)
    assert change["new"]["counts"]["created"] == len(other.units)
    change["new_bound"] = 10 * len(other.units)
    with conn.transaction():
        finish_run(conn, run_id, "finished", {})
    assert {k: change["counts"][k] for k in ("created", "revised", "retired")} == {
        "created": 1,
        "revised": 1,
        "retired": 1,
    }
    change["bound"] = 10 * len(small.units)  # ten reads per unit of the document
    return change


@pytest.mark.parametrize("role", [None, "cutter_exec"])
def test_the_write_function_reads_only_the_documents_rows_whatever_the_session_plans(
    db: Any, role: str | None
) -> None:
    """fn_iu_apply_document, called from a session that forces generic plans (made on
    empty tables), changes 3 units of a small document after a 3,000-unit load reading no
    more unit, version or log rows than ten per unit of the document; so does writing a
    new 4-unit document."""
    change = load_then_change(db, role, client_setting=False)
    assert all(n <= change["bound"] for n in change["write"].values()), change
    new = change["new"]
    assert all(n <= change["new_bound"] for n in new["write"].values()), new


def test_the_planning_reads_of_apply_read_only_the_documents_rows(db: Any) -> None:
    """The reads apply makes to plan a document (its row, its units, codes held
    elsewhere), on a connection set up as apply sets it up, read no more than ten unit,
    version or log rows per unit of the document, under force_generic_plan."""
    change = load_then_change(db, "cutter_exec", client_setting=True)
    assert all(n <= change["bound"] for n in change["plan"].values()), change
    assert all(n <= change["bound"] for n in change["write"].values()), change
