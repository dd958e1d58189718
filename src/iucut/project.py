"""The project root: where a document's identity (its stored path) is anchored.

A document is stored under its path relative to the project root, so the same file
has the same identity whichever folder iucut runs from and whichever form its path is
given in (relative, absolute, through ``..``), for the CLI and the library alike.

The root is, first found first:

1. ``--root`` (``given``), else the ``IUCUT_ROOT`` environment variable;
2. the nearest folder holding ``iucut.yaml`` (what ``iucut init`` creates), looking up
   from the given paths (or from the working folder when there are none), the way git
   looks for its repository;
3. the top of the git work tree holding the given paths;
4. the folder given (for a file: the folder holding it; several: their common folder).

Only 1 and 2 are declared by the user; the others are a guess that does not depend on
the working folder and that a caller should announce (:attr:`ProjectRoot.note`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from iucut.errors import OutsideRoot, RootError

#: The file that marks a project's top folder (it is also its configuration file).
MARKER = "iucut.yaml"
ROOT_ENV = "IUCUT_ROOT"


@dataclass(frozen=True)
class ProjectRoot:
    """The folder document paths are relative to, and how it was found."""

    path: Path  # absolute, not resolved (links kept: a path given through one still maps)
    source: str  # "--root", "IUCUT_ROOT", "iucut.yaml", "git", "paths"

    @property
    def declared(self) -> bool:
        """Whether the user chose this root (flag, variable or marker file)."""
        return self.source in ("--root", ROOT_ENV, MARKER)

    @property
    def note(self) -> str | None:
        """What a caller should say once when the root was guessed, else None."""
        if self.declared:
            return None
        how = "the top of its git work tree" if self.source == "git" else "the folder given"
        return (
            f"no {MARKER} found above the paths: document paths are relative to "
            f"{self.path} ({how}); run `iucut init` in the project's top folder "
            f"(or give --root / {ROOT_ENV}) to fix it"
        )

    def doc_path(self, file: str | Path, *, follow_symlinks: bool = False) -> str:
        """The stored path of ``file``: relative to the root, ``/``-separated.

        A file that is not under the root is refused (:class:`OutsideRoot`), and so is a
        file under it that is a link (or lies in a linked folder) leading outside it,
        unless ``follow_symlinks``; its identity is then the path of the link.
        """
        lexical = Path(os.path.abspath(file))  # ``..`` collapsed, links kept
        real = _resolve(Path(file))
        root_real = _resolve(self.path)
        rel = _relative(lexical, (self.path, root_real))
        if rel is None:
            rel = _relative(real, (root_real,))  # given through a link into the root
            if rel is None:
                raise OutsideRoot(
                    f"outside the project root {self.path}: refused (give --root or "
                    f"{ROOT_ENV} a folder that holds it)",
                    path=str(file),
                )
        elif _relative(real, (root_real,)) is None and not follow_symlinks:
            raise OutsideRoot(
                f"leads to {real}, outside the project root {self.path}: refused "
                "(--follow-symlinks reads what links lead to outside the root)",
                path=rel,
            )
        return rel


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop: keep the lexical form
        return Path(os.path.abspath(path))


def _relative(path: Path, bases: Iterable[Path]) -> str | None:
    for base in bases:
        try:
            rel = path.relative_to(base).as_posix()
        except ValueError:
            continue
        return "" if rel == "." else rel
    return None


def find_root(
    paths: Iterable[str | Path] = (),
    *,
    given: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> ProjectRoot:
    """The project root for ``paths`` (see the module docstring for the order).

    ``given``: an explicit root (``--root``); ``environ``: where to read ``IUCUT_ROOT``
    (default: the process environment); ``cwd``: the working folder, used only to
    complete relative paths and when there are no paths.
    """
    base = Path(os.path.abspath(cwd if cwd is not None else os.getcwd()))
    env = os.environ if environ is None else environ
    for value, source in ((given, "--root"), (env.get(ROOT_ENV) or None, ROOT_ENV)):
        if value is not None:
            folder = Path(os.path.abspath(base / Path(value).expanduser()))
            if not folder.is_dir():
                raise RootError(f"{source} {value}: not a folder")
            return ProjectRoot(folder, source)
    folders = [_folder_of(base / Path(p)) for p in paths] or [base]
    for finder, source in ((_marker_above, MARKER), (_git_top, "git")):
        found = {finder(f) for f in folders}
        if found == {None}:
            continue
        if len(found) > 1:
            listed = ", ".join(sorted(str(f) for f in found if f is not None))
            if None in found:
                listed += f", and paths under no {source}"
            raise RootError(
                f"the paths belong to different projects ({listed})",
                hint="give the paths of one project at a time, or --root",
            )
        (top,) = found
        assert top is not None
        return ProjectRoot(top, source)
    return ProjectRoot(Path(os.path.commonpath([str(f) for f in folders])), "paths")


def _folder_of(path: Path) -> Path:
    """The folder a path argument stands for: itself if a folder, else its parent."""
    lexical = Path(os.path.abspath(path))
    return lexical if lexical.is_dir() else lexical.parent


def _marker_above(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / MARKER).is_file():
            return candidate
    return None


def _git_top(folder: Path) -> Path | None:
    """The top of the git work tree holding ``folder`` (a ``.git`` folder or file)."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


INIT_TEXT = """\
# iucut project configuration. This file marks the project's top folder: document
# paths (and so document identity) are relative to the folder that holds it, whatever
# folder iucut is run from. See `iucut --help` and the README for the settings.
#
# execution: enabled        # the kill-switch (off unless exactly "enabled")
# schema: public
# namespaces:               # glob on document paths -> namespace
#   "laws/de/*.md": DE
"""


def init_project(folder: str | Path) -> Path:
    """Create ``iucut.yaml`` in ``folder`` (refused if one is there); returns its path."""
    target = Path(folder) / MARKER
    if not Path(folder).is_dir():
        raise RootError(f"{folder}: not a folder")
    try:
        with target.open("x", encoding="utf-8") as f:
            f.write(INIT_TEXT)
    except FileExistsError as exc:
        raise RootError(
            f"{target} exists already: this folder is a project root",
            hint="edit it, or remove it to start over",
        ) from exc
    return target
