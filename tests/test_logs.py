"""logs on the real engine: the last lines of every process with Dokku's prefix, raw with -q, one
process type with -p, followed with -t until the app stops."""

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
    assert re.fullmatch(rf"({STAMP} {app_name}\[web\.1\]: line-\d+\n){{2}}", shown.out), shown.out
    raw = dokku_process("logs", app_name, "-n", "1", "-q")
    assert re.fullmatch(r"line-\d+\n", raw.out), raw.out
    assert dokku_process("ps:scale", app_name, "web=2").code == 0
    wait_for_lines(f"{app_name}.web.2", 1)
    both = dokku_process("logs", app_name, "--num", "1").out.splitlines()
    assert sorted(line.split()[1] for line in both) == [f"{app_name}[web.1]:", f"{app_name}[web.2]:"]
    assert both == sorted(both)  # merged in time order
    for args, message in ((("-p", "worker"), f"No worker processes running for {app_name}"),
                          (("-n", "x"), "-n takes a number of lines, not 'x'")):  # fmt: skip
        refused = dokku_process("logs", app_name, *args)
        assert (refused.code, refused.out, refused.err) == (1, "", f" !     {message}\n")


def test_logs_tail_follows_until_the_app_stops(dokku_process, deploy, app_name, talking_image):
    assert deploy(app_name, talking_image).code == 0
    follow = subprocess.Popen([str(DOKKU_BIN), "logs", app_name, "-t", "-n", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert follow.stdout is not None
        first = follow.stdout.readline()
        assert re.fullmatch(rf"{STAMP} {app_name}\[web\.1\]: line-\d+\n", first), first
        assert dokku_process("ps:stop", app_name).code == 0
        assert follow.wait(timeout=30) == 0
    finally:
        follow.kill()


def test_logs_of_an_app_never_deployed(dokku_process, app):
    result = dokku_process("logs", app)
    assert (result.code, result.out, result.err) == (1, "", f" !     App {app} has not been deployed\n")
