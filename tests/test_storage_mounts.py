"""storage:mount, storage:unmount and storage:list: outputs, exit codes, and bad input changing nothing."""

from __future__ import annotations

import json
import os

import pytest

from conftest import docker

PATHS_MESSAGE = " !     Storage path must be two valid paths divided by colon.\n"
VOLUME_MESSAGE = (
    " !     Volume name must be two characters or more. Volume name must not contain invalid characters."
    " Storage path must be two valid paths divided by colon.\n"
)


def test_mount_is_silent_and_listed(dokku, app, host_dir):
    result = dokku("storage:mount", app, f"{host_dir}:/app/storage")
    assert (result.code, result.out, result.err) == (0, "", "")
    listed = dokku("storage:list", app)
    assert (listed.code, listed.err) == (0, "")
    assert listed.out == f"-----> node-js-app volume bind-mounts:\n       {host_dir}:/app/storage\n"


def test_list_without_mounts(dokku, app):
    assert dokku("storage:list", app).out == "-----> node-js-app volume bind-mounts:\n"
    assert dokku("storage:list", app, "--format", "text").out == "-----> node-js-app volume bind-mounts:\n"
    assert dokku("--quiet", "storage:list", app).out == ""
    assert dokku("storage:list", app, "--format", "json").out == "[]\n"


def test_list_quiet_gives_bare_lines(dokku, app, host_dir):
    (host_dir / "b").mkdir()
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    dokku("storage:mount", app, f"{host_dir}/b:/app/b:ro")
    dokku("storage:mount", app, "some-docker-volume:/data")
    result = dokku("--quiet", "storage:list", app, "--format", "text")
    assert result.out == f"{host_dir}:/app/storage\n{host_dir}/b:/app/b:ro\nsome-docker-volume:/data\n"


def test_list_json_is_pretty_with_every_key(dokku, app, host_dir):
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    dokku("storage:mount", app, "some-docker-volume:/data:ro,z")
    result = dokku("storage:list", app, "--format", "json")
    assert result.out == (
        "[\n"
        "  {\n"
        f'    "host_path": "{host_dir}",\n'
        '    "container_path": "/app/storage",\n'
        '    "volume_options": ""\n'
        "  },\n"
        "  {\n"
        '    "host_path": "some-docker-volume",\n'
        '    "container_path": "/data",\n'
        '    "volume_options": "ro,z"\n'
        "  }\n"
        "]\n"
    )
    # --quiet changes nothing in JSON
    assert dokku("--quiet", "storage:list", app, "--format", "json").out == result.out


def test_list_invalid_format(dokku, app):
    result = dokku("storage:list", app, "--format", "yaml")
    assert (result.code, result.out, result.err) == (1, "", " !     Invalid --format value specified\n")


def test_list_checks_the_app_before_the_format(dokku):
    result = dokku("storage:list", "missing-app", "--format", "yaml")
    assert (result.code, result.err) == (20, " !     App missing-app does not exist\n")


@pytest.mark.parametrize("command", ["storage:list", "storage:mount", "storage:unmount", "storage:report"])
def test_app_errors(dokku, command):
    missing = dokku(command, "missing-app", "/a:/b") if command.endswith("mount") else dokku(command, "missing-app")
    assert (missing.code, missing.out, missing.err) == (20, "", " !     App missing-app does not exist\n")
    invalid = dokku(command, "Bad_App")
    assert invalid.code == 1
    assert invalid.err == (
        " !     App name must begin with lowercase alphanumeric character,"
        " and may only contain lowercase alphanumerics, dots, and hyphens\n"
    )


@pytest.mark.parametrize("command", ["storage:list", "storage:mount", "storage:unmount"])
def test_empty_app_name(dokku, command):
    result = dokku(command, "")
    assert (result.code, result.err) == (1, " !     Please specify an app to run the command on\n")


def test_docker_volume_mount(dokku, app):
    assert dokku("storage:mount", app, "some-docker-volume:/app/storage").code == 0
    assert dokku("--quiet", "storage:list", app).out == "some-docker-volume:/app/storage\n"


