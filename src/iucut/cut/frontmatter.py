"""Front matter: YAML between ``---`` lines or TOML between ``+++`` lines, at the very top."""

from __future__ import annotations

import functools
import re
import tomllib
from typing import Any

_OPEN = re.compile(r"\ufeff?(---|\+\+\+)[ \t]*\r?(?:\n|$)")
_YAML_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?(?:\n|\Z)", re.M)
_TOML_CLOSE = re.compile(r"^\+\+\+[ \t]*\r?(?:\n|\Z)", re.M)
_STR = "tag:yaml.org,2002:str"
_TAGS: dict[tuple[str, tuple[bool, bool]], str] = {}


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
    import yaml

    try:
        data = tomllib.loads(raw) if toml else yaml.load(raw, Loader=_loader())
    except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError) as exc:
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
