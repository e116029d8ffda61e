"""storage:export and storage:import: faithful round trips, and archives that try to leave the entry
refused with the entry untouched."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import DOKKU_BIN
from trees import make_tree, metadata


def dokku_io(
    env, *args: str, stdin: Path | None = None, stdout: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The console script with real file descriptors: a stream in from a file, out to a file."""
    with contextlib.ExitStack() as files:
        given = files.enter_context(open(stdin, "rb")) if stdin else subprocess.DEVNULL
        taken = files.enter_context(open(stdout, "wb")) if stdout else subprocess.PIPE
        return subprocess.run(
            [str(DOKKU_BIN), *args], stdin=given, stdout=taken, stderr=subprocess.PIPE, check=False,
            env={**os.environ, **env.variables},
        )  # fmt: skip


@pytest.mark.parametrize("compress", ["none", "zstd", "gzip"])
def test_export_then_import_gives_back_the_same_tree(dokku, env, tmp_path, compress):
    for name in ("source", "copy"):
        assert dokku("storage:create", name).code == 0
    make_tree(env.storage_root / "source")
    stream = tmp_path / "stream"
    exported = dokku_io(env, "storage:export", "source", "--compress", compress, stdout=stream)
    assert (exported.returncode, exported.stderr) == (0, b"")
    imported = dokku_io(env, "storage:import", "copy", stdin=stream)
    assert (imported.returncode, imported.stderr) == (0, b"")
    assert imported.stdout.decode() == f"-----> Imported into storage entry copy ({env.storage_root}/copy)\n"
    assert metadata(env.storage_root / "copy") == metadata(env.storage_root / "source")
    assert os.stat(env.storage_root / "copy" / "sparse").st_blocks * 512 < 1 << 20  # still sparse


def test_import_into_content_needs_replace_and_keeps_the_previous_content(dokku, env, tmp_path):
    dokku("storage:create", "source")
    dokku("storage:create", "target")
    (env.storage_root / "source" / "new.txt").write_text("new")
    (env.storage_root / "target" / "old.txt").write_text("old")
    stream = tmp_path / "stream"
    dokku_io(env, "storage:export", "source", stdout=stream)
    refused = dokku_io(env, "storage:import", "target", stdin=stream)
    assert (refused.returncode, refused.stdout) == (1, b"")
    assert refused.stderr.decode() == (
        f' !     storage entry "target" is not empty ({env.storage_root}/target); pass --replace to replace its content\n'
    )
    assert sorted(os.listdir(env.storage_root / "target")) == ["old.txt"]
    replaced = dokku_io(env, "storage:import", "target", "--replace", stdin=stream)
    assert replaced.returncode == 0, replaced.stderr
    lines = replaced.stdout.decode().splitlines()
    assert lines[0] == f"-----> Imported into storage entry target ({env.storage_root}/target)"
    previous = Path(lines[1].removeprefix("       Previous content kept in "))
    assert previous.parent == env.storage_root and previous.name.startswith("target.previous-")
    assert (previous / "old.txt").read_text() == "old"
    assert sorted(os.listdir(env.storage_root / "target")) == ["new.txt"]
    again = dokku_io(env, "storage:import", "target", "--replace", "--discard-previous", stdin=stream)
    assert again.stdout.decode() == f"-----> Imported into storage entry target ({env.storage_root}/target)\n"
    assert not [p for p in os.listdir(env.storage_root) if p.startswith(".target.import-")]


