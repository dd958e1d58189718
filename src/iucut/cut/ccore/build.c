/* Marks -> units: cutter._Builder.units and ._rows, on code points.
 *
 * Labels are matched by the profile's rule programs (rx.c; the Python Matcher decides
 * the rare text the matcher gives up on, and profiles.label_from makes the labels that
 * need more than the label group's text: ordinal words, Roman numerals); titles,
 * ASCII slugs and label segments are made natively (text.c), non-ASCII ones, {#id}
 * attributes and the document title by the Python functions of iucut.cut.codes and
 * iucut.cut.cutter. The unit tree, codes, line and byte spans, the iu1 content hashes
 * (straight from the source bytes) and the Unit objects are made here.
 */
#include "core.h"
#include "build.h"
#include "rx.h"
#include "text.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <structmember.h>

#define PLAIN_LEVEL 7
#define MAX_TITLE 200
#define NO_RANK LONG_MIN

typedef struct {
    PyObject *rule;   /* borrowed */
    PyObject *kind;   /* borrowed */
    long rank;
    PyObject *prefix; /* borrowed */
    int global;
    PyObject *within; /* borrowed tuple; empty: anywhere */
    iu_program *head, *line; /* borrowed; NULL: no pattern */
    int strict;
    int levels; /* Rule.levels: its headings nest by level with other such headings */
    PyObject *first;    /* borrowed str: Rule.first */
    PyObject *first_in; /* borrowed tuple: Rule.first_in; empty: none */
} rule_t;

typedef struct {
    PyObject *kind; /* borrowed (a rule's kind, or the interned "document"/"heading") */
    PyObject *code; /* owned */
    long rank;
    int level;
    int levels; /* its rule's Rule.levels */
    Py_ssize_t depth;
    Py_ssize_t children;
    int is_document;
} node_t;

typedef struct {
    Py_ssize_t start, end;
    Py_ssize_t line, bstart, bend;
    PyObject *code, *kind, *label, *title, *parent_code; /* owned (label may be Py_None) */
    Py_ssize_t depth, ordinal;
} row_t;

/* -- Unit objects ----------------------------------------------------------------------- */

static const char *UNIT_FIELDS[UNIT_NFIELDS] = {
    "namespace", "code", "parent_code", "kind", "label", "ordinal", "depth", "position",
    "title", "raw_heading", "body", "content_hash", "doc_path", "line_start", "line_end",
    "byte_start", "byte_end",
};

/* Offsets of Unit's 17 slots, in field order; 0 when Unit is not that slotted class (then
 * units are built by calling it). */
static int unit_offsets(PyTypeObject *type, Py_ssize_t offsets[UNIT_NFIELDS])
{
    PyMemberDef *members = type->tp_members;
    int found = 0;
    if (!(type->tp_flags & Py_TPFLAGS_HEAPTYPE) || members == NULL)
        return 0;
    for (int f = 0; f < UNIT_NFIELDS; f++) {
        offsets[f] = 0;
        for (PyMemberDef *m = members; m->name != NULL; m++) {
            if (strcmp(m->name, UNIT_FIELDS[f]) == 0 && m->type == T_OBJECT_EX &&
                !(m->flags & READONLY)) {
                offsets[f] = m->offset;
                found++;
                break;
            }
        }
    }
    return found == UNIT_NFIELDS && type->tp_new == PyBaseObject_Type.tp_new &&
           type->tp_alloc == PyType_GenericAlloc;
}

/* Unit(*values): steals the references in values (all non-NULL). */
static PyObject *make_unit(const unit_maker *mk, PyObject *values[UNIT_NFIELDS])
{
    PyObject *unit;
    if (mk->direct) {
        unit = mk->type->tp_alloc(mk->type, 0);
        if (unit != NULL) {
            for (int f = 0; f < UNIT_NFIELDS; f++)
                *(PyObject **)((char *)unit + mk->offsets[f]) = values[f];
            /* A Unit holds only str, int and None: it can be in no reference cycle, so
             * the cyclic GC need not walk it (as CPython does for tuples of atoms). */
            PyObject_GC_UnTrack(unit);
            return unit;
        }
    } else {
        unit = PyObject_Vectorcall((PyObject *)mk->type, values, UNIT_NFIELDS, NULL);
    }
    for (int f = 0; f < UNIT_NFIELDS; f++)
        Py_DECREF(values[f]);
    return unit;
}

