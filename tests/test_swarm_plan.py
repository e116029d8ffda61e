"""The docker-swarm scheduler's planning (pure functions) and its settings commands (scheduler-docker-swarm,
registry): no engine needed."""

from __future__ import annotations

import pytest

from pydokku.errors import DokkuError
from pydokku.plugins.scheduler_docker_swarm import duration_seconds
from pydokku.scheduler import swarm_plan
from pydokku.scheduler.plan import Mount


def node_mount(entry: str, node: str) -> Mount:
    return Mount("bind", f"/srv/{entry}", "/data", readonly=False, options="", entry=entry, scheduler="docker-swarm",
                 node=node)  # fmt: skip


def test_the_node_an_app_runs_on_follows_its_data():
    shared = Mount("volume", "shared", "/s", readonly=False, options="", entry="shared", scheduler="docker-swarm",
                   driver="local", driver_options={"type": "nfs"})  # fmt: skip
    assert swarm_plan.node_of([shared], "app", "") == ""
    assert swarm_plan.node_of([shared, node_mount("a", "node2")], "app", "") == "node2"
    assert swarm_plan.node_of([node_mount("a", "node2"), node_mount("b", "node2")], "app", "node2") == "node2"
    with pytest.raises(DokkuError) as error:
        swarm_plan.node_of([node_mount("a", "node2"), node_mount("b", "node3")], "app", "")
    assert error.value.message == (
        'App app mounts storage on different nodes ("a" on "node2", "b" on "node3"); its tasks run on one node'
    )
    with pytest.raises(DokkuError) as error:
        swarm_plan.node_of([node_mount("a", "node2")], "app", "node3")
    assert error.value.message == (
        'App app is pinned to node "node3", but storage entry "a" lives on node "node2";'
        " move it there with dokku storage:move a --to-node node3, or change the pin"
    )
    colon = Mount("bind", "/var/data", "/d", readonly=False, options="", entry="legacy-x")
    with pytest.raises(DokkuError) as error:
        swarm_plan.node_of([colon], "app", "")
    assert error.value.message.startswith(
        "App app mounts host path /var/data, which lives on one node's disk: pin the app to that node with"
        " dokku scheduler-docker-swarm:set app node <hostname>"
    )
    assert swarm_plan.node_of([colon], "app", "node1") == "node1"


def test_docker_options_become_service_fields_or_are_refused():
    container: dict[str, object] = {"Env": ["A=1"]}
    task: dict[str, object] = {}
    swarm_plan.apply_options(
        ["-e", "B=2", "--label=x=y", "--memory", "1g", "--cpus=0.5", "--ulimit", "nofile=10", "--cap-add", "net_admin",
         "--init", "-u", "1000:1000", "--restart", "on-failure:3", "--hostname={{.Node.Hostname}}"],
        container, task,
    )  # fmt: skip
    assert container == {
        "Env": ["A=1", "B=2"], "Labels": {"x": "y"}, "Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 10}],
        "CapabilityAdd": ["CAP_NET_ADMIN"], "Init": True, "User": "1000:1000", "Hostname": "{{.Node.Hostname}}",
    }  # fmt: skip
    assert task == {
        "Resources": {"Limits": {"MemoryBytes": 1024**3, "NanoCPUs": 500_000_000}},
        "RestartPolicy": {"Condition": "on-failure", "MaxAttempts": 3},
    }
    for tokens, message in (
        (["--privileged"], "docker option --privileged has no counterpart on a swarm service (supported: --add-host,"),
        (
            ["-v", "/a:/b"],
            "docker option -v cannot be given to a swarm service: mount storage with dokku storage:mount",
        ),
        (["--memory", "lots"], "Invalid memory size 'lots'"),
        (["--ulimit", "nofile"], "Invalid --ulimit 'nofile'"),
        (["--user"], "docker option --user needs a value"),
    ):
        with pytest.raises(DokkuError) as error:
            swarm_plan.apply_options(tokens, {}, {})
        assert error.value.message.startswith(message)


