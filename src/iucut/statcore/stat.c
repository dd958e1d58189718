/* iucut._stat: the stat of a folder's files, packed as the cut cache keeps them.
 *
 * An unchanged re-sync (issue #16 part 3) looks at every file of the corpus only to
 * compare its stat with the cut cache's entry (iucut.digests: the five fields size,
 * mtime_ns, ctime_ns, inode and device, packed "<QqqQQ"). In Python each look is an
 * os.lstat, a stat object and a struct.pack. Here one call takes a folder and the
 * names of its files: the folder is opened once, each name is looked at relative to
 * it with fstatat (no link followed, no path resolved again), without the GIL, and the
 * packed bytes come back in the names' order.
 *
 * lstat_packed(folder, names, limit) -> list[bytes | None]
 *
 * None for a name that is not a regular file itself (a link, a folder, a FIFO), that
 * holds more than `limit` bytes, that cannot be looked at (gone, not allowed, a name
 * with a "/" or a NUL) or whose fields do not fit the packing: the caller looks at such
 * a file the slow way, which says why. OSError when the folder cannot be opened.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PACKED 40 /* "<QqqQQ" */

typedef struct {
    const char *name; /* NULL: not a name to look at */
    int ok;           /* 1: a regular file within the limit */
    unsigned char packed[PACKED];
} looked;

static void put_u64(unsigned char *out, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        out[i] = (unsigned char)(v >> (8 * i)); /* little-endian, whatever the host */
    }
}

/* seconds and nanoseconds as nanoseconds (0: does not fit 64 bits, as struct refuses) */
static int to_ns(int64_t sec, long nsec, int64_t *out) {
    int64_t ns;
    if (__builtin_mul_overflow(sec, (int64_t)1000000000, &ns) ||
        __builtin_add_overflow(ns, (int64_t)nsec, &ns)) {
        return 0;
    }
    *out = ns;
    return 1;
}

static void look(int dirfd, looked *item, long long limit) {
    struct stat st;
    int64_t mtime, ctime;
    item->ok = 0;
    if (item->name == NULL ||
        fstatat(dirfd, item->name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode) || (long long)st.st_size > limit ||
        !to_ns((int64_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, &mtime) ||
        !to_ns((int64_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec, &ctime)) {
        return;
    }
    put_u64(item->packed, (uint64_t)st.st_size);
    put_u64(item->packed + 8, (uint64_t)mtime);
    put_u64(item->packed + 16, (uint64_t)ctime);
    put_u64(item->packed + 24, (uint64_t)st.st_ino);
    put_u64(item->packed + 32, (uint64_t)st.st_dev);
    item->ok = 1;
}

static PyObject *lstat_packed(PyObject *self, PyObject *args) {
    PyObject *folder = NULL, *names, *seq = NULL, *encoded = NULL, *result = NULL;
    long long limit;
    looked *items = NULL;
    Py_ssize_t n = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "O&OL", PyUnicode_FSConverter, &folder, &names, &limit)) {
        return NULL;
    }
    seq = PySequence_Fast(names, "names must be a sequence of str");
    if (seq == NULL) {
        goto done;
    }
    n = PySequence_Fast_GET_SIZE(seq);
    encoded = PyList_New(n); /* keeps the encoded names alive while the GIL is off */
    items = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof(looked));
    if (encoded == NULL || items == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PySequence_Fast_GET_ITEM(seq, i), *raw;
        if (!PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "names must be a sequence of str");
            goto done;
        }
        raw = PyUnicode_EncodeFSDefault(name);
        if (raw == NULL) {
            goto done;
        }
        PyList_SET_ITEM(encoded, i, raw);
        const char *text = PyBytes_AS_STRING(raw);
        Py_ssize_t size = PyBytes_GET_SIZE(raw);
        /* a name of the folder itself: one part, no NUL (else looked at the slow way) */
        if (size > 0 && (Py_ssize_t)strlen(text) == size && strchr(text, '/') == NULL) {
            items[i].name = text;
        }
    }
    int dirfd, failed = 0;
    Py_BEGIN_ALLOW_THREADS
    dirfd = open(PyBytes_AS_STRING(folder), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        failed = errno;
    } else {
        for (Py_ssize_t i = 0; i < n; i++) {
            look(dirfd, &items[i], limit);
        }
        close(dirfd);
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        errno = failed;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, folder);
        goto done;
    }
    result = PyList_New(n);
    if (result == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value;
        if (items[i].ok) {
            value = PyBytes_FromStringAndSize((const char *)items[i].packed, PACKED);
            if (value == NULL) {
                Py_CLEAR(result);
                goto done;
            }
        } else {
            value = Py_NewRef(Py_None);
        }
        PyList_SET_ITEM(result, i, value);
    }
done:
    PyMem_Free(items);
    Py_XDECREF(encoded);
    Py_XDECREF(seq);
    Py_XDECREF(folder);
    return result;
}

static int kind_of(int dirfd, const struct dirent *entry) {
    struct stat st;
    switch (entry->d_type) {
    case DT_REG:
        return 1;
    case DT_DIR:
        return 2;
    case DT_UNKNOWN:
        if (fstatat(dirfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            return 0;
        }
        return S_ISREG(st.st_mode) ? 1 : S_ISDIR(st.st_mode) ? 2 : 0;
    default:
        return 0;
    }
}

static PyObject *entries(PyObject *self, PyObject *args) {
    PyObject *folder = NULL, *result = NULL;
    DIR *dir;
    (void)self;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &folder)) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    dir = opendir(PyBytes_AS_STRING(folder));
    Py_END_ALLOW_THREADS
    if (dir == NULL) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, folder);
        Py_DECREF(folder);
        return NULL;
    }
    result = PyList_New(0);
    while (result != NULL) {
        struct dirent *entry;
        errno = 0;
        entry = readdir(dir);
        if (entry == NULL) {
            if (errno != 0) {
                PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, folder);
                Py_CLEAR(result);
            }
            break;
        }
        const char *name = entry->d_name;
        if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) {
            continue;
        }
        PyObject *item = Py_BuildValue("(Ni)", PyUnicode_DecodeFSDefault(name),
                                       kind_of(dirfd(dir), entry));
        if (item == NULL || PyList_Append(result, item) != 0) {
            Py_XDECREF(item);
            Py_CLEAR(result);
            break;
        }
        Py_DECREF(item);
    }
    closedir(dir);
    Py_DECREF(folder);
    return result;
}

static PyMethodDef methods[] = {
    {"entries", entries, METH_VARARGS,
     "entries(folder) -> list[tuple[str, int]]: the names in folder, each with 1 for a "
     "regular file, 2 for a folder (not through a link), 0 for anything else."},
    {"lstat_packed", lstat_packed, METH_VARARGS,
     "lstat_packed(folder, names, limit) -> list[bytes | None]: each name's stat in "
     "folder (not through a link) packed '<QqqQQ' (size, mtime_ns, ctime_ns, inode, "
     "device) when it is a regular file of at most limit bytes, else None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "iucut._stat",
    "The stat of a folder's files, packed as the cut cache keeps them.", -1, methods,
};

PyMODINIT_FUNC PyInit__stat(void) { return PyModule_Create(&module); }
