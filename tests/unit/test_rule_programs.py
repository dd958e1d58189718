"""The rules' programs kept between processes (iucut.cut.programs): a kept program is the
one the compiler makes, a process that finds them kept compiles none, and a file that is
damaged or was written by another compiler is not taken."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iucut.cut import compiled, cutter, programs, rxcode
from iucut.cut.profiles import PROFILES

PATTERNS = [
    rule_pattern
    for profile in PROFILES.values()
    for rule in profile.rules
    for rule_pattern in (rule.head, rule.line)
    if rule_pattern is not None
]


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The patterns compiled (not taken from a kept file), in order."""
    made: list[str] = []
    real = rxcode.compile_pattern

    def counting(pattern: re.Pattern[str]) -> Any:
        made.append(pattern.pattern)
        return real(pattern)

    monkeypatch.setattr(rxcode, "compile_pattern", counting)
    yield made
    programs.keep_programs(None)


def _program_of(pattern: re.Pattern[str]) -> tuple[bytes, dict[str, int]]:
    found = programs.program(pattern)
    return found.code, found.groups


def test_kept_programs_are_the_compiled_ones_and_a_new_process_compiles_none(
    tmp_path: Path, compiles: list[str]
) -> None:
    """Every built-in rule's program read back from the file is the one compile_pattern
    makes; a keeper that reads the file (another process) compiles nothing."""
    path = tmp_path / programs.PROGRAMS_FILE
    programs.keep_programs(path)
    first = [_program_of(p) for p in PATTERNS]
    programs.save_programs()
    assert len(compiles) == len({(p.flags, p.pattern) for p in PATTERNS})
    programs.keep_programs(None)
    programs.keep_programs(path)  # (read again, as a new process reads it)
    compiles.clear()
    again = [_program_of(p) for p in PATTERNS]
    assert compiles == []
    assert again == first
    made = [rxcode.compile_pattern(p) for p in PATTERNS]
    assert again == [(m.code, m.groups) for m in made]


def test_the_same_pattern_with_other_flags_is_another_program(
    tmp_path: Path, compiles: list[str]
) -> None:
    """A program is kept under its pattern and its flags: ``(?i)`` makes another."""
    path = tmp_path / programs.PROGRAMS_FILE
    programs.keep_programs(path)
    plain, folded = re.compile("Article"), re.compile("Article", re.IGNORECASE)
    _program_of(plain)
    programs.save_programs()
    programs.keep_programs(None)
    programs.keep_programs(path)
    assert _program_of(folded) == (
        rxcode.compile_pattern(folded).code,
        rxcode.compile_pattern(folded).groups,
    )
    assert _program_of(folded)[0] != _program_of(plain)[0]


def _kept_file(tmp_path: Path) -> Path:
    path = tmp_path / programs.PROGRAMS_FILE
    programs.keep_programs(path)
    _program_of(PATTERNS[0])
    programs.save_programs()
    programs.keep_programs(None)
    return path


def test_a_damaged_file_is_not_taken(tmp_path: Path, compiles: list[str]) -> None:
    """A program whose bytes changed in the file (the core trusts a program's jumps) is
    not taken: the whole file is set aside, the program made again and the file
    written whole."""
    path = _kept_file(tmp_path)
    head, body = path.read_bytes().split(b"\n", 1)
    data = json.loads(body)
    key = next(iter(data))
    code = bytearray.fromhex(data[key][0])
    code[8] ^= 0x01
    data[key][0] = code.hex()
    path.write_bytes(head + b"\n" + json.dumps(data, sort_keys=True).encode())
    programs.keep_programs(path)
    compiles.clear()
    assert _program_of(PATTERNS[0])[0] == rxcode.compile_pattern(PATTERNS[0]).code
    assert compiles[:1] == [PATTERNS[0].pattern]
    programs.save_programs()
    programs.keep_programs(None)
    programs.keep_programs(path)
    compiles.clear()
    _program_of(PATTERNS[0])
    assert compiles == []  # (written whole again)


def test_another_compilers_file_is_not_taken(tmp_path: Path, compiles: list[str]) -> None:
    """Programs written by another compiler (another rxcode, Python or Unicode version)
    are not taken, even whole."""
    path = _kept_file(tmp_path)
    head, body = path.read_bytes().split(b"\n", 1)
    meta = json.loads(head)
    meta["compiler"] = "0" * 64
    path.write_bytes(json.dumps(meta).encode() + b"\n" + body)
    programs.keep_programs(path)
    compiles.clear()
    _program_of(PATTERNS[0])
    assert compiles == [PATTERNS[0].pattern]


def test_a_cut_with_kept_programs_is_the_same_cut(tmp_path: Path, compiles: list[str]) -> None:
    """A document cut by the compiled core with programs read from the file gives the
    same units as with programs it compiled."""
    if not cutter.COMPILED:
        pytest.skip("the compiled core is not built")
    text = "# Law\n\n## Article 1. Scope\n\n1. One.\n\n2. Two:\n\na) point.\n\n## Article 2\n\nX.\n"
    cutter._program.cache_clear()
    fresh = cutter.cut_text(text, "law.md")
    path = tmp_path / programs.PROGRAMS_FILE
    programs.keep_programs(path)
    cutter._program.cache_clear()
    cutter.cut_text(text, "law.md")  # (made and written)
    programs.keep_programs(None)
    programs.keep_programs(path)
    cutter._program.cache_clear()
    compiles.clear()
    kept = cutter.cut_text(text, "law.md")
    cutter._program.cache_clear()
    assert compiles == []
    assert kept == fresh


