"""logs on the real engine: the last lines of every process with Dokku's prefix (coloured on a
terminal), raw with -q, one process type with -p, followed with -t until the app stops; logs:failed."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator

import pytest

from conftest import BASE_IMAGE, DOKKU_BIN, docker

LOOP = "trap 'exit 0' TERM; i=0; while :; do echo line-$i; i=$((i+1)); sleep 0.2 & wait $!; done"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z"


@pytest.fixture(scope="module")
def talking_image() -> Iterator[str]:
    tag = f"pydokku-test-logs:{os.getpid()}"
    dockerfile = f'FROM {BASE_IMAGE}\nCMD ["sh", "-c", "{LOOP}"]\n'
    done = subprocess.run(["docker", "build", "--quiet", "--tag", tag, "-"], input=dockerfile, text=True,
                          capture_output=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    yield tag
    docker("image", "rm", "--force", tag, check=False)


def wait_for_lines(container: str, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(docker("logs", container).splitlines()) < count:
        assert time.monotonic() < deadline, "the app did not log"
        time.sleep(0.1)


def test_logs_show_the_last_lines_of_each_process_with_app_and_dyno(dokku_process, deploy, app_name, talking_image):
    assert deploy(app_name, talking_image).code == 0
    wait_for_lines(f"{app_name}.web.1", 3)
    shown = dokku_process("logs", app_name, "-n", "2")
    assert shown.code == 0, shown.err
    assert re.fullmatch(rf"({STAMP} app\[web\.1\]: line-\d+\n){{2}}", shown.out), shown.out
    raw = dokku_process("logs", app_name, "-n", "1", "-q")
    assert re.fullmatch(r"line-\d+\n", raw.out), raw.out
    assert dokku_process("ps:scale", app_name, "web=2").code == 0
    wait_for_lines(f"{app_name}.web.2", 1)
    both = dokku_process("logs", app_name, "--num", "1").out.splitlines()
    assert sorted(line.split()[1] for line in both) == ["app[web.1]:", "app[web.2]:"]
    assert both == sorted(both)  # merged in time order
    none = dokku_process("logs", app_name, "-p", "worker")  # Dokku: nothing shown, exit 0
    assert (none.code, none.out, none.err) == (0, "", f" !     No worker processes running for {app_name}\n")
    refused = dokku_process("logs", app_name, "-n", "x")
    assert (refused.code, refused.out, refused.err) == (1, "", " !     -n takes a number of lines, not 'x'\n")


def test_logs_on_a_terminal_are_coloured_as_dokku_colours_them(dokku_process, deploy, app_name, talking_image, env):
    import pty

    assert deploy(app_name, talking_image).code == 0
    wait_for_lines(f"{app_name}.web.1", 1)
    leader, follower = pty.openpty()
    done = subprocess.run([str(DOKKU_BIN), "logs", app_name, "-n", "1"], stdout=follower, stderr=subprocess.PIPE,
                          env={**os.environ, **env.variables}, check=False)  # fmt: skip
    os.close(follower)
    shown = os.read(leader, 65536).decode()
    os.close(leader)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(rf"\x1b\[36m{STAMP} app\[web\.1\]:\x1b\[0m line-\d+\r\n", shown), repr(shown)


def test_logs_tail_follows_until_the_app_stops(dokku_process, deploy, app_name, talking_image):
    assert deploy(app_name, talking_image).code == 0
    follow = subprocess.Popen([str(DOKKU_BIN), "logs", app_name, "-t", "-n", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert follow.stdout is not None
        first = follow.stdout.readline()
        assert re.fullmatch(rf"{STAMP} app\[web\.1\]: line-\d+\n", first), first
        assert dokku_process("ps:stop", app_name).code == 0
        assert follow.wait(timeout=30) == 0
    finally:
        follow.kill()


def test_logs_of_an_app_never_deployed(dokku_process, app):
    result = dokku_process("logs", app)
    assert (result.code, result.out, result.err) == (1, "", f" !     App {app} has not been deployed\n")


def test_logs_failed_shows_what_the_last_failed_deploy_said_until_a_deploy_succeeds(dokku, app_name, images):
    dokku("apps:create", app_name)
    assert dokku("logs:failed", app_name).out == f"=====> {app_name} failed deploy logs\n"
    assert dokku("logs:failed", app_name).err == " !     No failed containers found\n"
    dokku("config:set", "--no-restart", app_name, "DOKKU_DEFAULT_CHECKS_WAIT=1")
    assert dokku("git:from-image", app_name, images.crashing).code == 1
    shown = dokku("logs:failed", app_name)
    assert (shown.code, shown.err) == (0, "")
    heading, *said = shown.out.splitlines()  # stdout and stderr: their order within a second is the engine's
    assert (heading, sorted(said)) == (f"=====> {app_name} failed deploy logs", ["crashed", "starting"])
    every = dokku("logs:failed", "--all")
    assert f"-----> Running logs:failed against app {app_name}\n=====> {app_name} failed deploy logs\n" in every.out
    assert dokku("git:from-image", app_name, images.v1).code == 0
    assert dokku("logs:failed", app_name).err == " !     No failed containers found\n"
    missing = dokku("logs:failed", "no-such-app")
    assert (missing.code, missing.err) == (20, " !     App no-such-app does not exist\n")
