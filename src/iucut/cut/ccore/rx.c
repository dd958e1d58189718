/* The label matcher: a backtracking matcher for the programs iucut/cut/rxcode.py makes
 * of re patterns, with re's semantics (Modules/_sre/sre_lib.h): the rest of the program
 * is the continuation, so a choice (alternative, repeat count) is a recursive call and
 * failure returns to the last choice. A program is the number of marks it sets, then
 * instructions (ints; "next" is a position):
 *
 *   FIRST b0 b1 b2 b3 nr (lo hi)*nr   the next character is an ASCII one of bitmap b or
 *                             in a range (nr -1: any other); it is not consumed
 *   END                       the (sub)match succeeds here
 *   CHAR c                    the code point c
 *   SET flags nr nc b0 b1 b2 b3 (lo hi)*nr cat*nc   a class (flags: 1 negated, 2 lower the
 *                             char first); b: the ASCII characters it matches, as bits
 *   AT kind                   ^ \A $ \Z \b \B (rxcode: BEGIN ... NOT_BOUNDARY)
 *   MARK k                    mark k = here (groups: 2g, 2g + 1)
 *   BRANCH n t start*n [mask*128]  alternatives, each ends in JUMP (and may start with
 *                             FIRST); t: the masks of the alternatives each ASCII
 *                             character can start follow
 *   JUMP next
 *   REPEAT_ONE min max greedy next, CHAR or SET   a repeated class (max -1: unbounded)
 *   REPEAT id min max greedy next, body, UNTIL at  a repeated group
 *   ASSERT kind width next, body, END   lookahead/lookbehind (kind: 1 negated, 2 behind)
 *   ATOMIC next, body, END
 *   GROUPREF g icase
 */
#include "rx.h"

#include <structmember.h>

enum { END, CHAR, SET, AT, MARK, BRANCH, JUMP, REPEAT_ONE, REPEAT, UNTIL, ASSERT, ATOMIC,
       GROUPREF, FIRST };
enum { BEGIN, BEGIN_LINE, END_TEXT, END_LINE, END_STRING, BOUNDARY, NOT_BOUNDARY };
#define RX_DEPTH 2000

static inline Py_UCS4 ch(const iu_rx *x, Py_ssize_t k) { return PyUnicode_READ(x->kind, x->data, k); }
static inline int is_word(Py_UCS4 c) { return c == '_' || IU_ISALNUM(c); }

static int category(int cat, Py_UCS4 c)
{
    int yes;
    switch (cat >> 1) {
    case 0: yes = IU_ISDECIMAL(c); break;
    case 1: yes = Py_UNICODE_ISSPACE(c); break;
    case 2: yes = is_word(c); break;
    default: yes = c == '\n'; break; /* re's LINEBREAK */
    }
    return yes != (cat & 1);
}

/* Whether the class at p (CHAR or SET) matches c; *len its length in ints. */
/* Whether the ASCII character c is in the bitmap of 4 ints at b. */
static inline int ascii_bit(const int *b, Py_UCS4 c) { return ((uint32_t)b[c >> 5] >> (c & 31)) & 1; }

static int in_class(const int *p, Py_UCS4 c, int *len)
{
    if (p[0] == CHAR) {
        *len = 2;
        return c == (Py_UCS4)p[1];
    }
    int flags = p[1], nr = p[2], nc = p[3], yes = 0;
    *len = 8 + 2 * nr + nc;
    if (c < 128)
        return ascii_bit(p + 4, c);
    if (flags & 2)
        c = Py_UNICODE_TOLOWER(c);
    for (int k = 0; k < nr && !yes; k++)
        yes = c >= (Py_UCS4)p[8 + 2 * k] && c <= (Py_UCS4)p[9 + 2 * k];
    for (int k = 0; k < nc && !yes; k++)
        yes = category(p[8 + 2 * nr + k], c);
    return yes != (flags & 1);
}

static int at(const iu_rx *x, int kind, Py_ssize_t pos)
{
    Py_ssize_t n = x->n;
    switch (kind) {
    case BEGIN: return pos == 0;
    case BEGIN_LINE: return pos == 0 || ch(x, pos - 1) == '\n';
    case END_TEXT: return pos == n || (pos == n - 1 && ch(x, pos) == '\n');
    case END_LINE: return pos == n || ch(x, pos) == '\n';
    case END_STRING: return pos == n;
    default: {
        if (n == 0)
            return 0;
        int before = pos > 0 && is_word(ch(x, pos - 1)), here = pos < n && is_word(ch(x, pos));
        return (before != here) == (kind == BOUNDARY);
    }
    }
}

static int run(iu_rx *x, int pc, Py_ssize_t pos);

/* FIRST at p: whether the character c can start what follows. */
static inline int first_char(const int *p, Py_UCS4 c)
{
    if (c < 128)
        return ascii_bit(p + 1, c);
    for (int k = 0; k < p[5]; k++)
        if (c >= (Py_UCS4)p[6 + 2 * k] && c <= (Py_UCS4)p[7 + 2 * k])
            return 1;
    return p[5] < 0;
}

