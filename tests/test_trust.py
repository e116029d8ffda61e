"""The third red team's findings, each reproducer a test: restores, backups, imports and walks that must
not lie or lead out, secrets no other user can read, and disaster recovery that restores what it can."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import stat
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from conftest import DOKKU_BIN
from test_storage_streams import dokku_io


def run_cli(env, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DOKKU_BIN), *args], input=stdin, capture_output=True, text=True, check=False,
        env={**os.environ, **env.variables},
    )  # fmt: skip


def repository(env) -> Path:
    return env.lib_root / "data" / "backups"


def restic(env, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """restic by hand on the default repository, as an attacker with its passphrase would craft it."""
    [key] = (env.lib_root / "secrets" / "backup").glob("repository-*.passphrase")
    variables = {"RESTIC_REPOSITORY": str(repository(env)), "RESTIC_PASSWORD_FILE": str(key),
                 "RESTIC_CACHE_DIR": str(env.root / "restic-cache"), "PATH": os.environ["PATH"]}  # fmt: skip
    done = subprocess.run(["restic", *args], cwd=cwd, env=variables, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def outside(tmp_path) -> Path:
    """A root-owned folder outside the state that nothing may change."""
    path = tmp_path / "outside"
    (path / "dir").mkdir(parents=True)
    (path / "dir" / "file").write_text("outside\n")
    return path


def tree_of(root: Path) -> dict[str, tuple[int, int, int, bytes]]:
    found = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(st.st_mode) else b""
        found[str(path.relative_to(root))] = (st.st_mode, st.st_uid, st.st_gid, content)
    return found


def backed_up_entry(dokku, env, name: str, content: str = "old\n") -> Path:
    assert dokku("storage:create", name).code == 0
    path = env.storage_root / name
    (path / "data.txt").write_text(content)
    done = run_cli(env, "storage:backup", name)
    assert done.returncode == 0, done.stderr
    return path


# -- 1, 7: a restore applies import's checks -----------------------------------------------------------


def test_a_snapshot_whose_top_is_a_symlink_never_becomes_the_entry(dokku, env, tmp_path, outside):
    path = backed_up_entry(dokku, env, "rt-r")
    craft = tmp_path / "craft"
    craft.mkdir()
    (craft / "rt-r").symlink_to(outside)
    restic(env, "backup", "--tag", "entry:rt-r", "rt-r", cwd=craft)
    before = tree_of(outside)
    done = run_cli(env, "--force", "storage:backup-restore", "rt-r")
    assert done.returncode == 1
    assert done.stderr.endswith("does not hold one directory; it was not made by storage:backup\n")
    assert path.is_dir() and not path.is_symlink()
    assert (path / "data.txt").read_text() == "old\n"
    assert tree_of(outside) == before
    assert [p.name for p in env.storage_root.iterdir()] == ["rt-r"]  # no staging left


@pytest.mark.parametrize(
    ("plant", "refusal"),
    [
        (lambda d: os.mkfifo(d / "fifo"), "holds a device node, fifo or socket (fifo)"),
        (
            lambda d: os.mknod(d / "null", 0o600 | stat.S_IFCHR, os.makedev(1, 3)),
            "holds a device node, fifo or socket (null)",
        ),
        (lambda d: (d / "abs").symlink_to("/etc/shadow"), "holds a symlink leading outside it (abs -> /etc/shadow)"),
        (lambda d: (d / "up").symlink_to("../../outside"), "holds a symlink leading outside it (up -> ../../outside)"),
    ],
)
def test_a_restore_refuses_what_an_import_refuses(dokku, env, tmp_path, plant, refusal):
    path = backed_up_entry(dokku, env, "rt-p")
    craft = tmp_path / "craft" / "rt-p"
    craft.mkdir(parents=True)
    (craft / "new.txt").write_text("new\n")
    plant(craft)
    restic(env, "backup", "--tag", "entry:rt-p", "rt-p", cwd=craft.parent)
    done = run_cli(env, "--force", "storage:backup-restore", "rt-p")
    assert done.returncode == 1
    assert done.stderr.startswith(" !     Snapshot ") and done.stderr.endswith(
        f"of storage entry rt-p was not restored: {refusal}\n"
    )
    assert sorted(p.name for p in path.iterdir()) == ["data.txt"]
    assert sorted(p.name for p in env.storage_root.iterdir()) == ["rt-p"]
    assert not (env.lib_root / "data" / "restores").exists()


def test_setuid_files_of_root_lose_their_bit_on_import_and_on_restore(dokku, env, tmp_path):
    path = backed_up_entry(dokku, env, "rt-s")
    craft = tmp_path / "craft" / "rt-s"
    craft.mkdir(parents=True)
    for name, owner in (("root-tool", 0), ("user-tool", 1000)):
        (craft / name).write_text("#!/bin/sh\n")
        os.chown(craft / name, owner, owner)
        os.chmod(craft / name, 0o6755)
    restic(env, "backup", "--tag", "entry:rt-s", "rt-s", cwd=craft.parent)
    done = run_cli(env, "--force", "storage:backup-restore", "rt-s", "--discard-previous")
    assert done.returncode == 0, done.stderr
    assert "       Cleared the setuid/setgid bit of 1 file(s) owned by root: root-tool\n" in done.stdout
    assert stat.S_IMODE((path / "root-tool").stat().st_mode) == 0o755
    assert stat.S_IMODE((path / "user-tool").stat().st_mode) == 0o6755
    archive = tmp_path / "a.tar"
    subprocess.run(["tar", "-cf", str(archive), "--numeric-owner", "-C", str(craft), "."], check=True)
    imported = dokku_io(env, "storage:import", "rt-s", "--replace", "--discard-previous", stdin=archive)
    assert imported.returncode == 0, imported.stderr
    assert b"Cleared the setuid/setgid bit of 1 file(s) owned by root: root-tool\n" in imported.stdout
    assert stat.S_IMODE((path / "root-tool").stat().st_mode) == 0o755


# -- 2: a symlinked entry ------------------------------------------------------------------------------


def test_a_backup_of_a_symlinked_entry_holds_its_data_and_verify_says_so(dokku, env, tmp_path):
    assert dokku("storage:create", "rt-l").code == 0
    entry = env.storage_root / "rt-l"
    disk2 = tmp_path / "disk2" / "rt-l"
    disk2.mkdir(parents=True)
    for index in range(3):
        (disk2 / f"f{index}").write_text(f"{index}\n")
    entry.rmdir()
    entry.symlink_to(disk2)
    done = run_cli(env, "storage:backup", "rt-l")
    assert done.returncode == 0, done.stderr
    assert f"-----> Backing up storage entry rt-l ({entry}, a symbolic link to {disk2}) to" in done.stdout
    assert "Snapshot " in done.stdout and ": 3 files (3 new, 0 changed)" in done.stdout
    copy = tmp_path / "copy"
    restored = run_cli(env, "storage:backup-restore", "rt-l", "--to", str(copy))
    assert restored.returncode == 0, restored.stderr
    assert sorted(p.name for p in copy.iterdir()) == ["f0", "f1", "f2"]
    report = json.loads(dokku("storage:verify", "--all", "--format", "json").out)
    assert {"code": "linked-path", "apps": [], "entry": "rt-l", "path": str(entry), "repairable": False,
            "detail": f"{entry} is a symbolic link to {disk2}: backups read {disk2}; imports and restores refuse to"
                      f" write through it (make it the directory itself, or storage:set rt-l path {disk2})"} in report["problems"]  # fmt: skip


# -- 3, 12: the walkers ---------------------------------------------------------------------------------


@pytest.fixture
def bind_mounted(env, outside):
    inner = env.storage_root / "rt-own" / "inner"
    inner.mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(outside / "dir"), str(inner)], check=True)
    try:
        yield env.storage_root / "rt-own"
    finally:
        subprocess.run(["umount", str(inner)], check=True)


@pytest.mark.parametrize("walker", ["c", "python"])
def test_the_walkers_never_enter_a_bind_mount_of_the_same_file_system(
    dokku, env, outside, bind_mounted, walker, monkeypatch
):
    from pydokku import ownership, treewalk

    if walker == "python":
        monkeypatch.setitem(__import__("sys").modules, "pydokku._treewalk", None)
    result = ownership.set_tree_owner(str(bind_mounted), 4321, 4321)
    assert (result.changed, result.other_filesystem) == (1, 1)
    assert (outside / "dir" / "file").stat().st_uid == 0
    assert bind_mounted.stat().st_uid == 4321
    size = treewalk.measure(str(bind_mounted))
    assert (size.files, size.directories, size.other_filesystem) == (0, 1, 1)


def test_storage_repair_does_not_re_own_through_a_bind_mount(dokku, env, app, outside, bind_mounted):
    assert dokku("storage:create", "rt-own", "--chown", "2000").code == 0
    assert dokku("storage:mount", app, "rt-own", "--container-dir", "/data").code == 0
    os.chown(bind_mounted, 0, 0)
    done = dokku("storage:repair")
    assert done.code == 0, done.err
    assert bind_mounted.stat().st_uid == 2000
    assert (outside / "dir").stat().st_uid == 0 and (outside / "dir" / "file").stat().st_uid == 0


def test_a_chain_deeper_than_the_walker_goes_is_an_error_not_a_smaller_tree(dokku, env):
    assert dokku("storage:create", "rt-deep").code == 0
    root = env.storage_root / "rt-deep"
    fd = os.open(root, os.O_RDONLY)
    for _ in range(1100):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = child
    with open(os.open("file", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as file:
        file.write("deep\n")
    os.close(fd)
    try:
        usage = dokku("storage:usage", "rt-deep", "--refresh")
        assert usage.code == 1
        assert usage.err.startswith(" !     Unable to measure 1 storage entry: ")
        assert usage.err.endswith(": directories nested too deeply to walk\n")
        owned = dokku("storage:set", "rt-deep", "chown", "2000")
        assert owned.code == 1
        assert owned.err.endswith(": directories nested too deeply to walk\n")
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=True)  # deeper than shutil.rmtree recurses


# -- 4, 13, 23: imports --------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", ["none", "zstd"])
def test_a_stream_cut_short_is_refused_and_changes_nothing(dokku, env, tmp_path, compress):
    for name in ("source", "rt-b"):
        assert dokku("storage:create", name).code == 0
    source = env.storage_root / "source"
    for index in range(40):
        (source / f"f{index:02d}").write_bytes(os.urandom(700 * index))
    (env.storage_root / "rt-b" / "old.txt").write_text("old data\n")
    full = tmp_path / "full"
    assert dokku_io(env, "storage:export", "source", "--compress", compress, stdout=full).returncode == 0
    data = full.read_bytes()
    members_end = len(data)  # a compressed stream cut anywhere is damaged
    if compress == "none":  # a plain one ends with its last member's data: the marker and padding follow
        with tarfile.open(full) as whole:
            members_end = max(m.offset_data + -(-m.size // 512) * 512 for m in whole.getmembers())
    cuts = sorted({512, 1024, 1536, *(512 * k for k in range(3, 60, 7)), *range(600, members_end, members_end // 25)})
    before = tree_of(env.storage_root)
    for cut in [c for c in cuts if c < members_end]:
        piece = tmp_path / "piece"
        piece.write_bytes(data[:cut])
        done = dokku_io(env, "storage:import", "rt-b", "--replace", "--discard-previous", stdin=piece)
        assert done.returncode == 1, (cut, done.stderr)
        assert done.stderr.startswith(b" !     "), done.stderr
        assert tree_of(env.storage_root) == before, cut
    whole = dokku_io(env, "storage:import", "rt-b", "--replace", "--discard-previous", stdin=full)
    assert whole.returncode == 0, whole.stderr
    assert sorted(p.name for p in (env.storage_root / "rt-b").iterdir()) == sorted(p.name for p in source.iterdir())


def one_file_tar(name: str, data: bytes) -> bytes:
    """A GNU tar archive of one regular file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_stream_without_its_end_marker_is_named_so(dokku, env, tmp_path):
    assert dokku("storage:create", "rt-b").code == 0
    cut = tmp_path / "cut.tar"
    cut.write_bytes(
        one_file_tar("./a.txt", b"abc\n")[:1024]
    )  # a whole member, no end-of-archive marker: GNU tar exits 0
    done = dokku_io(env, "storage:import", "rt-b", stdin=cut)
    assert (done.returncode, done.stderr) == (
        1, b" !     The archive is incomplete: it ends before its end-of-archive marker (cut short?); refusing it\n",
    )  # fmt: skip
    assert list((env.storage_root / "rt-b").iterdir()) == []