int iu_unit_maker_init(unit_maker *mk, PyObject *type)
{
    if (!PyType_Check(type)) {
        PyErr_SetString(PyExc_TypeError, "unit type must be a class");
        return -1;
    }
    /* The answer for the last class, while the class is unchanged (its version tag). */
    static unit_maker last;
    static unsigned int last_tag;
    PyTypeObject *cls = (PyTypeObject *)type;
    if (cls == last.type && last_tag != 0 && cls->tp_version_tag == last_tag &&
        PyType_HasFeature(cls, Py_TPFLAGS_VALID_VERSION_TAG)) {
        *mk = last;
        return 0;
    }
    mk->type = cls;
    /* Only a frozen dataclass without __post_init__ may skip __init__. */
    int post = PyObject_HasAttrString(type, "__post_init__");
    mk->direct = !post && unit_offsets(mk->type, mk->offsets);
    if (PyType_HasFeature(cls, Py_TPFLAGS_VALID_VERSION_TAG)) {
        last = *mk;
        last_tag = cls->tp_version_tag;
    }
    return 0;
}

/* -- text helpers ------------------------------------------------------------------------ */

/* text.startswith(("*", "_")) or "**" in text[:80] or "__" in text[:80] */
static int has_emphasis_start(int kind, const void *data, Py_ssize_t n)
{
    for (Py_ssize_t k = 0; k < n && k < 80; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, k);
        if ((c == '*' || c == '_') && (k == 0 || PyUnicode_READ(kind, data, k - 1) == c))
            return 1;
    }
    return 0;
}

static int str_emphasis(PyObject *text)
{
    return has_emphasis_start(PyUnicode_KIND(text), PyUnicode_DATA(text),
                              PyUnicode_GET_LENGTH(text));
}

static int starts_double(PyObject *text)
{
    if (PyUnicode_GET_LENGTH(text) < 2)
        return 0;
    Py_UCS4 a = PyUnicode_READ_CHAR(text, 0), b = PyUnicode_READ_CHAR(text, 1);
    return (a == '*' || a == '_') && b == a;
}

static int has_id_attr(PyObject *text)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t k = 1; k < n; k++)
        if (PyUnicode_READ(kind, data, k) == '#' && PyUnicode_READ(kind, data, k - 1) == '{')
            return 1;
    return 0;
}

/* -- the builder -------------------------------------------------------------------------- */

typedef struct {
    const iu_build_in *in;
    rule_t *rules;
    Py_ssize_t nrules;
    node_t *stack;
    Py_ssize_t depth, cap;
    row_t *rows;
    Py_ssize_t nrows, rcap;
} builder;

static void node_clear(node_t *node) { Py_CLEAR(node->code); }

static void row_clear(row_t *r)
{
    Py_CLEAR(r->code);
    Py_CLEAR(r->kind);
    Py_CLEAR(r->label);
    Py_CLEAR(r->title);
    Py_CLEAR(r->parent_code);
}

static iu_program *program_or_null(PyObject *p)
{
    if (p == Py_None)
        return NULL;
    if (!PyObject_TypeCheck(p, &iu_program_type)) {
        PyErr_SetString(PyExc_TypeError, "a rule pattern must be a Program or None");
        return NULL;
    }
    return (iu_program *)p;
}

