"""iucut: cut Markdown into addressable, versioned information units in PostgreSQL."""

from iucut._version import __version__

__all__ = ["__version__"]