def test_an_archive_without_a_root_member_keeps_the_root_mode_and_owner(dokku, env, tmp_path):
    assert dokku("storage:create", "rt-m").code == 0
    root = env.storage_root / "rt-m"
    os.chown(root, 2000, 3000)
    os.chmod(root, 0o2750)
    (root / "old").write_text("old\n")
    given = tmp_path / "noroot.tar"
    given.write_bytes(one_file_tar("a.txt", b"a\n"))
    done = dokku_io(env, "storage:import", "rt-m", "--replace", "--discard-previous", stdin=given)
    assert done.returncode == 0, done.stderr
    found = root.stat()
    assert (stat.S_IMODE(found.st_mode), found.st_uid, found.st_gid) == (0o2750, 2000, 3000)
    assert [p.name for p in root.iterdir()] == ["a.txt"]


def test_a_sparse_file_bigger_than_the_free_space_is_refused(dokku, env, tmp_path):
    assert dokku("storage:create", "rt-sp").code == 0
    craft = tmp_path / "craft"
    craft.mkdir()
    with open(craft / "huge", "wb") as huge:
        huge.truncate(8 << 40)
    given = tmp_path / "sparse.tar"
    subprocess.run(["tar", "-cS", "-f", str(given), "-C", str(craft), "."], check=True)
    assert given.stat().st_size < 64 << 10
    done = dokku_io(env, "storage:import", "rt-sp", stdin=given)
    assert done.returncode == 1
    assert done.stderr.startswith(b" !     The archive holds sparse files whose holes (8.0 TiB) exceed the ")
    assert done.stderr.endswith(b" free on this file system; refusing it\n")
    assert sorted(p.name for p in env.storage_root.iterdir()) == ["rt-sp"]


