"""Point-in-time reads (iucut.asof, migration 0015): export, show, ls and refs as committed
at a run or a time, or as in force on a date; the errors for points that name no state;
and a database upgraded from before 0015 (points before the upgrade are refused)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import migrations_up_to
from iucut.apply import apply_documents
from iucut.config import Settings
from iucut.cut import cut_text
from iucut.db.connector import ConnectionProvider
from iucut.db.target import Target
from iucut.errors import AsOfRefused, DatabaseError, HistoryNotKept, NotFound
from iucut.migrate import migrate
from iucut.store import Store
from iucut.units import CutDocument

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "en-terms-history"
TOS = "github/terms-of-service.md"


def apply_text(settings: Settings, provider: ConnectionProvider, text: str, path: str) -> str:
    """Apply one document given as text; returns the run id (None when nothing changed)."""
    doc = cut_text(text.encode(), path)
    assert isinstance(doc, CutDocument)
    result = apply_documents(settings, provider, [doc])
    assert not result.failed and not result.rejected, result
    assert result.run_id is not None
    return result.run_id


def test_export_as_of_every_terms_of_service_run_gives_that_versions_bytes(db: Any) -> None:
    """Every version of the shared ToS history applied in turn; then export --as-of each
    run (and the time just after it) gives exactly that version's bytes."""
    settings, provider = db.settings(execution="enabled"), db.provider()
    files = sorted(CORPUS.glob("[0-9][0-9][0-9]_*.md"))
    assert len(files) >= 50, f"no corpus at {CORPUS}"
    steps: list[tuple[str, datetime, bytes, str]] = []  # run, time after it, bytes, name
    last_run: str | None = None
    for path in files:
        data = path.read_bytes()
        doc = cut_text(data, TOS)
        assert isinstance(doc, CutDocument), path.name
        result = apply_documents(settings, provider, [doc])
        assert not result.failed and not result.rejected, (path.name, result)
        last_run = result.run_id or last_run  # identical bytes: skipped, no run
        assert last_run is not None
        steps.append((last_run, datetime.now(UTC), data, path.name))
    store = Store(settings)
    mismatched = [name for run, _, data, name in steps if store.export(TOS, as_of=run).data != data]
    assert mismatched == []
    # by time: the state committed at that moment, and by a unique prefix of the run id
    for run, at, data, name in steps[::10]:
        assert store.export(TOS, as_of=at.isoformat()).data == data, name
        assert store.export(TOS, as_of=run[:8]).data == data, name
    assert store.export(TOS).data == steps[-1][2]


ORDERED = "# Act\n\n## Article 1. Scope\n\nOne.\n\n## Article 2. Terms\n\nTwo.\n\n" + (
    "## Article 3. Duty\n\nThree.\n"
)
REORDERED = "# Act\n\n## Article 2. Terms\n\nTwo.\n\n## Article 1. Scope\n\nOne.\n\n" + (
    "## Article 3. Duty\n\nThree.\n"
)


def test_units_moved_without_a_change_of_text_export_in_the_order_of_then(db: Any) -> None:
    """Articles swapped without a change of text make no unit version, yet export --as-of
    each run gives that run's order, byte for byte."""
    settings, provider = db.settings(execution="enabled"), db.provider()
    first = apply_text(settings, provider, ORDERED, "act.md")
    with db.connect() as conn:
        versions = conn.execute(f"SELECT count(*) AS n FROM {db.schema}.unit_version").scalar()
    second = apply_text(settings, provider, REORDERED, "act.md")
    third = apply_text(settings, provider, ORDERED, "act.md")
    with db.connect() as conn:
        after = conn.execute(f"SELECT count(*) AS n FROM {db.schema}.unit_version").scalar()
    assert after == versions  # no unit version: only positions changed
    store = Store(settings)
    assert store.export("act.md", as_of=first).text == ORDERED
    assert store.export("act.md", as_of=second).text == REORDERED
    assert store.export("act.md", as_of=third).text == ORDERED


