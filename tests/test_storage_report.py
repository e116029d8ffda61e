"""storage:report: Go-era layout, info flags, JSON, every app."""

from __future__ import annotations

import json

import pytest

from pydokku.store.schema import legacy_entry_name


@pytest.fixture
def mounted(dokku, app, host_dir):
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    return host_dir


def test_report_one_app(dokku, app, mounted):
    """Only colon mounts: exactly the seed's three rows (JSON and info flags still carry the attachment keys)."""
    result = dokku("storage:report", app)
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "=====> node-js-app storage information\n"
        "       Storage build mounts:\n"
        f"       Storage deploy mounts:         -v {mounted}:/app/storage\n"
        f"       Storage run mounts:            -v {mounted}:/app/storage\n"
    )
    assert dokku("storage:report", app, "--storage-attachment.1.entry-name").out == (
        legacy_entry_name(str(mounted)) + "\n"
    )


def test_report_shows_every_attachment_once_an_entry_is_named(dokku, app, mounted, env):
    dokku("storage:create", "uploads")
    dokku("storage:mount", app, "uploads", "--container-dir", "/uploads", "--volume-readonly")
    assert dokku("storage:report", app).out == (
        "=====> node-js-app storage information\n"
        "       Storage attachment 1 container path: /app/storage\n"
        f"       Storage attachment 1 entry name:     {legacy_entry_name(str(mounted))}\n"
        f"       Storage attachment 1 host path:      {mounted}\n"
        "       Storage attachment 1 phases:         deploy,run\n"
        "       Storage attachment 1 process type:   _default_\n"
        "       Storage attachment 1 readonly:       false\n"
        "       Storage attachment 1 subpath:\n"
        "       Storage attachment 1 volume chown:\n"
        "       Storage attachment 1 volume options:\n"
        "       Storage attachment 2 container path: /uploads\n"
        "       Storage attachment 2 entry name:     uploads\n"
        f"       Storage attachment 2 host path:      {env.storage_root}/uploads\n"
        "       Storage attachment 2 phases:         deploy,run\n"
        "       Storage attachment 2 process type:   _default_\n"
        "       Storage attachment 2 readonly:       true\n"
        "       Storage attachment 2 subpath:\n"
        "       Storage attachment 2 volume chown:\n"
        "       Storage attachment 2 volume options:\n"
        "       Storage build mounts:\n"
        f"       Storage deploy mounts:               -v {mounted}:/app/storage -v {env.storage_root}/uploads:/uploads:ro\n"
        f"       Storage run mounts:                  -v {mounted}:/app/storage -v {env.storage_root}/uploads:/uploads:ro\n"
    )


def test_report_without_mounts_keeps_the_seed_layout(dokku, app):
    assert dokku("storage:report", app).out == (
        "=====> node-js-app storage information\n"
        "       Storage build mounts:\n"
        "       Storage deploy mounts:\n"
        "       Storage run mounts:\n"
    )
    dokku("docker-options:add", app, "deploy", "-v /srv/x:/x")
    assert dokku("storage:report", app).lines[2] == "       Storage deploy mounts:         -v /srv/x:/x"


def test_report_values_join_mounts_with_one_space(dokku, app, mounted):
    dokku("storage:mount", app, "some-volume:/data:ro")
    value = dokku("storage:report", app, "--storage-deploy-mounts").out
    assert value == f"-v {mounted}:/app/storage -v some-volume:/data:ro\n"


def test_report_quotes_paths_with_spaces(dokku, app, env):
    (env.root / "a b").mkdir()
    dokku("storage:mount", app, f"{env.root}/a b:/data")
    assert dokku("storage:report", app, "--storage-run-mounts").out == f"-v '{env.root}/a b:/data'\n"


def test_report_quiet_drops_only_the_header(dokku, app, mounted):
    assert dokku("--quiet", "storage:report", app).out == dokku("storage:report", app).out.split("\n", 1)[1]


