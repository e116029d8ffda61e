"""The scheduler plugin (Dokku's): which scheduler runs an app, its report, Dokku's null scheduler, and a
deployed app moving between schedulers."""

from __future__ import annotations

import json

import pytest

from conftest import running


def report(dokku, *args: str) -> dict[str, str]:
    result = dokku("--quiet", "scheduler:report", *args, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_selected_raw_vs_computed_vs_global(dokku, app):
    """The cases of Dokku's tests/unit/scheduler.bats."""
    assert dokku("scheduler:set", "--global", "selected").out == "-----> Unsetting selected\n"
    values = report(dokku, app)
    assert (values["scheduler-selected"], values["scheduler-global-selected"]) == ("", "")
    assert values["scheduler-computed-selected"] == "docker-local"
    assert dokku("scheduler:set", "--global", "selected", "null").out == "-----> Setting selected to null\n"
    values = report(dokku, app)
    assert (values["scheduler-global-selected"], values["scheduler-computed-selected"]) == ("null", "null")
    assert dokku("scheduler:set", app, "selected", "docker-local").code == 0
    values = report(dokku, app)
    assert (values["scheduler-selected"], values["scheduler-global-selected"]) == ("docker-local", "null")
    assert values["scheduler-computed-selected"] == "docker-local"
    assert dokku("scheduler:set", app, "selected").code == 0
    assert dokku("scheduler:set", "--global", "selected").code == 0
    global_values = report(dokku, "--global")
    assert global_values == {
        "scheduler-computed-selected": "docker-local",
        "scheduler-computed-shell": "",
        "scheduler-global-selected": "",
        "scheduler-global-shell": "",
        "computed-selected": "docker-local",
        "computed-shell": "",
        "global-selected": "",
        "global-shell": "",
    }  # fmt: skip  (Dokku 0.38: stripped keys and prefixed ones)
    assert "scheduler-selected" not in global_values


def test_report_text_and_help(dokku, app):
    assert dokku("scheduler:set", app, "shell", "/bin/sh").code == 0
    assert dokku("scheduler:report", app).out == (
        f"=====> {app} scheduler information\n"
        "       Scheduler computed selected:   docker-local\n"
        "       Scheduler computed shell:      /bin/sh\n"
        "       Scheduler global selected:\n"
        "       Scheduler global shell:\n"
        "       Scheduler selected:\n"
        "       Scheduler shell:               /bin/sh\n"
    )
    assert dokku("scheduler:report", app, "--scheduler-computed-selected").out == "docker-local\n"
    assert "Manage schedulers" in dokku("scheduler").out
    assert dokku("scheduler").out == dokku("scheduler:help").out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("selected", "k3s"),
            'Scheduler "k3s" is not available (Kubernetes cannot run on this host kind);'
            " available: docker-local, docker-swarm, null",
        ),
        (
            ("selected", "nomad"),
            'Scheduler "nomad" is not available (no such scheduler); available: docker-local, docker-swarm, null',
        ),
        (("colour", "x"), "Invalid property specified, valid properties include: selected, shell"),
        ((), "No property specified"),
    ],
)
def test_bad_values_are_refused_and_change_nothing(dokku, env, app, args, message):
    for scope in (app, "--global"):
        before = env.snapshot()
        result = dokku("scheduler:set", scope, *args)
        assert (result.code, result.out, result.err) == (1, "", f" !     {message}\n")
        assert env.snapshot() == before


def test_the_null_scheduler_runs_nothing_and_a_deployed_app_moves_between_schedulers(dokku, deployed):
    app = deployed
    assert running(app) == [f"{app}.web.1"]
    moved = dokku("scheduler:set", app, "selected", "null")
    assert moved.code == 0, moved.err
    assert moved.out == (
        "-----> Setting selected to null\n"
        f"-----> Skipping the deploy of {app}: its scheduler is null, which runs nothing\n"
    )
    assert running(app) == []  # the docker-local containers are retired once the new scheduler has the app
    assert dokku("ps:report", app, "--format", "json").code == 0
    refused = dokku("run", app, "true")
    assert refused.err == (
        f" !     App {app} uses the null scheduler, which runs nothing; choose another with"
        f" dokku scheduler:set {app} selected docker-local\n"
    )
    assert dokku("ps:restart", app).code == 0 and running(app) == []
    back = dokku("scheduler:set", app, "selected", "docker-local")
    assert back.code == 0, back.err
    assert running(app) == [f"{app}.web.1"]
