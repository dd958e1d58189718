"""LlamaIndex: TextNodes with id_ = the unit code and the tree as relationships (PARENT,
CHILD, PREVIOUS, NEXT in document order, SOURCE = the document), from files or the database.

Needs ``pip install 'iucut[llamaindex]'`` (llama-index-core). Ids are codes, so
re-ingesting the same documents gives the same ids instead of duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from iucut.cutting import DEFAULT_GLOB
from iucut.integrations import require
from iucut.integrations.units import UnitRecord, from_files, from_store
from iucut.store import Store

require("llama_index.core", "llamaindex")

from llama_index.core.readers.base import BaseReader  # noqa: E402
from llama_index.core.schema import (  # noqa: E402
    Document,
    NodeRelationship,
    RelatedNodeInfo,
    TextNode,
)

#: Metadata kept out of the text that is embedded or shown to a model.
TECHNICAL = ["code", "parent", "namespace", "line_start", "line_end", "version", "content_hash"]


def to_nodes(records: Iterable[UnitRecord]) -> list[TextNode]:
    """One TextNode per unit, linked as the tree is."""
    return [TextNode(**fields) for fields in _node_fields(records)]


def to_documents(records: Iterable[UnitRecord]) -> list[Document]:
    """One Document per unit (what a reader returns), linked as the tree is."""
    return [Document(**fields) for fields in _node_fields(records)]


def _node_fields(records: Iterable[UnitRecord]) -> list[dict[str, Any]]:
    recs = list(records)
    children: dict[str, list[str]] = defaultdict(list)
    for r in recs:
        if r.parent is not None:
            children[r.parent].append(r.code)
    nodes: list[dict[str, Any]] = []
    for i, r in enumerate(recs):
        rel: dict[NodeRelationship, Any] = {
            NodeRelationship.SOURCE: RelatedNodeInfo(
                node_id=r.doc_path, metadata={"namespace": r.namespace}
            )
        }
        if r.parent is not None:
            rel[NodeRelationship.PARENT] = RelatedNodeInfo(node_id=r.parent)
        if children.get(r.code):
            rel[NodeRelationship.CHILD] = [RelatedNodeInfo(node_id=c) for c in children[r.code]]
        if i > 0 and recs[i - 1].doc_path == r.doc_path:
            rel[NodeRelationship.PREVIOUS] = RelatedNodeInfo(node_id=recs[i - 1].code)
        if i + 1 < len(recs) and recs[i + 1].doc_path == r.doc_path:
            rel[NodeRelationship.NEXT] = RelatedNodeInfo(node_id=recs[i + 1].code)
        nodes.append(
            {
                "id_": r.code,
                "text": r.text,
                "metadata": r.metadata(),
                "relationships": rel,
                "excluded_embed_metadata_keys": list(TECHNICAL),
                "excluded_llm_metadata_keys": list(TECHNICAL),
            }
        )
    return nodes


def nodes_from_files(
    paths: Sequence[str | Path], *, glob: str = DEFAULT_GLOB, root: str | Path | None = None
) -> list[TextNode]:
    """TextNodes of the units of files and folders (no database; version None)."""
    return to_nodes(from_files(paths, glob=glob, root=root))


def nodes_from_store(store: Store, doc: str | None = None) -> list[TextNode]:
    """TextNodes of the current versions of the active units in the database."""
    return to_nodes(from_store(store, doc))


class UnitReader(BaseReader):
    """A LlamaIndex reader: one Document per unit (id_ = code, tree relationships), from
    files (``load_data(paths)``) or from a store (``UnitReader(store=…).load_data()``)."""

    def __init__(self, store: Store | None = None, *, glob: str = DEFAULT_GLOB):
        self.store = store
        self.glob = glob

    def load_data(self, *args: Any, **load_kwargs: Any) -> list[Document]:
        paths: Sequence[str | Path] | None = args[0] if args else load_kwargs.get("paths")
        if paths is not None:
            records = list(from_files(paths, glob=self.glob, root=load_kwargs.get("root")))
        elif self.store is not None:
            records = from_store(self.store, load_kwargs.get("doc"))
        else:
            raise ValueError("give paths, or make the reader with store=")
        return to_documents(records)


__all__ = ["UnitReader", "nodes_from_files", "nodes_from_store", "to_documents", "to_nodes"]