def test_the_fingerprint_knows_the_cutter_without_importing_it() -> None:
    """``iucut.cut.compiled()`` (what the cut cache's rules fingerprint records) says what
    the cutter says of itself."""
    assert compiled() == cutter.COMPILED


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="no owners to compare")
def test_a_file_others_can_write_or_a_link_is_not_taken(
    tmp_path: Path, compiles: list[str]
) -> None:
    """The core runs a kept program as code: the file is taken only when no one else
    could have written it (written 0600; group- or world-writable, or a link to a file:
    its programs are made again)."""
    path = tmp_path / programs.PROGRAMS_FILE
    programs.keep_programs(path)
    first = _program_of(PATTERNS[0])
    programs.save_programs()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for mode in (0o620, 0o602):
        path.chmod(mode)
        programs.keep_programs(None)
        programs.keep_programs(path)
        compiles.clear()
        assert _program_of(PATTERNS[0]) == first and compiles == [PATTERNS[0].pattern]
    path.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(path)
    programs.keep_programs(None)
    programs.keep_programs(link)
    compiles.clear()
    assert _program_of(PATTERNS[0]) == first and compiles == [PATTERNS[0].pattern]
    programs.keep_programs(None)
    programs.keep_programs(path)  # (the file itself, private: taken)
    compiles.clear()
    assert _program_of(PATTERNS[0]) == first and compiles == []


def _grammar_patterns() -> list[tuple[str, int]]:
    """Every regex of every references grammar, each level's too, as (pattern, flags)."""
    from iucut import refs

    found: list[tuple[str, int]] = []
    for profile in refs.GRAMMARS:
        refs._COMPILED.pop(profile, None)
        g = refs.grammar(profile)
        levels = [*(g.labels[i] for i in range(len(g.labels)))]
        levels += [g.list_sep[i] for i in range(len(g.list_sep))]
        for rx in [*vars(g).values(), *levels]:
            if isinstance(rx, re.Pattern):
                found.append((rx.pattern, rx.flags & ~re.UNICODE))
        refs._COMPILED.pop(profile, None)
    return found


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The regexes parsed by re's parser (compiled, not taken from a kept file)."""
    from re import _parser  # type: ignore[attr-defined]

    made: list[str] = []
    real = _parser.parse

    def counting(pattern: str, flags: int = 0, *args: Any) -> Any:
        made.append(pattern)
        return real(pattern, flags, *args)

    monkeypatch.setattr(_parser, "parse", counting)
    yield made
    programs.keep_programs(None)


def test_kept_regexes_are_the_ones_re_compiles_and_a_new_process_parses_none(
    tmp_path: Path, parses: list[str]
) -> None:
    """Every regex of the references' grammars, kept and read back from the file, is
    equal to what ``re.compile`` makes of it (a pattern's equality compares its code);
    a keeper that reads the file again (another process) parses none of them."""
    patterns = _grammar_patterns()
    assert len(patterns) > 40
    path = tmp_path / programs.PROGRAMS_FILE
    programs.keep_programs(path)
    made = [programs.regex(p, f) for p, f in patterns]
    programs.save_programs()
    programs.keep_programs(None)
    programs.keep_programs(path)
    re.purge()
    parses.clear()
    again = [programs.regex(p, f) for p, f in patterns]
    assert parses == []
    for (p, f), first, second in zip(patterns, made, again, strict=True):
        expected = re.compile(p, f)
        assert first == expected and second == expected, p
        assert second.groupindex == expected.groupindex and second.groups == expected.groups


def test_a_kept_regex_that_does_not_take_is_compiled_again(
    tmp_path: Path, parses: list[str]
) -> None:
    """A kept entry whose code ``_sre`` refuses (another form, with the file's checksum
    made to agree) is compiled again: the regex is re's, never an error."""
    path = tmp_path / programs.PROGRAMS_FILE
    programs.keep_programs(path)
    pattern = r"(?P<a>\d+)\s*(?:and|or)\s*(?P<b>\d+)"
    programs.regex(pattern)
    programs.save_programs()
    head, _, body = path.read_bytes().partition(b"\n")
    kept = json.loads(body)
    key = f"re:0:{pattern}"
    kept[key][0] = "ffffffff" * 4
    body = json.dumps(kept, sort_keys=True, ensure_ascii=False).encode()
    meta = json.loads(head)
    meta["sha256"] = hashlib.sha256(body).hexdigest()
    path.write_bytes(json.dumps(meta).encode() + b"\n" + body)
    programs.keep_programs(None)
    programs.keep_programs(path)
    parses.clear()
    assert programs.regex(pattern) == re.compile(pattern)
    assert parses and set(parses) == {pattern}  # (compiled: re's parser ran)


def test_references_found_with_kept_regexes_are_the_same(tmp_path: Path) -> None:
    """A document's references found with the grammar's regexes read from the file are
    those found with regexes re compiled (a law of each language of the corpora)."""
    from iucut import refs
    from iucut.cut.cutter import cut_text

    corpora = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
    docs = []
    for folder in ("vn-laws", "de-laws", "en-terms-history"):
        first = sorted((corpora / folder).rglob("*.md"))[:1]
        docs += [cut_text(f.read_text(encoding="utf-8"), f.name) for f in first]
    assert len(docs) == 3

    def found() -> list[Any]:
        refs._COMPILED.clear()
        return [refs.document_references(doc) for doc in docs]

    fresh = found()
    assert any(fresh)
    path = tmp_path / programs.PROGRAMS_FILE
    programs.keep_programs(path)
    try:
        found()  # (made and written)
        assert path.is_file()
        programs.keep_programs(None)
        programs.keep_programs(path)
        assert found() == fresh
    finally:
        programs.keep_programs(None)
        refs._COMPILED.clear()
