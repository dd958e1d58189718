"""``iucut apply`` of a corpus whose files the cut cache knows by their stat (issue #16
part 3): no digest is made for them, and still every change is seen: a changed file, a
rules change, the database changed by someone else, a deleted or renamed file, a cache
that saw another database. ``--json`` lists every document as before."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from iucut import digests, plan, seen
from iucut.cli import main

OLD = 1_700_000_000_000_000_000  # an mtime long before any entry is taken
TEXT = "# Act {n}\n\n## Article 1. One\n\nText {n}{extra}.\n\n## Article 2. Two\n\nMore.\n"


def _write(folder: Path, n: int, extra: str = "", name: str | None = None) -> None:
    path = folder / (name or f"d{n}.md")
    path.write_text(TEXT.format(n=n, extra=extra), encoding="utf-8")
    os.utime(path, ns=(OLD, OLD))  # (an entry taken now is trusted: not racy)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for n in range(4):
        _write(folder, n)
    return folder


class Apply:
    """``iucut apply --json`` in this process (to count what it makes)."""

    def __init__(self, db: Any, corpus: Path, home: Path, capsys: Any, monkeypatch: Any):
        self.db, self.corpus, self.capsys = db, corpus, capsys
        self.monkeypatch, self.home = monkeypatch, home
        self.made: list[str] = []  # the digests decoded from the cache
        self.unchanged = 0  # the files that came as an Unchanged
        real_digest, real_lookup = digests._digest, digests.lookup

        def spy_digest(data: str, refresh: Any) -> Any:
            self.made.append(data)
            return real_digest(data, refresh)

        def spy_lookup(*args: Any, **kwargs: Any) -> Any:
            found = real_lookup(*args, **kwargs)
            self.unchanged += isinstance(found, plan.Unchanged)
            return found

        real_fast = digests.Lookup.fast_run

        def spy_fast(lookup: Any, doc_paths: Any, packed: Any, out: Any, start: int) -> int:
            # (a walk's look-ups by their stats, a folder's files at a time)
            stop = real_fast(lookup, doc_paths, packed, out, start)
            self.unchanged += sum(isinstance(f, plan.Unchanged) for f in out[start:stop])
            return stop

        monkeypatch.setattr(digests, "_digest", spy_digest)
        monkeypatch.setattr(digests, "lookup", spy_lookup)
        monkeypatch.setattr(digests.Lookup, "fast_run", spy_fast)

    def __call__(self, *extra: str, dsn: str | None = None) -> dict[str, Any]:
        self.made.clear()
        self.unchanged = 0
        env = {
            "IUCUT_DSN": dsn or self.db.dsn,
            "IUCUT_SCHEMA": self.db.schema,
            "IUCUT_HOME": str(self.home),
            "IUCUT_EXECUTION": "enabled",
            "IUCUT_ROOT": str(self.corpus),
        }
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)
        self.capsys.readouterr()
        try:
            main(["apply", "--json", "--jobs", "2", *extra, str(self.corpus)])
            code: Any = 0
        except SystemExit as exc:
            code = exc.code
        out = self.capsys.readouterr().out
        assert code in (0, None), out
        return json.loads(out)  # type: ignore[no-any-return]


@pytest.fixture
def apply(db: Any, corpus: Path, tmp_path: Path, capsys: Any, monkeypatch: Any) -> Apply:
    return Apply(db, corpus, tmp_path / "home", capsys, monkeypatch)


def _status(result: dict[str, Any]) -> dict[str, str]:
    return {d["doc_path"]: d["status"] for d in result["documents"]}


def test_an_unchanged_resync_makes_no_digest_and_lists_every_document(apply: Apply) -> None:
    assert set(_status(apply()).values()) == {"applied"}
    again = apply()
    assert apply.unchanged == 4 and apply.made == []
    assert _status(again) == {f"d{n}.md": "skipped" for n in range(4)}
    assert again["written"] == [] and again["run_id"] is None


def test_a_changed_file_is_written(apply: Apply, corpus: Path) -> None:
    apply()
    apply()
    _write(corpus, 2, " changed")
    result = apply()
    assert apply.unchanged == 3
    assert result["written"] == ["d2.md"]
    assert apply()["written"] == []


def test_a_rules_change_cuts_every_file_again(
    apply: Apply, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply()
    apply()
    monkeypatch.setattr(digests, "rules_fingerprint", lambda *a, **k: "another rules fingerprint")
    apply()
    assert apply.unchanged == 0  # (no entry for these rules: every file cut)


def test_the_database_changed_by_someone_else_is_seen(apply: Apply, db: Any) -> None:
    """An administrator's UPDATE of a stored row: the token of the rows moves, the
    files known by their stat are compared with the rows again, the document written."""
    apply()
    apply()
    admin = db.connect(autocommit=True)
    admin.execute(f"UPDATE {db.schema}.iu_document SET cut_digest = 'x' WHERE doc_path = 'd1.md'")
    result = apply()
    assert apply.unchanged == 4
    assert result["written"] == ["d1.md"]
    assert apply()["written"] == []


def test_a_deleted_and_a_renamed_file(apply: Apply, corpus: Path) -> None:
    apply()
    apply()
    (corpus / "d3.md").unlink()
    (corpus / "d1.md").rename(corpus / "e1.md")
    result = apply("--prune")
    status = _status(result)
    assert status["e1.md"] == "applied"  # a new document (another path, another namespace)
    assert status["d1.md"] == "applied"  # retired by --prune
    assert status["d3.md"] == "applied"
    assert {status["d0.md"], status["d2.md"]} == {"skipped"}
    assert result["counts"]["retired"] >= 2
    assert apply("--prune")["written"] == []


def test_a_cache_that_saw_another_database(apply: Apply, pg_server: Any, pg_template: str) -> None:
    """The same home applied to a fresh database: the files are known by their stat,
    but nothing is stored there: every document is written (cut again by its path)."""
    import secrets

    from iucut.db.target import with_database

    apply()
    apply()
    other = f"iucut_t_fast_{secrets.token_hex(4)}"
    with pg_server.admin() as admin:
        admin.execute(f"CREATE DATABASE {other} TEMPLATE {pg_template}")
    try:
        dsn = with_database(pg_server.dsn, other)
        result = apply(dsn=dsn)
        assert apply.unchanged == 4
        assert sorted(result["written"]) == [f"d{n}.md" for n in range(4)]
        assert apply(dsn=dsn)["written"] == []
    finally:
        with pg_server.admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {other} WITH (FORCE)")


def test_seen_holds_no_object_a_document_of_an_unchanged_corpus(db: Any, tmp_path: Path) -> None:
    """The triage of a corpus the cache saw up to date reads the documents as they come
    and the fingerprints a chunk at a time: what it holds does not grow with the corpus
    (a dict of every path did; so did a list of the documents)."""
    import tracemalloc

    conn = db.connect(autocommit=True)
    cache = tmp_path / "seen.sqlite3"

    def peak(count: int) -> int:
        keeper = seen.Seen(cache, f"db{count}")
        list(keeper._rows(conn, []))  # (the token of the stored rows: none here)
        assert keeper.token is not None
        token = keeper.token
        keeper._save(token, {f"p{n:06d}.md": n for n in range(count)}, ())
        fresh = seen.Seen(cache, f"db{count}")
        skipped = []
        tracemalloc.start()
        try:  # (the documents made as the triage asks for them, as a walk makes them)
            items = (plan.Unchanged(f"p{n:06d}.md", f"p{n:06d}", n, None, ()) for n in range(count))
            todo, rows = fresh.triage(conn, items, lambda d: skipped.append(None))
            _, high = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert (todo, rows, len(skipped)) == ([], {}, count)
        return high

    small, large = peak(1_000), peak(10_000)
    assert large < 2 * small, (small, large)
