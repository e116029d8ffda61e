"""Hostile command lines, seeded: every command of every plugin (but those that start containers)
with random hostile words. None may escape the error boundary (` !     Unexpected error` or a
traceback) or exit other than 0, 1, 2 or 20. The 15,000-invocation run behind the issue's figure used
the same generator with other seeds."""

from __future__ import annotations

import io
import os
import random
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest

from conftest import TEST_PREFIX
from pydokku.cli import main
from pydokku.registry import PLUGINS

STARTS_CONTAINERS = frozenset({"run", "run:detached", "git:from-image", "ps:rebuild", "ps:restart", "ps:start",
                               "storage:exec"})  # fmt: skip
HOSTILE = [
    "", " ", "..", "../..", "/", "//", "/tmp", "a b", "'", '"', "$(id)", "`id`", ";ls", "\n", "\t", "é", "жук", "💥",
    "x" * 300, "-", "--", "---", "--format", "--format=json", "json", "yaml", "--quiet", "--force", "--app", ":/x", "/a:/b", "/a:/b:ro", "/a:/b:nocopy", "vol:/x", "vol:/x:ro,rw", "a:b:c:d", "/a:rel", "deploy",
    "build,run", "run", "web=2", "web=-1", "web=x", "=", "KEY=", "=v", "K=V", "-v", "-v /a:/b", "--restart=always",
    "-itv /x:/y", "restart-policy", "stop-timeout-seconds", "mode", "0770", "999", "chown", "heroku", "65536",
    "--chown", "--mode", "--container-dir", "--phase", "--process", "_default_", "--volume-subpath", "a/../b",
    "--volume-chown", "--storage-deploy-mounts", "--storage-attachment.1.entry-name", "--global", "legacy-abc",
    "uploads", "--annotation", "k=v", "--label", "--help", "-h", "--destroy-host-dir", "--all", "true", "false", "1",
    "0", "-1", "\udcff", "keep-last", "schedule", "* * * * *", "quiesce", "pause", "latest", "--to", "--read-data",
    "passphrase", "AWS_X=1", "repository", "sftp-command", "selected", "null", "shell", "k3s",
]  # fmt: skip


@pytest.mark.parametrize("seed", [11, 12])
def test_hostile_command_lines_never_escape_the_error_boundary(env, host_dir, monkeypatch, seed):
    commands = [c.name for p in PLUGINS for c in p.commands() if c.name not in STARTS_CONTAINERS]
    rng = random.Random(seed)
    app = f"{TEST_PREFIX}{os.urandom(4).hex()}"  # commands may ask the engine about it: a name nobody else uses
    words = [*HOSTILE, app, f"{app}:"]
    problems = []

    def call(argv: list[str]) -> None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(rng.choice(["", f"{app}\n", "uploads\n"])))
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(argv)
        if "Traceback" in err.getvalue() or "Unexpected error" in err.getvalue() or code not in (0, 1, 2, 20):
            problems.append((argv, code, err.getvalue()[-300:]))

    for argv in (["apps:create", app], ["storage:create", "uploads"], ["storage:mount", app, f"{host_dir}:/d"]):
        call(argv)
    for _ in range(400):
        argv = [rng.choice(commands)] + [rng.choice(words) for _ in range(rng.randint(0, 5))]
        if rng.random() < 0.1:
            rng.shuffle(argv)
        call(argv)
    assert problems == []
