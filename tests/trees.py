"""A storage tree with everything a faithful copy must keep, and what "the same tree" means."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from pathlib import Path


def make_tree(root: Path, *, small_files: int = 0, big_bytes: int = 0) -> None:
    """Owners, modes (setuid too), symlinks, a hard link, an empty directory, a sparse file, xattrs in
    two namespaces, an ACL, a nanosecond mtime, a name that is not UTF-8; and, when asked, many small
    files and one big one."""
    (root / "docs" / "private").mkdir(parents=True)
    (root / "docs" / "a.txt").write_text("alpha\n")
    (root / "docs" / "private" / "secret").write_bytes(os.urandom(4096))
    os.chown(root / "docs" / "private" / "secret", 32767, 32767)
    os.chmod(root / "docs" / "private", 0o700)
    os.chmod(root / "docs" / "a.txt", 0o640)
    os.chown(root / "docs" / "a.txt", 1000, 2000)
    (root / "bin").mkdir()
    (root / "bin" / "tool").write_text("#!/bin/sh\n")
    os.chown(root / "bin" / "tool", 1000, 1000)  # a setuid file of root would lose its bit (archive.check_tree)
    os.chmod(root / "bin" / "tool", 0o4755)
    (root / "link").symlink_to("docs/a.txt")
    (root / "dangling").symlink_to("does/not/exist")
    os.lchown(root / "link", 1001, 1001)
    os.link(root / "docs" / "a.txt", root / "hard")
    (root / "empty").mkdir()
    with open(root / "sparse", "wb") as sparse:
        sparse.truncate(8 << 20)
        sparse.seek(4 << 20)
        sparse.write(b"middle")
    os.setxattr(root / "docs" / "a.txt", "user.origin", b"upload")
    os.setxattr(root / "docs" / "a.txt", "trusted.secret", b"t")
    subprocess.run(["setfacl", "-m", "u:1001:rw", str(root / "docs" / "private" / "secret")], check=True)
    with open(os.path.join(os.fsencode(root), b"latin1-\xe9.txt"), "wb") as odd:
        odd.write(b"latin1\n")
    if small_files:
        for index in range(small_files):
            folder = root / "small" / f"d{index // 100:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"f{index:05d}.txt").write_bytes(os.urandom(64 + index % 2048))
    if big_bytes:
        with open(root / "big.bin", "wb") as big:
            for _ in range(big_bytes >> 20):
                big.write(os.urandom(1 << 20))
    os.utime(root / "docs" / "a.txt", ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))


def metadata(root: Path, *, directory_times: bool = False) -> dict[str, tuple[object, ...]]:
    """What a restore must give back, per path: type and mode, owner, size, content, mtime, link target,
    xattrs (ACLs among them), and which paths share an inode."""
    inodes: dict[int, str] = {}
    shown = {}
    base = os.fsencode(root)
    for directory, dirnames, filenames in os.walk(base):
        for name in [b"", *dirnames, *filenames] if directory == base else [*dirnames, *filenames]:
            path = os.path.join(directory, name) if name else directory
            st = os.lstat(path)
            relative = os.path.relpath(path, base).decode(errors="surrogateescape")
            first = inodes.setdefault(st.st_ino, relative)
            link = os.readlink(path) if stat.S_ISLNK(st.st_mode) else None
            xattrs = {} if link else {key: os.getxattr(path, key) for key in sorted(os.listxattr(path))}
            is_dir = stat.S_ISDIR(st.st_mode)
            mtime = (
                None if (is_dir and not directory_times) or link or not relative or relative == "." else st.st_mtime_ns
            )
            size = None if is_dir else st.st_size
            digest = _digest(path) if stat.S_ISREG(st.st_mode) else None
            shown[relative] = (oct(st.st_mode), st.st_uid, st.st_gid, size, digest, mtime, link, xattrs, first)
    return shown


def _digest(path: bytes) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()
