"""The deploy lifecycle as Dokku's ps plugin has it: what a deploy started from is recorded when it
starts (a failed first deploy can be built again), and the warnings of start, restart and rebuild."""

from __future__ import annotations

import os

from conftest import running


def test_a_first_deploy_that_failed_is_built_again_by_ps_rebuild(dokku, deploy, app_name, images, host_dir):
    missing = host_dir / "later"
    failed = deploy(app_name, images.v1, f"{missing}:/data")
    assert failed.code == 1 and running(app_name) == [], failed.err
    # recorded when the deploy started, as Dokku's deploy-source-set
    assert dokku("apps:report", app_name, "--app-deploy-source").out == "docker-image\n"
    assert dokku("apps:report", app_name, "--app-deploy-source-metadata").out == f"{images.v1}\n"
    assert dokku("ps:report", app_name, "--deployed").out == "false\n"

    os.mkdir(missing)
    rebuilt = dokku("ps:rebuild", app_name)
    assert rebuilt.code == 0, rebuilt.err
    assert f"-----> Building {app_name} from {images.v1}\n" in rebuilt.out
    assert running(app_name) == [f"{app_name}.web.1"]
    assert dokku("ps:report", app_name, "--deployed").out == "true\n"


def test_ps_start_of_a_running_app_is_dokkus_warning(dokku, deployed):
    started = dokku("ps:start", deployed)
    assert (started.code, started.out, started.err) == (0, "", f" !     App {deployed} already running\n")
    assert running(deployed) == [f"{deployed}.web.1"]


def test_ps_all_runs_serially_by_default_and_says_so_as_dokku(dokku, deployed, app_name):
    # `deployed` is one app; a second, never deployed, is warned about and not an error
    other = f"{app_name}-other"
    assert dokku("apps:create", other).code == 0
    result = dokku("ps:stop", "--all")
    assert (result.code, result.err) == (
        0, f" !     Running stop in serial mode\n !     App {other} has not been deployed\n"
    )  # fmt: skip
    assert result.out == (
        f"-----> Running stop against app {app_name}\n-----> Stopping {app_name}\n"
        f"-----> Running stop against app {other}\n"
    )
    assert running(deployed) == []
    started = dokku("ps:start", "--all", "--parallel", "2")
    assert started.code == 0, started.err
    shown = started.out.splitlines()
    assert {f"-----> Running command against {app_name}", f"-----> Running command against {other}"} <= set(shown)
    assert f" !     App {other} has not been deployed\n" in started.err
    assert running(deployed) == [f"{deployed}.web.1"]


def test_ps_all_refusals_are_dokkus(dokku, app):
    cases = {
        ("ps:restart", "--all", "web"): " !     Unable to restart all apps when specifying a process name\n",
        ("ps:restart", "--all", "--parallel", "-2"): " !     Invalid value -2 for --parallel flag\n",
        ("ps:stop", "--all", "--parallel", "x"): ' !     invalid value "x" for flag -parallel: parse error\n',
    }
    for args, message in cases.items():
        result = dokku(*args)
        assert (result.code, result.out, result.err) == (1, "", message), args


def test_ps_all_counts_the_apps_that_failed(dokku, deploy, app_name, images, host_dir):
    assert deploy(app_name, images.v1, f"{host_dir}:/data").code == 0
    host_dir.rename(host_dir.with_name(host_dir.name + "-gone"))  # the next deploy refuses to start
    try:
        result = dokku("ps:restart", "--all")
        assert result.code == 1
        lines = result.err.splitlines()
        assert lines[0] == " !     Running restart in serial mode"
        assert lines[-2].startswith(f" !     Error running restart against app {app_name}: ")
        assert lines[-1] == " !     restart command returned 1 errors"
        parallel = dokku("ps:restart", "--all", "--parallel", "-1")
        assert parallel.code == 1
        assert parallel.err.startswith(f" !     Setting --parallel=-1 value to CPU count of {os.cpu_count()}\n")
        assert f" !     Error running restart against {app_name}: " in parallel.err
        assert parallel.err.endswith(" !     Encountered 1 errors during parallel run\n")
    finally:
        host_dir.with_name(host_dir.name + "-gone").rename(host_dir)
    assert running(app_name) == [f"{app_name}.web.1"]  # the previous containers kept running