# -- 10: interrupted imports ---------------------------------------------------------------------------


def test_a_sigtermed_import_removes_its_staging_and_a_killed_ones_goes_next_time(dokku, env, tmp_path):
    assert dokku("storage:create", "rt-i").code == 0
    (env.storage_root / "rt-i" / "old").write_text("old\n")
    for signum in (signal.SIGTERM, signal.SIGKILL):
        process = subprocess.Popen(
            [str(DOKKU_BIN), "storage:import", "rt-i", "--replace"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env={**os.environ, **env.variables},
        )  # fmt: skip
        assert process.stdin is not None
        header = tarfile.TarInfo("./big")
        header.size = 1 << 30
        process.stdin.write(header.tobuf(format=tarfile.GNU_FORMAT) + os.urandom(1 << 20))
        process.stdin.flush()
        deadline = time.monotonic() + 10
        while not list(env.storage_root.glob(".rt-i.import-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signum)
        process.communicate()
        left = list(env.storage_root.glob(".rt-i.import-*"))
        assert (left == []) == (signum == signal.SIGTERM), left
    assert (env.storage_root / "rt-i" / "old").read_text() == "old\n"
    found = json.loads(dokku("storage:verify", "--all", "--format", "json").out)["problems"]
    assert [(p["code"], p["path"]) for p in found] == [("stale-staging", str(left[0]))]
    repaired = dokku("storage:repair")
    assert repaired.out == f"-----> Repairing storage\n       Removed {left[0]}\n"
    assert sorted(p.name for p in env.storage_root.iterdir()) == ["rt-i"]


# -- 5, 8, 9: disaster recovery ------------------------------------------------------------------------


def test_disaster_recovery_restores_every_entry_it_can_and_names_the_rest(dokku, env, tmp_path, outside):
    named = backed_up_entry(dokku, env, "named", "named data\n")
    craft = tmp_path / "craft"
    (craft / "x").mkdir(parents=True)
    (craft / "x" / "f").write_text("forged\n")
    restic(env, "backup", "--tag", "entry:legacy-x/../../../../f", "x", cwd=craft)
    restic(env, "backup", "--tag", "entry:legacy-0123456789", "x", cwd=craft)
    # An unnamed, non-empty directory where an entry would come back is the operator's: left alone.
    os.rename(named, tmp_path / "named-moved")
    (env.lib_root / "pydokku.db").unlink()
    stray = env.storage_root / "named"
    stray.mkdir()
    (stray / "mine").write_text("not from a backup\n")
    done = run_cli(env, "--force", "storage:backup-restore", "--all")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"-----> Leaving storage entry named as it is: {stray} is not empty"]
    assert done.stderr.splitlines() == [
        ' !     storage entry "legacy-0123456789" does not exist, and no backup of it says where it was',
        f' !     A snapshot in {repository(env)} names storage entry "legacy-x/../../../../f", which is no valid'
        " entry name; it was skipped",
        ' !     2 of 3 storage entries could not be restored: legacy-0123456789, "legacy-x/../../../../f"',
    ]
    assert [p.name for p in stray.iterdir()] == ["mine"]
    assert [p for p in env.root.rglob("f") if "craft" not in p.parts] == []  # the forged tag wrote nowhere
    stray_file = stray / "mine"
    stray_file.unlink()
    stray.rmdir()
    again = run_cli(env, "--force", "storage:backup-restore", "--all")
    assert again.returncode == 1
    assert (env.storage_root / "named" / "data.txt").read_text() == "named data\n"


def test_disaster_recovery_brings_back_a_colon_mounted_volume_and_a_named_entry(dokku, env, app, labelled_volumes):
    from conftest import docker

    volume = f"pydokku-test-{os.urandom(4).hex()}"
    docker("volume", "create", volume)
    try:
        mountpoint = Path(docker("volume", "inspect", volume, "--format", "{{.Mountpoint}}"))
        (mountpoint / "vol.txt").write_text("volume data\n")
        assert dokku("storage:mount", app, f"{volume}:/data").code == 0
        backed_up_entry(dokku, env, "named", "named data\n")
        assert run_cli(env, "storage:backup", "--all").returncode == 0
        (env.lib_root / "pydokku.db").unlink()  # the state and the data lost
        shutil.rmtree(env.storage_root / "named")
        docker("volume", "rm", volume)
        done = run_cli(env, "--force", "storage:backup-restore", "--all")
        assert done.returncode == 0, done.stderr
        assert (Path(docker("volume", "inspect", volume, "--format", "{{.Mountpoint}}")) / "vol.txt").read_text() == (
            "volume data\n"
        )
        assert (env.storage_root / "named" / "data.txt").read_text() == "named data\n"
        listed = {e["name"]: e["host_path"] for e in json.loads(dokku("storage:list-entries", "--format", "json").out)}
        assert volume in listed.values() and listed["named"] == str(env.storage_root / "named")
    finally:
        docker("volume", "rm", "--force", volume, check=False)


# -- 11, 24: restores ----------------------------------------------------------------------------------


def test_a_latest_restore_after_one_killed_past_its_swap_finishes_it_then_restores_latest(dokku, env):
    path = backed_up_entry(dokku, env, "rt-k", "first\n")
    first = json.loads(run_cli(env, "storage:backup-list", "rt-k", "--format", "json").stdout)[0]["full_id"]
    (path / "data.txt").write_text("second\n")
    assert run_cli(env, "storage:backup", "rt-k").returncode == 0
    # The restore of the first snapshot, killed right after its exchange: its journal says "swapped".
    staging = env.storage_root / ".rt-k.restore-killed"
    (staging / "rt-k").mkdir(parents=True)
    (staging / "rt-k" / "data.txt").write_text("second\n")
    (path / "data.txt").write_text("first\n")
    journal = env.lib_root / "data" / "restores" / "rt-k.json"
    journal.parent.mkdir(parents=True)
    journal.write_text(json.dumps({"entry": "rt-k", "directory": str(path), "staging": str(staging),
                                   "discard": True, "phase": "swapped", "snapshot": first,
                                   "tree": str(staging / "rt-k")}))  # fmt: skip
    done = run_cli(env, "--force", "storage:backup-restore", "rt-k", "--discard-previous")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"-----> Finishing the interrupted restore of storage entry rt-k (snapshot {first})"
    assert lines[1] == f"-----> Restoring storage entry rt-k from {repository(env)} (latest)"
    assert (path / "data.txt").read_text() == "second\n"
    assert not journal.exists() and not staging.exists()


def test_refused_restores_leave_nothing_behind(dokku, env):
    backed_up_entry(dokku, env, "rt-x")
    before = env.snapshot()
    missing = run_cli(env, "--force", "storage:backup-restore", "nosuch")
    assert (missing.returncode, missing.stderr) == (
        1, f' !     storage entry "nosuch" does not exist, and {repository(env)} holds no backup of it\n',
    )  # fmt: skip
    control = run_cli(env, "storage:backup-restore", "rt-x", "--to", "/tmp/a\nb")
    assert (control.returncode, control.stderr) == (1, ' !     --to cannot contain control characters: "/tmp/a\\nb"\n')
    assert env.snapshot() == before


def test_an_out_of_space_restore_says_why(dokku, env, tmp_path):
    backed_up_entry(dokku, env, "rt-f", "x" * 300_000)
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(small)], check=True)
    try:
        done = run_cli(env, "storage:backup-restore", "rt-f", "--to", str(small / "copy"))
    finally:
        subprocess.run(["umount", str(small)], check=True)
    assert done.returncode == 1
    assert "no space left on device" in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(" !     Unable to restore storage entry rt-f in ")


