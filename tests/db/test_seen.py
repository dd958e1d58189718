"""What apply last saw of the stored documents (``iucut.seen``, issue #16 part 3): a
re-sync reads only the rows of the files changed since, and only while the database's
document rows are as it saw them; any change by anyone else is seen."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from iucut import apply as apply_mod
from iucut import seen as seen_mod
from iucut.apply import ApplyResult, apply_digests, apply_plan
from iucut.cut import cut_text
from iucut.errors import IucutError
from iucut.plan import Digest, digest_of
from iucut.plan_state import retire_plan
from iucut.units import CutDocument

LAW = "# Act {n}\n\n## Article 1. One\n\nText {n}{extra}.\n\n## Article 2. Two\n\nMore {n}.\n"


def _docs(extra: dict[int, str] | None = None, count: int = 4) -> list[CutDocument]:
    extra = extra or {}
    return [
        cut_text(LAW.format(n=n, extra=extra.get(n, "")).encode(), f"d{n}.md") for n in range(count)
    ]


def _apply(db: Any, docs: Sequence[CutDocument], cache: Path, **options: Any) -> ApplyResult:
    by_path = {d.path: d for d in docs}

    def recut(paths: Sequence[str], /, then: Callable[[Any], Any] | None = None) -> Iterator[Any]:
        return iter([by_path[p] if then is None else then(by_path[p]) for p in paths])

    digests: list[Digest | IucutError] = [digest_of(d) for d in docs]
    settings = db.settings(execution="enabled")
    return apply_digests(settings, db.provider(), digests, recut, seen_cache=cache, **options)


def _written(result: ApplyResult) -> list[str]:
    return [d.doc_path for d in result.documents if d.status == "applied"]


def _stored_hash(db: Any, path: str) -> str:
    row = db.connect(autocommit=True).query("documents_by_path", paths=[path]).fetchone()
    return str(row["doc_hash"]) + ":" + str(row["state"])


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The document paths each read of stored rows named (through the cache)."""
    calls: list[list[str]] = []
    real = seen_mod.Seen._rows

    def spy(self: seen_mod.Seen, conn: Any, paths: list[str]) -> Iterator[Any]:
        calls.append(sorted(paths))
        return real(self, conn, paths)

    monkeypatch.setattr(seen_mod.Seen, "_rows", spy)
    return calls


def test_an_unchanged_database_is_not_read_again(db: Any, tmp_path: Path, asked: Any) -> None:
    """With the token unchanged, a re-sync reads no stored row and a change of one file
    reads that file's row only; what it writes moves the cache on (the next re-sync
    reads no row either)."""
    cache = tmp_path / "a.sqlite3"
    assert _written(_apply(db, _docs(), cache)) == ["d0.md", "d1.md", "d2.md", "d3.md"]
    asked.clear()
    assert _written(_apply(db, _docs(), cache)) == []
    assert asked == [[]]  # the token alone
    asked.clear()
    changed = _docs({2: " changed"})
    assert _written(_apply(db, changed, cache)) == ["d2.md"]
    # the token first, then the changed file's row with the token again, then the token
    # after the write
    assert asked == [[], ["d2.md"], ["d2.md"]]
    asked.clear()
    assert _written(_apply(db, changed, cache)) == []
    assert asked == [[]]


