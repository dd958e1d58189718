"""A plan of a corpus, spooled: each document's plan written to a temporary file as it is
made, in source order, and its id, plan file and JSON streamed from there (issue #16
part 3: ``iucut plan`` holds the documents in flight, not the plan of the corpus)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any

from iucut.planfile import _doc_to_dict, canonical_json, plan_to_dict
from iucut.units import EVENTS, Action, DocumentPlan, Fingerprint, Plan, Rejected


class SpooledPlan:
    """The plan :func:`iucut.plan_state.make_plan_from_digests` makes, its documents
    on disk, one a line: each as the canonical JSON of its plan-file form
    (:func:`iucut.planfile.plan_to_dict`), and again with its keys in their order
    (``plan --json``'s); in memory, the totals and the rejected documents. Read back a
    document at a time: the plan file and ``plan --json`` are byte for byte those of
    the :class:`~iucut.units.Plan` with the same documents. The new documents' paths,
    hashes and namespaces are kept on the side (what the look-alike warnings read)."""

    def __init__(
        self, fingerprint: Fingerprint, tool_version: str, prune: bool, ordered: bool = True
    ) -> None:
        self.fingerprint = fingerprint
        self.tool_version = tool_version
        self.prune = prune
        self.rejected: list[Rejected] = []
        self.counts: dict[str, int] = dict.fromkeys((*EVENTS, "unchanged"), 0)
        self.count = 0
        self.skipped = 0
        self.has_changes = False
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="iucut-plan-")  # noqa: SIM115 (closed by close)
        #: the documents with their keys in order (``ordered`` false: not kept, the review
        #: does not need them so; :meth:`documents` reads the canonical ones)
        self._ordered: IO[bytes] | None = (
            tempfile.TemporaryFile(prefix="iucut-plan-") if ordered else None  # noqa: SIM115
        )
        self._new: IO[bytes] = tempfile.TemporaryFile(prefix="iucut-plan-new-")  # noqa: SIM115
        self._new_count = 0
        self._id: str | None = None

    def __enter__(self) -> SpooledPlan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()
        if self._ordered is not None:
            self._ordered.close()
        self._new.close()

    def add(self, dp: DocumentPlan) -> None:
        """The next document's plan (in source order)."""
        data = _doc_to_dict(dp)
        self._file.write(canonical_json(data) + b"\n")
        # (and as made, its keys in their order: what ``plan --json`` shows)
        if self._ordered is not None:
            self._ordered.write(json.dumps(data, ensure_ascii=False).encode() + b"\n")
        self.count += 1
        for event, n in dp.counts.items():
            self.counts[event] += n
        self.counts["unchanged"] += dp.unchanged
        self.skipped += dp.action == Action.SKIP
        self.has_changes = self.has_changes or dp.has_changes
        if dp.action == Action.CREATE:
            self._new.write(canonical_json([dp.doc_path, dp.doc_hash, dp.namespace]) + b"\n")
            self._new_count += 1
        self._id = None

    def new_documents(self, chunk: int) -> Iterator[list[tuple[str, str, str]]]:
        """The path, hash and namespace of each new document, ``chunk`` at a time."""
        self._new.seek(0)
        batch: list[tuple[str, str, str]] = []
        for line in self._new:
            path, doc_hash, namespace = json.loads(line)
            batch.append((path, doc_hash, namespace))
            if len(batch) >= chunk:
                yield batch
                batch = []
        if batch:
            yield batch
        self._new.seek(0, 2)

    def _lines(self, file: IO[bytes] | None = None) -> Iterator[bytes]:
        file = self._file if file is None else file
        file.seek(0)
        for line in file:
            yield line[:-1]
        file.seek(0, 2)

    def documents(self) -> Iterator[dict[str, Any]]:
        """Each document's plan in its plan-file form, in order (its keys in the order
        :func:`iucut.planfile.plan_to_dict` gives them when ``ordered``, else sorted)."""
        for line in self._lines(self._ordered):
            yield json.loads(line)

    def head(self) -> dict[str, Any]:
        """The plan-file form without its documents (an empty list in their place)."""
        empty = Plan(self.fingerprint, (), self.tool_version, self.prune, tuple(self.rejected))
        data = plan_to_dict(empty)
        data["counts"] = dict(self.counts)
        return data

    def canonical(self) -> Iterator[bytes]:
        """The plan file's bytes (:func:`iucut.planfile.write_plan`'s), a document at a time."""
        head = canonical_json(self.head())
        # (the first one: "counts", before it in sorted order, holds numbers only)
        before, after = head.split(b'"documents":[]', 1)
        yield before + b'"documents":['
        first = True
        for line in self._lines():
            yield line if first else b"," + line
            first = False
        yield b"]" + after

    def id(self) -> str:
        """The plan's id: the sha256 of its plan file."""
        if self._id is None:
            h = hashlib.sha256()
            for piece in self.canonical():
                h.update(piece)
            self._id = h.hexdigest()
        return self._id

    def write(self, path: Any) -> str:
        """Write the plan file; returns its id."""
        h = hashlib.sha256()
        with open(path, "wb") as out:
            for piece in self.canonical():
                h.update(piece)
                out.write(piece)
        return h.hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The plan-file form, whole (for what needs it all at once: the review page)."""
        data = self.head()
        data["documents"] = list(self.documents())
        return data

    def pretty_json(
        self, wrapper: dict[str, Any], dump: Callable[[Any], str], mask: Callable[[Any], Any]
    ) -> Iterator[str]:
        """``dump(wrapper)`` (indented by 2, as ``echo_json``) where ``wrapper`` holds the
        plan-file form with its ``documents`` an empty list: the documents streamed into
        it, each as ``dump`` writes it at that depth (``mask``: applied to each)."""
        text = dump(mask(wrapper))
        # (the first one: the keys before it hold numbers, or strings, whose quotes are
        # escaped)
        before, after = text.split('"documents": []', 1)
        if not self.count:
            yield text
            return
        yield before + '"documents": [\n'
        first = True
        for doc in self.documents():
            piece = "    " + dump(mask(doc)).replace("\n", "\n    ")
            yield piece if first else ",\n" + piece
            first = False
        yield "\n  ]" + after
