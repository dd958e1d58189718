/* iucut.cut._core: the compiled cutter core (see core.h).
 *
 *   Program(code, pattern) a label pattern compiled by iucut.cut.rxcode (rx.c)
 *   Scan(s, start, hint)   scan a document; hint: None (no legal lines) or the Program of
 *                          the legal-line hint (cutter._patterns)
 *   Scan.marks()           the marks as (kind, start, end, level, text) tuples
 *   Scan.control           whether a scanned line holds a control character
 *   Scan.signature_hits(programs, limit)  how many of the first marks match each
 *                          signature Program (profile detection)
 *   Scan.build(...)        the units (see cutter._cut)
 *   SHA256                 whose SHA-256 makes the content hashes: "OpenSSL" or "hashlib"
 *
 * and, for the tests that hold the core to the Python cutter: clean(text),
 * label_segment(prefix, label), heading_slug(text).
 */
#include "build.h"
#include "core.h"
#include "rx.h"
#include "text.h"

#ifndef _WIN32
#include <dlfcn.h>
#endif

static iu_scan_helpers helpers;
static PyObject *str_match, *str_document, *str_heading, *kind_names[3];

typedef struct {
    PyObject_HEAD
    PyObject *s;
    Py_ssize_t n;
    iu_marks marks;
} ScanObject;

static void Scan_dealloc(ScanObject *self)
{
    iu_marks_clear(&self->marks);
    Py_XDECREF(self->s);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Scan_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"s", "start", "hint", NULL};
    PyObject *s, *hint;
    Py_ssize_t start;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UnO:Scan", kwlist, &s, &start, &hint))
        return NULL;
    if (hint != Py_None && !PyObject_TypeCheck(hint, &iu_program_type)) {
        PyErr_SetString(PyExc_TypeError, "hint must be a Program or None");
        return NULL;
    }
    ScanObject *self = (ScanObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->s = Py_NewRef(s);
    self->n = PyUnicode_GET_LENGTH(s);
    int rc = -1;
    if (start < 0 || start > self->n)
        PyErr_SetString(PyExc_ValueError, "start out of range");
    else
        rc = iu_scan(s, start, hint == Py_None ? NULL : (iu_program *)hint, &helpers,
                     &self->marks);
    if (rc < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static Py_ssize_t Scan_len(ScanObject *self) { return self->marks.len; }

static PyObject *Scan_control(ScanObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->marks.control);
}

static PyGetSetDef Scan_getset[] = {
    {"control", (getter)Scan_control, NULL,
     "Whether a scanned line holds a control character (not tab, CR, LF).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyObject *Scan_marks(ScanObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *out = PyList_New(self->marks.len);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < self->marks.len; k++) {
        const iu_mark *m = &self->marks.items[k];
        PyObject *text = iu_mark_text(self->s, m);
        PyObject *item = text == NULL ? NULL
                                      : Py_BuildValue("(OnniN)", kind_names[m->kind], m->start,
                                                      m->end, m->level, text);
        if (item == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, item);
    }
    return out;
}

static PyObject *Scan_signature_hits(ScanObject *self, PyObject *args)
{
    PyObject *programs;
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "O!n:signature_hits", &PyTuple_Type, &programs, &limit))
        return NULL;
    Py_ssize_t np = PyTuple_GET_SIZE(programs);
    for (Py_ssize_t p = 0; p < np; p++)
        if (!PyObject_TypeCheck(PyTuple_GET_ITEM(programs, p), &iu_program_type))
            return PyErr_Format(PyExc_TypeError, "signatures must be Programs");
    if (limit > self->marks.len || limit < 0)
        limit = self->marks.len;
    PyObject *out = PyTuple_New(np);
    for (Py_ssize_t p = 0; out != NULL && p < np; p++) {
        const iu_program *prog = (const iu_program *)PyTuple_GET_ITEM(programs, p);
        Py_ssize_t hits = 0;
        for (Py_ssize_t k = 0; k < limit; k++) {
            const iu_mark *m = &self->marks.items[k];
            PyObject *text = m->text;
            int kind = PyUnicode_KIND(self->s);
            const void *data = (const char *)PyUnicode_DATA(self->s) + m->tstart * kind;
            Py_ssize_t n = m->tend - m->tstart;
            if (text != NULL) {
                kind = PyUnicode_KIND(text);
                data = PyUnicode_DATA(text);
                n = PyUnicode_GET_LENGTH(text);
            }
            iu_rx x;
            int r = iu_rx_match(&x, prog, kind, data, n, 0);
            if (r < 0) { /* undecided: re decides */
                PyObject *t = iu_mark_text(self->s, m);
                r = t == NULL ? -1 : iu_rx_fallback(prog, t, 0);
                Py_XDECREF(t);
                if (r < 0) {
                    Py_CLEAR(out);
                    break;
                }
            }
            hits += r;
        }
        PyObject *v = out == NULL ? NULL : PyLong_FromSsize_t(hits);
        if (v == NULL)
            Py_CLEAR(out);
        else
            PyTuple_SET_ITEM(out, p, v);
    }
    return out;
}

