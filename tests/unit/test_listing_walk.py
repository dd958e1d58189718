"""The listing of a folder for a glob ``**/NAME`` walks it with ``os.scandir`` (issue #16
part 3: no stat of a regular file, no Path object a file) and finds what pathlib's glob
finds, in the same order, with the same paths passed over and why."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from iucut.cut import source
from iucut.cut.source import list_sources


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Files, a hidden one, a folder and a FIFO matching the glob, a link to a file, a
    dangling link, a link to a folder (not followed by ``**``), an iucut report, another
    case, a name that sorts between folders."""
    top = tmp_path / "top"
    (top / "a" / "b").mkdir(parents=True)
    (top / "a" / "x.md").write_text("# x\n", encoding="utf-8")
    (top / "a" / "b" / "y.md").write_text("# y\n", encoding="utf-8")
    (top / "a-b.md").write_text("# ab\n", encoding="utf-8")
    (top / ".hidden.md").write_text("# h\n", encoding="utf-8")
    (top / "dir.md").mkdir()
    (top / "dir.md" / "inner.md").write_text("# i\n", encoding="utf-8")
    (top / "UPPER.MD").write_text("# u\n", encoding="utf-8")
    (top / "link.md").symlink_to(top / "a" / "x.md")
    (top / "dangling.md").symlink_to(top / "nowhere.md")
    (top / "linked").symlink_to(top / "a")
    (top / "proof-1.md").write_text("# p\n", encoding="utf-8")
    (top / "proof-1.json").write_text("{}", encoding="utf-8")
    os.mkfifo(top / "fifo.md")
    return top


