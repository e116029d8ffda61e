"""Ownership of mounted host directories at deploy: the seed's "App User and Persistent Storage file
ownership" section, made safe (only inside the storage root, no symlinks followed, no file with other
hard links, other file systems left alone, opt-out)."""

from __future__ import annotations

import json
import os

import pytest

from conftest import in_container


def owner(path) -> tuple[int, int]:
    st = os.lstat(path)
    return st.st_uid, st.st_gid


@pytest.fixture
def tree(env):
    """A root-owned tree in a storage directory, with a symlink pointing outside it."""
    tree = env.storage_root / "app-data"
    (tree / "uploads").mkdir(parents=True)
    (tree / "uploads" / "a.txt").write_text("a")
    outside = env.root / "outside.txt"
    outside.write_text("not yours")
    (tree / "uploads" / "escape").symlink_to(outside)
    return tree


def test_buildpack_image_gets_its_mounts_owned_by_the_app_user(dokku, app_name, images, tree, env, deploy):
    result = deploy(app_name, images.buildpack, f"{tree}:/data")
    assert result.code == 0, result.err
    assert f"       Setting ownership of {tree} to 32767:32767\n" in result.out
    for path in (tree, tree / "uploads", tree / "uploads" / "a.txt", tree / "uploads" / "escape"):
        assert owner(path) == (32767, 32767)
    assert owner(env.root / "outside.txt") == (0, 0)  # the symlink's target is not touched
    # The app, running as herokuishuser, can write where it could not before.
    assert (
        in_container(f"{app_name}.web.1", "su herokuishuser -s /bin/sh -c 'touch /data/uploads/b' && echo ok") == "ok"
    )


def test_an_owned_tree_is_skipped(dokku, app_name, images, tree, deploy):
    os.chown(tree, 32767, 32767)
    (tree / "root-file").write_text("x")  # root-owned, but the tree's root already has the owner
    result = deploy(app_name, images.buildpack, f"{tree}:/data")
    assert result.code == 0
    assert "Setting ownership" not in result.out
    assert owner(tree / "root-file") == (0, 0)


def test_host_paths_outside_the_storage_root_are_never_reowned(dokku, app_name, images, host_dir, env, deploy):
    (host_dir / "f").write_text("x")
    dokku("apps:create", app_name)
    dokku("scheduler-docker-local:set", app_name, "chown-mounts", "true")
    result = deploy(app_name, images.buildpack, f"{host_dir}:/data")
    assert result.code == 0, result.err
    assert (
        f"       Leaving the owner of {host_dir} as it is: it is outside the storage root ({env.storage_root});"
        " to have its owner managed, keep the data in a storage entry (dokku storage:create) and mount that\n"
        in result.out
    )
    assert "Setting ownership" not in result.out
    assert owner(host_dir) == owner(host_dir / "f") == (0, 0)


def test_a_symlink_into_the_storage_root_does_not_count_as_inside(dokku, app_name, images, host_dir, env, deploy):
    env.storage_root.mkdir(parents=True)
    (env.storage_root / "sneaky").symlink_to(host_dir)
    result = deploy(app_name, images.buildpack, f"{env.storage_root}/sneaky:/data")
    assert result.code == 0, result.err
    assert f"       Leaving the owner of {env.storage_root}/sneaky as it is" in result.out
    assert owner(host_dir) == (0, 0)


def test_files_with_other_hard_links_keep_their_owner(dokku, app_name, images, tree, env, deploy):
    outside = env.root / "hard-outside.txt"
    outside.write_text("shared inode")
    os.link(outside, tree / "uploads" / "hard.txt")
    result = deploy(app_name, images.buildpack, f"{tree}:/data")
    assert result.code == 0, result.err
    assert (
        result.out.count(
            "       Left the owner of 1 file(s) with other hard links as it was:"
            " their other names may be outside the storage area\n"
        )
        == 1
    )
    assert owner(outside) == (0, 0)
    assert owner(tree / "uploads" / "a.txt") == (32767, 32767)


