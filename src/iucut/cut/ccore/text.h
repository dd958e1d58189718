/* Titles, label segments and heading slugs (see text.c). */
#ifndef IUCUT_TEXT_H
#define IUCUT_TEXT_H

#include "core.h"

/* cutter._clean(text) (new reference). */
PyObject *iu_clean(PyObject *text);

/* Flags of cutter._clean's steps for a text (see text.c). */
void iu_clean_flags(int kind, const void *data, Py_ssize_t n, int *emphasis, int *collapse);

/* cutter._clean(text)[:limit] for a text with no "*" or "_" (new reference). */
PyObject *iu_plain_title(int kind, const void *data, Py_ssize_t n, int collapse, Py_ssize_t limit);

/* codes.label_segment(prefix, label), or Py_NotImplemented when label is not ASCII. */
PyObject *iu_label_segment(PyObject *prefix, PyObject *label);

/* codes.heading_slug(text), or Py_NotImplemented when text is not ASCII. */
PyObject *iu_heading_slug(PyObject *text);

#endif
