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


def test_registry_keys_as_dokku_computes_them(dokku, app):
    assert dokku("registry:set", app, "server", "docker.io").code == 0
    assert dokku("registry:report", app, "--registry-computed-server").out == "\n"  # Docker Hub: no prefix
    dokku("registry:set", app, "server", "registry.example.com:5000/")
    assert dokku("registry:report", app, "--registry-computed-server").out == "registry.example.com:5000/\n"
    assert dokku("registry:set", "--global", "image-repo-template", "team/{{ .AppName }}").code == 0
    assert dokku("registry:report", app, "--registry-computed-image-repo").out == f"team/{app}\n"
    dokku("registry:set", app, "image-repo", "own/repo")
    assert dokku("registry:report", app, "--registry-computed-image-repo").out == "own/repo\n"
    assert dokku("registry:set", "--global", "push-extra-tags", "latest,stable").code == 0
    values = shown(dokku, "registry:report", app)
    assert (values["computed-push-extra-tags"], values["push-extra-tags"], values["image-repo-template"]) == (
        "latest,stable",
        "",
        "",
    )
    assert values["registry-computed-image-repo-template"] == "team/{{ .AppName }}"
    assert shown(dokku, "registry:report", "--global") == {
        "computed-image-repo-template": "team/{{ .AppName }}", "computed-push-extra-tags": "latest,stable",
        "computed-push-on-release": "false", "computed-server": "", "global-image-repo-template": "team/{{ .AppName }}",
        "global-push-extra-tags": "latest,stable", "global-push-on-release": "", "global-server": "",
        **{f"registry-{key}": value for key, value in (
            ("computed-image-repo-template", "team/{{ .AppName }}"), ("computed-push-extra-tags", "latest,stable"),
            ("computed-push-on-release", "false"), ("computed-server", ""),
            ("global-image-repo-template", "team/{{ .AppName }}"), ("global-push-extra-tags", "latest,stable"),
            ("global-push-on-release", ""), ("global-server", ""))},
    }  # fmt: skip
    for key, value, message in (
        ("push-extra-tags", "latest,,x", "Invalid push-extra-tags 'latest,,x': comma-separated image tags"
         " (letters, digits, _ . -; e.g. latest,stable)"),
        ("image-repo-template", "team/{{ .Name }}", "Invalid image-repo-template 'team/{{ .Name }}': an image repo"
         " in which {{ .AppName }} is replaced by the app's name (e.g. team/{{ .AppName }})"),
    ):  # fmt: skip
        refused = dokku("registry:set", app, key, value)
        assert (refused.code, refused.err) == (1, f" !     {message}\n")


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
