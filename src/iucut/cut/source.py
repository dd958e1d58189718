"""Where documents come from: files and directories, globbed, read as bytes, cut one by one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from iucut.cut.cutter import cut_text
from iucut.errors import InputError
from iucut.units import CutDocument

DEFAULT_GLOB = "**/*.md"


def iter_sources(
    paths: Iterable[str | Path], glob: str = DEFAULT_GLOB
) -> Iterator[tuple[Path, Path | None]]:
    """``(file, root)`` for each file to cut, in a stable order.

    A directory yields its files matching ``glob`` (sorted), with the directory as
    root; a file yields itself with no root. A missing path yields ``(path, None)``
    so that the caller reports it as bad input and goes on with the others.
    """
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = [p for p in path.glob(glob) if p.is_file()]
            for p in sorted(found, key=lambda p: p.as_posix()):
                yield p, path
        else:
            yield path, None


def doc_path(path: Path, root: Path | None) -> str:
    """The document path used in rows: relative to ``root`` when there is one."""
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def cut_file(
    path: str | Path,
    *,
    root: Path | None = None,
    namespace: str | None = None,
    profile: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> CutDocument:
    """Read one file and cut it (InputError when it cannot be read or cut)."""
    path = Path(path)
    name = doc_path(path, root)
    try:
        data = path.read_bytes()
    except IsADirectoryError as exc:
        raise InputError("is a directory", path=name) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from exc
    return cut_text(data, name, namespace=namespace, profile=profile, config=config)


def cut_paths(
    paths: Iterable[str | Path],
    *,
    glob: str = DEFAULT_GLOB,
    root: Path | None = None,
    namespace: str | None = None,
    profile: str | None = None,
    config: Mapping[str, Any] | None = None,
    sources: Iterable[tuple[Path, Path | None]] | None = None,
) -> Iterator[CutDocument | InputError]:
    """Cut every source; a bad document yields its InputError and the others go on.

    Document paths are relative to ``root`` when given (and the file is under it),
    else to the directory argument a file was found in, else as given. One document
    is in memory at a time, so memory is bounded by the largest file. ``sources``: the
    ``(file, folder)`` pairs of :func:`iter_sources` when the caller has listed them
    already (else they are listed from ``paths`` and ``glob``).
    """
    base = Path(root).resolve() if root is not None else None
    for path, found_in in iter_sources(paths, glob) if sources is None else sources:
        where = found_in
        if base is not None:
            try:
                path.resolve().relative_to(base)
                path, where = path.resolve(), base
            except (ValueError, OSError):
                pass
        try:
            yield cut_file(path, root=where, namespace=namespace, profile=profile, config=config)
        except InputError as exc:
            yield exc
