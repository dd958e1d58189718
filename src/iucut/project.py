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
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from iucut.errors import OutsideRoot, RootError

#: The file that marks a project's top folder (it is also its configuration file).
MARKER = "iucut.yaml"
ROOT_ENV = "IUCUT_ROOT"
_SEP = os.sep


@dataclass(frozen=True)
class ProjectRoot:
    """The folder document paths are relative to, and how it was found."""

    path: Path  # absolute, not resolved (links kept: a path given through one still maps)
    source: str  # "--root", "IUCUT_ROOT", "iucut.yaml", "git", "paths"
    #: folders resolved so far (the real path of each folder files were named in), so
    #: that a corpus of many files in few folders costs one resolve per folder, not two
    #: per file. Per root object, and a pass over files takes a fresh copy
    #: (:meth:`fresh`): a link changed since an earlier pass is seen by the next one.
    _real_folders: dict[str, str] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    #: per folder as files name it: what :meth:`_folder_info` says of it (per pass, too)
    _folders: dict[str, tuple[str, str | None]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    #: the folder of the last file :meth:`_located_quickly` was asked (absolute, as
    #: named, with its separator) and what it says of it: ``[(prefix, info)]``, empty first
    _last: list[tuple[str, tuple[str, str | None]]] = field(
        default_factory=list, init=False, repr=False, compare=False, hash=False
    )

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
        return self.located(file, follow_symlinks=follow_symlinks)[0]

    def located(
        self, file: str | Path, *, follow_symlinks: bool = False
    ) -> tuple[str, os.stat_result | None]:
        """:meth:`doc_path`, and the stat of what ``file`` names when the look at it
        took it (a file that is not a link: its ``lstat`` is its stat), else None: a
        walk over a corpus then stats each file once, not twice."""
        quick = self._located_quickly(file)
        if quick is not None:
            return quick
        lexical = os.path.abspath(file)  # ``..`` collapsed, links kept
        real, st = self._real(file)
        root = str(self.path)
        root_real = self._real_folder(root) if os.path.isabs(root) else _resolve(root)
        rel = _relative(lexical, (root, root_real))
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
        return rel, st

    def _located_quickly(self, file: str | Path) -> tuple[str, os.stat_result | None] | None:
        """:meth:`located` of a file named in a folder that lies under the root both as
        named and resolved, the file not a link (a corpus's every file): from what its
        folder gave once per pass, its name and one ``lstat``. Else None (the file is
        looked at as :meth:`located` does, for the same answer or the same refusal)."""
        named = self.named(file)
        if named is None:
            return None
        doc_path, real = named
        try:
            st = os.lstat(real)
        except (OSError, ValueError):
            return None
        if stat.S_ISLNK(st.st_mode):
            return None
        return doc_path, st

    def named(self, file: str | Path) -> tuple[str, str] | None:
        """For a file named in a folder that lies under the root both as named and
        resolved: its document path and its name in the resolved folder, from what its
        folder gave once per pass (no look at the file itself: when it is a link, it is
        not this document path, and :meth:`located` must look). Else None."""
        given = os.fspath(file)
        # (the folder of the last file asked, as named, kept: a corpus is listed a
        # folder at a time, and os.path.split, isabs and join cost more than the lstat)
        cut = given.rfind(_SEP) + 1
        last = self._last[-1] if self._last else None  # (one read: threads may share it)
        if cut and last is not None and last[0] == given[:cut]:
            name, folder = given[cut:], last[1]
        else:
            head, name = os.path.split(given)
            # (by the folder made absolute: the working folder may change between files)
            absolute = head if os.path.isabs(head) else os.path.join(os.getcwd(), head)
            known = self._folders.get(absolute)
            if known is None:
                known = self._folders[absolute] = self._folder_info(absolute)
            folder = known
            if cut and os.path.isabs(head):
                self._last[:] = [(given[:cut], folder)]
        if name in ("", ".", "..") or folder[1] is None:
            return None
        return folder[1] + name, folder[0] + name

    def _folder_info(self, absolute: str) -> tuple[str, str | None]:
        """For the files named in folder ``absolute`` (``..`` not collapsed): the resolved
        folder with a trailing separator, and the document path of the folder with one
        ("" at the root), or None when it is not under the root as named and resolved."""
        real = self._real_folder(absolute)
        root = str(self.path)
        root_real = self._real_folder(root) if os.path.isabs(root) else _resolve(root)
        rel = _relative(os.path.abspath(absolute), (root, root_real))
        if rel is None or _relative(real, (root_real,)) is None:
            return real, None
        return os.path.join(real, ""), (rel + "/" if rel else "")

    def _real(self, file: str | Path) -> tuple[str, os.stat_result | None]:
        """``file`` with every link resolved (as :meth:`pathlib.Path.resolve`; a loop
        keeps the lexical form): its folder resolved once per root object, then the
        name looked at (one ``lstat``) and resolved only when it is itself a link. With
        it, that ``lstat`` when it is the file's stat (not a link), else None."""
        given = os.fspath(file)
        head, name = os.path.split(given)
        if name in ("", ".", ".."):
            return _resolve(given), None
        # the folder as named, made absolute without collapsing ``..`` (``link/..`` is
        # the link's target's parent, not the folder holding the link)
        absolute = head if os.path.isabs(head) else os.path.join(os.getcwd(), head)
        folder = self._real_folder(absolute)
        full = os.path.join(folder, name)
        try:
            st: os.stat_result | None = os.lstat(full)
        except (OSError, ValueError):  # (as os.path.islink: not a link)
            return full, None
        if st is not None and stat.S_ISLNK(st.st_mode):
            return _resolve(given), None  # the file is a link: resolved whole, as before
        return full, st

    def __getstate__(self) -> dict[str, Any]:
        # a worker gets the root, not the folders resolved so far (sent with every item)
        return {"path": self.path, "source": self.source}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in {**state, "_real_folders": {}, "_folders": {}, "_last": []}.items():
            object.__setattr__(self, key, value)

    def fresh(self) -> ProjectRoot:
        """The same root with nothing resolved yet (for a new pass over files)."""
        return replace(self)

    def _real_folder(self, folder: str) -> str:
        real = self._real_folders.get(folder)
        if real is None:
            real = self._real_folders[folder] = _resolve(folder)
        return real


def _resolve(path: str) -> str:
    """``Path(path).resolve()`` as a string; a link loop keeps the lexical form."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):  # a loop: keep the lexical form
        return os.path.abspath(path)


def _relative(path: str, bases: Iterable[str]) -> str | None:
    """``path`` relative to the first of ``bases`` holding it (``/``-separated; "" for
    the base itself), else None: ``Path.relative_to`` on normalized absolute paths."""
    for base in bases:
        if path == base:
            return ""
        prefix = base if base.endswith(os.sep) else base + os.sep
        if path.startswith(prefix):
            return path[len(prefix) :].replace(os.sep, "/")
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
