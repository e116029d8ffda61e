"""storage:ensure-directory: messages, chown presets, symlink- and file-system-safe ownership."""

from __future__ import annotations

import os
import subprocess

import pytest

READY = "       Directory ready for mounting\n"


def owner(path) -> tuple[int, int]:
    st = os.lstat(path)
    return st.st_uid, st.st_gid


def test_default_is_herokuish(dokku, env, engine):
    result = dokku("storage:ensure-directory", "node-js-app")
    path = env.storage_root / "node-js-app"
    assert (result.code, result.err) == (0, "")
    assert result.out == (f"-----> Ensuring {path} exists\n       Setting directory ownership to 32767:32767\n" + READY)
    assert path.is_dir()
    assert owner(path) == (32767, 32767)
    assert oct(path.stat().st_mode & 0o777) == "0o755"


@pytest.mark.parametrize(
    ("option", "uid"),
    [
        ("herokuish", 32767),
        ("heroku", 1000),
        ("paketo", 2000),
        ("root", 0),
        ("4242", 4242),
        ("0", 0),
        ("65535", 65535),
    ],
)
def test_chown_presets_and_ids(dokku, env, option, uid, engine):
    for argv in (
        ("storage:ensure-directory", "--chown", option, "data"),
        ("storage:ensure-directory", "data", f"--chown={option}"),
    ):
        result = dokku(*argv)
        assert result.code == 0
        assert result.lines[1] == f"       Setting directory ownership to {uid}:{uid}"
        assert owner(env.storage_root / "data") == (uid, uid)


def test_packeto_is_deprecated_but_works(dokku, env, engine):
    result = dokku("storage:ensure-directory", "--chown", "packeto", "data")
    assert result.out == (
        "       Detected deprecated chown flag 'packeto'. Using 'paketo' instead. Please update your configuration.\n"
        f"-----> Ensuring {env.storage_root}/data exists\n"
        "       Setting directory ownership to 2000:2000\n" + READY
    )
    assert owner(env.storage_root / "data") == (2000, 2000)


def test_chown_false_skips_ownership(dokku, env):
    result = dokku("storage:ensure-directory", "data", "--chown", "false")
    assert result.out == f"-----> Ensuring {env.storage_root}/data exists\n" + READY
    assert owner(env.storage_root / "data") == (os.getuid(), os.getgid())


def test_quiet_keeps_only_the_ensuring_line(dokku, env, engine):
    result = dokku("--quiet", "storage:ensure-directory", "data")
    assert result.out == f"-----> Ensuring {env.storage_root}/data exists\n"
    quiet_packeto = dokku("--quiet", "storage:ensure-directory", "data", "--chown", "packeto")
    assert quiet_packeto.lines[0].startswith("       Detected deprecated chown flag 'packeto'.")


def test_rerun_fixes_ownership_of_the_contents(dokku, env, engine):
    dokku("storage:ensure-directory", "data")
    nested = env.storage_root / "data" / "uploads" / "2026"
    nested.mkdir(parents=True)
    (nested / "photo.jpg").write_bytes(b"x")
    os.chown(nested / "photo.jpg", 0, 0)
    assert dokku("storage:ensure-directory", "data", "--chown", "heroku").code == 0
    for path in (nested.parent, nested, nested / "photo.jpg"):
        assert owner(path) == (1000, 1000)
    assert (nested / "photo.jpg").read_bytes() == b"x"


def test_symlink_inside_is_not_followed(dokku, env, engine):
    outside = env.root / "outside.txt"
    outside.write_text("secret")
    dokku("storage:ensure-directory", "data", "--chown", "false")
    link = env.storage_root / "data" / "link"
    link.symlink_to(outside)
    (env.storage_root / "data" / "dirlink").symlink_to(env.root, target_is_directory=True)
    assert dokku("storage:ensure-directory", "data").code == 0
    assert owner(outside) == (0, 0)
    assert owner(env.root) == (0, 0)
    assert owner(link) == (32767, 32767)  # the link itself, as `chown -h` would


def test_symlinked_storage_directory_is_refused(dokku, env, engine):
    target = env.root / "elsewhere"
    target.mkdir()
    env.storage_root.mkdir(parents=True)
    (env.storage_root / "data").symlink_to(target)
    result = dokku("storage:ensure-directory", "data")
    assert result.code == 1
    assert (
        result.err == f" !     {env.storage_root}/data is a symbolic link; refusing to use it as a storage directory\n"
    )
    assert owner(target) == (0, 0)


def test_existing_file_is_refused(dokku, env, engine):
    env.storage_root.mkdir(parents=True)
    (env.storage_root / "data").write_text("not a dir")
    result = dokku("storage:ensure-directory", "data")
    assert (result.code, result.err) == (1, f" !     {env.storage_root}/data exists but is not a directory\n")


def test_other_file_systems_are_not_entered(dokku, env, engine):
    dokku("storage:ensure-directory", "data", "--chown", "false")
    mountpoint = env.storage_root / "data" / "nas"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mountpoint)], capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr!r}")
    try:
        (mountpoint / "remote.txt").write_text("x")
        assert dokku("storage:ensure-directory", "data").code == 0
        assert owner(mountpoint / "remote.txt") == (0, 0)
        assert owner(mountpoint) == (0, 0)
        assert owner(env.storage_root / "data") == (32767, 32767)
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def test_ownership_change_not_permitted(dokku, env, engine):
    dokku("storage:ensure-directory", "data", "--chown", "false")
    locked = env.storage_root / "data" / "locked.txt"
    locked.write_text("x")
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i is not supported on this file system")
    try:
        result = dokku("storage:ensure-directory", "data")
        assert result.code == 1
        assert result.err == f" !     Unable to set directory ownership: {locked}: Operation not permitted\n"
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), " !     Please specify a directory to create\n"),
        (("",), " !     Please specify a directory to create\n"),
        *(
            ((name,), " !     Directory can only contain the following set of characters: [A-Za-z0-9_-]\n")
            for name in ("my.app", "x/y", "..", "a b", "$(id)", "it's", "ünï", "my\\app", "x\n", "@")
        ),
        (("x" * 256,), " !     Directory name must be at most 255 characters\n"),
        (("data", "--chown", "nobody"), " !     Unsupported chown permissions\n"),
        (("data", "--chown=65536"), " !     Unsupported chown permissions\n"),
        (("data", "--chown=-1"), " !     Unsupported chown permissions\n"),
        (("data", "--chown="), " !     Unsupported chown permissions\n"),
        (("data", "--chown", "１２"), " !     Unsupported chown permissions\n"),
    ],
)
def test_bad_input_changes_nothing(dokku, env, args, message):
    before = env.snapshot()
    result = dokku("storage:ensure-directory", *args)
    assert (result.code, result.out, result.err) == (1, "", message)
    assert env.snapshot() == before


def test_missing_chown_value_is_a_usage_error(dokku, env):
    result = dokku("storage:ensure-directory", "data", "--chown")
    assert (result.code, result.err) == (2, " !     flag needs an argument: --chown\n")
    assert not env.storage_root.exists()


def test_app_flag_is_not_taken_as_the_directory(dokku, env, engine):
    # The remote dokku client injects --app; ensure-directory takes a directory, not an app.
    result = dokku("--app", "node-js-app", "storage:ensure-directory", "shared")
    assert result.code == 0
    assert (env.storage_root / "shared").is_dir()
