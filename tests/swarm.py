"""The 3-node test swarm of scripts/swarm-up, as tests reach it: each node's engine by its socket, and
one-off jobs on a node that see its private storage (what a test checks from outside the app)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = Path("/tmp/pydokku-swarm")
MANAGER = f"unix://{BASE}/1/docker.sock"
REGISTRY = "10.213.0.1:5000"
BASE_IMAGE = f"{REGISTRY}/busybox:local"
NODE_STORE = Path("/srv/pydokku-node-storage")
SHARED = Path("/srv/pydokku-shared")


def on(number: int, *args: str, check: bool = True, stdin: str | None = None) -> str:
    """The docker CLI against node `number`'s engine (1 is the manager)."""
    done = subprocess.run(["docker", "-H", f"unix://{BASE}/{number}/docker.sock", *args], input=stdin,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def job_on(hostname: str, script: str) -> tuple[str, str]:
    """A replicated job on one node with the node's storage at /st: its final task state (`complete 0`,
    `failed 1`) and its output."""
    name = f"pydokku-test-job-{os.urandom(3).hex()}"
    on(1, "service", "create", "--detach", "--quiet", "--name", name, "--mode", "replicated-job",
       "--restart-condition", "none", "--constraint", f"node.hostname=={hostname}",
       "--mount", f"type=bind,source={NODE_STORE},target=/st", BASE_IMAGE, "sh", "-c", script)  # fmt: skip
    try:
        for _ in range(300):
            task = on(1, "service", "ps", "--quiet", name).split()
            state = on(1, "inspect", "--type", "task", "--format",
                       "{{.Status.State}} {{.Status.ContainerStatus.ExitCode}}", *task[:1], check=False)  # fmt: skip
            if state.startswith(("complete", "failed", "rejected")):
                return state, on(1, "service", "logs", "--raw", name)
            time.sleep(0.1)
        raise AssertionError(f"job {name} did not finish")
    finally:
        on(1, "service", "rm", name, check=False)


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """One user of the cluster at a time on this host (its paths and addresses are fixed), whatever the
    test workers: others wait on a lock file."""
    with open("/tmp/pydokku-swarm.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def cluster_up() -> Iterator[None]:
    """scripts/swarm-up, then swarm-down at the end."""
    with exclusive():
        up = subprocess.run([str(ROOT / "scripts" / "swarm-up")], capture_output=True, text=True, check=False)
        try:
            assert up.returncode == 0, up.stderr
            yield
        finally:
            down = subprocess.run([str(ROOT / "scripts" / "swarm-down")], capture_output=True, text=True, check=False)
            assert down.returncode == 0, down.stderr