static int load_rules(builder *b, PyObject *rules)
{
    b->nrules = PyTuple_GET_SIZE(rules);
    b->rules = PyMem_Calloc((size_t)(b->nrules ? b->nrules : 1), sizeof(rule_t));
    if (b->rules == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < b->nrules; k++) {
        /* (rule, kind, rank, prefix, global, within, head, line, strict, levels, first,
         * first_in): see cutter._rule_specs */
        PyObject *spec = PyTuple_GET_ITEM(rules, k);
        if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != 12) {
            PyErr_SetString(PyExc_TypeError, "rule spec must be a 12-tuple");
            return -1;
        }
        rule_t *r = &b->rules[k];
        r->rule = PyTuple_GET_ITEM(spec, 0);
        r->kind = PyTuple_GET_ITEM(spec, 1);
        r->rank = PyLong_AsLong(PyTuple_GET_ITEM(spec, 2));
        r->prefix = PyTuple_GET_ITEM(spec, 3);
        r->global = PyObject_IsTrue(PyTuple_GET_ITEM(spec, 4));
        r->within = PyTuple_GET_ITEM(spec, 5);
        r->head = program_or_null(PyTuple_GET_ITEM(spec, 6));
        r->line = program_or_null(PyTuple_GET_ITEM(spec, 7));
        r->strict = PyObject_IsTrue(PyTuple_GET_ITEM(spec, 8));
        r->levels = PyObject_IsTrue(PyTuple_GET_ITEM(spec, 9));
        r->first = PyTuple_GET_ITEM(spec, 10);
        r->first_in = PyTuple_GET_ITEM(spec, 11);
        if (PyErr_Occurred() || !PyUnicode_Check(r->kind) || !PyUnicode_Check(r->prefix) ||
            !PyTuple_Check(r->within) || !PyUnicode_Check(r->first) ||
            !PyTuple_Check(r->first_in)) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "bad rule spec");
            return -1;
        }
    }
    return 0;
}

static int push_node(builder *b, PyObject *kind, PyObject *code, long rank, int level,
                     int levels, Py_ssize_t depth, int is_document)
{
    if (b->depth == b->cap) {
        Py_ssize_t cap = b->cap ? b->cap * 2 : 32;
        node_t *stack = PyMem_Realloc(b->stack, (size_t)cap * sizeof(node_t));
        if (stack == NULL) {
            Py_DECREF(code);
            PyErr_NoMemory();
            return -1;
        }
        b->stack = stack;
        b->cap = cap;
    }
    node_t *node = &b->stack[b->depth++];
    node->kind = kind;
    node->code = code; /* steals */
    node->rank = rank;
    node->level = level;
    node->levels = levels;
    node->depth = depth;
    node->children = 0;
    node->is_document = is_document;
    return 0;
}

/* Whether two str objects are equal (interned rule kinds and labels: mostly the same
 * object). */
static int same_str(PyObject *a, PyObject *b)
{
    return a == b || (PyUnicode_Check(a) && PyUnicode_Check(b) && PyUnicode_Compare(a, b) == 0);
}

/* _holder: how many nodes stay open for a new unit of rank (NO_RANK: a plain heading);
 * levels: its rule's Rule.levels (two headings of such rules at different levels nest by
 * level, not rank); r and label: its rule (NULL: none) and label, for Rule.first (a
 * heading at the level of a node of a kind in Rule.first_in nests in it by rank only as
 * its first or after another of its kind). */
static Py_ssize_t holder(const builder *b, long rank, int level, int levels, const rule_t *r,
                         PyObject *label)
{
    Py_ssize_t k = b->depth;
    int first = r != NULL && PyTuple_GET_SIZE(r->first_in) > 0 && level < PLAIN_LEVEL;
    for (;;) {
        const node_t *node = &b->stack[k - 1];
        if (node->is_document)
            return k;
        int by_level = levels && node->levels && node->level != level && level < PLAIN_LEVEL &&
                       node->level < PLAIN_LEVEL;
        if (node->rank != NO_RANK && rank != NO_RANK && !by_level) {
            if (node->rank < rank) {
                if (!first || node->level != level || (label != NULL && same_str(label, r->first)) ||
                    (k < b->depth && same_str(b->stack[k].kind, r->kind)))
                    return k;
                int in = PySequence_Contains(r->first_in, node->kind);
                if (in < 0)
                    PyErr_Clear(); /* (str compared with str: cannot fail) */
                if (in <= 0)
                    return k;
            }
        } else if (node->level < level) {
            return k;
        }
        k--;
    }
}