def test_duplicate_mount(dokku, app, host_dir):
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    for spec in (f"{host_dir}:/app/storage", f"{host_dir}:/app/storage:ro"):
        result = dokku("storage:mount", app, spec)
        assert (result.code, result.out, result.err) == (1, "", " !     Mount path already exists.\n")


def test_prefixes_and_regex_characters_are_not_duplicates(dokku, app, env):
    # Dokku's regex prefix check refused these; matching is exact here.
    for name in ("mount", "m.unt"):
        (env.root / name).mkdir()
    assert dokku("storage:mount", app, f"{env.root}/mount:/mount").code == 0
    assert dokku("storage:mount", app, f"{env.root}/mount:/mo").code == 0
    assert dokku("storage:mount", app, f"{env.root}/m.unt:/mount2").code == 0
    assert dokku("--quiet", "storage:list", app).lines == [
        f"{env.root}/mount:/mount",
        f"{env.root}/mount:/mo",
        f"{env.root}/m.unt:/mount2",
    ]


def test_a_container_path_is_mounted_once(dokku, app, host_dir):
    (host_dir / "other").mkdir()
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    for spec in (f"{host_dir}/other:/app/storage", f"{host_dir}/other:/app/storage/", "vol:/app//storage"):
        result = dokku("storage:mount", app, spec)
        assert result.code == 1
        assert result.err == (
            f" !     Container path {spec.split(':')[1]} is already mounted by {host_dir}:/app/storage;"
            " unmount that first.\n"
        )


def test_a_missing_host_path_is_accepted_with_a_warning(dokku, app, env):
    """Dokku's tests and provisioning tools mount first and create the directory later."""
    result = dokku("storage:mount", app, "/nonexistent/dir:/app/storage")
    assert (result.code, result.out) == (0, "")
    assert result.err == (
        " !     Host path /nonexistent/dir does not exist yet; create it before the app is deployed (dokku"
        " storage:repair node-js-app, or mkdir -p /nonexistent/dir): a deploy refuses to start without it\n"
    )
    assert not os.path.exists("/nonexistent/dir")
    assert dokku("--quiet", "storage:list", app).out == "/nonexistent/dir:/app/storage\n"


def test_the_missing_host_path_advice_works_as_printed(dokku, app, tmp_path):
    missing = tmp_path / "later" / "dir"
    warned = dokku("storage:mount", app, f"{missing}:/app/storage").err
    assert f"(dokku storage:repair {app}, or mkdir -p {missing})" in warned
    repaired = dokku("storage:repair", app)
    assert repaired.code == 0, repaired.err
    assert missing.is_dir()


def test_a_missing_volume_gets_the_same_one_line_warning(dokku, app, engine):
    name = f"pydokku-test-absent-{os.urandom(3).hex()}"
    result = dokku("storage:mount", app, f"{name}:/data")
    assert (result.code, result.out, result.err) == (0, "", f" !     Docker volume {name} does not exist yet; the app's"
                                                    " first deploy creates it empty (restore its data into it first"
                                                    " if it was lost)\n")  # fmt: skip
    assert docker("volume", "ls", "--quiet", "--filter", f"name={name}") == ""  # nothing created