def malicious(kind: str, outside: Path) -> bytes:
    """An archive that tries to write or point outside the directory it is extracted into."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:

        def add(name: str, kind_: bytes = tarfile.REGTYPE, data: bytes = b"x", **fields: object) -> None:
            info = tarfile.TarInfo(name)
            info.type = kind_
            for key, value in fields.items():
                setattr(info, key, value)
            info.size = len(data) if kind_ == tarfile.REGTYPE else 0
            archive.addfile(info, io.BytesIO(data) if kind_ == tarfile.REGTYPE else None)

        if kind == "absolute":
            add(str(outside / "abs.txt"))
        elif kind == "dotdot":
            add("../../../outside.txt")
        elif kind == "write-through-symlink":
            add("evil", tarfile.SYMTYPE, linkname=str(outside))
            add("evil/through.txt")
        elif kind == "outside-symlink":
            add("escape", tarfile.SYMTYPE, linkname="../../..")
        elif kind == "symlink-chain":
            add("a", tarfile.DIRTYPE, mode=0o755)
            add("a/up", tarfile.SYMTYPE, linkname="..")
            add("a/up2", tarfile.SYMTYPE, linkname="up/..")
        elif kind == "device":
            add("null2", tarfile.CHRTYPE, devmajor=1, devminor=3)
        elif kind == "fifo":
            add("pipe", tarfile.FIFOTYPE)
        elif kind == "outside-hardlink":
            add("hard", tarfile.LNKTYPE, linkname=str(outside / "victim.txt"))
            add("hard", data=b"PWNED")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("absolute", " !     The archive has member names or link targets that start with '/' or '..'; refusing it\n"),
        ("dotdot", " !     The archive has member names or link targets that start with '/' or '..'; refusing it\n"),
        (
            "write-through-symlink",
            " !     tar refused the archive: evil/through.txt: Cannot open: Not a directory; Exiting with failure status"
            " due to previous errors\n",
        ),
        (
            "outside-symlink",
            " !     The archive holds a symlink leading outside it (escape -> ../../..); refusing it\n",
        ),
        ("symlink-chain", " !     The archive holds a symlink leading outside it (a/up2 -> up/..); refusing it\n"),
        ("device", " !     The archive holds a device node, fifo or socket (null2); refusing it\n"),
        ("fifo", " !     The archive holds a device node, fifo or socket (pipe); refusing it\n"),
        (
            "outside-hardlink",
            " !     The archive has member names or link targets that start with '/' or '..'; refusing it\n",
        ),
    ],
)
def test_an_archive_that_leaves_the_entry_is_refused_and_changes_nothing(dokku, env, tmp_path, kind, message):
    dokku("storage:create", "target")
    (env.storage_root / "target" / "keep.txt").write_text("keep")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("victim")
    stream = tmp_path / "evil.tar"
    stream.write_bytes(malicious(kind, outside))
    before = env.snapshot()
    result = dokku_io(env, "storage:import", "target", "--replace", stdin=stream)
    assert (result.returncode, result.stdout) == (1, b"")
    assert result.stderr.decode() == message
    assert env.snapshot() == before  # no staging directory left, the entry as it was
    assert sorted(os.listdir(outside)) == ["victim.txt"]
    assert (outside / "victim.txt").read_text() == "victim"


def test_stream_errors(dokku, env, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert dokku_io(env, "storage:export", "nope").stderr == b' !     storage entry "nope" does not exist\n'
    dokku("storage:create", "target")
    assert dokku_io(env, "storage:export", "target", "--compress", "xz").stderr == (
        b' !     --compress must be "zstd", "gzip" or "none": "xz"\n'
    )
    assert dokku_io(env, "storage:import", "target", stdin=empty).stderr == (
        b" !     The archive is empty: nothing was read from standard input\n"
    )
    assert dokku_io(env, "storage:import", "target", "--keep-previous", "--discard-previous").stderr == (
        b" !     --keep-previous and --discard-previous cannot be combined\n"
    )
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"not a tar archive at all" * 100)
    refused = dokku_io(env, "storage:import", "target", stdin=garbage)
    assert refused.returncode == 1
    assert refused.stderr == (
        b" !     tar refused the archive: This does not look like a tar archive; Skipping to next header;"
        b" Exiting with failure status due to previous errors\n"
    )


@pytest.mark.usefixtures("labelled_volumes")  # its volumes carry an app label: not beside a whole-host verify
def test_local_volume_entries_stream_through_their_mount_point(dokku, env, tmp_path, app_name):
    from conftest import docker

    source, target = f"{app_name}-src", f"{app_name}-dst"
    for volume in (source, target):
        docker("volume", "create", "--label", f"com.dokku.app-name={app_name}", volume)
    try:
        dokku("storage:create", "from-volume", source)
        dokku("storage:create", "to-volume", target)
        mountpoint = Path(docker("volume", "inspect", "--format", "{{.Mountpoint}}", source))
        make_tree(mountpoint)
        stream = tmp_path / "stream"
        assert dokku_io(env, "storage:export", "from-volume", "--compress", "zstd", stdout=stream).returncode == 0
        imported = dokku_io(env, "storage:import", "to-volume", stdin=stream)
        assert imported.returncode == 0, imported.stderr
        target_point = Path(docker("volume", "inspect", "--format", "{{.Mountpoint}}", target))
        assert metadata(target_point) == metadata(mountpoint)
    finally:
        docker("volume", "rm", "--force", source, target, check=False)


def test_an_archive_that_makes_tar_warn_for_every_member_still_imports(dokku, env, tmp_path):
    """Thousands of warnings (mtimes in the future) are more than a pipe holds: they must not stall."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for number in range(3000):
            info = tarfile.TarInfo(f"file-{number:04d}-with-a-long-enough-name-to-make-the-warning-long")
            info.mtime = 4_000_000_000
            archive.addfile(info, io.BytesIO(b""))
    stream = tmp_path / "future.tar"
    stream.write_bytes(buffer.getvalue())
    dokku("storage:create", "target")
    result = dokku_io(env, "storage:import", "target", stdin=stream)
    assert (result.returncode, result.stderr) == (0, b""), result.stderr[:300]
    assert len(os.listdir(env.storage_root / "target")) == 3000


