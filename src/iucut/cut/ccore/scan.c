/* The CommonMark block scanner of iucut/cut/blocks.py, on code points.
 *
 * Each line goes through the container algorithm of blocks.Scanner._line and
 * Scanner._blocks (the Python scanner's shortcuts exist to save interpreter work and give
 * the same marks). Lines are tab-expanded to a stop of 4 exactly as str.expandtabs(4),
 * and positions are code point indexes into s, as in Python, so marks are identical.
 */
#include "core.h"
#include "rx.h"

#include <string.h>
#include <wchar.h>

enum { L_NONE = 0, L_PARA, L_FENCE, L_ICODE, L_HTML };

typedef struct {
    int quote;
    Py_ssize_t width;
    int blank_start, empty;
} box;

typedef struct {
    const Py_UCS4 *c; /* the line, tabs expanded, without its line ending */
    Py_ssize_t n;
    Py_ssize_t pos;  /* its start in s */
    int expanded;    /* c points into the tab buffer, not into s */
    PyObject *str;   /* the line as a str, made on demand (owned) */
    Py_ssize_t hr[3]; /* _is_hr memo per character: -2 unknown */
} line_t;

typedef struct {
    PyObject *s;
    int kind; /* of s */
    const void *data;
    Py_ssize_t n;
    const iu_program *hint; /* NULL: no legal lines */
    const iu_scan_helpers *help;
    iu_marks *marks;
    box *stack;
    Py_ssize_t depth, cap;
    Py_ssize_t quoted;
    int leaf;
    Py_UCS4 fence_char;
    Py_ssize_t fence_len;
    PyObject *html_end; /* borrowed from help->html_ends, or NULL */
    Py_ssize_t para_start, para_floor;
    Py_UCS4 *buf; /* the current line's code points */
    Py_ssize_t buf_cap;
    Py_UCS4 *tabs; /* the current line, tabs expanded */
    Py_ssize_t tabs_cap;
    int ascii;
    Py_ssize_t line_no;    /* line number of the current line */
    Py_ssize_t byte_pos;   /* its offset in the UTF-8 source */
    Py_ssize_t line_bytes; /* its UTF-8 length, line ending included */
    Py_ssize_t line_start; /* its start in s */
} scanner;

#define S(sc, k) PyUnicode_READ((sc)->kind, (sc)->data, (k))

/* -- small helpers ----------------------------------------------------------------------- */

void iu_marks_clear(iu_marks *marks)
{
    for (Py_ssize_t k = 0; k < marks->len; k++)
        Py_CLEAR(marks->items[k].text);
    PyMem_Free(marks->items);
    marks->items = NULL;
    marks->len = marks->cap = 0;
}

PyObject *iu_mark_text(PyObject *s, const iu_mark *m)
{
    if (m->text != NULL)
        return Py_NewRef(m->text);
    return PyUnicode_Substring(s, m->tstart, m->tend);
}

static int push_mark(scanner *sc, int kind, Py_ssize_t start, Py_ssize_t end, int level,
                     Py_ssize_t tstart, Py_ssize_t tend, PyObject *text)
{
    iu_marks *ms = sc->marks;
    if (ms->len == ms->cap) {
        Py_ssize_t cap = ms->cap ? ms->cap * 2 : 256;
        iu_mark *items = PyMem_Realloc(ms->items, (size_t)cap * sizeof(iu_mark));
        if (items == NULL) {
            Py_XDECREF(text);
            PyErr_NoMemory();
            return -1;
        }
        ms->items = items;
        ms->cap = cap;
    }
    iu_mark *m = &ms->items[ms->len++];
    m->kind = kind;
    m->level = level;
    m->start = start;
    m->end = end;
    m->tstart = tstart;
    m->tend = tend;
    m->text = text; /* steals */
    m->line = sc->line_no;
    m->bstart = sc->byte_pos;
    m->bend = sc->byte_pos + sc->line_bytes;
    if (start < sc->line_start) { /* a setext heading: it starts on an earlier line */
        for (Py_ssize_t k = start; k < sc->line_start; k++)
            m->line -= S(sc, k) == '\n';
        m->bstart -= sc->ascii ? sc->line_start - start
                               : iu_utf8_len(sc->kind, sc->data, start, sc->line_start);
    }
    return 0;
}

