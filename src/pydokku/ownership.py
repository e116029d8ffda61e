"""Symlink-safe recursive ownership changes that stay on one file system.

The walk uses directory file descriptors (os.fwalk) and changes each entry relative to its parent's
descriptor without following links, so a symlink planted in the tree, or swapped in during the walk,
can never redirect a chown outside it. Entries on another file system (a mount point inside the tree)
are neither changed nor descended into. Entries that already have the wanted owner are left alone,
which makes a re-run over an owned tree a read-only pass.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from pydokku.errors import DokkuError


@dataclass
class ChownResult:
    examined: int = 0
    changed: int = 0
    other_filesystem: int = 0


def chown_tree(root: str, uid: int, gid: int) -> ChownResult:
    """Give `root` and everything below it on the same file system the owner uid:gid."""
    result = ChownResult()
    try:
        root_stat = os.stat(root, follow_symlinks=False)
    except OSError as error:
        raise DokkuError(f"Unable to set directory ownership: {root}: {error.strerror}") from error
    if stat.S_ISLNK(root_stat.st_mode):
        raise DokkuError(f"Unable to set directory ownership: {root} is a symbolic link")
    device = root_stat.st_dev
    result.examined += 1
    _chown_one(str(root), root_stat, uid, gid, None, result)
    if not stat.S_ISDIR(root_stat.st_mode):
        return result
    try:
        for dirpath, dirnames, filenames, dir_fd in os.fwalk(root, follow_symlinks=False, onerror=_raise):
            walk = _Walk(dirpath, dir_fd, device, uid, gid, result)
            dirnames[:] = [name for name in dirnames if walk.visit(name)]
            for name in filenames:
                walk.visit(name)
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
