"""Each stored document row keeps its row hash (migration 0022, issue #16 part 3):
PostgreSQL computes it at every write of the row from the triage columns, and the token a
re-sync reads (:mod:`iucut.seen`, query ``documents_state``) is summed from it. Checked
against the formula written out here, as the query computed it for every row before 0022
(an oracle of its own, not the migration's text): on rows applied, revised, retired and
without a profile, and on a database upgraded from schema version 21, whose token must
not move (a client's cache of what it saw stays true across the upgrade)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import iucut
from conftest import migrations_up_to
from iucut.apply import ApplyResult, apply_digests, begin_run, write_document
from iucut.config import Settings
from iucut.cut import cut_text
from iucut.db.connector import Connection, ConnectionProvider
from iucut.db.target import Target
from iucut.errors import IucutError, NotMigrated
from iucut.migrate import migrate
from iucut.plan import Digest, diff_document, digest_of
from iucut.units import CutDocument

#: The row hash as the token query computed it per row before 0022 (schema 16-21).
ORACLE = """
    pg_catalog.hashtextextended(doc_path, pg_catalog.hashtextextended(state,
        pg_catalog.hashtextextended(doc_hash, COALESCE(
            pg_catalog.hashtextextended(cut_digest, p.seed), p.seed # 1))))
"""
SEED = "CROSS JOIN LATERAL (SELECT COALESCE(pg_catalog.hashtextextended(profile, 2), 3) AS seed) p"

LAW = "# Act {n}\n\n## Article 1. One\n\nText {n}.\n\n## Article 2. Two\n\nMore {n}.\n"


def _oracle(conn: Connection, schema: str) -> tuple[int, int, int]:
    """(rows, the sum of the oracle's hashes, rows whose stored hash differs from it)."""
    row = conn.execute(
        f"SELECT count(*) AS n, COALESCE(sum({ORACLE}), 0) AS total, "
        f"count(*) FILTER (WHERE row_hash IS DISTINCT FROM {ORACLE}) AS wrong "
        f"FROM {schema}.iu_document {SEED}"
    ).fetchone()
    assert row is not None
    return int(row["n"]), int(row["total"]), int(row["wrong"])


def _token(conn: Connection) -> str:
    """The token ``documents_state`` gives (no rows named)."""
    (row,) = conn.query("documents_state", paths=[], token=True).fetchall()
    return f"{row['token_rows']}:{row['token_sum']}"


def test_the_stored_hash_is_the_formula_after_every_kind_of_write(
    db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created, revised, retired (--prune) and profile-less rows all hold the hash the
    query used to compute, and the token is their count and sum."""
    monkeypatch.chdir(tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(4):
        (docs / f"d{n}.md").write_text(LAW.format(n=n), encoding="utf-8")
    store = iucut.Store(db.settings(execution="enabled"))
    store.apply(["docs"])
    (docs / "d1.md").write_text(LAW.format(n="1 revised"), encoding="utf-8")
    (docs / "d3.md").unlink()
    store.apply(["docs"], prune=True)
    conn = db.connect(autocommit=True)
    conn.execute(f"UPDATE {db.schema}.iu_document SET profile = NULL WHERE doc_path = 'd0.md'")
    states = {
        r["doc_path"]: (r["state"], r["profile"])
        for r in conn.execute(f"SELECT doc_path, state, profile FROM {db.schema}.iu_document")
    }
    assert states["d3.md"][0] == "retired" and states["d1.md"][0] == "active"
    assert states["d0.md"][1] is None and states["d2.md"][1] is not None
    rows, total, wrong = _oracle(conn, db.schema)
    assert (rows, wrong) == (4, 0)
    assert _token(conn) == f"{rows}:{total}"


@pytest.fixture
def old_db(empty_db: str, tmp_path: Path) -> str:
    """A database migrated to schema version 21 only (before the stored row hash)."""
    with ConnectionProvider(Target(empty_db, "--dsn")).connect(autocommit=True) as conn:
        migrate(conn, "public", directory=migrations_up_to(21, tmp_path))
    return empty_db


def test_an_upgraded_database_keeps_its_token(old_db: str, tmp_path: Path) -> None:
    """Documents written at version 21 get the formula's hash when 0022 adds the column:
    the token after the upgrade is the one the old query gave. Before the upgrade, an
    apply that reads the token says the schema is not migrated (the column is missing),
    writing nothing."""
    docs = [cut_text(LAW.format(n=n).encode(), f"d{n}.md") for n in range(3)]
    settings = Settings(dsn=old_db, env={}, execution="enabled", home=tmp_path / "h")
    provider = ConnectionProvider(Target(old_db, "--dsn"))
    with provider.connect() as conn:
        with conn.transaction():  # written as version 21's functions take it
            run_id = begin_run(conn, "apply")
            for doc in docs:
                write_document(conn, run_id, diff_document(doc, None, {}))
        before = _oracle_without_column(conn)
    cache = tmp_path / "cache.sqlite3"
    revised = [*docs[:1], cut_text(LAW.format(n="1 revised").encode(), "d1.md"), *docs[2:]]
    with pytest.raises(NotMigrated, match="not migrated"):
        _apply(settings, provider, revised, cache)
    with provider.connect(autocommit=True) as conn:
        assert _oracle_without_column(conn) == before  # the refused apply wrote nothing
        migrate(conn, "public")
    with provider.connect(autocommit=True) as conn:
        rows, total, wrong = _oracle(conn, "public")
        assert (rows, wrong) == (3, 0)
        assert _token(conn) == f"{rows}:{total}" == f"{before[0]}:{before[1]}"
    result = _apply(settings, provider, revised, cache)
    assert [d.doc_path for d in result.documents if d.status == "applied"] == ["d1.md"]
    with provider.connect(autocommit=True) as conn:
        assert _oracle(conn, "public")[2] == 0


def _apply(
    settings: Settings, provider: ConnectionProvider, docs: list[CutDocument], cache: Path
) -> ApplyResult:
    """Apply ``docs`` from their digests with a seen cache (the token is read)."""
    by_path = {d.path: d for d in docs}

    def recut(paths: Sequence[str], /, then: Callable[[Any], Any] | None = None) -> Iterator[Any]:
        return iter([by_path[p] if then is None else then(by_path[p]) for p in paths])

    digests: list[Digest | IucutError] = [digest_of(d) for d in docs]
    return apply_digests(settings, provider, digests, recut, seen_cache=cache)


def _oracle_without_column(conn: Connection) -> tuple[int, int]:
    row = conn.execute(
        f"SELECT count(*) AS n, COALESCE(sum({ORACLE}), 0) AS total FROM public.iu_document {SEED}"
    ).fetchone()
    assert row is not None
    return int(row["n"]), int(row["total"])
