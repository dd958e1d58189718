"""psycopg 3 imported without :mod:`importlib.metadata`.

psycopg (3.3) and psycopg-binary each read their own version when imported, with
``importlib.metadata.version()``: importing :mod:`importlib.metadata` imports ``email``,
``zipfile`` and ``importlib.resources`` besides, ~40 ms of a one-change re-sync's
~0.5 s (issue #16 part 3), for a version iucut never reads. :func:`give_versions` gives
their ``version`` modules before psycopg is imported, with the version the installed
distribution declares: the ``Version:`` field of the ``METADATA`` file in the
``.dist-info`` folder beside the package (what ``importlib.metadata.version()`` reads),
served by a finder first on ``sys.meta_path`` for those two module names alone (each
imported as any module is: a spec, a loader, the attribute on its package), which
leaves once it has served them. Where a version is not found at once (no psycopg,
another layout, an egg), its module is not served and psycopg reads it as ever.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

#: the packages that read their version at import, each with its version module
PACKAGES = ("psycopg", "psycopg_binary")

#: how much of METADATA is read for its ``Version:`` field (one of the first lines)
HEAD_BYTES = 4096


def give_versions() -> None:
    """Serve the version module of each of :data:`PACKAGES` whose version is found,
    unless psycopg is imported already (or being served)."""
    with _LOCK:
        if "psycopg" in sys.modules or any(isinstance(f, _Versions) for f in sys.meta_path):
            return
        found = {
            f"{package}.version": version
            for package in PACKAGES
            if f"{package}.version" not in sys.modules
            and (version := installed_version(package)) is not None
        }
        if found:
            sys.meta_path.insert(0, _Versions(found))


_LOCK = threading.Lock()


class _Versions:
    """A meta path finder (and loader) of the version modules named, each served once."""

    def __init__(self, versions: dict[str, str]) -> None:
        self.versions = versions
        self.served: set[str] = set()

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        if fullname not in self.versions:
            return None
        loader: Any = self  # (a loader by its two methods: importlib.abc costs an import)
        return ModuleSpec(fullname, loader, origin=__name__)

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # (the default module)

    def exec_module(self, module: ModuleType) -> None:
        with _LOCK:
            module.__version__ = self.versions[module.__name__]  # type: ignore[attr-defined]
            self.served.add(module.__name__)
            if len(self.served) == len(self.versions):
                with contextlib.suppress(ValueError):
                    sys.meta_path.remove(self)


def installed_version(package: str) -> str | None:
    """The version declared by the distribution installed beside ``package`` (the one
    the import system finds), or None when it cannot be told at once."""
    origin = _origin(package)
    if origin is None or os.path.basename(origin) != "__init__.py":
        return None
    folder = os.path.dirname(os.path.dirname(origin))
    try:
        names = [
            n
            for n in os.listdir(folder)
            if n.startswith(package + "-") and n.endswith(".dist-info")
        ]
    except OSError:
        return None
    if len(names) != 1:  # (none, or several: which one is in use is not told here)
        return None
    try:
        with open(os.path.join(folder, names[0], "METADATA"), "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        return None
    declared = [line for line in head.split(b"\n") if line.startswith(b"Version:")][:1]
    if not declared:
        return None
    version = declared[0][len(b"Version:") :].strip().decode("ascii", "replace")
    return version if version and version.isprintable() and " " not in version else None


def _origin(package: str) -> str | None:
    """Where the import system would load ``package`` from (its meta path finders in
    turn, as ``importlib.util.find_spec`` asks them, without importing that module)."""
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        try:
            spec = find(package, None)
        except Exception:
            return None
        if spec is not None:
            origin = spec.origin
            return origin if isinstance(origin, str) and spec.has_location else None
    return None
