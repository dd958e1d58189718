"""A new document's write planned and encoded where it is cut (``apply --jobs``: the
worker processes; :func:`iucut.apply.prepare_new`): the writer sends exactly what it
would have sent had it planned and encoded the document itself, and a document written
at its path since the triage is still cut again and planned under its lock."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq import Format
from test_concurrency import corpus

from iucut.apply import (
    OP_COLUMNS,
    PreparedWrite,
    apply_digests,
    apply_documents,
    prepare_new,
    write_arguments,
)
from iucut.cut import cut_paths, cut_text
from iucut.db.connector import ConnectionProvider, Encoded
from iucut.db.target import Target
from iucut.errors import IucutError
from iucut.parallel import ordered_map
from iucut.plan import digest_of
from iucut.plan_state import plan_document
from iucut.units import CutDocument

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"

#: a document with an effective date, references and text that is not ASCII
DATED = """---
effective: 2021-07-01
---
# LUẬT THỬ

## Điều 1. Phạm vi

Luật này áp dụng theo Điều 2 và khoản 1 Điều 3.

## Điều 2. Đối tượng

Cơ quan, tổ chức "có liên quan" — theo Điều 1.

## Điều 3. Giải thích

1. Từ ngữ: ß, €, 𝔘.

2. Không có gì.
"""


def _documents(tmp_path: Path) -> list[CutDocument]:
    real = (
        sorted((CORPORA / "vn-laws").rglob("*.md"))[:3]
        + sorted(p for p in (CORPORA / "de-laws").rglob("*.md") if p.name != "README.md")[:3]
    )
    assert len(real) == 6, f"the shared corpora are missing at {CORPORA}"
    docs = list(cut_paths(real, root=CORPORA))
    docs += list(cut_paths([corpus(tmp_path / "c", 1)], glob="*.md"))[:3]
    dated = cut_text(DATED.encode(), "dated.md")
    assert isinstance(dated, CutDocument)
    return [*docs, dated]


def test_a_write_prepared_in_a_worker_is_the_write_the_writer_would_send(
    db: Any, tmp_path: Path
) -> None:
    """Each document prepared in a worker process (sent back through its pipe) carries,
    byte for byte, the arguments the writer would build for it on its own connection:
    the document and references JSON, and each op array's bytes, type and format."""
    docs = _documents(tmp_path)
    conn = db.connect(autocommit=True)
    encode = conn.parameter_encoder()
    assert encode is not None
    new = frozenset(d.path for d in docs)
    prepared = list(ordered_map(functools.partial(prepare_new, new=new, encode=encode), docs, 2))
    assert any(p.arguments["refs"] for p in prepared if isinstance(p, PreparedWrite)), (
        "no document with references: the test shows nothing of them"
    )
    tx = Transformer(conn.raw)  # type: ignore[attr-defined]
    for doc, made in zip(docs, prepared, strict=True):
        assert isinstance(made, PreparedWrite), doc.path
        mine = write_arguments(plan_document(conn, doc, None, check_new=False))
        columns = [mine[k] for k in OP_COLUMNS]
        dumped = tx.dump_sequence(columns, [PyFormat.BINARY] * len(columns))
        assert tx.types is not None and tx.formats is not None
        sent = [
            (bytes(d), oid, fmt == Format.BINARY)
            for d, oid, fmt in zip(dumped, tx.types, tx.formats, strict=True)
        ]
        theirs = [made.arguments[k] for k in OP_COLUMNS]
        assert all(isinstance(e, Encoded) for e in theirs)
        assert [(e.data, e.oid, e.binary) for e in theirs] == sent, doc.path
        assert (made.arguments["document"], made.arguments["refs"]) == (
            mine["document"],
            mine["refs"],
        ), doc.path
        assert set(made.arguments) == set(mine)
    # a document the triage did not find new, or not cut, is given to the writer as it is
    assert prepare_new(docs[0], new=frozenset(), encode=encode) is docs[0]


Recut = Callable[..., Iterator[Any]]


