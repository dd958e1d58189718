"""printable(): control characters of a document's text or a file's name never reach the
terminal; the fast path (no control character: the text as it is) gives what the
character-by-character translation gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from iucut.cli import _CONTROLS, _MESSAGE_CONTROLS, printable


@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=40))
def test_printable_is_the_translation_of_every_control_character(text: str) -> None:
    """Every C0 and C1 control (tab and newline too, unless a message of lines) is shown
    as \\xNN; anything else passes as it is."""
    assert printable(text) == text.translate(_CONTROLS)
    assert printable(text, lines=True) == text.translate(_MESSAGE_CONTROLS)


def test_each_control_character_is_shown_not_sent() -> None:
    for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)):
        assert printable(f"a{chr(c)}b") == f"a\\x{c:02x}b"
        shown = printable(f"a{chr(c)}b", lines=True)
        assert shown == (f"a{chr(c)}b" if c in (0x09, 0x0A) else f"a\\x{c:02x}b")
