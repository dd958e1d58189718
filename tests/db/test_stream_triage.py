"""Apply's triage reads the corpus's digests once, as they come (issue #16 part 3): the
documents sharing a namespace are still all rejected wherever they are found, a
database written by someone else while the corpus is read leaves nothing remembered,
and on a terminal the cutting bar and then the applying bar are drawn."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from iucut import seen as seen_mod
from iucut.apply import apply_documents
from iucut.cut import cut_text
from iucut.plan import Digest, Unchanged, digest_of
from iucut.units import CutDocument

LAW = "# Act {n}\n\n## Article 1. One\n\nText {n}{extra}.\n"


def _doc(n: int, extra: str = "") -> CutDocument:
    return cut_text(LAW.format(n=n, extra=extra).encode(), f"d{n}.md")


def _token_kept(cache: Path, db: str) -> Any:
    with sqlite3.connect(cache) as lite:
        row = lite.execute("SELECT token FROM seen_token WHERE db = ?", (db,)).fetchone()
    return None if row is None else row[0]


def _writing_midway(docs: list[Digest], then: Any, after: int) -> Iterator[Digest | Unchanged]:
    """The digests, with a write by someone else after the first ``after`` came."""
    for k, d in enumerate(docs):
        if k == after:
            then()
        yield d


def _triage(db: Any, cache: Path, docs: Any) -> seen_mod.Seen:
    conn = db.connect(autocommit=True)
    seen = seen_mod.open_seen(cache, conn)
    assert seen is not None
    skipped: list[str] = []
    seen.triage(conn, docs, lambda d: skipped.append(d.path))
    seen.finish(conn, wrote=False)
    return seen


def test_a_write_by_someone_else_while_the_rows_are_read_keeps_nothing(
    db: Any, tmp_path: Path
) -> None:
    """Every row read a chunk at a time (no token kept yet): a document written by
    another client midway, so that the rows read do not all belong to one token: nothing
    is kept, and the next triage reads every row again and keeps them."""
    settings = db.settings(execution="enabled")
    docs = [_doc(n) for n in range(6)]
    apply_documents(settings, db.provider(), docs)
    cache = tmp_path / "seen.sqlite3"
    seen_mod.Seen.CHUNK = 2  # (restored below: several chunks of rows)
    try:
        other = _doc(9)
        digests = [digest_of(d) for d in docs]
        write = lambda: apply_documents(settings, db.provider(), [other])  # noqa: E731
        seen = _triage(db, cache, _writing_midway(digests, write, after=3))
        assert seen.token is None and _token_kept(cache, seen.db) is None
        seen = _triage(db, cache, iter(digests))
        assert seen.token is not None and _token_kept(cache, seen.db) == seen.token
    finally:
        seen_mod.Seen.CHUNK = 1024


def test_a_write_between_the_token_and_the_rows_asked_keeps_nothing_new(
    db: Any, tmp_path: Path
) -> None:
    """The token the cache holds read first: a document changed by another client while
    the corpus is read (after the token, before the changed file's row is asked) moves
    the database on: the cache stays at the token it was true at."""
    settings = db.settings(execution="enabled")
    docs = [_doc(n) for n in range(4)]
    apply_documents(settings, db.provider(), docs)
    cache = tmp_path / "seen.sqlite3"
    before = _triage(db, cache, iter([digest_of(d) for d in docs])).token
    assert before is not None and _token_kept(cache, db_key(db)) == before
    changed = [digest_of(d) for d in docs[:3]] + [digest_of(_doc(3, " changed"))]
    write = lambda: apply_documents(settings, db.provider(), [_doc(0, " elsewhere")])  # noqa: E731
    seen = _triage(db, cache, _writing_midway(changed, write, after=1))
    assert seen.token is None
    assert _token_kept(cache, seen.db) == before


def db_key(db: Any) -> str:
    return seen_mod.database_key(db.connect(autocommit=True))


NS = "---\niu_namespace: SHARED\n---\n"


def test_documents_sharing_a_namespace_are_all_rejected_as_the_corpus_streams(
    cli_env: Any, tmp_path: Path
) -> None:
    """A stored document up to date and two new ones with its namespace: all three
    rejected, in the order of the corpus (after the file that cannot be read), none
    written, the others written; with the cache's token true, and without it
    (--rehash); then two new documents sharing one, and a changed stored document and a
    new one sharing its."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "b.md").write_text(NS + LAW.format(n=1, extra=""), encoding="utf-8")
    (folder / "c.md").write_text(LAW.format(n=2, extra=""), encoding="utf-8")
    env = {"IUCUT_EXECUTION": "enabled", "IUCUT_ROOT": str(folder)}
    first = cli_env.run("apply", "--json", str(folder), env=env)
    assert first.returncode == 0, first.stderr
    (folder / "0bad.md").write_bytes(b"# Bad\n\n\xff\xfe not UTF-8\n")
    (folder / "a.md").write_text(NS + LAW.format(n=3, extra=""), encoding="utf-8")
    (folder / "d.md").write_text(LAW.format(n=4, extra=""), encoding="utf-8")
    (folder / "e.md").write_text(NS + LAW.format(n=5, extra=""), encoding="utf-8")
    for extra in ((), ("--rehash",)):
        out = _rejected_run(cli_env, folder, env, *extra)
        assert [r["path"] for r in out["rejected"]] == ["0bad.md", "a.md", "b.md", "e.md"]
        assert "also the namespace of b.md, e.md" in out["rejected"][1]["message"]
        assert "also the namespace of a.md, e.md" in out["rejected"][2]["message"]
        statuses = {d["doc_path"]: d["status"] for d in out["documents"]}
        assert not {"a.md", "b.md", "e.md"} & set(statuses)
        assert statuses["c.md"] == "skipped"
        assert statuses["d.md"] == ("applied" if not extra else "skipped")
    (folder / "0bad.md").unlink()
    (folder / "b.md").write_text(LAW.format(n=1, extra=""), encoding="utf-8")  # its own now
    out = _rejected_run(cli_env, folder, env)
    assert [r["path"] for r in out["rejected"]] == ["a.md", "e.md"]  # two new: both
    (folder / "e.md").unlink()
    first = cli_env.run("apply", "--json", str(folder), env=env)  # b.md stored anew
    (folder / "a.md").write_text("---\niu_namespace: B\n---\n" + LAW.format(n=3, extra=""))
    (folder / "b.md").write_text(LAW.format(n=1, extra=" changed"), encoding="utf-8")
    out = _rejected_run(cli_env, folder, env)
    assert [r["path"] for r in out["rejected"]] == ["a.md", "b.md"]  # new, and changed


def _rejected_run(cli_env: Any, folder: Path, env: dict[str, str], *extra: str) -> Any:
    result = cli_env.run("apply", "--json", *extra, str(folder), env=env)
    assert result.returncode != 0, result.stdout
    return json.loads(result.stdout)


def test_on_a_terminal_the_cutting_bar_then_the_applying_bar(cli_env: Any, tmp_path: Path) -> None:
    """The digests are read as the triage asks for them: the cutting bar is drawn first
    and the applying bar only when the writing starts (one live display at a time: rich
    before 15 refuses a second one), and both are shown."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for n in range(3):
        (folder / f"d{n}.md").write_text(LAW.format(n=n, extra=""), encoding="utf-8")
    terminal = {
        "TTY_COMPATIBLE": "1",
        "TTY_INTERACTIVE": "1",
        "IUCUT_EXECUTION": "enabled",
        "IUCUT_ROOT": str(folder),
    }
    result = cli_env.run("apply", str(folder), env=terminal)
    assert result.returncode == 0, result.stderr
    assert "cutting" in result.stderr and "applying" in result.stderr
    assert result.stderr.index("cutting") < result.stderr.index("applying")
    assert "3/3" in result.stderr and "Traceback" not in result.stderr