def test_a_first_apply_of_many_chunks_is_remembered_whole(
    db: Any, tmp_path: Path, asked: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documents a first apply wrote are read back a chunk at a time (the first with
    the token, then the token again): every one is remembered up to date at the token
    after the writes, so the next re-sync reads no row (the token alone)."""
    monkeypatch.setattr(seen_mod.Seen, "CHUNK", 2)
    cache = tmp_path / "a.sqlite3"
    docs = _docs(count=7)
    assert _written(_apply(db, docs, cache)) == [d.path for d in docs]
    asked.clear()
    assert _written(_apply(db, docs, cache)) == []
    assert asked == [[]]


def test_a_change_through_another_cache_is_seen(db: Any, tmp_path: Path) -> None:
    """Another machine (another cache) writes another version of a document: this
    machine's next apply of its own files finds it and writes its version back."""
    mine, theirs = tmp_path / "mine.sqlite3", tmp_path / "theirs.sqlite3"
    _apply(db, _docs(), mine)
    assert _written(_apply(db, _docs(), mine)) == []
    assert _written(_apply(db, _docs({1: " theirs"}), theirs)) == ["d1.md"]
    assert _written(_apply(db, _docs(), mine)) == ["d1.md"]
    assert _stored_hash(db, "d1.md") == f"{_docs()[1].doc_hash}:active"


def test_a_retire_is_seen(db: Any, tmp_path: Path) -> None:
    """A document retired by ``retire`` (not apply): the next apply, whose cache saw it
    active, finds it retired and brings it back."""
    cache = tmp_path / "a.sqlite3"
    _apply(db, _docs(), cache)
    assert _written(_apply(db, _docs(), cache)) == []
    settings = db.settings(execution="enabled")
    conn = db.connect(autocommit=True)
    plan = retire_plan(conn, ["d3.md"])
    apply_plan(settings, db.provider(), plan, plan.id)
    assert _stored_hash(db, "d3.md").endswith(":retired")
    assert _written(_apply(db, _docs(), cache)) == ["d3.md"]
    assert _stored_hash(db, "d3.md").endswith(":active")


def test_a_hand_written_update_is_seen(db: Any, tmp_path: Path) -> None:
    """A stored row changed outside iucut (an administrator's UPDATE of the profile)."""
    cache = tmp_path / "a.sqlite3"
    docs = [
        cut_text(LAW.format(n=n, extra="").encode(), f"d{n}.md", profile="en") for n in range(3)
    ]
    _apply(db, docs, cache)
    assert _written(_apply(db, docs, cache)) == []
    admin = db.connect(autocommit=True)
    admin.execute(f"UPDATE {db.schema}.iu_document SET profile = 'vi' WHERE doc_path = 'd0.md'")
    assert "d0.md" in [
        d.doc_path for d in _apply(db, docs, cache).documents if d.status != "skipped"
    ]


def test_another_database_with_the_same_identity_is_seen(
    db: Any, tmp_path: Path, pg_server: Any, pg_template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database replaced by another under the same name (a restore: same system
    identifier, same name, same schema) holding other rows: the cache, keyed by that
    identity, does not hide them (the token is made of the rows themselves)."""
    import secrets

    from iucut.db.target import with_database

    cache = tmp_path / "a.sqlite3"
    monkeypatch.setattr(seen_mod, "database_key", lambda conn: "one/identity/for/both")
    _apply(db, _docs(), cache)
    assert _written(_apply(db, _docs(), cache)) == []
    # the "restored" database: the same four documents, one of them another version
    other = f"iucut_t_seen_{secrets.token_hex(4)}"
    with pg_server.admin() as admin:
        admin.execute(f"CREATE DATABASE {other} TEMPLATE {pg_template}")
    try:
        replaced = type(db)(
            name=other,
            dsn=with_database(pg_server.dsn, other),
            schema=db.schema,
            home=db.home,
        )
        assert _written(_apply(replaced, _docs({0: " restored"}), tmp_path / "b.sqlite3"))
        assert _written(_apply(replaced, _docs(), cache)) == ["d0.md"]
        replaced.close_all()
    finally:
        with pg_server.admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {other} WITH (FORCE)")


def test_a_write_by_another_during_apply_is_seen_after_it(
    db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer retires a document while this apply writes its own change: the
    cache does not take the token after the writes as its own (it does not add up), so
    the next apply finds the retired document."""
    cache = tmp_path / "a.sqlite3"
    _apply(db, _docs(), cache)
    assert _written(_apply(db, _docs(), cache)) == []
    real = apply_mod._write_all
    settings = db.settings(execution="enabled")

    def with_another_writer(*args: Any, **kwargs: Any) -> ApplyResult:
        result = real(*args, **kwargs)
        conn = db.connect(autocommit=True)
        plan = retire_plan(conn, ["d0.md"])
        apply_plan(settings, db.provider(), plan, plan.id)
        return result

    monkeypatch.setattr(apply_mod, "_write_all", with_another_writer)
    changed = _docs({2: " changed"})
    assert _written(_apply(db, changed, cache)) == ["d2.md"]
    monkeypatch.setattr(apply_mod, "_write_all", real)
    assert _written(_apply(db, changed, cache)) == ["d0.md"]


def _token(db: Any) -> str:
    """The token of the stored document rows, as a triage reads it."""
    rows = db.connect(autocommit=True).stream("documents_state", paths=[], token=True)
    (row,) = list(rows)
    return f"{row['token_rows']}:{row['token_sum']}"


def test_a_value_swapped_between_two_rows_is_seen(db: Any, tmp_path: Path) -> None:
    """Two stored rows trade their cut digests (an administrator's UPDATE): the rows are
    not the same set, so the token is not the same, and the next apply finds both."""
    cache = tmp_path / "a.sqlite3"
    _apply(db, _docs(), cache)
    assert _written(_apply(db, _docs(), cache)) == []
    admin = db.connect(autocommit=True)
    admin.execute(
        f"UPDATE {db.schema}.iu_document d SET cut_digest = o.cut_digest"
        f"  FROM {db.schema}.iu_document o"
        "  WHERE (d.doc_path, o.doc_path) IN (('d0.md', 'd1.md'), ('d1.md', 'd0.md'))"
    )
    assert _written(_apply(db, _docs(), cache)) == ["d0.md", "d1.md"]


def test_the_token_follows_every_triage_column(db: Any, tmp_path: Path) -> None:
    """Each change of a triage column of a row changes the token, to or from NULL too
    (and the profile of a row whose cut digest is NULL), and the rows as they were give
    back the token they gave."""
    _apply(db, _docs(), tmp_path / "a.sqlite3")
    admin = db.connect(autocommit=True)
    table = f"{db.schema}.iu_document"
    (was,) = admin.execute(
        f"SELECT cut_digest, profile FROM {table} WHERE doc_path = 'd0.md'"
    ).fetchall()
    first = _token(db)
    tokens = {first}
    for profile, cut_digest in (  # (each a state of the row not seen before)
        ("zz", was["cut_digest"]),
        (None, was["cut_digest"]),
        (None, None),
        ("zz", None),
        ("yy", None),
        ("yy", "x"),
        (was["profile"], "x"),
    ):
        admin.execute(
            f"UPDATE {table} SET profile = %(p)s, cut_digest = %(c)s WHERE doc_path = 'd0.md'",
            {"p": profile, "c": cut_digest},
        )
        token = _token(db)
        assert token not in tokens, (profile, cut_digest)
        tokens.add(token)
    admin.execute(
        f"UPDATE {table} SET profile = %(p)s, cut_digest = %(c)s WHERE doc_path = 'd0.md'",
        {"p": was["profile"], "c": was["cut_digest"]},
    )
    assert _token(db) == first


def test_the_rows_read_without_the_token_carry_the_hash_it_sums(db: Any) -> None:
    """A triage without a true token reads the rows a chunk of paths at a time, without
    the token: each with the very hash the token sums (what apply subtracts and adds
    after its own writes), and no token row."""
    settings = db.settings(execution="enabled")
    docs = _docs(count=5)
    apply_mod.apply_documents(settings, db.provider(), docs)
    conn = db.connect(autocommit=True)
    seen = seen_mod.Seen(Path("unused.sqlite3"), "db")
    rows = list(seen._hashed(conn, [d.path for d in docs] + ["absent.md"]))
    assert sorted(r["doc_path"] for r in rows) == [d.path for d in docs]
    assert _token(db) == f"{len(rows)}:{sum(int(r['row_hash']) for r in rows)}"
    hashes = {r["doc_path"]: r["row_hash"] for r in rows}
    with_token = {r["doc_path"]: r["row_hash"] for r in seen._rows(conn, [docs[0].path])}
    assert with_token == {docs[0].path: hashes[docs[0].path]}
