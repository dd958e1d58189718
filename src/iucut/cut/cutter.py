"""Cut one document's text into units: structure from marks, codes, titles, spans, hashes.

Two implementations give the same units: this module with :mod:`iucut.cut.blocks` (the
reference, pure Python) and the compiled core ``iucut.cut._core`` (``ccore/``, used when
it was built; ``IUCUT_PURE_PYTHON=1`` selects the reference). ``tests/unit/
test_cut_core.py`` holds them to the same output.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from fnmatch import fnmatchcase
from functools import lru_cache
from operator import attrgetter
from typing import Any

from iucut.cut import codes, programs
from iucut.cut.blocks import LINE, Mark, candidate_pattern, scan
from iucut.cut.frontmatter import split_front_matter
from iucut.cut.profiles import (
    PROFILES,
    Profile,
    Rule,
    configured,
    hits,
    label_from,
    most_hits,
    starts,
)
from iucut.errors import ConfigError, InputError
from iucut.units import HASH_FORM, CutDocument, Unit

try:  # the compiled core (src/iucut/cut/ccore), built by pip when a C compiler is there
    from iucut.cut import _core
except ImportError:  # pragma: no cover - depends on the installation
    _core = None  # type: ignore[assignment]

#: Whether cuts go through the compiled core (set IUCUT_PURE_PYTHON=1 to use the
#: pure-Python cutter, the reference implementation, instead).
COMPILED = _core is not None and os.environ.get("IUCUT_PURE_PYTHON", "") in ("", "0")


def implementation() -> str:
    """Which cutter cuts here, in words (``iucut doctor`` shows it)."""
    if COMPILED:
        return f"compiled core (SHA-256 by {_core.SHA256})"
    if _core is None:
        return "pure Python (the compiled core is not built: no C compiler at install time?)"
    return "pure Python (IUCUT_PURE_PYTHON is set)"


_LONE_CR = re.compile(r"\r(?!\n)")
_WS = re.compile(r"\s+")
#: Control bytes that text files do not have (binary detection); NUL is checked apart.
_CONTROL = bytes([*range(0x01, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
#: UTF-32 first: its little-endian mark starts like UTF-16's.
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
_CONTROL_BYTE = re.compile(b"[" + re.escape(_CONTROL) + b"]")
#: Control characters a text may hold by mistake (tab and line ends are text).
_CONTROL_CHAR = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: The same as bytes: the text has them when its UTF-8 bytes have them (they are ASCII),
#: and bytes.translate finds that out five times faster than the search.
_CONTROL_CHAR_BYTES = bytes([*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
MAX_TITLE = 200
PLAIN = 7  # heading level given to plain and bold lines: deeper than any heading


class _Node:
    __slots__ = ("children", "code", "depth", "kind", "level", "levels", "rank")

    def __init__(
        self, kind: str, code: str, rank: int | None, level: int, depth: int, levels: bool = False
    ):
        self.kind, self.code, self.rank, self.level, self.depth = kind, code, rank, level, depth
        self.levels = levels  # its rule's ``levels`` (see Rule)
        self.children = 0


def decode(data: bytes | str, path: str) -> tuple[bytes, str]:
    """The source bytes and text; InputError for binary data or invalid UTF-8."""
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            offset = len(data[: exc.start].encode("utf-8", "surrogatepass"))
            raise InputError(
                "not valid Unicode text (a lone surrogate)",
                path=path,
                line=data.count("\n", 0, exc.start) + 1,
                offset=offset,
            ) from exc
    else:
        raw = bytes(data)
    for bom, name in _WIDE_BOMS:
        if raw.startswith(bom):
            raise InputError(
                f"{name} text (byte order mark {bom.hex(' ').upper()}), not UTF-8",
                path=path,
                line=1,
                offset=0,
                hint="save the file as UTF-8",
            )
    nul = raw.find(b"\0")
    if nul >= 0:
        raise InputError(
            "binary file (NUL byte)", path=path, line=raw.count(b"\n", 0, nul) + 1, offset=nul
        )
    head = raw[:8192]
    if len(head) >= 64 and (len(head) - len(head.translate(None, _CONTROL))) * 10 > len(head):
        first = _CONTROL_BYTE.search(head)
        at = first.start() if first else 0
        raise InputError(
            f"binary file (control bytes, the first {head[at : at + 1].hex().upper()})",
            path=path,
            line=raw.count(b"\n", 0, at) + 1,
            offset=at,
        )
    if isinstance(data, str):
        return raw, data
    try:
        return raw, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"invalid UTF-8 ({exc.reason})",
            path=path,
            line=raw.count(b"\n", 0, exc.start) + 1,
            offset=exc.start,
        ) from exc


@lru_cache(maxsize=16)
def _patterns(alts: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    hint = re.compile(r"(?:\*\*|__|" + alts + ")" if alts else r"\*\*|__")
    return candidate_pattern(alts), hint


def _by_glob(table: Any, doc_path: str, key: str) -> str | None:
    """The value of the first glob of configuration ``key`` that matches ``doc_path``."""
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ConfigError(f"configuration {key!r} must map path globs to names")
    for pattern, value in table.items():
        if fnmatchcase(doc_path, str(pattern)):
            return str(value)
    return None


def cut_text(
    data: bytes | str,
    path: str,
    *,
    namespace: str | None = None,
    profile: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> CutDocument:
    """Cut a document (its bytes, or text) into units; ``path`` names it in rows and errors.

    Namespace: ``namespace`` > front matter ``iu_namespace`` > configuration
    ``namespaces`` (glob → namespace) > derived from ``path``. Profile: ``profile`` >
    front matter ``iu_profile`` > configuration ``profiles`` (glob → name) > detected.
    """
    raw, text = decode(data, path)
    # The cyclic GC is paused while a document is cut: the cut makes no reference cycles,
    # but its many live rows would make each collection walk them all (with the Python
    # cutter: 11.4x time for 9.5x input on one 50 MB file; 9.2x without).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _cut(raw, text, path, namespace, profile, config)
    finally:
        if enabled:
            gc.enable()
        programs.save_programs()  # (when this cut made programs no process had kept)


def _cut(
    raw: bytes,
    text: str,
    path: str,
    namespace: str | None,
    profile: str | None,
    config: Mapping[str, Any] | None,
) -> CutDocument:
    fm_end, front, fm_warning = split_front_matter(text)
    s = _LONE_CR.sub("\n", text) if "\r" in text else text
    profiles = configured(config)
    alts = _BUILTIN_STARTS if profiles is PROFILES else starts(profiles)
    start = fm_end or (1 if s.startswith("\ufeff") else 0)
    cand, hint = _patterns(alts)
    if COMPILED:
        scanned = _core.Scan(s, start, _program(hint))
    else:
        marks = scan(s, start, cand, hint)
    cfg = config or {}
    ns = _namespace(namespace, front, cfg, path)
    pinned = _by_glob(cfg.get("profiles"), path, "profiles")
    name = profile or _str(front.get("iu_profile")) or pinned
    source = (
        "given" if profile else "front matter" if _str(front.get("iu_profile")) else "configuration"
    )
    counts = None  # signature hits, counted once (detection, the unlabelled warning)
    if not name:
        counts = _hits(scanned if COMPILED else marks, profiles)
        name, source = most_hits(counts), "detected"
    prof = profiles.get(name)
    if prof is None:
        known = ", ".join(sorted(profiles))
        if name == pinned and not profile and not _str(front.get("iu_profile")):
            # the configuration is wrong, not the document: stop (exit 13), not reject
            raise ConfigError(
                f"configuration 'profiles' gives {path} the unknown profile {name!r} "
                f"(known: {known})"
            )
        raise InputError(f"unknown profile {name!r} (known: {known})", path=path)
    warnings = [fm_warning] if fm_warning else []
    # the core saw the control characters of the lines it scanned: those before start too?
    control = (scanned.control or bool(_CONTROL_CHAR.search(text, 0, start))) if COMPILED else None
    warnings += _input_warnings(text, raw, fm_end, front, control)
    if COMPILED:
        coder = codes.Coder()
        coder.used.add(ns)

        def doc_title(first_heading: str | None) -> str:
            return _doc_title(front, first_heading, path, ns)

        units = scanned.build(
            text,
            raw,
            path,
            ns,
            prof.matcher(True),
            prof.matcher(False),
            _rule_specs(prof),
            coder,
            (codes.split_id, codes.label_segment, codes.heading_slug, doc_title, label_from),
            Unit,
            _HASH_HEAD,
        )
    else:
        builder = _Builder(s, text, raw, path, ns, prof, front, marks)
        units = builder.units()
        coder = builder.coder
    numbered: dict[str, str] = {}
    if coder.base:  # some codes collided: make them free of position
        units, renumbered, numbered = codes.requalify(units, coder.base, _recoded)
        warnings.extend(renumbered)
    unlabelled = _unlabelled_warning(
        scanned if COMPILED else marks, s, profiles, name, units, counts
    )
    if unlabelled is not None:
        warnings.append(unlabelled)
    return CutDocument(
        path=path,
        namespace=ns,
        doc_hash=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        units=tuple(units),
        front_matter=front,
        warnings=tuple(warnings),
        profile=name,
        profile_source=source,
        config=config,
        numbered=tuple(numbered.items()),
    )


def _input_warnings(
    text: str, raw: bytes, fm_end: int, front: Mapping[str, Any], control: bool | None = None
) -> list[str]:
    """What is odd about a document that is still cut (``raw``: its UTF-8 bytes): control
    characters (``control``: whether it has any, when known), front matter keys of the
    wrong type, front matter and nothing else (``--strict`` rejects them)."""
    found: list[str] = []
    if control is None:
        control = len(raw.translate(None, _CONTROL_CHAR_BYTES)) < len(raw)
    m = _CONTROL_CHAR.search(text) if control else None
    if m is not None:
        more = len(_CONTROL_CHAR.findall(text)) - 1
        found.append(
            f"line {text.count(chr(10), 0, m.start()) + 1} (byte "
            f"{len(text[: m.start()].encode('utf-8', 'surrogatepass'))}): control character "
            f"U+{ord(m.group()):04X}" + (f" and {more} more" if more else "") + "; kept as is"
        )
    for key in ("iu_namespace", "iu_profile", "title"):
        value = front.get(key)
        if value is not None and not isinstance(value, str | int):
            found.append(f"front matter {key} is a {type(value).__name__}, not a text; ignored")
    if fm_end and not text[fm_end:].strip():
        found.append(
            f"line {text.count(chr(10), 0, fm_end) + 1} (byte "
            f"{len(text[:fm_end].encode('utf-8', 'surrogatepass'))}): no content after the "
            "front matter"
        )
    return found


def recut(doc: CutDocument, profile: str) -> CutDocument:
    """``doc`` cut again from its own text with ``profile`` (the profile stored with the
    document in the database wins over a detected one): same path, namespace, config."""
    again = cut_text(
        doc.reassemble(), doc.path, namespace=doc.namespace, profile=profile, config=doc.config
    )
    return dataclasses.replace(again, profile_source="stored")


def _namespace(
    given: str | None, front: Mapping[str, Any], cfg: Mapping[str, Any], path: str
) -> str:
    """The document's namespace (see :func:`cut_text`); a given one that cannot be a
    namespace is refused, as the fault of whoever gave it."""
    sources: tuple[tuple[str, Callable[[], str | None]], ...] = (
        ("--namespace", lambda: given),
        ("front matter iu_namespace", lambda: _str(front.get("iu_namespace"))),
        ("configuration 'namespaces'", lambda: _by_glob(cfg.get("namespaces"), path, "namespaces")),
    )
    for source, get in sources:
        ns = get()
        if ns:
            problem = codes.namespace_problem(ns)
            if problem is None:
                return ns
            message = f"{source}: namespace {ns!r} {problem}"
            if source.startswith("configuration"):
                raise ConfigError(f"{message} (for {path})")
            raise InputError(message, path=path)
    return codes.namespace_for(path)


def _hits(marks: Any, profiles: Mapping[str, Profile]) -> dict[str, int]:
    """Signature hits per profile over all the marks of a document."""
    if not COMPILED:
        return hits([m.text for m in marks], profiles)
    detected = [name for name, p in profiles.items() if p.detected]
    signatures = tuple(_program(profiles[name].signature) for name in detected)
    return dict(zip(detected, marks.signature_hits(signatures, -1), strict=True))


def _unlabelled_warning(
    marks: Any,
    s: str,
    profiles: Mapping[str, Profile],
    name: str,
    units: Sequence[Unit],
    counts: Mapping[str, int] | None = None,
) -> str | None:
    """A warning when the document has legal-looking lines (a profile's signature matches
    them) but profile ``name`` made no legal unit at all: names the first such line."""
    if any(u.kind not in ("document", "heading") for u in units):
        return None
    if counts is None:
        counts = _hits(marks, profiles)
    found = [(n, p) for n, p in profiles.items() if counts.get(n)]
    if not found:
        return None
    pairs = (
        marks.marks() if COMPILED else [(m.kind, m.start, m.end, m.level, m.text) for m in marks]
    )
    for _kind, start, _end, _level, text in pairs:
        for other, prof in found:
            if prof.signature.match(text):
                line = s.count("\n", 0, start) + 1
                shown = _clean(text)[:60]
                hint = f"; try --profile {other}" if other != name else ""
                return (
                    f"line {line}: {shown!r} looks like a legal label ({other}) but profile "
                    f"{name} made no legal unit of the document{hint}"
                )
    return None


#: The hint alternatives of the built-in profiles.
_BUILTIN_STARTS = starts(PROFILES)


@lru_cache(maxsize=256)
def _program(pattern: re.Pattern[str]) -> Any:
    """``pattern`` compiled for the core's matcher (see :mod:`iucut.cut.rxcode`)."""
    program = programs.program(pattern)
    group = program.group
    return _core.Program(
        program.code, pattern, (group("label"), group("num"), group("word"), group("label2"))
    )