def test_report_every_app_in_name_order(dokku, app, mounted):
    dokku("apps:create", "python-sample")
    dokku("apps:create", "ruby-sample")
    result = dokku("storage:report")
    assert result.out == (
        "=====> node-js-app storage information\n"
        "       Storage build mounts:\n"
        f"       Storage deploy mounts:         -v {mounted}:/app/storage\n"
        f"       Storage run mounts:            -v {mounted}:/app/storage\n"
        "=====> python-sample storage information\n"
        "       Storage build mounts:\n"
        "       Storage deploy mounts:\n"
        "       Storage run mounts:\n"
        "=====> ruby-sample storage information\n"
        "       Storage build mounts:\n"
        "       Storage deploy mounts:\n"
        "       Storage run mounts:\n"
    )


def test_report_without_apps(dokku, env):
    result = dokku("storage:report")
    assert (result.code, result.out, result.err) == (
        0,
        "",
        " !     You haven't deployed any applications yet\n",
    )


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("--storage-build-mounts", "\n"),
        ("--storage-deploy-mounts", "-v {host}:/app/storage\n"),
        ("--storage-run-mounts", "-v {host}:/app/storage\n"),
    ],
)
def test_report_info_flags(dokku, app, mounted, flag, expected):
    for argv in (("storage:report", app, flag), ("storage:report", flag, app)):
        result = dokku(*argv)
        assert (result.code, result.out, result.err) == (0, expected.format(host=mounted), "")


def test_report_invalid_flag(dokku, app):
    result = dokku("storage:report", app, "--storage-mounts")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        " !     Invalid flag passed, valid flags: --storage-build-mounts, --storage-deploy-mounts, --storage-run-mounts\n"
    )


def test_report_json(dokku, app, mounted):
    result = dokku("storage:report", app, "--format", "json")
    attachment = {  # exactly Dokku's nine keys (HEAD test "build/deploy/run mounts raw"): no usage figures
        "container-path": "/app/storage", "entry-name": legacy_entry_name(str(mounted)), "host-path": str(mounted),
        "phases": "deploy,run", "process-type": "_default_", "readonly": "false", "subpath": "", "volume-chown": "",
        "volume-options": "",
    }  # fmt: skip
    mounts = {
        "build-mounts": "",
        "deploy-mounts": f"-v {mounted}:/app/storage",
        "run-mounts": f"-v {mounted}:/app/storage",
    }
    expected = {
        **{f"attachment.1.{key}": value for key, value in attachment.items()},
        **mounts,
        **{f"storage-attachment.1.{key}": value for key, value in attachment.items()},
        **{f"storage-{key}": value for key, value in mounts.items()},
    }
    assert result.out == json.dumps(dict(sorted(expected.items())), separators=(",", ":")) + "\n"
    assert dokku("storage:report", app, "--format=stdout").out == dokku("storage:report", app).out


def test_report_json_for_every_app_is_one_object_per_line(dokku, app):
    dokku("apps:create", "second")
    lines = dokku("storage:report", "--format", "json").lines
    empty = {"build-mounts": "", "deploy-mounts": "", "run-mounts": ""}
    assert [json.loads(line) for line in lines] == [{**empty, **{f"storage-{k}": v for k, v in empty.items()}}] * 2


def test_report_format_errors(dokku, app):
    bad = dokku("storage:report", app, "--format", "yaml")
    assert (bad.code, bad.err) == (1, ' !     Format must be "stdout" or "json": "yaml"\n')
    both = dokku("storage:report", app, "--format", "json", "--storage-run-mounts")
    assert (both.code, both.err) == (
        1,
        " !     --format flag cannot be specified when specifying an info flag\n",
    )
    two = dokku("storage:report", app, "--storage-run-mounts", "--storage-deploy-mounts")
    assert (two.code, two.err) == (
        1,
        " !     Only one info flag may be given at a time: --storage-run-mounts, --storage-deploy-mounts\n",
    )
    dangling = dokku("storage:report", app, "--format")
    assert (dangling.code, dangling.err) == (2, " !     flag needs an argument: --format\n")
