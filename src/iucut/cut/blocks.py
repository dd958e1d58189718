"""CommonMark block scanner: where headings and candidate legal lines start, nothing else.

The scanner never copies or splits the document into lines. One compiled regex finds
*candidate* lines (those that can open, close or interrupt a block, or carry a legal
label); runs of ordinary text between candidates are crossed with a few C-level
searches. Only lines inside container blocks (block quotes, list items) are walked one
by one, with the CommonMark container algorithm (markdown-it-py is the test oracle).

Output is a list of :class:`Mark`: top-level ATX and setext headings, and lines that
may carry a legal label (paragraph lines and list-item lines outside block quotes,
code, HTML blocks). Headings inside containers are body text, never marks.
"""

from __future__ import annotations

import re
from typing import NamedTuple

ATX, SETEXT, LINE = "atx", "setext", "line"

NONE, PARA, FENCE, ICODE, HTML = range(5)


class Mark(NamedTuple):
    """A place where a unit may start: ``text[start:end]`` is its raw heading."""

    kind: str  # ATX, SETEXT or LINE
    start: int  # line start (setext: first line of the paragraph)
    end: int  # just after the line ending of the heading's last line
    level: int  # heading level 1-6; for LINE: 0 at top level, else container depth
    text: str  # heading content (ATX/setext) or the line from its first non-blank


_new_mark = tuple.__new__  # Mark(...) without the Python-level __new__

_BLOCK_NAMES = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|"
    "details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|"
    "h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|"
    "noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|"
    "thead|title|tr|track|ul"
)
_ATTR = (
    r"(?:\s+[a-zA-Z_:][a-zA-Z0-9:._-]*"
    r"(?:\s*=\s*(?:[^\"'=<>`\x00-\x20]+|'[^']*'|\"[^\"]*\"))?)"
)
_HTML_START: tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...] = (
    (
        re.compile(r"<(?a:script|pre|style|textarea)(?=\s|>|$)", re.I),
        re.compile(r"</(?a:script|pre|style|textarea)>", re.I),
    ),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
    (re.compile(r"</?(?a:" + _BLOCK_NAMES + r")(?=\s|/?>|$)", re.I), None),
    (
        re.compile(
            r"(?:<[A-Za-z][A-Za-z0-9\-]*" + _ATTR + r"*\s*/?>|</[A-Za-z][A-Za-z0-9\-]*\s*>)"
            r"\s*$"
        ),
        None,
    ),
)

_ATX = re.compile(r"(#{1,6})(?=[ \t]|$)")
_FENCE_OPEN = re.compile(r"(`{3,})[^`]*$|(~{3,}).*$")
_FENCE_CLOSE = re.compile(r"(`{3,}|~{3,})[ \t]*$")
_HR = re.compile(r"(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_SETEXT = re.compile(r"(=+|-+)[ \t]*$")
_LIST = re.compile(r"([-+*]|(\d{1,9})[.)])(?:([ \t]+)|$)")
_BLANK_LINE = re.compile(r"^[ \t]*\r?\n", re.M)
_NONBLANK_LINE = re.compile(r"^[ \t]*[^ \t\r\n]", re.M)
_OPENERS = ">=-*_+#`~<"  # first characters (besides digits) that may open a block
_SPACES = re.compile(r"[ \t]*\r?")
_BLANKS = re.compile(r"(?:[ \t]*\r?\n)+")
_CODE_END = re.compile(r"^(?! {0,3}\t| {4}|[ \t]*\r?$)", re.M)  # a line that ends indented code

# A link reference definition, piece by piece: it may span lines (label, destination
# and title each may start on the next line; label and title may hold line endings).
_DEF_LABEL = re.compile(r" {0,3}\[((?:[^\]\\\[]|\\.){1,999})\]:", re.S)
_DEF_SPACE = re.compile(r"[ \t]*(?:\r?\n[ \t]*)?")
_DEF_DEST = re.compile(r"<(?:[^<>\n\\]|\\.)*>|[^\s<\x00-\x1f]\S*")
_DEF_TITLE = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\)", re.S)
_DEF_EOL = re.compile(r"[ \t]*(?:\r?\n|$)")