static int within_ok(const rule_t *r, PyObject *parent_kind)
{
    if (PyTuple_GET_SIZE(r->within) == 0)
        return 1;
    return PySequence_Contains(r->within, parent_kind);
}

/* matcher.match(text) -> rule index and a new reference to the label; -1: no rule. */
static Py_ssize_t match_rule(builder *b, PyObject *matcher, PyObject *text, PyObject **label)
{
    *label = NULL;
    PyObject *found = PyObject_CallMethodOneArg(matcher, b->in->str_match, text);
    if (found == NULL)
        return -2;
    if (found == Py_None) {
        Py_DECREF(found);
        return -1;
    }
    PyObject *rule = PyTuple_GET_ITEM(found, 0);
    for (Py_ssize_t k = 0; k < b->nrules; k++) {
        if (b->rules[k].rule == rule) {
            *label = Py_NewRef(PyTuple_GET_ITEM(found, 1));
            Py_DECREF(found);
            return k;
        }
    }
    Py_DECREF(found);
    PyErr_SetString(PyExc_RuntimeError, "matcher returned a rule the cutter does not know");
    return -2;
}

static int push_row(builder *b, row_t *row)
{
    if (b->nrows == b->rcap) {
        Py_ssize_t cap = b->rcap ? b->rcap * 2 : 256;
        row_t *rows = PyMem_Realloc(b->rows, (size_t)cap * sizeof(row_t));
        if (rows == NULL) {
            row_clear(row);
            PyErr_NoMemory();
            return -1;
        }
        b->rows = rows;
        b->rcap = cap;
    }
    b->rows[b->nrows++] = *row;
    return 0;
}

/* Code for a unit: ``prefix/segment`` (new reference). */
static PyObject *join_code(PyObject *prefix, PyObject *segment)
{
    Py_ssize_t a = PyUnicode_GET_LENGTH(prefix), c = PyUnicode_GET_LENGTH(segment);
    Py_UCS4 maxchar = PyUnicode_MAX_CHAR_VALUE(prefix);
    if (PyUnicode_MAX_CHAR_VALUE(segment) > maxchar)
        maxchar = PyUnicode_MAX_CHAR_VALUE(segment);
    PyObject *code = PyUnicode_New(a + 1 + c, maxchar);
    if (code == NULL)
        return NULL;
    if (PyUnicode_CopyCharacters(code, 0, prefix, 0, a) < 0 ||
        PyUnicode_CopyCharacters(code, a + 1, segment, 0, c) < 0) {
        Py_DECREF(code);
        return NULL;
    }
    PyUnicode_WRITE(PyUnicode_KIND(code), PyUnicode_DATA(code), a, '/');
    return code;
}

/* Coder.claim: the code itself when unused, else through the Python coder (suffixes and
 * the warning). Steals ``code``. */
static PyObject *claim(const iu_build_in *in, PyObject *code, Py_ssize_t line)
{
    int used = PySet_Contains(in->used, code);
    if (used < 0) {
        Py_DECREF(code);
        return NULL;
    }
    if (!used) {
        if (PySet_Add(in->used, code) < 0) {
            Py_DECREF(code);
            return NULL;
        }
        return code;
    }
    PyObject *unique = PyObject_CallMethod(in->coder, "claim", "On", code, line);
    Py_DECREF(code);
    return unique;
}

/* A text to match: ``n`` code points of ``kind`` at ``data``, src[off:off + n] as a str. */
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
    PyObject *src;
    Py_ssize_t off;
} view_t;

static view_t str_view(PyObject *text)
{
    view_t v = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text), text, 0};
    return v;
}