static int push_box(scanner *sc, int quote, Py_ssize_t width, int blank_start)
{
    if (sc->depth == sc->cap) {
        Py_ssize_t cap = sc->cap ? sc->cap * 2 : 16;
        box *stack = PyMem_Realloc(sc->stack, (size_t)cap * sizeof(box));
        if (stack == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        sc->stack = stack;
        sc->cap = cap;
    }
    box *b = &sc->stack[sc->depth++];
    b->quote = quote;
    b->width = width;
    b->blank_start = b->empty = blank_start;
    return 0;
}

static inline int is_blank(Py_UCS4 c) { return c == ' ' || c == '\t'; }

static Py_ssize_t find_nl(const scanner *sc, Py_ssize_t pos)
{
    if (pos >= sc->n)
        return -1;
    if (sc->kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *u = sc->data, *hit = memchr(u + pos, '\n', (size_t)(sc->n - pos));
        return hit == NULL ? -1 : hit - u;
    }
    if (sc->kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *u = sc->data;
        Py_ssize_t k = pos;
        /* four code points at a time: a lane of the word equal to 0x000A */
        const uint64_t ones = 0x0001000100010001u, highs = 0x8000800080008000u;
        for (; k + 4 <= sc->n; k += 4) {
            uint64_t w;
            memcpy(&w, u + k, sizeof w);
            w ^= ones * '\n';
            if ((w - ones) & ~w & highs)
                break;
        }
        for (; k < sc->n; k++)
            if (u[k] == '\n')
                return k;
        return -1;
    }
    const Py_UCS4 *u = sc->data;
#if WCHAR_MAX > 0xffff
    /* wchar_t is UCS-4 here: the C library's (vectorised) search */
    const wchar_t *hit = wmemchr((const wchar_t *)u + pos, L'\n', (size_t)(sc->n - pos));
    return hit == NULL ? -1 : (Py_ssize_t)((const Py_UCS4 *)hit - u);
#else
    for (Py_ssize_t k = pos; k < sc->n; k++)
        if (u[k] == '\n')
            return k;
    return -1;
#endif
}

/* Where the scanner is: the line that starts at pos (do_line sets its UTF-8 length). */
static void at_line(scanner *sc, Py_ssize_t pos) { sc->line_start = pos; }

/* Past the line s[pos:nxt] */
static void next_line(scanner *sc, Py_ssize_t nxt)
{
    sc->byte_pos += sc->line_bytes;
    sc->line_no += nxt > 0 && S(sc, nxt - 1) == '\n';
}

/* _SPACES.fullmatch(s, a, b): only blanks, then at most one CR. */
static int spaces_only(const scanner *sc, Py_ssize_t a, Py_ssize_t b)
{
    Py_ssize_t k = a;
    while (k < b && is_blank(S(sc, k)))
        k++;
    if (k < b && S(sc, k) == '\r')
        k++;
    return k == b;
}

static Py_ssize_t indent(const line_t *L, Py_ssize_t i)
{
    while (i < L->n && L->c[i] == ' ')
        i++;
    return i;
}

static PyObject *line_str(line_t *L)
{
    if (L->str == NULL)
        L->str = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, L->c, L->n);
    return L->str;
}

/* A call into Python returning a truth value: 1, 0, or -1 with an exception set. */
static int truth(PyObject *result)
{
    if (result == NULL)
        return -1;
    int t = result != Py_None && PyObject_IsTrue(result);
    Py_DECREF(result);
    return t;
}

/* -- the regexes of blocks.py, by hand --------------------------------------------------- */

/* _ATX: (#{1,6})(?=[ \t]|$) -> the level, or 0 */
static int atx_level(const line_t *L, Py_ssize_t j)
{
    Py_ssize_t k = j;
    while (k < L->n && L->c[k] == '#')
        k++;
    Py_ssize_t r = k - j;
    if (r < 1 || r > 6)
        return 0;
    return (k == L->n || is_blank(L->c[k])) ? (int)r : 0;
}

