"""`iucut search` on the Citus cluster: the schema's own text-search configuration
(iucut_vi, simple + unaccent) has another OID on each node; the hits, ranks and snippets
are those of a single-node schema applied with the same documents, on a schema laid out
fresh and on one moved there from a single-node schema with its data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.citus.conftest import CitusDatabase
from tests.citus.test_distributed import run, sources
from tests.db.test_search import DE, EN, VI

pytestmark = pytest.mark.citus

LIVE = {"IUCUT_EXECUTION": "enabled", "IUCUT_APPLY_ROLE": "cutter_exec"}
QUERIES = ["mat khau", "mật khẩu", "thiet bi ma hoa", "Gesetze", "Behörde", "password",
           "dieu", "luat"]  # fmt: skip


def searched(db: CitusDatabase, schema: str, query: str, *args: str) -> list[tuple]:
    found = run(db, "search", query, "--json", "--limit", "50", *args, IUCUT_SCHEMA=schema)
    assert found.returncode == 0, (schema, query, found.stderr)
    return [(h["code"], h["rank"], h["snippet"]) for h in json.loads(found.stdout)["hits"]]


def test_search_on_the_cluster_is_that_of_one_node(citus_db: CitusDatabase, tmp_path: Path) -> None:
    """Vietnamese (diacritics optional), German (stemmed) and English documents beside two
    laws of the corpus: every query finds on the cluster, fresh or upgraded, what it finds
    on one node, in the same order with the same ranks and snippets."""
    folder = sources(tmp_path, 2)
    for text, name in ((VI, "quy-che.md"), (DE, "gesetz.md"), (EN, "rules.md")):
        (folder / name).write_text(text, encoding="utf-8")
    single = f"{citus_db.schema}_one"
    moved = f"{citus_db.schema}_up"  # applied on one node, then `migrate --distributed`
    try:
        for schema, extra in ((citus_db.schema, ("--distributed",)), (single, ()), (moved, ())):
            migrated = run(citus_db, "migrate", "--roles", *extra, IUCUT_SCHEMA=schema)
            assert migrated.returncode == 0, migrated.stderr
            applied = run(citus_db, "apply", str(folder), IUCUT_ROOT=str(folder),
                          IUCUT_SCHEMA=schema, **LIVE)  # fmt: skip
            assert applied.returncode == 0, applied.stderr
        upgraded = run(citus_db, "migrate", "--distributed", IUCUT_SCHEMA=moved)
        assert upgraded.returncode == 0, upgraded.stderr
        for query in QUERIES:
            expected = searched(citus_db, single, query)
            assert expected, query
            assert searched(citus_db, citus_db.schema, query) == expected, query
            assert searched(citus_db, moved, query) == expected, query
        for schema in (citus_db.schema, moved):
            plain = [c for c, _, _ in searched(citus_db, schema, "mat khau")]
            assert "QUY-CHE/D1" in plain, plain
            assert [c for c, _, _ in searched(citus_db, schema, "Gesetze")] == ["GESETZ/§1/Abs1"]
            assert searched(citus_db, schema, "mat khau", "--kind", "clause")
    finally:
        with citus_db.cluster.connect() as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {single} CASCADE")
            conn.execute(f"DROP SCHEMA IF EXISTS {moved} CASCADE")