#define VIEW_AT(v, k) PyUnicode_READ((v)->kind, (v)->data, (k))

static PyObject *group_text(const view_t *v, const iu_rx *x, int g)
{
    if (g < 0 || x->mark[2 * g] < 0 || x->mark[2 * g + 1] < x->mark[2 * g])
        return Py_NewRef(Py_None);
    return PyUnicode_Substring(v->src, v->off + x->mark[2 * g], v->off + x->mark[2 * g + 1]);
}

/* Whether c is one of profiles.SUP's superscript digits. */
static int superscript(Py_UCS4 c)
{
    return c == 0xB9 || c == 0xB2 || c == 0xB3 || c == 0x2070 || (c >= 0x2074 && c <= 0x2079);
}

/* Whether v[a:e] is a label as it stands (profiles.label_from): not empty, no superscript
 * index (``22¹``, ``22^1``, ``22<sup>1</sup>``: label_from reads it as ``22^1``), and not
 * what label_from reads as a Roman numeral. */
static int plain_label(const view_t *v, Py_ssize_t a, Py_ssize_t e)
{
    if (a < 0 || e <= a)
        return 0;
    int roman = 1;
    /* ``Ia``: a Roman numeral and a small letter, label_from reads 1a */
    Py_UCS4 last = VIEW_AT(v, e - 1);
    Py_ssize_t end = e - a > 1 && last >= 'a' && last <= 'z' ? e - 1 : e;
    for (Py_ssize_t k = a; k < e; k++) {
        Py_UCS4 c = VIEW_AT(v, k);
        if (c == '^' || c == '<' || superscript(c))
            return 0;
        if (k < end && (c == 0 || c >= 128 || strchr("IVXLCDM", (int)c) == NULL))
            roman = 0;
    }
    return !roman || (e - a == 1 && strchr("IVX", (int)VIEW_AT(v, a)) == NULL);
}

/* The label of program p's match x (new reference; None: the rule labels nothing here). */
static PyObject *rule_label(builder *b, const iu_program *p, const view_t *v, const iu_rx *x)
{
    static const char *names[4] = {"label", "num", "word", "label2"};
    int g = p->group[0];
    if (g >= 0 && plain_label(v, x->mark[2 * g], x->mark[2 * g + 1])) {
        PyObject *label = group_text(v, x, g), *last = group_text(v, x, p->group[3]);
        if (label != NULL && last != NULL && last != Py_None && PyUnicode_GET_LENGTH(last)) {
            PyObject *both = PyUnicode_FromFormat("%U-%U", label, last);
            Py_SETREF(label, both);
        }
        Py_XDECREF(last);
        return last == NULL ? (Py_XDECREF(label), NULL) : label;
    }
    PyObject *groups = PyDict_New(), *label = NULL;
    for (int k = 0; groups != NULL && k < 4; k++) {
        if (p->group[k] < 0)
            continue;
        PyObject *t = group_text(v, x, p->group[k]);
        if (t == NULL || PyDict_SetItemString(groups, names[k], t) < 0)
            Py_CLEAR(groups);
        Py_XDECREF(t);
    }
    if (groups != NULL)
        label = PyObject_CallOneArg(b->in->hooks.label_from, groups);
    Py_XDECREF(groups);
    return label;
}

/* profiles.Matcher._accept's strict test: the word after a plain line's label starts in
 * lower case. */
static int lower_next(const view_t *v, Py_ssize_t k)
{
    for (; k < v->n; k++) {
        Py_UCS4 c = VIEW_AT(v, k);
        if (c != ' ' && c != '.' && c != ':' && c != '-' && c != 0x2013 && c != 0x2014)
            return Py_UNICODE_ISLOWER(c);
    }
    return 0;
}

/* profiles.Matcher.match natively: the first rule whose heading (or plain-line) pattern
 * matches v and labels it; its index and *label, -1 none, -2 error, -3 undecided (the
 * Python Matcher decides). */
