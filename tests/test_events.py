"""The audit trail: one event per command that changed state, written with its change; events,
events:on/off. A walk of the command table keeps every command declared and every changing one covered."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import tarfile

import pytest

from conftest import DOKKU_BIN
from pydokku.audit import KINDS
from pydokku.registry import PLUGINS

COMMANDS = {command.name: command for plugin in PLUGINS for command in plugin.commands()}
# Changing commands whose success needs the swarm or its registry: their events are checked in
# test_swarm_scheduler.py.
ELSEWHERE = {"storage:move", "registry:login", "registry:logout"}


def events(dokku, *args: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    result = dokku("events", "--format", "json", *args)
    assert result.code == 0, result.err
    found: list[dict[str, object]] = json.loads(result.out)
    return found


def test_every_command_declares_what_it_changes():
    for name, command in COMMANDS.items():
        assert command.audit in KINDS, name
        assert not (command.acts and command.audit is None), name


def tar_of(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_every_changing_command_leaves_exactly_one_event(dokku, env, app_name, images, tmp_path):
    a1, a2, a3 = app_name, f"{app_name}-b", f"{app_name}-c"
    restored = tmp_path / "restored"
    envfile = tmp_path / "imported.env"
    envfile.write_text("IMPORTED=1\n")
    (tmp_path / "legacy").mkdir()
    steps: list[tuple[tuple[str, ...], list[str], list[str]]] = [
        (("apps:create", a1), [a1], []),
        (("apps:clone", a1, a2), [a1, a2], []),
        (("apps:rename", a2, a3), [a2, a3], []),
        (("apps:lock", a3), [a3], []),
        (("apps:unlock", a3), [a3], []),
        (("config:set", "--no-restart", a1, "TOKEN=s3cr3t-value"), [a1], []),
        (("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0"), [], []),
        (("config:unset", "--no-restart", a1, "TOKEN"), [a1], []),
        (("config:set", "--no-restart", a1, "CLEARED=1"), [a1], []),
        (("config:clear", "--no-restart", a1), [a1], []),
        (("config:import", "--no-restart", a1, str(envfile)), [a1], []),
        (("docker-options:add", a1, "deploy", "-e DB_PASSWORD=hunter2"), [a1], []),
        (("docker-options:remove", a1, "deploy", "-e DB_PASSWORD=hunter2"), [a1], []),
        (("docker-options:add", a1, "deploy", f"-v {tmp_path}/legacy:/legacy"), [a1], []),
        (("storage:migrate", a1), [a1], []),
        (("storage:repair", a1), [a1], []),
        (("docker-options:add", a1, "run", "--label audit=1"), [a1], []),
        (("docker-options:clear", a1, "run"), [a1], []),
        (("storage:create", "audited"), [], ["audited"]),
        (("storage:mount", a1, "audited", "--container-dir", "/data"), [a1], ["audited"]),
        (("storage:unmount", a1, "audited", "--container-dir", "/data"), [a1], ["audited"]),
        (("storage:set", "audited", "mode", "0750"), [], ["audited"]),
        (("storage:labels:set", "audited", "team", "a"), [], ["audited"]),
        (("storage:annotations:set", "audited", "note", "b"), [], ["audited"]),
        (("storage:ensure-directory", "--chown", "false", f"{a1}-dir"), [], []),
        (("storage:backup-set", "audited", "keep-last", "3"), [], ["audited"]),
        (("storage:backup-auth", "audited", "AWS_SECRET_ACCESS_KEY=very-secret"), [], ["audited"]),
        (("storage:backup-deauth", "audited"), [], ["audited"]),
        (("storage:backup", "audited"), [], ["audited"]),
        (("storage:backup-prune", "audited"), [], ["audited"]),
        (("storage:backup-restore", "audited", "latest", "--to", str(restored)), [], ["audited"]),
        (("storage:exec", "audited", "--", "true"), [], ["audited"]),
        (("scheduler:set", a1, "selected", "docker-local"), [a1], []),
        (("scheduler-docker-local:set", a1, "disable-chown", "true"), [a1], []),
        (("scheduler-docker-swarm:set", a1, "node", "node1"), [a1], []),
        (("scheduler-docker-swarm:set", a1, "node"), [a1], []),
        (("registry:set", a1, "server", "registry.example:5000"), [a1], []),
        (("ps:set", a1, "restart-policy", "no"), [a1], []),
        (("ps:scale", a1, "web=1", "--skip-deploy"), [a1], []),
        (("git:from-image", a1, images.v1), [a1], []),
        (("ps:stop", a1), [a1], []),
        (("ps:start", a1), [a1], []),
        (("ps:restart", a1), [a1], []),
        (("ps:rebuild", a1), [a1], []),
        (("run", a1, "true"), [a1], []),
        (("run:detached", a1, "sleep", "60"), [a1], []),
        (("events:on",), [], []),
        (("events:off",), [], []),
        (("apps:destroy", a3, "--force"), [a3], []),
        (("storage:destroy", "audited", "--force"), [], ["audited"]),
    ]
    covered = {args[0] for args, _, _ in steps} | {"storage:import", "run:stop"}
    changing = {name for name, command in COMMANDS.items() if command.audit is not None}
    assert changing - ELSEWHERE == covered
    count = 0
    for args, apps, entries in steps:
        result = dokku(*args, stdin="")
        assert result.code == 0, (args, result.err)
        found = events(dokku)
        assert len(found) == count + 1, (args, found[count:])
        count += 1
        last = found[-1]
        assert (last["command"], last["apps"], last["entries"], last["exit_code"]) == (args[0], apps, entries, 0)
        if args[0] == "run:detached":
            assert dokku("run:stop", a1, result.out.strip()).code == 0
            count += 1
            assert events(dokku)[-1]["command"] == "run:stop"
        if args[0] == "storage:create":
            imported = subprocess.run([str(DOKKU_BIN), "storage:import", "audited"], input=tar_of("f", b"x"),
                                      capture_output=True, check=False)  # fmt: skip
            assert imported.returncode == 0, imported.stderr
            count += 1
            assert events(dokku)[-1]["command"] == "storage:import"
    shown = dokku("events").out
    for secret in ("s3cr3t-value", "hunter2", "very-secret"):
        assert secret not in shown
    assert f"dokku config:set --no-restart {a1} TOKEN=<redacted> (exit 0)\n" in shown
    assert f"dokku docker-options:add {a1} deploy -e DB_PASSWORD=<redacted> (exit 0)\n" in shown
    assert "dokku storage:backup-auth audited AWS_SECRET_ACCESS_KEY=<redacted> (exit 0)\n" in shown


def test_looking_and_failing_without_a_change_leave_no_event(dokku, env, app):
    before = len(events(dokku))
    for args in (("apps:list",), ("storage:report", app), ("config:show", app), ("apps:create", app),
                 ("storage:mount", app, "missing-entry"), ("ps:scale", "no-such-app", "web=1"),
                 ("storage:create", "audited"), ("storage:create", "audited")):  # fmt: skip
        dokku(*args)
    after = events(dokku)
    assert [event["command"] for event in after[before:]] == ["storage:create"]  # the second one changed nothing


def test_events_filters_formats_and_refusals(dokku, env, app):
    assert dokku("storage:create", "audited").code == 0
    assert dokku("storage:mount", app, "audited", "--container-dir", "/data").code == 0
    assert dokku("config:set", "--no-restart", app, "A=1").code == 0
    assert [e["command"] for e in events(dokku, "--app", app)] == ["apps:create", "storage:mount", "config:set"]
    assert [e["command"] for e in events(dokku, "--entry", "audited")] == ["storage:create", "storage:mount"]
    assert [e["command"] for e in events(dokku, "-n", "1")] == ["config:set"]
    assert len(events(dokku, "--since", "1h")) == 4
    assert events(dokku, "--since", "2999-01-01") == []
    text = dokku("events", "-n", "1").out
    user = events(dokku)[-1]["actor"]
    assert text.endswith(f" {user} dokku config:set --no-restart {app} A=<redacted> (exit 0)\n")
    for args, message in (
        (
            ("--since", "yesterday"),
            "--since takes a duration (90s, 10m, 2h, 7d) or an ISO 8601 date or time, not 'yesterday'",
        ),
        (("-n", "x"), "-n takes a number of events, not 'x'"),
        (("--format", "yaml"), '--format must be "text" or "json": "yaml"'),
    ):
        result = dokku("events", *args)
        assert (result.code, result.out, result.err) == (1, "", f" !     {message}\n")


def test_the_actor_is_the_sudoer_then_the_ssh_key_name(dokku, env, monkeypatch):
    monkeypatch.setenv("NAME", "deploy-key")
    assert dokku("storage:create", "one").code == 0
    monkeypatch.setenv("SUDO_USER", "alice")
    assert dokku("storage:create", "two").code == 0
    assert [e["actor"] for e in events(dokku)] == ["deploy-key", "alice"]


def test_events_on_mirrors_each_event_to_syslog(dokku, env, tmp_path, monkeypatch):
    path = tmp_path / "log.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sink:
        sink.bind(str(path))
        sink.settimeout(5)
        monkeypatch.setenv("DOKKU_SYSLOG_SOCKET", str(path))
        monkeypatch.setenv("SUDO_USER", "alice")
        on = dokku("events:on")
        assert (on.code, on.out) == (0, "-----> Enabling dokku events logger\n")
        assert sink.recv(4096).decode() == f"<13>dokku[{os.getpid()}]: alice dokku events:on (exit 0)"
        assert dokku("storage:create", "mirrored").code == 0
        assert sink.recv(4096).decode().endswith("alice dokku storage:create mirrored (exit 0)")
        off = dokku("events:off")
        assert (off.code, off.out) == (0, "-----> Disabling dokku events logger\n")
        assert dokku("storage:create", "quiet").code == 0
        sink.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sink.recv(4096)
