"""scripts/swarm-up and scripts/swarm-down: the 3-node test cluster the docker-swarm scheduler is tested on
(issue 9). Each node is a dockerd in its own network and mount namespaces, so node-local storage really is
local; a registry runs inside the nodes' network; nothing is left on the host afterwards."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = Path("/tmp/pydokku-swarm")
NODE_STORE = Path("/srv/pydokku-node-storage")
IMAGE = "10.213.0.1:5000/busybox:local"


def node(number: int, *args: str, check: bool = True) -> str:
    done = subprocess.run(["docker", "-H", f"unix://{BASE}/{number}/docker.sock", *args], capture_output=True,
                          text=True, check=False)  # fmt: skip
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def job(name: str, hostname: str, script: str) -> str:
    """A one-off task on one node with the node's storage at /st; its final state (`complete 0`, `failed 1 …`)."""
    node(1, "service", "create", "--detach", "--quiet", "--name", name, "--mode", "replicated-job",
         "--restart-condition", "none", "--constraint", f"node.hostname=={hostname}",
         "--mount", f"type=bind,source={NODE_STORE},target=/st", IMAGE, "sh", "-c", script)  # fmt: skip
    for _ in range(300):
        task = node(1, "service", "ps", "--quiet", name).split()
        state = node(1, "inspect", "--type", "task", "--format",
                     "{{.Status.State}} {{.Status.ContainerStatus.ExitCode}}", *task[:1], check=False)  # fmt: skip
        if state.startswith(("complete", "failed", "rejected")):
            return state
        time.sleep(0.1)
    raise AssertionError(f"job {name} did not finish")


def test_the_test_cluster_has_node_private_storage_and_a_registry_and_leaves_nothing(engine):
    up = subprocess.run([str(ROOT / "scripts" / "swarm-up")], capture_output=True, text=True)
    try:
        assert up.returncode == 0, up.stderr
        assert "MANAGER=unix:///tmp/pydokku-swarm/1/docker.sock" in (BASE / "env").read_text()
        nodes = node(1, "node", "ls", "--format", "{{.Hostname}} {{.Status}}").splitlines()
        assert sorted(nodes) == ["node1 Ready", "node2 Ready", "node3 Ready"]
        assert job("pydokku-test-write", "node2", "echo secret-of-node2 > /st/owner") == "complete 0"
        assert job("pydokku-test-read", "node2", "grep -q secret-of-node2 /st/owner") == "complete 0"
        assert job("pydokku-test-elsewhere", "node3", "test ! -e /st/owner") == "complete 0"
        assert not (NODE_STORE / "owner").exists()  # the host sees its own, empty directory
        catalog = subprocess.run(["nsenter", "--net=/var/run/netns/pdsw1", "curl", "-fsS",
                                  "http://10.213.0.1:5000/v2/_catalog"], capture_output=True, text=True)  # fmt: skip
        assert catalog.stdout.strip() == '{"repositories":["busybox"]}'
    finally:
        down = subprocess.run([str(ROOT / "scripts" / "swarm-down")], capture_output=True, text=True)
    assert down.returncode == 0, down.stderr
    assert not [ns for ns in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
                if ns.startswith("pdsw")]  # fmt: skip
    assert not BASE.exists() and not NODE_STORE.exists() and not Path("/srv/pydokku-shared").exists()
    mounts = Path("/proc/self/mountinfo").read_text()
    assert "pydokku-swarm" not in mounts and "pydokku-node-storage" not in mounts
    assert subprocess.run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"], capture_output=True,
                          text=True).stdout.strip() == "inactive"  # fmt: skip
