/* pydokku._ownwalk: give a tree an owner in one pass, at C speed, never following a link.
 *
 * chown_tree(root, uid, gid, descend=True) -> (examined, changed, hard_linked, other_filesystem)
 *
 * With descend=False only the root and its direct entries are examined (their contents are not):
 * callers walk the subdirectories in parallel threads.
 *
 * Every directory is opened relative to its parent's descriptor with O_NOFOLLOW, and every entry is
 * examined and changed relative to its directory's descriptor with AT_SYMLINK_NOFOLLOW: a symbolic
 * link is changed itself, never its target, and a directory swapped for a link during the walk is not
 * entered. Entries on another file system are neither changed nor entered. Entries that already have
 * the owner are left alone. A non-directory with more than one link is left alone and counted: its
 * other names may live outside the tree. The walk runs without the GIL.
 *
 * Errors raise OSError naming the entry that could not be read or changed.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 1024

typedef struct {
    uid_t uid;
    gid_t gid;
    dev_t device;
    int descend;
    unsigned long long examined, changed, hard_linked, other_filesystem;
    int error;             /* errno of the first failure, 0 if none */
    char path[PATH_MAX];   /* the entry being handled: named in the error */
} Walk;

static void remember(Walk *walk, size_t length, const char *name) {
    size_t room = sizeof(walk->path) - length;
    if (length < sizeof(walk->path)) {
        snprintf(walk->path + length, room, "/%s", name);
    }
}

static int owned(const Walk *walk, const struct stat *st) {
    return st->st_uid == walk->uid && st->st_gid == walk->gid;
}

/* Walk the open directory `fd` (closed here); `length` is strlen of its path in walk->path. */
static int walk_directory(Walk *walk, int fd, size_t length, int depth) {
    DIR *directory = fdopendir(fd);
    if (directory == NULL) {
        walk->error = errno;
        close(fd);
        return -1;
    }
    struct dirent *item;
    for (;;) {
        errno = 0;
        item = readdir(directory);
        if (item == NULL) {
            if (errno != 0) {
                walk->error = errno;
                closedir(directory);
                return -1;
            }
            break;
        }
        const char *name = item->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) {
            continue;
        }
        struct stat st;
        if (fstatat(dirfd(directory), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) {
                continue; /* removed while we walked */
            }
            walk->error = errno;
            remember(walk, length, name);
            closedir(directory);
            return -1;
        }
        walk->examined++;
        if (st.st_dev != walk->device) {
            walk->other_filesystem++;
            continue;
        }
        int is_directory = S_ISDIR(st.st_mode);
        if (!owned(walk, &st)) {
            if (!is_directory && st.st_nlink > 1) {
                walk->hard_linked++;
            } else if (fchownat(dirfd(directory), name, walk->uid, walk->gid, AT_SYMLINK_NOFOLLOW) == 0) {
                walk->changed++;
            } else if (errno != ENOENT) {
                walk->error = errno;
                remember(walk, length, name);
                closedir(directory);
                return -1;
            }
        }
        if (!is_directory || (depth == 0 && !walk->descend)) {
            continue;
        }
        if (depth >= MAX_DEPTH) {
            walk->error = ELOOP;
            remember(walk, length, name);
            closedir(directory);
            return -1;
        }
        int child = openat(dirfd(directory), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) {
            if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) {
                continue; /* gone, or swapped for a link or a file: not entered */
            }
            walk->error = errno;
            remember(walk, length, name);
            closedir(directory);
            return -1;
        }
        remember(walk, length, name);
        size_t child_length = strnlen(walk->path, sizeof(walk->path));
        if (walk_directory(walk, child, child_length, depth + 1) != 0) {
            closedir(directory);
            return -1;
        }
        walk->path[length] = '\0';
    }
    closedir(directory);
    return 0;
}

static PyObject *chown_tree(PyObject *module, PyObject *args) {
    PyObject *root_object;
    unsigned long uid, gid;
    int descend = 1;
    if (!PyArg_ParseTuple(args, "O&kk|p", PyUnicode_FSConverter, &root_object, &uid, &gid, &descend)) {
        return NULL;
    }
    const char *root = PyBytes_AS_STRING(root_object);
    Walk walk;
    memset(&walk, 0, sizeof(walk));
    walk.uid = (uid_t)uid;
    walk.gid = (gid_t)gid;
    walk.descend = descend;
    snprintf(walk.path, sizeof(walk.path), "%s", root);
    int result = -1;

    Py_BEGIN_ALLOW_THREADS
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        walk.error = errno;
        if (fd >= 0) {
            close(fd);
        }
    } else {
        walk.device = st.st_dev;
        walk.examined = 1;
        if (!owned(&walk, &st)) {
            if (fchown(fd, walk.uid, walk.gid) == 0) {
                walk.changed++;
            } else {
                walk.error = errno;
            }
        }
        if (walk.error == 0) {
            size_t length = strnlen(walk.path, sizeof(walk.path));
            result = walk_directory(&walk, fd, length, 0);
        } else {
            close(fd);
        }
    }
    Py_END_ALLOW_THREADS

    if (result != 0 || walk.error != 0) {
        errno = walk.error;
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, walk.path);
        Py_DECREF(root_object);
        return NULL;
    }
    Py_DECREF(root_object);
    return Py_BuildValue("(KKKK)", walk.examined, walk.changed, walk.hard_linked, walk.other_filesystem);
}

static PyMethodDef methods[] = {
    {"chown_tree", chown_tree, METH_VARARGS,
     "chown_tree(root, uid, gid, descend=True) -> (examined, changed, hard_linked, other_filesystem)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ownwalk", NULL, -1, methods};

PyMODINIT_FUNC PyInit__ownwalk(void) { return PyModule_Create(&module); }
