"""Verify: re-check the stored state against itself, read-only, in one snapshot.

The write functions check what they are told; ``verify`` checks what is there, whoever
wrote it: every version's hash is the ``iu1`` hash of its text (recomputed in SQL), every
unit's hash is its current version's, every active document's hash, size and unit count
are those of its active units in order (what ``iucut export`` gives back), and every
document is a tree (one root, codes in its namespace, parents one level up and earlier,
positions non-negative and distinct, no cycles). It returns checks and prints nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iucut.db.connector import Connection
from iucut.distributed import is_distributed, read_layout
from iucut.report import Check

#: How many problems each check lists (of each rule, for the tree; the count says how
#: many there are in all).
LIMIT = 20


def verify(conn: Connection, limit: int = LIMIT) -> list[Check]:
    """The four checks of the stored state, read in one read-only snapshot."""
    with conn.transaction(force_rollback=True):
        conn.query("verify_snapshot")
        counts = conn.query("verify_counts").fetchone() or {}
        rows = {
            name: conn.query(f"verify_{name}", limit=limit).fetchall()
            for name in ("version_hashes", "unit_hashes", "documents")
        }
        if is_distributed(conn, conn.schema):
            rows["tree"] = _tree_by_document(conn, limit)
        else:
            rows["tree"] = conn.query("verify_tree", limit=limit).fetchall()
    checks: list[Check] = []
    add = _adder(checks, limit)
    add(
        "version hashes",
        rows["version_hashes"],
        f"{counts.get('versions', 0)} versions: each stored hash is the iu1 hash of its text",
        lambda r: (
            f"{r['code']} v{r['version']}: stored {r['stored']}, its text hashes to {r['actual']}"
        ),
        "the text or hash of a version was changed outside the write functions",
    )
    add(
        "unit hashes",
        rows["unit_hashes"],
        f"{counts.get('units', 0)} units: each hash is its current version's",
        lambda r: (
            f"{r['code']} v{r['version']}: unit hash {r['stored']}, version hash "
            f"{r['actual'] or '(no such version)'}"
        ),
        "a unit row was changed outside the write functions",
    )
    add(
        "document digests",
        rows["documents"],
        f"{counts.get('documents', 0)} documents: each stored hash, size and unit count is "
        "that of its units in order (export gives back what was applied)",
        _document_problem,
        "apply the source of the document again; if it is unchanged, re-plan with a changed "
        "byte or restore it from a backup",
    )
    add(
        "tree shape",
        rows["tree"],
        "every active document is one tree: a root, codes in its namespace, parents one "
        "level up and earlier, distinct non-negative positions, no cycles",
        lambda r: f"{r['doc_path']}: {r['rule']}: {r['code'] or '-'}: {r['detail']}",
        "the units were written outside the write functions (or by a forged call)",
    )
    return checks


def _tree_by_document(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """verify_tree on the distributed layout: each document's tree on its worker (Citus
    plans a recursive query for one document only), and each active document's namespace
    its own by the claims (one server's UNIQUE (code) holds that there), the first
    ``limit`` of each rule."""
    found: list[dict[str, Any]] = []
    for doc in conn.query("documents_active").fetchall():
        rows = conn.query("verify_tree_document", doc_path=doc["doc_path"]).fetchall()
        found += [dict(r) for r in rows]
    if read_layout(conn, conn.schema).tables.get("iu_namespace_claim") == "reference":
        found += [dict(r) for r in conn.query("verify_namespace_claims").fetchall()]
    found.sort(key=lambda r: (r["rule"], r["doc_path"], r["code"] or ""))
    kept: list[dict[str, Any]] = []
    per_rule: dict[str, int] = {}
    for r in found:
        per_rule[r["rule"]] = per_rule.get(r["rule"], 0) + 1
        if per_rule[r["rule"]] <= limit:
            kept.append({**r, "total": len(found)})
    return kept


def _adder(checks: list[Check], limit: int) -> Callable[..., None]:
    def add(
        name: str,
        problems: list[dict[str, Any]],
        evidence: str,
        describe: Callable[[dict[str, Any]], str],
        hint: str,
    ) -> None:
        number = len(checks) + 1
        if not problems:
            checks.append(Check(number, name, "PASS", evidence))
            return
        lines = [describe(r) for r in problems]
        total = int(problems[0]["total"])
        shown = f" ({len(lines)} shown)" if total > len(lines) else ""
        checks.append(
            Check(
                number,
                name,
                "FAIL",
                f"{total} problem(s){shown}: " + "; ".join(lines),
                hint=hint,
                details={"total": total, "problems": [_plain(r) for r in problems]},
            )
        )

    return add


def _document_problem(r: dict[str, Any]) -> str:
    if r["state"] is None:
        return f"{r['doc_path']}: units with no document row"
    if r["state"] == "retired":
        return f"{r['doc_path']}: retired, but {r['actual_units']} of its units are active"
    if r["actual_hash"] is None:
        return f"{r['doc_path']}: active, but none of its units is"
    parts = []
    if r["stored_hash"] != r["actual_hash"]:
        parts.append(f"stored hash {r['stored_hash']}, its units give {r['actual_hash']}")
    if r["stored_size"] != r["actual_size"]:
        parts.append(f"size {r['stored_size']} stored, {r['actual_size']} in its units")
    if r["stored_units"] != r["actual_units"]:
        parts.append(f"{r['stored_units']} units stored, {r['actual_units']} active")
    return f"{r['doc_path']}: " + ", ".join(parts)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | None) else str(v) for k, v in row.items()}
