/* Fast label matching for the built-in profiles (see fast.c). */
#ifndef IUCUT_FAST_H
#define IUCUT_FAST_H

#include "core.h"

enum { FAST_OFF = 0, FAST_VI = 1, FAST_DE = 2, FAST_EN = 3 };

/* Results besides a rule index (>= 0, in the profile's rule order). */
enum { FAST_NONE = -1, FAST_UNKNOWN = -2 };

/* The label is text[a:b], or text[a:b] + "-" + text[a2:b2] when a2 >= 0. */
typedef struct {
    Py_ssize_t a, b, a2, b2;
} iu_fast_label;

/* Match text (``n`` code points of PyUnicode kind ``kind`` at ``data``) against the
 * heading (or plain-line) rules of a built-in profile. */
int iu_fast_match(int profile, int heading, int kind, const void *data, Py_ssize_t n,
                  iu_fast_label *out);

/* Whether text matches a built-in profile's signature at its start (profiles.detect). */
int iu_signature(int profile, int kind, const void *data, Py_ssize_t n);

#endif
