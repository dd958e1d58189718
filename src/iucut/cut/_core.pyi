"""Types of the compiled cutter core (src/iucut/cut/ccore); the Python modules are its
reference: see iucut.cut.cutter for how it is used."""

from collections.abc import Callable
from re import Pattern
from typing import Any

from iucut.units import Unit

SHA256: str

class Program:
    pattern: Pattern[str]
    def __init__(
        self, code: bytes, pattern: Pattern[str], groups: tuple[int, int, int, int]
    ) -> None: ...
    def match(self, text: str, pos: int = 0) -> Any: ...

class Scan:
    def __init__(self, s: str, start: int, hint: Program | None) -> None: ...
    control: bool
    def __len__(self) -> int: ...
    def marks(self) -> list[tuple[str, int, int, int, str]]: ...
    def signature_hits(self, programs: tuple[Program, ...], limit: int) -> tuple[int, ...]: ...
    def build(
        self,
        text: str,
        raw: bytes,
        path: str,
        namespace: str,
        heads: Any,
        lines: Any,
        rules: tuple[tuple[Any, ...], ...],
        coder: Any,
        hooks: tuple[
            Callable[[str], tuple[str, str | None]],
            Callable[[str, str], str],
            Callable[[str], str],
            Callable[[str | None], str],
            Callable[[Any], str | None],
        ],
        unit_type: type[Unit],
        hash_head: bytes,
    ) -> list[Unit]: ...

def clean(text: str) -> str: ...
def label_segment(prefix: str, label: str) -> Any: ...
def heading_slug(text: str) -> Any: ...
