"""The project root (iucut.project): the order it is found in, and paths under it."""

from __future__ import annotations

from pathlib import Path

import pytest

from iucut.cut import cut_paths, list_sources
from iucut.errors import OutsideRoot, RootError
from iucut.project import find_root, init_project
from iucut.units import CutDocument


def tree(tmp_path: Path) -> Path:
    """``top/laws/de/a.md`` and ``top/laws/vn/b.md``; returns ``top``."""
    for rel in ("laws/de/a.md", "laws/vn/b.md"):
        path = tmp_path / "top" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# A\n", encoding="utf-8")
    return tmp_path / "top"


def test_the_root_is_found_in_order(tmp_path: Path) -> None:
    """--root, then IUCUT_ROOT, then the nearest iucut.yaml above the paths, then the git
    work tree, then the folder given; none depends on the working folder."""
    top = tree(tmp_path)
    de = top / "laws" / "de"
    elsewhere = {"cwd": tmp_path}
    assert find_root([de], environ={}, **elsewhere).path == de
    assert find_root([de / "a.md"], environ={}, **elsewhere).source == "paths"
    assert find_root([de, top / "laws" / "vn"], environ={}, **elsewhere).path == top / "laws"
    (top / ".git").mkdir()
    assert (find_root([de], environ={}, **elsewhere).path, "git") == (top, "git")
    init_project(top / "laws")
    found = find_root([de / "a.md"], environ={}, **elsewhere)
    assert (found.path, found.source, found.note) == (top / "laws", "iucut.yaml", None)
    env = {"IUCUT_ROOT": str(top)}
    assert find_root([de], environ=env, **elsewhere).path == top
    assert find_root([de], given=de, environ=env, **elsewhere).path == de


def test_paths_of_two_projects_or_a_missing_root_are_refused(tmp_path: Path) -> None:
    """Paths under two different iucut.yaml, or a --root that is no folder: RootError."""
    top = tree(tmp_path)
    init_project(top / "laws" / "de")
    init_project(top / "laws" / "vn")
    with pytest.raises(RootError, match="different projects"):
        find_root([top / "laws" / "de", top / "laws" / "vn"], environ={})
    with pytest.raises(RootError, match="not a folder"):
        find_root([top], given=top / "nope", environ={})
    with pytest.raises(RootError, match="exists already"):
        init_project(top / "laws" / "de")


def test_doc_path_refuses_what_lies_outside_the_root(tmp_path: Path) -> None:
    """A path through '..' out of the root, or a link out of it, is OutsideRoot; a link
    is read with follow_symlinks, under the link's own name."""
    top = tree(tmp_path)
    root = find_root([top / "laws" / "de"], environ={})
    assert root.doc_path(top / "laws" / "de" / "x" / ".." / "a.md") == "a.md"
    with pytest.raises(OutsideRoot):
        root.doc_path(top / "laws" / "de" / ".." / "vn" / "b.md")
    (top / "laws" / "de" / "link.md").symlink_to(top / "laws" / "vn" / "b.md")
    with pytest.raises(OutsideRoot, match="leads to"):
        root.doc_path(top / "laws" / "de" / "link.md")
    assert root.doc_path(top / "laws" / "de" / "link.md", follow_symlinks=True) == "link.md"


def test_cut_paths_gives_the_cli_identity_and_lists_what_it_passes_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cut_paths finds the project root as the CLI does (from any working folder), and
    list_sources names a folder matching the glob and a file the glob does not name."""
    top = tree(tmp_path)
    init_project(top)
    monkeypatch.chdir(top / "laws" / "vn")
    docs = [d for d in cut_paths(["../de"]) if isinstance(d, CutDocument)]
    assert [(d.path, d.namespace) for d in docs] == [("laws/de/a.md", "LAWS.DE.A")]
    (top / "laws" / "de" / "dir.md").mkdir()
    (top / "data.csv").write_text("a\n", encoding="utf-8")
    found = list_sources([top / "laws" / "de", top / "data.csv"])
    assert [p.name for p, _ in found.files] == ["a.md"]
    assert [(p.name, why.split(";")[0]) for p, why in found.skipped] == [
        ("dir.md", "a folder matching the glob"),
        ("data.csv", "not named by --glob '**/*.md' (not Markdown?)"),
    ]


def test_the_public_api_gives_the_cli_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """iucut.cut_paths (the public API) finds the project root and its iucut.yaml as the
    CLI does, from any working folder."""
    import iucut

    top = tree(tmp_path)
    (top / "iucut.yaml").write_text('namespaces:\n  "laws/vn/*.md": VN\n', encoding="utf-8")
    for cwd, given in ((top / "laws" / "de", "../vn"), (tmp_path, str(top / "laws" / "vn"))):
        monkeypatch.chdir(cwd)
        docs = list(iucut.cut_paths([given]))
        assert [(d.path, d.namespace) for d in docs] == [("laws/vn/b.md", "VN")]
