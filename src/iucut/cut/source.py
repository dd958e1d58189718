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
    limit = max_document_bytes(config)
    try:
        size = path.stat().st_size
        if size > limit:  # refused before reading: nothing of it is held in memory
            raise InputError(
                f"{size} bytes, over the limit of {limit} bytes for one document "
                "(max_document_bytes in the configuration, or IUCUT_MAX_DOCUMENT_BYTES)",
                path=name,
                hint="split the document, or raise the limit (configuration "
                "max_document_bytes or IUCUT_MAX_DOCUMENT_BYTES)",
            )
        data = path.read_bytes()
    except IsADirectoryError as exc:
        raise InputError("is a directory", path=name) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from exc
    if len(data) > limit:  # it grew while we looked
        raise InputError(f"over the limit of {limit} bytes for one document", path=name)
    if not data.removeprefix(b"\xef\xbb\xbf").strip(b" \t\r\n"):
        what = "empty file" if not data else "nothing but white space or a byte order mark"
        raise InputError(
            f"empty document ({what}): nothing to cut",
            path=name,
            line=1,
            offset=0,
            hint="write the document, or delete the file (plan/apply --prune retire it)",
        )
    return cut_text(data, name, namespace=namespace, profile=profile, config=config)


#: The largest document cut by default: far below what one PostgreSQL value can carry
#: (a 200 MB document used to fail inside the server after minutes and gigabytes).
DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


def max_document_bytes(config: Mapping[str, Any] | None) -> int:
    """The size limit of one document: configuration ``max_document_bytes`` (which the
    CLI fills from ``IUCUT_MAX_DOCUMENT_BYTES``), else 64 MiB."""
    value = (config or {}).get("max_document_bytes")
    if value is None:
        return DEFAULT_MAX_DOCUMENT_BYTES
    try:
        limit = int(value)
    except (TypeError, ValueError):
        limit = 0
    if limit <= 0:
        from iucut.errors import ConfigError

        raise ConfigError(f"max_document_bytes must be a positive number of bytes, not {value!r}")
    return limit


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