@pytest.mark.usefixtures("labelled_volumes")  # its volumes carry an app label: not beside a whole-host verify
def test_local_volumes_are_reowned_but_not_those_binding_a_host_directory(dokku, app_name, images, host_dir, deploy):
    from conftest import docker

    plain, bound = f"{app_name}-plain", f"{app_name}-bound"
    docker("volume", "create", "--label", f"com.dokku.app-name={app_name}", plain)
    docker("volume", "create", "--label", f"com.dokku.app-name={app_name}", "--opt", "type=none", "--opt", "o=bind",
           "--opt", f"device={host_dir}", bound)  # fmt: skip
    try:
        result = deploy(app_name, images.buildpack, f"{plain}:/plain", f"{bound}:/bound")
        assert result.code == 0, result.err
        mountpoint = docker("volume", "inspect", "--format", "{{.Mountpoint}}", plain)
        assert f"       Setting ownership of {mountpoint} to 32767:32767\n" in result.out
        assert owner(mountpoint) == (32767, 32767)
        assert (
            f"       Leaving the owner of docker volume {bound} as it is: only local-driver volumes without a"
            " device option are re-owned; give it its owner yourself\n" in result.out
        )
        assert owner(host_dir) == (0, 0)
    finally:
        dokku("--force", "apps:destroy", app_name)
        docker("volume", "rm", plain, bound, check=False)


def test_disable_chown(dokku, app_name, images, tree, deploy):
    dokku("apps:create", app_name)
    dokku("scheduler-docker-local:set", app_name, "disable-chown", "true")
    result = deploy(app_name, images.buildpack, f"{tree}:/data")
    assert result.code == 0
    assert "Setting ownership" not in result.out
    assert owner(tree / "uploads" / "a.txt") == (0, 0)


def test_other_images_only_when_asked(dokku, app_name, images, tree, deploy):
    result = deploy(app_name, images.user, f"{tree}:/data")
    assert "Setting ownership" not in result.out
    assert owner(tree) == (0, 0)
    assert dokku("scheduler-docker-local:set", app_name, "chown-mounts", "true").out == (
        "-----> Setting chown-mounts to true\n"
    )
    restarted = dokku("ps:restart", app_name)
    assert f"       Setting ownership of {tree} to 1500:1600\n" in restarted.out
    assert owner(tree / "uploads" / "a.txt") == (1500, 1600)


def test_numeric_image_user_keeps_its_group(dokku, app_name, images, tree, deploy):
    dokku("apps:create", app_name)
    dokku("scheduler-docker-local:set", app_name, "chown-mounts", "true")
    assert deploy(app_name, images.numeric_user, f"{tree}:/data").code == 0
    assert owner(tree / "uploads" / "a.txt") == (1700, 1800)


def test_read_only_mounts_are_not_reowned(dokku, app_name, images, tree, deploy):
    result = deploy(app_name, images.buildpack, f"{tree}:/data:ro")
    assert result.code == 0
    assert owner(tree) == (0, 0)


def test_app_user_must_exist_in_the_image(dokku, app_name, images, tree, deploy):
    dokku("apps:create", app_name)
    dokku("scheduler-docker-local:set", app_name, "chown-mounts", "true")
    dokku("config:set", "--no-restart", app_name, "DOKKU_APP_USER=ghost")
    result = deploy(app_name, images.v1, f"{tree}:/data")
    assert result.code == 1
    assert result.err == (
        " !     User ghost does not exist in the image; set DOKKU_APP_USER to a user of the image,"
        " or turn the ownership fix-up off with scheduler-docker-local:set <app> disable-chown true\n"
    )
    assert owner(tree) == (0, 0)


def test_numeric_app_user(dokku, app_name, images, tree, deploy):
    dokku("apps:create", app_name)
    dokku("scheduler-docker-local:set", app_name, "chown-mounts", "true")
    dokku("config:set", "--no-restart", app_name, "DOKKU_APP_USER=4000:4001")
    assert deploy(app_name, images.v1, f"{tree}:/data").code == 0
    assert owner(tree / "uploads") == (4000, 4001)


