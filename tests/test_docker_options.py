"""docker-options:*: phases, order kept, raw option tails, report."""

from __future__ import annotations

import json

import pytest


def deploy_options(dokku, app) -> str:
    return dokku("docker-options:report", app, "--docker-options-deploy").out


def test_add_keeps_order_and_is_silent(dokku, app):
    for option in ("--label z=1", "--label a=2", "-v /tmp:/tmp"):
        result = dokku("docker-options:add", app, "deploy", option)
        assert (result.code, result.out, result.err) == (0, "", "")
    assert deploy_options(dokku, app) == "--label z=1 --label a=2 -v /tmp:/tmp\n"


def test_add_to_several_phases_once(dokku, app):
    dokku("docker-options:add", app, "build,run,run", "--add-host=h:127.0.0.1")
    dokku("docker-options:add", app, "run", "--add-host=h:127.0.0.1")
    assert dokku("docker-options:report", app).out == (
        "=====> node-js-app docker options information\n"
        "       Docker options build:          --add-host=h:127.0.0.1\n"
        "       Docker options deploy:\n"
        "       Docker options run:            --add-host=h:127.0.0.1\n"
    )


def test_words_after_the_phase_are_raw(dokku, app):
    # Flags a global parser would eat (--force, --quiet) belong to the docker option here.
    dokku("docker-options:add", app, "run", "--label", "note=a b", "--quiet")
    assert dokku("docker-options:report", app, "--docker-options-run").out == "--label 'note=a b' --quiet\n"


def test_single_word_is_kept_verbatim(dokku, app):
    dokku("docker-options:add", app, "deploy", "-v '/srv/my data:/data'")
    assert deploy_options(dokku, app) == "-v '/srv/my data:/data'\n"


def test_remove_is_exact(dokku, app):
    dokku("docker-options:add", app, "deploy", "--label a.c=1")
    dokku("docker-options:add", app, "deploy", "--label abc=1")
    assert dokku("docker-options:remove", app, "deploy", "--label a.c=1").code == 0
    assert deploy_options(dokku, app) == "--label abc=1\n"
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
    assert json.loads(dokku("docker-options:report", app, "--format", "json").out) == {
        "build": "", "deploy": "", "run": "", "build-list": [], "deploy-list": [], "run-list": [],
        "docker-options-build": "", "docker-options-deploy": "", "docker-options-run": "",
    }  # fmt: skip
    # Dokku's shape: the stripped keys, the prefixed ones, and a -list array beside each stripped key
    assert dokku("docker-options:add", app, "deploy", "-v /a:/b", "--label 'x=a b'").code == 0
    assert dokku("docker-options:add", "--process", "web", app, "deploy", "--shm-size 256m").code == 0
    shown = json.loads(dokku("docker-options:report", app, "--format", "json").out)
    assert (shown["deploy"], shown["docker-options-deploy"]) == ("-v /a:/b --label 'x=a b'",) * 2
    assert shown["deploy-list"] == ["-v /a:/b", "--label 'x=a b'"]
    assert (shown["deploy.web"], shown["deploy.web-list"]) == ("--shm-size 256m", ["--shm-size 256m"])


def list_options(dokku, app, phase, *process) -> str:
    return dokku("docker-options:list", app, *(("--process", process[0]) if process else ()), "--phase", phase).out


def test_each_argument_is_one_option_group(dokku, app):
    """Dokku 0.38 stores one entry per flag: several quoted groups, or a whole unquoted command line."""
    assert dokku("docker-options:add", app, "deploy", "--ulimit nofile=12", "--shm-size 256m").code == 0
    assert list_options(dokku, app, "deploy") == "--ulimit nofile=12\n--shm-size 256m\n"
    assert dokku("docker-options:add", app, "build", "--build-arg", "X=Y", "--link", "foo", "--link", "bar").code == 0
    assert list_options(dokku, app, "build") == "--build-arg X=Y\n--link foo\n--link bar\n"
    assert dokku("docker-options:add", app, "run", "-e", "GREETING=a b", "--label x=1 --label y=2").code == 0
    assert list_options(dokku, app, "run") == "-e 'GREETING=a b'\n--label x=1\n--label y=2\n"
    assert dokku("docker-options:remove", app, "deploy", "--ulimit nofile=12 --shm-size 256m").code == 0
    assert list_options(dokku, app, "deploy") == ""


