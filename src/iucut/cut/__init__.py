"""Markdown → units: the public cut API (block scanner, legal profiles and codes inside)."""

import os
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from iucut.cut.source import (
    DEFAULT_GLOB,
    Sources,
    cut_file,
    cut_paths,
    doc_path,
    iter_sources,
    list_sources,
    walk_batches,
    walk_sources,
)

if TYPE_CHECKING:
    from iucut.cut.cutter import cut_text


def compiled() -> bool:
    """Whether the compiled core is installed and not turned off (``IUCUT_PURE_PYTHON``):
    what the cut cache's rules fingerprint records of the cutter, known without importing
    it (``iucut.cut.cutter.COMPILED`` is the same, unless the core fails to load)."""
    return find_spec("iucut.cut._core") is not None and (
        os.environ.get("IUCUT_PURE_PYTHON", "") in ("", "0")
    )


def __getattr__(name: str) -> Any:
    # the cutter (its rules compiled at import) when first asked for: a re-sync that
    # finds every file unchanged walks the sources and cuts none
    if name == "cut_text":
        from iucut.cut.cutter import cut_text

        return cut_text
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_GLOB",
    "Sources",
    "cut_file",
    "cut_paths",
    "cut_text",
    "doc_path",
    "iter_sources",
    "list_sources",
    "walk_batches",
    "walk_sources",
]