# -- 6, 14, 15, 17-20: secrets -------------------------------------------------------------------------


def test_the_state_database_is_private_from_its_first_write(dokku, env):
    assert dokku("config:set", "--global", "--no-restart", "STRIPE_KEY=sk_live_1").code == 0
    for suffix in ("", "-wal", "-shm"):
        path = env.lib_root / f"pydokku.db{suffix}"
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    database = env.lib_root / "pydokku.db"
    os.chmod(database, 0o644)
    assert dokku("apps:list").code == 0
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    readable = [
        str(path) for path in env.lib_root.rglob("*")
        if path.is_file() and path.stat().st_mode & 0o004 and b"sk_live_1" in path.read_bytes()
    ]  # fmt: skip
    assert readable == []


def test_a_repository_password_is_masked_everywhere(dokku, env):
    assert dokku("storage:create", "rt-pw").code == 0
    url = "rest:http://user:hunter2pw@127.0.0.1:9/repo/"
    assert dokku("storage:backup-set", "rt-pw", "passphrase", "correct horse battery").code == 0
    set_out = dokku("storage:backup-set", "rt-pw", "repository", url)
    assert set_out.out == "-----> Setting repository to rest:http://user:***@127.0.0.1:9/repo/\n"
    done = run_cli(env, "storage:backup", "rt-pw")
    assert done.returncode == 1
    report = run_cli(env, "storage:backup-report", "rt-pw")
    events = run_cli(env, "events")
    for text in (done.stdout, done.stderr, report.stdout, events.stdout):
        assert "hunter2pw" not in text
    assert "rest:http://user:***@127.0.0.1:9/repo/" in done.stderr