def test_export_shows_progress_on_stderr_only_when_it_is_a_terminal(dokku, env, tmp_path):
    import pty

    assert dokku("storage:create", "source").code == 0
    make_tree(env.storage_root / "source", big_bytes=8 << 20)
    master, slave = pty.openpty()
    stream = tmp_path / "stream"
    with open(stream, "wb") as out:
        done = subprocess.run(
            [str(DOKKU_BIN), "storage:export", "source"], stdout=out, stderr=slave, stdin=subprocess.DEVNULL,
            env={**os.environ, **env.variables}, check=False,
        )  # fmt: skip
    os.close(slave)
    shown = os.read(master, 65536).decode()
    os.close(master)
    assert done.returncode == 0
    assert shown.endswith(" written \r\n") and "\r       " in shown and "MiB written" in shown
    piped = dokku_io(env, "storage:export", "source", stdout=tmp_path / "again")
    assert piped.stderr == b""

    def members(path: Path) -> list[str]:  # (pax headers hold access times: the bytes differ)
        return subprocess.run(
            ["tar", "-tvf", str(path)], capture_output=True, text=True, check=True
        ).stdout.splitlines()

    assert members(tmp_path / "again") == members(stream)


@pytest.mark.parametrize(("magic", "tool"), [(b"\x28\xb5\x2f\xfd", "zstd"), (b"\x1f\x8b", "gzip")])
def test_a_damaged_compressed_stream_is_refused_and_changes_nothing(dokku, env, tmp_path, magic, tool):
    assert dokku("storage:create", "target").code == 0
    damaged = tmp_path / "damaged"
    damaged.write_bytes(magic + os.urandom(4096))
    before = env.snapshot()
    result = dokku_io(env, "storage:import", "target", stdin=damaged)
    assert (result.returncode, result.stderr) == (
        1,
        f" !     The archive could not be decompressed with {tool}\n".encode(),
    )
    assert env.snapshot() == before
