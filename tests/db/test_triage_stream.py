"""Apply's triage of digests compares each stored row as it is read and keeps only the
rows of the documents to do (issue #16 part 3: an unchanged re-sync holds no stored row
per document of the corpus); it splits the documents as the triage keeping every row."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from iucut.apply import apply_documents
from iucut.cut import cut_text
from iucut.plan import digest_of
from iucut.plan_state import triage_digests

LAW = "# Act {n}\n\n## Article 1. One\n\nText {n}.\n\n## Article 2. Two\n\nMore {n}.\n"


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_the_stream_gives_the_rows_the_query_gives(db: Any, driver: str) -> None:
    """``Connection.stream``: the rows of the named query, as ``query`` gives them."""
    settings = db.settings(execution="enabled")
    docs = [cut_text(LAW.format(n=n).encode(), f"d{n}.md") for n in range(3)]
    apply_documents(settings, db.provider(), docs)
    conn = db.connect(driver=driver)
    paths = [d.path for d in docs] + ["absent.md"]
    streamed = list(conn.stream("documents_by_path", paths=paths))
    queried = conn.query("documents_by_path", paths=paths).fetchall()
    assert sorted(streamed, key=str) == sorted(queried, key=str)
    assert len(streamed) == 3


def test_the_triage_without_rows_finds_what_the_triage_with_rows_finds(db: Any) -> None:
    """Up to date, changed, new, and stored with another profile: the same split, in
    the same order, with no row kept."""
    settings = db.settings(execution="enabled")
    docs = [cut_text(LAW.format(n=n).encode(), f"d{n}.md") for n in range(4)]
    apply_documents(settings, db.provider(), docs[:3])
    changed = cut_text(LAW.format(n=1).replace("More", "Changed").encode(), "d1.md")
    digests: list[Any] = [
        digest_of(docs[0]),  # up to date
        digest_of(changed),  # changed
        replace(digest_of(docs[2]), profile="other"),  # another profile than stored
        digest_of(docs[3]),  # new
    ]
    conn = db.connect(autocommit=True)
    kept = triage_digests(conn, digests)
    lean = triage_digests(conn, digests, keep_current=False)
    assert [d.path for d in lean.skipped] == [d.path for d in kept.skipped] == ["d0.md"]
    assert [d.path for d in lean.todo] == [d.path for d in kept.todo]
    assert [d.path for d in lean.todo] == ["d1.md", "d2.md", "d3.md"]
    # the rows kept: those of the stored documents to do (d3.md is new: apply tells it so)
    assert set(lean.current) == {"d1.md", "d2.md"}
    assert set(kept.current) == {"d0.md", "d1.md", "d2.md"}
    assert lean.current["d1.md"] == kept.current["d1.md"]