def _rule_specs(prof: Profile) -> tuple[tuple[Any, ...], ...]:
    """What the compiled builder needs of each rule (cached on the profile): the rule,
    its kind, rank, code prefix, scope, parent kinds, its patterns as programs, whether
    it is strict, whether its headings nest by level and its first label."""
    specs = prof.extra.get("specs")
    if specs is None:
        specs = prof.extra["specs"] = tuple(
            (
                *(r, r.kind, r.rank, r.prefix, r.scope == "global", tuple(r.within)),
                *(_program(r.head), _program(r.line) if r.line is not None else None, r.strict),
                r.levels,
                r.first,
                tuple(r.first_in),
            )
            for r in prof.rules
        )
    return specs


def _doc_title(front: Mapping[str, Any], first_heading: str | None, path: str, ns: str) -> str:
    """The document unit's title: front matter ``title``, else the first heading, else
    the file name, else the namespace."""
    title = (
        _str(front.get("title"))
        or first_heading
        or codes.fold(path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        or ns
    )
    return _clean(title)[:MAX_TITLE]


def _str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value).strip() else None


def _clean(text: str) -> str:
    """Heading or line text without emphasis markers around it, whitespace collapsed."""
    if "*" in text or "_" in text:
        text = text.strip(" \t*_")
        if "**" in text[:80] or "__" in text[:80]:
            text = text[:80].replace("**", "").replace("__", "") + text[80:]
    if "  " in text or "\t" in text or "\n" in text or "\r" in text or "\xa0" in text:
        text = _WS.sub(" ", text)
    return text.strip()