def test_process_scoped_options(dokku, app):
    add = dokku("docker-options:add", "--process", "web", "--process", "worker", app, "deploy", "-p 8080:5000")
    assert (add.code, add.out, add.err) == (0, "", "")
    dokku("docker-options:add", app, "deploy", "-v /logs:/logs")
    assert list_options(dokku, app, "deploy", "web") == "-p 8080:5000\n"
    assert list_options(dokku, app, "deploy", "worker") == "-p 8080:5000\n"
    assert list_options(dokku, app, "deploy") == "-v /logs:/logs\n"
    assert dokku("docker-options:report", app, "--docker-options-deploy.web").out == "-p 8080:5000\n"
    assert dokku("docker-options:report", app).out == (
        "=====> node-js-app docker options information\n"
        "       Docker options build:\n"
        "       Docker options deploy:         -v /logs:/logs\n"
        "       Docker options deploy web:     -p 8080:5000\n"
        "       Docker options deploy worker:  -p 8080:5000\n"
        "       Docker options run:\n"
    )
    assert dokku("docker-options:remove", "--process", "web", app, "deploy", "-p 8080:5000").code == 0
    assert list_options(dokku, app, "deploy", "web") == ""
    dokku("apps:clone", "--skip-deploy", app, "copy")
    dokku("apps:rename", app, "renamed")
    for name in ("copy", "renamed"):
        assert list_options(dokku, name, "deploy", "worker") == "-p 8080:5000\n"
        assert list_options(dokku, name, "deploy") == "-v /logs:/logs\n"
    cleared = dokku("docker-options:clear", "--process", "worker", "copy", "deploy")
    assert cleared.out == "-----> Clearing docker-options for copy (process worker) on phase deploy\n"
    assert list_options(dokku, "copy", "deploy", "worker") == ""
    assert list_options(dokku, "copy", "deploy") == "-v /logs:/logs\n"


def test_a_process_typed_among_the_options_is_lifted_out_as_dokku(dokku, app):
    """Dokku HEAD's docker-options.bats "lifts misplaced --process out of option content"."""
    assert dokku("docker-options:add", app, "deploy", "--link", "foo", "--process", "web").code == 0
    assert list_options(dokku, app, "deploy", "web") == "--link foo\n"
    assert list_options(dokku, app, "deploy") == ""
    assert dokku("docker-options:add", app, "deploy", "--shm-size 256m --process=worker").code == 0
    assert list_options(dokku, app, "deploy", "worker") == "--shm-size 256m\n"
    assert dokku("docker-options:remove", app, "deploy", "--link foo", "--process", "web").code == 0
    assert list_options(dokku, app, "deploy", "web") == ""


def test_process_option_errors_change_nothing(dokku, app, env):
    before = env.snapshot()
    cases = [
        (("docker-options:add", "--process", "web", app, "build", "--shm-size 256m"),
         ' !     --process is only supported for the deploy phase, got "build"\n'),
        (("docker-options:add", "--process", "web", app, "build,deploy", "--shm-size 256m"),
         ' !     --process is only supported for the deploy phase, got "build"\n'),
        (("docker-options:add", "--process", "_default_", app, "deploy", "-v /tmp:/tmp"),
         ' !     "_default_" is reserved and cannot be used as a --process value\n'),
        (("docker-options:list", app), " !     --phase is required\n"),
        (("docker-options:list", app, "--phase", "boot"), " !     Phase must be one of [build deploy run]\n"),
        (("docker-options:list", app, "--phase", "run", "--process", "web"),
         ' !     --process is only supported for the deploy phase, got "run"\n'),
        (("docker-options:add", app, "deploy", "--link foo", "--process"), " !     --process requires a value\n"),
        (("docker-options:add", app, "deploy", "--link foo", "--process", "web", "worker"),
         " !     --process accepts a single value, got 2\n"),
        (("docker-options:add", app, "deploy", "--process=web x"),
         " !     --process=value cannot be followed by additional tokens\n"),
        (("docker-options:add", app, "deploy", "--link foo --process="), " !     --process value must not be empty\n"),
        (("docker-options:add", app, "build", "--link foo --process web"),
         ' !     --process is only supported for the deploy phase, got "build"\n'),
    ]  # fmt: skip
    for argv, err in cases:
        result = dokku(*argv)
        assert (result.code, result.out, result.err) == (1, "", err)
    assert env.snapshot() == before


def test_a_volume_at_a_path_storage_already_mounts_is_refused(dokku, app, env, host_dir):
    dokku("storage:mount", app, f"{host_dir}:/data")
    before = env.snapshot()
    result = dokku("docker-options:add", app, "deploy", "-v /srv/other:/data/")
    assert (result.code, result.out) == (1, "")
    assert result.err == f" !     Container path /data/ is already mounted by {host_dir}:/data; unmount that first.\n"
    assert env.snapshot() == before
    # The build phase has no storage mounts, so it is not in the way there.
    assert dokku("docker-options:add", app, "build", "-v /srv/other:/data").code == 0