def test_restart_policies_and_mounts_as_a_service_has_them():
    assert swarm_plan.restart_policy("no") == {"Condition": "none"}
    assert swarm_plan.restart_policy("always") == {"Condition": "any"}
    assert swarm_plan.restart_policy("unless-stopped") == {"Condition": "any"}
    assert swarm_plan.restart_policy("on-failure") == {"Condition": "on-failure"}
    shared = Mount("volume", "shared", "/s", readonly=True, options="ro,nocopy", driver="local",
                   driver_options={"type": "nfs", "o": "addr=10.0.0.1"})  # fmt: skip
    assert swarm_plan.service_mount(shared) == {
        "Type": "volume", "Source": "shared", "Target": "/s", "ReadOnly": True,
        "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": {"type": "nfs", "o": "addr=10.0.0.1"}},
                          "NoCopy": True},
    }  # fmt: skip
    bind = Mount("bind", "/srv/a/", "/d", readonly=False, options="rslave", subpath="x/y")
    assert swarm_plan.service_mount(bind) == {
        "Type": "bind",
        "Source": "/srv/a/x/y",
        "Target": "/d",
        "BindOptions": {"Propagation": "rslave"},
    }
    with pytest.raises(DokkuError) as error:
        swarm_plan.service_mount(Mount("volume", "vol", "/d", readonly=False, options="", subpath="x", entry="v"))
    assert error.value.message == (
        "Storage entry v is mounted with a volume subpath, which swarm services support from Docker Engine 26 on;"
        " mount it without --volume-subpath"
    )
    with pytest.raises(DokkuError) as error:
        swarm_plan.service_mount(Mount("bind", "/srv/a", "/d", readonly=False, options="z", entry="a"))
    assert error.value.message.startswith("Mount option 'z' of storage entry a has no counterpart on a swarm service")


def test_a_one_off_run_is_a_job_that_never_restarts_and_a_service_updates_start_first():
    job = swarm_plan.service_spec(
        name="app-run-1234", image="r/app:1@sha256:x", command=["sh"], env={"A": "1"}, labels={}, mounts=[],
        node="node2", replicas=None, init=True, restart="always", stop_grace=10, options=[],
    )  # fmt: skip
    assert job["Mode"] == {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}}
    assert job["TaskTemplate"]["RestartPolicy"] == {"Condition": "none"}
    assert job["TaskTemplate"]["Placement"] == {"Constraints": ["node.hostname==node2"]}
    assert "UpdateConfig" not in job
    service = swarm_plan.service_spec(
        name="app-web", image="r/app:1@sha256:x", command=[], env={}, labels={}, mounts=[], node="", replicas=3,
        init=False, restart="on-failure:10", stop_grace=1.5, options=[], update_parallelism=2, force_update=7,
    )  # fmt: skip
    assert service["Mode"] == {"Replicated": {"Replicas": 3}}
    assert service["UpdateConfig"] == {
        "Parallelism": 2,
        "Order": "start-first",
        "Monitor": 1_000_000,
        "FailureAction": "pause",
    }
    assert service["TaskTemplate"]["ForceUpdate"] == 7
    assert service["TaskTemplate"]["ContainerSpec"]["StopGracePeriod"] == 1_500_000_000
    assert "Args" not in service["TaskTemplate"]["ContainerSpec"]  # the image's own command


@pytest.mark.parametrize(("text", "seconds"), [("10", 10), ("10s", 10), ("1m30s", 90), ("500ms", 0.5), ("1h", 3600)])
def test_durations(text, seconds):
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "10x", "1.5s", "-1s", "10s5"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        duration_seconds(text)