def test_events_hide_secrets_in_every_form_and_cannot_be_forged(dokku, env, app):
    assert dokku("docker-options:add", app, "deploy", "-eSECRET_A=aaa1 --env=SECRET_B=bbb2").code == 0
    assert dokku("storage:create", "rt-e").code == 0
    assert dokku("storage:backup-set", "rt-e", "sftp-command", "sshpass -p ccc3 ssh u@h -s sftp").code == 0
    assert dokku("storage:backup-set", "rt-e", "repository", "sftp:user:ddd4@host:/srv").code == 0
    assert dokku("storage:backup-set", "rt-e", "passphrase", "eee5eee5eee5").code == 0
    from pydokku.store import Store, events

    store = Store.open(str(env.lib_root / "pydokku.db"))  # arguments as `dokku run` would record them
    with store.write() as tx:
        forged = "x\n2026-01-01T00:00:00Z root dokku apps:destroy x"
        events.insert(tx, time.time(), "root\nx", "run", [app, "echo", forged], [app], [], 0)
    store.close()
    listing = dokku("events").out
    for secret in ("aaa1", "bbb2", "ccc3", "ddd4", "eee5"):
        assert secret not in listing
    assert "storage:backup-set rt-e passphrase <redacted>" in listing
    assert "storage:backup-set rt-e sftp-command <redacted>" in listing
    assert "storage:backup-set rt-e repository sftp:user:<redacted>@host:/srv" in listing
    assert "-eSECRET_A=<redacted> --env=SECRET_B=<redacted>" in listing
    assert not [line for line in listing.splitlines() if "apps:destroy" in line.split(" ")[:4]]
    assert listing.splitlines()[-1].endswith(
        f" $'root\\nx' dokku run {app} echo $'x\\n2026-01-01T00:00:00Z root dokku apps:destroy x' (exit 0)"
    )