def test_a_second_mount_of_an_entry_with_another_owner_is_refused(dokku, app, env):
    assert dokku("storage:create", "shared").code == 0
    assert dokku("apps:create", "other").code == 0
    assert dokku("storage:mount", app, "shared", "--container-dir", "/a", "--volume-chown", "heroku").code == 0
    # remounting the same attachment with another owner rewrites it: no conflict with itself
    assert dokku("storage:mount", app, "shared", "--container-dir", "/a", "--volume-chown", "herokuish").code == 0
    before = env.snapshot()
    refused = dokku("storage:mount", "other", "shared", "--container-dir", "/b", "--volume-chown", "paketo")
    assert (refused.code, refused.out, refused.err) == (1, "", ' !     storage entry "shared" is already mounted with'
                                                       " --volume-chown herokuish (app node-js-app at /a); a directory"
                                                       " has one owner: mount it with the same --volume-chown, or"
                                                       " without one\n")  # fmt: skip
    assert env.snapshot() == before
    assert dokku("storage:mount", "other", "shared", "--container-dir", "/b", "--volume-chown", "32767").code == 0
    assert dokku("storage:mount", "other", "shared", "--container-dir", "/c").code == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", VOLUME_MESSAGE),
        ("relative/path:/app", VOLUME_MESSAGE),
        ("./relative:/app", VOLUME_MESSAGE),
        (":/app", VOLUME_MESSAGE),
        ("v:/app", VOLUME_MESSAGE),
        ("vol:app", VOLUME_MESSAGE),
        ("bad name:/app", VOLUME_MESSAGE),
        ("$(touch /tmp/pwned):/app", VOLUME_MESSAGE),
        ("'quoted':/app", VOLUME_MESSAGE),
        ("vølume:/app", VOLUME_MESSAGE),
        ("/host", PATHS_MESSAGE),
        ("/host:", PATHS_MESSAGE),
        ("/host:relative", PATHS_MESSAGE),
        ("/q:rel:/x", PATHS_MESSAGE),
        ("/host/../etc:/app", " !     Storage paths cannot contain '..' segments: /host/../etc:/app\n"),
        ("/host:/app/../etc", " !     Storage paths cannot contain '..' segments: /host:/app/../etc\n"),
        ("/host:/", " !     The container path cannot be the container's root directory (/).\n"),
        (
            "/host:/app\n/x",
            " !     Storage paths cannot contain control characters such as newlines or tabs.\n",
        ),
        (
            "/host:/app\t",
            " !     Storage paths cannot contain control characters such as newlines or tabs.\n",
        ),
        (
            "/host:/app:bogus",
            " !     Unsupported volume option 'bogus'. Supported options: ro, rw, z, Z, nocopy, shared, rshared,"
            " slave, rslave, private, rprivate, consistent, cached, delegated\n",
        ),
        ("/host:/app:ro,rw", " !     Volume options 'ro' and 'rw' cannot be combined.\n"),
        (
            "/" + "x" * 256 + ":/app",
            " !     Storage paths are limited to 4095 bytes, and each of their names to 255.\n",
        ),
        (
            "/host:/" + "a/" * 2100,
            " !     Storage paths are limited to 4095 bytes, and each of their names to 255.\n",
        ),
    ],
)
def test_bad_specs_fail_and_change_nothing(dokku, app, env, spec, message):
    before = env.snapshot()
    for command in ("storage:mount", "storage:unmount"):
        result = dokku(command, app, spec)
        assert (result.code, result.out, result.err) == (1, "", message)
    assert env.snapshot() == before


def test_spec_that_looks_like_a_flag(dokku, app, env):
    before = env.snapshot()
    result = dokku("storage:mount", app, "-v")
    assert (result.code, result.err) == (2, " !     unknown shorthand flag: 'v' in -v\n")
    assert env.snapshot() == before


@pytest.mark.parametrize("name", ["with space", 'it\'s "quoted"', "$(touch pwned)", "ünïcødé", "semi;colon&"])
def test_unusual_but_valid_host_paths_are_kept_literally(dokku, app, env, name):
    host = env.root / name
    host.mkdir()
    assert dokku("storage:mount", app, f"{host}:/app/storage").code == 0
    assert dokku("--quiet", "storage:list", app).out == f"{host}:/app/storage\n"
    listed = json.loads(dokku("storage:list", app, "--format", "json").out)
    assert listed == [{"host_path": str(host), "container_path": "/app/storage", "volume_options": ""}]
    assert not (env.root / "pwned").exists()
    assert dokku("storage:unmount", app, f"{host}:/app/storage").code == 0
    assert dokku("--quiet", "storage:list", app).out == ""


