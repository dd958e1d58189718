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
        """Scan from ``pos``: the block structure of CommonMark §3.2, line by line."""
        n = len(self.s)
        # A paragraph never reaches back before the scan's start (front matter, a BOM).
        self.para_floor = pos
        if 0 < pos < n and self.s[pos - 1] != "\n":  # after a BOM: not a line start for ``^``
            pos = self._full_line(pos)
        while pos < n:
            if not self.stack:
                pos = self._top_level(pos)
            elif self.leaf == PARA:
                pos = self._container_paragraph(pos)
            else:
                pos = self._full_line(pos)
        return self.marks

    # -- shortcuts: lines that cannot change the block structure -------------------------

    def _top_level(self, pos: int) -> int:
        """§3.2 at the top level: cross ordinary runs, then take one candidate line."""
        if self.leaf == ICODE:
            pos = self._indented_code_end(pos)
            if pos >= len(self.s):
                return pos
        b = self._next_candidate(pos)
        if b > pos:
            self._skip(pos, b)
            return b
        if self.leaf <= PARA and self.s[pos] not in " \t\r\n":
            return self._column_zero_line(pos)
        return self._full_line(pos)

    def _indented_code_end(self, pos: int) -> int:
        """§4.4: the first line from ``pos`` that can end an indented code block."""
        m = _CODE_END.search(self.s, pos)
        return m.start() if m else len(self.s)

    def _next_candidate(self, pos: int) -> int:
        """The next line from ``pos`` that may open, close or interrupt a block."""
        m = self.cand.search(self.s, pos)
        return m.start() if m else len(self.s)

    def _line_bounds(self, pos: int) -> tuple[str, int]:
        """The line at ``pos`` without its line ending, and the start of the next line."""
        s, n = self.s, len(self.s)
        nl = s.find("\n", pos)
        nxt = n if nl < 0 else nl + 1
        eol = n if nl < 0 else nl
        if s[eol - 1] == "\r":
            eol -= 1
        return s[pos:eol], nxt

    def _column_zero_line(self, pos: int) -> int:
        """§3.2: a line at column 0 with no open container nor leaf block; only block
        starts (and link reference definitions, §4.7) need the full algorithm."""
        text, nxt = self._line_bounds(pos)
        if "\t" in text:
            text = text.expandtabs(4)
        c = text[0]
        item = _LIST.match(text) if c.isdigit() else None
        if item is not None and self.leaf == NONE and _plain_item(text, item):
            self._plain_ordered_item(pos, nxt, text, item)
        elif c in _OPENERS or c == "[" or item is not None:
            self._blocks(pos, text, 0, 0, nxt)
        else:
            self._top_paragraph_line(pos, nxt, text)
        return nxt

    def _plain_ordered_item(self, pos: int, nxt: int, text: str, item: re.Match[str]) -> None:
        """§5.2: "1. text", an ordered list item holding a paragraph, as _blocks opens it."""
        self.stack.append(_Box(False, item.end()))
        self.leaf = PARA
        self.para_start = pos
        self._legal_mark(pos, nxt, text, 0, 1)

    def _top_paragraph_line(self, pos: int, nxt: int, text: str) -> None:
        """§4.8: an ordinary line at the top level opens or continues a paragraph."""
        if self.leaf == NONE:
            self.leaf = PARA
            self.para_start = pos
        self._legal_mark(pos, nxt, text, 0, 0)

    def _legal_mark(self, pos: int, nxt: int, text: str, j: int, level: int) -> None:
        """Mark the line when a legal label starts at ``text[j:]``."""
        if self.legal is not None and self.legal.match(text, j):
            self.marks.append(_new_mark(Mark, (LINE, pos, nxt, level, text[j:])))

    def _container_paragraph(self, pos: int) -> int:
        """§5.1/§5.2: inside containers, ordinary lines continue an open paragraph
        (matched or lazy) and change nothing: go to its next blank or candidate line."""
        b = self._next_candidate(pos)
        if b > pos:
            blank = _BLANK_LINE.search(self.s, pos, b)
            if blank is None:
                return b
            pos = blank.start()
        if not self.quoted:
            done = self._list_paragraph_line(pos)
            if done >= 0:
                return done
        return self._full_line(pos)

    def _list_paragraph_line(self, pos: int) -> int:
        """§5.2, list items only: a blank line, or a candidate line that starts with
        ordinary text and is no indented code; -1 when the full algorithm must decide."""
        text, nxt = self._line_bounds(pos)
        body = text.lstrip(" ")
        if not body.lstrip("\t") and _all_matched(self.stack):
            # A blank line that every list item matches ends the paragraph,
            # and the blank lines after it change nothing but the floor.
            m = _BLANKS.match(self.s, nxt)
            pos = m.end() if m is not None else nxt
            self._end_block(pos)
            return pos
        if not body or "\t" in text:
            return -1
        c = body[0]
        if c in _OPENERS or c == "[" or c.isdigit():
            return -1
        j = len(text) - len(body)
        if j - sum(box.width for box in self.stack) >= 4:
            return -1
        self._legal_mark(pos, nxt, text, j, len(self.stack))
        return nxt

    def _full_line(self, pos: int) -> int:
        """§3.2: one line through the full container algorithm; the next line's start."""
        s, n = self.s, len(self.s)
        nl = s.find("\n", pos)
        if nl < 0:
            self._line(pos, n, n)
            return n
        depth = len(self.stack)
        self._line(pos, nl, nl + 1)
        if (
            depth
            and depth == len(self.stack)
            and not self.quoted
            and _SPACES.fullmatch(s, pos, nl)
            and _all_matched(self.stack)
        ):
            # A blank line that every open list item matched: the blank lines after
            # it are matched the same way and change nothing but the paragraph floor
            # (not past an empty item, which its blanks alone may have gone on with).
            m = _BLANKS.match(s, nl + 1)
            if m is not None:
                nl = m.end() - 1
                if self.leaf == NONE:
                    self.para_floor = nl + 1
        return nl + 1

    # -- runs of ordinary lines at top level --------------------------------------------

    def _skip(self, a: int, b: int) -> None:
        """§4: a run ``s[a:b]`` of ordinary lines: close the leaf block it ends, if any."""
        s = self.s
        if self.leaf == FENCE:
            return
        if self.leaf == HTML:
            a = self._html_run_end(a, b)
        elif self.leaf == ICODE:
            a = self._code_run_end(a, b)
        if a >= b:
            return
        end = b - 1 if s[b - 1] == "\n" else b
        last = max(s.rfind("\n", a, end) + 1, a)
        if _SPACES.fullmatch(s, last, end):
            self._end_block(b)
        else:
            self.leaf = PARA
            self.para_start = -1

    def _html_run_end(self, a: int, b: int) -> int:
        """§4.6: where an HTML block open at ``a`` ends within the run (``b``: it does not)."""
        s = self.s
        if self.html_end is not None:
            m = self.html_end.search(s, a, b)
            if not m:
                return b
            nl = s.find("\n", m.end() - 1, b)
            a = b if nl < 0 else nl + 1
        else:
            m = _BLANK_LINE.search(s, a, b)
            if not m:
                return b
            a = m.end()
        self._end_block(a)
        return a

    def _code_run_end(self, a: int, b: int) -> int:
        """§4.4: where indented code open at ``a`` ends within the run (``b``: it does not)."""
        m = _NONBLANK_LINE.search(self.s, a, b)
        if not m:
            return b
        self._end_block(m.start())
        return m.start()

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
        """§3.2: one line: match the open containers, go on with the open leaf, or
        open blocks."""
        s = self.s
        if eol > pos and s[eol - 1] == "\r":
            eol -= 1
        line = s[pos:eol]
        if "\t" in line:
            line = line.expandtabs(4)
        n = len(line)
        i, j = 0, n - len(line.lstrip(" "))  # j: the first non-blank at or after i (n: blank)
        if self.stack:
            i, j, matched = self._match_containers(line, j)
            if matched < len(self.stack):
                if self.leaf == PARA and j < n and self._lazy(line, i):
                    self._para_line(pos, nxt, line, j)
                    return
                self._close(matched, pos)
            if j < n:
                for box in self.stack:
                    box.empty = False
        if self.leaf != NONE and self._continue_leaf(pos, line, i, j, nxt):
            return
        self._blocks(pos, line, i, j, nxt)

    def _match_containers(self, line: str, j: int) -> tuple[int, int, int]:
        """§5.1/§5.2: how many open containers the line continues: (``i`` after their
        markers, ``j`` its first non-blank from ``i``, the count)."""
        if self.quoted:
            i, matched = self._match_quoted(line)
            return i, _indent(line, i), matched
        if j >= len(line):
            return 0, j, self._match_items_on_blank(j)
        i, matched = self._match_items(j)
        return i, j, matched

    def _match_quoted(self, line: str) -> tuple[int, int]:
        """§5.1/§5.2 with block quotes open: walk the markers and indents of the line."""
        i = matched = 0
        for box in self.stack:
            k = _quote_continues(line, i) if box.quote else _item_continues(box, line, i)
            if k < 0:
                break
            i = k
            matched += 1
        return i, matched

    def _match_items_on_blank(self, n: int) -> int:
        """§5.2: a blank line (``n`` columns of blanks) continues every list item but one
        that began blank and is still empty, unless its blanks reach that item's content
        (cmark matches an item by its indentation first, blank line or not)."""
        matched = i = 0
        for box in self.stack:
            if n - i >= box.width:
                i += box.width
            elif box.empty and box.blank_start:
                break
            else:
                i = n
            matched += 1
        return matched

    def _match_items(self, j: int) -> tuple[int, int]:
        """§5.2, list items only: each continues while the indentation ``j`` covers its
        content width (``i`` stays within the indentation)."""
        i = matched = 0
        for box in self.stack:
            if j - i < box.width:
                break
            i += box.width
            matched += 1
        return i, matched

    def _continue_leaf(self, pos: int, line: str, i: int, j: int, nxt: int) -> bool:
        """§4.5/§4.6/§4.4: whether the open fence, HTML block or indented code takes
        the line."""
        n = len(line)
        if self.leaf == FENCE:
            if j - i <= 3:
                m = _FENCE_CLOSE.match(line, j)
                if m and m.group(1)[0] == self.fence_char and len(m.group(1)) >= self.fence_len:
                    self._end_block(nxt)
            return True
        if self.leaf == HTML:
            end = self.html_end
            if (end.search(line, i) is not None) if end is not None else j >= n:
                self._end_block(nxt)
            return True
        if self.leaf == ICODE:
            if j >= n or j - i >= 4:
                return True
            self._end_block(pos)  # a paragraph after the code starts here, not in it
        return False

    def _close(self, keep: int, pos: int) -> None:
        """§5: close the containers the line did not continue."""
        del self.stack[keep:]
        self.para_floor = pos
        self.quoted = sum(1 for b in self.stack if b.quote)
        self.leaf = NONE

    def _end_block(self, nxt: int) -> None:
        """Close the open leaf block; a paragraph may start at ``nxt``."""
        self.leaf = NONE
        self.para_floor = nxt

    def _lazy(self, line: str, i: int) -> bool:
        """§5.1: whether an unmatched line continues the open paragraph (a lazy line)."""
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
        """§3.2: open blocks on a line from ``i`` (``j``: its first non-blank from ``i``):
        containers, then one leaf block."""
        n = len(line)
        opened = False
        item_at = -1
        hr: dict[str, int] = {}
        while True:
            if j >= n:
                self._blank_line(nxt, opened)
                return
            if j - i >= 4:
                self._indented_line(pos, nxt, line, j)
                return
            if line[j] == ">":
                i = self._open_quote(line, j)
            elif self._setext_or_break(pos, line, j, nxt, opened, hr):
                return
            else:
                k = self._open_item(pos, line, i, j, nxt, opened)
                if k is None:
                    if not self._open_leaf(pos, line, j, nxt, opened):
                        self._paragraph(pos, nxt, line, j, item_at if item_at >= 0 else j)
                    return
                if k < 0:
                    return
                if item_at < 0:
                    item_at = j
                i = k
            opened = True
            j = _indent(line, i)

    def _blank_line(self, nxt: int, opened: bool) -> None:
        """§4.9: a blank line closes the open leaf; §5.2: an item it opens begins blank."""
        if self.leaf != ICODE:
            self._end_block(nxt)
        if opened and self.stack and not self.stack[-1].quote:
            self.stack[-1].blank_start = self.stack[-1].empty = True

    def _indented_line(self, pos: int, nxt: int, line: str, j: int) -> None:
        """§4.4: indented code, unless it continues a paragraph (it cannot interrupt one,
        even one of link definitions only so far: CommonMark takes them out when the
        paragraph closes, as cmark does; markdown-it closes a definition first)."""
        if self.leaf == PARA:
            self._para_line(pos, nxt, line, j)
        else:
            self.leaf = ICODE
            self.para_floor = nxt

    def _open_quote(self, line: str, j: int) -> int:
        """§5.1: open a block quote at ``j``; where its content starts."""
        self.stack.append(_Box(True))
        self.quoted += 1
        self.leaf = NONE
        i = j + 1
        if i < len(line) and line[i] == " ":
            i += 1
        return i

    def _setext_or_break(
        self, pos: int, line: str, j: int, nxt: int, opened: bool, hr: dict[str, int]
    ) -> bool:
        """§4.3 setext underline, else §4.1 thematic break; whether one took the line."""
        ch = line[j]
        if ch in "=-" and not opened and _SETEXT.match(line, j) and self._para_text(pos):
            self._setext(pos, line, j, nxt)
            return True
        if ch in "*-_" and _is_hr(line, j, ch, hr):
            self._end_block(nxt)
            return True
        return False

    def _open_item(self, pos: int, line: str, i: int, j: int, nxt: int, opened: bool) -> int | None:
        """§5.2: open a list item at ``j``; where its content starts, -1 when it is
        empty (the line ends), None when no item opens here."""
        ch = line[j]
        if not (ch in "-+*" or ch.isdigit()):
            return None
        m = _LIST.match(line, j)
        if not m:
            return None
        spaces = len(m.group(3) or "")
        empty = m.end() >= len(line)
        if (
            not opened
            and (empty or (m.group(2) is not None and int(m.group(2)) != 1))
            and self.leaf == PARA
        ):
            # such an item cannot interrupt a paragraph, even one of link definitions
            # only so far (cmark; markdown-it closes a definition first)
            return None
        marker = m.end(1) - j
        width = (j - i) + marker + (1 if empty or spaces > 4 else spaces)
        self.stack.append(_Box(False, width, empty))
        self.leaf = NONE
        if empty:
            self._end_block(nxt)
            return -1
        return m.end(1) + (1 if spaces > 4 else spaces)

    def _open_leaf(self, pos: int, line: str, j: int, nxt: int, opened: bool) -> bool:
        """§4.2 ATX heading, §4.5 code fence or §4.6 HTML block at ``j``: whether one opened."""
        ch = line[j]
        if ch == "#":
            return self._atx(pos, line, j, nxt)
        if ch in "`~":
            return self._fence(line, j, nxt)
        if ch == "<":
            return self._html(pos, line, j, nxt, opened)
        return False

    def _atx(self, pos: int, line: str, j: int, nxt: int) -> bool:
        """§4.2: an ATX heading; marked at the top level only."""
        m = _ATX.match(line, j)
        if not m:
            return False
        if not self.stack:
            self.marks.append(Mark(ATX, pos, nxt, m.end() - j, _atx_text(line[m.end() :])))
        self._end_block(nxt)
        return True

    def _fence(self, line: str, j: int, nxt: int) -> bool:
        """§4.5: an opening code fence."""
        m = _FENCE_OPEN.match(line, j)
        if not m:
            return False
        fence = m.group(1) or m.group(2)
        self.leaf = FENCE
        self.fence_char, self.fence_len = fence[0], len(fence)
        self.para_floor = nxt
        return True

    def _html(self, pos: int, line: str, j: int, nxt: int, opened: bool) -> bool:
        """§4.6: an HTML block start (type 7 cannot interrupt a paragraph, even one of
        link definitions only so far: cmark; markdown-it closes a definition first)."""
        t = _html_type(line, j)
        if not t or (t == 7 and not opened and self.leaf == PARA):
            return False
        self.html_end = _HTML_START[t - 1][1]
        if self.html_end is not None and self.html_end.search(line, j + 1):
            self._end_block(nxt)
        else:
            self.leaf = HTML
            self.para_floor = nxt
        return True

    def _paragraph(self, pos: int, nxt: int, line: str, j: int, at: int) -> None:
        """§4.8 paragraph line (§4.7: in a container, a one-line link reference
        definition is a block of its own); ``at``: where a label may start."""
        if self.leaf != PARA:
            if line[j] == "[" and self.stack and _refdef_end(line, j, len(line)) >= 0:
                # inside a container, a one-line definition is a block of its own
                # (as markdown-it reads it); at the top level it opens a paragraph,
                # and _para_text passes over the definitions (of one or more lines)
                # it starts with, as CommonMark does
                self._end_block(nxt)
                return
            self.leaf = PARA
            self.para_start = pos
        self._para_line(pos, nxt, line, at)

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


def _quote_continues(line: str, i: int) -> int:
    """§5.1: where a block quote's content starts on a line continuing it, else -1."""
    j = _indent(line, i)
    if j - i > 3 or j >= len(line) or line[j] != ">":
        return -1
    i = j + 1
    if i < len(line) and line[i] == " ":
        i += 1
    return i


def _item_continues(box: _Box, line: str, i: int) -> int:
    """§5.2: where a list item's content starts on a line continuing it, else -1."""
    j = _indent(line, i)
    if j - i >= box.width:  # by indentation first, blank line or not (cmark)
        return i + box.width
    if j >= len(line):
        return -1 if box.empty and box.blank_start else i
    return -1


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