def _refdef_end(s: str, p: int, cur: int) -> int:
    """Where the link reference definition at ``p`` ends (the start of the line after
    it, at most ``cur``), or -1 when none starts there. Like CommonMark: a title that
    starts on the line after the destination and does not parse leaves the definition
    ending with the destination's line (``[a]: /u\n'title'\nFoo\n---`` is a
    definition with a title, then the heading ``Foo``)."""
    m = _DEF_LABEL.match(s, p, cur)
    if m is None or not m.group(1).strip():
        return -1
    q = _space_end(s, m.end(), cur)
    dest = _DEF_DEST.match(s, q, cur)
    if dest is None:
        return -1
    q = dest.end()
    eol = _DEF_EOL.match(s, q, cur)
    plain = -1 if eol is None else eol.end()  # the definition without a title
    space = _space_end(s, q, cur)
    if space > q:
        title = _DEF_TITLE.match(s, space, cur)
        if title is not None:
            after = _DEF_EOL.match(s, title.end(), cur)
            if after is not None:
                return after.end()
    return plain


def _space_end(s: str, q: int, cur: int) -> int:
    """The end of the spaces from ``q``, across one line ending at most."""
    m = _DEF_SPACE.match(s, q, cur)
    return q if m is None else m.end()


#: Lines the scanner must look at: anything that can open, close or interrupt a block
#: (after up to 3 spaces), or an indented line. Profiles add their label starts.
_CAND_BASE = r"^(?:[ ]{0,3}(?:[#`~=+*_<>\-]|\d)|[ ]{0,3}\t|[ ]{4})"


def candidate_pattern(extra: str = "") -> re.Pattern[str]:
    """The candidate-line regex, with profile label starts (alternatives) added."""
    if not extra:
        return re.compile(_CAND_BASE, re.M)
    return re.compile(_CAND_BASE[:-1] + r"|[ ]{0,3}(?:" + extra + "))", re.M)


class _Box:
    """An open container block: a block quote or a list item of content width ``width``."""

    __slots__ = ("blank_start", "empty", "quote", "width")

    def __init__(self, quote: bool, width: int = 0, blank_start: bool = False):
        self.quote = quote
        self.width = width
        self.blank_start = blank_start
        self.empty = blank_start


