"""The reads on the Citus cluster: `iucut search`, `iucut refs`, and --as-of refused.

Search: the schema's own text-search configuration
(iucut_vi, simple + unaccent) has another OID on each node; the hits, ranks and snippets
are those of a single-node schema applied with the same documents, on a schema laid out
fresh and on one moved there from a single-node schema with its data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.citus.conftest import CitusDatabase
from tests.citus.test_distributed import on_node, run, sources
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


def test_refs_on_the_cluster_are_those_of_one_node(citus_db: CitusDatabase, tmp_path: Path) -> None:
    """The effective date a document names is stored on the cluster as on one node. What
    units cite and what cites them (references inside a law, and the state of
    their targets, read by code across shard groups) read the same as on one node; the
    point-in-time reads, which need a commit order the cluster does not keep, are refused
    with exit 37 rather than failing in the database."""
    folder = sources(tmp_path, 3)
    (folder / "quy-che.md").write_text("---\nngay_hieu_luc: 2026-07-01\n---\n" + VI, "utf-8")
    single = f"{citus_db.schema}_one"
    runs = {}
    try:
        for schema, extra in ((citus_db.schema, ("--distributed",)), (single, ())):
            migrated = run(citus_db, "migrate", "--roles", *extra, IUCUT_SCHEMA=schema)
            assert migrated.returncode == 0, migrated.stderr
            applied = run(citus_db, "apply", str(folder), "--json", IUCUT_ROOT=str(folder),
                          IUCUT_SCHEMA=schema, **LIVE)  # fmt: skip
            assert applied.returncode == 0, applied.stderr
            runs[schema] = json.loads(applied.stdout)["run_id"]
        pairs = on_node(
            citus_db,
            citus_db.cluster.coordinator,
            f"SELECT string_agg(u.code || ' ' || r.target_code, ',' ORDER BY u.code) "
            f"  FROM (SELECT DISTINCT ON (r.target_code) r.unit_id, r.target_code "
            f"          FROM {single}.unit_reference r WHERE r.target_code IS NOT NULL "
            f"         ORDER BY r.target_code, r.unit_id LIMIT 5) r "
            f"  JOIN {single}.information_unit u USING (unit_id)",
        )
        assert pairs, "the laws cite none of their own units"
        # the effective date a document names is stored with its version there too
        effective = [
            on_node(citus_db, citus_db.cluster.coordinator,
                    f"SELECT string_agg(effective_date || ' ' || source_key, ',') "
                    f"  FROM {schema}.iu_document_effective")
            for schema in (citus_db.schema, single)
        ]  # fmt: skip
        assert effective[0] == effective[1] == "2026-07-01 ngay_hieu_luc", effective
        for pair in pairs.split(","):
            code, target = pair.split(" ")
            for args in (("refs", code), ("refs", target, "--cited-by")):
                shown = [run(citus_db, *args, "--json", IUCUT_SCHEMA=s)
                         for s in (citus_db.schema, single)]  # fmt: skip
                assert shown[0].returncode == 0, (args, shown[0].stdout, shown[0].stderr)
                assert json.loads(shown[0].stdout) == json.loads(shown[1].stdout), args
                assert json.loads(shown[0].stdout)["references"], args
        for args in (("ls", "--as-of", runs[citus_db.schema]),
                     ("search", "luat", "--in-force-on", "2030-01-01"),
                     ("refs", code, "--as-of", runs[citus_db.schema])):  # fmt: skip
            refused = run(citus_db, *args)
            assert refused.returncode == 37, (args, refused.stdout, refused.stderr)
            assert "single-node only" in refused.stdout + refused.stderr, args
    finally:
        with citus_db.cluster.connect() as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {single} CASCADE")
