"""Front matter: YAML between ``---`` lines or TOML between ``+++`` lines, at the very top."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import yaml

_OPEN = re.compile(r"\ufeff?(---|\+\+\+)[ \t]*\r?(?:\n|$)")
_YAML_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?(?:\n|\Z)", re.M)
_TOML_CLOSE = re.compile(r"^\+\+\+[ \t]*\r?(?:\n|\Z)", re.M)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
        return 0, {}, None
    raw = text[m.end() : close.start()]
    try:
        data = tomllib.loads(raw) if toml else yaml.load(raw, Loader=_Loader)
    except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 2})" if isinstance(line, int) else ""
        return close.end(), {}, f"front matter does not parse{where}; ignored"
    if data is None:
        return close.end(), {}, None
    if not isinstance(data, dict):
        return close.end(), {}, "front matter is not a mapping; ignored"
    return close.end(), data, None