class Scanner:
    """Scan one document (``s``: the text with lone CRs turned into LFs, same length)."""

    def __init__(self, s: str, cand: re.Pattern[str], legal: re.Pattern[str] | None):
        self.s = s
        self.cand = cand
        self.legal = legal
        self.marks: list[Mark] = []
        self.stack: list[_Box] = []
        self.quoted = 0  # block quotes on the stack
        self.leaf = NONE
        self.fence_char = ""
        self.fence_len = 0
        self.html_end: re.Pattern[str] | None = None
        self.para_start = -1  # -1: unknown, found by walking back to para_floor
        self.para_floor = 0

    def run(self, pos: int = 0) -> list[Mark]:
        s, n = self.s, len(self.s)
        # A paragraph never reaches back before the scan's start (front matter, a BOM).
        self.para_floor = pos
        search = self.cand.search
        stack = self.stack
        line = self._line
        spaces = _SPACES.fullmatch
        legal = self.legal.match if self.legal is not None else None
        marks = self.marks
        if 0 < pos < n and s[pos - 1] != "\n":  # after a BOM: not a line start for ``^``
            nl = s.find("\n", pos)
            nxt = n if nl < 0 else nl + 1
            line(pos, nl if nl >= 0 else n, nxt)
            pos = nxt
        while pos < n:
            if not stack:
                if self.leaf == ICODE:
                    # Blank and indented lines go on with the code block and change
                    # nothing: go straight to the first line that can end it.
                    m = _CODE_END.search(s, pos)
                    pos = m.start() if m else n
                    if pos >= n:
                        break
                m = search(s, pos)
                b = m.start() if m else n
                if b > pos:
                    if self.leaf > PARA:
                        self._skip(pos, b)
                    else:  # _skip's common case: does the run end with a blank line?
                        end = b - 1 if s[b - 1] == "\n" else b
                        if spaces(s, max(s.rfind("\n", pos, end) + 1, pos), end):
                            self.leaf = NONE
                            self.para_floor = b
                        else:
                            self.leaf = PARA
                            self.para_start = -1
                    pos = b
                    continue
                leaf = self.leaf
                c = s[pos]
                if leaf <= PARA and c not in " \t\r\n":
                    # A line at column 0 with no open container nor leaf block: only
                    # block starts (and link definitions) need the full algorithm.
                    nl = s.find("\n", pos)
                    nxt = n if nl < 0 else nl + 1
                    eol = n if nl < 0 else nl
                    if s[eol - 1] == "\r":
                        eol -= 1
                    text = s[pos:eol]
                    if "\t" in text:
                        text = text.expandtabs(4)
                    item = _LIST.match(text) if c.isdigit() else None
                    if item is not None and leaf == NONE and _plain_item(text, item):
                        # "1. text": a list item with a paragraph, as _blocks opens it
                        stack.append(_Box(False, item.end()))
                        self.leaf = PARA
                        self.para_start = pos
                        if legal is not None and legal(text):
                            marks.append(_new_mark(Mark, (LINE, pos, nxt, 1, text)))
                    elif c in _OPENERS or c == "[" or item is not None:
                        self._blocks(pos, text, 0, 0, nxt)
                    else:
                        if leaf == NONE:
                            self.leaf = PARA
                            self.para_start = pos
                        if legal is not None and legal(text):
                            marks.append(_new_mark(Mark, (LINE, pos, nxt, 0, text)))
                    pos = nxt
                    continue
            elif self.leaf == PARA:
                # Inside containers, ordinary lines continue an open paragraph (matched or
                # lazy) and change nothing: go straight to its next blank or candidate line.
                m = search(s, pos)
                b = m.start() if m else n
                if b > pos:
                    blank = _BLANK_LINE.search(s, pos, b)
                    if blank is None:
                        pos = b
                        continue
                    pos = blank.start()
                if not self.quoted:
                    # A blank line, or a candidate line that starts with ordinary text
                    # and is no indented code (it continues the paragraph, matched or
                    # lazy): no need for the container algorithm.
                    nl = s.find("\n", pos)
                    nxt = n if nl < 0 else nl + 1
                    eol = n if nl < 0 else nl
                    if s[eol - 1] == "\r":
                        eol -= 1
                    text = s[pos:eol]
                    body = text.lstrip(" ")
                    if not body.lstrip("\t") and _all_matched(stack):
                        # A blank line that every list item matches ends the paragraph,
                        # and the blank lines after it change nothing but the floor.
                        m = _BLANKS.match(s, nxt)
                        pos = m.end() if m is not None else nxt
                        self.leaf = NONE
                        self.para_floor = pos
                        continue
                    if body and "\t" not in text:
                        c = body[0]
                        if c not in _OPENERS and c != "[" and not c.isdigit():
                            j = len(text) - len(body)
                            width = 0
                            for box in stack:
                                width += box.width
                            if j - width < 4:
                                if legal is not None and legal(text, j):
                                    marks.append(
                                        _new_mark(Mark, (LINE, pos, nxt, len(stack), body))
                                    )
                                pos = nxt
                                continue
            nl = s.find("\n", pos)
            if nl < 0:
                line(pos, n, n)
                break
            depth = len(stack)
            line(pos, nl, nl + 1)
            if depth and depth == len(stack) and not self.quoted and spaces(s, pos, nl):
                # A blank line that every open list item matched: the blank lines after
                # it are matched the same way and change nothing but the paragraph floor.
                m = _BLANKS.match(s, nl + 1)
                if m is not None:
                    nl = m.end() - 1
                    if self.leaf == NONE:
                        self.para_floor = nl + 1
            pos = nl + 1
        return self.marks

    # -- runs of ordinary lines at top level --------------------------------------------

    def _skip(self, a: int, b: int) -> None:
        s = self.s
        if self.leaf == FENCE:
            return
        if self.leaf == HTML:
            if self.html_end is not None:
                m = self.html_end.search(s, a, b)
                if not m:
                    return
                nl = s.find("\n", m.end() - 1, b)
                a = b if nl < 0 else nl + 1
            else:
                m = _BLANK_LINE.search(s, a, b)
                if not m:
                    return
                a = m.end()
            self.leaf = NONE
            self.para_floor = a
        elif self.leaf == ICODE:
            m = _NONBLANK_LINE.search(s, a, b)
            if not m:
                return
            a = m.start()
            self.leaf = NONE
            self.para_floor = a
        if a >= b:
            return
        end = b - 1 if s[b - 1] == "\n" else b
        last = max(s.rfind("\n", a, end) + 1, a)
        if _SPACES.fullmatch(s, last, end):
            self.leaf = NONE
            self.para_floor = b
        else:
            self.leaf = PARA
            self.para_start = -1

    def _para_text(self, cur: int) -> bool:
        """Whether the open paragraph before line ``cur`` has text (not only link
        definitions, which markdown-it closes as blocks of their own)."""
        if self.leaf != PARA:
            return False
        s, p, floor = self.s, self.para_start, self.para_floor
        if p < 0:
            p = cur
            while p > floor:
                q = max(s.rfind("\n", floor, p - 1) + 1, floor)
                if _SPACES.fullmatch(s, q, p - 1):
                    break
                p = q
        while p < cur:
            end = _refdef_end(s, p, cur)
            if end < 0:
                break
            p = end
        self.para_start = p
        if p < cur:
            return True
        self.leaf = NONE
        self.para_floor = cur
        return False

    # -- one line, full container algorithm ----------------------------------------------

    def _line(self, pos: int, eol: int, nxt: int) -> None:
        s = self.s
        if eol > pos and s[eol - 1] == "\r":
            eol -= 1
        line = s[pos:eol]
        if "\t" in line:
            line = line.expandtabs(4)
        n = len(line)
        j = n - len(line.lstrip(" "))  # the first non-blank at or after i (n: blank)
        i = 0
        stack = self.stack
        if stack:
            matched = 0
            if self.quoted:
                for box in stack:
                    j = _indent(line, i)
                    if box.quote:
                        if j - i <= 3 and j < n and line[j] == ">":
                            i = j + 1
                            if i < n and line[i] == " ":
                                i += 1
                            matched += 1
                            continue
                        break
                    if j >= n:
                        if box.empty and box.blank_start:
                            break
                        matched += 1
                        continue
                    if j - i >= box.width:
                        i += box.width
                        matched += 1
                        continue
                    break
                j = _indent(line, i)
            elif j >= n:  # list items only: a blank line
                for box in stack:
                    if box.empty and box.blank_start:
                        break
                    matched += 1
            else:  # list items only: i stays within the line's indentation
                for box in stack:
                    if j - i < box.width:
                        break
                    i += box.width
                    matched += 1
            if matched < len(stack):
                if self.leaf == PARA and j < n and self._lazy(line, i):
                    self._para_line(pos, nxt, line, j)
                    return
                self._close(matched, pos)
            if j < n:
                for box in stack:
                    box.empty = False
        leaf = self.leaf
        if leaf != NONE:
            if leaf == FENCE:
                if j - i <= 3:
                    m = _FENCE_CLOSE.match(line, j)
                    if m and m.group(1)[0] == self.fence_char and len(m.group(1)) >= self.fence_len:
                        self._end_block(nxt)
                return
            if leaf == HTML:
                end = self.html_end
                if (end.search(line, i) is not None) if end is not None else j >= n:
                    self._end_block(nxt)
                return
            if leaf == ICODE:
                if j >= n or j - i >= 4:
                    return
                self.leaf = NONE
                self.para_floor = pos  # a paragraph after the code starts here, not in it
        self._blocks(pos, line, i, j, nxt)

    def _close(self, keep: int, pos: int) -> None:
        del self.stack[keep:]
        self.para_floor = pos
        self.quoted = sum(1 for b in self.stack if b.quote)
        self.leaf = NONE

    def _end_block(self, nxt: int) -> None:
        self.leaf = NONE
        self.para_floor = nxt

    def _lazy(self, line: str, i: int) -> bool:
        """Whether an unmatched line continues the open paragraph (a lazy line)."""
        j = _indent(line, i)
        if j - i >= 4:
            return True
        ch = line[j]
        if ch == ">" or (ch == "#" and _ATX.match(line, j)):
            return False
        if ch in "`~" and _FENCE_OPEN.match(line, j):
            return False
        if ch in "*-_" and _HR.match(line, j):
            return False
        if (ch in "-+*" or ch.isdigit()) and _LIST.match(line, j):
            return False
        return not (ch == "<" and _html_type(line, j) not in (0, 7))

    def _blocks(self, pos: int, line: str, i: int, j: int, nxt: int) -> None:
        """Open blocks on a line from ``i`` (``j``: its first non-blank from ``i``)."""
        n = len(line)
        opened = False
        item_at = -1
        hr: dict[str, int] = {}
        stack = self.stack
        while True:
            if j >= n:
                if self.leaf != ICODE:
                    self._end_block(nxt)
                if opened and stack and not stack[-1].quote:
                    stack[-1].blank_start = stack[-1].empty = True
                return
            if j - i >= 4:
                if self._para_text(pos):
                    self._para_line(pos, nxt, line, j)
                else:
                    self.leaf = ICODE
                    self.para_floor = nxt
                return
            ch = line[j]
            if ch in _OPENERS or ch.isdigit():
                if ch == ">":
                    stack.append(_Box(True))
                    self.quoted += 1
                    self.leaf = NONE
                    opened = True
                    i = j + 1
                    if i < n and line[i] == " ":
                        i += 1
                    j = _indent(line, i)
                    continue
                if ch in "=-" and not opened and _SETEXT.match(line, j) and self._para_text(pos):
                    self._setext(pos, line, j, nxt)
                    return
                if ch in "*-_" and _is_hr(line, j, ch, hr):
                    self._end_block(nxt)
                    return
                if ch in "-+*" or ch.isdigit():
                    m = _LIST.match(line, j)
                    if m:
                        spaces = len(m.group(3) or "")
                        empty = m.end() >= n
                        if opened or not (
                            (empty or (m.group(2) is not None and int(m.group(2)) != 1))
                            and self._para_text(pos)
                        ):
                            marker = m.end(1) - j
                            width = (j - i) + marker + (1 if empty or spaces > 4 else spaces)
                            stack.append(_Box(False, width, empty))
                            if item_at < 0:
                                item_at = j
                            self.leaf = NONE
                            opened = True
                            i = m.end(1) + (1 if spaces > 4 else spaces)
                            if empty:
                                self._end_block(nxt)
                                return
                            j = _indent(line, i)
                            continue
                if ch == "#":
                    m = _ATX.match(line, j)
                    if m:
                        if not stack:
                            self.marks.append(
                                Mark(ATX, pos, nxt, m.end() - j, _atx_text(line[m.end() :]))
                            )
                        self._end_block(nxt)
                        return
                if ch in "`~":
                    m = _FENCE_OPEN.match(line, j)
                    if m:
                        fence = m.group(1) or m.group(2)
                        self.leaf = FENCE
                        self.fence_char, self.fence_len = fence[0], len(fence)
                        self.para_floor = nxt
                        return
                if ch == "<":
                    t = _html_type(line, j)
                    if t and not (t == 7 and not opened and self._para_text(pos)):
                        self.html_end = _HTML_START[t - 1][1]
                        if self.html_end is not None and self.html_end.search(line, j + 1):
                            self._end_block(nxt)
                        else:
                            self.leaf = HTML
                            self.para_floor = nxt
                        return
            if self.leaf != PARA:
                if ch == "[" and stack and _refdef_end(line, j, n) >= 0:
                    # inside a container, a one-line definition is a block of its own
                    # (as markdown-it reads it); at the top level it opens a paragraph,
                    # and _para_text passes over the definitions (of one or more lines)
                    # it starts with, as CommonMark does
                    self._end_block(nxt)
                    return
                self.leaf = PARA
                self.para_start = pos
            self._para_line(pos, nxt, line, item_at if item_at >= 0 else j)
            return

    def _para_line(self, pos: int, nxt: int, line: str, j: int) -> None:
        if self.quoted or self.legal is None or not self.legal.match(line, j):
            return
        self.marks.append(_new_mark(Mark, (LINE, pos, nxt, len(self.stack), line[j:])))

    def _setext(self, pos: int, line: str, j: int, nxt: int) -> None:
        start = self.para_start
        marks = self.marks
        while marks and marks[-1].start >= start:
            marks.pop()
        if not self.stack:
            level = 1 if line[j] == "=" else 2
            text = _setext_text(self.s, start, pos)
            marks.append(Mark(SETEXT, start, nxt, level, text))
        self._end_block(nxt)


