"""Recursive ownership changes that never follow symbolic links and never leave the file system.

`set_tree_owner` is the entry point. When no other file system is mounted below the root, it asks
`find -xdev` whether anything needs changing (stat only, stopping at the first mismatch) and lets
coreutils `chown -R -P -h` make the change: both walk with directory descriptors and change links,
never their targets, at C speed. When a file system is mounted inside the tree, or chown fails, the
Python walker below does the work (and names the exact entry that could not be changed).

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
from dataclasses import dataclass

from pydokku.errors import DokkuError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

PROGRESS_EVERY = 0.5  # seconds between progress updates on a terminal


@dataclass
class ChownResult:
    examined: int = 0
    changed: int = 0
    other_filesystem: int = 0


class Progress:
    """A one-line counter on a terminal for long ownership runs; silent elsewhere."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty()
        self._label = label
        self._started = self._last = time.monotonic()
        self._shown = False

    def update(self, done: int | None = None) -> None:
        now = time.monotonic()
        if not self._enabled or now - self._last < PROGRESS_EVERY:
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
    prefix = os.path.realpath(root).rstrip("/") + "/"
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as mountinfo:
        for line in mountinfo:
            mount_point = line.split(" ", 5)[4]
            # mountinfo escapes space, tab, newline and backslash as octal
            if "\\" in mount_point:
                mount_point = mount_point.encode("latin-1").decode("unicode_escape")
            if mount_point.startswith(prefix):
                return True
    return False


def _run_with_progress(command: list[str], progress: Progress) -> subprocess.CompletedProcess[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while True:
        try:
            out, err = process.communicate(timeout=PROGRESS_EVERY)
            return subprocess.CompletedProcess(command, process.returncode, out, err)
        except subprocess.TimeoutExpired:
            progress.update()


def set_tree_owner(root: str, uid: int, gid: int, *, progress_label: str | None = None) -> None:
    """Give `root` and everything below it on the same file system the owner uid:gid."""
    _check_root(root)
    progress = Progress(progress_label or f"Setting ownership of {root}")
    try:
        if not _mounts_below(root):
            ids = (str(uid), str(gid))
            probe = ["find", root, "-xdev", "(", "!", "-uid", ids[0], "-o", "!", "-gid", ids[1], ")", "-print", "-quit"]
            found = _run_with_progress(probe, progress)
            if found.returncode == 0 and not found.stdout:
                return  # everything already has the owner
            if _run_with_progress(["chown", "-R", "-P", "-h", f"{uid}:{gid}", root], progress).returncode == 0:
                return
        chown_tree(root, uid, gid, progress)  # mounts inside, or chown failed: the walker says where
    finally:
        progress.finish()


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
    try:
        for dirpath, dirnames, filenames, dir_fd in os.fwalk(root, follow_symlinks=False, onerror=_raise):
            walk = _Walk(dirpath, dir_fd, root_stat.st_dev, uid, gid, result)
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


@dataclass
class _Walk:
    """One directory of the walk: entries are examined relative to its descriptor."""

    dirpath: str
    dir_fd: int
    device: int
    uid: int
    gid: int
    result: ChownResult

    def visit(self, name: str) -> bool:
        """Fix one entry's owner; False when it must not be descended into (gone, other file system)."""
        try:
            entry = os.stat(name, dir_fd=self.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return False  # removed while we walked
        except OSError as error:
            raise DokkuError(f"Unable to set directory ownership: {self.dirpath}/{name}: {error.strerror}") from error
        self.result.examined += 1
        if entry.st_dev != self.device:
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
    try:
        os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as error:
        path = f"{dirpath}/{name}" if dirpath else name
        raise DokkuError(f"Unable to set directory ownership: {path}: {error.strerror}") from error
    result.changed += 1
