"""Recursive ownership changes that never follow symbolic links, never leave the file system and never
re-own a file that has other hard links.

`set_tree_owner` is the entry point. It uses the C walker `pydokku._treewalk` (built with the package:
one pass with directory descriptors, no GIL held) when it is there. Without it, when no other file
system is mounted below the root, one
`find -xdev` pass (stat only) says whether anything needs changing and whether any mis-owned
non-directory has other hard links: a file with several names may also be reachable from outside
the storage area, so it is skipped and counted. With no such file, coreutils `chown -R -P -h` makes
the change at C speed (fts with directory descriptors: links are changed, never followed), one
process per core over the root's children. With a file system mounted inside the tree, hard links
to skip, chown failing, or `find`/`chown` missing, the Python walker below does the work (and names
the exact entry that could not be changed).

The walker uses directory file descriptors (os.fwalk) and changes each entry relative to its parent's
descriptor without following links, so a symlink planted in the tree, or swapped in during the walk,
cannot redirect a change outside it. Entries on another file system are neither changed nor entered,
and entries that already have the wanted owner are left alone.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

from pydokku.errors import DokkuError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

PROGRESS_EVERY = 0.5  # seconds between progress updates on a terminal
WORKERS = min(os.cpu_count() or 1, 4)  # chown processes at once


class ChownResult:
    """What an ownership change did: entries examined and changed, and what it left alone."""

    __slots__ = ("changed", "examined", "hard_linked", "other_filesystem")

    def __init__(self) -> None:
        self.examined = 0
        self.changed = 0
        self.other_filesystem = 0
        self.hard_linked = 0  # mis-owned files with other names, left as they are


class Progress:
    """A one-line counter on a terminal for long ownership runs; silent elsewhere."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self.enabled = self._stream.isatty()
        self._label = label
        self._started = self._last = time.monotonic()
        self._shown = False

    def update(self, done: int | None = None) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        counted = f", {done} entries examined" if done is not None else ""
        self._stream.write(f"\r       {self._label}: {now - self._started:.0f}s{counted}  ")
        self._stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()


def _mounts_below(root: str) -> bool:
    from pydokku.treewalk import mount_points_below

    return bool(mount_points_below(root))