/* _FENCE_OPEN: (`{3,})[^`]*$|(~{3,}).*$ -> the fence length, or 0 */
static Py_ssize_t fence_open(const line_t *L, Py_ssize_t j)
{
    Py_UCS4 ch = L->c[j];
    if (ch != '`' && ch != '~')
        return 0;
    Py_ssize_t k = j;
    while (k < L->n && L->c[k] == ch)
        k++;
    if (k - j < 3)
        return 0;
    if (ch == '`')
        for (Py_ssize_t q = k; q < L->n; q++)
            if (L->c[q] == '`')
                return 0;
    return k - j;
}

/* A run of ``ch`` from j then only blanks to the end of the line: the run's length, or 0
 * (_FENCE_CLOSE with a minimum of 3, _SETEXT with a minimum of 1). */
static Py_ssize_t run_to_end(const line_t *L, Py_ssize_t j, Py_UCS4 ch)
{
    Py_ssize_t k = j;
    while (k < L->n && L->c[k] == ch)
        k++;
    Py_ssize_t r = k - j;
    while (k < L->n && is_blank(L->c[k]))
        k++;
    return k == L->n ? r : 0;
}

/* _HR from j (``ch`` = line[j], one of *-_): only ch and blanks to the end, ch 3+ times. */
static int hr_from(const line_t *L, Py_ssize_t j)
{
    Py_UCS4 ch = L->c[j];
    Py_ssize_t count = 0;
    for (Py_ssize_t k = j; k < L->n; k++) {
        if (L->c[k] == ch)
            count++;
        else if (!is_blank(L->c[k]))
            return 0;
    }
    return count >= 3;
}

/* _is_hr: the same, with the end of the line's ch-or-blank tail memoised per character
 * so that a line of nested list markers stays linear. */
static int is_hr(line_t *L, Py_ssize_t j, Py_UCS4 ch)
{
    int slot = ch == '*' ? 0 : ch == '-' ? 1 : 2;
    if (L->hr[slot] == -2) {
        Py_ssize_t k = L->n;
        while (k > 0 && (L->c[k - 1] == ch || is_blank(L->c[k - 1])))
            k--;
        L->hr[slot] = k - 1;
    }
    return L->hr[slot] < j && hr_from(L, j);
}

/* _LIST: ([-+*]|(\d{1,9})[.)])(?:([ \t]+)|$) */
typedef struct {
    Py_ssize_t end1; /* end of the marker */
    Py_ssize_t end;  /* end of the match */
    long number;     /* -1 for a bullet */
} list_m;

static int list_match(const line_t *L, Py_ssize_t j, list_m *m)
{
    const Py_UCS4 *c = L->c;
    Py_ssize_t n = L->n, k = j;
    Py_UCS4 ch = c[j];
    if (ch == '-' || ch == '+' || ch == '*') {
        k = j + 1;
        m->number = -1;
    } else {
        long v = 0;
        while (k < n && k - j < 10 && IU_ISDECIMAL(c[k])) {
            v = v * 10 + Py_UNICODE_TODECIMAL(c[k]);
            k++;
        }
        if (k == j || k - j > 9 || k >= n || (c[k] != '.' && c[k] != ')'))
            return 0;
        k++;
        m->number = v;
    }
    Py_ssize_t e = k;
    while (e < n && is_blank(c[e]))
        e++;
    if (e == k && k < n)
        return 0;
    m->end1 = k;
    m->end = e;
    return 1;
}

static int is_opener(Py_UCS4 ch)
{
    switch (ch) {
    case '>': case '=': case '-': case '*': case '_': case '+': case '#': case '`': case '~':
    case '<':
        return 1;
    default:
        return 0;
    }
}

/* -- the legal-line hint ------------------------------------------------------------------ */

/* Whether the hint program (cutter._patterns: "**", "__" or a label start) matches the
 * line at j: 1, 0, or -1 with an exception set. */
static int hint_matches(scanner *sc, line_t *L, Py_ssize_t j)
{
    iu_rx x;
    int r = iu_rx_match(&x, sc->hint, PyUnicode_4BYTE_KIND, L->c, L->n, j);
    if (r >= 0)
        return r;
    PyObject *str = line_str(L);
    return str == NULL ? -1 : iu_rx_fallback(sc->hint, str, j);
}

/* -- the scanner ------------------------------------------------------------------------ */

