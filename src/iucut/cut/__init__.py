"""Markdown → units: the public cut API (block scanner, legal profiles and codes inside)."""

from iucut.cut.cutter import cut_text
from iucut.cut.source import (
    DEFAULT_GLOB,
    Sources,
    cut_file,
    cut_paths,
    doc_path,
    iter_sources,
    list_sources,
    walk_sources,
)

__all__ = [
    "DEFAULT_GLOB",
    "Sources",
    "cut_file",
    "cut_paths",
    "cut_text",
    "doc_path",
    "iter_sources",
    "list_sources",
    "walk_sources",
]
