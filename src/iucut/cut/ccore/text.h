/* Titles, label segments and heading slugs (see text.c). */
#ifndef IUCUT_TEXT_H
#define IUCUT_TEXT_H

#include "core.h"

/* cutter._clean(text) (new reference). */
PyObject *iu_clean(PyObject *text);

/* cutter._clean(text)[:limit] of the n code points of ``kind`` at data (new reference). */
PyObject *iu_title(int kind, const void *data, Py_ssize_t n, Py_ssize_t limit);

/* codes.label_segment(prefix, label), or Py_NotImplemented when label is not ASCII. */
PyObject *iu_label_segment(PyObject *prefix, PyObject *label);

/* codes.heading_slug(text), or Py_NotImplemented when text is not ASCII. */
PyObject *iu_heading_slug(PyObject *text);

#endif
