/* iucut's compiled cutter core: types shared by the scanner, the builder and the module.
 *
 * The Python modules iucut/cut/blocks.py (scanner) and iucut/cut/cutter.py (builder) are
 * the reference implementation; this core does the same work on the document's code
 * points and must give identical results (tests/unit/test_cut_core.py compares them on
 * every corpus file and on generated documents). Rare, intricate steps (HTML block
 * starts, link reference definitions, setext text, Unicode title cleanup, slugs) call
 * back into those Python modules, so there is one definition of each.
 */
#ifndef IUCUT_CORE_H
#define IUCUT_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Mark kinds, as blocks.ATX / SETEXT / LINE. */
enum { MK_ATX = 0, MK_SETEXT = 1, MK_LINE = 2 };

/* A place where a unit may start (blocks.Mark): s[start:end] is its raw heading. Its
 * text is ``text`` when set (owned), else s[tstart:tend]. */
typedef struct {
    int kind;
    int level;
    Py_ssize_t start, end;
    Py_ssize_t tstart, tend;
    PyObject *text;
    Py_ssize_t line;         /* 1-based line number of start */
    Py_ssize_t bstart, bend; /* start and end as offsets into the UTF-8 source */
} iu_mark;

typedef struct {
    iu_mark *items;
    Py_ssize_t len, cap;
    Py_ssize_t end_line; /* the line number at the end of the text (1 + its line feeds) */
    int control;         /* a line holds a control character (cutter._CONTROL_CHAR) */
} iu_marks;

/* re's \d, \w, \s and str.isdigit, with an ASCII fast path */
#define IU_ISDECIMAL(c) ((c) < 128 ? ((c) >= '0' && (c) <= '9') : Py_UNICODE_ISDECIMAL(c))
#define IU_ISDIGIT(c) ((c) < 128 ? ((c) >= '0' && (c) <= '9') : Py_UNICODE_ISDIGIT(c))
#define IU_ISALNUM(c)                                                                    \
    ((c) < 128 ? (((c) | 32) >= 'a' && ((c) | 32) <= 'z') || ((c) >= '0' && (c) <= '9')  \
               : Py_UNICODE_ISALNUM(c))

/* The UTF-8 length of the code points [a, b) of PyUnicode data of the given kind. */
static inline Py_ssize_t iu_utf8_len(int kind, const void *data, Py_ssize_t a, Py_ssize_t b)
{
    Py_ssize_t extra = 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *u = data;
        for (Py_ssize_t k = a; k < b; k++)
            extra += u[k] >= 0x80;
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *u = data;
        for (Py_ssize_t k = a; k < b; k++)
            extra += (u[k] >= 0x80) + (u[k] >= 0x800);
    } else {
        const Py_UCS4 *u = data;
        for (Py_ssize_t k = a; k < b; k++)
            extra += (u[k] >= 0x80) + (u[k] >= 0x800) + (u[k] >= 0x10000);
    }
    return b - a + extra;
}

/* Python helpers the scanner calls for rare lines (borrowed from iucut.cut.blocks). */
typedef struct {
    PyObject *html_type;   /* _html_type(line, j) -> int */
    PyObject *html_ends;   /* tuple: end pattern (or None) of each HTML block type */
    PyObject *refdef;      /* blocks._refdef_end */
    PyObject *setext_text; /* _setext_text(s, start, end) -> str */
} iu_scan_helpers;

void iu_marks_clear(iu_marks *marks);

/* Scan the str ``s`` (lone CRs already turned into LFs) from ``start``. Fills ``out``;
 * returns 0, or -1 with a Python exception set. */
struct iu_program_s;
int iu_scan(PyObject *s, Py_ssize_t start, const struct iu_program_s *hint,
            const iu_scan_helpers *helpers, iu_marks *out);

/* The lower-case hex SHA-256 of the n parts (bytes) concatenated, as a str (module.c:
 * OpenSSL's, else hashlib's). */
PyObject *iu_sha256_hex(const char *const *parts, const Py_ssize_t *sizes, int n);

/* The text of a mark as a new reference. */
PyObject *iu_mark_text(PyObject *s, const iu_mark *m);

#endif
