"""storage:usage and the usage rows of storage:info / list-entries / report: sizes as `du` counts them,
free space, last snapshot age, the cache and its invalidation."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest

from conftest import docker
from pydokku import treewalk


def du(path: str, *flags: str) -> int:
    return int(subprocess.run(["du", "-s", *flags, path], capture_output=True, text=True, check=True).stdout.split()[0])


def plant_tree(root):
    """Nested folders, a hard-linked pair, a sparse file and a link out of the tree."""
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "one.txt").write_bytes(b"1" * 5000)
    (root / "a" / "b" / "two.bin").write_bytes(b"2" * 70000)
    os.link(root / "a" / "one.txt", root / "a" / "b" / "same-as-one")
    with open(root / "sparse", "wb") as sparse:
        sparse.truncate(10 * 1024 * 1024)
    os.symlink("/usr", root / "a" / "outside")


@pytest.mark.parametrize("walker", ["c", "python"])
def test_measure_counts_what_du_counts_and_never_follows_links(tmp_path, monkeypatch, walker):
    if walker == "c":
        pytest.importorskip("pydokku._treewalk")
    else:
        monkeypatch.setitem(sys.modules, "pydokku._treewalk", None)  # as if it was not built
    plant_tree(tmp_path)
    size = treewalk.measure(str(tmp_path))
    assert size.disk_bytes == du(str(tmp_path), "-B1")
    assert size.apparent_bytes == du(str(tmp_path), "-B1", "--apparent-size")
    assert size.files + size.directories == du(str(tmp_path), "--inodes")
    assert (size.files, size.directories, size.other_filesystem) == (4, 3, 0)  # one.txt once, two.bin, sparse, link


def test_measure_refuses_a_link_as_root(tmp_path):
    (tmp_path / "link").symlink_to("/usr")
    with pytest.raises(OSError):
        treewalk.measure(str(tmp_path / "link"))


def cells(line: str) -> list[str]:
    return re.split(r" {2,}", line.strip())


FREE = re.compile(r"^\d+(\.\d)? (B|KiB|MiB|GiB|TiB) of \d+(\.\d)? (B|KiB|MiB|GiB|TiB)$")


def test_usage_table_is_sorted_by_size(dokku, env):
    dokku("storage:create", "small")
    dokku("storage:create", "big")
    dokku("storage:create", "gone")
    (env.storage_root / "big" / "file").write_bytes(b"x" * 300000)
    (env.storage_root / "gone").rmdir()
    result = dokku("storage:usage")
    assert (result.code, result.err) == (0, "")
    assert result.lines[0] == "-----> Storage usage"
    rows = [cells(line) for line in result.lines[1:]]
    big = du(str(env.storage_root / "big"), "-B1")
    assert rows[0] == ["Name", "Used", "Files", "Free", "Last snapshot", "Host path"]
    assert [row[:3] for row in rows[1:]] == [["big", f"{big / 1024:.1f} KiB", "1"], ["small", "4.0 KiB", "0"],
                                             ["gone", "missing", "-"]]  # fmt: skip
    assert all(FREE.match(row[3]) for row in rows[1:])
    assert [row[4:] for row in rows[1:]] == [
        ["never", str(env.storage_root / name)] for name in ("big", "small", "gone")
    ]
    assert all(line.startswith("       ") for line in result.lines[1:])


def test_usage_json_selection_and_last_snapshot(dokku, env):
    dokku("apps:create", "web-app")
    for name in ("media", "cache", "other"):
        dokku("storage:create", name)
    dokku("storage:mount", "web-app", "media", "--container-dir", "/media")
    dokku("storage:mount", "web-app", "cache", "--container-dir", "/cache")
    (env.storage_root / "media" / "a").write_bytes(b"m" * 9000)
    with sqlite3.connect(env.lib_root / "pydokku.db") as connection:
        (entry_id,) = connection.execute("SELECT id FROM storage_entries WHERE name = 'media'").fetchone()
        connection.execute("INSERT INTO backup_status (entry_id, snapshot, finished_at) VALUES (?, 'abc', ?)",
                           (entry_id, int(time.time()) - 3700))  # fmt: skip
    shown = json.loads(dokku("storage:usage", "--app", "web-app", "--format", "json").out)
    assert [item["name"] for item in shown] == ["media", "cache"]
    media = shown[0]
    assert media["host_path"] == str(env.storage_root / "media")
    assert (media["state"], media["files"], media["directories"], media["cached"]) == ("measured", 1, 1, False)
    assert media["disk_bytes"] == du(media["host_path"], "-B1")
    assert media["apparent_bytes"] == du(media["host_path"], "-B1", "--apparent-size")
    assert media["free_bytes"] > 0 and media["filesystem_bytes"] >= media["free_bytes"]
    assert 3700 <= media["last_snapshot_age_seconds"] < 3800
    assert shown[1]["last_snapshot_at"] is None
    text = dokku("storage:usage", "media")
    assert cells(text.lines[2])[4] == "1h 1m ago"
    assert [item["name"] for item in json.loads(dokku("storage:usage", "other", "cache", "--format", "json").out)] == [
        "cache", "other"]  # fmt: skip
    assert len(json.loads(dokku("storage:usage", "--all", "--format", "json").out)) == 3


def test_usage_refusals_change_nothing(dokku, env):
    dokku("apps:create", "web-app")
    dokku("storage:create", "media")
    before = env.snapshot()
    for args, message in (
        (("nope",), 'storage entry "nope" does not exist'),
        (("media", "--app", "web-app"), "Specify storage entry names or --app, not both"),
        (("media", "--all"), "Specify --all alone, without storage entry names or --app"),
        (("--app", "missing-app"), "App missing-app does not exist"),
        (("--format", "yaml"), "Invalid --format value specified"),
    ):
        result = dokku("storage:usage", *args)
        code = 20 if "missing-app" in args else 1  # Dokku's exit code for a missing app
        assert (result.code, result.out, result.err) == (code, "", f" !     {message}\n"), args
    assert env.snapshot() == before


def test_usage_with_no_entries(dokku):
    assert dokku("storage:usage").out == "-----> No storage entries registered\n"
    assert dokku("storage:usage", "--format", "json").out == "[]\n"


def usage_of(dokku, *args: str) -> dict:
    (shown,) = json.loads(dokku("storage:usage", *args, "--format", "json").out)
    return shown


@pytest.fixture
def own_filesystem(tmp_path):
    """A folder on a file system of its own (tmpfs): no other test creates files there, so nothing but
    the test changes the inode count the cache is keyed on."""
    folder = tmp_path / "own-fs"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_the_cache_answers_until_something_changes(dokku, env, own_filesystem):
    media = own_filesystem / "media"
    dokku("storage:create", "media", str(media))
    first = usage_of(dokku, "media")
    assert (first["cached"], first["files"]) == (False, 0)
    assert usage_of(dokku, "media")["cached"] is True
    (media / "new").write_text("x")
    changed = usage_of(dokku, "media")
    assert (changed["cached"], changed["files"]) == (False, 1)
    assert usage_of(dokku, "media")["cached"] is True
    assert usage_of(dokku, "media", "--refresh")["cached"] is False
    (media / "sub").mkdir()  # a folder too: the inode count, and the root's mtime
    assert (usage_of(dokku, "media")["cached"], usage_of(dokku, "media")["directories"]) == (False, 2)
    (env.lib_root / "storage-usage.json").write_text("{not json")
    assert usage_of(dokku, "media")["files"] == 1  # an unreadable cache is measured again
    assert oct(os.stat(env.lib_root / "storage-usage.json").st_mode & 0o777) == "0o600"


def test_info_rows(dokku, env):
    dokku("storage:create", "media")
    (env.storage_root / "media" / "a").write_bytes(b"m" * 100)
    lines = dokku("storage:info", "media").lines
    disk = du(str(env.storage_root / "media"), "-B1")
    assert lines[:3] == ["-----> Storage entry media", "       Scheduler:        docker-local",
                         f"       Host path:        {env.storage_root / 'media'}"]  # fmt: skip
    assert lines[3] == f"       Used:             {disk / 1024:.1f} KiB ({disk} bytes)"
    assert lines[4] == "       Files:            1 file, 1 directory"
    assert re.fullmatch(r"       Measured:         \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ( \(cached\))?", lines[5])
    assert FREE.match(lines[6].removeprefix("       Free:             "))
    assert lines[7:] == ["       Last snapshot:    never"]
    (env.storage_root / "media").rename(env.storage_root / "elsewhere")
    assert dokku("storage:info", "media").lines[3:] == [
        "       Used:             missing", lines[6], "       Last snapshot:    never"]  # fmt: skip
    listed = json.loads(dokku("storage:list-entries", "--format", "json").out)
    assert listed[0]["usage"]["state"] == "missing"
    assert dokku("storage:list-entries").lines == [  # text rows stay Dokku's three fields
        "-----> Storage entries:", f"       media\tdocker-local\t{env.storage_root / 'media'}"]  # fmt: skip


def test_usage_figures_are_not_report_flags(dokku, env):
    """storage:report carries Dokku's nine attachment keys only; usage is storage:usage's and storage:info's."""
    dokku("apps:create", "web-app")
    dokku("storage:create", "media")
    dokku("storage:mount", "web-app", "media", "--container-dir", "/media")
    used = dokku("storage:report", "web-app", "--storage-attachment.1.used-bytes")
    assert (used.code, used.out) == (1, "")
    assert used.err.startswith(" !     Invalid flag passed, valid flags: --storage-attachment.1.container-path, ")
    assert "used-bytes" not in dokku("storage:report", "web-app", "--format", "json").out