def test_unmount(dokku, app, host_dir):
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    (host_dir / "keep.txt").write_text("data")
    result = dokku("storage:unmount", app, f"{host_dir}:/app/storage")
    assert (result.code, result.out, result.err) == (0, "", "")
    assert dokku("--quiet", "storage:list", app).out == ""
    assert (host_dir / "keep.txt").read_text() == "data"


def test_unmount_missing(dokku, app, host_dir, env):
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    before = env.snapshot()
    for spec in (f"{host_dir}:/app/stor", f"{host_dir}:/app/st.rage", "/other:/app/storage"):
        result = dokku("storage:unmount", app, spec)
        assert (result.code, result.out, result.err) == (1, "", " !     Mount path does not exist.\n")
    assert env.snapshot() == before


def test_unmount_ignores_options(dokku, app, host_dir):
    dokku("storage:mount", app, f"{host_dir}:/app/storage:ro")
    assert dokku("storage:unmount", app, f"{host_dir}:/app/storage").code == 0
    assert dokku("--quiet", "storage:list", app).out == ""


def test_mounts_added_with_docker_options_are_storage(dokku, app, host_dir):
    dokku("docker-options:add", app, "deploy,run", f"-v {host_dir}:/app/storage")
    dokku("docker-options:add", app, "run", f"--label a=1 --volume={host_dir}:/run-only --label b=2")
    assert dokku("--quiet", "storage:list", app).lines == [
        f"{host_dir}:/app/storage",
        f"{host_dir}:/run-only",
    ]
    assert dokku("storage:mount", app, f"{host_dir}:/app/storage").err == " !     Mount path already exists.\n"
    assert dokku("storage:unmount", app, f"{host_dir}:/run-only").code == 0
    assert dokku("storage:unmount", app, f"{host_dir}:/app/storage").code == 0
    assert dokku("--quiet", "storage:list", app).out == ""
    # Other options stay, in their order.
    report = json.loads(dokku("docker-options:report", app, "--format", "json").out)
    assert (report["docker-options-run"], report["run-list"]) == (
        "--label a=1 --label b=2",
        ["--label a=1", "--label b=2"],
    )
    assert (report["docker-options-deploy"], report["deploy-list"]) == ("", [])


def test_anonymous_volume_from_docker_options(dokku, app):
    dokku("docker-options:add", app, "deploy", "-v /tmp")
    assert json.loads(dokku("storage:list", app, "--format", "json").out) == [
        {"host_path": "/tmp", "container_path": "", "volume_options": ""}
    ]


def test_build_mounts_are_reported_not_listed(dokku, app, host_dir):
    dokku("docker-options:add", app, "build", f"-v {host_dir}:/opt/test")
    assert dokku("--quiet", "storage:list", app).out == ""
    assert dokku("storage:report", app, "--storage-build-mounts").out == f"-v {host_dir}:/opt/test\n"


def test_mount_leaves_other_docker_options_alone(dokku, app, host_dir):
    dokku("docker-options:add", app, "deploy", "--label z=\\n")
    dokku("docker-options:add", app, "deploy", "--label a=1")
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    dokku("storage:unmount", app, f"{host_dir}:/app/storage")
    assert dokku("docker-options:report", app, "--docker-options-deploy").out == ("--label z=\\n --label a=1\n")


def test_nocopy_only_on_docker_volumes(dokku, app, env, host_dir):
    before = env.snapshot()
    result = dokku("storage:mount", app, f"{host_dir}:/data:nocopy")
    assert (result.code, result.out, result.err) == (
        1, "", " !     Volume option 'nocopy' applies to docker volumes only, not to host paths.\n"
    )  # fmt: skip
    dokku("storage:create", "site")
    before = env.snapshot()
    named = dokku("storage:mount", app, "site", "--container-dir", "/site", "--volume-options", "nocopy")
    assert named.err == " !     Volume option 'nocopy' applies to docker volumes only, not to host paths.\n"
    assert env.snapshot() == before
    assert dokku("storage:mount", app, "some-volume:/cache:nocopy").code == 0
