"""The docker-swarm scheduler on a real 3-node swarm (scripts/swarm-up: each node a dockerd in its own
network and mount namespaces, so node-local data really is local; a registry inside the nodes' network).
Everything is checked through the nodes' engines: tasks, their nodes, files seen from inside them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator

import pytest

from swarm import BASE_IMAGE, MANAGER, NODE_STORE, REGISTRY, SHARED, cluster_up, job_on, on

LOOP = "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"

pytestmark = pytest.mark.xdist_group("swarm")  # one cluster per host: never two of these at once


def build(tag: str, dockerfile: str) -> str:
    done = subprocess.run(["docker", "-H", MANAGER, "image", "build", "--quiet", "--tag", tag, "-"],
                          input=dockerfile, capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return tag


class Cluster:
    def __init__(self) -> None:
        procfile = f'RUN mkdir -p /app && printf "web: %s\\nworker: %s\\n" "{LOOP}" "{LOOP}" > /app/Procfile'
        self.v1 = build("pydokku-test/swarm-app:v1", f"FROM {BASE_IMAGE}\n{procfile}\n")
        self.v2 = build("pydokku-test/swarm-app:v2", f"FROM {self.v1}\nENV RELEASE=v2\n")
        self.crashing = build(
            "pydokku-test/swarm-app:crash",
            f"FROM {BASE_IMAGE}\nRUN mkdir -p /app && printf 'web: exit 3\\n' > /app/Procfile\n",
        )


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with cluster_up():
        yield Cluster()


@pytest.fixture
def swarm(cluster, dokku, engine) -> Cluster:  # type: ignore[no-untyped-def]
    """This test's state points at the cluster: manager, registry, the helper image and node storage root."""
    for args in (
        ("scheduler-docker-swarm:set", "--global", "manager", MANAGER),
        ("scheduler-docker-swarm:set", "--global", "helper-image", BASE_IMAGE),
        ("scheduler-docker-swarm:set", "--global", "storage-root", str(NODE_STORE)),
        ("registry:set", "--global", "server", REGISTRY),
        ("scheduler:set", "--global", "selected", "docker-swarm"),
        ("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0.3"),
    ):
        result = dokku(*args)
        assert result.code == 0, result.err
    return cluster  # type: ignore[no-any-return]


@pytest.fixture
def swarm_app(swarm, dokku) -> Iterator[str]:  # type: ignore[no-untyped-def]
    name = f"pydokku-test-{os.urandom(3).hex()}"
    assert dokku("apps:create", name).code == 0
    yield name
    for service in on(1, "service", "ls", "--quiet", "--filter", f"label=com.dokku.app-name={name}").split():
        on(1, "service", "rm", service, check=False)


def tasks(service: str) -> list[tuple[str, str, str]]:
    """(node hostname, state, container id) of the service's tasks that should run."""
    found = []
    for task in on(1, "service", "ps", "--quiet", "--filter", "desired-state=running", service).split():
        data = json.loads(on(1, "inspect", "--type", "task", task))[0]
        node = (
            on(1, "node", "inspect", "--format", "{{.Description.Hostname}}", data["NodeID"])
            if data.get("NodeID")
            else ""
        )
        found.append(
            (node, data["Status"]["State"], (data["Status"].get("ContainerStatus") or {}).get("ContainerID", ""))
        )
    return sorted(found)


def in_tasks(service: str, command: str) -> list[tuple[str, str]]:
    """Run a command inside every running task of the service: (node, output)."""
    return [
        (node, on(int(node.removeprefix("node")), "exec", container, "sh", "-c", command))
        for node, state, container in tasks(service)
        if state == "running"
    ]


