"""Integrations with retrieval and agent frameworks (each behind an optional extra)."""

from __future__ import annotations

import importlib
from types import ModuleType

from iucut.errors import ConfigError


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"{module} is not installed",
            hint=f"pip install 'iucut[{extra}]'",
        ) from exc
