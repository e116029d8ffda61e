/* pydokku._treewalk: walk a tree in one pass, at C speed, never following a link, to give it an
 * owner or to measure it.
 *
 * chown_tree(root, uid, gid, descend=True) -> (examined, changed, hard_linked, other_filesystem)
 * measure_tree(root, descend=True) -> (disk_bytes, apparent_bytes, files, directories, other_filesystem,
 *                                      linked)
 *
 * With descend=False only the root and its direct entries are examined (their contents are not):
 * callers walk the subdirectories in parallel threads.
 *
 * measure_tree counts what `du` counts: allocated blocks (disk_bytes) and sizes (apparent_bytes) of the
 * root and everything below it on its file system. A non-directory with more than one link is not added
 * up here but listed in `linked` as (inode, disk_bytes, apparent_bytes): the caller counts each inode
 * once across the parallel walks.
 *
 * Every directory is opened relative to its parent's descriptor with O_NOFOLLOW, and every entry is
 * examined and changed relative to its directory's descriptor with AT_SYMLINK_NOFOLLOW: a symbolic
 * link is changed itself, never its target, and a directory swapped for a link during the walk is not
 * entered. Entries on another file system, or on another mount of the same one (a bind mount: its mount
 * id, from statx, differs), are neither changed nor entered. A tree nested deeper than MAX_DEPTH is an
 * error naming where, never a subtree silently left out. Entries that already have
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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_DEPTH 1024

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif
#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

typedef struct {
    unsigned long long inode, disk_bytes, apparent_bytes;
} Linked;

typedef struct {
    int measuring;         /* 1: add up sizes (measure_tree); 0: give the owner (chown_tree) */
    uid_t uid;
    gid_t gid;
    dev_t device;
    unsigned long long mount_id; /* the root's mount: a bind mount of the same file system has another */
    int has_mount_id;
    int descend;
    int too_deep;          /* the walk stopped at MAX_DEPTH: said, never dropped */
    unsigned long long examined, changed, hard_linked, other_filesystem;
    unsigned long long disk_bytes, apparent_bytes, files, directories;
    Linked *linked;        /* measured non-directories with other names */
    size_t linked_count, linked_room;
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

/* Add an entry's sizes; returns 0, or -1 (ENOMEM) when a linked file could not be listed. */
static int measure(Walk *walk, const struct stat *st) {
    unsigned long long disk = (unsigned long long)st->st_blocks * 512ULL;
    unsigned long long apparent = (unsigned long long)st->st_size;
    if (S_ISDIR(st->st_mode)) {
        walk->directories++;
    } else if (st->st_nlink > 1) {
        if (walk->linked_count == walk->linked_room) {
            size_t room = walk->linked_room ? walk->linked_room * 2 : 64;
            Linked *grown = realloc(walk->linked, room * sizeof(Linked));
            if (grown == NULL) {
                walk->error = ENOMEM;
                return -1;
            }
            walk->linked = grown;
            walk->linked_room = room;
        }
        Linked *item = &walk->linked[walk->linked_count++];
        item->inode = (unsigned long long)st->st_ino;
        item->disk_bytes = disk;
        item->apparent_bytes = apparent;
        return 0;
    } else {
        walk->files++;
    }
    walk->disk_bytes += disk;
    walk->apparent_bytes += apparent;
    return 0;
}

/* What the walk does with one entry of its file system (the root included): measure it, or give it
 * the owner unless it has other names. Returns 0, or -1 with walk->error set. */
static int visit(Walk *walk, int directory_fd, const char *name, const struct stat *st) {
    if (walk->measuring) {
        return measure(walk, st);
    }
    if (owned(walk, st)) {
        return 0;
    }
    if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
        walk->hard_linked++;
        return 0;
    }
    int done = name == NULL ? fchown(directory_fd, walk->uid, walk->gid)
                            : fchownat(directory_fd, name, walk->uid, walk->gid, AT_SYMLINK_NOFOLLOW);
    if (done == 0) {
        walk->changed++;
    } else if (errno != ENOENT) {
        walk->error = errno;
        return -1;
    }
    return 0;
}

/* lstat an entry relative to its directory, and whether it is the root of another mount: st_dev is the
 * same across a bind mount of the same file system, so the mount id (or the mount-root attribute) says. */