static Py_ssize_t match_native(builder *b, int heading, const view_t *v, PyObject **label)
{
    iu_rx x;
    *label = NULL;
    for (Py_ssize_t k = 0; k < b->nrules; k++) {
        const rule_t *r = &b->rules[k];
        const iu_program *p = heading ? r->head : r->line;
        if (p == NULL)
            continue;
        int m = iu_rx_match(&x, p, v->kind, v->data, v->n, 0);
        if (m < 0)
            return -3;
        if (m == 0 || (!heading && r->strict && lower_next(v, x.end)))
            continue;
        PyObject *found = rule_label(b, p, v, &x);
        if (found == NULL)
            return -2;
        if (found != Py_None) {
            *label = found;
            return k;
        }
        Py_DECREF(found);
    }
    return -1;
}

static int build_units(builder *b, const iu_marks *marks, PyObject **first_heading)
{
    const iu_build_in *in = b->in;
    const iu_build_hooks *h = &in->hooks;
    if (push_node(b, in->str_document, Py_NewRef(in->ns), NO_RANK, 0, 0, 0, 1) < 0)
        return -1;
    for (Py_ssize_t k = 0; k < marks->len; k++) {
        const iu_mark *mark = &marks->items[k];
        int is_line = mark->kind == MK_LINE, emphasis = -1;
        PyObject *text = NULL, *label = NULL, *cid = NULL, *title = NULL;
        Py_ssize_t ri = -3;
        if (is_line) {
            view_t v = {PyUnicode_KIND(in->s), NULL, mark->tend - mark->tstart, in->s,
                        mark->tstart};
            if (mark->text != NULL)
                v = str_view(mark->text);
            else
                v.data = (const char *)PyUnicode_DATA(in->s) + mark->tstart * v.kind;
            emphasis = has_emphasis_start(v.kind, v.data, v.n);
            if (!emphasis) {
                /* Most candidate lines are no label: rejected before a str is made. */
                ri = match_native(b, 0, &v, &label);
                if (ri == -1)
                    continue;
                if (ri == -2)
                    return -1;
                if (ri >= 0) {
                    /* A labelled line: its title straight from the text. */
                    if ((title = iu_title(v.kind, v.data, v.n, MAX_TITLE)) == NULL)
                        goto fail_label;
                    goto matched;
                }
            }
        }
        if ((text = iu_mark_text(in->s, mark)) == NULL)
            return -1;
        /* _Builder._match */
        int heading;
        if (!is_line) {
            heading = 1;
            if (has_id_attr(text)) {
                PyObject *pair = PyObject_CallOneArg(h->split_id, text);
                Py_DECREF(text);
                if (pair == NULL)
                    return -1;
                text = Py_NewRef(PyTuple_GET_ITEM(pair, 0));
                cid = PyTuple_GET_ITEM(pair, 1);
                cid = cid == Py_None ? NULL : Py_NewRef(cid);
                Py_DECREF(pair);
            }
        } else {
            heading = starts_double(text);
        }
        if (emphasis < 0 || cid != NULL)
            emphasis = str_emphasis(text);
        if (emphasis) {
            PyObject *cleaned = iu_clean(text);
            Py_DECREF(text);
            text = cleaned;
            if (text == NULL)
                goto fail_text;
        }
        view_t v = str_view(text);
        ri = match_native(b, heading, &v, &label);
        if (ri == -3)
            ri = match_rule(b, heading ? in->heads : in->lines, text, &label);
        if (ri == -2)
            goto fail_text;
    matched:;
        int level = is_line ? PLAIN_LEVEL : mark->level;
        if (ri < 0 && is_line) {
            Py_XDECREF(text);
            Py_XDECREF(title);
            continue;
        }
        long rank = ri >= 0 ? b->rules[ri].rank : NO_RANK;
        Py_ssize_t keep = holder(b, rank, level, ri >= 0 && b->rules[ri].levels,
                                 ri >= 0 ? &b->rules[ri] : NULL, label);
        node_t *parent = &b->stack[keep - 1];
        if (ri >= 0) {
            int ok = within_ok(&b->rules[ri], parent->kind);
            if (ok < 0)
                goto fail_label;
            if (!ok) {
                if (is_line) {
                    Py_XDECREF(text);
                    Py_XDECREF(title);
                    Py_XDECREF(label);
                    continue;
                }
                ri = -1;
                Py_CLEAR(label);
                rank = NO_RANK;
                keep = holder(b, rank, level, 0, NULL, NULL);
                parent = &b->stack[keep - 1];
            }
        }
        for (Py_ssize_t d = keep; d < b->depth; d++)
            node_clear(&b->stack[d]);
        b->depth = keep;
        PyObject *code;
        if (cid != NULL) {
            code = join_code(in->ns, cid);
        } else if (ri >= 0 && label != Py_None) {
            const rule_t *r = &b->rules[ri];
            PyObject *seg = iu_label_segment(r->prefix, label);
            if (seg == Py_NotImplemented) {
                Py_DECREF(seg);
                seg = PyObject_CallFunctionObjArgs(h->label_segment, r->prefix, label, NULL);
            }
            if (seg == NULL)
                goto fail_label;
            code = join_code(r->global ? in->ns : parent->code, seg);
            Py_DECREF(seg);
        } else {
            PyObject *seg = iu_heading_slug(text);
            if (seg == Py_NotImplemented) {
                Py_DECREF(seg);
                seg = PyObject_CallOneArg(h->heading_slug, text);
            }
            if (seg == NULL)
                goto fail_label;
            code = join_code(parent->code, seg);
            Py_DECREF(seg);
        }
        if (code == NULL || (code = claim(in, code, mark->line)) == NULL)
            goto fail_label;
        PyObject *kind = ri >= 0 ? b->rules[ri].kind : in->str_heading;
        parent->children++;
        row_t row;
        row.start = mark->start;
        row.end = mark->end;
        row.line = mark->line;
        row.bstart = mark->bstart;
        row.bend = mark->bend;
        row.code = Py_NewRef(code);
        row.kind = Py_NewRef(kind);
        row.label = label != NULL ? label : Py_NewRef(Py_None);
        label = NULL;
        row.parent_code = Py_NewRef(parent->code);
        row.depth = parent->depth + 1;
        row.ordinal = parent->children;
        if (title == NULL)
            title = iu_clean(text);
        Py_XDECREF(text);
        text = NULL;
        Py_CLEAR(cid);
        if (title == NULL) {
            row.title = NULL;
            row_clear(&row);
            Py_DECREF(code);
            return -1;
        }
        if (*first_heading == NULL && !is_line)
            *first_heading = Py_NewRef(title);
        if (PyUnicode_GET_LENGTH(title) > MAX_TITLE) {
            PyObject *cut = PyUnicode_Substring(title, 0, MAX_TITLE);
            Py_DECREF(title);
            title = cut;
        }
        row.title = title;
        if (title == NULL || push_row(b, &row) < 0) {
            if (title == NULL)
                row_clear(&row);
            Py_DECREF(code);
            return -1;
        }
        if (push_node(b, kind, code, rank, level, ri >= 0 && b->rules[ri].levels, row.depth, 0) <
            0)
            return -1;
        continue;
    fail_label:
        Py_XDECREF(label);
    fail_text:
        Py_XDECREF(text);
        Py_XDECREF(title);
        Py_XDECREF(cid);
        return -1;
    }
    return 0;
}

