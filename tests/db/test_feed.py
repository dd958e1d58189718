"""The change feed on a real PostgreSQL: every event in commit order with its text, resumable
and idempotent cursors bound to their database, since a run or a time, and a writer that
commits late with lower event ids is not skipped."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

import iucut
from iucut import apply as apply_mod
from iucut import plan_state
from iucut.errors import CursorRefused
from iucut.feed import Event

V1 = """\
# Act on Examples

## Article 1. Scope

This act applies to examples.

## Article 2. Terms

Words mean what they say.
"""

V2 = V1.replace("Words mean what they say.", "Words mean what they mean.")
V3 = V2.replace("## Article 2. Terms\n\nWords mean what they mean.\n", "")

OTHER = """\
# Regulation on Samples

## Section 1

Samples are taken daily.
"""


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iucut.yaml").touch()  # the project root (iucut init): paths read docs/…
    (tmp_path / "docs").mkdir()
    return tmp_path / "docs"


def put(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_feed_lists_every_event_with_text_in_order(db, docs: Path) -> None:
    """created, revised, retired and restored events come in commit order with the unit's
    code, version, hash and text; the cursor resumes after them."""
    store = iucut.Store(db.settings(execution="enabled"))
    law = put(docs, "act.md", V1)
    store.apply([docs])
    first = store.changes()
    units = iucut.cut_text(V1, "docs/act.md").units
    assert [(c.event, c.code) for c in first.changes] == [(Event.CREATED, u.code) for u in units]
    art2 = next(c for c in first.changes if c.text and "Words mean what they say" in c.text)
    assert art2.version == 1 and art2.content_hash and art2.doc_path == "docs/act.md"
    law.write_text(V2, encoding="utf-8")
    store.apply([docs])
    law.write_text(V3, encoding="utf-8")
    store.apply([docs])
    law.write_text(V2, encoding="utf-8")
    store.apply([docs])
    rest = store.changes(first.cursor)
    assert [(c.event, c.code, c.from_version, c.version) for c in rest.changes] == [
        (Event.REVISED, art2.code, 1, 2),
        (Event.RETIRED, art2.code, 2, 2),
        (Event.RESTORED, art2.code, 2, 2),
    ]
    assert "what they mean" in (rest.changes[0].text or "")
    assert rest.changes[0].content_hash != art2.content_hash
    positions = [c.position for c in first.changes + rest.changes]
    assert positions == sorted(positions)
    # idempotent: the same cursor gives the same changes; the end cursor gives none
    again = store.changes(first.cursor)
    assert [c.to_dict() for c in again.changes] == [c.to_dict() for c in rest.changes]
    assert store.changes(rest.cursor).changes == ()
    assert store.changes(rest.cursor).cursor == rest.cursor


def test_pages_resume_without_gaps(db, docs: Path) -> None:
    """Reading with a small limit, page after page, gives exactly the full feed."""
    store = iucut.Store(db.settings(execution="enabled"))
    put(docs, "act.md", V1)
    put(docs, "other.md", OTHER)
    store.apply([docs])
    full = store.changes().changes
    got, cursor, pages = [], None, 0
    while True:
        page = store.changes(cursor, limit=2)
        got += page.changes
        cursor = page.cursor
        pages += 1
        if not page.more:
            break
    assert [c.to_dict() for c in got] == [c.to_dict() for c in full] and pages >= 3


def test_since_a_run_and_since_a_time(db, docs: Path) -> None:
    """--since RUN starts after that run's last change (its id prefix works too), --since
    TIME after the commits up to that time."""
    store = iucut.Store(db.settings(execution="enabled"))
    law = put(docs, "act.md", V1)
    r1 = store.apply([docs])
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    law.write_text(V2, encoding="utf-8")
    store.apply([docs])
    after_r1 = store.changes(r1.run_id)
    assert [c.event for c in after_r1.changes] == [Event.REVISED]
    assert store.changes(str(r1.run_id)[:8]).changes == after_r1.changes
    assert store.changes(between).changes == after_r1.changes
    assert store.changes(between.isoformat()).changes == after_r1.changes


def test_cursor_of_another_database_is_refused(db, docs: Path) -> None:
    """A cursor from one schema (another database identity) is refused in another, and a
    malformed one is refused too (exit 24)."""
    store = iucut.Store(db.settings(execution="enabled"))
    put(docs, "act.md", V1)
    store.apply([docs])
    cursor = store.changes().cursor
    other = iucut.Store(db.settings(schema="elsewhere"))
    other.migrate()
    with pytest.raises(CursorRefused) as refused:
        other.changes(str(cursor))
    assert refused.value.exit_code == 24
    with pytest.raises(CursorRefused):
        store.changes("iuc1.nonsense")


def test_late_commit_with_lower_ids_is_not_skipped(db, docs: Path) -> None:
    """Writer A writes first (lower event ids) but commits after writer B; a reader that
    consumed B's changes still gets A's afterwards, in commit order."""
    settings = db.settings(execution="enabled")
    store = iucut.Store(settings)
    put(docs, "a.md", V1)
    put(docs, "b.md", OTHER)
    provider = db.provider()
    conn_a = provider.connect(autocommit=True)
    items = store.cut([docs / "a.md"])
    plan_a = plan_state.make_plan(conn_a, items)
    with conn_a.transaction():
        run_a = apply_mod.begin_run(conn_a, "apply")
    conn_a.execute("BEGIN")
    apply_mod.write_document(conn_a, run_a, plan_a.documents[0])  # events written, open
    store.apply([docs / "b.md"])  # B commits first, with higher event ids
    seen_b = store.changes()
    assert {c.doc_path for c in seen_b.changes} == {"docs/b.md"}
    conn_a.execute("COMMIT")
    conn_a.close()
    late = store.changes(seen_b.cursor)
    n_a, n_b = (len(iucut.cut_file(docs / n).units) for n in ("a.md", "b.md"))
    assert {c.doc_path for c in late.changes} == {"docs/a.md"} and len(late.changes) == n_a
    assert max(c.position.event_id for c in late.changes) < min(
        c.position.event_id for c in seen_b.changes
    )
    everything = store.changes().changes
    assert [c.doc_path for c in everything] == ["docs/b.md"] * n_b + ["docs/a.md"] * n_a


def test_cli_changes_and_ls(cli_env, docs: Path) -> None:
    """`iucut changes --json` prints one document with the changes and a cursor that
    `--since` resumes from; `iucut ls --json` lists the document with its unit count."""
    put(docs, "act.md", V1)
    env = {"IUCUT_EXECUTION": "enabled"}
    assert cli_env.run("apply", "docs", env=env).returncode == 0
    out = cli_env.run("changes", "--json")
    assert out.returncode == 0, out.stderr
    page = json.loads(out.stdout)
    n = len(iucut.cut_text(V1, "docs/act.md").units)
    assert page["count"] == n and page["changes"][0]["event"] == "created"
    again = json.loads(cli_env.run("changes", "--since", page["cursor"], "--json").stdout)
    assert again["count"] == 0 and again["cursor"] == page["cursor"]
    bad = cli_env.run("changes", "--since", "iuc1.0000000000000000.1.1")
    assert bad.returncode == 24 and "another database" in bad.stderr
    listing = json.loads(cli_env.run("ls", "--json").stdout)
    [doc] = listing["documents"]
    assert (doc["doc_path"], doc["units"], doc["state"]) == ("docs/act.md", n, "active")
    text = cli_env.run("ls", "docs")
    assert text.returncode == 0 and "docs/act.md" in text.stdout and f"{n} units" in text.stdout
    assert cli_env.run("ls", "nothing-here").returncode == 14