static void end_block(scanner *sc, Py_ssize_t nxt)
{
    sc->leaf = L_NONE;
    sc->para_floor = nxt;
}

static void close_boxes(scanner *sc, Py_ssize_t keep, Py_ssize_t pos)
{
    sc->depth = keep;
    sc->para_floor = pos;
    sc->quoted = 0;
    for (Py_ssize_t k = 0; k < sc->depth; k++)
        sc->quoted += sc->stack[k].quote;
    sc->leaf = L_NONE;
}

/* blocks._refdef_end(s, p, cur): where the link reference definition at p ends (it
 * may span lines), -1 when none starts there, -2 on a Python error. */
static Py_ssize_t refdef_end(scanner *sc, Py_ssize_t p, Py_ssize_t cur)
{
    Py_ssize_t k = p;
    while (k < sc->n && k - p < 3 && S(sc, k) == ' ')
        k++;
    if (k >= sc->n || S(sc, k) != '[')
        return -1;
    PyObject *end = PyObject_CallFunction(sc->help->refdef, "Onn", sc->s, p, cur);
    if (end == NULL)
        return -2;
    Py_ssize_t e = PyLong_AsSsize_t(end);
    Py_DECREF(end);
    if (e == -1 && PyErr_Occurred())
        return -2;
    return e;
}

/* Scanner._para_text */
static int para_text(scanner *sc, Py_ssize_t cur)
{
    if (sc->leaf != L_PARA)
        return 0;
    Py_ssize_t p = sc->para_start, floor = sc->para_floor;
    if (p < 0) {
        p = cur;
        while (p > floor) {
            Py_ssize_t q = floor;
            for (Py_ssize_t k = p - 2; k >= floor; k--)
                if (S(sc, k) == '\n') {
                    q = k + 1;
                    break;
                }
            if (spaces_only(sc, q, p - 1))
                break;
            p = q;
        }
    }
    while (p < cur) {
        Py_ssize_t e = refdef_end(sc, p, cur);
        if (e == -2)
            return -1;
        if (e < 0)
            break;
        p = e;
    }
    sc->para_start = p;
    if (p < cur)
        return 1;
    sc->leaf = L_NONE;
    sc->para_floor = cur;
    return 0;
}

/* Scanner._para_line */
static int para_line(scanner *sc, line_t *L, Py_ssize_t nxt, Py_ssize_t j)
{
    if (sc->quoted || sc->hint == NULL)
        return 0;
    int h = hint_matches(sc, L, j);
    if (h <= 0)
        return h;
    if (L->expanded) {
        PyObject *text = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, L->c + j, L->n - j);
        if (text == NULL)
            return -1;
        return push_mark(sc, MK_LINE, L->pos, nxt, (int)sc->depth, 0, 0, text);
    }
    return push_mark(sc, MK_LINE, L->pos, nxt, (int)sc->depth, L->pos + j, L->pos + L->n, NULL);
}

static int html_type(scanner *sc, line_t *L, Py_ssize_t j)
{
    PyObject *str = line_str(L);
    if (str == NULL)
        return -1;
    PyObject *r = PyObject_CallFunction(sc->help->html_type, "On", str, j);
    if (r == NULL)
        return -1;
    long t = PyLong_AsLong(r);
    Py_DECREF(r);
    return (int)t;
}

/* end.search(line, i) of an HTML block's end condition */
static int html_search(scanner *sc, line_t *L, PyObject *end, Py_ssize_t i)
{
    PyObject *str = line_str(L);
    if (str == NULL)
        return -1;
    return truth(PyObject_CallMethod(end, "search", "On", str, i));
}

/* Scanner._lazy */
static int lazy(scanner *sc, line_t *L, Py_ssize_t i)
{
    Py_ssize_t j = indent(L, i);
    if (j - i >= 4)
        return 1;
    Py_UCS4 ch = L->c[j];
    list_m m;
    if (ch == '>' || (ch == '#' && atx_level(L, j)))
        return 0;
    if ((ch == '`' || ch == '~') && fence_open(L, j))
        return 0;
    if ((ch == '*' || ch == '-' || ch == '_') && hr_from(L, j))
        return 0;
    if ((ch == '-' || ch == '+' || ch == '*' || IU_ISDIGIT(ch)) && list_match(L, j, &m))
        return 0;
    if (ch == '<') {
        int t = html_type(sc, L, j);
        if (t < 0)
            return -1;
        return t == 0 || t == 7;
    }
    return 1;
}

