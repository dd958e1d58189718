"""One writer (``--jobs 1``) makes the next new document ready while it writes one: the
plan and the payload of document N+1 (its :class:`~iucut.apply.PreparedWrite`) are built
in a thread beside the write of document N. The outcome is that of a write without it: a
refusal of the row contract still rejects its document alone, ``--all-or-nothing`` still
stops at it, a document written since the triage is planned under its lock, and Ctrl-C
leaves no thread behind."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest

import iucut.apply as apply_mod
from iucut.apply import ApplyResult, PreparedWrite, apply_documents
from iucut.cut import cut_text
from iucut.errors import Interrupted
from iucut.units import CutDocument

LAW = "# Act {n}\n\n## Article 1. One\n\nText {n}.\n\n## Article 2. Two\n\nMore {n}.\n"


def _docs(count: int) -> list[CutDocument]:
    docs = [cut_text(LAW.format(n=n).encode(), f"d{n:02}.md") for n in range(count)]
    assert all(isinstance(d, CutDocument) for d in docs)
    return docs  # type: ignore[return-value]


def _apply(db: Any, items: list[Any], **kwargs: Any) -> ApplyResult:
    settings = db.settings(execution="enabled")
    return apply_documents(settings, db.provider(), items, jobs=1, **kwargs)


def _tampered(doc: CutDocument) -> CutDocument:
    """``doc`` with one unit's text changed after cutting (its hash no longer matches)."""
    units = list(doc.units)
    units[-1] = dataclasses.replace(units[-1], body=units[-1].body + "tampered\n")
    return dataclasses.replace(doc, units=tuple(units))


def test_the_next_document_is_made_ready_while_one_is_written(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the first document's write is on the wire, the second one is planned and its
    payload built, in another thread: the first write waits for that and gets it, a
    prepared write."""
    prepared: dict[str, str] = {}
    second_ready = threading.Event()
    real_prepare, real_write = apply_mod.prepare_new, apply_mod._plan_and_write

    def prepare(item: CutDocument, **kwargs: Any) -> Any:
        write = real_prepare(item, **kwargs)
        prepared[item.path] = threading.current_thread().name
        if item.path == "d01.md":
            second_ready.set()
        return write

    def write(conn: Any, run_id: str, doc_path: str, doc: Any, **kwargs: Any) -> Any:
        assert isinstance(doc, PreparedWrite), doc
        if doc_path == "d00.md":  # the next one is made ready meanwhile
            assert second_ready.wait(10), "d01.md was not made ready during d00.md's write"
        return real_write(conn, run_id, doc_path, doc, **kwargs)

    monkeypatch.setattr(apply_mod, "prepare_new", prepare)
    monkeypatch.setattr(apply_mod, "_plan_and_write", write)
    result = _apply(db, _docs(3))
    assert [(d.doc_path, d.status) for d in result.documents] == [
        (f"d{n:02}.md", "applied") for n in range(3)
    ]
    assert set(prepared) == {"d00.md", "d01.md", "d02.md"}
    assert all(name.startswith("iucut-ready") for name in prepared.values()), prepared


def test_a_refusal_made_ready_ahead_rejects_its_document_alone(db: Any) -> None:
    """A unit whose text no longer matches its hash, found while its document is made
    ready beside another's write, rejects that document with the row contract's message;
    the documents before and after it are written."""
    docs = _docs(4)
    docs[2] = _tampered(docs[2])
    result = _apply(db, docs)
    assert [r.path for r in result.rejected] == ["d02.md"]
    assert "content_hash does not match" in result.rejected[0].message
    assert [(d.doc_path, d.status) for d in result.documents] == [
        ("d00.md", "applied"),
        ("d01.md", "applied"),
        ("d03.md", "applied"),
    ]
    conn = db.connect()
    rows = conn.execute(f"SELECT doc_path FROM {db.schema}.iu_document ORDER BY 1").fetchall()
    assert [r["doc_path"] for r in rows] == ["d00.md", "d01.md", "d03.md"]


def test_all_or_nothing_writes_nothing_past_a_refusal_made_ready_ahead(db: Any) -> None:
    """--all-or-nothing stops at the refused document: the one after it, made ready
    already, is not written."""
    docs = _docs(4)
    docs[1] = _tampered(docs[1])
    result = _apply(db, docs, all_or_nothing=True)
    assert [d.doc_path for d in result.documents] == ["d00.md"]
    assert [r.path for r in result.rejected] == ["d01.md"]
    conn = db.connect()
    rows = conn.execute(f"SELECT doc_path FROM {db.schema}.iu_document ORDER BY 1").fetchall()
    assert [r["doc_path"] for r in rows] == ["d00.md"]


def test_a_document_written_since_it_was_made_ready_is_planned_under_its_lock(
    db: Any,
) -> None:
    """Another cutter writes a document (an older text of it) after the triage found none
    at its path: its write made ready ahead is refused, and the document, still at hand,
    is planned under its lock and revised to the text given."""
    docs = _docs(3)
    older = cut_text(LAW.format(n="old").encode(), "d02.md")
    assert isinstance(older, CutDocument)

    def progress(n: int, total: int, path: str) -> None:
        if path == "d00.md":  # the other cutter, before d02.md is written
            other = _apply(db, [older])
            assert [d.status for d in other.documents] == ["applied"]

    result = _apply(db, docs, on_progress=progress)
    assert [(d.doc_path, d.status) for d in result.documents] == [
        (f"d{n:02}.md", "applied") for n in range(3)
    ]
    assert result.documents[2].counts["revised"] > 0, result.documents[2].counts
    conn = db.connect()
    row = conn.execute(
        f"SELECT doc_hash FROM {db.schema}.iu_document WHERE doc_path = 'd02.md'"
    ).fetchone()
    assert row == {"doc_hash": docs[2].doc_hash}


def test_ctrl_c_leaves_no_thread_making_documents_ready(db: Any) -> None:
    """Ctrl-C after the first document: the apply is interrupted, and the thread that
    made the next document ready is gone when the error is raised (not left for the
    garbage collector)."""

    def progress(n: int, total: int, path: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(Interrupted) as raised:
        _apply(db, _docs(4), on_progress=progress)
    left = [t.name for t in threading.enumerate() if t.name.startswith("iucut-ready")]
    assert left == [], left
    assert raised.value.context["written"] == ["d00.md"]


def test_lists_encoded_ahead_read_back_as_sent(db: Any) -> None:
    """psycopg 3 connections' encoder (a worker or the read-ahead thread encodes a write's
    lists; the writer only sends them): text, numbers, NULLs, a list of NULLs only and an
    empty list read back as they were."""
    conn = db.connect()
    values: dict[str, Any] = {
        "texts": ["Điều 1", None, "", "a\tb"],
        "small": [1, None, 3],
        "big": [2**40, 0],
        "nulls": [None, None],
        "empty": [],
    }
    encode = conn.parameter_encoder()
    assert encode is not None
    encoded = dict(zip(values, encode(list(values.values())), strict=True))
    assert type(encoded["texts"]).__name__ == "Encoded", encoded
    row = conn.execute(
        "SELECT %(texts)b::text[] AS texts, %(small)b::integer[] AS small, "
        "%(big)b::bigint[] AS big, %(nulls)b::integer[] AS nulls, %(empty)b::text[] AS empty",
        encoded,
    ).fetchone()
    assert row == values
