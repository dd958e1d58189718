"""``apply --jobs N``: documents written at once on N connections give the database one
writer gives (same state digest), results in source order; a rejected document is
rejected alone; a freeze still stops every writer and no connection is left open."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from test_concurrency import DOCS, corpus, no_duplicates

from conftest import state_digest
from iucut.apply import ApplyResult, apply_documents
from iucut.cut import cut_paths, cut_text
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target
from iucut.errors import Frozen
from iucut.migrate import migrate


def _apply(db: Any, schema: str, items: list[Any], jobs: int) -> ApplyResult:
    settings = db.settings(execution="enabled", schema=schema)
    provider = ConnectionProvider(Target(db.dsn, "--dsn"), "psycopg", schema=schema)
    return apply_documents(settings, provider, items, jobs=jobs)


def _outcome(result: ApplyResult) -> list[tuple[str, str, dict[str, int]]]:
    return [(d.doc_path, d.status, d.counts) for d in result.documents]


@pytest.mark.parametrize("jobs", [2, 3])
def test_concurrent_apply_equals_serial_apply(db: Any, tmp_path: Path, jobs: int) -> None:
    """A first load and an update, with --jobs N and with --jobs 1 into two schemas: the
    same results in the same (source) order, the same state digest, no duplicate."""
    admin = db.connect(autocommit=True)
    for schema in ("serial", "many"):
        migrate(admin, schema)
    for version in (1, 2):
        items = list(cut_paths([corpus(tmp_path / f"v{version}", version)], glob="*.md"))
        serial = _apply(db, "serial", items, 1)
        many = _apply(db, "many", items, jobs)
        assert _outcome(many) == _outcome(serial)
        assert [d.doc_path for d in many.documents] == [d.path for d in items]
        assert (
            many.counts == serial.counts and many.counts["created" if version == 1 else "revised"]
        )
        no_duplicates(admin, "many")
        assert state_digest(admin, "many") == state_digest(admin, "serial")


def test_concurrent_apply_rejects_a_clashing_document_alone(db: Any) -> None:
    """Under --jobs 2, a document whose codes another holds is rejected; the others apply."""
    law = "# Act\n\n## Article 1. One\n\nText.\n\n## Article 2. Two\n\nMore.\n"
    first = [cut_text(law.encode(), "first.md", namespace="ACT")]
    _apply(db, db.schema, first, 1)
    items = [cut_text(law.replace("Act", f"Act {n}").encode(), f"d{n}.md") for n in range(6)]
    items.insert(3, cut_text(law.encode(), "second.md", namespace="ACT"))
    result = _apply(db, db.schema, items, 2)
    assert [r.path for r in result.rejected] == ["second.md"]
    assert [(d.doc_path, d.status) for d in result.documents] == [
        (f"d{n}.md", "applied") for n in range(6)
    ]


def test_a_slow_document_does_not_hold_up_the_other_writers(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under --jobs 2, the documents after a slow one are written while it is (not held
    until it is reported), and the results are still in source order."""
    import threading

    import iucut.apply as apply_mod

    law = "# Act {n}\n\n## Article 1. One\n\nText {n}.\n"
    items = [cut_text(law.format(n=n).encode(), f"d{n:02}.md") for n in range(12)]
    others = threading.Semaphore(0)
    apply_one = apply_mod._apply_one
    waited: list[bool] = []

    def slow_first(conn: Any, run_id: str, path: str, doc: Any, **kw: Any) -> Any:
        if path == "d00.md":  # written last: after every other document is
            waited.append(all(others.acquire(timeout=10) for _ in range(len(items) - 1)))
        result = apply_one(conn, run_id, path, doc, **kw)
        if path != "d00.md":
            others.release()
        return result

    monkeypatch.setattr(apply_mod, "_apply_one", slow_first)
    result = _apply(db, db.schema, items, 2)
    assert waited == [True]
    assert [(d.doc_path, d.status) for d in result.documents] == [
        (d.path, "applied") for d in items
    ]


def test_a_frozen_database_stops_every_writer_and_no_connection_stays(
    db: Any, tmp_path: Path
) -> None:
    """Frozen before the apply: --jobs 3 raises Frozen (the run is refused before any
    writer connects), nothing is written and no session is left open. (A freeze in the
    middle of a concurrent apply is not covered here.)"""
    items = list(cut_paths([corpus(tmp_path / "v1", 1)], glob="*.md"))
    admin = db.connect(autocommit=True)

    def sessions() -> int:
        return int(
            admin.execute(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            ).scalar()
        )

    before = sessions()
    admin.execute(f"SELECT {db.schema}.fn_iu_freeze('test')")
    with pytest.raises(Frozen):
        _apply(db, db.schema, items, 3)
    # a closed connection's backend leaves pg_stat_activity a moment after the client
    # returns: wait for it (a connection left open never leaves)
    deadline = time.monotonic() + 10
    while sessions() != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sessions() == before
    assert admin.execute(f"SELECT count(*) AS n FROM {db.schema}.iu_document").scalar() == 0