/* Scanner._setext */
static int setext(scanner *sc, line_t *L, Py_ssize_t j, Py_ssize_t nxt)
{
    Py_ssize_t start = sc->para_start;
    iu_marks *ms = sc->marks;
    while (ms->len && ms->items[ms->len - 1].start >= start) {
        ms->len--;
        Py_CLEAR(ms->items[ms->len].text);
    }
    if (sc->depth == 0) {
        int level = L->c[j] == '=' ? 1 : 2;
        PyObject *text = PyObject_CallFunction(sc->help->setext_text, "Onn", sc->s, start, L->pos);
        if (text == NULL || push_mark(sc, MK_SETEXT, start, nxt, level, 0, 0, text) < 0)
            return -1;
    }
    end_block(sc, nxt);
    return 0;
}

/* _atx_text(line[e:]) as bounds in the line */
static void atx_text(const line_t *L, Py_ssize_t e, Py_ssize_t *a, Py_ssize_t *b)
{
    const Py_UCS4 *c = L->c;
    Py_ssize_t x = e, y = L->n;
    while (x < y && is_blank(c[x]))
        x++;
    while (y > x && is_blank(c[y - 1]))
        y--;
    Py_ssize_t z = y;
    while (z > x && c[z - 1] == '#')
        z--;
    if (z != y && (z == x || is_blank(c[z - 1]))) {
        while (z > x && is_blank(c[z - 1]))
            z--;
        y = z;
    }
    *a = x;
    *b = y;
}

