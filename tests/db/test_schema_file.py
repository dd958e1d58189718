"""``iucut/sql/schema.sql`` holds the current definitions: a fresh migration equals it.

After adding a migration, regenerate it with ``make schema`` (which runs this test with
``IUCUT_SCHEMA_REGEN=1``) and review ``git diff src/iucut/sql/schema.sql``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import iucut
from iucut.config import Roles
from iucut.migrate import SCHEMA_FILE, current_definitions, migrate

#: A schema of its own, whose name cannot be mistaken for a table alias or a word.
SCHEMA = "iucut_schema_file"
FILE = Path(iucut.__file__).parent / "sql" / SCHEMA_FILE


@pytest.mark.slow
def test_a_fresh_migration_equals_schema_sql(db) -> None:
    """Migrate a fresh schema with roles: its definitions, read from the catalog, are
    those of schema.sql, byte for byte."""
    with db.connect(autocommit=True) as admin:
        migrate(admin, SCHEMA, roles=Roles())
        text = current_definitions(admin, SCHEMA)
    if os.environ.get("IUCUT_SCHEMA_REGEN"):
        FILE.write_text(text, encoding="utf-8")
    assert FILE.is_file(), "no src/iucut/sql/schema.sql: run `make schema`"
    assert text == FILE.read_text(encoding="utf-8"), (
        "the migrations changed the schema: run `make schema` and review "
        "`git diff src/iucut/sql/schema.sql`"
    )


def test_schema_sql_names_every_migrated_function() -> None:
    """Every function a migration creates and no later one drops is in schema.sql."""
    from iucut.migrate import load_migrations

    text = FILE.read_text(encoding="utf-8")
    created: set[str] = set()
    for m in load_migrations():
        for line in m.sql.splitlines():
            words = line.replace("(", " ").split()
            if line.startswith(("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")):
                created.add(next(w for w in words if w.startswith("@schema@.")))
            elif line.startswith("DROP FUNCTION"):
                created.discard(next(w for w in words if w.startswith("@schema@.")))
    missing = sorted(n for n in created if f"FUNCTION {n}(" not in text)
    assert not missing
