"""iucut: cut Markdown into addressable, versioned information units in PostgreSQL.

The library API: cutting without a database (:func:`cut_text`, :func:`cut_file`,
:func:`cut_paths`), and :func:`connect` for a :class:`Store` with the CLI's verbs
(plan, prove, apply, show, history, export, ls, changes). Names are imported on first
use, so that ``import iucut`` (and the CLI) stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from iucut._version import __version__

if TYPE_CHECKING:
    from iucut.apply import ApplyResult
    from iucut.browse import DocumentInfo, History, UnitView
    from iucut.cutting import cut_file, cut_paths, cut_text
    from iucut.errors import IucutError
    from iucut.feed import Change, Changes, Cursor
    from iucut.prove import ProofReport
    from iucut.store import CurrentUnit, Export, Store, connect
    from iucut.units import CutDocument, Event, Plan, Unit

#: Public name → the module that owns it.
_HOME = {
    "ApplyResult": "iucut.apply",
    "Change": "iucut.feed",
    "Changes": "iucut.feed",
    "CurrentUnit": "iucut.store",
    "Cursor": "iucut.feed",
    "CutDocument": "iucut.units",
    "DocumentInfo": "iucut.browse",
    "Event": "iucut.units",
    "Export": "iucut.store",
    "History": "iucut.browse",
    "IucutError": "iucut.errors",
    "Plan": "iucut.units",
    "ProofReport": "iucut.prove",
    "Store": "iucut.store",
    "Unit": "iucut.units",
    "UnitView": "iucut.browse",
    "connect": "iucut.store",
    "cut_file": "iucut.cutting",
    "cut_paths": "iucut.cutting",
    "cut_text": "iucut.cutting",
}

__all__ = [
    "ApplyResult",
    "Change",
    "Changes",
    "CurrentUnit",
    "Cursor",
    "CutDocument",
    "DocumentInfo",
    "Event",
    "Export",
    "History",
    "IucutError",
    "Plan",
    "ProofReport",
    "Store",
    "Unit",
    "UnitView",
    "__version__",
    "connect",
    "cut_file",
    "cut_paths",
    "cut_text",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'iucut' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