def wait_until(check, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_node_local_entry_keeps_every_task_on_its_node_with_its_data(swarm, swarm_app, dokku, dokku_process):
    created = dokku("storage:create", f"{swarm_app}-data", "--scheduler", "docker-swarm", "--node", "node2")
    assert created.code == 0, created.err
    assert created.out == (
        f"       Created {NODE_STORE}/{swarm_app}-data on node node2\n-----> Storage entry {swarm_app}-data created\n"
    )
    assert dokku("storage:mount", swarm_app, f"{swarm_app}-data", "--container-dir", "/data").code == 0
    deployed = dokku("git:from-image", swarm_app, swarm.v1)
    assert deployed.code == 0, deployed.err
    assert f"-----> Pushing {REGISTRY}/dokku/{swarm_app}:1\n" in deployed.out
    web = f"{swarm_app}-web"
    assert [(node, state) for node, state, _ in tasks(web)] == [("node2", "running")]
    spec = json.loads(on(1, "service", "inspect", web))[0]["Spec"]
    assert spec["TaskTemplate"]["Placement"]["Constraints"] == ["node.hostname==node2"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"].startswith(f"{REGISTRY}/dokku/{swarm_app}:1@sha256:")
    assert spec["Labels"]["com.dokku.app-name"] == swarm_app

    run = dokku_process("run", swarm_app, "sh", "-c", "echo from-run > /data/run-file; echo said-$DYNO; exit 4")
    assert run.code == 4
    assert re.fullmatch(r"said-run\.\d{4}\n", run.out), run.out
    assert not on(1, "service", "ls", "--quiet", "--filter", f"label=com.dokku.app-name={swarm_app}",
                  "--filter", "label=com.dokku.container-type=run")  # fmt: skip
    assert in_tasks(web, "cat /data/run-file") == [("node2", "from-run")]
    elsewhere = job_on("node3", f"ls -A /st/{swarm_app}-data 2>&1 || true")
    assert elsewhere == ("complete 0", f"ls: /st/{swarm_app}-data: No such file or directory")

    assert dokku("ps:restart", swarm_app).code == 0
    assert in_tasks(web, "cat /data/run-file") == [("node2", "from-run")]
    updated = dokku("git:from-image", swarm_app, swarm.v2)
    assert updated.code == 0, updated.err
    assert in_tasks(web, "echo $RELEASE $(cat /data/run-file)") == [("node2", "v2 from-run")]
    assert dokku("ps:scale", swarm_app, "web=3").code == 0
    assert in_tasks(web, "cat /data/run-file") == [("node2", "from-run")] * 3
    report = dokku("ps:report", swarm_app).out
    assert report.count(", node: node2)") == 3 and "Running:                       true" in report

    stopped = dokku("ps:stop", swarm_app)
    assert stopped.code == 0 and tasks(web) == []
    assert dokku("ps:start", swarm_app).code == 0
    # the command returns once every task runs (with a checks wait of 0 too)
    assert dokku("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0").code == 0
    assert dokku("ps:stop", swarm_app).code == 0
    assert dokku("ps:start", swarm_app).code == 0
    assert [(node, state) for node, state, _ in tasks(web)] == [("node2", "running")] * 3


def test_a_shared_volume_is_seen_by_tasks_on_two_nodes(swarm, swarm_app, dokku):
    device = SHARED / swarm_app
    device.mkdir(parents=True)
    created = dokku("storage:create", f"{swarm_app}-shared", "--scheduler", "docker-swarm", "--volume-driver", "local",
                    "--volume-opt", "type=none", "--volume-opt", "o=bind", "--volume-opt", f"device={device}")  # fmt: skip
    assert (created.code, created.out, created.err) == (0, f"-----> Storage entry {swarm_app}-shared created\n", "")
    assert dokku("storage:mount", swarm_app, f"{swarm_app}-shared", "--container-dir", "/shared").code == 0
    assert dokku("docker-options:add", swarm_app, "deploy", "--hostname={{.Node.Hostname}}").code == 0
    assert dokku("ps:scale", swarm_app, "web=2", "--skip-deploy").code == 0
    assert dokku("git:from-image", swarm_app, swarm.v1).code == 0
    web = f"{swarm_app}-web"
    nodes = sorted(node for node, _, _ in tasks(web))
    assert len(set(nodes)) == 2, nodes  # spread over two nodes: no pin
    assert [output for _, output in in_tasks(web, "hostname > /shared/$(hostname); echo ok")] == ["ok", "ok"]
    wait_until(lambda: sorted(os.listdir(device)) == nodes)
    assert [output for _, output in in_tasks(web, "cat /shared/* | sort | tr '\\n' ' '")] == [" ".join(nodes)] * 2


def test_a_failed_update_puts_the_previous_spec_back_and_says_where_it_failed(swarm, swarm_app, dokku, env):
    assert dokku("git:from-image", swarm_app, swarm.v1).code == 0
    web = f"{swarm_app}-web"
    before_image = json.loads(on(1, "service", "inspect", web))[0]["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    failed = dokku("git:from-image", swarm_app, swarm.crashing)
    assert failed.code == 1
    assert re.fullmatch(
        rf" !     Task {web}\.1 failed on node[123]: task: non-zero exit \(3\); the previous spec of {web} was restored\n",
        failed.err,
    ), failed.err
    wait_until(
        lambda: (
            json.loads(on(1, "service", "inspect", web))[0]["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
            == before_image
        )
    )
    wait_until(lambda: [state for _, state, _ in tasks(web)] == ["running"])
    assert dokku("registry:report", swarm_app, "--registry-tag-version").out == "1\n"


def test_a_drained_node_leaves_the_tasks_pending_and_ps_report_says_why(swarm, swarm_app, dokku):
    assert dokku("storage:create", f"{swarm_app}-data", "--scheduler", "docker-swarm", "--node", "node3").code == 0
    assert dokku("storage:mount", swarm_app, f"{swarm_app}-data", "--container-dir", "/data").code == 0
    assert dokku("git:from-image", swarm_app, swarm.v1).code == 0
    on(1, "node", "update", "--availability", "drain", "node3")
    try:
        wait_until(lambda: "pending" in dokku("ps:report", swarm_app, "--status-web.1").out)
        status = dokku("ps:report", swarm_app, "--status-web.1").out
        assert re.fullmatch(
            r"pending \(CID: [0-9a-z]{11}\): node node3 is drain and the app's data is on it; make it active again,"
            r" or move the data to another node \(or restore it from a backup there\) and point the entry at it\n",
            status,
        ), status
    finally:
        on(1, "node", "update", "--availability", "active", "node3")
    wait_until(lambda: dokku("ps:report", swarm_app, "--status-web.1").out.startswith("running"))
    assert re.fullmatch(
        r"running \(CID: [0-9a-z]{11}, node: node3\)\n", dokku("ps:report", swarm_app, "--status-web.1").out
    )


def test_wrong_set_ups_are_clear_errors_that_change_nothing(swarm, swarm_app, dokku, env):
    missing_node = dokku("storage:create", "nowhere", "--scheduler", "docker-swarm", "--node", "node9")
    assert missing_node.err == ' !     Node "node9" is not part of the swarm (nodes: node1, node2, node3)\n'
    assert dokku("storage:create", f"{swarm_app}-a", "--scheduler", "docker-swarm", "--node", "node2").code == 0
    assert dokku("storage:create", f"{swarm_app}-b", "--scheduler", "docker-swarm", "--node", "node3").code == 0
    assert dokku("storage:mount", swarm_app, f"{swarm_app}-a", "--container-dir", "/a").code == 0
    conflict = dokku("storage:mount", swarm_app, f"{swarm_app}-b", "--container-dir", "/b")
    assert (conflict.code, conflict.err) == (
        1,
        f' !     storage entry "{swarm_app}-b" lives on node "node3" and "{swarm_app}-a", already mounted on'
        f' "{swarm_app}", on node "node2"; the tasks of an app run on one node: keep its data on one node\n',
    )

    cases = [
        (("registry:set", swarm_app, "server", "10.213.0.1:5999"), "Pushing 10.213.0.1:5999/dokku/"),
        (("scheduler-docker-swarm:set", swarm_app, "manager", "unix:///tmp/pydokku-test-no.sock"),
         "Unable to reach the Docker engine"),
        (("scheduler-docker-swarm:set", swarm_app, "node", "node3"),
         f'App {swarm_app} is pinned to node "node3", but storage entry "{swarm_app}-a" lives on node "node2"'),
    ]  # fmt: skip
    for setting, message in cases:
        assert dokku(*setting).code == 0
        before = env.snapshot()
        result = dokku("git:from-image", swarm_app, swarm.v1)
        assert result.code == 1 and message in result.err, result.err
        assert env.snapshot() == before
        assert not on(1, "service", "ls", "--quiet", "--filter", f"label=com.dokku.app-name={swarm_app}")
        assert dokku(*setting[:3]).code == 0  # unset again

    assert dokku("registry:set", "--global", "server").code == 0
    result = dokku("git:from-image", swarm_app, swarm.v1)
    assert f"App {swarm_app} uses the docker-swarm scheduler, whose nodes pull images from a registry" in result.err


def test_docker_options_without_a_service_counterpart_are_refused_at_add(swarm, swarm_app, dokku):
    refused = dokku("docker-options:add", swarm_app, "deploy", "--privileged")
    assert refused.code == 1
    assert refused.err == (
        " !     docker option --privileged has no counterpart on a swarm service (supported: --add-host, --cap-add,"
        " --cap-drop, --cpus, --dns, --env, --group-add, --hostname, --init, --label, --memory, --read-only,"
        " --restart, --stop-signal, --sysctl, --tty, --ulimit, --user, --workdir); remove it or run the app on"
        " docker-local\n"
    )
    assert dokku("docker-options:report", swarm_app, "--docker-options-deploy").out == "\n"
    assert dokku("docker-options:add", swarm_app, "deploy", "--memory 64m --ulimit nofile=512:1024").code == 0
    assert dokku("git:from-image", swarm_app, swarm.v1).code == 0
    template = json.loads(on(1, "service", "inspect", f"{swarm_app}-web"))[0]["Spec"]["TaskTemplate"]
    assert template["Resources"]["Limits"]["MemoryBytes"] == 64 * 1024 * 1024
    assert template["ContainerSpec"]["Ulimits"] == [{"Name": "nofile", "Soft": 512, "Hard": 1024}]


def test_registry_login_is_checked_from_the_manager_and_kept_out_of_the_database(swarm, dokku, env):
    login = dokku("registry:login", "--global", "--password-stdin", REGISTRY, "ci-user", stdin="s3cret-pw\n")
    assert login.code == 0, login.err
    assert login.out == f"-----> Login Succeeded ({REGISTRY})\n"
    stored = env.lib_root / "secrets" / "registry" / "global.json"
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    assert json.loads(stored.read_text()) == {REGISTRY: {"password": "s3cret-pw", "username": "ci-user"}}
    assert b"s3cret-pw" not in (env.lib_root / "pydokku.db").read_bytes()
    assert dokku("registry:logout", "--global", REGISTRY).out == f"-----> Removed login credentials for {REGISTRY}\n"
    assert not stored.exists()