static int examine(Walk *walk, int directory_fd, const char *name, struct stat *st, int *other_mount) {
    struct statx sx;
    *other_mount = 0;
    if (statx(directory_fd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_MNT_ID, &sx) != 0) {
        if (errno != ENOSYS) {
            return -1;
        }
        return fstatat(directory_fd, name, st, AT_SYMLINK_NOFOLLOW);
    }
    memset(st, 0, sizeof(*st));
    st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
    st->st_ino = sx.stx_ino;
    st->st_mode = sx.stx_mode;
    st->st_nlink = sx.stx_nlink;
    st->st_uid = sx.stx_uid;
    st->st_gid = sx.stx_gid;
    st->st_size = (off_t)sx.stx_size;
    st->st_blocks = (blkcnt_t)sx.stx_blocks;
    if ((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
        *other_mount = 1;
    }
    if (walk->has_mount_id && (sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id != walk->mount_id) {
        *other_mount = 1;
    }
    return 0;
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
        int other_mount;
        if (examine(walk, dirfd(directory), name, &st, &other_mount) != 0) {
            if (errno == ENOENT) {
                continue; /* removed while we walked */
            }
            walk->error = errno;
            remember(walk, length, name);
            closedir(directory);
            return -1;
        }
        walk->examined++;
        if (st.st_dev != walk->device || other_mount) {
            walk->other_filesystem++;
            continue;
        }
        int is_directory = S_ISDIR(st.st_mode);
        if (visit(walk, dirfd(directory), name, &st) != 0) {
            remember(walk, length, name);
            closedir(directory);
            return -1;
        }
        if (!is_directory || (depth == 0 && !walk->descend)) {
            continue;
        }
        if (depth >= MAX_DEPTH) {
            walk->error = ELOOP;
            walk->too_deep = 1;
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

/* Open the root (never through a link), visit it, walk below it; without the GIL. Returns 0 or -1. */
static int walk_root(Walk *walk, const char *root) {
    int result = -1;
    snprintf(walk->path, sizeof(walk->path), "%s", root);
    Py_BEGIN_ALLOW_THREADS
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        walk->error = errno;
        if (fd >= 0) {
            close(fd);
        }
    } else {
        struct statx sx;
        if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID)) {
            walk->mount_id = sx.stx_mnt_id;
            walk->has_mount_id = 1;
        }
        walk->device = st.st_dev;
        walk->examined = 1;
        if (visit(walk, fd, NULL, &st) == 0) {
            result = walk_directory(walk, fd, strnlen(walk->path, sizeof(walk->path)), 0);
        } else {
            close(fd);
        }
    }
    Py_END_ALLOW_THREADS
    if (walk->too_deep) {
        PyObject *where = PyUnicode_DecodeFSDefault(walk->path);
        PyObject *error = where == NULL ? NULL
                                        : PyObject_CallFunction(PyExc_OSError, "isO", ELOOP,
                                                                "directories nested too deeply to walk", where);
        if (error != NULL) {
            PyErr_SetObject(PyExc_OSError, error);
        }
        Py_XDECREF(error);
        Py_XDECREF(where);
        return -1;
    }
    if (result != 0 || walk->error != 0) {
        errno = walk->error;
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, walk->path);
        return -1;
    }
    return 0;
}

static PyObject *chown_tree(PyObject *module, PyObject *args) {
    PyObject *root_object;
    unsigned long uid, gid;
    int descend = 1;
    if (!PyArg_ParseTuple(args, "O&kk|p", PyUnicode_FSConverter, &root_object, &uid, &gid, &descend)) {
        return NULL;
    }
    Walk walk;
    memset(&walk, 0, sizeof(walk));
    walk.uid = (uid_t)uid;
    walk.gid = (gid_t)gid;
    walk.descend = descend;
    int failed = walk_root(&walk, PyBytes_AS_STRING(root_object));
    Py_DECREF(root_object);
    if (failed) {
        return NULL;
    }
    return Py_BuildValue("(KKKK)", walk.examined, walk.changed, walk.hard_linked, walk.other_filesystem);
}

static PyObject *measure_tree(PyObject *module, PyObject *args) {
    PyObject *root_object;
    int descend = 1;
    if (!PyArg_ParseTuple(args, "O&|p", PyUnicode_FSConverter, &root_object, &descend)) {
        return NULL;
    }
    Walk walk;
    memset(&walk, 0, sizeof(walk));
    walk.measuring = 1;
    walk.descend = descend;
    int failed = walk_root(&walk, PyBytes_AS_STRING(root_object));
    Py_DECREF(root_object);
    PyObject *linked = failed ? NULL : PyList_New((Py_ssize_t)walk.linked_count);
    for (size_t i = 0; linked != NULL && i < walk.linked_count; i++) {
        Linked *item = &walk.linked[i];
        PyObject *row = Py_BuildValue("(KKK)", item->inode, item->disk_bytes, item->apparent_bytes);
        if (row == NULL) {
            Py_CLEAR(linked);
        } else {
            PyList_SET_ITEM(linked, (Py_ssize_t)i, row);
        }
    }
    free(walk.linked);
    if (linked == NULL) {
        return NULL;
    }
    return Py_BuildValue("(KKKKKN)", walk.disk_bytes, walk.apparent_bytes, walk.files, walk.directories,
                         walk.other_filesystem, linked);
}

static PyMethodDef methods[] = {
    {"chown_tree", chown_tree, METH_VARARGS,
     "chown_tree(root, uid, gid, descend=True) -> (examined, changed, hard_linked, other_filesystem)"},
    {"measure_tree", measure_tree, METH_VARARGS,
     "measure_tree(root, descend=True) -> (disk_bytes, apparent_bytes, files, directories, other_filesystem, "
     "linked)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_treewalk", NULL, -1, methods};

PyMODINIT_FUNC PyInit__treewalk(void) { return PyModule_Create(&module); }