def _apply_in_process(
    monkeypatch: pytest.MonkeyPatch, db: Any, home: Path, *args: str, command: str = "apply"
) -> tuple[int, list[str]]:
    """``iucut apply --jobs 1 ARGS`` (or ``command``) in this process; its exit code and
    the files cut."""
    from iucut.cli import main
    from iucut.cut import source

    cut: list[str] = []
    real = source.cut_file

    def counting(path: Any, **options: Any) -> Any:
        cut.append(Path(path).name)
        return real(path, **options)

    monkeypatch.setattr(source, "cut_file", counting)
    for name in list(os.environ):
        if name.startswith(("IUCUT_", "PG")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("IUCUT_HOME", str(home))
    monkeypatch.setenv("IUCUT_DSN", db.dsn)
    monkeypatch.setenv("IUCUT_SCHEMA", db.schema)
    monkeypatch.setenv("IUCUT_EXECUTION", "enabled")
    try:
        main([command, "--jobs", "1", *args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, cut


def test_an_unchanged_resync_cuts_no_file_and_a_change_of_bytes_or_rules_cuts_again(
    db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-sync: a file whose bytes and rules did not change is not cut (its digest comes
    from the cut cache and matches the database); an edited file is cut (and written); a
    change of configuration cuts every file again."""
    folder = corpus(tmp_path / "src", 1)
    home = tmp_path / "home"
    root = ("--root", str(tmp_path))
    code, cut = _apply_in_process(monkeypatch, db, home, str(folder), *root)
    assert code == 0 and len(cut) == 2 * DOCS  # the digests, then each document to write
    code, cut = _apply_in_process(monkeypatch, db, home, str(folder), *root)
    assert code == 0 and cut == []
    edited = folder / "luat-03.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nMột đoạn mới.\n", encoding="utf-8")
    events = f"SELECT count(*) AS n FROM {db.schema}.iu_lifecycle_log"
    admin = db.connect(autocommit=True)
    before = admin.execute(events).scalar()
    code, cut = _apply_in_process(monkeypatch, db, home, str(folder), *root)
    assert code == 0 and cut == ["luat-03.md", "luat-03.md"]
    assert admin.execute(events).scalar() > before  # the edit was written
    (tmp_path / "iucut.yaml").write_text("profiles:\n  '**/*.md': vi\n", encoding="utf-8")
    code, cut = _apply_in_process(monkeypatch, db, home, str(folder), *root)
    assert code == 0 and len(cut) >= DOCS  # new rules: every file cut again


def test_plan_cuts_no_unchanged_file_and_plans_it_as_unchanged(
    db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """plan takes the digest pass as apply does: after an apply, a plan cuts no file (all
    unchanged, exit 0); an edited file is cut (its digest, then again to be planned) and
    planned as a revision, the others as unchanged, as a plan from full cuts says."""
    folder = corpus(tmp_path / "src", 1)
    home = tmp_path / "home"
    root = ("--root", str(tmp_path))
    code, _ = _apply_in_process(monkeypatch, db, home, str(folder), *root)
    assert code == 0
    out = tmp_path / "plan.json"
    code, cut = _apply_in_process(
        monkeypatch, db, home, str(folder), *root, "-o", str(out), command="plan"
    )
    assert code == 0 and cut == []
    edited = folder / "luat-03.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nMột đoạn mới.\n", encoding="utf-8")
    code, cut = _apply_in_process(
        monkeypatch, db, home, str(folder), *root, "-o", str(out), command="plan"
    )
    assert code == 2 and cut == ["luat-03.md", "luat-03.md"]
    fast = json.loads(out.read_text(encoding="utf-8"))
    # the same plan from a cache that knows nothing: every file cut
    code, cut = _apply_in_process(
        monkeypatch,
        db,
        tmp_path / "empty-home",
        str(folder),
        *root,
        "-o",
        str(out),
        command="plan",
    )
    assert code == 2 and len(cut) >= DOCS
    full = json.loads(out.read_text(encoding="utf-8"))
    assert fast == full
    actions = {d["doc_path"]: d["action"] for d in fast["documents"]}
    assert actions.pop("src/luat-03.md") == "update" and set(actions.values()) == {"skip"}


def test_the_search_pending_list_is_merged_while_the_last_documents_are_written(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under --jobs 2, once every document is in the writers' hands the search index's
    pending list is merged on a connection of its own while the last document is still
    being written (not after it, alone); the run still ends with the list empty."""
    import threading

    import iucut.apply as apply_mod

    law = "# Act {n}\n\n## Article 1. One\n\nText {n} of the act.\n\n## Article 2. Two\n\nMore.\n"
    items = [cut_text(law.format(n=n).encode(), f"d{n:02}.md") for n in range(12)]
    merged = threading.Event()
    pages: list[int] = []
    real_merge, real_one = apply_mod._merge_pending, apply_mod._apply_one

    def merge(*args: Any) -> int:
        pages.append(real_merge(*args))
        merged.set()
        return pages[-1]

    def one(conn: Any, run_id: str, path: str, doc: Any, **kw: Any) -> Any:
        if path == items[-1].path:
            assert merged.wait(10), "the pending list was not merged while this was written"
        return real_one(conn, run_id, path, doc, **kw)

    monkeypatch.setattr(apply_mod, "_merge_pending", merge)
    monkeypatch.setattr(apply_mod, "_apply_one", one)
    result = _apply(db, db.schema, items, 2)
    assert [d.status for d in result.documents] == ["applied"] * len(items)
    assert len(pages) == 1 and pages[0] > 0  # what the first documents wrote was merged
    conn = db.connect(autocommit=True)
    left = conn.execute(
        f"SELECT gin_clean_pending_list('{db.schema}.unit_version_search_idx'::regclass) AS n"
    ).fetchone()
    assert left is not None and left["n"] == 0, "the run left entries in the pending list"
