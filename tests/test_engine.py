"""The Docker engine as storage sees it: user-namespace remapping and an unreachable daemon.

The remapping test runs a real second dockerd with `--userns-remap=default` beside the main one,
in a network namespace of its own (a daemon started with `--bridge=none` in the main daemon's
namespace deletes the main daemon's docker0 bridge), with its own socket, data root, exec root and
pidfile.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("remapped-daemon")


@pytest.fixture(scope="module")
def remapped_daemon() -> Iterator[str]:
    base = Path(tempfile.mkdtemp(prefix="pydokku-userns."))
    base.chmod(0o755)  # the remapped root must be able to traverse to its data root
    socket = f"unix://{base}/docker.sock"
    netns = f"pydokku-userns-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    log = open(base / "dockerd.log", "w")  # noqa: SIM115 - closed below
    daemon = subprocess.Popen(
        [
            # nsenter, not `ip netns exec`, which remounts /sys and hides the cgroup hierarchies
            "nsenter", f"--net=/var/run/netns/{netns}", "--",
            "dockerd", "-H", socket, "--data-root", f"{base}/root", "--exec-root", f"{base}/exec",
            "--pidfile", f"{base}/docker.pid", "--userns-remap=default",
            "--bridge=none", "--iptables=false", "--ip-masq=false",
        ],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(300):
            if daemon.poll() is not None:
                break
            if subprocess.run(["docker", "-H", socket, "info"], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the remapped dockerd did not come up: " + (base / "dockerd.log").read_text()[-2000:])
        yield socket
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        log.close()
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
        for mount in sorted((m for m in mounts if m.startswith(str(base))), reverse=True):
            subprocess.run(["umount", "-l", mount], check=False)
        shutil.rmtree(base, ignore_errors=True)
        subprocess.run(["ip", "netns", "delete", netns], check=False)


def subuid_start(user: str = "dockremap") -> int:
    for line in Path("/etc/subuid").read_text().splitlines():
        name, start, _ = line.split(":")
        if name == user:
            return int(start)
    raise AssertionError(f"no /etc/subuid range for {user}")


@pytest.mark.parametrize(("option", "inside"), [("herokuish", 32767), ("heroku", 1000), ("root", 0), ("4242", 4242)])
def test_ids_are_shifted_by_the_remap_offset(dokku, env, monkeypatch, remapped_daemon, option, inside):
    monkeypatch.setenv("DOCKER_HOST", remapped_daemon)
    offset = subuid_start()  # 165536 on a typical host; whatever /etc/subuid says on this one
    result = dokku("storage:ensure-directory", "--chown", option, "data")
    assert (result.code, result.err) == (0, "")
    expected = inside + offset
    assert result.lines[1] == f"       Setting directory ownership to {expected}:{expected}"
    stat = os.stat(env.storage_root / "data")
    assert (stat.st_uid, stat.st_gid) == (expected, expected)


def test_chown_false_does_not_ask_the_engine(dokku, env, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    result = dokku("storage:ensure-directory", "--chown", "false", "data")
    assert (result.code, result.err) == (0, "")
    assert result.out == f"-----> Ensuring {env.storage_root}/data exists\n       Directory ready for mounting\n"


def test_unreachable_engine_is_a_clear_error_and_changes_nothing(dokku, env, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    before = env.snapshot()
    result = dokku("storage:ensure-directory", "data")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        " !     Unable to reach the Docker engine: Cannot connect to the Docker daemon at"
        " unix:///nonexistent/docker.sock. Is the docker daemon running?\n"
    )
    assert env.snapshot() == before


def test_missing_docker_cli(dokku, app, env, monkeypatch, engine):
    monkeypatch.setenv("DOKKU_DOCKER_BIN", "/nonexistent/docker")
    result = dokku("git:from-image", app, "dokku-test/busybox:local")
    assert (result.code, result.err) == (
        1,
        " !     Unable to run /nonexistent/docker: the Docker CLI is not installed\n",
    )