class _Builder:
    """Turns marks into the unit tree and rows (one instance per document)."""

    def __init__(
        self,
        s: str,
        text: str,
        raw: bytes,
        path: str,
        ns: str,
        prof: Profile,
        front: Mapping[str, Any],
        marks: Sequence[Mark],
    ):
        self.s, self.text, self.raw, self.path, self.ns = s, text, raw, path, ns
        self.prof, self.front, self.marks = prof, front, marks
        self.coder = codes.Coder()
        self.coder.used.add(ns)
        self.heads, self.lines = prof.matcher(True), prof.matcher(False)

    def _match(self, mark: Mark) -> tuple[Rule | None, str | None, str, str | None]:
        """(rule, label, match text, explicit id) of a mark; rule None: not labelled."""
        text, cid = mark.text, None
        if mark.kind != LINE:
            text, cid = codes.split_id(text)
            heading = True
        else:
            heading = text.startswith(("**", "__"))
        if text.startswith(("*", "_")) or "**" in text[:80] or "__" in text[:80]:
            text = _clean(text)
        found = (self.heads if heading else self.lines).match(text)
        if found is None:
            return None, None, text, cid
        return found[0], found[1], text, cid

    def units(self) -> list[Unit]:
        ns, coder = self.ns, self.coder
        root = _Node("document", ns, None, 0, 0)
        stack = [root]
        # (start, end, node, label, title, parent code, ordinal)
        rows: list[tuple[int, int, _Node, str | None, str, str | None, int]] = []
        first_heading: str | None = None
        s = self.s
        line_no, line_pos = 1, 0
        plain = self.lines.regex  # None: no rule for plain lines
        for mark in self.marks:
            if mark.kind == LINE:
                text = mark.text
                # Most candidate lines are no label: reject them without _match.
                if (
                    (plain is None or plain.match(text) is None)
                    and text[0] not in "*_"
                    and "**" not in text[:80]
                    and "__" not in text[:80]
                ):
                    continue
            rule, label, title, cid = self._match(mark)
            level = mark.level if mark.kind != LINE else PLAIN
            if rule is None and mark.kind == LINE:
                continue
            rank = rule.rank if rule is not None else None
            k = _holder(stack, rank, level, rule is not None and rule.levels, rule, label)
            parent = stack[k - 1]
            if rule is not None and rule.within and parent.kind not in rule.within:
                if mark.kind == LINE:
                    continue
                rule, label, rank = None, None, None
                k = _holder(stack, rank, level, False)
                parent = stack[k - 1]
            del stack[k:]
            line_no += s.count("\n", line_pos, mark.start)
            line_pos = mark.start
            if cid is not None:
                code = f"{ns}/{cid}"
            elif rule is not None and label is not None:
                seg = codes.label_segment(rule.prefix, label)
                code = f"{ns}/{seg}" if rule.scope == "global" else f"{parent.code}/{seg}"
            else:
                code = f"{parent.code}/{codes.heading_slug(title)}"
            code = coder.claim(code, line_no)
            kind = rule.kind if rule is not None else "heading"
            node = _Node(
                kind, code, rank, level, parent.depth + 1, rule is not None and rule.levels
            )
            parent.children += 1
            stack.append(node)
            title = _clean(title)
            if first_heading is None and mark.kind != LINE:
                first_heading = title
            rows.append(
                (mark.start, mark.end, node, label, title[:MAX_TITLE], parent.code, parent.children)
            )
        return self._rows(rows, first_heading)

    def _rows(
        self,
        rows: list[tuple[int, int, _Node, str | None, str, str | None, int]],
        first_heading: str | None,
    ) -> list[Unit]:
        s, text, ns, path = self.s, self.text, self.ns, self.path
        ascii_only = len(self.raw) == len(text)
        n = len(text)
        doc_title = _doc_title(self.front, first_heading, path, ns)
        starts = [0] + [r[0] for r in rows] + [n]
        out: list[Unit] = []
        append = out.append
        count = s.count
        sha256 = hashlib.sha256
        byte_pos = 0
        line = 1
        for i in range(len(rows) + 1):
            a, b = starts[i], starts[i + 1]
            if i == 0:
                head, body = "", text[a:b]
                code, parent_code, kind, label, ordinal, depth, title = (
                    ns,
                    None,
                    "document",
                    None,
                    1,
                    0,
                    doc_title,
                )
            else:
                _start, end, node, label, title, parent_code, ordinal = rows[i - 1]
                head, body = text[a:end], text[end:b]
                code, kind, depth = node.code, node.kind, node.depth
            breaks = count("\n", a, b)
            if ascii_only:
                size = b - a
                digest = sha256(_HASH_HEAD + head.encode() + b"\0" + body.encode()).hexdigest()
            else:
                head_bytes, body_bytes = head.encode(), body.encode()
                size = len(head_bytes) + len(body_bytes)
                digest = sha256(_HASH_HEAD + head_bytes + b"\0" + body_bytes).hexdigest()
            # the last line of a non-empty unit; line - 1 for an empty one
            last = line + breaks - (s[b - 1] == "\n") if b > a else line - 1
            append(
                _unit(
                    ns,
                    code,
                    parent_code,
                    kind,
                    label,
                    ordinal,
                    depth,
                    i,
                    title,
                    head,
                    body,
                    digest,
                    path,
                    line,
                    last,
                    byte_pos,
                    byte_pos + size,
                )
            )
            byte_pos += size
            line += breaks
        return out


