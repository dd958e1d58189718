"""Upgrades: every earlier schema version upgrades to the same catalog as a fresh install,
and documents applied before the cut digest existed are re-planned once, then skipped."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from pathlib import Path
from typing import Any

from conftest import migrations_up_to
from iucut import apply as apply_mod
from iucut import plan as plan_mod
from iucut import plan_state
from iucut.browse import export
from iucut.config import Roles, Settings
from iucut.cut import cut_text
from iucut.db.connector import Connection, ConnectionProvider
from iucut.db.target import Target, with_database
from iucut.migrate import load_migrations, migrate

SCHEMA = "iu"
LAW = "# Luật thử\n\n## Điều 1. Phạm vi\n\n1. Khoản một.\n2. Khoản hai:\na) điểm a;\nb) điểm b.\n"


def connect(dsn: str) -> Connection:
    return ConnectionProvider(Target(dsn, "--dsn"), schema=SCHEMA).connect(autocommit=True)


CATALOG = f"""
SELECT 'column' AS kind,
       c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') AS item
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname = '{SCHEMA}' AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'c')
UNION ALL
SELECT 'constraint', conrelid::regclass::text || ':' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = '{SCHEMA}'::regnamespace
UNION ALL
SELECT 'index', pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relnamespace = '{SCHEMA}'::regnamespace
UNION ALL
SELECT 'function', p.oid::regprocedure::text || ' definer=' || p.prosecdef || ' config='
       || coalesce(array_to_string(p.proconfig, ','), '') || ' owner=' || p.proowner::regrole
       || ' acl=' || coalesce(array_to_string(p.proacl, ','), '') || ' body=' || md5(p.prosrc)
  FROM pg_proc p WHERE p.pronamespace = '{SCHEMA}'::regnamespace
UNION ALL
SELECT 'trigger', tgrelid::regclass::text || ':' || pg_get_triggerdef(oid)
  FROM pg_trigger WHERE NOT tgisinternal
   AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = '{SCHEMA}'::regnamespace)
UNION ALL
SELECT 'grant', c.relname || ':' || coalesce(array_to_string(c.relacl, ','), '')
       || ' owner=' || c.relowner::regrole
  FROM pg_class c WHERE c.relnamespace = '{SCHEMA}'::regnamespace
ORDER BY 1, 2
"""


def catalog(dsn: str) -> list[tuple[str, str]]:
    with connect(dsn) as conn:
        return [(r["kind"], r["item"]) for r in conn.execute(CATALOG).fetchall()]


def test_upgrade_from_every_version_equals_a_fresh_install(
    pg_server: Any, empty_db: str, tmp_path: Path
) -> None:
    """Migrating step by step from each earlier version gives a fresh install's catalog."""
    known = load_migrations()
    with connect(empty_db) as conn:
        migrate(conn, SCHEMA, roles=Roles())
    fresh = catalog(empty_db)
    assert any(kind == "function" for kind, _ in fresh)
    for start in range(1, known[-1].version):
        name = f"iucut_up_{os.getpid()}_{secrets.token_hex(4)}"
        with pg_server.admin() as admin:
            admin.execute(f"CREATE DATABASE {name}")
        dsn = with_database(pg_server.dsn, name)
        try:
            with connect(dsn) as conn:
                migrate(conn, SCHEMA, roles=Roles(), directory=migrations_up_to(start, tmp_path))
                result = migrate(conn, SCHEMA, roles=Roles())
            assert result.current_version == known[-1].version
            assert catalog(dsn) == fresh, f"upgrade from version {start} differs"
        finally:
            with pg_server.admin() as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_documents_from_before_the_cut_digest_are_planned_once_then_skipped(
    empty_db: str, tmp_path: Path
) -> None:
    """A document written at version 1 (no digest) is re-planned once after the upgrade:
    no unit changes, only the document row learns its digest; then it is skipped."""
    doc = cut_text(LAW.encode(), "law.md")
    with connect(empty_db) as conn:
        migrate(conn, SCHEMA, directory=migrations_up_to(1, tmp_path))
        with conn.transaction():
            run_id = apply_mod.begin_run(conn, "apply")
            # written at version 1: no profile (version 5's column), no references
            # (fn_iu_set_references is 0009's)
            dp = dataclasses.replace(
                plan_mod.diff_document(doc, None, {}), profile=None, references=()
            )
            document, ops = apply_mod.document_payload(dp)
            # the JSON form of fn_iu_apply_document: the arrays are 0013's
            conn.execute(
                f"SELECT {SCHEMA}.fn_iu_apply_document(%(run)s, %(doc)s::jsonb, %(ops)s::jsonb)",
                {"run": run_id, "doc": json.dumps(document), "ops": json.dumps(ops)},
            )
        migrate(conn, SCHEMA)
        assert conn.execute(f"SELECT cut_digest FROM {SCHEMA}.iu_document").scalar() is None
        plan = plan_state.make_plan(conn, [doc])
    assert plan.has_changes and plan.documents[0].changes == ()
    assert plan.counts["unchanged"] == len(doc.units)

    settings = Settings(dsn=empty_db, schema=SCHEMA, execution="enabled", env={})
    provider = ConnectionProvider(Target(empty_db, "--dsn"), schema=SCHEMA)
    first = apply_mod.apply_documents(settings, provider, [doc])
    assert first.counts["created"] == 0 and first.counts["revised"] == 0
    second = apply_mod.apply_documents(settings, provider, [doc])
    assert second.run_id is None  # skipped by hash and digest: no run at all


def test_same_bytes_cut_with_other_rules_are_applied_again(db: Any) -> None:
    """A change of the cutting rules re-plans a document whose bytes did not change."""
    settings = db.settings(execution="enabled")
    as_vi = cut_text(LAW.encode(), "law.md")
    apply_mod.apply_documents(settings, db.provider(), [as_vi])
    assert apply_mod.apply_documents(settings, db.provider(), [as_vi]).run_id is None
    as_en = cut_text(LAW.encode(), "law.md", profile="en")
    assert [u.code for u in as_en.units] != [u.code for u in as_vi.units]
    result = apply_mod.apply_documents(settings, db.provider(), [as_en])
    assert result.run_id is not None
    assert result.counts["retired"] > 0
    with db.connect(autocommit=True) as conn:
        assert export(conn, "law.md")[1] == LAW
