"""The README's "Library" section is run: its Python blocks, in order, in one namespace,
against a real database (found the way iucut.connect() finds one: IUCUT_DSN)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def library_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Library\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_library_examples_run(db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Python block of the README's Library section runs and its asserts hold."""
    blocks = library_blocks()
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    for key in ("IUCUT_EXECUTION", "IUCUT_APPLY_ROLE", "IUCUT_CONFIG", "DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("IUCUT_DSN", db.dsn)
    monkeypatch.setenv("IUCUT_SCHEMA", db.schema)
    monkeypatch.setenv("IUCUT_HOME", str(tmp_path / "home"))
    namespace: dict[str, object] = {"__name__": "readme"}
    for n, block in enumerate(blocks, 1):
        exec(compile(block, f"README.md Library block {n}", "exec"), namespace)
    assert namespace["result"].counts["created"] > 0  # type: ignore[attr-defined]
    assert [c.event for c in namespace["page"].changes] == ["revised"]  # type: ignore[attr-defined]
