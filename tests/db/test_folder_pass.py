"""A folder of the corpus passed at once (issue #16 part 3): when its files' names and
stats and the cutting rules are those of a run that found every one of its documents up
to date, and the database's token is still the one kept, its files are neither looked
up in the cut cache nor compared with what was seen; every change still shows: a file
changed or added, a folder beside it, a database changed by someone else, --rehash."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tests.db.test_unchanged_apply import Apply, _status, _write

from iucut import digests, seen
from iucut.cut import source


class Passes:
    """The folders passed at once, and the cut cache's chunks read, of each apply."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folders: list[str] = []
        self.chunks = 0
        real_folder, real_chunk = seen.Seen.folder, digests._Reader._next_chunk

        def spy_folder(keeper: Any, folder: str, names: Any, fingerprint: bytes) -> Any:
            found = real_folder(keeper, folder, names, fingerprint)
            if found is not None:
                self.folders.append(folder)
            return found

        def spy_chunk(reader: Any, wanted: str) -> None:
            self.chunks += 1
            real_chunk(reader, wanted)

        monkeypatch.setattr(seen.Seen, "folder", spy_folder)
        monkeypatch.setattr(digests._Reader, "_next_chunk", spy_chunk)

    def clear(self) -> None:
        self.folders.clear()
        self.chunks = 0


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> Passes:
    return Passes(monkeypatch)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Two folders of three documents and one at the top."""
    top = tmp_path / "corpus"
    for sub, first in (("a", 0), ("b", 10)):
        (top / sub).mkdir(parents=True)
        for n in range(first, first + 3):
            _write(top / sub, n)
    _write(top, 20)
    return top


@pytest.fixture
def apply(db: Any, corpus: Path, tmp_path: Path, capsys: Any, monkeypatch: Any) -> Apply:
    return Apply(db, corpus, tmp_path / "home", capsys, monkeypatch)


def _settled(apply: Apply, passes: Passes) -> None:
    """Written, then found up to date file by file (the folders kept), then passed."""
    apply()
    apply()
    passes.clear()


def test_an_unchanged_corpus_passes_its_folders_at_once(apply: Apply, passes: Passes) -> None:
    _settled(apply, passes)
    result = apply()
    assert sorted(passes.folders) == ["", "a/", "b/"]
    assert apply.unchanged == 0 and passes.chunks == 0  # (no file looked up)
    assert set(_status(result).values()) == {"skipped"} and len(_status(result)) == 7
    assert result["written"] == [] and result["run_id"] is None


def test_a_changed_file_is_written_and_its_folder_looked_at_file_by_file(
    apply: Apply, passes: Passes, corpus: Path
) -> None:
    _settled(apply, passes)
    _write(corpus / "a", 1, " changed")
    result = apply()
    assert result["written"] == ["a/d1.md"]
    assert sorted(passes.folders) == ["", "b/"]
    assert apply.unchanged == 2  # (a/d0.md and a/d2.md, looked up)
    passes.clear()
    # (the others still passed at the token after that write; a/ found up to date file
    # by file, then kept)
    assert apply()["written"] == [] and sorted(passes.folders) == ["", "b/"]
    passes.clear()
    assert apply()["written"] == [] and sorted(passes.folders) == ["", "a/", "b/"]


def test_a_file_added_to_a_folder_is_written(apply: Apply, passes: Passes, corpus: Path) -> None:
    _settled(apply, passes)
    _write(corpus / "b", 13)
    result = apply()
    assert result["written"] == ["b/d13.md"]
    assert "b/" not in passes.folders
    assert _status(result)["b/d10.md"] == "skipped"


def test_the_database_changed_by_someone_else_turns_the_pass_off(
    apply: Apply, passes: Passes, db: Any
) -> None:
    _settled(apply, passes)
    admin = db.connect(autocommit=True)
    admin.execute(
        f"UPDATE {db.schema}.iu_document SET cut_digest = 'x' WHERE doc_path = 'b/d11.md'"
    )
    result = apply()
    assert passes.folders == []
    assert result["written"] == ["b/d11.md"]


def test_rehash_reads_every_file(apply: Apply, passes: Passes) -> None:
    _settled(apply, passes)
    assert apply("--rehash")["written"] == [] and passes.folders == []


def test_prune_keeps_the_documents_of_a_folder_passed(apply: Apply, passes: Passes) -> None:
    apply("--prune")
    apply("--prune")
    passes.clear()
    result = apply("--prune")
    assert sorted(passes.folders) == ["", "a/", "b/"]
    assert result["written"] == [] and result["counts"]["retired"] == 0


def test_a_folder_larger_than_a_window_passes_whole(
    apply: Apply, passes: Passes, monkeypatch: pytest.MonkeyPatch, corpus: Path
) -> None:
    """Windows of two files: each goes on to the end of its last file's folder, so a
    folder's files are looked up, then passed, together."""
    monkeypatch.setattr(source, "WINDOW", 2)
    _settled(apply, passes)
    apply()
    assert sorted(passes.folders) == ["", "a/", "b/"]
    _write(corpus / "a", 2, " changed")
    passes.clear()
    assert apply()["written"] == ["a/d2.md"]
    assert sorted(passes.folders) == ["", "b/"]


def test_folders_kept_at_another_token_are_not_read(tmp_path: Path) -> None:
    """A folder is true at the token it was kept at: an iucut that knows no folders
    moves the token it keeps without them, and they are not read at the new one."""
    cache = tmp_path / "seen.sqlite3"
    keeper = seen.Seen(cache, "db")
    keeper.known_folder("a/", b"fingerprint")
    keeper._save("4:100", {"a/d0.md": 1}, ())
    assert keeper._folders("4:100") == {"a/": b"fingerprint"}
    conn = sqlite3.connect(cache)
    conn.execute("UPDATE seen_token SET token = '5:107'")
    conn.commit()
    assert seen.Seen(cache, "db")._folders("5:107") == {}
