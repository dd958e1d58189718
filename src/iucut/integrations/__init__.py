"""Integrations with retrieval and agent frameworks (each behind an optional extra)."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, or fail saying which extra installs it (a ModuleNotFoundError
    named after the missing package, which ``iucut doctor`` counts as optional)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"{module} is not installed: pip install 'iucut[{extra}]'",
            name=module.split(".")[0],
        ) from exc