def test_scheduler_docker_swarm_settings_and_report(dokku, env, app, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/test.sock")
    assert dokku("scheduler-docker-swarm:set", app, "node", "node2").out == "-----> Setting node to node2\n"
    assert dokku("scheduler-docker-swarm:set", "--global", "update-parallelism", "2").code == 0
    report = dokku("scheduler-docker-swarm:report", app)
    assert report.out == (
        "=====> node-js-app scheduler-docker-swarm information\n"
        "       Scheduler docker swarm computed helper image:       alpine:3\n"
        "       Scheduler docker swarm computed init process:       true\n"
        "       Scheduler docker swarm computed manager:            unix:///run/test.sock\n"
        "       Scheduler docker swarm computed node:               node2\n"
        "       Scheduler docker swarm computed stop grace period:  10s\n"
        f"       Scheduler docker swarm computed storage root:       {env.storage_root}\n"
        "       Scheduler docker swarm computed update parallelism: 2\n"
        "       Scheduler docker swarm global helper image:\n"
        "       Scheduler docker swarm global init process:\n"
        "       Scheduler docker swarm global manager:\n"
        "       Scheduler docker swarm global stop grace period:\n"
        "       Scheduler docker swarm global storage root:\n"
        "       Scheduler docker swarm global update parallelism:   2\n"
        "       Scheduler docker swarm init process:\n"
        "       Scheduler docker swarm manager:\n"
        "       Scheduler docker swarm node:                        node2\n"
        "       Scheduler docker swarm stop grace period:\n"
        "       Scheduler docker swarm update parallelism:\n"
    )
    assert dokku("scheduler-docker-swarm:report", app, "--scheduler-docker-swarm-computed-node").out == "node2\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("manager", "http://x"), "Invalid value for manager: 'http://x' (expected unix:///path/to/docker.sock or tcp://host:port)"),
        (("manager", "tcp://host"), "Invalid value for manager: 'tcp://host' (expected unix:///path/to/docker.sock or tcp://host:port)"),
        (("node", "no de"), "Invalid value for node: 'no de' (expected the hostname of a swarm node)"),
        (("node", "$(id)"), "Invalid value for node: '$(id)' (expected the hostname of a swarm node)"),
        (("update-parallelism", "x1"), "Invalid value for update-parallelism: 'x1' (expected a whole number; 0 updates all at once)"),
        (("stop-grace-period", "soon"), "Invalid value for stop-grace-period: 'soon' (expected seconds or a duration such as 30s or 1m30s)"),
        (("init-process", "yes"), "Invalid value for init-process: 'yes' (expected true or false)"),
        (("storage-root", "/x"), "storage-root is set for all apps: dokku scheduler-docker-swarm:set --global storage-root <value>"),
        (("colour", "x"), "Invalid property specified, valid properties include: helper-image, init-process, manager, node, stop-grace-period, storage-root, update-parallelism"),
    ],
)  # fmt: skip
def test_bad_swarm_settings_are_refused_and_change_nothing(dokku, env, app, args, message):
    before = env.snapshot()
    result = dokku("scheduler-docker-swarm:set", app, *args)
    assert (result.code, result.out, result.err) == (1, "", f" !     {message}\n")
    assert env.snapshot() == before


def test_registry_settings_and_report(dokku, env, app):
    assert dokku("registry:set", "--global", "server", "registry.example.com:5000").code == 0
    assert dokku("registry:set", app, "image-repo", "team/web").code == 0
    assert dokku("registry:report", app).out == (
        "=====> node-js-app registry information\n"
        "       Registry computed image repo:          team/web\n"
        "       Registry computed image repo template:\n"
        "       Registry computed push extra tags:\n"
        "       Registry computed push on release:     false\n"
        "       Registry computed server:              registry.example.com:5000/\n"
        "       Registry global image repo template:\n"
        "       Registry global push extra tags:\n"
        "       Registry global push on release:\n"
        "       Registry global server:                registry.example.com:5000\n"
        "       Registry image repo:                   team/web\n"
        "       Registry image repo template:\n"
        "       Registry push extra tags:\n"
        "       Registry push on release:\n"
        "       Registry server:\n"
        "       Registry tag version:\n"
    )
    before = env.snapshot()
    for args, message in (
        ((app, "server", "http://r.example.com"), "Invalid registry server 'http://r.example.com': expected host[:port], e.g. registry.example.com:5000"),
        ((app, "image-repo", "Team/App"), "Invalid image-repo 'Team/App': lowercase letters, digits and . _ - / (e.g. team/app), as Docker names repositories"),
        ((app, "push-on-release", "yes"), "Invalid value for push-on-release: yes (expected true or false)"),
        (("--global", "image-repo", "x/y"), "image-repo cannot be set globally; global properties: image-repo-template, push-extra-tags, push-on-release, server"),
    ):  # fmt: skip
        result = dokku("registry:set", *args)
        assert (result.code, result.err) == (1, f" !     {message}\n")
    assert env.snapshot() == before
