/* Titles, label segments and heading slugs: cutter._clean, codes.label_segment and
 * codes.heading_slug, on code points. The slug and the segment are done here for ASCII
 * text only (folding Unicode to ASCII is left to Python's unicodedata); the callers pass
 * anything else to the Python functions. */
#include "text.h"

#include <string.h>

typedef struct {
    Py_UCS4 *c;
    Py_ssize_t n;
} buf_t;

static int is_ws(Py_UCS4 c) { return Py_UNICODE_ISSPACE(c); }

/* text.strip(chars) for the ASCII characters in ``chars`` */
static void strip_chars(buf_t *b, const char *chars)
{
    Py_ssize_t x = 0, y = b->n;
    while (x < y && b->c[x] && b->c[x] < 128 && strchr(chars, (int)b->c[x]))
        x++;
    while (y > x && b->c[y - 1] && b->c[y - 1] < 128 && strchr(chars, (int)b->c[y - 1]))
        y--;
    memmove(b->c, b->c + x, (size_t)(y - x) * sizeof(Py_UCS4));
    b->n = y - x;
}

/* b[0:lim].replace(ch * 2, "") + b[lim:]; returns the new length of the first part */
static Py_ssize_t drop_pairs(buf_t *b, Py_ssize_t lim, Py_UCS4 ch)
{
    Py_ssize_t w = 0, r = 0;
    if (lim > b->n)
        lim = b->n;
    while (r < lim) {
        if (r + 1 < lim && b->c[r] == ch && b->c[r + 1] == ch) {
            r += 2;
            continue;
        }
        b->c[w++] = b->c[r++];
    }
    Py_ssize_t head = w;
    while (r < b->n)
        b->c[w++] = b->c[r++];
    b->n = w;
    return head;
}

/* Whether text has "*" or "_" (cutter._clean's emphasis step) and whether it has "  ", a
 * tab, a line break or a no-break space (its whitespace step). */
static void clean_flags(int kind, const void *data, Py_ssize_t n, int *emphasis, int *collapse)
{
    /* branch-free, so that the compiler can vectorise it: titles can be whole lines */
#define FLAGS(T)                                                                          \
    {                                                                                     \
        const T *c = data;                                                                \
        unsigned em = 0, co = 0;                                                          \
        if (n > 0)                                                                        \
            co |= c[0] == '\t' || c[0] == '\n' || c[0] == '\r' || c[0] == 0xa0;            \
        for (Py_ssize_t k = 0; k < n; k++)                                                \
            em |= (unsigned)(c[k] == '*') | (unsigned)(c[k] == '_');                      \
        for (Py_ssize_t k = 1; k < n; k++)                                                \
            co |= (unsigned)(c[k] == '\t') | (unsigned)(c[k] == '\n') |                    \
                  (unsigned)(c[k] == '\r') | (unsigned)(c[k] == 0xa0) |                     \
                  ((unsigned)(c[k] == ' ') & (unsigned)(c[k - 1] == ' '));                \
        *emphasis = em != 0;                                                              \
        *collapse = co != 0;                                                              \
    }
    switch (kind) {
    case PyUnicode_1BYTE_KIND:
        FLAGS(Py_UCS1)
        break;
    case PyUnicode_2BYTE_KIND:
        FLAGS(Py_UCS2)
        break;
    default:
        FLAGS(Py_UCS4)
    }
#undef FLAGS
}

/* The text's leading and trailing whitespace dropped and, with ``collapse``, each run of
 * whitespace inside made one space; only the first ``limit`` code points are made. */
static PyObject *strip_collapse(int kind, const void *data, Py_ssize_t n, int collapse,
                                Py_ssize_t limit)
{
    Py_ssize_t x = 0, y = n;
    while (x < y && is_ws(PyUnicode_READ(kind, data, x)))
        x++;
    while (y > x && is_ws(PyUnicode_READ(kind, data, y - 1)))
        y--;
    if (!collapse)
        return PyUnicode_FromKindAndData(kind, (const char *)data + x * kind,
                                         y - x < limit ? y - x : limit);
    Py_ssize_t size = y - x < limit ? y - x : limit;
    Py_UCS4 small[256], *out = size <= 256 ? small : PyMem_Malloc((size_t)size * sizeof(Py_UCS4));
    if (out == NULL)
        return PyErr_NoMemory();
    Py_ssize_t w = 0;
    for (Py_ssize_t r = x; r < y && w < limit;) {
        Py_UCS4 c = PyUnicode_READ(kind, data, r);
        if (is_ws(c)) {
            while (r < y && is_ws(PyUnicode_READ(kind, data, r)))
                r++;
            out[w++] = ' ';
        } else {
            out[w++] = c;
            r++;
        }
    }
    PyObject *title = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, w);
    if (out != small)
        PyMem_Free(out);
    return title;
}

