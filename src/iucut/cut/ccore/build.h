/* The builder: marks -> Unit objects (cutter._Builder). */
#ifndef IUCUT_BUILD_H
#define IUCUT_BUILD_H

#include "core.h"

#define UNIT_NFIELDS 17

/* How Unit objects are made: straight into their slots when Unit is the frozen, slotted
 * dataclass of iucut.units (what its __init__ does, without the per-field calls). */
typedef struct {
    PyTypeObject *type;
    int direct;
    Py_ssize_t offsets[UNIT_NFIELDS];
} unit_maker;

/* Python functions of iucut.cut.cutter / iucut.cut.codes the builder calls. */
typedef struct {
    PyObject *split_id;      /* codes.split_id(text) -> (text, id | None) */
    PyObject *label_segment; /* codes.label_segment(prefix, label) */
    PyObject *heading_slug;  /* codes.heading_slug(title) */
    PyObject *doc_title;     /* (first heading | None) -> the document unit's title */
    PyObject *label_from;    /* profiles.label_from(groups) */
} iu_build_hooks;

typedef struct {
    PyObject *s;          /* the scanned text (lone CRs as LFs) */
    Py_ssize_t n;
    PyObject *text;       /* the document text: raw headings and bodies are its slices */
    const char *raw;      /* its UTF-8 bytes: content hashes and byte spans */
    Py_ssize_t raw_len;
    PyObject *path, *ns;
    PyObject *heads, *lines; /* profile Matchers for headings / plain lines */
    PyObject *rules;         /* tuple of rule specs (cutter._rule_specs) */
    PyObject *coder, *used;  /* codes.Coder and its ``used`` set */
    iu_build_hooks hooks;
    unit_maker maker;
    const char *hash_head;   /* "iu1\0" */
    Py_ssize_t hash_head_len;
    PyObject *str_match, *str_document, *str_heading; /* interned names */
} iu_build_in;

int iu_unit_maker_init(unit_maker *mk, PyObject *type);

/* The document's units, document unit first (a new list), or NULL with an exception. */
PyObject *iu_build(const iu_build_in *in, const iu_marks *marks);

#endif