@pytest.mark.parametrize(("jobs", "driver"), [(1, "psycopg"), (2, "psycopg"), (2, "psycopg2")])
def test_a_document_written_since_the_triage_is_cut_again_and_planned_under_its_lock(
    db: Any, tmp_path: Path, jobs: int, driver: str
) -> None:
    """The triage finds no document at three paths; before the prepared writes are sent,
    "another cutter" writes one of them as it is and another as an older version. The
    first is written as prepared; the others are refused by the one-statement write
    (IUS01), cut again and planned under their lock: skipped (already current) and
    revised (to the new text). (psycopg2 has no encoder: the arrays go as lists.)"""
    old = corpus(tmp_path / "old", 1)
    now = corpus(tmp_path / "now", 2)
    names = sorted(p.name for p in now.glob("*.md"))[:3]
    files = {name: now / name for name in names}
    cut_now = {d.path: d for d in cut_paths(list(files.values()), root=now)}
    assert sorted(cut_now) == names
    settings = db.settings(execution="enabled")
    provider = ConnectionProvider(Target(db.dsn, "--dsn"), driver, schema=db.schema)
    again: list[str] = []
    seen: list[type] = []

    def recut(
        doc_paths: Sequence[str], /, then: Callable[[Any], Any] | None = None
    ) -> Iterator[Any]:
        if then is None:  # a document cut again by the writer
            again.extend(doc_paths)
            yield from (cut_now[p] for p in doc_paths)
            return
        # after the triage: the other cutter writes names[1] as now, names[2] as before
        older = next(iter(cut_paths([old / names[2]], root=old)))
        other = apply_documents(settings, provider, [cut_now[names[1]], older])
        assert [d.status for d in other.documents] == ["applied", "applied"]
        for item in ordered_map(then, [cut_now[p] for p in doc_paths], jobs):
            seen.append(type(item))
            yield item

    digests: list[Any] = [digest_of(cut_now[n]) for n in names]
    result = apply_digests(settings, provider, digests, recut, jobs=jobs)
    assert seen == [PreparedWrite] * 3, "the documents were not prepared where cut"
    assert sorted(again) == names[1:]
    outcome = [(d.doc_path, d.status) for d in result.documents]
    assert outcome == [(names[0], "applied"), (names[1], "skipped"), (names[2], "applied")]
    assert result.documents[0].counts["created"] > 0
    assert result.documents[2].counts["revised"] > 0
    conn = db.connect(autocommit=True)
    rows = conn.execute(
        f"SELECT doc_path, doc_hash FROM {db.schema}.iu_document ORDER BY doc_path"
    ).fetchall()
    assert [(r["doc_path"], r["doc_hash"]) for r in rows] == [
        (n, cut_now[n].doc_hash) for n in names
    ]


def test_a_document_that_cannot_be_cut_again_is_rejected(db: Any, tmp_path: Path) -> None:
    """A prepared write refused (the document written since the triage) whose file can no
    longer be cut is rejected with the cut's error, and the others are written."""
    now = corpus(tmp_path / "now", 1)
    docs = list(cut_paths(sorted(now.glob("*.md"))[:2], root=now))
    settings = db.settings(execution="enabled")
    provider = ConnectionProvider(Target(db.dsn, "--dsn"), "psycopg", schema=db.schema)

    def recut(
        doc_paths: Sequence[str], /, then: Callable[[Any], Any] | None = None
    ) -> Iterator[Any]:
        if then is None:
            yield from (IucutError(f"{p}: gone") for p in doc_paths)
            return
        apply_documents(settings, provider, docs[1:])  # the other cutter
        yield from (then(d) for d in docs)

    result = apply_digests(settings, provider, [digest_of(d) for d in docs], recut, jobs=2)
    assert [(d.doc_path, d.status) for d in result.documents] == [(docs[0].path, "applied")]
    assert [(r.path, r.message) for r in result.rejected] == [
        (docs[1].path, f"{docs[1].path}: gone")
    ]


def test_a_prepared_write_refused_for_a_taken_code_is_planned_again_to_say_why(
    db: Any,
) -> None:
    """A new document whose codes another document holds: its prepared write is refused
    by the function (IUC01), and the document is cut again and planned with the code
    checks, so the rejection is the writer's own plan's (which code, whose)."""
    law = "# Act\n\n## Article 1. One\n\nText.\n\n## Article 2. Two\n\nMore.\n"
    first = cut_text(law.encode(), "first.md", namespace="ACT")
    second = cut_text(law.encode(), "second.md", namespace="ACT")
    assert isinstance(first, CutDocument) and isinstance(second, CutDocument)
    settings = db.settings(execution="enabled")
    provider = ConnectionProvider(Target(db.dsn, "--dsn"), "psycopg", schema=db.schema)
    apply_documents(settings, provider, [first])
    again: list[str] = []
    seen: list[type] = []

    def recut(
        doc_paths: Sequence[str], /, then: Callable[[Any], Any] | None = None
    ) -> Iterator[Any]:
        if then is None:
            again.extend(doc_paths)
            yield from (second for _ in doc_paths)
            return
        for item in (then(second) for _ in doc_paths):
            seen.append(type(item))
            yield item

    result = apply_digests(settings, provider, [digest_of(second)], recut, jobs=2)
    assert seen == [PreparedWrite] and again == ["second.md"]
    assert result.documents == ()
    [rejected] = result.rejected
    assert rejected.path == "second.md"
    assert rejected.message == "second.md: code ACT already belongs to document first.md"
