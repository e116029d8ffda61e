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
    number = name.rpartition(".")[2]
    # Dokku's JSON: docker container ls's fields (the command quoted, Go's time format).
    listed = json.loads(dokku("run:list", deployed, "--format", "json").out)
    assert [(run["name"], run["state"], run["command"]) for run in listed] == [
        (name, "running", "\"sh -c 'echo hello-from-run; sleep 120'\"")
    ]
    assert list(listed[0]) == ["name", "state", "command", "created_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC", listed[0]["created_at"])
    # Dokku's table: NAMES, COMMAND, CREATED padded as docker pads them.
    text = dokku("run:list", deployed).out.splitlines()
    command = "\"sh -c 'echo hello-from-run; sleep 120'\""
    assert text[0] == f"=====> {deployed} run containers"
    assert text[1] == "NAMES".ljust(len(name) + 3) + "COMMAND".ljust(len(command) + 3) + "CREATED"
    assert re.fullmatch(rf"{re.escape(name)}   {re.escape(command)}   (Less than a second|\d+ seconds?) ago", text[2])
    assert dokku("run:list", deployed, "--format", "stdout").out.splitlines()[:2] == text[:2]
    quiet = dokku("--quiet", "run:list", deployed).out  # Dokku's quiet listing: the rows alone
    assert re.fullmatch(rf"{re.escape(name)}   {re.escape(command)}   (Less than a second|\d+ seconds?) ago\n", quiet)
    wait_until(lambda: "hello-from-run" in docker("logs", name))
    expected = rf"\S+Z app\[{number}\]: hello-from-run\n"
    for form in ((deployed,), ("--container", name), (deployed, name), (deployed, "--container", name)):
        logs = dokku_process("run:logs", *form)
        assert (logs.code, logs.err) == (0, "") and re.fullmatch(expected, logs.out), (form, logs.out)
    assert dokku_process("run:logs", "--container", name, "-q").out == "hello-from-run\n"
    stopped = dokku("run:stop", "--container", name)
    assert (stopped.code, stopped.out, stopped.err) == (0, f"{name}\n", "")
    assert run_containers(deployed) == []
    assert json.loads(dokku("run:list", deployed, "--format", "json").out) == []
    missing = dokku("run:stop", "--container", name)
    assert (missing.code, missing.out, missing.err) == (0, "", " !     Specified container does not exist\n")
    assert (dokku("run:stop", deployed).out, dokku("--quiet", "run:stop", deployed).out) == (
        "No run containers exist\n",
        "",
    )


def test_run_stop_of_an_app_stops_every_run_and_the_older_form_stays(dokku, dokku_process, deployed):
    names = sorted(dokku_process("run:detached", deployed, "sleep", "120").out.strip() for _ in range(2))
    assert run_containers(deployed) == names
    stopped = dokku("run:stop", deployed)
    assert (stopped.code, sorted(stopped.out.splitlines())) == (0, names)
    assert run_containers(deployed) == []
    again = dokku_process("run:detached", deployed, "sleep", "120").out.strip()
    assert dokku("run:stop", deployed, again).out == f"{again}\n"  # our older `run:stop <app> <name>`
    assert run_containers(deployed) == []


def test_run_targets_are_checked_as_dokku_checks_them(dokku, deployed):
    for args, message in (
        ((), "No container or app specified"),
        (("--container", "no-dots"), "Invalid container name specified: no-dots"),
        (("--container", f"{deployed}.web.1"), "Specified container must be a run container"),
        ((deployed, "--container", "other.run.1234"), "Specified app does not app in container name"),
        (("--container", "missing-app.run.1234"), "App missing-app does not exist"),
    ):
        for command in ("run:logs", "run:stop"):
            refused = dokku(command, *args)
            code = 20 if "does not exist" in message else 1  # a missing app's exit status, as everywhere
            assert (refused.code, refused.out, refused.err) == (code, "", f" !     {message}\n"), (command, args)


def test_runs_carry_dokku_s_deadline_labels_and_a_forced_tty(dokku, dokku_process, deployed):
    name = dokku_process("--label=com.example.team=storage", "run:detached", "--force-tty", deployed,
                         "sleep", "120").out.strip()  # fmt: skip
    labels = json.loads(docker("inspect", "--format", "{{json .Config.Labels}}", name))
    assert labels["com.dokku.active-deadline-seconds"] == "86400"
    assert labels["com.example.team"] == "storage"
    assert docker("inspect", "--format", "{{.Config.Tty}} {{.Config.OpenStdin}}", name) == "true true"
    dokku("run:stop", deployed)
    plain = dokku_process("run:detached", "--ttl-seconds", "600", deployed, "sleep", "120").out.strip()
    assert docker("inspect", "--format", '{{index .Config.Labels "com.dokku.active-deadline-seconds"}}', plain) == "600"
    assert docker("inspect", "--format", "{{.Config.Tty}}", plain) == "false"
    dokku("run:stop", deployed)
    for args, message in (
        (("run", "--no-tty", "--force-tty", deployed, "true"), "Cannot specify both --force-tty and --no-tty"),
        (("--label=com.dokku.x=1", "run", deployed, "true"),
         "Labels beginning with com.dokku or org.label-schema are reserved: com.dokku.x"),
        (("--label==v", "run", deployed, "true"), "Invalid label: '=v' (expected --label=KEY=VALUE)"),
    ):  # fmt: skip
        refused = dokku(*args)
        assert (refused.code, refused.err) == (1, f" !     {message}\n"), args
    assert run_containers(deployed) == []


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
            " !     --ttl-seconds must be a positive integer\n",
        )


def test_a_ttl_default_for_every_run_of_the_app(dokku, dokku_process, deployed):
    refused = dokku("scheduler-docker-local:set", deployed, "ttl-seconds", "soon")
    assert refused.err == " !     Invalid value for ttl-seconds: soon (expected a positive number of seconds)\n"
    assert dokku("scheduler-docker-local:set", deployed, "ttl-seconds", "2").code == 0
    assert dokku_process("run:detached", deployed, "sleep", "120").code == 0
    wait_until(lambda: run_containers(deployed) == [])