def test_combined_short_flags_are_read_as_docker_reads_them(dokku, app, host_dir):
    dokku("docker-options:add", app, "run", f"-itv {host_dir}:/scratch")
    assert dokku("--quiet", "storage:list", app).out == f"{host_dir}:/scratch\n"
    dokku("docker-options:add", app, "run", "-ev=notavolume")  # -e with the value "v=notavolume"
    assert dokku("--quiet", "storage:list", app).out == f"{host_dir}:/scratch\n"
    assert dokku("storage:unmount", app, f"{host_dir}:/scratch").code == 0
    assert list_options(dokku, app, "run") == "-it\n-ev=notavolume\n"


def test_restart_policy_is_a_ps_property(dokku, app, env):
    assert dokku("ps:report", app, "--ps-computed-restart-policy").out == "on-failure:10\n"
    assert dokku("ps:set", app, "restart-policy", "always").out == "-----> Setting restart-policy to always\n"
    assert dokku("ps:set", app, "stop-timeout-seconds", "3").out == "-----> Setting stop-timeout-seconds to 3\n"
    dokku("docker-options:clear", app)
    report = dokku("ps:report", app, "--format", "json").out
    assert '"ps-restart-policy":"always"' in report and '"ps-stop-timeout-seconds":"3"' in report
    assert dokku("ps:set", app, "restart-policy").out == "-----> Unsetting restart-policy\n"
    assert dokku("ps:report", app, "--ps-computed-restart-policy").out == "on-failure:10\n"
    before = env.snapshot()
    for argv, err in [
        (("restart-policy", "sometimes"), " !     Invalid restart-policy: sometimes (expected no, always, unless-stopped,"
                                          " on-failure or on-failure:<retries>)\n"),
        (("restart-policy", "always:3"), " !     Invalid restart-policy: always:3 (expected no, always, unless-stopped,"
                                         " on-failure or on-failure:<retries>)\n"),
        (("stop-timeout-seconds", "soon"), " !     Invalid stop-timeout-seconds: soon (expected a whole number of seconds)\n"),
        (("bogus", "1"), " !     Invalid property specified, valid properties include: restart-policy, stop-timeout-seconds\n"),
        ((), " !     No property specified\n"),
    ]:  # fmt: skip
        result = dokku("ps:set", app, *argv)
        assert (result.code, result.out, result.err) == (1, "", err)
    assert env.snapshot() == before


def test_schema_migration_moves_restart_options_to_the_ps_property(tmp_path, monkeypatch, capsys):
    """A database of schema 3 (restart policies stored as docker options) is upgraded on first use."""
    import sqlite3

    from pydokku import cli
    from pydokku.store import schema

    database = tmp_path / "lib" / "pydokku.db"
    database.parent.mkdir()
    connection = sqlite3.connect(database, isolation_level=None)
    for statements in schema.MIGRATIONS[:3]:
        for step in statements:
            connection.execute(step) if isinstance(step, str) else step(connection)
    connection.execute("PRAGMA user_version = 3")
    apps = [(1, "default"), (2, "custom"), (3, "mixed")]
    connection.executemany("INSERT INTO apps (id, name, created_at) VALUES (?, ?, 0)", apps)
    connection.executemany(
        "INSERT INTO docker_options (app_id, phase, option) VALUES (?, 'deploy', ?)",
        [(1, "--restart=on-failure:10"), (1, "--label a=1"), (2, "--restart unless-stopped"),
         (3, "--restart=always --label b=2")],
    )  # fmt: skip
    connection.close()
    monkeypatch.setenv("DOKKU_LIB_ROOT", str(tmp_path / "lib"))
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path / "home"))
    capsys.readouterr()
    for app in ("default", "custom", "mixed"):
        cli.main(["ps:report", app, "--ps-computed-restart-policy"])
        cli.main(["docker-options:list", app, "--phase", "deploy"])
    assert capsys.readouterr().out == (
        "on-failure:10\n--label a=1\n"
        "unless-stopped\n"
        "on-failure:10\n--restart=always --label b=2\n"  # mixed with other flags: kept, and it wins at deploy
    )


def test_a_volume_whose_host_path_does_not_exist_yet_is_accepted_with_a_warning(dokku, app):
    result = dokku("docker-options:add", app, "deploy,run", "-v /nonexistent/logs:/logs")
    assert (result.code, result.out) == (0, "")
    assert result.err == (
        " !     Host path /nonexistent/logs does not exist yet; create it before the app is deployed (dokku"
        " storage:repair node-js-app, or mkdir -p /nonexistent/logs): a deploy refuses to start without it\n"
    )
    assert dokku("docker-options:add", app, "build", "-v /nonexistent/build:/build").err == ""
