"""Where documents come from: folders listed by glob, and cut one by one."""

from __future__ import annotations

from pathlib import Path

from iucut.cut import cut_paths, iter_sources


def test_cut_paths_cuts_the_sources_it_is_given(tmp_path: Path) -> None:
    """cut_paths lists the files of its folders itself, or cuts the (file, folder) pairs
    a caller listed already, with the same document paths."""
    (tmp_path / "a.md").write_bytes(b"# A\n")
    (tmp_path / "b.md").write_bytes(b"# B\n")
    listed = list(iter_sources([tmp_path], "*.md"))
    assert [d.path for d in cut_paths([tmp_path], glob="*.md")] == ["a.md", "b.md"]
    given = cut_paths([tmp_path], glob="*.md", sources=listed[1:])
    assert [d.path for d in given] == ["b.md"]
