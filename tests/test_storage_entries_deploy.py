"""Attachments applied, not only recorded: on the real Docker engine."""

from __future__ import annotations

import os

from conftest import docker, in_container, running


def test_two_apps_share_one_entry(dokku, app_name, images, env, deploy):
    other = app_name + "-b"
    dokku("storage:create", "shared")
    try:
        assert deploy(app_name, images.v1, ("shared", "--container-dir", "/shared")).code == 0
        assert deploy(other, images.v1, ("shared", "--container-dir", "/mnt/shared")).code == 0
        in_container(f"{app_name}.web.1", "echo from-a > /shared/note")
        assert in_container(f"{other}.web.1", "cat /mnt/shared/note") == "from-a"
        assert (env.storage_root / "shared" / "note").read_text() == "from-a\n"
    finally:
        dokku("apps:destroy", other, "--force")


def test_process_type_attachment_reaches_only_that_process(dokku, app_name, images, deploy):
    dokku("storage:create", "jobs")
    assert deploy(app_name, images.v1, ("jobs", "--container-dir", "/jobs", "--process-type", "worker")).code == 0
    assert dokku("ps:scale", app_name, "worker=1").code == 0
    assert running(app_name) == [f"{app_name}.web.1", f"{app_name}.worker.1"]
    assert in_container(f"{app_name}.worker.1", "test -d /jobs && echo mounted") == "mounted"
    assert in_container(f"{app_name}.web.1", "test -d /jobs && echo mounted || echo absent") == "absent"


def test_subpath_mounts_only_its_directory_and_cannot_escape(dokku, app_name, images, env, deploy):
    dokku("storage:create", "site")
    root = env.storage_root / "site"
    (root / "secret.txt").write_text("top level")
    assert (
        deploy(app_name, images.v1, ("site", "--container-dir", "/uploads", "--volume-subpath", "public/uploads")).code
        == 0
    )
    assert (root / "public" / "uploads").is_dir()
    in_container(f"{app_name}.web.1", "echo photo > /uploads/p.txt")
    assert (root / "public" / "uploads" / "p.txt").read_text() == "photo\n"
    assert in_container(f"{app_name}.web.1", "ls /uploads") == "p.txt"
    # A symlink swapped in for the subpath later is refused at the next deploy.
    outside = env.root / "outside"
    outside.mkdir()
    (root / "public" / "uploads" / "p.txt").unlink()
    (root / "public" / "uploads").rmdir()
    (root / "public" / "uploads").symlink_to(outside)
    result = dokku("ps:restart", app_name)
    assert result.code == 1
    assert result.err == (
        f' !     attachment subpath "public/uploads" of storage entry "site" no longer leads to a directory'
        f" inside {root}\n"
    )


def test_read_only_and_options_reach_docker(dokku, app_name, images, deploy):
    dokku("storage:create", "assets")
    mount = ("assets", "--container-dir", "/assets", "--volume-readonly", "--volume-options", "z")
    assert deploy(app_name, images.v1, mount).code == 0
    mounts = docker("inspect", "--format", "{{json .HostConfig.Binds}}", f"{app_name}.web.1")
    assert ":/assets:ro,z" in mounts
    assert "Read-only file system" in in_container(f"{app_name}.web.1", "touch /assets/x 2>&1 || true")


def test_volume_chown_owns_the_tree_at_deploy(dokku, app_name, images, env):
    dokku("storage:create", "data")
    (env.storage_root / "data" / "old.txt").write_text("x")
    dokku("apps:create", app_name)
    dokku("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0")
    dokku("storage:mount", app_name, "data", "--container-dir", "/data", "--volume-chown", "herokuish")
    result = dokku("git:from-image", app_name, images.v1)
    assert f"       Setting ownership of {env.storage_root}/data to 32767:32767\n" in result.out
    for path in (env.storage_root / "data", env.storage_root / "data" / "old.txt"):
        assert (os.stat(path).st_uid, os.stat(path).st_gid) == (32767, 32767)


def test_run_phase_only_attachment(dokku, app_name, images, env, deploy):
    dokku("storage:create", "scratch")
    assert deploy(app_name, images.v1, ("scratch", "--container-dir", "/scratch", "--phase", "run")).code == 0
    assert in_container(f"{app_name}.web.1", "test -d /scratch && echo yes || echo no") == "no"
    assert dokku("run", app_name, "sh", "-c", "echo ran > /scratch/r").code == 0
    assert (env.storage_root / "scratch" / "r").read_text() == "ran\n"


def test_storage_exec(dokku_process, dokku, env, engine):
    dokku("storage:create", "tools", "--chown", "heroku")
    result = dokku_process("storage:exec", "tools", "--", "sh", "-c", "id -u; touch /data/made; exit 4")
    assert (result.code, result.out) == (4, "1000\n")
    assert (env.storage_root / "tools" / "made").exists()
    as_root = dokku_process("storage:exec", "tools", "--as-user", "0", "--", "id", "-u")
    assert as_root.out == "0\n"
    assert dokku("storage:exec").err == " !     storage:exec requires a storage entry name\n"
    missing = dokku("storage:exec", "tools", "--image", "pydokku-test/not-here:1", "--", "true")
    assert (missing.code, missing.out) == (1, "")
    assert missing.err == (
        " !     Image pydokku-test/not-here:1 is not on this host, and nothing is pulled from a registry implicitly;"
        " load or build it first (docker load, docker build)\n"
    )


def test_migrated_mounts_keep_working_across_a_restart(dokku, app_name, images, host_dir, env):
    (host_dir / "kept.txt").write_text("still here")
    dokku("apps:create", app_name)
    dokku("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0")
    dokku("storage:mount", app_name, f"{host_dir}:/colon")
    dokku("docker-options:add", app_name, "deploy,run", f"-v {host_dir}:/options")
    assert dokku("git:from-image", app_name, images.v1).code == 0
    assert dokku("storage:migrate", app_name).code == 0
    entries = dokku("storage:list-entries").out
    assert entries.count("legacy-") == 1  # both mounts use the one host directory's entry
    assert dokku("ps:restart", app_name).code == 0
    assert in_container(f"{app_name}.web.1", "cat /colon/kept.txt /options/kept.txt") == "still herestill here"
    before = env.snapshot()
    assert dokku("storage:migrate", app_name).code == 0
    assert env.snapshot() == before
