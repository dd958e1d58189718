"""The warnings a command shows are kept once a document (its path and the digest's own
warnings), and the command's JSON still lists every one as ``{path, warning}``, in order
(issue #16 part 3: not a dict a warning held to the end of a re-sync)."""

from __future__ import annotations

import pytest

from iucut.cli import Context
from iucut.cli.write import show_warnings, strict_reminder
from iucut.plan import Digest


def _digest(path: str, warnings: tuple[str, ...]) -> Digest:
    return Digest(path, "NS", "h" * 64, "c" * 64, 3, warnings=warnings)


def test_every_warning_is_in_the_json_and_each_document_counted_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctx = Context({})
    many = tuple(f"line {n}: odd" for n in range(1, 6))  # more than the 3 shown on stderr
    show_warnings(ctx, _digest("a.md", many))
    show_warnings(ctx, _digest("b.md", ()))
    show_warnings(ctx, _digest("c.md", ("line 9: odd",)))
    assert ctx.warning_dicts() == [{"path": "a.md", "warning": w} for w in many] + [
        {"path": "c.md", "warning": "line 9: odd"}
    ]
    strict_reminder(ctx)
    err = capsys.readouterr().err
    assert "2 documents with warnings" in err
    assert "a.md: … and 2 more" in err
