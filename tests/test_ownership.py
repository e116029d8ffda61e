"""Ownership changes, on every implementation: the C walker, find+chown when it is not built, and the
Python walker. None follows a symbolic link, enters another file system or re-owns a file that has
other hard links; all name the entry they could not change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pydokku import ownership
from pydokku.errors import DokkuError


def owner(path: Path) -> tuple[int, int]:
    st = os.lstat(path)
    return st.st_uid, st.st_gid


@pytest.fixture(params=["c", "find-chown", "python"])
def set_owner(request, monkeypatch):  # type: ignore[no-untyped-def]
    if request.param == "c":
        pytest.importorskip("pydokku._treewalk")
        return ownership.set_tree_owner
    monkeypatch.setitem(sys.modules, "pydokku._treewalk", None)  # as if it was not built
    if request.param == "find-chown":
        return ownership.set_tree_owner
    return lambda root, uid, gid: ownership.chown_tree(root, uid, gid)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "file").write_text("x")
    (root / "top").write_text("y")
    outside = tmp_path / "outside"
    outside.write_text("not yours")
    (root / "a" / "link").symlink_to(outside)
    return root


def test_everything_but_link_targets(set_owner, tree):
    result = set_owner(str(tree), 4000, 4001)
    for path in (tree, tree / "a", tree / "a" / "b", tree / "a" / "b" / "file", tree / "top", tree / "a" / "link"):
        assert owner(path) == (4000, 4001), path
    assert owner(tree.parent / "outside") == (0, 0)
    assert (result.changed, result.hard_linked) == (6, 0)
    again = set_owner(str(tree), 4000, 4001)
    assert again.changed == 0


def test_files_with_other_hard_links_are_left_and_counted(set_owner, tree):
    os.link(tree.parent / "outside", tree / "a" / "hard")
    result = set_owner(str(tree), 4000, 4001)
    assert owner(tree / "a" / "hard") == owner(tree.parent / "outside") == (0, 0)
    assert owner(tree / "top") == (4000, 4001)
    assert result.hard_linked == 1


def test_other_file_systems_are_not_entered(set_owner, tree):
    mount_point = tree / "a" / "mnt"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], check=True)
    try:
        (mount_point / "inside").write_text("z")
        set_owner(str(tree), 4000, 4001)
        assert owner(mount_point / "inside") == (0, 0)
        assert owner(tree / "top") == (4000, 4001)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def test_an_entry_that_cannot_be_changed_is_named(set_owner, tree):
    locked = tree / "a" / "b" / "file"
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    try:
        with pytest.raises(DokkuError) as raised:
            set_owner(str(tree), 4000, 4001)
        assert raised.value.message == f"Unable to set directory ownership: {locked}: Operation not permitted"
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)


def test_a_symlinked_root_is_refused(set_owner, tree):
    link = tree.parent / "root-link"
    link.symlink_to(tree)
    with pytest.raises(DokkuError) as raised:
        set_owner(str(link), 4000, 4001)
    assert raised.value.message == f"Unable to set directory ownership: {link} is a symbolic link"
    assert owner(tree) == (0, 0)


def test_without_find_and_chown_on_path(tree, monkeypatch):
    """Neither the C walker nor find/chown: the Python walker does the work."""
    monkeypatch.setitem(sys.modules, "pydokku._treewalk", None)
    monkeypatch.setenv("PATH", "/nonexistent")
    ownership.set_tree_owner(str(tree), 4000, 4001)
    assert owner(tree / "a" / "b" / "file") == (4000, 4001)
