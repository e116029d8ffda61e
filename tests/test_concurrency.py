"""Many `dokku` processes at once, and processes killed mid-write: the store stays whole."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import time

from conftest import DOKKU_BIN


def spawn(env, *args: str) -> subprocess.Popen[str]:
    import os

    return subprocess.Popen(
        [str(DOKKU_BIN), *args],
        env={**os.environ, **env.variables},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_fifty_concurrent_mounts_all_land(dokku, app, env):
    for n in range(50):
        (env.root / f"d{n}").mkdir()
    processes = [spawn(env, "storage:mount", app, f"{env.root}/d{n}:/mnt/{n}") for n in range(50)]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in processes]
    assert results == [(0, "")] * 50
    listed = dokku("--quiet", "storage:list", app).lines
    assert sorted(listed) == sorted(f"{env.root}/d{n}:/mnt/{n}" for n in range(50))


def test_concurrent_duplicate_mounts_land_once(dokku, app, env, host_dir):
    processes = [spawn(env, "storage:mount", app, f"{host_dir}:/app/storage") for _ in range(10)]
    codes = sorted(p.wait(timeout=120) for p in processes)
    assert codes == [0] + [1] * 9
    assert dokku("--quiet", "storage:list", app).lines == [f"{host_dir}:/app/storage"]


def test_sigkill_mid_write_leaves_whole_transactions(dokku, app, env):
    # A clone copies every option of the source in one transaction: a killed clone either
    # exists with all of them or does not exist at all.
    with sqlite3.connect(env.lib_root / "pydokku.db") as connection:
        app_id = connection.execute("SELECT id FROM apps WHERE name = ?", (app,)).fetchone()[0]
        connection.executemany(
            "INSERT INTO docker_options (app_id, phase, option) VALUES (?, 'run', ?)",
            [(app_id, f"--label n{n}=1") for n in range(20000)],
        )
    started = time.monotonic()
    assert spawn(env, "apps:clone", app, "calibration").wait() == 0
    full = time.monotonic() - started
    rng = random.Random(7)
    killed_alive = 0
    for round_ in range(12):
        process = spawn(env, "apps:clone", app, f"clone-{round_}")
        time.sleep(rng.uniform(0.3, 1.0) * full)  # mostly inside the long write that ends the run
        if process.poll() is None:
            killed_alive += 1
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert killed_alive > 0
    with sqlite3.connect(env.lib_root / "pydokku.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    expected = dokku("docker-options:report", app, "--docker-options-run").out
    survivors = [line for line in dokku("--quiet", "apps:list").lines if line.startswith("clone-")]
    for clone in survivors:
        assert dokku("docker-options:report", clone, "--docker-options-run").out == expected
    # The store still takes writes after the kills.
    assert dokku("apps:create", "after-kills").code == 0