PyObject *iu_title(int kind, const void *data, Py_ssize_t n, Py_ssize_t limit)
{
    int emphasis, collapse;
    clean_flags(kind, data, n, &emphasis, &collapse);
    if (!emphasis)
        return strip_collapse(kind, data, n, collapse, limit);
    buf_t b = {PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_UCS4)), n};
    if (b.c == NULL)
        return PyErr_NoMemory();
    for (Py_ssize_t k = 0; k < n; k++)
        b.c[k] = PyUnicode_READ(kind, data, k);
    strip_chars(&b, " \t*_");
    int pairs = 0;
    for (Py_ssize_t k = 1; k < b.n && k < 80; k++)
        if ((b.c[k] == '*' || b.c[k] == '_') && b.c[k - 1] == b.c[k])
            pairs = 1;
    if (pairs) /* text[:80].replace("**", "").replace("__", "") + text[80:] */
        drop_pairs(&b, drop_pairs(&b, 80, '*'), '_');
    clean_flags(PyUnicode_4BYTE_KIND, b.c, b.n, &emphasis, &collapse);
    PyObject *out = strip_collapse(PyUnicode_4BYTE_KIND, b.c, b.n, collapse, limit);
    PyMem_Free(b.c);
    return out;
}

PyObject *iu_clean(PyObject *text)
{
    return iu_title(PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text),
                    PY_SSIZE_T_MAX);
}

/* -- codes ------------------------------------------------------------------------------ */

/* out[*x:*y].strip("-") */
static void strip_dashes(const char *out, Py_ssize_t *x, Py_ssize_t *y)
{
    while (*x < *y && out[*x] == '-')
        (*x)++;
    while (*y > *x && out[*y - 1] == '-')
        (*y)--;
}

static int label_char(Py_UCS4 c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '^';
}

PyObject *iu_label_segment(PyObject *prefix, PyObject *label)
{
    if (!PyUnicode_IS_ASCII(label))
        return Py_NewRef(Py_NotImplemented);
    Py_ssize_t n = PyUnicode_GET_LENGTH(label);
    const Py_UCS1 *c = PyUnicode_1BYTE_DATA(label);
    char small[256] = "", *out = n < 256 ? small : PyMem_Malloc((size_t)n + 1);
    if (out == NULL)
        return PyErr_NoMemory();
    Py_ssize_t w = 0;
    for (Py_ssize_t r = 0; r < n;) {
        if ((r == 1 || (r == 2 && c[1] >= 'A' && c[1] <= 'Z')) && c[0] >= 'A' && c[0] <= 'Z' &&
            (c[r] == '.' || c[r] == ' ' || c[r] == '\t')) {
            /* codes._LETTER_NUMBER: "L. 111-1" is "L111-1" (the capitals it starts with) */
            Py_ssize_t q = r;
            while (q < n && (c[q] == '.' || c[q] == ' ' || c[q] == '\t'))
                q++;
            if (q < n && c[q] >= '0' && c[q] <= '9') {
                r = q;
                continue;
            }
        }
        if (c[r] == ' ' || label_char(c[r])) { /* " " became "-" before the substitution */
            out[w++] = c[r] == ' ' ? '-' : (char)c[r];
            r++;
        } else {
            while (r < n && c[r] != ' ' && !label_char(c[r]))
                r++;
            out[w++] = '-';
        }
    }
    Py_ssize_t x = 0, y = w;
    strip_dashes(out, &x, &y);
    PyObject *tail = PyUnicode_FromStringAndSize(out + x, y - x);
    if (out != small)
        PyMem_Free(out);
    if (tail == NULL)
        return NULL;
    PyObject *seg = PyUnicode_Concat(prefix, tail);
    Py_DECREF(tail);
    return seg;
}

static int is_roman_upper(char c) { return c && strchr("IVXLCDM", c) != NULL; }
static int is_roman_lower(char c) { return c && strchr("ivxlcdm", c) != NULL; }
static int is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static int is_dig(char c) { return c >= '0' && c <= '9'; }
static int is_blank(char c) { return c == ' ' || c == '\t'; }
/* re's \s on ASCII */
static int ascii_space(char c) { return (c >= 9 && c <= 13) || (c >= 28 && c <= 32); }