def test_show_ls_and_refs_as_of_a_run(db: Any) -> None:
    """show gives the unit's text of then, ls the document as it stood, refs the references
    of that version; a unit created later is not there at the earlier run."""
    settings, provider = db.settings(execution="enabled"), db.provider()
    v1 = "# Act\n\n## Article 1. Scope\n\nOne.\n\n## Article 2. Terms\n\nSee Article 1.\n"
    v2 = v1.replace("One.", "One, revised.") + "\n## Article 3. Duty\n\nThree.\n"
    first = apply_text(settings, provider, v1, "act.md")
    second = apply_text(settings, provider, v2, "act.md")
    store = Store(settings)
    code = next(u.code for u in store.units("act.md") if u.title.startswith("Article 1"))
    then = store.show(code, as_of=first)
    now = store.show(code, as_of=second)
    assert then.unit["body"].strip() == "One." and then.unit["current_version"] == 1
    assert now.unit["body"].strip() == "One, revised." and now.unit["current_version"] == 2
    (doc_then,) = store.ls_at(as_of=first)
    (doc_now,) = store.ls_at("act.md", as_of=second)
    assert (doc_then.units, doc_now.units) == (4, 5)  # with the document unit
    assert doc_then.size_bytes == len(v1.encode()) and doc_then.run_id == first
    art3 = next(u.code for u in store.units("act.md") if u.title.startswith("Article 3"))
    with pytest.raises(NotFound, match="not active"):
        store.show(art3, as_of=first)
    art2 = next(u.code for u in store.units("act.md") if u.title.startswith("Article 2"))
    refs = store.references(art2, as_of=first)
    assert [r["target_code"] for r in refs] == [code]
    assert refs[0]["target_state"] == "active"
    cited = store.references(code, cited_by=True, as_of=first)
    assert [r["source"] for r in cited] == [art2]


def test_points_that_name_no_state_are_refused_naming_what_was_given(db: Any) -> None:
    settings, provider = db.settings(execution="enabled"), db.provider()
    store = Store(settings)
    with pytest.raises(AsOfRefused, match="before any run: there is no run yet"):
        store.export("act.md", as_of="2026-01-01T00:00:00Z")
    before = datetime.now(UTC) - timedelta(seconds=5)
    run = apply_text(settings, provider, ORDERED, "act.md")
    with pytest.raises(AsOfRefused, match=r"--as-of 2020-01-01 is before any run"):
        store.export("act.md", as_of="2020-01-01")
    with pytest.raises(AsOfRefused, match="before any run"):
        store.ls_at(as_of=before)
    missing = "0000" if not run.startswith("0000") else "ffff"
    with pytest.raises(AsOfRefused, match=f"no run {missing}") as exc:
        store.export("act.md", as_of=missing)
    assert exc.value.exit_code == 34
    with pytest.raises(AsOfRefused, match="neither a run id nor an ISO time"):
        store.export("act.md", as_of="yesterday")
    # two runs sharing a prefix (ids chosen here: random ones would not collide)
    with db.connect(autocommit=True) as admin:
        for rid in ("abcd0001-0000-4000-8000-000000000000", "abcd0002-0000-4000-8000-000000000000"):
            admin.execute(
                f"INSERT INTO {db.schema}.iu_run (run_id, mode, status) "
                "VALUES (%(r)s, 'apply', 'finished')",
                {"r": rid},
            )
    with pytest.raises(AsOfRefused, match="prefix abcd is ambiguous"):
        store.show("x", as_of="abcd")
    assert store.export("act.md", as_of="abcd0001").text == ORDERED  # after the real run
    with pytest.raises(NotFound, match=r"no document nothing\.md at run"):
        store.export("nothing.md", as_of=run)


def front(date: str, body: str) -> str:
    return f"---\nngay_hieu_luc: {date}\n---\n# Act\n\n## Article 1. Scope\n\n{body}\n"


def test_in_force_on_gives_the_latest_version_effective_by_that_date(db: Any) -> None:
    """Versions whose front matter carries ngay_hieu_luc (ISO or day first): --in-force-on
    gives the last applied version whose date is on or before the day; before every
    date it is refused. Applied as the execution role."""
    settings = db.settings(execution="enabled", apply_role="cutter_exec")
    provider = db.provider(role="cutter_exec")
    v1, v2 = front("2026-01-01", "One."), front('"01/07/2026"', "Two.")
    apply_text(settings, provider, v1, "act.md")
    second = apply_text(settings, provider, v2, "act.md")
    store = Store(settings)
    assert store.export("act.md", in_force_on="2026-02-01").text == v1
    assert store.export("act.md", in_force_on="2026-06-30").text == v1
    assert store.export("act.md", in_force_on="2026-07-01").text == v2
    # a version applied later with an earlier date: the latest applied one in force wins
    v3 = front("2026-03-01", "Three.")
    apply_text(settings, provider, v3, "act.md")
    assert store.export("act.md", in_force_on="2026-02-01").text == v1
    assert store.export("act.md", in_force_on="2026-07-01").text == v3
    # known at a run: as the database stood then
    assert store.export("act.md", in_force_on="2026-07-01", as_of=second).text == v2
    (doc,) = store.ls_at(in_force_on="2026-07-02")
    assert (doc.effective_date, doc.effective_key) == ("2026-03-01", "ngay_hieu_luc")
    with pytest.raises(AsOfRefused, match=r"no version of act\.md is in force on 2025-12-31"):
        store.export("act.md", in_force_on="2025-12-31")
    with pytest.raises(AsOfRefused, match="not a date"):
        store.export("act.md", in_force_on="soon")