static inline int first_ok(const iu_rx *x, const int *p, Py_ssize_t pos)
{
    return pos < x->n && first_char(p, ch(x, pos));
}

/* A repeated class from pos: try each count, most first (greedy) or fewest first. */
static int repeat_one(iu_rx *x, const int *p, Py_ssize_t pos)
{
    Py_ssize_t min = p[1], max = p[2] < 0 ? PY_SSIZE_T_MAX : p[2], count = 0;
    int len;
    while (count < max && pos + count < x->n && in_class(p + 5, ch(x, pos + count), &len))
        count++;
    if (count < min)
        return 0;
    const int *next = x->code + p[4];
    for (Py_ssize_t k = 0; k <= count - min; k++) {
        Py_ssize_t at = pos + (p[3] ? count - k : min + k);
        if (next[0] == FIRST && !first_ok(x, next, at))
            continue; /* what follows cannot start here */
        int r = run(x, p[4], at);
        if (r)
            return r;
    }
    return 0;
}

/* UNTIL of the repeat at rp: one more time through the body, or on (sre's MAX_UNTIL and
 * MIN_UNTIL, with their guard against empty iterations). */
static int until(iu_rx *x, int rp, Py_ssize_t pos)
{
    const int *p = x->code + rp;
    int id = p[1], r;
    Py_ssize_t count = ++x->count[id], last = x->last[id];
    int more = (p[3] < 0 || count < p[3]) && pos != last;
    if (count < p[2]) {
        r = run(x, rp + 6, pos);
    } else if (p[4]) { /* greedy: the body again, else the rest */
        r = 0;
        if (more) {
            x->last[id] = pos;
            r = run(x, rp + 6, pos);
            x->last[id] = last;
        }
        if (!r)
            r = run(x, p[5], pos);
    } else { /* lazy: the rest, else the body again */
        r = run(x, p[5], pos);
        if (!r && more) {
            x->last[id] = pos;
            r = run(x, rp + 6, pos);
            x->last[id] = last;
        }
    }
    if (!r)
        x->count[id] = count - 1;
    return r;
}

static int step(iu_rx *x, int pc, Py_ssize_t pos)
{
    const int *code = x->code;
    int len, r;
    for (;;) {
        const int *p = code + pc;
        switch (p[0]) {
        case END:
            x->end = pos;
            return 1;
        case CHAR:
        case SET:
            if (pos >= x->n || !in_class(p, ch(x, pos), &len))
                return 0;
            pos++;
            pc += len;
            break;
        case AT:
            if (!at(x, p[1], pos))
                return 0;
            pc += 2;
            break;
        case MARK: {
            Py_ssize_t old = x->mark[p[1]];
            x->mark[p[1]] = pos;
            if (!(r = run(x, pc + 2, pos)))
                x->mark[p[1]] = old;
            return r;
        }
        case BRANCH: {
            /* p[2]: a table of 128 masks follows the starts: the alternatives an ASCII
             * character can start (bit k: alternative k) */
            Py_UCS4 c = pos < x->n ? ch(x, pos) : 0x110000;
            uint32_t mask = p[2] && c < 128 ? (uint32_t)p[3 + p[1] + c] : ~(uint32_t)0;
            for (int k = 0; k < p[1]; k++) {
                const int *alt = code + p[3 + k];
                if ((k < 32 && !((mask >> k) & 1)) || (alt[0] == FIRST && !first_ok(x, alt, pos)))
                    continue;
                if ((r = run(x, p[3 + k], pos)))
                    return r;
            }
            return 0;
        }
        case JUMP:
            pc = p[1];
            break;
        case REPEAT_ONE:
            return repeat_one(x, p, pos);
        case REPEAT: {
            Py_ssize_t count = x->count[p[1]], last = x->last[p[1]];
            x->count[p[1]] = -1;
            x->last[p[1]] = -1;
            r = until(x, pc, pos);
            x->count[p[1]] = count;
            x->last[p[1]] = last;
            return r;
        }
        case UNTIL:
            return until(x, p[1], pos);
        case ASSERT: {
            int negated = p[1] & 1;
            Py_ssize_t from = p[1] & 2 ? pos - p[2] : pos;
            r = from < 0 ? 0 : run(x, pc + 4, from);
            if (r < 0)
                return r;
            if (r == negated)
                return 0;
            pc = p[3];
            break;
        }
        case ATOMIC:
            if ((r = run(x, pc + 2, pos)) <= 0)
                return r;
            pos = x->end;
            pc = p[1];
            break;
        case GROUPREF: {
            Py_ssize_t a = x->mark[2 * p[1]], b = x->mark[2 * p[1] + 1];
            if (a < 0 || b < a || pos + (b - a) > x->n)
                return 0;
            for (Py_ssize_t k = 0; k < b - a; k++) {
                Py_UCS4 u = ch(x, a + k), v = ch(x, pos + k);
                if (p[2] ? Py_UNICODE_TOLOWER(u) != Py_UNICODE_TOLOWER(v) : u != v)
                    return 0;
            }
            pos += b - a;
            pc += 3;
            break;
        }
        case FIRST:
            if (!first_ok(x, p, pos))
                return 0;
            pc += 6 + 2 * (p[5] > 0 ? p[5] : 0);
            break;
        default:
            return -1;
        }
    }
}

