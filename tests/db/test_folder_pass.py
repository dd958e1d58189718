"""A folder of the corpus passed at once (issue #16 part 3): when its files' names and
stats and the cutting rules are those of a run that found every one of its documents up
to date, and the database's token is still the one kept, its files are neither looked
up in the cut cache nor compared with what was seen; every change still shows: a file
changed or added, a folder beside it, a database changed by someone else, --rehash."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tests.db.test_unchanged_apply import OLD, TEXT, Apply, _status, _write

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
    keeper.known_folder("a/", b"fingerprint", [])
    keeper._save("4:100", {"a/d0.md": 1}, ())
    assert keeper._folders("4:100") == {"a/": (b"fingerprint", None)}
    conn = sqlite3.connect(cache)
    conn.execute("UPDATE seen_token SET token = '5:107'")
    conn.commit()
    assert seen.Seen(cache, "db")._folders("5:107") == {}


def _warned(folder: Path, n: int) -> None:
    """A document whose front matter does not parse: cut with a warning."""
    path = folder / f"d{n}.md"
    path.write_text("---\nnot: [closed\n---\n" + TEXT.format(n=n, extra=""), encoding="utf-8")
    os.utime(path, ns=(OLD, OLD))


def test_a_folder_with_warnings_passes_at_once_and_says_them_at_every_resync(
    apply: Apply, passes: Passes, corpus: Path, capsys: Any
) -> None:
    """Documents with warnings (the real 1M-unit corpus has some in every folder) do not
    keep their folders from passing at once: the warnings kept with the folder are said
    at every re-sync, as a cut says them."""
    _warned(corpus / "a", 1)
    _warned(corpus, 20)
    first = apply()
    said = first["warnings"]
    assert sorted(w["path"] for w in said) == ["a/d1.md", "d20.md"]
    _settled(apply, passes)
    for _ in range(2):
        again = apply()
        assert sorted(passes.folders) == ["", "a/", "b/"]
        assert apply.unchanged == 0 and passes.chunks == 0 and apply.made == []
        assert again["warnings"] == said
        assert set(_status(again).values()) == {"skipped"}
        passes.clear()
    # a file beside it changed: the folder is looked at file by file, and the one with
    # warnings comes as an Unchanged that carries them
    _write(corpus / "a", 0, " changed")
    changed = apply()
    assert changed["written"] == ["a/d0.md"] and "a/" not in passes.folders
    assert apply.made == [] and changed["warnings"] == said
    passes.clear()
    # the text output says them too (stderr), with the reminder
    from iucut.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["apply", "--jobs", "2", str(corpus)])
    assert done.value.code in (0, None)
    assert passes.folders
    err = capsys.readouterr().err
    assert "iucut: warning: a/d1.md: front matter does not parse" in err
    assert "iucut: warning: d20.md: front matter does not parse" in err
    assert "2 documents with warnings cut as they are" in err


def test_strict_rejects_a_document_with_warnings_in_a_folder_passed_before(
    apply: Apply, passes: Passes, corpus: Path, capsys: Any
) -> None:
    """--strict after runs that kept a folder with warnings: its document with
    warnings is cut again and rejected, not passed with its folder."""
    _warned(corpus / "a", 1)
    apply()
    _settled(apply, passes)
    apply()
    assert "a/" in passes.folders
    passes.clear()
    from iucut.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        main(["apply", "--json", "--strict", "--jobs", "2", str(corpus)])
    assert stopped.value.code != 0
    result = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in result["rejected"]] == ["a/d1.md"]
    assert _status(result)["a/d0.md"] == "skipped"
