"""Disk and engine work happens outside the write transaction (the SQLite write lock is held only to
record): every directory change, tree walk, child process (restic, tar, docker) and Engine API request
made by these commands is checked against an open `BEGIN IMMEDIATE`."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from pydokku import ownership, store
from pydokku.engine import api


class LockWatch:
    def __init__(self) -> None:
        self.held = False
        self.guarded: list[str] = []
        self.under_lock: list[str] = []

    def guard(self, name: str, function):  # type: ignore[no-untyped-def]
        def guarded(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.guarded.append(name)
            if self.held:
                self.under_lock.append(f"{name}{args[:2]!r}")
            return function(*args, **kwargs)

        return guarded


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> LockWatch:
    watch = LockWatch()
    enter, leave = store.Transaction.__enter__, store.Transaction.__exit__

    def entered(self):  # type: ignore[no-untyped-def]
        connection = enter(self)
        watch.held = watch.held or self._begin == "BEGIN IMMEDIATE"
        return connection

    def left(self, *exc):  # type: ignore[no-untyped-def]
        leave(self, *exc)
        watch.held = False

    monkeypatch.setattr(store.Transaction, "__enter__", entered)
    monkeypatch.setattr(store.Transaction, "__exit__", left)
    for module, name in ((os, "mkdir"), (os, "makedirs"), (os, "rename"), (os, "rmdir"), (os, "chmod"),
                         (shutil, "rmtree"), (ownership, "set_tree_owner"), (api.Api, "request")):  # fmt: skip
        monkeypatch.setattr(module, name, watch.guard(name, getattr(module, name)))
    popen_init = subprocess.Popen.__init__
    monkeypatch.setattr(subprocess.Popen, "__init__", watch.guard("subprocess", popen_init))
    return watch


def test_no_disk_or_engine_work_under_the_write_lock(dokku, watch, app_name, images, env):
    clone, renamed = app_name + "-b", app_name + "-c"
    steps = [
        ("apps:create", app_name),
        ("storage:create", "media", "--chown", "heroku", "--mode", "0750"),
        ("storage:set", "media", "mode", "0700"),
        ("storage:set", "media", "--chown", "1000"),
        ("storage:mount", app_name, "media", "--container-dir", "/media", "--volume-subpath", "a/b"),
        ("storage:ensure-directory", "--chown", "heroku", "plain"),
        ("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0"),
        ("git:from-image", app_name, images.v1),
        ("ps:report", app_name),
        ("storage:backup-set", "media", "quiesce", "pause"),
        ("storage:backup-set", "--global", "keep-last", "2"),
        ("storage:backup-set", "media", "schedule", "@daily"),
        ("storage:backup", "media"),
        ("storage:backup", "--app", app_name),
        ("storage:backup-prune", "media"),
        ("--force", "storage:backup-restore", "media"),
        ("ps:restart", app_name),
        ("config:set", app_name, "KEY=value"),
        ("apps:clone", "--skip-deploy", app_name, clone),
        ("apps:rename", clone, renamed),
        ("ps:stop", app_name),
        ("apps:destroy", "--force", renamed),
        ("apps:destroy", "--force", app_name),
        ("storage:destroy", "media", "--force", "--destroy-host-dir"),
    ]
    for step in steps:
        result = dokku(*step)
        assert result.code == 0, (step, result.err)
    assert {"mkdir", "rename", "rmdir", "chmod", "rmtree", "set_tree_owner", "request", "subprocess"} <= set(
        watch.guarded
    )
    assert watch.under_lock == []