def _run_with_progress(command: list[str], progress: Progress) -> subprocess.CompletedProcess[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while True:
        try:
            out, err = process.communicate(timeout=PROGRESS_EVERY)
            return subprocess.CompletedProcess(command, process.returncode, out, err)
        except subprocess.TimeoutExpired:
            progress.update()


def _chown_in_parallel(root: str, uid: int, gid: int, progress: Progress) -> bool:
    """`chown -R -P -h` over the root's children, split across the cores; then the root itself."""
    children = sorted(os.path.join(root, name) for name in os.listdir(root))
    workers = max(1, min(WORKERS, len(children)))
    owner = f"{uid}:{gid}"
    processes = [
        subprocess.Popen(["chown", "-R", "-P", "-h", owner, "--", *children[i::workers]], stderr=subprocess.DEVNULL)
        for i in range(workers)
        if children[i::workers]
    ]
    ok = True
    for process in processes:
        while True:
            try:
                ok = process.wait(timeout=PROGRESS_EVERY) == 0 and ok
                break
            except subprocess.TimeoutExpired:
                progress.update()
    return ok and subprocess.run(["chown", "-h", owner, "--", root], stderr=subprocess.DEVNULL).returncode == 0


def set_tree_owner(root: str, uid: int, gid: int, *, progress_label: str | None = None) -> ChownResult:
    """Give `root` and everything below it on the same file system the owner uid:gid, except files
    with other hard links (counted in the result)."""
    _check_root(root)
    progress = Progress(progress_label or f"Setting ownership of {root}")
    try:
        try:
            from pydokku import _treewalk
        except ImportError:
            return _without_c_walker(root, uid, gid, progress)
        return _in_c(_treewalk.chown_tree, root, uid, gid, progress)
    finally:
        progress.finish()


def _in_c(walk: Callable[..., tuple[int, int, int, int]], root: str, uid: int, gid: int,
          progress: Progress) -> ChownResult:  # fmt: skip
    """The C walker: the root and its direct entries first, then its subdirectories in parallel
    threads; a terminal shows progress meanwhile."""
    import threading

    from pydokku.treewalk import in_parallel, subdirectories

    result = ChownResult()
    lock = threading.Lock()

    def add(counts: tuple[int, int, int, int]) -> None:
        with lock:
            result.examined += counts[0]
            result.changed += counts[1]
            result.hard_linked += counts[2]
            result.other_filesystem += counts[3]

    try:
        add(walk(root, uid, gid, False))
        subtrees = [entry.path for entry in subdirectories(root)]
        result.examined -= len(subtrees)  # each is examined again as the root of its own walk
        in_parallel(subtrees, lambda subtree: add(walk(subtree, uid, gid)), progress.update)
    except OSError as failure:
        raise DokkuError(f"Unable to set directory ownership: {failure.filename}: {failure.strerror}") from failure
    return result


def _without_c_walker(root: str, uid: int, gid: int, progress: Progress) -> ChownResult:
    """find -xdev to see what needs changing (and whether files with other names do), coreutils chown
    when nothing must be skipped, else the Python walker."""
    if not _mounts_below(root):
        ids = (str(uid), str(gid))
        probe = [
            "find", root, "-xdev", "(", "!", "-uid", ids[0], "-o", "!", "-gid", ids[1], ")",
            "(", "!", "-type", "d", "-links", "+1", "-printf", "H", "-o", "-printf", "C", ")",
        ]  # fmt: skip
        try:
            found = _run_with_progress(probe, progress)
            if found.returncode == 0:
                result = ChownResult()
                result.hard_linked = found.stdout.count(b"H")
                result.changed = found.stdout.count(b"C")
                if not result.changed:
                    return result  # everything (but files with other names) already has the owner
                if not result.hard_linked and _chown_in_parallel(root, uid, gid, progress):
                    return result
        except FileNotFoundError:
            pass  # no find or chown on this host: the walker needs neither
    return chown_tree(root, uid, gid, progress)  # mounts inside, hard links, or chown failed


def _check_root(root: str) -> os.stat_result:
    try:
        root_stat = os.stat(root, follow_symlinks=False)
    except OSError as error:
        raise DokkuError(f"Unable to set directory ownership: {root}: {error.strerror}") from error
    if stat.S_ISLNK(root_stat.st_mode):
        raise DokkuError(f"Unable to set directory ownership: {root} is a symbolic link")
    return root_stat


def chown_tree(root: str, uid: int, gid: int, progress: Progress | None = None) -> ChownResult:
    """The Python walker: one file system, no links followed, already-owned entries untouched."""
    result = ChownResult()
    root_stat = _check_root(root)
    result.examined += 1
    _chown_one(root, root_stat, uid, gid, None, result)
    if not stat.S_ISDIR(root_stat.st_mode):
        return result
    from pydokku.treewalk import mount_points_below

    mounts = mount_points_below(root)
    real_root = os.path.realpath(root)
    try:
        for dirpath, dirnames, filenames, dir_fd in os.fwalk(root, follow_symlinks=False, onerror=_raise):
            walk = _Walk(dirpath, dir_fd, root_stat.st_dev, uid, gid, result)
            walk.mounts = {point for point in mounts if os.path.dirname(point) == real_root + dirpath[len(root) :]}
            dirnames[:] = [name for name in dirnames if walk.visit(name)]
            for name in filenames:
                walk.visit(name)
            if progress is not None:
                progress.update(result.examined)
    except OSError as error:
        raise DokkuError(f"Unable to set directory ownership: {error.filename}: {error.strerror}") from error
    return result


def _raise(error: OSError) -> None:
    raise error


class _Walk:
    """One directory of the walk: entries are examined relative to its descriptor."""

    __slots__ = ("device", "dir_fd", "dirpath", "gid", "mounts", "result", "uid")

    def __init__(self, dirpath: str, dir_fd: int, device: int, uid: int, gid: int, result: ChownResult) -> None:
        self.dirpath = dirpath
        self.dir_fd = dir_fd
        self.device = device
        self.uid = uid
        self.gid = gid
        self.result = result
        self.mounts: set[str] = set()  # mount points in this directory (bind mounts share st_dev)

    def visit(self, name: str) -> bool:
        """Fix one entry's owner; False when it must not be descended into (gone, other file system)."""
        try:
            entry = os.stat(name, dir_fd=self.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return False  # removed while we walked
        except OSError as error:
            raise DokkuError(f"Unable to set directory ownership: {self.dirpath}/{name}: {error.strerror}") from error
        self.result.examined += 1
        if entry.st_dev != self.device or any(os.path.basename(point) == name for point in self.mounts):
            self.result.other_filesystem += 1
            return False
        _chown_one(name, entry, self.uid, self.gid, self.dir_fd, self.result, self.dirpath)
        return True


def _chown_one(
    name: str,
    entry: os.stat_result,
    uid: int,
    gid: int,
    dir_fd: int | None,
    result: ChownResult,
    dirpath: str = "",
) -> None:
    if entry.st_uid == uid and entry.st_gid == gid:
        return
    if entry.st_nlink > 1 and not stat.S_ISDIR(entry.st_mode):
        result.hard_linked += 1  # another name may live outside the storage area
        return
    try:
        os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as error:
        path = f"{dirpath}/{name}" if dirpath else name
        raise DokkuError(f"Unable to set directory ownership: {path}: {error.strerror}") from error
    result.changed += 1
