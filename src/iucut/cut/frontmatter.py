"""Front matter: YAML between ``---`` lines or TOML between ``+++`` lines, at the very top."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

_OPEN = re.compile(r"\ufeff?(---|\+\+\+)[ \t]*\r?(?:\n|$)")
_YAML_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?(?:\n|\Z)", re.M)
_TOML_CLOSE = re.compile(r"^\+\+\+[ \t]*\r?(?:\n|\Z)", re.M)
_STR = "tag:yaml.org,2002:str"
_TAGS: dict[tuple[str, tuple[bool, bool]], str] = {}
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")

#: Front matter keys that carry a document's effective date, tried in order, unless the
#: configuration names its own (``effective_date_keys`` in iucut.yaml).
EFFECTIVE_DATE_KEYS = ("ngay_hieu_luc", "hieu_luc", "inkrafttreten", "effective", "effective_date")


@functools.cache
def _loader() -> Any:
    """The YAML loader of front matter (PyYAML imported at the first front matter: a
    re-sync that cuts nothing, or no document with YAML, does not import it)."""
    import yaml

    safe: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(safe):  # type: ignore[misc]
        """PyYAML's safe loader, with two shortcuts that change no result (front matter
        is parsed once per document, so its cost is per document, not per byte):

        * the tag of a scalar is looked up once per distinct short text (the safe
          loader has no path resolvers, so the tag depends on the text and its style
          only);
        * a ``str`` scalar is constructed as its text, without the generic dispatch.
        """

        def resolve(self, kind: Any, value: str, implicit: tuple[bool, bool]) -> Any:
            if kind is not yaml.ScalarNode or self.yaml_path_resolvers or len(value) > 64:
                return super().resolve(kind, value, implicit)
            key = (value, implicit)
            tag = _TAGS.get(key)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_TAGS) < 4096:
                    _TAGS[key] = tag
            return tag

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            if node.__class__ is yaml.ScalarNode and node.tag == _STR:
                return node.value
            return super().construct_object(node, deep)

    return _Loader


def split_front_matter(text: str) -> tuple[int, dict[str, Any], str | None]:
    """Find front matter at the top of ``text`` (a leading BOM is allowed).

    Returns ``(end, data, warning)``: ``text[:end]`` is the whole front matter block
    including both fences (0 when there is none), ``data`` its parsed mapping (empty
    when it does not parse), and a warning when it does not. An unclosed fence is not
    front matter: a document that opens with ``---`` and never closes it is Markdown.
    """
    m = _OPEN.match(text)
    if not m:
        return 0, {}, None
    toml = m.group(1) == "+++"
    close = (_TOML_CLOSE if toml else _YAML_CLOSE).search(text, m.end())
    if close is None:
        fence = m.group(1)
        return (
            0,
            {},
            f"line 1 (byte 0): front matter opened with {fence} is never closed; read as Markdown",
        )
    raw = text[m.end() : close.start()]
    # (each parser imported at the first front matter of its kind: most corpora have
    # one kind or none, and a re-sync that cuts nothing imports neither)
    parse: Callable[[str], Any]
    refused: tuple[type[Exception], ...]
    if toml:
        import tomllib

        parse, refused = tomllib.loads, (tomllib.TOMLDecodeError, ValueError)
    else:
        import yaml

        def parse(raw: str) -> Any:
            return yaml.load(raw, Loader=_loader())

        refused = (yaml.YAMLError, ValueError)
    try:
        data = parse(raw)
    except refused as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = re.search(r"at line (\d+)", str(exc)) if toml else None
        if at is not None:  # tomllib counts from 1
            line = int(at.group(1)) - 1
        where = f" (line {line + 2})" if isinstance(line, int) else ""
        return close.end(), {}, f"front matter does not parse{where}; ignored"
    if data is None:
        return close.end(), {}, None
    if not isinstance(data, dict):
        return close.end(), {}, "front matter is not a mapping; ignored (line 2)"
    return close.end(), data, None


def calendar_date(text: str | date) -> date:
    """A date: ISO (2026-07-01), or day first (01/07/2026, 01.07.2026); a datetime's
    date. Raises ValueError for anything else."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    value = text.strip()
    m = _DMY.match(value)
    if m is not None:
        return date(int(m[3]), int(m[2]), int(m[1]))
    return date.fromisoformat(value)


def effective_date(
    front_matter: Mapping[str, Any], config: Mapping[str, Any] | None = None
) -> tuple[str, str] | None:
    """The effective date a document's front matter carries, as (ISO date, key): the
    first of the configured keys (``effective_date_keys``) or :data:`EFFECTIVE_DATE_KEYS`
    that holds a date. None when none does. (Here, with the front matter, not with the
    point-in-time reads that use it: planning a document needs it, not them.)"""
    keys: Sequence[str] = EFFECTIVE_DATE_KEYS
    configured = (config or {}).get("effective_date_keys")
    if isinstance(configured, str):
        keys = (configured,)
    elif isinstance(configured, list) and all(isinstance(k, str) for k in configured):
        keys = tuple(configured)
    for key in keys:
        value = front_matter.get(key)
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, date | str):
            try:
                return calendar_date(value).isoformat(), key
            except ValueError:
                continue
    return None