def test_ps_inspect_masks_config_values_as_dokku_does(dokku, env, deployed):
    assert dokku("config:set", deployed, "STRIPE_KEY=sk_live_secret", "PORT=5000").code == 0
    shown = dokku("ps:inspect", deployed)
    assert shown.code == 0
    assert "sk_live_secret" not in shown.out
    [container] = json.loads(shown.out)
    values = container["Config"]["Env"]
    assert "STRIPE_KEY=XXXXXX" in values and "PORT=5000" in values and "DYNO=web.1" in values
    assert shown.out == json.dumps(json.loads(shown.out), sort_keys=True, indent=4) + "\n"


def test_config_values_never_reach_a_command_line(dokku, env, app_name, images, host_dir):
    assert dokku("apps:create", app_name).code == 0
    assert dokku("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0").code == 0
    assert dokku("config:set", "--no-restart", app_name, "CMDLINE_SECRET=zzz9", "MULTI=line1\nline2").code == 0
    assert dokku("docker-options:add", app_name, "deploy,run", "--label=x=y").code == 0  # the CLI path
    assert dokku("git:from-image", app_name, images.v1).code == 0
    process = subprocess.Popen(
        [str(DOKKU_BIN), "run", app_name, "sh", "-c", 'echo "$CMDLINE_SECRET"; echo "$MULTI"; sleep 2'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env.variables},
    )  # fmt: skip
    seen = []
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    seen.append(Path(f"/proc/{pid}/cmdline").read_bytes())
                except OSError:
                    continue
        time.sleep(0.05)
    out, err = process.communicate()
    assert process.returncode == 0, err
    assert out == b"zzz9\nline1\nline2\n"
    assert not [line for line in seen if b"zzz9" in line or b"line1" in line]
    assert any(b"--env-file" in line for line in seen)


