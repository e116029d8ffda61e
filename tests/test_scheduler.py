"""Apps really run: deploys, ps, run and their storage, on the real Docker engine."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import DOKKU_BIN, docker, in_container, remove_labelled, running


def test_from_image_output_and_containers(dokku, app_name, images, host_dir):
    dokku("apps:create", app_name)
    dokku("storage:mount", app_name, f"{host_dir}:/data")
    result = dokku("git:from-image", app_name, images.v1)
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "-----> Generating build context\n"
        "-----> Image exists on host, skipping pull\n"
        f"-----> Building {app_name} from {images.v1}\n"
        f"-----> Releasing {app_name}...\n"
        f"-----> Deploying {app_name} via the docker-local scheduler...\n"
        "-----> Deploying web (count=1)\n"  # web first, as Dokku deploys it
        "-----> Deploying task (count=0)\n"
        "-----> Deploying worker (count=0)\n"
        "=====> Application deployed:\n"
        f"       {app_name}.web.1\n"
    )
    assert running(app_name) == [f"{app_name}.web.1"]
    labels = json.loads(docker("inspect", "--format", "{{json .Config.Labels}}", f"{app_name}.web.1"))
    assert labels["com.dokku.app-name"] == app_name
    assert labels["com.dokku.process-type"] == "web"
    assert labels["com.dokku.dyno"] == "web.1"
    assert in_container(f"{app_name}.web.1", "echo $DYNO") == "web.1"


def test_same_image_again(dokku, deployed, images):
    result = dokku("git:from-image", deployed, images.v1)
    assert result.code == 1
    assert result.err == (
        " !     No changes detected, skipping git commit\n"
        " !     Call 'ps:rebuild' on app to rebuild the app from existing source\n"
    )


def test_missing_image(dokku, app, env, engine):
    """Not on the host: pulled, as Dokku does; from a registry that is not there (nothing leaves 127.0.0.1)."""
    before = env.snapshot()
    result = dokku("git:from-image", app, "127.0.0.1:1/no-such/image:tag")
    assert (result.code, result.out) == (1, "-----> Generating build context\n-----> Pulling image\n")
    assert result.err.startswith(" !     Failed to pull image: 127.0.0.1:1/no-such/image:tag: ")
    assert env.snapshot() == before


def test_data_survives_restart_redeploy_and_rebuild(dokku, deployed, host_dir, images):
    assert dokku("run", deployed, "sh", "-c", "echo persisted > /data/file.txt").code == 0
    assert (host_dir / "file.txt").read_text() == "persisted\n"
    web = f"{deployed}.web.1"
    first = docker("inspect", "--format", "{{.Id}}", web)
    assert dokku("ps:restart", deployed).code == 0
    assert docker("inspect", "--format", "{{.Id}}", web) != first  # a new container
    assert in_container(web, "cat /data/file.txt") == "persisted"
    assert dokku("git:from-image", deployed, images.v2).code == 0
    assert in_container(web, "echo $RELEASE; cat /data/file.txt") == "v2\npersisted"
    assert dokku("ps:rebuild", deployed).code == 0
    assert in_container(web, "cat /data/file.txt") == "persisted"
    assert running(deployed) == [web]


def test_scale_shares_the_mount(dokku, deployed):
    result = dokku("ps:scale", deployed, "web=3", "worker=1")
    assert result.code == 0
    assert result.lines[0] == f"-----> Scaling {deployed} processes: web=3 worker=1"
    names = [f"{deployed}.web.{n}" for n in (1, 2, 3)] + [f"{deployed}.worker.1"]
    assert running(deployed) == names
    in_container(names[0], "echo shared > /data/shared")
    for name in names[1:]:
        assert in_container(name, "cat /data/shared") == "shared"
    assert dokku("ps:scale", deployed).out == (
        f"-----> Scaling for {deployed}\nproctype: qty\n--------: ---\ntask: 0\nweb:  3\nworker: 1\n"
    )  # Dokku pads "<type>:" to 5 columns
    assert dokku("--quiet", "ps:scale", deployed).out == "task: 0\nweb:  3\nworker: 1\n"
    assert dokku("ps:scale", deployed, "--format", "json").out == (
        '[{"process_type":"task","quantity":0},{"process_type":"web","quantity":3},'
        '{"process_type":"worker","quantity":1}]\n'
    )
    # After web, process types start two at a time (parallel-schedule-count); web is deployed first.
    dokku("scheduler-docker-local:set", deployed, "parallel-schedule-count", "2")
    result = dokku("ps:scale", deployed, "web=1", "worker=2")
    assert result.code == 0, result.err
    assert result.lines.index("-----> Deploying web (count=1)") < result.lines.index("-----> Deploying task (count=0)")
    assert running(deployed) == [f"{deployed}.web.1", f"{deployed}.worker.1", f"{deployed}.worker.2"]
    assert dokku("ps:scale", deployed, "web=1", "worker=0").code == 0
    assert running(deployed) == [f"{deployed}.web.1"]


def test_scale_errors(dokku, deployed):
    assert dokku("ps:scale", deployed, "web=2", "--format", "json").err == (
        " !     --format only applies when showing the scaling (without <proc>=<count>)\n"
    )
    assert dokku("ps:scale", deployed, "--format", "yaml").err == " !     Invalid --format value specified\n"
    assert dokku("ps:scale", deployed, "web=-1").err == (
        " !     Invalid process scaling argument 'web=-1': expected <proc>=<count>, e.g. web=2\n"
    )
    assert (
        dokku("ps:scale", deployed, "nope=1").err == f" !     Process type nope is not in the release of {deployed}\n"
    )


def test_unmount_and_restart_drops_the_mount_but_keeps_data(dokku, deployed, host_dir):
    (host_dir / "keep.txt").write_text("data")
    assert dokku("storage:unmount", deployed, f"{host_dir}:/data").code == 0
    assert in_container(f"{deployed}.web.1", "cat /data/keep.txt") == "data"  # until restarted
    assert dokku("ps:restart", deployed).code == 0
    assert in_container(f"{deployed}.web.1", "ls /data 2>&1 || echo gone").endswith("gone")
    assert (host_dir / "keep.txt").read_text() == "data"


def test_docker_volume_mount(dokku, app_name, images):
    volume = f"{app_name}-vol"
    docker("volume", "create", volume)
    try:
        dokku("apps:create", app_name)
        dokku("storage:mount", app_name, f"{volume}:/vol")
        assert dokku("git:from-image", app_name, images.v1).code == 0
        in_container(f"{app_name}.web.1", "echo in-volume > /vol/v.txt")
        assert dokku("ps:restart", app_name).code == 0
        assert in_container(f"{app_name}.web.1", "cat /vol/v.txt") == "in-volume"
    finally:
        docker("rm", "--force", f"{app_name}.web.1", check=False)
        docker("volume", "rm", volume, check=False)


def test_missing_volume_is_refused_at_deploy(dokku, app_name, images):
    dokku("apps:create", app_name)
    dokku("storage:mount", app_name, f"{app_name}-absent:/vol")
    result = dokku("git:from-image", app_name, images.v1)
    assert result.code == 1
    assert result.err.endswith(
        f" !     Docker volume {app_name}-absent of the mount {app_name}-absent:/vol does not exist;"
        f" create it with `docker volume create {app_name}-absent` or unmount it\n"
    )
    assert docker("volume", "ls", "--quiet", "--filter", f"name={app_name}-absent") == ""


def test_read_only_mount(dokku, app_name, images, host_dir):
    dokku("apps:create", app_name)
    dokku("storage:mount", app_name, f"{host_dir}:/data:ro")
    assert dokku("git:from-image", app_name, images.v1).code == 0
    result = in_container(f"{app_name}.web.1", "touch /data/x 2>&1 || true")
    assert "Read-only file system" in result
    assert not (host_dir / "x").exists()


def test_run_phase_options_reach_only_run_containers(dokku, deployed, env):
    run_only = env.root / "run-only"
    run_only.mkdir()
    dokku("docker-options:add", deployed, "run", f"--env ONLY_RUN=yes -v {run_only}:/run-only")
    assert dokku("ps:restart", deployed).code == 0
    web = f"{deployed}.web.1"
    assert in_container(web, "echo ${ONLY_RUN:-unset}; ls /run-only 2>/dev/null || echo absent") == "unset\nabsent"
    assert dokku("run", deployed, "sh", "-c", "echo $ONLY_RUN > /run-only/seen").code == 0
    assert (run_only / "seen").read_text() == "yes\n"


def test_host_path_with_a_space(dokku, app_name, images, env):
    spaced = env.root / "my data"
    spaced.mkdir()
    (spaced / "hello.txt").write_text("hi")
    dokku("apps:create", app_name)
    dokku("storage:mount", app_name, f"{spaced}:/app data")
    dokku("docker-options:add", app_name, "deploy", f"-v '{spaced}:/via options'")
    assert dokku("git:from-image", app_name, images.v1).code == 0
    assert in_container(f"{app_name}.web.1", "cat '/app data/hello.txt' '/via options/hello.txt'") == "hihi"


def test_run_exit_code_env_and_detached(dokku, deployed):
    assert dokku("run", deployed, "sh", "-c", "exit 7").code == 7
    assert dokku("run", "--env", "A=1", "-e", "B=2", deployed, "sh", "-c", 'test "$A$B" = 12').code == 0
    detached = dokku("run:detached", deployed, "sleep", "1")
    assert detached.code == 0
    assert re.fullmatch(rf"{re.escape(deployed)}\.run\.\d{{4}}\n", detached.out)


def test_run_procfile_command(dokku_process, deployed):
    result = dokku_process("run", deployed, "task", "extra words")
    assert (result.code, result.err) == (0, "")
    assert result.out == "-----> Found 'task' in Procfile, running that command\ntask-ran with extra words\n"


def test_run_before_deploy(dokku, app):
    result = dokku("run", app, "true")
    assert result.code == 1
    assert result.err == (
        " !     App node-js-app has not been deployed\n !     Successfully deploy your app to fix dokku run calls\n"
    )


def test_ps_on_undeployed_app(dokku, app):
    for command in ("ps:restart", "ps:stop", "ps:start", "ps:rebuild"):
        result = dokku(command, app)
        assert (result.code, result.err) == (0, " !     App node-js-app has not been deployed\n")


def test_stop_and_start(dokku, deployed):
    stopped = dokku("ps:stop", deployed)
    assert (stopped.code, stopped.out) == (0, f"-----> Stopping {deployed}\n")
    assert running(deployed) == []
    assert dokku("ps:report", deployed, "--running").out == "false\n"
    started = dokku("ps:start", deployed)
    assert started.err == " !     App has been detected as not running, releasing\n"
    assert running(deployed) == [f"{deployed}.web.1"]
    assert dokku("ps:start", deployed).err == f" !     App {deployed} already running\n"


def test_report_and_inspect(dokku, deployed):
    dokku("ps:set", "--global", "stop-timeout-seconds", "7")
    report = json.loads(dokku("ps:report", deployed, "--format", "json").out)
    cid = report["status-web.1"].removeprefix("running (CID: ").removesuffix(")")
    assert len(cid) == 11
    plain = {  # Dokku 0.38.8: every key without its `ps-` prefix, and with it
        "deployed": "true", "processes": "1", "running": "true", "status-web.1": f"running (CID: {cid})",
        "can-scale": "true", "restart-policy": "", "global-restart-policy": "", "computed-restart-policy": "on-failure:10",
        "stop-timeout-seconds": "", "global-stop-timeout-seconds": "7", "computed-stop-timeout-seconds": "7",
    }  # fmt: skip
    assert report == {**plain, **{f"ps-{k}": v for k, v in plain.items() if k not in ("deployed", "processes",
                                                                                       "running", "status-web.1")}}  # fmt: skip
    assert dokku("ps:report", deployed).lines == [
        f"=====> {deployed} ps information",
        "       Deployed:                         true",
        "       Processes:                        1",
        "       Ps can scale:                     true",
        "       Ps computed restart policy:       on-failure:10",
        "       Ps computed stop timeout seconds: 7",
        "       Ps global restart policy:",
        "       Ps global stop timeout seconds:   7",
        "       Ps restart policy:",
        "       Ps stop timeout seconds:",
        "       Running:                          true",
        f"       Status web 1:                     running (CID: {cid})",
    ]
    dokku("ps:set", "--global", "stop-timeout-seconds")
    inspected = json.loads(dokku("ps:inspect", deployed).out)
    assert [c["Name"] for c in inspected] == [f"/{deployed}.web.1"]
    assert inspected[0]["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 10}
    assert inspected[0]["HostConfig"]["Init"] is True


def test_restart_policy_and_init_reach_docker(dokku, deployed):
    dokku("scheduler-docker-local:set", deployed, "init-process", "false")
    assert dokku("ps:set", deployed, "restart-policy", "unless-stopped").out == (
        "-----> Setting restart-policy to unless-stopped\n"
    )
    dokku("ps:restart", deployed)
    host_config = json.loads(docker("inspect", "--format", "{{json .HostConfig}}", f"{deployed}.web.1"))
    assert host_config["RestartPolicy"]["Name"] == "unless-stopped"
    assert not host_config.get("Init")
    # docker-options:clear leaves the policy alone; a --restart docker option, given later, wins.
    dokku("docker-options:clear", deployed)
    dokku("docker-options:add", deployed, "deploy", "--restart=always")
    dokku("ps:restart", deployed)
    assert docker("inspect", "--format", "{{.HostConfig.RestartPolicy.Name}}", f"{deployed}.web.1") == "always"
    dokku("docker-options:clear", deployed)
    dokku("ps:restart", deployed)
    assert docker("inspect", "--format", "{{.HostConfig.RestartPolicy.Name}}", f"{deployed}.web.1") == "unless-stopped"


def test_failed_start_keeps_the_previous_containers(dokku, deployed, images):
    dokku("config:set", "--no-restart", deployed, "DOKKU_DEFAULT_CHECKS_WAIT=1")
    before = docker("inspect", "--format", "{{.Id}}", f"{deployed}.web.1")
    result = dokku("git:from-image", deployed, images.crashing)
    assert result.code == 1
    assert (
        result.err
        == f" !     {deployed}.web.1 exited with status 3 as soon as it started; the previous containers keep running\n"
    )
    assert docker("inspect", "--format", "{{.Id}}", f"{deployed}.web.1") == before
    assert running(deployed) == [f"{deployed}.web.1"]


def app_containers(*apps: str) -> list[str]:
    """Names of every container, in any state, labelled with one of the apps."""
    names = []
    for app in apps:
        listed = docker("ps", "--all", "--filter", f"label=com.dokku.app-name={app}", "--format", "{{.Names}}")
        names += listed.split()
    return sorted(names)


def test_failed_deploy_keeps_the_last_good_release_and_no_orphan_survives(dokku, deployed, images, host_dir):
    """Deploy a good image, then a failing one, rename, destroy: no container of the app remains, and
    the data is intact."""
    (host_dir / "keep.txt").write_text("data")
    dokku("config:set", "--no-restart", deployed, "DOKKU_DEFAULT_CHECKS_WAIT=1")
    good_image = docker("inspect", "--format", "{{.Image}}", f"{deployed}.web.1")
    assert dokku("git:from-image", deployed, images.crashing).code == 1
    assert app_containers(deployed) == [f"{deployed}.web.1"]
    # The failed build is gone and the last good release keeps its tag, so restart and rebuild use it.
    assert docker("image", "inspect", "--format", "{{.Id}}", f"dokku/{deployed}:latest") == good_image
    assert dokku("ps:restart", deployed).code == 0
    assert docker("inspect", "--format", "{{.Image}}", f"{deployed}.web.1") == good_image
    renamed = deployed + "-renamed"
    try:
        result = dokku("apps:rename", deployed, renamed)
        assert result.code == 0, result.err
        assert app_containers(deployed, renamed) == [f"{renamed}.web.1"]
        assert in_container(f"{renamed}.web.1", "cat /data/keep.txt") == "data"
        assert dokku("--force", "apps:destroy", renamed).code == 0
        assert app_containers(deployed, renamed) == []
        assert docker("image", "ls", "--quiet", "--filter", f"label=com.dokku.app-name={renamed}") == ""
    finally:
        for name in app_containers(deployed, renamed):
            docker("rm", "--force", name, check=False)
    assert (host_dir / "keep.txt").read_text() == "data"


def test_a_failed_first_deploy_records_nothing_and_says_what_it_reowned(dokku, app_name, images, env):
    tree = env.storage_root / "crash-data"
    tree.mkdir(parents=True)
    dokku("apps:create", app_name)
    dokku("config:set", "--no-restart", app_name, "DOKKU_DEFAULT_CHECKS_WAIT=1")
    dokku("scheduler-docker-local:set", app_name, "chown-mounts", "true")
    dokku("storage:mount", app_name, f"{tree}:/data")
    result = dokku("git:from-image", app_name, images.crashing)
    assert result.code == 1
    assert result.err == (
        f" !     {app_name}.web.1 exited with status 3 as soon as it started; the previous containers keep running\n"
        f" !     The deploy had already given these directories their owner: {tree} (was 0:0)\n"
    )
    assert app_containers(app_name) == []
    assert dokku("ps:report", app_name, "--deployed").out == "false\n"
    # Nothing was recorded, so the same image may be tried again (no "No changes detected").
    assert "No changes detected" not in dokku("git:from-image", app_name, images.crashing).err


def test_a_container_left_by_an_interrupted_deploy_is_retired(dokku, deployed, images):
    """A deploy killed between starting a container and renaming it leaves `<dyno>.upcoming-*`."""
    leftover = f"{deployed}.web.1.upcoming-deadbeef"
    docker("run", "--detach", "--init", "--name", leftover, "--label", f"com.dokku.app-name={deployed}",
           "--label", "com.dokku.container-type=deploy", "--label", "com.dokku.process-type=web",
           "--label", "com.dokku.dyno=web.1", images.v1)  # fmt: skip
    assert dokku("ps:restart", deployed).code == 0
    assert app_containers(deployed) == [f"{deployed}.web.1"]
    docker("run", "--detach", "--init", "--name", leftover, "--label", f"com.dokku.app-name={deployed}",
           "--label", "com.dokku.container-type=deploy", "--label", "com.dokku.dyno=web.1", images.v1)  # fmt: skip
    assert dokku("ps:scale", deployed, "web=0").code == 0
    assert app_containers(deployed) == []


def test_missing_host_path_at_deploy_keeps_the_previous_containers(dokku, deployed, host_dir):
    before = docker("inspect", "--format", "{{.Id}}", f"{deployed}.web.1")
    host_dir.rmdir()
    result = dokku("ps:restart", deployed)
    assert result.code == 1
    assert result.err == (
        f" !     Host path {host_dir} of the mount {host_dir}:/data does not exist; create it (dokku storage:repair"
        f" {deployed}, or mkdir -p {host_dir}) or unmount it\n"
    )
    assert docker("inspect", "--format", "{{.Id}}", f"{deployed}.web.1") == before
    host_dir.mkdir()


def test_build_phase_volumes_are_left_out_of_docker_build(dokku, app_name, images, host_dir):
    dokku("apps:create", app_name)
    dokku("docker-options:add", app_name, "build", f"-v {host_dir}:/build --label built=yes")
    result = dokku("git:from-image", app_name, images.v1)
    assert result.code == 0, result.err
    assert f"       Leaving out build options docker build cannot take: -v {host_dir}:/build\n" in result.out
    labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}", f"dokku/{app_name}:latest"))
    assert labels["built"] == "yes"


def test_destroy_removes_containers_and_images_but_not_data(dokku, deployed, host_dir):
    (host_dir / "keep.txt").write_text("data")
    assert dokku("apps:destroy", deployed, "--force").code == 0
    assert docker("ps", "--all", "--quiet", "--filter", f"label=com.dokku.app-name={deployed}") == ""
    assert docker("image", "ls", "--quiet", "--filter", f"label=com.dokku.app-name={deployed}") == ""
    assert (host_dir / "keep.txt").read_text() == "data"


def test_rename_runs_the_app_under_its_new_name(dokku, deployed, host_dir):
    new = deployed + "-renamed"
    try:
        assert dokku("apps:rename", deployed, new).code == 0
        assert running(deployed) == []
        assert running(new) == [f"{new}.web.1"]
        in_container(f"{new}.web.1", "test -d /data")
    finally:
        docker("rm", "--force", f"{new}.web.1", check=False)
        docker("image", "rm", "--force", f"dokku/{new}:latest", check=False)


def test_config_set_restarts_a_deployed_app(dokku, deployed):
    result = dokku("config:set", deployed, "GREETING=hello")
    assert result.code == 0
    assert f"-----> Restarting app {deployed}\n" in result.out
    assert in_container(f"{deployed}.web.1", "echo $GREETING") == "hello"
    quiet = dokku("config:set", "--no-restart", deployed, "GREETING=later")
    assert "Restarting" not in quiet.out
    assert in_container(f"{deployed}.web.1", "echo $GREETING") == "hello"


def test_unreachable_engine_changes_nothing(dokku, app, env, monkeypatch, images):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    before = env.snapshot()
    result = dokku("git:from-image", app, images.v1)
    assert result.code == 1
    assert result.err.endswith(
        " !     Unable to reach the Docker engine: Cannot connect to the Docker daemon at"
        " unix:///nonexistent/docker.sock. Is the docker daemon running?\n"
    )
    assert env.snapshot() == before


def test_run_with_the_engine_unreachable_is_one_line_like_every_command(dokku_process, deployed):
    for args in (
        ("run", deployed, "true"),
        ("run", deployed, "sh", "-c", "exit 3"),
        ("run:detached", deployed, "true"),
    ):
        result = dokku_process(*args, extra_env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
        assert (result.code, result.out) == (1, ""), args
        assert result.err == (
            " !     Unable to reach the Docker engine: Cannot connect to the Docker daemon at"
            " unix:///nonexistent/docker.sock. Is the docker daemon running?\n"
        ), args


def test_bad_checks_wait_stops_the_deploy_before_any_container(dokku, deployed):
    before = docker("inspect", "--format", "{{.Id}}", f"{deployed}.web.1")
    dokku("config:set", "--no-restart", deployed, "DOKKU_DEFAULT_CHECKS_WAIT=soon")
    result = dokku("ps:restart", deployed)
    assert (result.code, result.err) == (
        1,
        " !     DOKKU_DEFAULT_CHECKS_WAIT must be a number of seconds, not 'soon'\n",
    )
    assert "Deploying" not in result.out
    assert docker("ps", "--all", "--quiet", "--filter", f"label=com.dokku.app-name={deployed}").split() == [before[:12]]


def test_option_groups_and_process_scopes_reach_docker(dokku, deployed):
    dokku("docker-options:add", deployed, "deploy", "--ulimit nofile=1024:2048", "--shm-size 256m")
    dokku("docker-options:add", "--process", "worker", deployed, "deploy", "--label only=worker")
    assert dokku("ps:scale", deployed, "worker=1").code == 0
    host_config = json.loads(docker("inspect", "--format", "{{json .HostConfig}}", f"{deployed}.web.1"))
    assert host_config["ShmSize"] == 256 * 1024 * 1024
    assert host_config["Ulimits"] == [{"Name": "nofile", "Hard": 2048, "Soft": 1024}]
    labels = {name: docker("inspect", "--format", "{{index .Config.Labels \"only\"}}", f"{deployed}.{name}.1")
              for name in ("web", "worker")}  # fmt: skip
    assert labels == {"web": "", "worker": "worker"}


def test_docker_refusing_a_container_is_said_in_docker_s_words(dokku, deployed):
    before = docker("inspect", "--format", "{{.Id}}", f"{deployed}.web.1")
    dokku("docker-options:add", deployed, "deploy", "--ulimit nofile=lots")
    result = dokku("ps:restart", deployed)
    assert result.code == 1
    assert result.err.startswith(
        ' !     docker container create failed: invalid argument "nofile=lots" for "--ulimit" flag'
    )
    assert "See 'docker" not in result.err and result.err.count("\n") == 1
    assert docker("inspect", "--format", "{{.Id}}", f"{deployed}.web.1") == before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL])
def test_an_interrupted_run_leaves_no_container(deployed, env, signum):
    """The client killed, interrupted or hung up: `dokku run` never leaves its container running."""
    run = subprocess.Popen(
        [str(DOKKU_BIN), "run", "--no-tty", deployed, "sleep", "60"], env={**os.environ, **env.variables},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip

    def one_offs() -> list[str]:
        filters = ("--filter", f"label=com.dokku.app-name={deployed}", "--filter", "label=com.dokku.container-type=run")
        return docker("ps", "--all", "--quiet", *filters).split()

    try:
        deadline = time.monotonic() + 15
        while not one_offs():
            assert time.monotonic() < deadline, "the one-off container never started"
            time.sleep(0.1)
        time.sleep(0.3)  # let it run
        run.send_signal(signum)
        run.wait(timeout=20)
        deadline = time.monotonic() + 15
        while one_offs():
            assert time.monotonic() < deadline, f"the one-off container outlived dokku run ({signum!r})"
            time.sleep(0.1)
    finally:
        run.kill()
        run.wait()
        for container in one_offs():
            docker("rm", "--force", container, check=False)


def test_a_redeploy_of_an_app_whose_name_has_dots_retires_the_old_containers(deploy, app_name, images, host_dir):
    dotted = app_name + ".v2"
    try:
        assert deploy(dotted, images.v1, f"{host_dir}:/data").code == 0
        assert deploy(dotted, images.v1).code == 1  # same image: nothing to do
        assert deploy(dotted, images.v2).code == 0
        assert app_containers(dotted) == [f"{dotted}.web.1"]
    finally:
        remove_labelled(dotted)


def test_the_api_and_the_cli_create_the_same_container(dokku, deployed, host_dir):
    """Without docker options a container is created through the Engine API; with them, through the
    docker CLI. Docker records the same settings either way."""

    def settings() -> dict[str, object]:
        inspected = json.loads(docker("inspect", f"{deployed}.web.1"))[0]
        config, host = inspected["Config"], inspected["HostConfig"]
        labels = {k: v for k, v in config["Labels"].items() if k != "extra"}
        return {
            "Binds": host["Binds"], "Init": host["Init"], "RestartPolicy": host["RestartPolicy"],
            "Env": sorted(e for e in config["Env"] if not e.startswith("PATH=")), "Labels": labels,
            "Cmd": config["Cmd"], "Image": inspected["Image"],
        }  # fmt: skip

    dokku("config:set", deployed, "GREETING=hello world")
    through_api = settings()
    assert through_api["Binds"] == [f"{host_dir}:/data"]
    assert through_api["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 10}
    dokku("docker-options:add", deployed, "deploy", "--label extra=1")
    assert dokku("ps:restart", deployed).code == 0
    assert settings() == through_api


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("x y", " !     no such image: x y: invalid reference format\n"),
        ("a?b=c", " !     no such image: a?b=c: invalid reference format\n"),
        ("../../info", " !     Failed to pull image: ../../info: invalid reference format\n"),
        ("x\r\nHost: evil", " !     Docker image references cannot contain control characters such as newlines:"
                            " 'x\\r\\nHost: evil'\n"),
    ],
)  # fmt: skip
def test_hostile_image_references_name_only_themselves(dokku, app, env, image, message, engine):
    """Names in Engine API paths are percent-encoded: `?`, `../` or spaces never reach another endpoint."""
    before = env.snapshot()
    result = dokku("git:from-image", app, image)
    assert (result.code, result.err) == (1, message)
    assert env.snapshot() == before
