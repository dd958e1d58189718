"""The library's cutting verbs: documents get the same paths, namespaces and codes as the CLI.

These call :mod:`iucut.cut.source` with what the CLI gives it (the project root, the
configuration of ``iucut.yaml``), so ``iucut.cut_paths(["docs"])`` and ``iucut cut docs``
name every document and unit alike. No database is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from iucut.config import load_settings
from iucut.cut import source
from iucut.cut.cutter import cut_text as _cut_text
from iucut.errors import InputError
from iucut.project import MARKER, ProjectRoot, find_root
from iucut.units import CutDocument

DEFAULT_GLOB = source.DEFAULT_GLOB


def default_root(paths: Iterable[str | Path] = (), root: str | Path | None = None) -> Path:
    """The folder document paths are relative to, as the CLI finds it for ``paths``
    (:func:`iucut.project.find_root`: ``root``, ``IUCUT_ROOT``, the nearest iucut.yaml,
    the git work tree, the folder given)."""
    return find_root([Path(p) for p in paths], given=root).path


def default_config(root: ProjectRoot | None = None) -> Mapping[str, Any]:
    """The configuration the CLI would read: ``IUCUT_CONFIG``, else the iucut.yaml of
    the project root, else the nearest one above the working folder."""
    folder = root.path if root is not None and (root.path / MARKER).is_file() else None
    return load_settings(config_dir=folder).config


def cut_text(
    data: bytes | str,
    path: str,
    *,
    namespace: str | None = None,
    profile: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> CutDocument:
    """Cut one document given as bytes or text; ``path`` is its document path."""
    return _cut_text(
        data,
        path,
        namespace=namespace,
        profile=profile,
        config=default_config() if config is None else config,
    )


def cut_paths(
    paths: Iterable[str | Path],
    *,
    glob: str = DEFAULT_GLOB,
    root: str | Path | None = None,
    namespace: str | None = None,
    profile: str | None = None,
    config: Mapping[str, Any] | None = None,
    jobs: int | None = 1,
) -> Iterator[CutDocument]:
    """Cut files and folders (``glob`` picks files in folders), one document at a time.

    ``jobs``: worker processes cutting at once (None or 0: one per CPU available); the
    documents come in source order whatever their number, a few in memory at a time.
    Raises :class:`~iucut.errors.InputError` at the first document that cannot be cut.
    """
    for item in iter_cut(
        paths,
        glob=glob,
        root=root,
        namespace=namespace,
        profile=profile,
        config=config,
        jobs=jobs,
    ):
        if isinstance(item, InputError):
            raise item
        yield item


def iter_cut(
    paths: Iterable[str | Path],
    *,
    glob: str = DEFAULT_GLOB,
    root: str | Path | None = None,
    namespace: str | None = None,
    profile: str | None = None,
    config: Mapping[str, Any] | None = None,
    jobs: int | None = 1,
) -> Iterator[CutDocument | InputError]:
    """As :func:`cut_paths`, but a bad document yields its error and the others go on."""
    given = [Path(p) for p in paths]
    project = find_root(given, given=root)
    return source.cut_paths(
        given,
        glob=glob,
        root=project,
        namespace=namespace,
        profile=profile,
        config=default_config(project) if config is None else config,
        jobs=jobs,
    )


def cut_file(
    path: str | Path,
    *,
    root: str | Path | None = None,
    namespace: str | None = None,
    profile: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> CutDocument:
    """Cut one file (InputError when it cannot be read or cut)."""
    if Path(path).is_dir():
        raise InputError("is a directory: give a file (cut_paths takes folders)", path=str(path))
    return next(cut_paths([path], root=root, namespace=namespace, profile=profile, config=config))