def test_a_swarm_entry_is_not_measured_from_this_host(dokku, env):
    dokku("storage:create", "far")
    with sqlite3.connect(env.lib_root / "pydokku.db") as connection:  # as storage:create --node leaves it
        connection.execute("UPDATE storage_entries SET scheduler = 'docker-swarm', node = 'node2' WHERE name = 'far'")
    shown = usage_of(dokku, "far")
    assert (shown["state"], shown["problem"]) == ("on-node", "on swarm node node2, not measured from this host")
    assert (
        "       Used:             on swarm node node2, not measured from this host"
        in dokku("storage:info", "far").lines
    )
    dokku("storage:create", "shared", "shared-volume")
    with sqlite3.connect(env.lib_root / "pydokku.db") as connection:  # as storage:create --volume-driver leaves it
        connection.execute(
            "UPDATE storage_entries SET scheduler = 'docker-swarm', volume_driver = 'nfs' WHERE name = 'shared'"
        )
    shown = usage_of(dokku, "shared")
    assert (shown["state"], shown["problem"]) == (
        "not-local",
        "a swarm volume (driver nfs), not measured from this host",
    )


@pytest.mark.usefixtures("engine")
def test_a_named_volume_is_measured_where_docker_keeps_it(dokku):
    volume = f"pydokku-test-{uuid.uuid4().hex[:8]}"
    docker("volume", "create", volume)
    try:
        dokku("storage:create", "vol", volume)
        mountpoint = docker("volume", "inspect", "--format", "{{.Mountpoint}}", volume)
        with open(os.path.join(mountpoint, "data"), "wb") as data:
            data.write(b"v" * 20000)
        shown = usage_of(dokku, "vol")
        assert (shown["state"], shown["files"], shown["apparent_bytes"]) == (
            "measured",
            1,
            20000 + os.stat(mountpoint).st_size,
        )
        dokku("storage:create", "novol", f"{volume}-absent")
        assert usage_of(dokku, "novol")["state"] == "missing"
    finally:
        docker("volume", "rm", "-f", volume)


def test_faults_leave_usage_working(dokku, env, monkeypatch):
    dokku("storage:create", "media")
    dokku("storage:create", "vol", "some-volume")
    (env.lib_root / "storage-usage.json").mkdir()  # the cache cannot be read or written
    monkeypatch.setenv("DOCKER_HOST", f"unix://{env.root}/no-engine.sock")  # nor the engine reached
    result = dokku("storage:usage", "--format", "json")
    assert (result.code, result.err) == (0, "")
    shown = {item["name"]: item for item in json.loads(result.out)}
    assert (shown["media"]["state"], shown["media"]["cached"]) == ("measured", False)
    assert shown["vol"]["state"] == "unreadable"
    assert shown["vol"]["problem"].startswith("Unable to reach the Docker engine")
    assert sorted(os.listdir(env.lib_root / "storage-usage.json")) == []


def test_text_listings_measure_nothing(dokku, env):
    dokku("storage:create", "media")
    assert dokku("storage:list-entries").code == 0
    assert dokku("storage:report", "--global").code == 0
    assert not (env.lib_root / "storage-usage.json").exists()  # no walk, no cache
