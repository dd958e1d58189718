"""LlamaIndex (real llama-index-core): TextNodes with id_ = code and the tree as PARENT,
CHILD, PREVIOUS and NEXT relationships, from files and from the database; stable ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from llama_index.core.schema import Document, NodeRelationship, TextNode

import iucut
from iucut.integrations.llamaindex import UnitReader, nodes_from_files, nodes_from_store

LAW = """\
# Act on Examples

## Chapter I. General

### Article 1. Scope

This act applies to examples.

### Article 2. Terms

Words mean what they say.
"""


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iucut.yaml").touch()  # the project root (iucut init): paths read docs/…
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "act.md").write_text(LAW, encoding="utf-8")
    return tmp_path / "docs"


def test_nodes_from_files_carry_the_tree(docs: Path) -> None:
    """Each unit is a TextNode with id_ = code; PARENT/CHILD follow parent codes and
    PREVIOUS/NEXT document order; metadata has the breadcrumb."""
    units = [u for d in iucut.cut_paths(["docs"]) for u in d.units]
    nodes = nodes_from_files(["docs"])
    assert [n.id_ for n in nodes] == [u.code for u in units]
    by_id = {n.id_: n for n in nodes}
    for i, u in enumerate(units):
        node = by_id[u.code]
        parent = node.relationships.get(NodeRelationship.PARENT)
        assert (parent.node_id if parent else None) == u.parent_code  # type: ignore[union-attr]
        kids = node.relationships.get(NodeRelationship.CHILD) or []
        assert [k.node_id for k in kids] == [c.code for c in units if c.parent_code == u.code]  # type: ignore[union-attr]
        prev = node.relationships.get(NodeRelationship.PREVIOUS)
        assert (prev.node_id if prev else None) == (units[i - 1].code if i else None)  # type: ignore[union-attr]
        nxt = node.relationships.get(NodeRelationship.NEXT)
        want = units[i + 1].code if i + 1 < len(units) else None
        assert (nxt.node_id if nxt else None) == want  # type: ignore[union-attr]
        assert node.get_content() == u.raw_heading + u.body
    art2 = next(n for n in nodes if n.get_content().startswith("### Article 2"))
    assert art2.metadata["breadcrumb"][-1] == "Chapter I. General"
    assert nodes_from_files(["docs"])[3].id_ == nodes[3].id_  # re-ingest: the same ids


def test_reader_from_database_and_files_agree(db, docs: Path) -> None:
    """The reader gives the same Documents from the database (version 1) as from files."""
    store = iucut.Store(db.settings(execution="enabled"))
    store.apply([docs])
    from_db = UnitReader(store=store).load_data()
    from_files = UnitReader().load_data(["docs"])
    assert all(isinstance(d, Document) for d in from_db)
    assert [(d.id_, d.text) for d in from_db] == [(d.id_, d.text) for d in from_files]
    assert {d.metadata["version"] for d in from_db} == {1}
    nodes = nodes_from_store(store)
    assert all(type(n) is TextNode for n in nodes) and [n.id_ for n in nodes] == [
        d.id_ for d in from_db
    ]
