"""Report shapes clients parse, as Dokku 0.38 prints them: JSON with the stripped keys (and the prefixed
ones where Dokku still emits them), and the `--global` reports."""

from __future__ import annotations

import json


def shown(dokku, *args: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    result = dokku(*args, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_apps_report_json_has_the_stripped_and_the_prefixed_keys(dokku, app):
    values = shown(dokku, "apps:report", app)
    assert set(values) == {
        "created-at", "deploy-source", "deploy-source-metadata", "dir", "global-disable-autocreation", "locked",
        "app-created-at", "app-deploy-source", "app-deploy-source-metadata", "app-dir",
        "app-global-disable-autocreation", "app-locked",
    }  # fmt: skip
    assert values["locked"] == values["app-locked"] == "false"
    assert dokku("apps:report", app, "--app-global-disable-autocreation").out == "\n"
    assert "       App global disable autocreation:\n" in dokku("apps:report", app).out
    assert dokku("apps:report", "--global").out == (
        "=====> --global app information\n       App global disable autocreation:\n"
    )


def test_registry_report_json_has_the_stripped_and_the_prefixed_keys(dokku, app):
    values = shown(dokku, "registry:report", app)
    assert values["computed-server"] == values["registry-computed-server"]
    assert "server" in values and "registry-server" in values


def test_ps_report_global(dokku, app):
    assert dokku("ps:set", "--global", "restart-policy", "always").code == 0
    assert dokku("ps:report", "--global").out == (
        "=====> --global ps information\n"  # labels padded to the longest key, --ps-computed-stop-timeout-seconds
        "       Ps computed restart policy:       always\n"
        "       Ps computed stop timeout seconds: 10\n"
        "       Ps global restart policy:         always\n"
        "       Ps global stop timeout seconds:\n"
    )
    assert shown(dokku, "ps:report", "--global") == {
        "computed-restart-policy": "always", "computed-stop-timeout-seconds": "10",
        "global-restart-policy": "always", "global-stop-timeout-seconds": "",
        "ps-computed-restart-policy": "always", "ps-computed-stop-timeout-seconds": "10",
        "ps-global-restart-policy": "always", "ps-global-stop-timeout-seconds": "",
    }  # fmt: skip
    assert dokku("ps:report", "--global", "--ps-global-restart-policy").out == "always\n"
    refused = dokku("ps:report", "--global", app)
    assert (refused.code, refused.err) == (1, " !     --global cannot be combined with an app\n")


def test_scheduler_docker_local_report_global_has_the_stripped_keys_only(dokku):
    """Dokku emits no legacy prefixed keys for this report."""
    assert shown(dokku, "scheduler-docker-local:report", "--global") == {
        "computed-chown-mounts": "false", "computed-disable-chown": "false", "computed-init-process": "true",
        "computed-parallel-schedule-count": "1", "computed-ttl-seconds": "",
        "global-chown-mounts": "", "global-disable-chown": "", "global-init-process": "",
        "global-parallel-schedule-count": "", "global-ttl-seconds": "",
    }  # fmt: skip
