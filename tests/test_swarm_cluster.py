"""scripts/swarm-up and scripts/swarm-down: the 3-node test cluster the docker-swarm scheduler is tested on
(issue 9). Each node is a dockerd in its own network and mount namespaces, so node-local storage really is
local; a registry runs inside the nodes' network; nothing is left on the host afterwards."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from swarm import BASE, NODE_STORE, ROOT, exclusive, job_on, on

pytestmark = pytest.mark.xdist_group("swarm")  # one cluster per host: swarm.exclusive() holds a lock file for that


def test_the_test_cluster_has_node_private_storage_and_a_registry_and_leaves_nothing(engine):
    with exclusive():
        check_up_and_down()


def check_up_and_down() -> None:
    up = subprocess.run([str(ROOT / "scripts" / "swarm-up")], capture_output=True, text=True)
    try:
        assert up.returncode == 0, up.stderr
        assert "MANAGER=unix:///tmp/pydokku-swarm/1/docker.sock" in (BASE / "env").read_text()
        nodes = on(1, "node", "ls", "--format", "{{.Hostname}} {{.Status}}").splitlines()
        assert sorted(nodes) == ["node1 Ready", "node2 Ready", "node3 Ready"]
        assert job_on("node2", "echo secret-of-node2 > /st/owner")[0] == "complete 0"
        assert job_on("node2", "grep -q secret-of-node2 /st/owner")[0] == "complete 0"
        assert job_on("node3", "test ! -e /st/owner")[0] == "complete 0"
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
