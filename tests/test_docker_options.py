"""docker-options:*: phases, order kept, raw option tails, report."""

from __future__ import annotations

import pytest


def deploy_options(dokku, app) -> str:
    return dokku("docker-options:report", app, "--docker-options-deploy").out


def test_add_keeps_order_and_is_silent(dokku, app):
    for option in ("--label z=1", "--label a=2", "-v /tmp:/tmp"):
        result = dokku("docker-options:add", app, "deploy", option)
        assert (result.code, result.out, result.err) == (0, "", "")
    assert deploy_options(dokku, app) == "--restart=on-failure:10 --label z=1 --label a=2 -v /tmp:/tmp\n"


def test_add_to_several_phases_once(dokku, app):
    dokku("docker-options:add", app, "build,run,run", "--add-host=h:127.0.0.1")
    dokku("docker-options:add", app, "run", "--add-host=h:127.0.0.1")
    assert dokku("docker-options:report", app).out == (
        "=====> node-js-app docker options information\n"
        "       Docker options build:          --add-host=h:127.0.0.1\n"
        "       Docker options deploy:         --restart=on-failure:10\n"
        "       Docker options run:            --add-host=h:127.0.0.1\n"
    )


def test_words_after_the_phase_are_raw(dokku, app):
    # Flags a global parser would eat (--force, --quiet) belong to the docker option here.
    dokku("docker-options:add", app, "run", "--label", "note=a b", "--quiet")
    assert dokku("docker-options:report", app, "--docker-options-run").out == "--label 'note=a b' --quiet\n"


def test_single_word_is_kept_verbatim(dokku, app):
    dokku("docker-options:add", app, "deploy", "-v '/srv/my data:/data'")
    assert deploy_options(dokku, app) == "--restart=on-failure:10 -v '/srv/my data:/data'\n"


def test_remove_is_exact(dokku, app):
    dokku("docker-options:add", app, "deploy", "--label a.c=1")
    dokku("docker-options:add", app, "deploy", "--label abc=1")
    assert dokku("docker-options:remove", app, "deploy", "--label a.c=1").code == 0
    assert deploy_options(dokku, app) == "--restart=on-failure:10 --label abc=1\n"
    assert dokku("docker-options:remove", app, "deploy", "--label nothing").code == 0


def test_clear(dokku, app):
    dokku("docker-options:add", app, "build,run", "--label a=1")
    result = dokku("docker-options:clear", app, "build")
    assert result.out == "-----> Clearing docker-options for node-js-app on phase build\n"
    assert dokku("docker-options:report", app, "--docker-options-build").out == "\n"
    everything = dokku("docker-options:clear", app)
    assert everything.out == "-----> Clearing docker-options for node-js-app on all phases\n"
    assert deploy_options(dokku, app) == "\n"


@pytest.mark.parametrize("command", ["docker-options:add", "docker-options:remove"])
def test_errors_change_nothing(dokku, app, env, command):
    before = env.snapshot()
    verb = "add to" if command.endswith("add") else "remove from"
    cases = [
        ((app, "deploy"), 1, f" !     Please specify docker options to {verb} the phase\n"),
        ((app, "deploy", ""), 1, f" !     Please specify docker options to {verb} the phase\n"),
        ((app, "bogus", "--label a=1"), 1, " !     Phase(s) must be one of [build deploy run]\n"),
        ((app, "deploy,", "--label a=1"), 1, " !     Phase(s) must be one of [build deploy run]\n"),
        ((app,), 1, " !     Phase(s) must be one of [build deploy run]\n"),
        ((app, "deploy", "--label 'a=1"), 1, " !     Docker options cannot be parsed (No closing quotation): --label 'a=1\n"),
        ((app, "deploy", "--label a=1\n--privileged"), 1,
         " !     Docker options cannot contain control characters such as newlines\n"),
        (("nope", "deploy", "--label a=1"), 20, " !     App nope does not exist\n"),
    ]  # fmt: skip
    for args, code, err in cases:
        result = dokku(command, *args)
        assert (result.code, result.out, result.err) == (code, "", err)
    assert env.snapshot() == before


def test_clear_bad_phase(dokku, app, env):
    before = env.snapshot()
    result = dokku("docker-options:clear", app, "nope")
    assert (result.code, result.err) == (1, " !     Phase(s) must be one of [build deploy run]\n")
    assert env.snapshot() == before


def test_report_flags(dokku, app):
    bad = dokku("docker-options:report", app, "--docker-options-nope")
    assert bad.err == (
        " !     Invalid flag passed, valid flags:"
        " --docker-options-build, --docker-options-deploy, --docker-options-run\n"
    )
    assert dokku("docker-options:report", app, "--format", "json").out == (
        '{"docker-options-build":"","docker-options-deploy":"--restart=on-failure:10","docker-options-run":""}\n'
    )
