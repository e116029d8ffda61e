"""Faults of the machine get one ` !     ` line and a non-zero exit, never a traceback (the traceback
only under --trace): full disk, read-only, locked or corrupt state, missing tools, a Docker socket
that drops the connection or may not be opened, odd mount points, a non-root user."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import DOKKU_BIN


def run(env, *args: str, extra: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real console script in a child process: a traceback would show on its stderr."""
    return subprocess.run(
        [str(DOKKU_BIN), *args], input=stdin, capture_output=True, text=True, check=False,
        env={**os.environ, **env.variables, **(extra or {})},
    )  # fmt: skip


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(" !     ") and done.stderr.count("\n") == 1, done.stderr
    return done.stderr


@pytest.fixture
def small_fs(env):
    """DOKKU_LIB_ROOT on a 512 KiB tmpfs."""
    env.lib_root.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,nr_inodes=256", "tmpfs", str(env.lib_root)], check=True)
    yield env.lib_root
    subprocess.run(["umount", "-l", str(env.lib_root)], check=False)


def fill_space(directory: Path) -> None:
    with open(directory / "filler", "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass


def fill_inodes(directory: Path) -> None:
    try:
        for number in range(100_000):
            (directory / f"inode-{number}").touch()
    except OSError:
        pass


def test_a_full_file_system(env, small_fs):
    assert run(env, "apps:create", "first").returncode == 0
    fill_space(small_fs)
    create = run(env, "apps:create", "second")
    assert create.stdout == ""
    assert one_error_line(create) == (
        f" !     The state database {small_fs}/pydokku.db cannot grow: disk I/O error; the file system is full,"
        " free some space and run the command again\n"
    )
    # WAL mode cannot even size its shared-memory file on a full disk: reads fail the same clean way.
    assert one_error_line(run(env, "apps:list")) == one_error_line(create)
    (small_fs / "filler").unlink()
    assert run(env, "--quiet", "apps:list").stdout == "first\n"
    fill_space(small_fs)
    fill_inodes(small_fs)
    ensure = run(env, "storage:ensure-directory", "--chown", "false", "uploads")
    assert ensure.stdout == f"-----> Ensuring {small_fs}/data/storage/uploads exists\n"
    assert (
        one_error_line(ensure) == f" !     Unable to create {small_fs}/data/storage/uploads: No space left on device\n"
    )


def test_a_write_protected_state_database(env):
    assert run(env, "apps:create", "first").returncode == 0
    database = env.lib_root / "pydokku.db"
    subprocess.run(["chattr", "+i", str(database)], check=True)
    try:
        create = run(env, "apps:create", "second")
        assert create.stdout == ""
        assert one_error_line(create) == (
            f" !     The state database {database} is read-only: attempt to write a readonly database;"
            " make it writable (chattr -i, chmod, mount rw)\n"
        )
        assert run(env, "--quiet", "apps:list").stdout == "first\n"
    finally:
        subprocess.run(["chattr", "-i", str(database)], check=True)


def test_a_database_locked_past_the_busy_timeout(env):
    assert run(env, "apps:create", "first").returncode == 0
    holder = sqlite3.connect(env.lib_root / "pydokku.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        create = run(env, "apps:create", "second", extra={"DOKKU_STATE_BUSY_TIMEOUT": "0.2"})
        assert one_error_line(create) == (
            f" !     The state database {env.lib_root}/pydokku.db stayed locked by another dokku command past the"
            " busy timeout; run the command again when it has finished\n"
        )
        # Readers are not blocked by a writer.
        assert run(env, "--quiet", "apps:list", extra={"DOKKU_STATE_BUSY_TIMEOUT": "0.2"}).stdout == "first\n"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    bad = run(env, "apps:list", extra={"DOKKU_STATE_BUSY_TIMEOUT": "soon"})
    assert one_error_line(bad) == " !     DOKKU_STATE_BUSY_TIMEOUT must be a number of seconds, not 'soon'\n"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (
            "whole",
            " !     The state database {db} is corrupt (file is not a database); restore it from a backup"
            " (`sqlite3 .recover` may salvage its rows)\n",
        ),
        (
            "pages",
            " !     The state database {db} is corrupt (database disk image is malformed); restore it from a backup"
            " (`sqlite3 .recover` may salvage its rows)\n",
        ),
    ],
)
def test_a_corrupt_state_database(env, damage, expected):
    for name in ("first", "second"):
        assert run(env, "apps:create", name).returncode == 0
    database = env.lib_root / "pydokku.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    with open(database, "r+b") as handle:
        if damage == "whole":
            handle.write(os.urandom(8192))
        else:
            handle.seek(4096)
            handle.write(b"\xff" * 8192)
    assert one_error_line(run(env, "apps:list")) == expected.format(db=database)
    traced = run(env, "--trace", "apps:list")
    assert traced.returncode == 1
    assert "Traceback (most recent call last):" in traced.stderr


def test_a_mount_point_with_a_space_and_a_non_latin1_character(env, engine):
    """/proc/self/mountinfo escapes the space; the path's other bytes are UTF-8."""
    mount_point = Path(tempfile.mkdtemp(prefix="pydokku-test-")) / "mnt é жук"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], check=True)
    try:
        done = run(env, "storage:ensure-directory", "--chown", "heroku", "uploads")
        assert (done.returncode, done.stderr) == (0, "")
        assert (env.storage_root / "uploads").stat().st_uid == 1000
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        shutil.rmtree(mount_point.parent)


