"""The docker-swarm scheduler on a real 3-node swarm (scripts/swarm-up: each node a dockerd in its own
network and mount namespaces, so node-local data really is local; a registry inside the nodes' network).
Everything is checked through the nodes' engines: tasks, their nodes, files seen from inside them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from conftest import DOKKU_BIN
from swarm import BASE, BASE_IMAGE, MANAGER, NODE_STORE, REGISTRY, SHARED, cluster_up, job_on, on

LOOP = "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"

pytestmark = pytest.mark.xdist_group("swarm")  # one cluster per host: swarm.exclusive() holds a lock file for that


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
    assert report.count(", node: node2)") == 3 and "       Running:                          true\n" in report

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


def test_an_image_repo_template_and_extra_tags_are_pushed_to_the_registry(swarm, swarm_app, dokku):
    assert dokku("registry:set", swarm_app, "image-repo-template", "team/{{ .AppName }}").code == 0
    assert dokku("registry:set", swarm_app, "push-extra-tags", "latest,stable").code == 0
    deployed = dokku("git:from-image", swarm_app, swarm.v1)
    assert deployed.code == 0, deployed.err
    repository = f"{REGISTRY}/team/{swarm_app}"
    assert (
        f"-----> Pushing {repository}:1\n-----> Pushing {repository}:latest\n-----> Pushing {repository}:stable\n"
        in (deployed.out)
    )
    spec = json.loads(on(1, "service", "inspect", f"{swarm_app}-web"))[0]["Spec"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"].startswith(f"{repository}:1@sha256:")
    release = on(1, "image", "inspect", "--format", "{{.Id}}", f"{repository}:1")
    for tag in ("latest", "stable"):  # in the registry, not left tagged on the manager
        assert on(1, "image", "inspect", f"{repository}:{tag}", check=False) in ("", "[]")
        on(2, "image", "pull", "--quiet", f"{repository}:{tag}")
        assert on(2, "image", "inspect", "--format", "{{.Id}}", f"{repository}:{tag}") == release
        on(2, "image", "rm", f"{repository}:{tag}")


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
            r"pending \(CID: [0-9a-z]{11}\): node node3 is drain and the app's data is on it; make it active again"
            r" \(then move the data if you wish: dokku storage:move <entry> --to-node <hostname>\), or restore the"
            r" data from a backup on another node\n",
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

    def state() -> tuple[list[str], list[str]]:
        """All but what a failed deploy records: what it started from (Dokku's deploy-source-set), its event."""
        rows, files = env.snapshot()
        return [row for row in rows if "deploy-source" not in row and not row.startswith('INSERT INTO "events"')], files

    for setting, message in cases:
        assert dokku(*setting).code == 0
        before = state()
        result = dokku("git:from-image", swarm_app, swarm.v1)
        assert result.code == 1 and message in result.err, result.err
        assert state() == before
        assert not on(1, "service", "ls", "--quiet", "--filter", f"label=com.dokku.app-name={swarm_app}")
        assert dokku(*setting[:3]).code == 0  # unset again

    assert dokku("registry:set", "--global", "server").code == 0
    result = dokku("git:from-image", swarm_app, swarm.v1)
    assert f"App {swarm_app} uses the docker-swarm scheduler, whose nodes pull images from a registry" in result.err

    # a storage root or helper image the nodes do not have: the error names the setting that fixes it
    for key, value, advice in (
        ("storage-root", "/srv/pydokku-no-such-root", "dokku scheduler-docker-swarm:set --global storage-root <path>"),
        ("helper-image", f"{REGISTRY}/pydokku-no-such:1", "dokku scheduler-docker-swarm:set --global helper-image"),
    ):
        assert dokku("scheduler-docker-swarm:set", "--global", key, value).code == 0
        before = env.snapshot()
        refused = dokku("storage:create", f"{swarm_app}-c", "--scheduler", "docker-swarm", "--node", "node2")
        assert refused.code == 1 and advice in refused.err, refused.err
        assert env.snapshot() == before
        assert dokku("scheduler-docker-swarm:set", "--global", "storage-root", str(NODE_STORE)).code == 0
        assert dokku("scheduler-docker-swarm:set", "--global", "helper-image", BASE_IMAGE).code == 0


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
    # the audit trail has it, with a password given on the command line redacted
    assert dokku("registry:login", "--global", REGISTRY, "ci-user", "s3cret-pw").code == 0
    last = json.loads(dokku("events", "-n", "1", "--format", "json").out)[0]
    assert (last["command"], last["args"]) == ("registry:login", ["--global", REGISTRY, "ci-user", "<redacted>"])
    assert "s3cret-pw" not in dokku("events").out
    trail = json.loads(dokku("events", "-n", "3", "--format", "json").out)
    assert [event["command"] for event in trail] == ["registry:login", "registry:logout", "registry:login"]


def test_storage_move_takes_the_data_and_the_app_to_another_node_and_keeps_the_old_copy(swarm, swarm_app, dokku):
    entry = f"{swarm_app}-data"
    path = f"{NODE_STORE}/{entry}"
    assert dokku("storage:create", entry, "--scheduler", "docker-swarm", "--node", "node2").code == 0
    assert dokku("storage:mount", swarm_app, entry, "--container-dir", "/data", "--volume-chown", "paketo").code == 0
    assert dokku("ps:scale", swarm_app, "web=2", "--skip-deploy").code == 0
    deployed = dokku("git:from-image", swarm_app, swarm.v1)
    assert f"       Setting ownership of {path} on node node2 to 2000:2000\n" in deployed.out, deployed.out
    written = dokku("run", swarm_app, "sh", "-c", "mkdir /data/d && echo kept > /data/d/f && chown 1234:5678 /data/d/f"
                    " && ln -s d/f /data/link && head -c 300000 /dev/zero > /data/big")  # fmt: skip
    assert written.code == 0, written.err
    web = f"{swarm_app}-web"

    moved = dokku("storage:move", entry, "--to-node", "node3")
    assert moved.code == 0, moved.err
    event = json.loads(dokku("events", "--entry", entry, "-n", "1", "--format", "json").out)[0]
    assert (event["command"], event["args"], event["exit_code"]) == ("storage:move", [entry, "--to-node", "node3"], 0)
    assert re.fullmatch(
        rf"-----> Moving storage entry {entry} from node node2 to node node3\n"
        rf"       Stopping {swarm_app}\n"
        r"       Copied 5 entries, 300005 bytes to node node3 in \d+\.\d s \(file count and bytes verified\)\n"
        rf"       Starting {swarm_app} on node node3\n"
        rf"-----> Pushing {REGISTRY}/dokku/{swarm_app}:1\n"
        rf"-----> Deploying {swarm_app} via the docker-swarm scheduler...\n"
        r"-----> Deploying web \(count=2\)\n"
        r"-----> Deploying worker \(count=0\)\n"
        r"=====> Application deployed:\n"
        rf"       {web}\n       {swarm_app}-worker\n"
        rf"       The copy on node node2 stays at {path} \(--discard-source removes it\)\n",
        moved.out,
    ), moved.out
    assert [(node, state) for node, state, _ in tasks(web)] == [("node3", "running")] * 2
    seen = "cat /data/d/f; stat -c %u:%g /data /data/d/f; readlink /data/link; wc -c < /data/big"
    assert in_tasks(web, seen) == [("node3", "kept\n2000:2000\n1234:5678\nd/f\n300000")] * 2
    assert "       Node:             node3\n" in dokku("storage:info", entry).out
    assert job_on("node2", f"cat /st/{entry}/d/f") == ("complete 0", "kept")

    # moving back finds the old copy there: refused, the app untouched; --replace-target sets it aside
    back = dokku("storage:move", entry, "--to-node", "node2")
    assert (back.code, back.out, back.err) == (
        1, f"-----> Moving storage entry {entry} from node node3 to node node2\n",
        f" !     Unable to copy {path} to node node2: {entry} already holds data there\n",
    )  # fmt: skip
    assert [(node, state) for node, state, _ in tasks(web)] == [("node3", "running")] * 2
    back = dokku("storage:move", entry, "--to-node", "node2", "--replace-target", "--discard-source")
    assert back.code == 0, back.err
    stamp = re.search(rf"is now at {path}\.replaced-(\d{{8}}T\d{{6}}Z)\n", back.out)
    assert stamp, back.out
    assert back.out.endswith(f"       Removed {path} from node node3\n")
    assert in_tasks(web, seen) == [("node2", "kept\n2000:2000\n1234:5678\nd/f\n300000")] * 2
    assert job_on("node2", f"cat /st/{entry}.replaced-{stamp.group(1)}/d/f") == ("complete 0", "kept")
    assert job_on("node3", f"ls /st/{entry} 2>&1") == ("failed 1", f"ls: /st/{entry}: No such file or directory")


def test_storage_move_refusals_are_clear_and_change_nothing(swarm, swarm_app, dokku, env):
    entry, other, local = f"{swarm_app}-data", f"{swarm_app}-more", f"{swarm_app}-local"
    for name in (entry, other):
        assert dokku("storage:create", name, "--scheduler", "docker-swarm", "--node", "node2").code == 0
        assert dokku("storage:mount", swarm_app, name, "--container-dir", f"/{name}").code == 0
    assert dokku("storage:create", local, str(env.root / "local"), "--scheduler", "docker-local").code == 0
    refused = {
        (): " !     Please specify the storage entries to move\n",
        (entry,): " !     Please specify the node to move them to with --to-node <hostname>\n",
        ("missing", "--to-node", "node3"): ' !     storage entry "missing" does not exist\n',
        (entry, "--to-node", "node2"): f' !     storage entry "{entry}" is already on node "node2"\n',
        (
            entry,
            other,
            "--to-node",
            "node9",
        ): ' !     Node "node9" is not part of the swarm (nodes: node1, node2, node3)\n',
        (local, "--to-node", "node3"): f' !     storage entry "{local}" is docker-local storage; storage:move moves'
        " directories on a swarm node (storage:create --scheduler docker-swarm --node)\n",
        (entry, "--to-node", "node3"): f' !     App {swarm_app} also mounts storage entry "{other}", on node "node2";'
        f" the tasks of an app run on one node: move them together (dokku storage:move {entry} {other} --to-node"
        " node3)\n",
    }
    services = on(1, "service", "ls", "--quiet")
    for args, message in refused.items():
        before = env.snapshot()
        result = dokku("storage:move", *args)
        assert (result.code, result.out, result.err) == (1, "", message), args
        assert env.snapshot() == before
    on(1, "node", "update", "--availability", "drain", "node3")
    try:
        result = dokku("storage:move", entry, other, "--to-node", "node3")
    finally:
        on(1, "node", "update", "--availability", "active", "node3")
    assert (result.code, result.out, result.err) == (
        1, "", ' !     Node "node3" is drain; no job can run there to receive the data\n'
    )  # fmt: skip
    assert on(1, "service", "ls", "--quiet") == services


def app_with_data_on_node2(dokku, swarm, app: str, size: int) -> str:  # type: ignore[no-untyped-def]
    """The app deployed with an entry on node2 mounted at /data, holding a file of `size` bytes: the entry."""
    entry = f"{app}-data"
    assert dokku("storage:create", entry, "--scheduler", "docker-swarm", "--node", "node2").code == 0
    assert dokku("storage:mount", app, entry, "--container-dir", "/data").code == 0
    assert dokku("git:from-image", app, swarm.v1).code == 0
    assert dokku("run", app, "sh", "-c", f"head -c {size} /dev/zero > /data/big").code == 0
    return entry


def test_an_interrupted_storage_move_leaves_the_app_running_on_the_old_node(swarm, swarm_app, dokku, env):
    entry = app_with_data_on_node2(dokku, swarm, swarm_app, 300000000)
    move = subprocess.Popen([str(DOKKU_BIN), "storage:move", entry, "--to-node", "node3"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert move.stdout is not None
    while "Stopping" not in (line := move.stdout.readline()):
        assert line, move.stderr.read() if move.stderr else ""
    time.sleep(1.5)  # the copy is under way
    move.send_signal(signal.SIGTERM)
    out, _ = move.communicate(timeout=120)
    assert move.returncode == 128 + signal.SIGTERM
    assert out.endswith(f"       Started {swarm_app} again, on the node its data is on\n"), out
    assert [(node, state) for node, state, _ in tasks(f"{swarm_app}-web")] == [("node2", "running")]
    assert "       Node:             node2\n" in dokku("storage:info", entry).out
    assert not on(1, "service", "ls", "--quiet", "--filter", "label=com.dokku.container-type=storage-job")
    assert job_on("node3", f"ls /st/{entry} 2>&1") == ("failed 1", f"ls: /st/{entry}: No such file or directory")
    # the next move cleans up the unfinished copy and completes
    moved = dokku("storage:move", entry, "--to-node", "node3")
    assert moved.code == 0, moved.err
    assert "Copied 2 entries, 300000000 bytes" in moved.out
    assert job_on("node3", f"ls -A /st; wc -c < /st/{entry}/big")[1].count(".pydokku-move") == 0


def moving(entry: str, stop_when) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    """A storage:move of the entry to node3, killed outright once `stop_when()` holds."""
    move = subprocess.Popen([str(DOKKU_BIN), "storage:move", entry, "--to-node", "node3"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_until(lambda: stop_when() or move.poll() is not None, timeout=120)
    move.kill()
    move.communicate(timeout=30)
    assert move.returncode == -signal.SIGKILL
    return move


def move_journals(env) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    folder = env.lib_root / "data" / "moves"
    return [json.loads(path.read_text()) for path in folder.glob("*.json")] if folder.exists() else []


def storage_jobs() -> list[str]:
    return on(1, "service", "ls", "--format", "{{.Name}}", "--filter",
              "label=com.dokku.container-type=storage-job").split()  # fmt: skip


def test_a_move_killed_once_its_commit_job_started_is_finished_by_the_next_move(swarm, swarm_app, dokku, env):
    entry = app_with_data_on_node2(dokku, swarm, swarm_app, 3000000)
    moving(entry, lambda: any(name.startswith("storage-move-commit-") for name in storage_jobs()))
    assert [e["step"] for journal in move_journals(env) for e in journal["entries"]] == ["verified"]
    assert "       Node:             node2\n" in dokku("storage:info", entry).out  # the record still has the source
    found = dokku("storage:verify", "--format", "json")
    assert [(f["code"], f["entry"], f["repairable"]) for f in json.loads(found.out)["problems"]] == [
        ("interrupted-move", entry, True)
    ], found.out
    assert "the next storage:move or storage:repair finishes it" in json.loads(found.out)["problems"][0]["detail"]

    moved = dokku("storage:move", entry, "--to-node", "node3")
    assert moved.code == 0, moved.err
    assert moved.out.startswith(f"-----> Finishing the interrupted move of storage entry {entry} to node node3\n")
    assert f"       The verified copy of {NODE_STORE}/{entry} is in place on node node3\n" in moved.out
    assert f"       Starting {swarm_app} on node node3\n" in moved.out
    assert "Moving storage entry" not in moved.out  # what was asked is what it finished
    assert "       Node:             node3\n" in dokku("storage:info", entry).out
    assert [(node, state) for node, state, _ in tasks(f"{swarm_app}-web")] == [("node3", "running")]
    assert in_tasks(f"{swarm_app}-web", "wc -c < /data/big") == [("node3", "3000000")]
    assert job_on("node3", f"ls -A /st | grep -c {entry}.pydokku-move") == ("failed 1", "0")
    assert job_on("node2", f"wc -c < /st/{entry}/big") == ("complete 0", "3000000")  # the source copy stays
    assert storage_jobs() == [] and move_journals(env) == []
    assert json.loads(dokku("storage:verify", "--format", "json").out)["problems"] == []


def test_a_move_killed_while_copying_is_undone_by_repair(swarm, swarm_app, dokku, env):
    entry = app_with_data_on_node2(dokku, swarm, swarm_app, 300000000)
    moving(entry, lambda: any(name.startswith("storage-move-from-") for name in storage_jobs()))
    assert tasks(f"{swarm_app}-web") == []  # stopped for the copy, and left so
    found = json.loads(dokku("storage:verify", "--format", "json").out)["problems"]
    assert [(f["code"], f["entry"]) for f in found] == [("interrupted-move", entry)]
    assert found[0]["detail"].endswith(
        "the next storage:move or storage:repair undoes it (not every copy was verified)"
    )

    repaired = dokku("storage:repair")
    assert repaired.code == 0, repaired.err
    assert f"-----> Undoing the interrupted move of storage entry {entry} to node node3\n" in repaired.out
    assert "       Removed its job storage-move-" in repaired.out
    assert f"       Started {swarm_app} again, on the node its data is on\n" in repaired.out
    assert [(node, state) for node, state, _ in tasks(f"{swarm_app}-web")] == [("node2", "running")]
    assert "       Node:             node2\n" in dokku("storage:info", entry).out
    assert job_on("node3", f"ls -A /st | grep -c {entry}") == ("failed 1", "0")
    assert storage_jobs() == [] and move_journals(env) == []


def test_a_move_to_a_node_without_room_says_so_and_changes_nothing(swarm, swarm_app, dokku, env):
    """The target's storage root is a 1 MiB tmpfs (mounted inside node3's own mount namespace)."""
    small = f"{NODE_STORE}/small-{swarm_app}"
    assert job_on("node2", f"mkdir /st/small-{swarm_app}")[0] == "complete 0"
    assert job_on("node3", f"mkdir /st/small-{swarm_app}")[0] == "complete 0"
    node3 = ["nsenter", f"--mount=/proc/{(BASE / '3' / 'docker.pid').read_text().strip()}/ns/mnt", "--"]
    subprocess.run([*node3, "mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small], check=True)
    try:
        assert dokku("scheduler-docker-swarm:set", "--global", "storage-root", small).code == 0
        entry = f"{swarm_app}-data"
        assert dokku("storage:create", entry, "--scheduler", "docker-swarm", "--node", "node2").code == 0
        assert dokku("storage:mount", swarm_app, entry, "--container-dir", "/data").code == 0
        assert dokku("git:from-image", swarm_app, swarm.v1).code == 0
        assert dokku("run", swarm_app, "sh", "-c", "head -c 3000000 /dev/zero > /data/big").code == 0
        moved = dokku("storage:move", entry, "--to-node", "node3")
        free = re.search(r"the file system there has (\d+) bytes free\n", moved.err)
        assert free and int(free.group(1)) <= 1048576, moved.err
        assert (moved.code, moved.err) == (
            1,
            f" !     Unable to copy {small}/{entry} to node node3: the copy needs"
            f" 3000000 bytes and the file system there has {free.group(1)} bytes free\n",
        )
        assert moved.out.endswith(f"       Started {swarm_app} again, on the node its data is on\n"), moved.out
        assert [(node, state) for node, state, _ in tasks(f"{swarm_app}-web")] == [("node2", "running")]
        assert job_on("node3", f"ls -A /st/small-{swarm_app}") == ("complete 0", "")
        assert storage_jobs() == [] and move_journals(env) == []
    finally:
        subprocess.run([*node3, "umount", small], check=True)


def test_swarm_entries_are_changed_on_their_node_and_never_read_from_this_host(swarm, swarm_app, dokku, env):
    entry, path = f"{swarm_app}-data", f"{NODE_STORE}/{swarm_app}-data"
    assert dokku("storage:create", entry, "--scheduler", "docker-swarm", "--node", "node2").code == 0
    assert job_on("node2", f"echo on-node2 > /st/{entry}/f")[0] == "complete 0"
    # a same-named folder on this host is other data: never exported, imported, backed up or exec'd into
    refusal = (f' !     storage entry "{entry}" keeps its data on swarm node "node2", which this host cannot see;'
               " export, import, backups, restores and storage:exec reach this host's storage only (storage:move"
               " moves swarm data)\n")  # fmt: skip
    for args in (("storage:export", entry), ("storage:import", entry), ("storage:backup", entry),
                 ("storage:exec", entry, "--", "true")):  # fmt: skip
        before = env.snapshot()
        result = dokku(*args, stdin="")
        assert (result.code, result.err) == (1, refusal), args
        assert env.snapshot() == before

    changed = dokku("storage:set", entry, "mode", "0750")
    assert changed.code == 0, changed.err
    assert dokku("storage:set", entry, "chown", "paketo").code == 0
    assert job_on("node2", f"stat -c '%a %u:%g' /st/{entry} /st/{entry}/f") == (
        "complete 0", "750 2000:2000\n644 2000:2000"
    )  # fmt: skip
    info = json.loads(dokku("storage:info", entry, "--format", "json").out)
    assert (info["node"], info["scheduler"], info["mode"], info["chown"]) == ("node2", "docker-swarm", "0750", "paketo")
    refused = dokku("storage:set", entry, "reclaim-policy", "Delete")
    assert refused.err == (
        f' !     storage entry "{entry}" (docker-swarm) does not accept reclaim policy Delete: its data is on a node'
        " (storage:destroy --destroy-host-dir removes it)\n"
    )

    destroyed = dokku("--force", "storage:destroy", entry, "--destroy-host-dir")
    assert (destroyed.code, destroyed.out) == (
        0, f"       Removed {path} on node node2\n-----> Storage entry {entry} destroyed\n"
    ), destroyed.err  # fmt: skip
    assert job_on("node2", f"ls /st/{entry} 2>&1") == ("failed 1", f"ls: /st/{entry}: No such file or directory")


def run_jobs(app: str) -> list[str]:
    return on(1, "service", "ls", "--quiet", "--filter", f"label=com.dokku.app-name={app}",
              "--filter", "label=com.dokku.container-type=run").split()  # fmt: skip


def test_one_off_runs_are_listed_logged_stopped_and_expire(swarm, swarm_app, dokku, env):
    assert dokku("git:from-image", swarm_app, swarm.v1).code == 0
    detached = dokku("run:detached", swarm_app, "sh", "-c", "echo started; sleep 120")
    assert detached.code == 0, detached.err
    name = detached.out.strip()
    assert re.fullmatch(rf"{swarm_app}-run-\d{{4}}", name)
    wait_until(lambda: '"state": "running"' in dokku("run:list", swarm_app, "--format", "json").out)
    assert dokku("run:list", swarm_app).out.splitlines()[1].split() == ["NAMES", "COMMAND", "CREATED"]
    listed = json.loads(dokku("run:list", swarm_app, "--format", "json").out)
    assert [(run["name"], run["state"], run["command"]) for run in listed] == [
        (name, "running", "\"sh -c 'echo started; sleep 120'\"")]  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC", listed[0]["created_at"])
    wait_until(lambda: dokku("run:logs", "--container", name, "-q").out == "started\n")
    logs = dokku("run:logs", swarm_app).out
    assert re.fullmatch(rf"\S+Z app\[{name.rpartition('-')[2]}\]: started\n", logs), logs
    assert dokku("run:stop", "--container", name).out == f"{name}\n"
    assert run_jobs(swarm_app) == []
    missing = dokku("run:stop", "--container", name)
    assert (missing.code, missing.out, missing.err) == (0, "", " !     Specified container does not exist\n")

    # --ttl-seconds: a detached job is removed when its time is up; an attached one too, and with it the command.
    expiring = dokku("run:detached", "--ttl-seconds", "2", swarm_app, "sleep", "120").out.strip()
    wait_until(lambda: expiring not in dokku("run:list", swarm_app).out, timeout=30)
    started = time.monotonic()
    attached = dokku("run", "--ttl-seconds", "2", swarm_app, "sleep", "120")
    assert attached.code == 1 and time.monotonic() - started < 30
    job = attached.err.split()[1]
    assert attached.err == f" !     {job} was stopped before it ended (run:stop, or its --ttl-seconds)\n"
    assert run_jobs(swarm_app) == []

    # A client killed outright leaves no job behind: its watchdog removes it.
    client = subprocess.Popen([str(DOKKU_BIN), "run", swarm_app, "sleep", "120"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    wait_until(lambda: len(run_jobs(swarm_app)) == 1)
    client.send_signal(signal.SIGKILL)
    client.wait()
    wait_until(lambda: run_jobs(swarm_app) == [], timeout=30)


def test_verify_finds_a_service_whose_mounts_the_next_deploy_changes(swarm, swarm_app, dokku):
    for name in ("a", "b"):
        assert (
            dokku("storage:create", f"{swarm_app}-{name}", "--scheduler", "docker-swarm", "--node", "node2").code == 0
        )
    dokku("storage:mount", swarm_app, f"{swarm_app}-a", "--container-dir", "/a")
    assert dokku("git:from-image", swarm_app, swarm.v1).code == 0
    assert codes_of(dokku, swarm_app) == []
    dokku("storage:mount", swarm_app, f"{swarm_app}-b", "--container-dir", "/b")
    (drift,) = json.loads(dokku("storage:verify", swarm_app, "--format", "json").out)["problems"]
    assert (drift["code"], drift["path"]) == ("mount-drift", f"{swarm_app}-web")
    assert drift["detail"] == (
        f"{swarm_app}-web (web) does not mount {NODE_STORE}/{swarm_app}-b at /b; the next deploy changes that"
        f" (dokku ps:restart {swarm_app})"
    )
    assert dokku("ps:restart", swarm_app).code == 0
    assert codes_of(dokku, swarm_app) == []


def codes_of(dokku, app: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [p["code"] for p in json.loads(dokku("storage:verify", app, "--format", "json").out)["problems"]]