@pytest.fixture(params=["compiled", "python"], autouse=True)
def lister(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test with the names listed by ``iucut._stat.entries`` (when built) and by
    ``os.scandir`` (without a compiler)."""
    if request.param == "python":
        monkeypatch.setattr(source, "_entries", source._scanned)
    elif source._entries is source._scanned:
        pytest.skip("iucut._stat is not built")
    return str(request.param)


def _by_pathlib(monkeypatch: pytest.MonkeyPatch, paths: list[Path], glob: str) -> object:
    with monkeypatch.context() as m:
        m.setattr(source, "_walk", lambda top, glob: None)
        found = list_sources(paths, glob)
    return found.files, found.skipped


@pytest.mark.parametrize("glob", ["**/*.md", "**/*", "**/*.MD", "**/[a-x]*.md"])
def test_the_walk_finds_what_pathlib_finds(
    tree: Path, glob: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same files in the same order, same paths passed over with the same reasons, for a
    folder given absolute, with a trailing slash, relative, and as ``.``."""
    for given in (tree, Path(f"{tree}/")):
        walked = list_sources([given], glob)
        assert source._walk(given, glob) is not None
        assert (walked.files, walked.skipped) == _by_pathlib(monkeypatch, [given], glob)
    monkeypatch.chdir(tree.parent)
    walked = list_sources([Path("top")], glob)
    assert (walked.files, walked.skipped) == _by_pathlib(monkeypatch, [Path("top")], glob)
    monkeypatch.chdir(tree)
    walked = list_sources([Path(".")], glob)
    assert (walked.files, walked.skipped) == _by_pathlib(monkeypatch, [Path(".")], glob)
    assert [os.fspath(f) for f, _ in list_sources([Path(".")], glob, as_text=True).files] == [
        os.fspath(f) for f, _ in walked.files
    ]


def test_a_report_among_regular_files_only_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a folder of regular files alone (the listing's fast path), a report with its
    JSON twin is passed over (the first name among them, too), and a report's name
    without one is a document, as pathlib and the check of each file find them; given
    as a path and as ``.`` (the names then without a folder before them)."""
    top = tmp_path / "reports"
    top.mkdir()
    for name in ("doctor.md", "proof-2.md", "proof-3.md", "xproof-4.md", "z.md"):
        (top / name).write_text("# r\n", encoding="utf-8")
    for twin in ("proof-2.json", "doctor.json", "xproof-4.json"):
        (top / twin).write_text("{}", encoding="utf-8")
    walked = list_sources([top])
    assert [os.path.basename(f) for f, _ in walked.files] == ["proof-3.md", "xproof-4.md", "z.md"]
    assert (walked.files, walked.skipped) == _by_pathlib(monkeypatch, [top], "**/*.md")
    monkeypatch.chdir(top)
    here = list_sources([Path(".")])
    assert [os.fspath(f) for f, _ in here.files] == ["proof-3.md", "xproof-4.md", "z.md"]
    alone = tmp_path / "alone"  # (the one report the first name, with nothing before it)
    alone.mkdir()
    for name in ("doctor.md", "z.md"):
        (alone / name).write_text("# r\n", encoding="utf-8")
    (alone / "doctor.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(alone)
    assert [os.fspath(f) for f, _ in list_sources([Path(".")]).files] == ["z.md"]


def test_the_walk_lists_the_corpus_without_a_stat_of_a_regular_file(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A regular file is taken from its directory entry: of the paths that match,
    ``os.stat`` is called only for the links and the special file (besides the folder
    given and a report's JSON twin)."""
    stats: list[str] = []
    real = os.stat

    def counted(path: object, *args: object, **kwargs: object) -> os.stat_result:
        stats.append(os.fspath(path))  # type: ignore[arg-type]
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(source.os, "stat", counted)
    list_sources([tree])
    looked = sorted(os.path.basename(p) for p in stats)
    assert looked == ["dangling.md", "fifo.md", "link.md", "proof-1.json", "top"]


def test_the_walk_keeps_path_order_across_folders_and_deep_nesting(tmp_path: Path) -> None:
    """A folder's contents sort under its name and a ``/`` (``a-b/x`` and ``a.md``
    before ``a/x``): the files come in the order of their sorted paths (``find``'s
    list, sorted, is the oracle), through folders nested deeper than Python's recursion
    limit (pathlib's own glob and mkdir recurse)."""
    top = tmp_path / "top"
    for folder in ("a", "a-b", "a.b", "a b", "a/c", "ab", "Z"):
        (top / folder).mkdir(parents=True, exist_ok=True)
        (top / folder / "x.md").write_text("# x\n", encoding="utf-8")
    for name in ("a.md", "a0.md", "a-.md", "Z.md"):
        (top / name).write_text("# f\n", encoding="utf-8")
    deep = top / "deep"
    deep.mkdir()
    for _ in range(1_100):  # (a path of ~2,300 characters: within PATH_MAX)
        deep = deep / "d"
        os.mkdir(deep)
    (deep / "bottom.md").write_text("# b\n", encoding="utf-8")
    found = subprocess.run(
        ["find", str(top), "-name", "*.md", "-type", "f"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    try:
        walked = [os.fspath(f) for f, _ in list_sources([top], as_text=True).files]
    finally:  # (shutil.rmtree recurses too: the deep folders go here, deepest first)
        (deep / "bottom.md").unlink()
        while deep != top:
            os.rmdir(deep)
            deep = deep.parent
    assert len(walked) == 12
    assert walked == sorted(found)


def test_the_walk_gives_the_first_file_before_it_lists_the_last_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``walk_sources`` lists a folder at a time as its files are asked for (issue #16
    part 3: the client holds the names of the folders being walked, not the corpus)."""
    top = tmp_path / "top"
    for n in range(20):
        (top / f"f{n:02d}").mkdir(parents=True)
        (top / f"f{n:02d}" / "x.md").write_text("# x\n", encoding="utf-8")
    listed: list[str] = []
    real = source._entries

    def counted(path: str) -> object:
        listed.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(source, "_entries", counted)
    files = source.walk_sources([top])
    first = next(files)
    assert os.path.basename(os.path.dirname(first[0])) == "f00"  # type: ignore[arg-type]
    assert listed == ["top", "f00"]
    assert len(list(files)) == 19 and len(listed) == 21
    listed.clear()  # (what --prune asks first: is there a file at all)
    assert next(source.iter_sources([top]))[0].parent.name == "f00"
    assert listed == ["top", "f00"]


def test_the_walk_gives_runs_of_files_a_folder_at_a_time(tree: Path) -> None:
    """``walk_batches`` gives what ``walk_sources`` gives, in the same order, a run at a
    time: the files of a folder up to its next folder (or all of them), each run of one
    folder; what is passed over in a run is in ``skipped`` when the run comes."""
    extra = tree / "a" / "b" / "c"  # a folder of files alone, after y.md's folder
    extra.mkdir()
    for n in range(5):
        (extra / f"{n}.md").write_text("# n\n", encoding="utf-8")
    (tree / "a" / "0.md").write_text("# 0\n", encoding="utf-8")  # before the folder b/
    (tree / "a" / "z.md").write_text("# z\n", encoding="utf-8")  # after it, as x.md
    skipped: list[tuple[Path, str]] = []
    runs = list(source.walk_batches([tree], "**/*.md", skipped))
    flat = [item for run in runs for item in run]
    assert flat == list(source.walk_sources([tree], "**/*.md"))
    assert skipped == list_sources([tree]).skipped
    folders = [{os.path.dirname(str(p)) for p, _ in run} for run in runs]
    assert all(len(f) == 1 for f in folders)  # (no run spans two folders)
    by_folder = {
        f.pop(): [os.path.basename(str(p)) for p, _ in run]
        for f, run in zip(folders, runs, strict=True)
    }
    assert by_folder[str(extra)] == [f"{n}.md" for n in range(5)]  # (one run: all of it)
    # a folder's files before and after its folder b/ are two runs, around b/'s (a
    # folder's contents sort under its name and a "/": c/ before y.md, b/ before x.md)
    order = [os.path.relpath(str(run[0][0]), tree) for run in runs]
    assert order.index("a/0.md") < order.index("a/b/c/0.md") < order.index("a/b/y.md")
    assert order.index("a/b/y.md") < order.index("a/x.md")
    assert by_folder[str(tree / "a")] == ["x.md", "z.md"]  # (the last run of a/ kept)