def test_storage_destroy_host_dir_through_a_symlink(env):
    assert run(env, "storage:create", "uploads").returncode == 0
    target = env.root / "elsewhere"
    target.mkdir()
    (target / "precious.txt").write_text("keep")
    default = env.storage_root / "uploads"
    default.rmdir()
    default.symlink_to(target)
    done = run(env, "storage:destroy", "uploads", "--force", "--destroy-host-dir")
    assert done.stdout == ""
    assert one_error_line(done) == (
        f" !     {default} is a symbolic link; refusing to remove it or what it points to. Remove the link yourself,"
        " or destroy the entry without --destroy-host-dir\n"
    )
    assert (target / "precious.txt").read_text() == "keep"
    assert default.is_symlink()
    assert run(env, "storage:info", "uploads").returncode == 0


class DroppingEngine:
    """A unix socket that accepts, reads the request, sends half a response and hangs up."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"ID":')

    def close(self) -> None:
        self.server.close()


def test_a_docker_socket_that_drops_the_connection_mid_response(env, tmp_path):
    engine = DroppingEngine(str(tmp_path / "docker.sock"))
    try:
        done = run(env, "storage:ensure-directory", "--chown", "heroku", "uploads",
                   extra={"DOCKER_HOST": f"unix://{engine.path}"})  # fmt: skip
        assert done.stdout == ""
        assert one_error_line(done) == (
            f" !     Lost the connection to the Docker engine at unix://{engine.path} during GET /info: the Docker"
            " engine closed the connection mid-response; check that dockerd is healthy, then run the command again\n"
        )
        assert not (env.storage_root / "uploads").exists()
    finally:
        engine.close()


@pytest.fixture
def readable_package():
    """A copy of the package any user can read, and Debian's python3 to run it (the venv's interpreter
    lives under /root, which other users cannot enter)."""
    if not os.path.exists("/usr/bin/python3"):
        pytest.skip("needs Debian's /usr/bin/python3")
    version = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version_info >= (3, 11))"],
                             capture_output=True, text=True, check=False)  # fmt: skip
    if version.stdout.strip() != "True":
        pytest.skip("needs Python 3.11 at /usr/bin/python3")
    top = Path(tempfile.mkdtemp(prefix="pydokku-test-"))
    top.chmod(0o755)
    shutil.copytree(Path(sys.modules["pydokku"].__file__).parent, top / "pydokku",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    yield top
    shutil.rmtree(top)


def as_nobody(package: Path, env_vars: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-m", "pydokku", *args],
        capture_output=True, text=True, check=False, cwd="/",
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(package), "PYTHONDONTWRITEBYTECODE": "1", **env_vars},
    )  # fmt: skip


def test_a_user_who_may_not_write_the_state(readable_package):
    roots = Path(tempfile.mkdtemp(prefix="pydokku-test-"))
    roots.chmod(0o755)
    variables = {"DOKKU_ROOT": str(roots / "home"), "DOKKU_LIB_ROOT": str(roots / "lib")}
    try:
        setup = subprocess.run([str(DOKKU_BIN), "apps:create", "first"], env={**os.environ, **variables},
                               capture_output=True, text=True, check=False)  # fmt: skip
        assert setup.returncode == 0, setup.stderr
        create = as_nobody(readable_package, variables, "apps:create", "second")
        assert create.stdout == ""
        assert one_error_line(create) == (  # 0600: no other user reads it, let alone writes
            f" !     The state database {roots}/lib/pydokku.db is readable by its owner only (it holds config"
            " values): run dokku as root, or through sudo\n"
        )
        assert subprocess.run(
            [str(DOKKU_BIN), "--quiet", "apps:list"], env={**os.environ, **variables}, capture_output=True,
            text=True, check=False,
        ).stdout == "first\n"  # fmt: skip
    finally:
        shutil.rmtree(roots)


@pytest.mark.engine
def test_a_docker_socket_the_user_may_not_open(readable_package, tmp_path):
    roots = Path(tempfile.mkdtemp(prefix="pydokku-test-"))
    roots.chmod(0o777)
    try:
        done = as_nobody(readable_package, {"DOKKU_ROOT": str(roots / "home"), "DOKKU_LIB_ROOT": str(roots / "lib")},
                         "storage:ensure-directory", "--chown", "heroku", "uploads")  # fmt: skip
        assert done.stdout == ""
        assert one_error_line(done) == (
            " !     Unable to reach the Docker engine: permission denied while connecting to"
            " unix:///var/run/docker.sock; run dokku as root or as a member of the docker group\n"
        )
    finally:
        shutil.rmtree(roots)


def test_trace_shows_the_traceback_of_an_unexpected_failure(env):
    assert run(env, "apps:create", "first").returncode == 0
    database = env.lib_root / "pydokku.db"
    subprocess.run(["chattr", "+i", str(database)], check=True)
    try:
        for traced in (
            run(env, "--trace", "apps:create", "x"),
            run(env, "apps:create", "x", extra={"DOKKU_TRACE": "1"}),
        ):
            assert traced.returncode == 1
            assert " !     The state database" in traced.stderr
            assert "Traceback (most recent call last):" in traced.stderr
            assert "+ dokku " in traced.stderr
    finally:
        subprocess.run(["chattr", "-i", str(database)], check=True)