/* [ \t]+(?=\S) at k: the end, or -1 */
static Py_ssize_t blanks_then_text(const char *s, Py_ssize_t n, Py_ssize_t k)
{
    Py_ssize_t e = k;
    while (e < n && is_blank(s[e]))
        e++;
    return e > k && e < n && !ascii_space(s[e]) ? e : -1;
}

/* A run of ``pred`` from k: its end */
static Py_ssize_t run(const char *s, Py_ssize_t n, Py_ssize_t k, int (*pred)(char))
{
    while (k < n && pred(s[k]))
        k++;
    return k;
}

/* codes._ENUMERATOR.match(s): the end of a leading enumerator ("1.", "IV)", "1.2.3",
 * "(a)") and the blanks after it, or 0 */
static Py_ssize_t enumerator(const char *s, Py_ssize_t n)
{
    Py_ssize_t k = run(s, n, 0, is_blank), e;
    char c = k < n ? s[k] : 0;
    /* (?:\d+|[A-Za-z]|[IVXLCDM]+|[ivxlcdm]+)[.)] */
    Py_ssize_t ends[4] = {-1, -1, -1, -1};
    if (is_dig(c))
        ends[0] = run(s, n, k, is_dig);
    if (is_alpha(c))
        ends[1] = k + 1;
    if (is_roman_upper(c))
        ends[2] = run(s, n, k, is_roman_upper);
    if (is_roman_lower(c))
        ends[3] = run(s, n, k, is_roman_lower);
    for (int a = 0; a < 4; a++) {
        Py_ssize_t q = ends[a];
        if (q >= 0 && q < n && (s[q] == '.' || s[q] == ')') && (e = blanks_then_text(s, n, q + 1)) >= 0)
            return e;
    }
    /* \d+(?:\.\d+)+\.? */
    if (is_dig(c)) {
        Py_ssize_t q = run(s, n, k, is_dig), parts = 0;
        while (q + 1 < n && s[q] == '.' && is_dig(s[q + 1])) {
            q = run(s, n, q + 1, is_dig);
            parts++;
        }
        if (parts) {
            if (q < n && s[q] == '.')
                q++;
            if ((e = blanks_then_text(s, n, q)) >= 0)
                return e;
        }
    }
    /* \((?:\d+|[A-Za-z]|[ivxlcdm]+)\) */
    if (c == '(' && k + 1 < n) {
        char d = s[k + 1];
        Py_ssize_t inner[3] = {-1, -1, -1};
        if (is_dig(d))
            inner[0] = run(s, n, k + 1, is_dig);
        if (is_alpha(d))
            inner[1] = k + 2;
        if (is_roman_lower(d))
            inner[2] = run(s, n, k + 1, is_roman_lower);
        for (int a = 0; a < 3; a++) {
            Py_ssize_t q = inner[a];
            if (q >= 0 && q < n && s[q] == ')' && (e = blanks_then_text(s, n, q + 1)) >= 0)
                return e;
        }
    }
    return 0;
}

#define MAX_SLUG 64

PyObject *iu_heading_slug(PyObject *text)
{
    if (!PyUnicode_IS_ASCII(text))
        return Py_NewRef(Py_NotImplemented);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const char *s = (const char *)PyUnicode_1BYTE_DATA(text);
    Py_ssize_t k = enumerator(s, n);
    char small[256] = "", *out = n < 256 ? small : PyMem_Malloc((size_t)n + 1);
    if (out == NULL)
        return PyErr_NoMemory();
    Py_ssize_t w = 0;
    for (Py_ssize_t r = k; r < n;) { /* lower case, runs of [^a-z0-9] -> "-" */
        char c = s[r];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if ((c >= 'a' && c <= 'z') || is_dig(c)) {
            out[w++] = c;
            r++;
            continue;
        }
        while (r < n) {
            char d = s[r];
            if (d >= 'A' && d <= 'Z')
                d = (char)(d + 32);
            if ((d >= 'a' && d <= 'z') || is_dig(d))
                break;
            r++;
        }
        out[w++] = '-';
    }
    Py_ssize_t x = 0, y = w;
    strip_dashes(out, &x, &y);
    if (y - x > MAX_SLUG) { /* cut at the last "-" within the first MAX_SLUG + 1 */
        Py_ssize_t cut = -1;
        for (Py_ssize_t q = x + MAX_SLUG; q > x; q--)
            if (out[q] == '-') {
                cut = q;
                break;
            }
        y = x + (cut > x ? cut - x : MAX_SLUG);
    }
    PyObject *slug = y > x ? PyUnicode_FromStringAndSize(out + x, y - x)
                           : PyUnicode_FromString("untitled");
    if (out != small)
        PyMem_Free(out);
    return slug;
}