/* Scanner._blocks: open blocks on a line from i (j: its first non-blank from i). */
static int blocks(scanner *sc, line_t *L, Py_ssize_t i, Py_ssize_t j, Py_ssize_t nxt)
{
    Py_ssize_t n = L->n, pos = L->pos;
    int opened = 0, r;
    Py_ssize_t item_at = -1;
    for (;;) {
        if (j >= n) {
            if (sc->leaf != L_ICODE)
                end_block(sc, nxt);
            if (opened && sc->depth && !sc->stack[sc->depth - 1].quote)
                sc->stack[sc->depth - 1].blank_start = sc->stack[sc->depth - 1].empty = 1;
            return 0;
        }
        if (j - i >= 4) {
            /* blocks._indented_line: a paragraph open, even of definitions only, goes on */
            if (sc->leaf == L_PARA)
                return para_line(sc, L, nxt, j);
            sc->leaf = L_ICODE;
            sc->para_floor = nxt;
            return 0;
        }
        Py_UCS4 ch = L->c[j];
        if (is_opener(ch) || IU_ISDIGIT(ch)) {
            if (ch == '>') {
                if (push_box(sc, 1, 0, 0) < 0)
                    return -1;
                sc->quoted++;
                sc->leaf = L_NONE;
                opened = 1;
                i = j + 1;
                if (i < n && L->c[i] == ' ')
                    i++;
                j = indent(L, i);
                continue;
            }
            if ((ch == '=' || ch == '-') && !opened && run_to_end(L, j, ch)) {
                if ((r = para_text(sc, pos)) < 0)
                    return -1;
                if (r)
                    return setext(sc, L, j, nxt);
            }
            if ((ch == '*' || ch == '-' || ch == '_') && is_hr(L, j, ch)) {
                end_block(sc, nxt);
                return 0;
            }
            list_m m;
            if ((ch == '-' || ch == '+' || ch == '*' || IU_ISDIGIT(ch)) &&
                list_match(L, j, &m)) {
                Py_ssize_t spaces = m.end - m.end1;
                int empty = m.end >= n;
                int opens = opened;
                if (!opens) {
                    if (empty || (m.number >= 0 && m.number != 1)) {
                        /* blocks._open_item: not into a paragraph, even of definitions */
                        opens = sc->leaf != L_PARA;
                    } else {
                        opens = 1;
                    }
                }
                if (opens) {
                    Py_ssize_t marker = m.end1 - j;
                    Py_ssize_t width = (j - i) + marker + ((empty || spaces > 4) ? 1 : spaces);
                    if (push_box(sc, 0, width, empty) < 0)
                        return -1;
                    if (item_at < 0)
                        item_at = j;
                    sc->leaf = L_NONE;
                    opened = 1;
                    i = m.end1 + (spaces > 4 ? 1 : spaces);
                    if (empty) {
                        end_block(sc, nxt);
                        return 0;
                    }
                    j = indent(L, i);
                    continue;
                }
            }
            if (ch == '#') {
                int level = atx_level(L, j);
                if (level) {
                    if (sc->depth == 0) {
                        Py_ssize_t a, b;
                        atx_text(L, j + level, &a, &b);
                        if (L->expanded) {
                            PyObject *t = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND,
                                                                    L->c + a, b - a);
                            if (t == NULL || push_mark(sc, MK_ATX, pos, nxt, level, 0, 0, t) < 0)
                                return -1;
                        } else if (push_mark(sc, MK_ATX, pos, nxt, level, pos + a, pos + b,
                                             NULL) < 0) {
                            return -1;
                        }
                    }
                    end_block(sc, nxt);
                    return 0;
                }
            }
            if (ch == '`' || ch == '~') {
                Py_ssize_t len = fence_open(L, j);
                if (len) {
                    sc->leaf = L_FENCE;
                    sc->fence_char = ch;
                    sc->fence_len = len;
                    sc->para_floor = nxt;
                    return 0;
                }
            }
            if (ch == '<') {
                int t = html_type(sc, L, j);
                if (t < 0)
                    return -1;
                int opens = t != 0;
                if (t == 7 && !opened) /* blocks._html: as _open_item */
                    opens = sc->leaf != L_PARA;
                if (opens) {
                    PyObject *end = PyTuple_GET_ITEM(sc->help->html_ends, t - 1);
                    sc->html_end = end == Py_None ? NULL : end;
                    r = 0;
                    if (sc->html_end != NULL && (r = html_search(sc, L, sc->html_end, j + 1)) < 0)
                        return -1;
                    if (r) {
                        end_block(sc, nxt);
                    } else {
                        sc->leaf = L_HTML;
                        sc->para_floor = nxt;
                    }
                    return 0;
                }
            }
        }
        if (sc->leaf != L_PARA) {
            if (ch == '[' && sc->depth) {
                /* inside a container, a one-line definition is a block of its own;
                 * at the top level para_text passes over definitions (blocks._blocks) */
                PyObject *str = line_str(L);
                if (str == NULL)
                    return -1;
                PyObject *end = PyObject_CallFunction(sc->help->refdef, "Onn", str, j, L->n);
                if (end == NULL)
                    return -1;
                Py_ssize_t e = PyLong_AsSsize_t(end);
                Py_DECREF(end);
                if (e == -1 && PyErr_Occurred())
                    return -1;
                if (e >= 0) {
                    end_block(sc, nxt);
                    return 0;
                }
            }
            sc->leaf = L_PARA;
            sc->para_start = pos;
        }
        return para_line(sc, L, nxt, item_at >= 0 ? item_at : j);
    }
}