static PyObject *Scan_build(ScanObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"text",  "raw",   "path",  "namespace", "heads", "lines",
                             "rules", "coder", "hooks", "unit_type", "hash_head", NULL};
    iu_build_in in;
    memset(&in, 0, sizeof in);
    Py_buffer raw, head;
    PyObject *hooks, *unit_type;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Uy*UUOOO!OO!Oy*:build", kwlist, &in.text, &raw,
                                     &in.path, &in.ns, &in.heads, &in.lines, &PyTuple_Type,
                                     &in.rules, &in.coder, &PyTuple_Type, &hooks, &unit_type,
                                     &head))
        return NULL;
    PyObject *result = NULL;
    if (PyUnicode_GET_LENGTH(in.text) != self->n) {
        PyErr_SetString(PyExc_ValueError, "text and scanned text differ in length");
        goto done;
    }
    if (!PyArg_ParseTuple(hooks, "OOOOO:hooks", &in.hooks.split_id, &in.hooks.label_segment,
                          &in.hooks.heading_slug, &in.hooks.doc_title, &in.hooks.label_from))
        goto done;
    if (iu_unit_maker_init(&in.maker, unit_type) < 0)
        goto done;
    in.used = PyObject_GetAttrString(in.coder, "used");
    if (in.used == NULL)
        goto done;
    if (!PySet_Check(in.used)) {
        PyErr_SetString(PyExc_TypeError, "coder.used must be a set");
        goto done;
    }
    in.s = self->s;
    in.n = self->n;
    in.raw = raw.buf;
    in.raw_len = raw.len;
    in.hash_head = head.buf;
    in.hash_head_len = head.len;
    in.str_match = str_match;
    in.str_document = str_document;
    in.str_heading = str_heading;
    result = iu_build(&in, &self->marks);
done:
    Py_XDECREF(in.used);
    PyBuffer_Release(&raw);
    PyBuffer_Release(&head);
    return result;
}