def test_a_passphrase_change_leaves_an_event(dokku, env):
    assert dokku("storage:create", "rt-ev").code == 0
    assert dokku("storage:backup-set", "rt-ev", "passphrase", "a long passphrase").code == 0
    [event] = [e for e in json.loads(dokku("events", "--format", "json").out) if e["command"] == "storage:backup-set"]
    assert (event["args"], event["exit_code"]) == (["rt-ev", "passphrase", "<redacted>"], 0)


# -- 21, 22, 25: held containers, repair, storage:exec --------------------------------------------------


def test_containers_held_by_a_killed_restore_are_reported_and_repair_starts_them(dokku, env, deployed, host_dir):
    from conftest import docker, running

    [name] = [e["name"] for e in json.loads(dokku("storage:list-entries", "--format", "json").out)]
    [container] = docker("ps", "--filter", f"label=com.dokku.app-name={deployed}", "--format", "{{.ID}}").split()
    docker("stop", container)
    journal = env.lib_root / "data" / "quiesced" / f"{name}.json"
    journal.parent.mkdir(parents=True)
    journal.write_text(json.dumps({"mode": "stop", "by": "restore", "containers": [container]}))
    found = json.loads(dokku("storage:verify", deployed, "--format", "json").out)["problems"]
    assert [(p["code"], p["detail"]) for p in found] == [
        ("held-containers", f"{deployed}.web.1, held by an interrupted restore of {name}, are not running"),
    ]
    repaired = dokku("storage:repair", deployed)
    assert repaired.out == f"-----> Repairing storage\n       Starting {deployed}.web.1\n"
    assert running(deployed) == [f"{deployed}.web.1"]
    assert not journal.exists()


def test_repair_never_creates_a_missing_subpath_through_a_link(dokku, env, app, outside):
    assert dokku("storage:create", "rt-sub").code == 0
    assert dokku("storage:mount", app, "rt-sub", "--container-dir", "/data", "--volume-subpath", "a/b").code == 0
    entry = env.storage_root / "rt-sub"
    (entry / "a" / "b").rmdir()
    (entry / "a").rmdir()
    (entry / "a").symlink_to(outside)
    done = dokku("storage:repair")
    assert (done.code, done.out, done.err) == (
        1, "-----> Repairing storage\n",
        f' !     attachment subpath "a/b" of storage entry "rt-sub" must lead through directories only; {entry}/a is'
        " a symbolic link or a file\n",
    )  # fmt: skip
    assert not (outside / "b").exists()


def test_storage_exec_says_dockers_own_failures_in_one_line(dokku_process, dokku, env, images):
    assert dokku("storage:create", "rt-x").code == 0
    missing = dokku_process("storage:exec", "rt-x", "--image", images.v1, "--", "no-such-command")
    assert missing.code == 1
    assert missing.err.startswith(" !     docker run failed: ") and missing.err.count("\n") == 1
    assert "no-such-command" in missing.err
    own = dokku_process(
        "storage:exec", "rt-x", "--image", images.v1, "--", "sh", "-c", "echo out; echo err >&2; exit 127"
    )
    assert (own.code, own.out, own.err) == (127, "out\n", "err\n")