#: ``content_hash(head, body)`` is sha256 over this, the heading, NUL and the body, in
#: UTF-8 (the text came from valid UTF-8, so it has no lone surrogates to pass).
_HASH_HEAD = HASH_FORM.encode() + b"\0"


def _unit_factory() -> Callable[..., Unit]:
    """``Unit(...)`` with the same positional fields, about twice as fast: the frozen
    dataclass's ``__init__`` sets each slot through ``object.__setattr__``; this sets
    them through their slot descriptors. Falls back to ``Unit`` if its fields change."""
    names = tuple(f.name for f in fields(Unit))
    if (
        names != _UNIT_FIELDS
        or getattr(Unit, "__slots__", None) != _UNIT_FIELDS
        or hasattr(Unit, "__post_init__")  # it would be skipped: build through __init__
    ):
        return Unit
    new = object.__new__
    (s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16) = (
        getattr(Unit, name).__set__ for name in names
    )

    def make(
        a0: str,
        a1: str,
        a2: str | None,
        a3: str,
        a4: str | None,
        a5: int,
        a6: int,
        a7: int,
        a8: str,
        a9: str,
        a10: str,
        a11: str,
        a12: str,
        a13: int,
        a14: int,
        a15: int,
        a16: int,
    ) -> Unit:
        u: Unit = new(Unit)
        s0(u, a0)
        s1(u, a1)
        s2(u, a2)
        s3(u, a3)
        s4(u, a4)
        s5(u, a5)
        s6(u, a6)
        s7(u, a7)
        s8(u, a8)
        s9(u, a9)
        s10(u, a10)
        s11(u, a11)
        s12(u, a12)
        s13(u, a13)
        s14(u, a14)
        s15(u, a15)
        s16(u, a16)
        return u

    return make


