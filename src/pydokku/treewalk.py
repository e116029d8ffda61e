"""Walks of a whole tree that never follow a symbolic link and never leave the root's file system: the
parallel driver of the C walker (`pydokku._treewalk`), and measuring a tree as `du` does.

The C walker holds no GIL while it walks, so the root's subdirectories are walked in threads, one per
core (up to WORKERS): the root and its direct entries first (descend=False), then each subdirectory as
the root of its own walk.
"""

from __future__ import annotations

import errno
import os
import stat
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

WORKERS = min(os.cpu_count() or 1, 4)  # subdirectories walked at once
WAIT_STEP = 0.5  # seconds between the waiting thread's calls of `waiting` (a progress line)


def _unescape_mountinfo(field: bytes) -> str:
    """mountinfo writes space, tab, newline and backslash as `\\ooo`; the rest is the path's bytes."""
    if b"\\" in field:
        parts = field.split(b"\\")
        field = parts[0] + b"".join(bytes([int(part[:3], 8)]) + part[3:] for part in parts[1:])
    return os.fsdecode(field)


def mount_points_below(root: str) -> frozenset[str]:
    """Every mount point strictly below `root` (as this process sees them), bind mounts of the same file
    system included, which st_dev cannot tell: the walkers never enter one."""
    prefix = os.path.realpath(root).rstrip("/") + "/"
    with open("/proc/self/mountinfo", "rb") as mountinfo:
        points = (_unescape_mountinfo(line.split(b" ", 5)[4]) for line in mountinfo)
        return frozenset(point for point in points if point.startswith(prefix))


def subdirectories(root: str) -> list[os.DirEntry[str]]:
    """The root's direct subdirectories on its own file system and mount (links are not directories here)."""
    device = os.lstat(root).st_dev
    mounts = mount_points_below(root)
    real_root = os.path.realpath(root)
    with os.scandir(root) as listing:
        found = []
        for entry in listing:
            try:
                if (
                    entry.is_dir(follow_symlinks=False)
                    and entry.stat(follow_symlinks=False).st_dev == device
                    and os.path.join(real_root, entry.name) not in mounts
                ):
                    found.append(entry)
            except OSError:
                continue  # gone since it was listed
    return found


def in_parallel(subtrees: list[str], walk: Callable[[str], None], waiting: Callable[[], None] | None = None) -> None:
    """Call walk(subtree) for every subtree in up to WORKERS threads; the first failure stops the others
    and is raised here. A subtree removed, or swapped for a file or a link, since it was listed is
    skipped: it is not in the tree any more, and a link is never entered."""
    pending = list(subtrees)
    failures: list[OSError] = []
    lock = threading.Lock()

    def worker() -> None:
        while not failures:
            with lock:
                if not pending:
                    return
                subtree = pending.pop()
            try:
                walk(subtree)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as failure:
                if failure.errno != errno.ELOOP or failure.filename != subtree:  # not the subtree swapped for a link
                    failures.append(failure)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(WORKERS, len(pending)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(WAIT_STEP)
            if waiting is not None:
                waiting()
    if failures:
        raise failures[0]


class TreeSize:
    """What a tree holds, as `du` counts it: allocated bytes (disk_bytes), sizes (apparent_bytes), and
    inodes: files (every non-directory, once however many names it has) and directories. Entries on
    another file system are neither counted nor entered (other_filesystem says how many there were)."""

    __slots__ = ("apparent_bytes", "directories", "disk_bytes", "files", "other_filesystem")

    def __init__(self) -> None:
        self.disk_bytes = 0
        self.apparent_bytes = 0
        self.files = 0
        self.directories = 0
        self.other_filesystem = 0


def measure(root: str) -> TreeSize:
    """The size of the tree at root (a directory, not a link). Raises OSError when it cannot be read."""
    size = TreeSize()
    linked: dict[int, tuple[int, int]] = {}
    lock = threading.Lock()
    try:
        from pydokku import _treewalk
    except ImportError:
        _measure_in_python(root, size, linked)
    else:

        def add(counts: tuple[int, int, int, int, int, list[tuple[int, int, int]]]) -> None:
            with lock:
                size.disk_bytes += counts[0]
                size.apparent_bytes += counts[1]
                size.files += counts[2]
                size.directories += counts[3]
                size.other_filesystem += counts[4]
                for inode, disk, apparent in counts[5]:
                    linked[inode] = (disk, apparent)

        add(_treewalk.measure_tree(root, False))
        subtrees = subdirectories(root)
        for entry in subtrees:  # counted in the root's walk, and again as the root of their own
            counted = entry.stat(follow_symlinks=False)
            size.disk_bytes -= counted.st_blocks * 512
            size.apparent_bytes -= counted.st_size
            size.directories -= 1
        in_parallel([entry.path for entry in subtrees], lambda subtree: add(_treewalk.measure_tree(subtree)))
    size.files += len(linked)
    for disk, apparent in linked.values():
        size.disk_bytes += disk
        size.apparent_bytes += apparent
    return size


def _measure_in_python(root: str, size: TreeSize, linked: dict[int, tuple[int, int]]) -> None:
    """The same count without the C walker: a stack of scandir calls, entries examined without following
    links."""
    root_stat = os.lstat(root)
    if not stat.S_ISDIR(root_stat.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), root)
    device = root_stat.st_dev
    mounts = mount_points_below(root)
    real_root = os.path.realpath(root)
    size.disk_bytes += root_stat.st_blocks * 512
    size.apparent_bytes += root_stat.st_size
    size.directories += 1
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as listing:
            for entry in listing:
                try:
                    found = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if found.st_dev != device or real_root + entry.path[len(root) :] in mounts:
                    size.other_filesystem += 1
                    continue
                if stat.S_ISDIR(found.st_mode):
                    size.directories += 1
                    stack.append(entry.path)
                elif found.st_nlink > 1:
                    linked[found.st_ino] = (found.st_blocks * 512, found.st_size)
                    continue
                else:
                    size.files += 1
                size.disk_bytes += found.st_blocks * 512
                size.apparent_bytes += found.st_size