def test_document_versions_are_append_only(db: Any) -> None:
    settings, provider = db.settings(execution="enabled"), db.provider()
    apply_text(settings, provider, front("2026-01-01", "One."), "act.md")
    with db.connect(autocommit=True) as admin:
        for table in ("iu_document_version", "iu_document_effective"):
            assert admin.execute(f"SELECT count(*) FROM {db.schema}.{table}").scalar() == 1
            for sql in (
                f"UPDATE {db.schema}.{table} SET run_id = run_id",
                f"DELETE FROM {db.schema}.{table}",
            ):
                with pytest.raises(DatabaseError, match="append-only"):
                    admin.execute(sql)


# ------------------------------------------------------------------------ the upgrade


@pytest.fixture
def db_before_0015(empty_db: str, tmp_path: Path) -> str:
    """A database migrated up to (not including) 0015."""
    with ConnectionProvider(Target(empty_db, "--dsn")).connect(autocommit=True) as conn:
        migrate(conn, "public", directory=migrations_up_to(14, tmp_path))
    return empty_db


def test_points_before_the_upgrade_are_refused_and_later_ones_read(db_before_0015: str) -> None:
    """Runs before 0015 kept no document versions: as-of them is refused (exit 35), naming
    the upgrade; the state the upgrade recorded (baseline) and later runs read exactly."""
    settings = Settings(dsn=db_before_0015, env={}, execution="enabled")
    store = Store(settings)
    provider = store.provider
    v1 = ORDERED
    v2 = REORDERED  # a move without a change of text: not rebuildable from unit versions
    old = apply_text(settings, provider, v1, "act.md")
    between = datetime.now(UTC)
    apply_text(settings, provider, v2, "act.md")
    time.sleep(0.05)
    store.migrate()
    upgraded = datetime.now(UTC)
    v3 = v2.replace("Three.", "Three, revised.")
    new = apply_text(settings, provider, v3, "act.md")
    with pytest.raises(HistoryNotKept, match="before this database was upgraded to schema 15") as e:
        store.export("act.md", as_of=old)
    assert e.value.exit_code == 35
    with pytest.raises(HistoryNotKept):
        store.export("act.md", as_of=between.isoformat())
    assert store.export("act.md", as_of=upgraded.isoformat()).text == v2  # the baseline
    assert store.export("act.md", as_of=new).text == v3


def test_search_as_of_a_run_finds_the_text_and_codes_of_then(db: Any) -> None:
    """search --as-of: the words of a unit's earlier version are found at that run (its
    version then), not at the later one; a unit added later is not found at the earlier
    run; a retired document's units are found only before it was retired; --in-force-on
    searches the version in force on that day."""
    settings, provider = db.settings(execution="enabled"), db.provider()
    v1 = "# Act\n\n## Article 1. Scope\n\nThe lighthouse keeper.\n"
    v2 = v1.replace("lighthouse", "harbour") + "\n## Article 2. Duty\n\nThe lighthouse.\n"
    first = apply_text(settings, provider, v1, "act.md")
    second = apply_text(settings, provider, v2, "act.md")
    store = Store(settings)
    art1 = next(u.code for u in store.units("act.md") if u.title.startswith("Article 1"))
    art2 = next(u.code for u in store.units("act.md") if u.title.startswith("Article 2"))
    then = store.search("lighthouse", as_of=first)
    assert [(h.code, h.version) for h in then] == [(art1, 1)]
    assert [h.code for h in store.search("lighthouse", as_of=second)] == [art2]
    assert [h.code for h in store.search("lighthouse")] == [art2]
    assert store.search("harbour", as_of=first) == []
    assert [(h.code, h.version) for h in store.search("harbour", as_of=second)] == [(art1, 2)]
    dated = front("2026-01-01", "The beacon.")
    apply_text(settings, provider, dated, "dated.md")
    apply_text(settings, provider, front("2026-09-01", "The tower."), "dated.md")
    assert len(store.search("beacon", in_force_on="2026-08-31")) == 1
    assert store.search("beacon", in_force_on="2026-09-01") == []
    with pytest.raises(AsOfRefused):
        store.search("lighthouse", as_of="ffffffff")