_UNIT_FIELDS = (
    "namespace",
    "code",
    "parent_code",
    "kind",
    "label",
    "ordinal",
    "depth",
    "position",
    "title",
    "raw_heading",
    "body",
    "content_hash",
    "doc_path",
    "line_start",
    "line_end",
    "byte_start",
    "byte_end",
)
_unit = _unit_factory()
_unit_fields = attrgetter(*_UNIT_FIELDS)


def _recoded(u: Unit, code: str, parent_code: str | None) -> Unit:
    """``u`` with another code and parent code (the fast constructor, not replace())."""
    values = list(_unit_fields(u))
    values[1], values[2] = code, parent_code
    return _unit(*values)


def _holder(
    stack: list[_Node],
    rank: int | None,
    level: int,
    levels: bool,
    rule: Rule | None = None,
    label: str | None = None,
) -> int:
    """How many nodes of ``stack`` stay open: ``stack[k - 1]`` is the innermost node that
    can hold a new unit of ``rank`` (None: plain heading) at ``level``. The document
    holds anything; two ranked units nest by rank, any other pair by heading level, and
    so do two headings of ``levels`` rules at different levels (``levels``: the new
    unit's rule is one). A heading of a rule with ``first`` (see Rule) at the level of a
    node of a kind in its ``first_in`` nests in it by rank only as its first (``label``)
    or after another of its kind (the node above it in ``stack``)."""
    k = len(stack)
    while True:
        node = stack[k - 1]
        if node.kind == "document":
            return k
        r = node.rank
        if (
            r is not None
            and rank is not None
            and not (
                levels and node.levels and node.level != level and max(level, node.level) < PLAIN
            )
        ):
            if r < rank and not (
                rule is not None
                and node.kind in rule.first_in
                and node.level == level < PLAIN
                and label != rule.first
                and not (k < len(stack) and stack[k].kind == rule.kind)
            ):
                return k
        elif node.level < level:
            return k
        k -= 1
