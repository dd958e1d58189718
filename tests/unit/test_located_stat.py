"""``ProjectRoot.located``: the document path :meth:`doc_path` gives, and the stat the
look at the file took when that stat is the file's own (a file that is not a link), so
that a re-sync stats each file once (issue #16 part 3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iucut.project import ProjectRoot


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_dev, a.st_size, a.st_mtime_ns) == (
        b.st_ino,
        b.st_dev,
        b.st_size,
        b.st_mtime_ns,
    )


@pytest.fixture
def root(tmp_path: Path) -> ProjectRoot:
    (tmp_path / "laws" / "sub").mkdir(parents=True)
    (tmp_path / "laws" / "a.md").write_text("# A\n", encoding="utf-8")
    (tmp_path / "laws" / "sub" / "b.md").write_text("# B\n\nlonger\n", encoding="utf-8")
    return ProjectRoot(tmp_path, "--root")


def test_a_regular_file_gives_its_own_stat(root: ProjectRoot) -> None:
    for given in (
        root.path / "laws" / "a.md",
        root.path / "laws" / "sub" / ".." / "a.md",
        str(root.path / "laws" / "sub" / "b.md"),
    ):
        name, st = root.fresh().located(given)
        assert name == root.fresh().doc_path(given)
        assert st is not None and _same_file(st, os.stat(given))


def test_a_link_gives_no_stat_and_the_path_of_the_link(root: ProjectRoot) -> None:
    """The stat of a link is not the file's: None (the caller stats what it leads to)."""
    link = root.path / "laws" / "link.md"
    link.symlink_to(root.path / "laws" / "sub" / "b.md")
    name, st = root.fresh().located(link)
    assert name == root.fresh().doc_path(link) == "laws/link.md"
    assert st is None


def test_a_file_in_a_linked_folder_gives_the_stat_of_the_file(root: ProjectRoot) -> None:
    (root.path / "alias").symlink_to(root.path / "laws")
    given = root.path / "alias" / "sub" / "b.md"
    name, st = root.fresh().located(given)
    assert name == root.fresh().doc_path(given) == "alias/sub/b.md"
    assert st is not None and _same_file(st, os.stat(given))


def test_a_missing_file_gives_no_stat(root: ProjectRoot) -> None:
    name, st = root.fresh().located(root.path / "laws" / "gone.md")
    assert name == "laws/gone.md" and st is None