def _setext_text(s: str, start: int, end: int) -> str:
    """A setext heading's text: its paragraph lines ``s[start:end]``, stripped, joined."""
    return " ".join(x.strip() for x in s[start:end].splitlines())


def _indent(line: str, i: int) -> int:
    """Index of the first non-space character at or after ``i`` (tabs already expanded)."""
    n = len(line)
    while i < n and line[i] == " ":
        i += 1
    return i


def _is_hr(line: str, j: int, ch: str, memo: dict[str, int]) -> bool:
    """Thematic break from ``j``; ``memo`` keeps, per character, where the line stops
    being only that character and blanks (so nested list markers stay linear)."""
    last = memo.get(ch)
    if last is None:
        memo[ch] = last = len(line.rstrip(ch + " \t")) - 1
    return last < j and _HR.match(line, j) is not None


def _all_matched(stack: list[_Box]) -> bool:
    """Whether a blank line continues every open list item (only an item that opened
    with a blank line and is still empty ends at one)."""
    return not any(box.empty and box.blank_start for box in stack)


def _plain_item(line: str, m: re.Match[str]) -> bool:
    """Whether list marker ``m`` (at column 0) is followed by 1-4 spaces and ordinary
    paragraph text: nothing else opens on the line."""
    spaces = m.group(3)
    if spaces is None or len(spaces) > 4 or m.end() >= len(line):
        return False
    c = line[m.end()]
    return c not in _OPENERS and c != "[" and not c.isdigit()


def _html_type(line: str, j: int) -> int:
    for t, (start, _end) in enumerate(_HTML_START, 1):
        if start.match(line, j):
            return t
    return 0


def _atx_text(content: str) -> str:
    text = content.strip(" \t")
    stripped = text.rstrip("#")
    if stripped != text and (not stripped or stripped[-1] in " \t"):
        text = stripped.rstrip(" \t")
    return text


def scan(s: str, start: int, cand: re.Pattern[str], legal: re.Pattern[str] | None) -> list[Mark]:
    """Marks of ``s`` from ``start`` (a line start, e.g. after front matter)."""
    return Scanner(s, cand, legal).run(start)
