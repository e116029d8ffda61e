"""run:list, run:logs, run:stop and --ttl-seconds on the real engine."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time

from conftest import DOKKU_BIN, docker


def run_containers(app: str) -> list[str]:
    listed = docker("ps", "--all", "--filter", f"label=com.dokku.app-name={app}", "--filter",
                    "label=com.dokku.container-type=run", "--format", "{{.Names}}")  # fmt: skip
    return sorted(listed.split())


def wait_until(check, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_list_logs_and_stop_a_detached_run(dokku, dokku_process, deployed):
    started = dokku_process("run:detached", deployed, "sh", "-c", "echo hello-from-run; sleep 120")
    assert started.code == 0, started.err
    name = started.out.strip()
    assert re.fullmatch(rf"{deployed}\.run\.\d{{4}}", name)
    listed = json.loads(dokku("run:list", deployed, "--format", "json").out)
    assert [(run["name"], run["state"]) for run in listed] == [(name, "running")]
    assert "sh -c 'echo hello-from-run; sleep 120'" in listed[0]["command"]
    text = dokku("run:list", deployed).out.splitlines()
    assert text[0] == f"=====> {deployed} run containers"
    assert text[1].split() == ["NAME", "STATE", "COMMAND", "CREATED"] and text[2].startswith(f"{name}  running")
    wait_until(lambda: "hello-from-run" in docker("logs", name))
    logs = dokku_process("run:logs", deployed, name)
    dyno = name.removeprefix(f"{deployed}.")
    assert re.fullmatch(rf"\S+Z {deployed}\[{dyno}\]: hello-from-run\n", logs.out), logs.out
    assert dokku_process("run:logs", deployed, name, "-q").out == "hello-from-run\n"
    stopped = dokku("run:stop", deployed, name)
    assert (stopped.code, stopped.out) == (0, f"-----> Stopping {name}\n")
    assert run_containers(deployed) == []
    assert json.loads(dokku("run:list", deployed, "--format", "json").out) == []
    missing = dokku("run:stop", deployed, name)
    assert (missing.code, missing.err) == (
        1,
        f" !     No run container {name} for app {deployed} (dokku run:list {deployed})\n",
    )


def test_ttl_seconds_stops_a_run_whatever_the_client_does(dokku, dokku_process, deployed):
    detached = dokku_process("run:detached", "--ttl-seconds", "2", deployed, "sleep", "120")
    assert detached.code == 0, detached.err
    assert run_containers(deployed) == [detached.out.strip()]
    wait_until(lambda: run_containers(deployed) == [])  # gone although nothing waits for it

    began = time.monotonic()
    attached = dokku_process("run", "--ttl-seconds", "2", deployed, "sleep", "120")
    assert attached.code != 0 and time.monotonic() - began < 30
    assert run_containers(deployed) == []

    client = subprocess.Popen([str(DOKKU_BIN), "run", "--ttl-seconds", "3", deployed, "sleep", "120"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    wait_until(lambda: len(run_containers(deployed)) == 1)
    client.send_signal(signal.SIGKILL)
    client.wait()
    wait_until(lambda: run_containers(deployed) == [])


def test_bad_ttl_is_refused(dokku, app):
    for value in ("0", "x", "-1"):
        result = dokku("run:detached", "--ttl-seconds", value, app, "true")
        assert (result.code, result.err) == (
            1,
            f" !     --ttl-seconds takes a positive number of seconds, not {value!r}\n",
        )


def test_a_ttl_default_for_every_run_of_the_app(dokku, dokku_process, deployed):
    refused = dokku("scheduler-docker-local:set", deployed, "ttl-seconds", "soon")
    assert refused.err == " !     Invalid value for ttl-seconds: soon (expected a positive number of seconds)\n"
    assert dokku("scheduler-docker-local:set", deployed, "ttl-seconds", "2").code == 0
    assert dokku_process("run:detached", deployed, "sleep", "120").code == 0
    wait_until(lambda: run_containers(deployed) == [])