static int run(iu_rx *x, int pc, Py_ssize_t pos)
{
    if (x->depth >= RX_DEPTH)
        return -1;
    x->depth++;
    int r = step(x, pc, pos);
    x->depth--;
    return r;
}

int iu_rx_match(iu_rx *x, const iu_program *prog, int kind, const void *data, Py_ssize_t n,
                Py_ssize_t pos)
{
    x->kind = kind;
    x->data = data;
    x->n = n;
    x->code = prog->code;
    if (prog->code[1] == FIRST && (pos >= n || !first_char(prog->code + 1, PyUnicode_READ(kind, data, pos))))
        return 0; /* most rules, most texts */
    x->depth = 0;
    x->marks = prog->code[0];
    for (int k = 0; k < x->marks; k++)
        x->mark[k] = -1;
    x->mark[0] = pos;
    return run(x, 1, pos);
}

int iu_rx_fallback(const iu_program *prog, PyObject *text, Py_ssize_t pos)
{
    PyObject *m = PyObject_CallMethod(prog->pattern, "match", "On", text, pos);
    if (m == NULL)
        return -1;
    int r = m != Py_None;
    Py_DECREF(m);
    return r;
}

/* -- the Program type ------------------------------------------------------------------- */

static PyObject *program_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"code", "pattern", "groups", NULL};
    Py_buffer code;
    PyObject *pattern;
    int g[4];
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "y*O(iiii):Program", kwlist, &code, &pattern,
                                     &g[0], &g[1], &g[2], &g[3]))
        return NULL;
    iu_program *self = NULL;
    if (code.len < 2 * (Py_ssize_t)sizeof(int) || code.len % sizeof(int) ||
        ((int *)code.buf)[0] < 2 || ((int *)code.buf)[0] > RX_MARKS) {
        PyErr_SetString(PyExc_ValueError, "not a program of iucut.cut.rxcode");
        goto done;
    }
    for (int k = 0; k < 4; k++)
        if (g[k] < -1 || g[k] >= RX_MARKS / 2) {
            PyErr_SetString(PyExc_ValueError, "group number out of range");
            goto done;
        }
    if ((self = (iu_program *)type->tp_alloc(type, 0)) == NULL)
        goto done;
    memcpy(self->group, g, sizeof g);
    if ((self->code = PyMem_Malloc((size_t)code.len)) == NULL) {
        Py_CLEAR(self);
        PyErr_NoMemory();
        goto done;
    }
    memcpy(self->code, code.buf, (size_t)code.len);
    self->pattern = Py_NewRef(pattern);
done:
    PyBuffer_Release(&code);
    return (PyObject *)self;
}

static void program_dealloc(iu_program *self)
{
    PyMem_Free(self->code);
    Py_XDECREF(self->pattern);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Program.match(text, pos=0): the marks (-1: unset) as a tuple, None, or NotImplemented. */
static PyObject *program_match(iu_program *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t pos = 0;
    if (!PyArg_ParseTuple(args, "U|n:match", &text, &pos))
        return NULL;
    if (pos < 0 || pos > PyUnicode_GET_LENGTH(text))
        Py_RETURN_NONE;
    iu_rx x;
    int r = iu_rx_match(&x, self, PyUnicode_KIND(text), PyUnicode_DATA(text),
                        PyUnicode_GET_LENGTH(text), pos);
    if (r < 0)
        return Py_NewRef(Py_NotImplemented);
    if (r == 0)
        Py_RETURN_NONE;
    x.mark[1] = x.end;
    PyObject *out = PyTuple_New(RX_MARKS);
    for (int k = 0; out != NULL && k < RX_MARKS; k++) {
        PyObject *v = PyLong_FromSsize_t(k < x.marks ? x.mark[k] : -1);
        if (v == NULL)
            Py_CLEAR(out);
        else
            PyTuple_SET_ITEM(out, k, v);
    }
    return out;
}

static PyMethodDef program_methods[] = {
    {"match", (PyCFunction)program_match, METH_VARARGS,
     "match(text, pos=0): the marks of a match (group g: 2g, 2g + 1; -1 unset), None, or "
     "NotImplemented (too deep: re decides)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef program_members[] = {
    {"pattern", T_OBJECT, offsetof(iu_program, pattern), READONLY, "the re.Pattern"},
    {NULL, 0, 0, 0, NULL},
};

PyTypeObject iu_program_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "iucut.cut._core.Program",
    .tp_basicsize = sizeof(iu_program),
    .tp_dealloc = (destructor)program_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Program(code, pattern, groups): a pattern compiled by iucut.cut.rxcode.",
    .tp_new = program_new,
    .tp_methods = program_methods,
    .tp_members = program_members,
};