/* Make room for ``need`` code points in *buf. */
static int grow(Py_UCS4 **buf, Py_ssize_t *cap, Py_ssize_t need)
{
    if (need <= *cap)
        return 0;
    Py_ssize_t size = need < 256 ? 256 : need + need / 2;
    Py_UCS4 *fresh = PyMem_Realloc(*buf, (size_t)size * sizeof(Py_UCS4));
    if (fresh == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *buf = fresh;
    *cap = size;
    return 0;
}

/* Scanner._line on s[pos:eol] (eol: its line feed, or n) */
static int do_line(scanner *sc, Py_ssize_t pos, Py_ssize_t eol, Py_ssize_t nxt)
{
    if (eol > pos && S(sc, eol - 1) == '\r')
        eol--;
    line_t L;
    L.pos = pos;
    L.str = NULL;
    L.hr[0] = L.hr[1] = L.hr[2] = -2;
    /* the line's code points, then (rarely) with its tabs expanded */
    Py_ssize_t len = eol - pos, tabs = 0;
    if (grow(&sc->buf, &sc->buf_cap, len) < 0)
        return -1;
    /* one pass: copy, count tabs and the bytes beyond one per code point in UTF-8 */
    Py_ssize_t extra = 0, ctrl = 0; /* and control characters but tab (no line ends here) */
#define COPY(T)                                                                           \
    {                                                                                     \
        const T *from = (const T *)sc->data + pos;                                        \
        for (Py_ssize_t k = 0; k < len; k++) {                                            \
            Py_UCS4 c = from[k];                                                          \
            sc->buf[k] = c;                                                               \
            tabs += c == '\t';                                                            \
            ctrl += (c < 0x20) + (c == 0x7f);                                             \
            extra += (c >= 0x80) + (c >= 0x800) + (c >= 0x10000);                         \
        }                                                                                 \
    }
    switch (sc->kind) {
    case PyUnicode_1BYTE_KIND:
        COPY(Py_UCS1)
        break;
    case PyUnicode_2BYTE_KIND:
        COPY(Py_UCS2)
        break;
    default:
        COPY(Py_UCS4)
    }
#undef COPY
    sc->line_bytes = nxt - pos + extra; /* the line ending is ASCII */
    sc->marks->control |= ctrl > tabs;
    L.c = sc->buf;
    L.n = len;
    L.expanded = tabs > 0;
    if (tabs) { /* str.expandtabs(4) */
        if (grow(&sc->tabs, &sc->tabs_cap, len + 3 * tabs) < 0)
            return -1;
        Py_ssize_t col = 0;
        for (Py_ssize_t k = 0; k < len; k++) {
            if (sc->buf[k] == '\t') {
                do
                    sc->tabs[col++] = ' ';
                while (col % 4);
            } else {
                sc->tabs[col++] = sc->buf[k];
            }
        }
        L.c = sc->tabs;
        L.n = col;
    }
    int rc = 0;
    Py_ssize_t n = L.n, i = 0, j = indent(&L, 0);
    if (sc->depth) {
        Py_ssize_t matched = 0;
        box *stack = sc->stack;
        if (sc->quoted) {
            for (Py_ssize_t k = 0; k < sc->depth; k++) {
                box *b = &stack[k];
                j = indent(&L, i);
                if (b->quote) {
                    if (j - i <= 3 && j < n && L.c[j] == '>') {
                        i = j + 1;
                        if (i < n && L.c[i] == ' ')
                            i++;
                        matched++;
                        continue;
                    }
                    break;
                }
                if (j - i >= b->width) { /* by indentation first, blank or not (cmark) */
                    i += b->width;
                    matched++;
                    continue;
                }
                if (j >= n) {
                    if (b->empty && b->blank_start)
                        break;
                    matched++;
                    continue;
                }
                break;
            }
            j = indent(&L, i);
        } else if (j >= n) {
            /* blocks._match_items_on_blank: an empty item whose content the blanks reach
             * goes on */
            Py_ssize_t at = 0;
            for (Py_ssize_t k = 0; k < sc->depth; k++) {
                if (n - at >= stack[k].width)
                    at += stack[k].width;
                else if (stack[k].empty && stack[k].blank_start)
                    break;
                else
                    at = n;
                matched++;
            }
        } else {
            for (Py_ssize_t k = 0; k < sc->depth; k++) {
                if (j - i < stack[k].width)
                    break;
                i += stack[k].width;
                matched++;
            }
        }
        if (matched < sc->depth) {
            if (sc->leaf == L_PARA && j < n) {
                int r = lazy(sc, &L, i);
                if (r < 0)
                    goto fail;
                if (r) {
                    rc = para_line(sc, &L, nxt, j);
                    goto done;
                }
            }
            close_boxes(sc, matched, pos);
        }
        if (j < n)
            for (Py_ssize_t k = 0; k < sc->depth; k++)
                sc->stack[k].empty = 0;
    }
    switch (sc->leaf) {
    case L_FENCE:
        if (j - i <= 3 && j < n && L.c[j] == sc->fence_char) {
            Py_ssize_t r = run_to_end(&L, j, sc->fence_char);
            if (r >= 3 && r >= sc->fence_len)
                end_block(sc, nxt);
        }
        goto done;
    case L_HTML: {
        int r;
        if (sc->html_end != NULL) {
            if ((r = html_search(sc, &L, sc->html_end, i)) < 0)
                goto fail;
        } else {
            r = j >= n;
        }
        if (r)
            end_block(sc, nxt);
        goto done;
    }
    case L_ICODE:
        if (j >= n || j - i >= 4)
            goto done;
        sc->leaf = L_NONE;
        sc->para_floor = L.pos; /* a paragraph after the code starts here, not in it */
        break;
    default:
        break;
    }
    rc = blocks(sc, &L, i, j, nxt);
done:
    Py_XDECREF(L.str);
    return rc;
fail:
    Py_XDECREF(L.str);
    return -1;
}

int iu_scan(PyObject *s, Py_ssize_t pos, const iu_program *hint, const iu_scan_helpers *helpers,
            iu_marks *out)
{
    scanner sc;
    memset(&sc, 0, sizeof sc);
    out->control = 0;
    sc.s = s;
    sc.kind = PyUnicode_KIND(s);
    sc.data = PyUnicode_DATA(s);
    Py_ssize_t n = sc.n = PyUnicode_GET_LENGTH(s);
    int ascii = PyUnicode_IS_ASCII(s);
    sc.hint = hint;
    sc.help = helpers;
    sc.marks = out;
    sc.para_start = -1;
    sc.ascii = ascii;
    sc.line_no = 1;
    for (Py_ssize_t k = 0; k < pos; k++)
        sc.line_no += S(&sc, k) == '\n';
    sc.byte_pos = ascii ? pos : iu_utf8_len(sc.kind, sc.data, 0, pos);
    int rc = -1;
    if (0 < pos && pos < n && S(&sc, pos - 1) != '\n') { /* after a BOM: not a line start */
        Py_ssize_t nl = find_nl(&sc, pos);
        Py_ssize_t nxt = nl < 0 ? n : nl + 1;
        at_line(&sc, pos);
        if (do_line(&sc, pos, nl >= 0 ? nl : n, nxt) < 0)
            goto out;
        next_line(&sc, nxt);
        pos = nxt;
    }
    while (pos < n) {
        Py_ssize_t nl = find_nl(&sc, pos);
        if (nl < 0) {
            at_line(&sc, pos);
            if (do_line(&sc, pos, n, n) < 0)
                goto out;
            next_line(&sc, n);
            break;
        }
        Py_ssize_t depth = sc.depth;
        at_line(&sc, pos);
        if (do_line(&sc, pos, nl, nl + 1) < 0)
            goto out;
        next_line(&sc, nl + 1);
        int blank_run = depth && depth == sc.depth && !sc.quoted && spaces_only(&sc, pos, nl);
        for (Py_ssize_t k = 0; blank_run && k < sc.depth; k++) /* blocks._all_matched: */
            if (sc.stack[k].empty && sc.stack[k].blank_start) /* not past an empty item */
                blank_run = 0;
        if (blank_run) {
            /* A blank line that every open list item matched: the blank lines after it
             * are matched the same way and change nothing but the paragraph floor. */
            Py_ssize_t q = nl + 1, last = -1;
            for (;;) {
                Py_ssize_t k = q;
                while (k < n && is_blank(S(&sc, k)))
                    k++;
                if (k < n && S(&sc, k) == '\r')
                    k++;
                if (k < n && S(&sc, k) == '\n') {
                    last = k + 1;
                    q = k + 1;
                    continue;
                }
                break;
            }
            if (last >= 0) {
                for (Py_ssize_t k = nl + 1; k < last; k++) /* blank lines: ASCII */
                    sc.line_no += S(&sc, k) == '\n';
                sc.byte_pos += last - (nl + 1);
                nl = last - 1;
                if (sc.leaf == L_NONE)
                    sc.para_floor = nl + 1;
            }
        }
        pos = nl + 1;
    }
    out->end_line = sc.line_no;
    for (Py_ssize_t k = pos; k < n; k++) /* nothing is left unless the scan stopped early */
        out->end_line += S(&sc, k) == '\n';
    rc = 0;
out:
    PyMem_Free(sc.stack);
    PyMem_Free(sc.buf);
    PyMem_Free(sc.tabs);
    return rc;
}
