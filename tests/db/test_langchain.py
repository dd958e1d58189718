"""LangChain (real langchain-core): the unit loader from files and from the database, and
sync() into an InMemoryVectorStore with a counting deterministic embedding: exactly in line
with the database, nothing unchanged embedded again, and a failed store write retried."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.vectorstores import InMemoryVectorStore

import iucut
from iucut.integrations.langchain import UnitLoader, sync

LAW = """\
# Act on Examples

## Chapter I. General

### Article 1. Scope

This act applies to examples.

### Article 2. Terms

Words mean what they say.

## Chapter II. Final

### Article 3. Entry into force

This act enters into force on publication.
"""

OTHER = """\
# Regulation on Samples

## Section 1

Samples are taken daily.

## Section 2

Samples are kept for a year.
"""


class CountingEmbedding(DeterministicFakeEmbedding):
    """A deterministic embedding that counts the texts it embeds."""

    calls: int = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return super().embed_documents(texts)


class CountingStore(InMemoryVectorStore):
    """An InMemoryVectorStore that counts deleted ids and can fail on a chosen add."""

    def __init__(self, embedding: Any, fail_on_add: int | None = None):
        super().__init__(embedding)
        self.deleted = 0
        self.adds = 0
        self.fail_on_add = fail_on_add

    def delete(self, ids: Any = None, **kwargs: Any) -> None:
        self.deleted += len(ids or ())
        super().delete(ids, **kwargs)

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        self.adds += 1
        if self.adds == self.fail_on_add:
            raise ConnectionError("vector store unavailable")
        return super().add_documents(documents, **kwargs)


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iucut.yaml").touch()  # the project root (iucut init): paths read docs/…
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "act.md").write_text(LAW, encoding="utf-8")
    (tmp_path / "docs" / "other.md").write_text(OTHER, encoding="utf-8")
    return tmp_path / "docs"


def contents(vs: InMemoryVectorStore) -> dict[str, str]:
    return {k: v["text"] for k, v in vs.store.items()}


def expected(store: iucut.Store) -> dict[str, str]:
    return {u.code: u.text for u in store.units() if u.text.strip()}


def test_loader_from_files_gives_one_document_per_unit(docs: Path) -> None:
    """From files: id = code, the unit's text, and metadata with the breadcrumb of
    ancestor titles and the line span (version None: no database)."""
    loaded = UnitLoader(["docs"]).load()
    cut = [
        u for d in iucut.cut_paths(["docs"]) for u in d.units if (u.raw_heading + u.body).strip()
    ]
    assert [d.id for d in loaded] == [u.code for u in cut]
    art2 = next(d for d in loaded if d.page_content.startswith("### Article 2"))
    unit = next(u for u in cut if u.code == art2.id)
    crumbs = art2.metadata["breadcrumb"]
    assert crumbs[-2:] == ["Act on Examples", "Chapter I. General"] and len(crumbs) == unit.depth
    assert (art2.metadata["kind"], art2.metadata["parent"]) == (unit.kind, unit.parent_code)
    assert art2.metadata["content_hash"] == unit.content_hash
    assert art2.metadata["doc_path"] == "docs/act.md" and art2.metadata["version"] is None
    lines = LAW.splitlines()
    assert lines[art2.metadata["line_start"] - 1] == "### Article 2. Terms"


def test_loader_from_database_matches_files(db, docs: Path) -> None:
    """From the database: the same documents as from the files, with version 1."""
    store = iucut.Store(db.settings(execution="enabled"))
    store.apply([docs])
    from_db = UnitLoader(store=store).load()
    from_files = UnitLoader(["docs"]).load()
    assert [(d.id, d.page_content) for d in from_db] == [(d.id, d.page_content) for d in from_files]
    assert {d.metadata["version"] for d in from_db} == {1}
    strip = lambda m: {k: v for k, v in m.items() if k != "version"}  # noqa: E731
    assert [strip(d.metadata) for d in from_db] == [strip(d.metadata) for d in from_files]


def test_sync_follows_every_change_and_embeds_only_what_changed(db, docs: Path) -> None:
    """sync adds created units, replaces a revised one (one embedding), deletes retired
    ones, re-embeds nothing on an unchanged re-sync, and ends equal to the database."""
    store = iucut.Store(db.settings(execution="enabled"))
    store.apply([docs])
    emb = CountingEmbedding(size=8)
    vs = CountingStore(emb)
    first = sync(vs, store)
    assert contents(vs) == expected(store) and emb.calls == len(expected(store))
    assert vs.deleted == 0 and first.added == emb.calls
    # the metadata sync writes (breadcrumbs walked up in the database) is the loader's
    loaded = {d.id: d.metadata for d in UnitLoader(store=store).load()}
    assert {k: v["metadata"] for k, v in vs.store.items()} == loaded
    # unchanged: nothing embedded, nothing deleted
    before = emb.calls
    again = sync(vs, store)
    assert (emb.calls - before, vs.deleted, again.changes) == (0, 0, 0)
    # one paragraph revised: exactly one embedding
    act = docs / "act.md"
    act.write_text(LAW.replace("Words mean what they say.", "Words mean what they mean."))
    store.apply([docs])
    before = emb.calls
    sync(vs, store)
    assert emb.calls - before == 1 and contents(vs) == expected(store)
    assert (
        vs.store[next(c for c in vs.store if "what they mean" in vs.store[c]["text"])]["metadata"][
            "version"
        ]
        == 2
    )
    # an article removed, a document pruned: their ids are deleted
    article3 = "### Article 3. Entry into force\n\nThis act enters into force on publication.\n"
    act.write_text(act.read_text().replace(article3, ""))
    (docs / "other.md").unlink()
    store.apply([docs], prune=True)
    before_emb, before_del, held = emb.calls, vs.deleted, set(contents(vs))
    sync(vs, store)
    assert contents(vs) == expected(store)
    removed = held - set(expected(store))
    assert len(removed) == 1 + 3  # article 3, and the three units of other.md with text
    assert emb.calls == before_emb and vs.deleted - before_del == len(removed)


def test_failed_vector_store_write_is_retried_not_lost(db, docs: Path) -> None:
    """A vector store failing mid-sync leaves the cursor before the failed page; the next
    sync writes it again and the store ends exactly equal to the database."""
    store = iucut.Store(db.settings(execution="enabled"))
    store.apply([docs])
    emb = CountingEmbedding(size=8)
    vs = CountingStore(emb, fail_on_add=2)
    with pytest.raises(ConnectionError):
        sync(vs, store, page_size=3)
    saved = store.feed_cursor("langchain")
    assert saved is not None and saved.pending is not None
    assert contents(vs) != expected(store)
    result = sync(vs, store, page_size=3)
    assert contents(vs) == expected(store)
    assert store.feed_cursor("langchain").pending is None  # type: ignore[union-attr]
    assert result.cursor == store.head()
    # the failed add embedded nothing; the retry wrote the failed page and the rest, and
    # never the page that had succeeded: every unit was embedded exactly once
    assert emb.calls == len(expected(store))


def test_cursor_is_kept_in_the_database_by_its_function_only(db, docs: Path) -> None:
    """The execution role cannot write the cursor table directly; sync as that role moves
    the cursor through the granted function."""
    store = iucut.Store(db.settings(execution="enabled", apply_role=db.roles.exec))
    store.apply([docs])
    conn = db.connect(role=db.roles.exec, autocommit=True)
    with pytest.raises(iucut.IucutError):
        conn.execute(f"INSERT INTO {db.schema}.iu_feed_cursor VALUES ('x', 0, 0)")
    vs = InMemoryVectorStore(CountingEmbedding(size=8))
    result = sync(vs, store, consumer="exec-sync")
    saved = store.feed_cursor("exec-sync")
    assert saved is not None and str(result.cursor).endswith(
        f".{saved.position.commit_seq}.{saved.position.event_id}"
    )
