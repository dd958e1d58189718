"""The rules' programs for the compiled core (:mod:`iucut.cut.rxcode`), kept in a file
between processes: a process compiles only the patterns that no process compiled before
with the same compiler, instead of every rule of the profile it cuts with (~60 ms at its
first cut; issue #16 part 3: a re-sync with one change cuts one document). The regexes
of the references' grammars are kept there too, as ``re``'s own code (:func:`regex`:
~15 ms of English's, ~9 ms of it one pattern, where a chain of references can start).

The file (:data:`PROGRAMS_FILE`, in the iucut home: the command line keeps it, see
:func:`keep_programs`; a library caller that keeps none compiles in each process) is a
JSON line naming the compiler (:func:`compiler_fingerprint`) and the sha256 of the
programs, then the programs by pattern and flags. It is taken only whole, from the same
compiler (the core trusts a program's jumps: a damaged file is not read, its programs are
made again), and written again whole, by whoever writes last, when a process made new
ones. Deleting it costs the next cut its compiling.

As Python trusts the bytecode in ``__pycache__``, the core trusts these programs as
code: the file is taken only when it is a regular file (not a link) of the user's own
(or root's) that no one else can write (a file another account could have written or
put in its place is not read, as ssh reads no key file others can write); it is written
so (mode 0600). The sha256 is against damage, not a signature.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import json
import os
import re
import stat
import sys
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from iucut.cut.rxcode import Program

#: The file of the iucut home that keeps the programs made (see :func:`keep_programs`).
PROGRAMS_FILE = "rule-programs.json"


class _Kept:
    """The programs of a file, read at the first one asked for; ``added``: made since."""

    def __init__(self, path: Path):
        self.path = path
        self.compiler: str | None = None
        self.programs: dict[str, tuple[Any, ...]] | None = None
        self.added = False

    def load(self) -> dict[str, tuple[Any, ...]]:
        """The programs of the file (none when it is missing, damaged or another
        compiler's)."""
        self.programs = {}
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            self.compiler = compiler_fingerprint()
            if not _private(self.path):
                return self.programs
            head, _, body = self.path.read_bytes().partition(b"\n")
            meta = json.loads(head)
            if meta["compiler"] == self.compiler and meta["sha256"] == (
                hashlib.sha256(body).hexdigest()
            ):
                self.programs = {k: tuple(v) for k, v in json.loads(body).items()}
        return self.programs

    def save(self) -> None:
        self.added = False
        if self.programs is None or self.compiler is None:
            return
        # (a copy: another thread may be adding one meanwhile; dict() copies at once)
        kept = dict(self.programs)
        body = json.dumps(kept, sort_keys=True, ensure_ascii=False).encode()
        head = json.dumps({"compiler": self.compiler, "sha256": hashlib.sha256(body).hexdigest()})
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(head.encode() + b"\n" + body)
                os.replace(tmp, self.path)  # (whole, whoever writes last)
            finally:
                tmp.unlink(missing_ok=True)


def _private(path: Path) -> bool:
    """Whether ``path`` is a regular file of this user's (or root's) that no one else can
    write."""
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        return False
    if not hasattr(os, "getuid"):
        return True  # (no owners to compare: Windows keeps its own ACLs)
    return st.st_uid in (os.getuid(), 0) and not st.st_mode & 0o022


_kept: _Kept | None = None


def keep_programs(path: Path | None) -> None:
    """Keep the programs made in the file ``path`` (the iucut home's
    :data:`PROGRAMS_FILE`; None: none kept), read when the first is asked for."""
    global _kept
    if path is None:
        _kept = None
    elif _kept is None or _kept.path != path:
        _kept = _Kept(path)


def program(pattern: re.Pattern[str]) -> Program:
    """``pattern``'s program: the one kept for the same pattern and flags, or made by
    :func:`iucut.cut.rxcode.compile_pattern`."""
    from iucut.cut.rxcode import Program, compile_pattern

    kept = _kept
    if kept is None:
        return compile_pattern(pattern)
    programs = kept.programs if kept.programs is not None else kept.load()
    # (a built-in rule's pattern is compiled by re when first matched: its flags as
    # given, which make the same program, see iucut.cut.profiles._Pattern)
    flags = getattr(pattern, "given_flags", None)
    key = f"{pattern.flags if flags is None else flags}:{pattern.pattern}"
    found = programs.get(key)
    if found is None:
        made = compile_pattern(pattern)
        programs[key] = (made.code.hex(), made.groups)
        kept.added = True
        return made
    return Program(bytes.fromhex(found[0]), dict(found[1]))


def regex(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, from the code kept for it when there is one (re's
    parse and compile skipped: the code, checked by ``_sre`` as it takes it, makes the
    same pattern, equal to re's), else compiled and its code kept."""
    kept = _kept
    if kept is None:
        return re.compile(pattern, flags)
    programs = kept.programs if kept.programs is not None else kept.load()
    key = f"re:{flags}:{pattern}"
    found = programs.get(key)
    if found is not None:
        with contextlib.suppress(Exception):  # (another form: compiled again below)
            code, groupindex, (final, groups) = found
            return _from_code(pattern, bytes.fromhex(code), final, groups, groupindex)
    made = _re_code(pattern, flags)
    if made is None:
        return re.compile(pattern, flags)
    compiled, code = made
    programs[key] = (code.hex(), dict(compiled.groupindex), [compiled.flags, compiled.groups])
    kept.added = True
    return compiled


def _re_code(pattern: str, flags: int) -> tuple[re.Pattern[str], bytes] | None:
    """``pattern`` compiled as ``re.compile`` does, with its code as native uint32s (None
    where this Python's ``re`` is not as it was when this was written)."""
    if array.array("I").itemsize != 4:  # (re's code words are 32 bits)
        return None
    try:
        from re import _compiler, _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern, flags)
        code = array.array("I", [int(x) for x in _compiler._code(parsed, flags)]).tobytes()
        groups = parsed.state.groups - 1
        compiled = _from_code(
            pattern, code, flags | parsed.state.flags, groups, parsed.state.groupdict
        )
    except Exception:
        return None
    return (compiled, code) if compiled == re.compile(pattern, flags) else None


def _from_code(
    pattern: str, code: bytes, flags: int, groups: int, groupindex: dict[str, int]
) -> re.Pattern[str]:
    import _sre  # type: ignore[import-not-found]

    words = array.array("I")
    words.frombytes(code)
    indexgroup: list[str | None] = [None] * (groups + 1)
    for name, i in groupindex.items():
        indexgroup[i] = name
    made: re.Pattern[str] = _sre.compile(
        pattern, flags, words.tolist(), groups, dict(groupindex), tuple(indexgroup)
    )
    return made


def save_programs() -> None:
    """Write the kept programs again if new ones were made since they were read."""
    kept = _kept
    if kept is not None and kept.added:
        kept.save()


@cache
def compiler_fingerprint() -> str:
    """What a program depends on besides its pattern and flags: the source of
    :mod:`iucut.cut.rxcode` (the program form it writes, in step with the instructions of
    ``rx.c``), the Python version (``re``'s parser), its Unicode database (the classes
    and case folds) and the byte order (the code is native int32s)."""
    import unicodedata

    h = hashlib.sha256(Path(__file__).with_name("rxcode.py").read_bytes())
    h.update(f"{sys.version}\0{unicodedata.unidata_version}\0{sys.byteorder}".encode())
    return h.hexdigest()
