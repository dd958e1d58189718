"""ProjectRoot.doc_path resolves the root once and each folder once (not two resolves per
file): the identity it gives is the one of resolving every path whole, through linked
folders, links to files, links out of the root, ``..`` after a link, link loops, and
from any working folder; and a link changed between two passes is seen by the second."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iucut.cut.source import cut_map
from iucut.errors import OutsideRoot
from iucut.plan import Digest, digest_of
from iucut.project import ProjectRoot

TEXT = "# Luật\n\n## Điều 1. Phạm vi\n\nNội dung của điều một.\n"


def whole(root: ProjectRoot, file: str | Path, follow: bool = False) -> str:
    """The identity as resolving every path whole gives it (the code before the folder
    cache, kept here as the specification)."""

    def resolve(path: Path) -> Path:
        try:
            return path.resolve()
        except (OSError, RuntimeError):
            return Path(os.path.abspath(path))

    def relative(path: Path, bases: tuple[Path, ...]) -> str | None:
        for base in bases:
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            return "" if rel == "." else rel
        return None

    lexical = Path(os.path.abspath(file))
    real = resolve(Path(file))
    root_real = resolve(root.path)
    rel = relative(lexical, (root.path, root_real))
    if rel is None:
        rel = relative(real, (root_real,))
        if rel is None:
            raise OutsideRoot("outside", path=str(file))
    elif relative(real, (root_real,)) is None and not follow:
        raise OutsideRoot(f"leads to {real}", path=rel)
    return rel


def outcome(call: object, *args: object, **kwargs: object) -> str:
    """What a doc_path call gives: the identity, or the refusal and its message."""
    try:
        return str(call(*args, **kwargs))  # type: ignore[operator]
    except OutsideRoot as exc:
        # "leads to REAL" (a link out), or "outside" (not under the root at all)
        why = exc.message.split(", outside")[0] if exc.message.startswith("leads") else "outside"
        return f"refused: {why} [{exc.context.get('path')}]"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A project with a linked folder inside it, a folder linked from outside, a folder
    leading outside, a link to a file, a link out, a loop and a dangling link."""
    top = tmp_path / "proj"
    laws = top / "laws" / "de"
    laws.mkdir(parents=True)
    (laws / "a.md").write_text(TEXT, encoding="utf-8")
    (laws / "sub").mkdir()
    (laws / "sub" / "b.md").write_text(TEXT, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(TEXT, encoding="utf-8")
    (top / "alias").symlink_to(top / "laws")  # a linked folder inside the root
    (top / "out").symlink_to(outside)  # a linked folder leading outside
    (laws / "to-a.md").symlink_to(laws / "a.md")  # a link to a file inside
    (laws / "to-secret.md").symlink_to(outside / "secret.md")  # a link to a file outside
    (laws / "loop.md").symlink_to(laws / "loop.md")  # a loop
    (laws / "gone.md").symlink_to(laws / "nothing.md")  # dangling
    (tmp_path / "into").symlink_to(laws)  # a folder outside linking into the root
    (top / "alias" / "de" / "sub" / "deep").symlink_to(top / "laws" / "de")
    (tmp_path / "rootlink").symlink_to(top)  # the root named through a link
    return tmp_path


def forms(tmp: Path) -> list[str]:
    """Paths naming files of the tree in many ways: absolute, through links, with
    ``..`` after a linked folder (physical: the link's target's parent), relative."""
    top = tmp / "proj"
    names = ["a.md", "sub/b.md", "to-a.md", "to-secret.md", "loop.md", "gone.md"]
    found: list[str] = []
    for name in names:
        found += [
            f"{top}/laws/de/{name}",
            f"{top}/alias/de/{name}",
            f"{top}/laws/de/sub/../{name}",
            f"{top}/alias/de/sub/deep/{name}",
            f"{top}/alias/de/sub/deep/../{name}",  # deep -> laws/de: .. is laws
            f"{top}/alias/../laws/de/{name}",  # alias -> laws: .. is proj
            f"{tmp}/into/{name}",
            f"{tmp}/into/../de/{name}",  # into -> laws/de: .. is laws
            f"{top}/out/secret.md",
            f"{top}/out/../proj/laws/de/{name}",  # out -> outside: .. is tmp
            f"{top}/laws/de//./{name}",
            f"{tmp}/rootlink/laws/de/{name}",
            f"{tmp}/rootlink/alias/../laws/de/{name}",
            f"laws/de/{name}",
            f"../proj/alias/de/{name}",
            f"de/{name}",
            f"./{name}",
            name,
        ]
    return found


CWDS = ("proj", "proj/laws", "proj/laws/de", "proj/alias/de", "outside", "into", ".")


@pytest.mark.parametrize("follow", [False, True])
def test_every_path_form_from_every_folder_has_the_identity_of_a_whole_resolve(
    tree: Path, monkeypatch: pytest.MonkeyPatch, follow: bool
) -> None:
    """One root object, its folder cache filled as files come, from seven working
    folders (relative paths change meaning with the folder, and ``link/..`` is the
    link's target's parent): every path gives the identity, or the refusal, that
    resolving it whole gives."""
    top = tree / "proj"
    for root_path in (top, tree / "rootlink"):  # a root named through a link too
        root = ProjectRoot(root_path, "--root")
        checked = 0
        for cwd in CWDS:
            monkeypatch.chdir(tree / cwd)
            for form in forms(tree):
                want = outcome(whole, root, form, follow)
                got = outcome(root.doc_path, form, follow_symlinks=follow)
                assert got == want, (cwd, form)
                checked += 1
        assert checked == len(CWDS) * len(forms(tree))


def test_a_relative_path_means_another_file_from_another_folder(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same relative name, asked of the same root object from two working folders,
    is two documents (the folder cache is keyed by the folder's absolute name)."""
    top = tree / "proj"
    root = ProjectRoot(top, "--root")
    monkeypatch.chdir(top / "laws" / "de")
    assert root.doc_path("sub/b.md") == "laws/de/sub/b.md"
    monkeypatch.chdir(top / "laws")
    (top / "laws" / "sub").mkdir()
    assert root.doc_path("sub/b.md") == "laws/sub/b.md"
    monkeypatch.chdir(tree)
    assert outcome(root.doc_path, "sub/b.md") == "refused: outside [sub/b.md]"


def test_a_folder_link_changed_between_two_passes_is_seen(tree: Path) -> None:
    """A pass resolves each folder once; the next pass over the same root object
    resolves again: a linked folder retargeted outside the root is refused then."""
    top = tree / "proj"
    root = ProjectRoot(top, "--root")
    (top / "moved").symlink_to(top / "laws" / "de" / "sub")
    first = list(cut_map(digest_of, [top / "moved"], root=root))
    assert [d.path for d in first if isinstance(d, Digest)] == ["moved/b.md"]
    (top / "moved").unlink()
    (top / "moved").symlink_to(tree / "outside")
    second = list(cut_map(digest_of, [top / "moved"], root=root))
    assert [type(d) for d in second] == [OutsideRoot]
    assert "outside the project root" in second[0].message  # type: ignore[union-attr]


def test_a_pass_over_linked_folders_names_documents_as_one_by_one(tree: Path) -> None:
    """cut_map over the project (linked folders and ``..`` in the paths given), with its
    folder cache, names every document as doc_path of a fresh root names each alone."""
    top = tree / "proj"
    root = ProjectRoot(top, "--root")
    given = [top / "alias", top / "laws" / "de" / "sub" / "..", tree / "into"]
    got = [
        d.path if isinstance(d, Digest) else f"refused {d.context.get('path')}"
        for d in cut_map(digest_of, given, root=root, follow_symlinks=True)
    ]
    from iucut.cut.source import list_sources

    want = []
    for file, _ in list_sources(given).files:
        alone = ProjectRoot(top, "--root")
        try:
            want.append(alone.doc_path(file, follow_symlinks=True))
        except OutsideRoot as exc:
            want.append(f"refused {exc.context.get('path')}")
    assert got == want
    assert "alias/de/a.md" in got and "laws/de/a.md" in got
