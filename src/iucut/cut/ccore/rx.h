/* The label matcher: runs programs compiled from re patterns (iucut/cut/rxcode.py). */
#ifndef IUCUT_RX_H
#define IUCUT_RX_H

#include "core.h"

#define RX_MARKS 64
#define RX_REPEATS 32

/* A compiled pattern: its program, the re.Pattern it came from (the answer when the
 * matcher gives up: recursion deeper than RX_DEPTH) and the groups a label is made of. */
typedef struct iu_program_s {
    PyObject_HEAD
    int *code;
    PyObject *pattern;
    int group[4]; /* label, num, word, label2: group numbers (-1: none) */
} iu_program;

extern PyTypeObject iu_program_type;

/* The state of one match: text (code points of PyUnicode kind ``kind``), marks. */
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
    const int *code;
    Py_ssize_t mark[RX_MARKS];
    Py_ssize_t count[RX_REPEATS], last[RX_REPEATS];
    Py_ssize_t end; /* where the match ended */
    int depth;
    int marks; /* how many of mark are in use */
} iu_rx;

/* Match ``prog`` at ``pos`` of the text: 1 matched (rx->mark, rx->end set), 0 not,
 * -1 undecided (too deep: ask prog->pattern). */
int iu_rx_match(iu_rx *rx, const iu_program *prog, int kind, const void *data, Py_ssize_t n,
                Py_ssize_t pos);

/* The Python answer for an undecided match: 1, 0, or -1 with an exception set. */
int iu_rx_fallback(const iu_program *prog, PyObject *text, Py_ssize_t pos);

#endif