def test_settings_report_and_errors(dokku, app):
    dokku("scheduler-docker-local:set", "--global", "parallel-schedule-count", "3")
    dokku("scheduler-docker-local:set", app, "disable-chown", "true")
    assert dokku("scheduler-docker-local:report", app).out == (  # Dokku 0.38: own, global and computed values
        "=====> node-js-app scheduler-docker-local information\n"
        "       Scheduler docker local chown mounts:\n"
        "       Scheduler docker local computed chown mounts:            false\n"
        "       Scheduler docker local computed disable chown:           true\n"
        "       Scheduler docker local computed init process:            true\n"
        "       Scheduler docker local computed parallel schedule count: 3\n"
        "       Scheduler docker local computed ttl seconds:\n"
        "       Scheduler docker local disable chown:                    true\n"
        "       Scheduler docker local global chown mounts:\n"
        "       Scheduler docker local global disable chown:\n"
        "       Scheduler docker local global init process:\n"
        "       Scheduler docker local global parallel schedule count:   3\n"
        "       Scheduler docker local global ttl seconds:\n"
        "       Scheduler docker local init process:\n"
        "       Scheduler docker local parallel schedule count:\n"
        "       Scheduler docker local ttl seconds:\n"
    )
    shown = json.loads(dokku("scheduler-docker-local:report", app, "--format", "json").out)  # Dokku 0.38.8 keys
    assert {key: shown[key] for key in ("init-process", "parallel-schedule-count", "computed-init-process",
                                        "computed-parallel-schedule-count")} == {
        "init-process": "", "parallel-schedule-count": "", "computed-init-process": "true",
        "computed-parallel-schedule-count": "3"}  # fmt: skip
    assert not [key for key in shown if key.startswith("scheduler-docker-local")]
    bad = dokku("scheduler-docker-local:set", app, "bogus", "true")
    assert bad.err == (
        " !     Invalid property specified, valid properties include: chown-mounts, disable-chown, init-process,"
        " parallel-schedule-count, ttl-seconds\n"
    )
    assert dokku("scheduler-docker-local:set", app, "parallel-schedule-count", "0").err == (
        " !     Invalid value for parallel-schedule-count: 0 (expected a positive number of process types)\n"
    )
    assert dokku("scheduler-docker-local:set", app, "init-process", "maybe").err == (
        " !     Invalid value for init-process: maybe (expected true or false)\n"
    )
    assert dokku("scheduler-docker-local:set", app, "init-process").out == "-----> Unsetting init-process\n"


def test_volume_chown_wins_over_the_app_user_and_owns_once(dokku, app_name, images, env):
    dokku("storage:create", "media")
    (env.storage_root / "media" / "f").write_text("x")
    dokku("apps:create", app_name)
    dokku("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0")
    dokku("storage:mount", app_name, "media", "--container-dir", "/media", "--volume-chown", "heroku")
    result = dokku("git:from-image", app_name, images.buildpack)
    assert result.code == 0, result.err
    ownership_lines = [line for line in result.lines if "Setting ownership" in line]
    assert ownership_lines == [f"       Setting ownership of {env.storage_root}/media to 1000:1000"]
    assert owner(env.storage_root / "media" / "f") == (1000, 1000)


def test_global_settings_apply_unless_the_app_has_its_own(dokku, app):
    assert dokku("scheduler-docker-local:set", "--global", "init-process", "false").out == (
        "-----> Setting init-process to false\n"
    )
    assert (
        dokku("scheduler-docker-local:report", app, "--scheduler-docker-local-computed-init-process").out == "false\n"
    )
    assert dokku("scheduler-docker-local:set", app, "init-process", "true").code == 0
    assert dokku("scheduler-docker-local:report", app, "--scheduler-docker-local-computed-init-process").out == "true\n"
    refused = dokku("scheduler-docker-local:set", "--global", "ttl-seconds", "0")
    assert refused.err == " !     Invalid value for ttl-seconds: 0 (expected a positive number of seconds)\n"
