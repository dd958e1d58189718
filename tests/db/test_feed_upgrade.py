"""The change feed on a database upgraded from before migration 0006: the events written
before it are in the feed (as commit 0, in event order), and later ones follow them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import iucut
from conftest import migrations_up_to
from iucut.config import Settings
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target
from iucut.migrate import migrate

LAW = "# Act\n\n## Article 1. Scope\n\nOne.\n\n## Article 2. Terms\n\nTwo.\n"


@pytest.fixture
def old_db(empty_db: str, tmp_path: Path) -> str:
    """A database migrated to version 2 only (before the change feed)."""
    with ConnectionProvider(Target(empty_db, "--dsn")).connect(autocommit=True) as conn:
        migrate(conn, "public", directory=migrations_up_to(2, tmp_path))
    return empty_db


def test_events_before_the_feed_existed_are_in_it(old_db: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Units applied at schema version 2 appear in the feed after the upgrade, before the
    changes made after it, in order."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    law = tmp_path / "docs" / "act.md"
    law.write_text(LAW, encoding="utf-8")
    store = iucut.Store(Settings(dsn=old_db, env={}, execution="enabled"))
    from iucut import apply as apply_mod
    from iucut import plan as plan_mod

    # written as version 2 wrote it: no profile (0005), no references (0009), no
    # snapshot (0010) — today's plan reads columns a version-2 schema lacks
    (doc,) = store.cut(["docs"])
    dp = dataclasses.replace(plan_mod.diff_document(doc, None, {}), profile=None, references=())
    document, ops = apply_mod.document_payload(dp)
    with store.provider.connect() as conn, conn.transaction():
        run_id = apply_mod.begin_run(conn, "apply")
        # the JSON form of fn_iu_apply_document: the arrays are 0013's
        row = conn.execute(
            "SELECT public.fn_iu_apply_document(%(run)s, %(doc)s::jsonb, %(ops)s::jsonb) AS c",
            {"run": run_id, "doc": json.dumps(document), "ops": json.dumps(ops)},
        ).fetchone()
    assert row is not None
    counts = row["c"] if isinstance(row["c"], dict) else json.loads(row["c"])
    assert counts["created"] > 0
    store.migrate()
    law.write_text(LAW.replace("Two.", "Two, revised."), encoding="utf-8")
    store.apply(["docs"])
    feed = store.changes().changes
    created = [c for c in feed if c.event == "created"]
    assert len(created) == counts["created"]
    assert {c.position.commit_seq for c in created} == {0}
    assert [c.event for c in feed][-1] == "revised" and feed[-1].position.commit_seq >= 1
    assert [c.position for c in feed] == sorted(c.position for c in feed)
    assert all(c.text is not None for c in feed)