/* The unit's content hash: sha256 of hash_head, its raw heading raw[hb:hb + hsize], NUL and
 * its body (the bsize bytes after), as lower-case hex. */
static PyObject *hex_digest(const iu_build_in *in, Py_ssize_t hb, Py_ssize_t hsize,
                            Py_ssize_t bsize)
{
    const char *parts[4] = {in->hash_head, in->raw + hb, "", in->raw + hb + hsize};
    Py_ssize_t sizes[4] = {in->hash_head_len, hsize, 1, bsize};
    return iu_sha256_hex(parts, sizes, 4);
}

static PyObject *build_rows(builder *b, const iu_marks *marks, PyObject *doc_title)
{
    const iu_build_in *in = b->in;
    Py_ssize_t n = in->n, nrows = b->nrows;
    PyObject *out = PyList_New(nrows + 1);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i <= nrows; i++) {
        const row_t *r = i == 0 ? NULL : &b->rows[i - 1], *next = i < nrows ? &b->rows[i] : NULL;
        Py_ssize_t a = r ? r->start : 0, end = r ? r->end : 0, z = next ? next->start : n;
        Py_ssize_t line = r ? r->line : 1, bstart = r ? r->bstart : 0, bend = r ? r->bend : 0;
        Py_ssize_t zline = next ? next->line : marks->end_line;
        Py_ssize_t zbyte = next ? next->bstart : in->raw_len;
        Py_ssize_t hsize = bend - bstart, bsize = zbyte - bend;
        Py_ssize_t last = z > a ? zline - (PyUnicode_READ_CHAR(in->s, z - 1) == '\n') : line - 1;
        PyObject *v[UNIT_NFIELDS];
        if (r == NULL) {
            v[1] = Py_NewRef(in->ns);
            v[2] = Py_NewRef(Py_None);
            v[3] = Py_NewRef(in->str_document);
            v[4] = Py_NewRef(Py_None);
            v[5] = PyLong_FromLong(1);
            v[6] = PyLong_FromLong(0);
            v[8] = Py_NewRef(doc_title);
            v[9] = PyUnicode_New(0, 0);
        } else {
            row_t *w = &b->rows[i - 1];
            v[1] = w->code;
            v[2] = w->parent_code;
            v[3] = w->kind;
            v[4] = w->label;
            v[5] = PyLong_FromSsize_t(w->ordinal);
            v[6] = PyLong_FromSsize_t(w->depth);
            v[8] = w->title;
            v[9] = PyUnicode_Substring(in->text, a, end);
            w->code = w->parent_code = w->kind = w->label = w->title = NULL;
        }
        v[0] = Py_NewRef(in->ns);
        v[7] = PyLong_FromSsize_t(i);
        v[10] = PyUnicode_Substring(in->text, end, z);
        v[11] = hex_digest(in, bstart, hsize, bsize);
        v[12] = Py_NewRef(in->path);
        v[13] = PyLong_FromSsize_t(line);
        v[14] = PyLong_FromSsize_t(last);
        v[15] = PyLong_FromSsize_t(bstart);
        v[16] = PyLong_FromSsize_t(zbyte);
        int bad = 0;
        for (int f = 0; f < UNIT_NFIELDS; f++)
            bad |= v[f] == NULL;
        PyObject *unit = NULL;
        if (bad) {
            for (int f = 0; f < UNIT_NFIELDS; f++)
                Py_XDECREF(v[f]);
        } else {
            unit = make_unit(&in->maker, v);
        }
        if (unit == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, unit);
    }
    return out;
}

PyObject *iu_build(const iu_build_in *in, const iu_marks *marks)
{
    builder b;
    memset(&b, 0, sizeof b);
    b.in = in;
    PyObject *first = NULL, *units = NULL, *title = NULL;
    if (load_rules(&b, in->rules) < 0 || build_units(&b, marks, &first) < 0)
        goto done;
    title = PyObject_CallOneArg(in->hooks.doc_title, first != NULL ? first : Py_None);
    if (title == NULL)
        goto done;
    units = build_rows(&b, marks, title);
done:
    Py_XDECREF(first);
    Py_XDECREF(title);
    for (Py_ssize_t k = 0; k < b.depth; k++)
        node_clear(&b.stack[k]);
    for (Py_ssize_t k = 0; k < b.nrows; k++)
        row_clear(&b.rows[k]);
    PyMem_Free(b.stack);
    PyMem_Free(b.rows);
    PyMem_Free(b.rules);
    return units;
}