static PyMethodDef Scan_methods[] = {
    {"marks", (PyCFunction)Scan_marks, METH_NOARGS,
     "The marks as (kind, start, end, level, text) tuples, as blocks.scan gives them."},
    {"signature_hits", (PyCFunction)Scan_signature_hits, METH_VARARGS,
     "signature_hits(programs, limit): how many of the first marks each Program matches."},
    {"build", (PyCFunction)(void (*)(void))Scan_build, METH_VARARGS | METH_KEYWORDS,
     "The document's units from these marks (see iucut.cut.cutter)."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Scan_as_sequence = {.sq_length = (lenfunc)Scan_len};

static PyTypeObject ScanType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "iucut.cut._core.Scan",
    .tp_basicsize = sizeof(ScanObject),
    .tp_dealloc = (destructor)Scan_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Scan(s, start, hint): the block scan of one document (see blocks.Scanner).",
    .tp_new = Scan_new,
    .tp_methods = Scan_methods,
    .tp_getset = Scan_getset,
    .tp_as_sequence = &Scan_as_sequence,
};

/* -- SHA-256 ------------------------------------------------------------------------------
 * CPython's hashlib is built on OpenSSL almost everywhere, so OpenSSL's libcrypto is in the
 * process once _hashlib is imported: its SHA256_Init/Update/Final are looked up there (no
 * build dependency; they use the CPU's SHA instructions, and unlike the one-shot SHA256()
 * of OpenSSL 3 fetch nothing per call). Without them (or with IUCUT_CORE_HASHLIB set, for
 * the tests), each hash is hashlib.sha256(b"".join(parts)).hexdigest(). */

typedef int (*sha_init_fn)(void *ctx);
typedef int (*sha_update_fn)(void *ctx, const void *data, size_t n);
typedef int (*sha_final_fn)(unsigned char *md, void *ctx);
static sha_init_fn sha_init;
static sha_update_fn sha_update;
static sha_final_fn sha_final;
static PyObject *hashlib_sha256;

PyObject *iu_sha256_hex(const char *const *parts, const Py_ssize_t *sizes, int n)
{
    if (sha_final == NULL) {
        Py_ssize_t size = 0;
        for (int k = 0; k < n; k++)
            size += sizes[k];
        PyObject *data = PyBytes_FromStringAndSize(NULL, size), *h = NULL, *hex = NULL;
        for (Py_ssize_t k = 0, at = 0; data != NULL && k < n; at += sizes[k++])
            memcpy(PyBytes_AS_STRING(data) + at, parts[k], (size_t)sizes[k]);
        if (data != NULL && (h = PyObject_CallOneArg(hashlib_sha256, data)) != NULL)
            hex = PyObject_CallMethod(h, "hexdigest", NULL);
        Py_XDECREF(data);
        Py_XDECREF(h);
        return hex;
    }
    union { /* OpenSSL's SHA256_CTX is 112 bytes: room to spare */
        unsigned char bytes[512];
        uint64_t align;
    } ctx;
    unsigned char md[32];
    sha_init(&ctx);
    for (int k = 0; k < n; k++)
        sha_update(&ctx, parts[k], (size_t)sizes[k]);
    sha_final(md, &ctx);
    PyObject *hex = PyUnicode_New(64, 127);
    for (int k = 0; hex != NULL && k < 32; k++) {
        PyUnicode_1BYTE_DATA(hex)[2 * k] = "0123456789abcdef"[md[k] >> 4];
        PyUnicode_1BYTE_DATA(hex)[2 * k + 1] = "0123456789abcdef"[md[k] & 15];
    }
    return hex;
}

static int load_sha256(void)
{
    PyObject *hashlib = PyImport_ImportModule("hashlib");
    if (hashlib == NULL || (hashlib_sha256 = PyObject_GetAttrString(hashlib, "sha256")) == NULL) {
        Py_XDECREF(hashlib);
        return -1;
    }
    Py_DECREF(hashlib);
#ifndef _WIN32
    const char *off = getenv("IUCUT_CORE_HASHLIB");
    int use = off == NULL || !*off;
    PyObject *ssl = use ? PyImport_ImportModule("_hashlib") : NULL;
    PyObject *file = ssl == NULL ? NULL : PyModule_GetFilenameObject(ssl);
    const char *path = file == NULL ? NULL : PyUnicode_AsUTF8(file);
    /* _hashlib built into python (no file): the program's own symbols */
    void *lib = !use ? NULL : dlopen(path, path ? RTLD_LAZY | RTLD_NOLOAD : RTLD_LAZY);
    if (lib != NULL) { /* the symbols of _hashlib and of the libcrypto it links */
        sha_init = (sha_init_fn)dlsym(lib, "SHA256_Init");
        sha_update = (sha_update_fn)dlsym(lib, "SHA256_Update");
        sha_final = sha_init && sha_update ? (sha_final_fn)dlsym(lib, "SHA256_Final") : NULL;
        const char *abc = "abc", *parts[2] = {abc, abc + 1};
        Py_ssize_t sizes[2] = {1, 2};
        PyObject *hex = sha_final == NULL ? NULL : iu_sha256_hex(parts, sizes, 2);
        const char *want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        if (hex == NULL || PyUnicode_CompareWithASCIIString(hex, want) != 0)
            sha_final = NULL; /* not the SHA-256 it should be: hashlib's */
        Py_XDECREF(hex);
    }
    Py_XDECREF(file);
    Py_XDECREF(ssl);
    PyErr_Clear();
#endif
    return 0;
}

static PyObject *clean(PyObject *Py_UNUSED(module), PyObject *text)
{
    if (!PyUnicode_Check(text))
        return PyErr_Format(PyExc_TypeError, "expected str");
    return iu_clean(text);
}

static PyObject *label_segment(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *prefix, *label;
    if (!PyArg_ParseTuple(args, "UU:label_segment", &prefix, &label))
        return NULL;
    return iu_label_segment(prefix, label);
}

static PyObject *heading_slug(PyObject *Py_UNUSED(module), PyObject *text)
{
    if (!PyUnicode_Check(text))
        return PyErr_Format(PyExc_TypeError, "expected str");
    return iu_heading_slug(text);
}

static PyMethodDef module_methods[] = {
    {"clean", clean, METH_O, "cutter._clean(text)."},
    {"label_segment", label_segment, METH_VARARGS,
     "codes.label_segment(prefix, label) for an ASCII label, else NotImplemented."},
    {"heading_slug", heading_slug, METH_O,
     "codes.heading_slug(text) for ASCII text, else NotImplemented."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "iucut.cut._core",
    "iucut's compiled cutter core (the Python modules are its reference).", -1, module_methods,
};

static int load_helpers(void)
{
    PyObject *blocks = PyImport_ImportModule("iucut.cut.blocks");
    if (blocks == NULL)
        return -1;
    PyObject *starts = NULL;
    int rc = -1;
    helpers.html_type = PyObject_GetAttrString(blocks, "_html_type");
    helpers.setext_text = PyObject_GetAttrString(blocks, "_setext_text");
    starts = PyObject_GetAttrString(blocks, "_HTML_START");
    helpers.refdef = PyObject_GetAttrString(blocks, "_refdef_end");
    if (!helpers.html_type || !helpers.setext_text || !starts || !helpers.refdef)
        goto done;
    Py_ssize_t count = PySequence_Size(starts);
    if (count < 0 || (helpers.html_ends = PyTuple_New(count)) == NULL)
        goto done;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *pair = PySequence_GetItem(starts, k);
        PyObject *end = pair == NULL ? NULL : PySequence_GetItem(pair, 1);
        Py_XDECREF(pair);
        if (end == NULL)
            goto done;
        PyTuple_SET_ITEM(helpers.html_ends, k, end);
    }
    rc = 0;
done:
    Py_XDECREF(starts);
    Py_DECREF(blocks);
    return rc;
}

PyMODINIT_FUNC PyInit__core(void)
{
    str_match = PyUnicode_InternFromString("match");
    str_document = PyUnicode_InternFromString("document");
    str_heading = PyUnicode_InternFromString("heading");
    kind_names[MK_ATX] = PyUnicode_InternFromString("atx");
    kind_names[MK_SETEXT] = PyUnicode_InternFromString("setext");
    kind_names[MK_LINE] = PyUnicode_InternFromString("line");
    if (!str_match || !str_document || !str_heading || !kind_names[0] || !kind_names[1] ||
        !kind_names[2])
        return NULL;
    if (load_helpers() < 0 || load_sha256() < 0)
        return NULL;
    if (PyType_Ready(&ScanType) < 0 || PyType_Ready(&iu_program_type) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Scan", (PyObject *)&ScanType) < 0 ||
        PyModule_AddObjectRef(m, "Program", (PyObject *)&iu_program_type) < 0 ||
        PyModule_AddStringConstant(m, "SHA256", sha_final ? "OpenSSL" : "hashlib") < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
