"""Every test gets its own DOKKU_ROOT and DOKKU_LIB_ROOT under a temporary folder: the suite never
touches /home/dokku or /var/lib/dokku."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pydokku import cli

DOKKU_BIN = Path(sys.executable).with_name("dokku")


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


@dataclass
class Env:
    root: Path
    dokku_root: Path
    lib_root: Path

    @property
    def storage_root(self) -> Path:
        return self.lib_root / "data" / "storage"

    @property
    def cron_file(self) -> Path:
        return self.root / "cron.d" / "pydokku-storage-backup"

    @property
    def variables(self) -> dict[str, str]:
        return {
            "DOKKU_ROOT": str(self.dokku_root),
            "DOKKU_LIB_ROOT": str(self.lib_root),
            "DOKKU_BACKUP_CRON_FILE": str(self.cron_file),
        }

    def snapshot(self) -> tuple[list[str], list[str]]:
        """The whole state: every row of the database and every path under the two roots."""
        database = self.lib_root / "pydokku.db"
        rows: list[str] = []
        if database.exists():
            with sqlite3.connect(database) as connection:
                rows = list(connection.iterdump())
        files = sorted(
            f"{p.relative_to(self.root)} {p.lstat().st_uid}:{p.lstat().st_gid} {oct(p.lstat().st_mode)}"
            for base in (self.dokku_root, self.lib_root)
            if base.exists()
            for p in base.rglob("*")
            if not p.name.startswith("pydokku.db") and "locks" not in p.relative_to(base).parts[:1]
        )  # lock files (empty, held with flock while a command runs) are no state
        return rows, files


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    environment = Env(tmp_path, tmp_path / "home-dokku", tmp_path / "var-lib-dokku")
    for key, value in environment.variables.items():
        monkeypatch.setenv(key, value)
    for key in ("DOKKU_LIB_PATH", "DOKKU_QUIET_OUTPUT", "DOKKU_TRACE", "SSH_ORIGINAL_COMMAND"):
        monkeypatch.delenv(key, raising=False)
    return environment


@pytest.fixture
def dokku(env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `dokku ARGS…` in-process; returns exit code, stdout and stderr exactly."""

    def run(*args: str, stdin: str = "") -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def dokku_process(env: Env):  # type: ignore[no-untyped-def]
    """Run the installed `dokku` console script in a child process."""

    def run(*args: str, stdin: str = "", extra_env: dict[str, str] | None = None) -> Result:
        done = subprocess.run(
            [str(DOKKU_BIN), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, **env.variables, **(extra_env or {})},
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def app(dokku) -> str:  # type: ignore[no-untyped-def]
    assert dokku("apps:create", "node-js-app").code == 0
    return "node-js-app"


@pytest.fixture
def host_dir(env: Env) -> Iterator[Path]:
    path = env.root / "data"
    path.mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def docker_available() -> bool:
    return shutil.which("docker") is not None and (
        subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    )


# -- the real Docker engine ---------------------------------------------------------------------

TEST_PREFIX = "pydokku-test-"
BASE_IMAGE = "dokku-test/busybox:local"


def docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def build_image(tag: str, dockerfile: str) -> str:
    done = subprocess.run(
        ["docker", "image", "build", "--quiet", "--tag", tag, "-"], input=dockerfile, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return tag


class Images:
    """Test images built offline from the busybox image, removed at the end of the session."""

    def __init__(self, suffix: str) -> None:
        loop = 'CMD ["sh", "-c", "while true; do sleep 1; done"]'
        procfile = (
            'RUN mkdir -p /app && printf "worker: while true; do sleep 1; done\\ntask: echo task-ran with\\n"'
            " > /app/Procfile"
        )
        self.v1 = build_image(f"{TEST_PREFIX}app:v1-{suffix}", f"FROM {BASE_IMAGE}\n{loop}\n{procfile}\n")
        self.v2 = build_image(f"{TEST_PREFIX}app:v2-{suffix}", f"FROM {self.v1}\nENV RELEASE=v2\n")
        # Buildpack-style: herokuish images say which user the app runs as in their environment.
        self.buildpack = build_image(
            f"{TEST_PREFIX}app:buildpack-{suffix}", f"FROM {self.v1}\nENV USER=herokuishuser\n"
        )
        # A Dockerfile app that runs as its own user.
        self.user = build_image(
            f"{TEST_PREFIX}app:user-{suffix}",
            f"FROM {self.v1}\nRUN echo 'app:x:1500:1600::/app:/bin/sh' >> /etc/passwd\nUSER app\n",
        )
        self.numeric_user = build_image(f"{TEST_PREFIX}app:numeric-{suffix}", f"FROM {self.v1}\nUSER 1700:1800\n")
        self.crashing = build_image(
            f"{TEST_PREFIX}app:crash-{suffix}",
            f'FROM {BASE_IMAGE}\nCMD ["sh", "-c", "echo starting; echo crashed >&2; exit 3"]\n',
        )

    def remove(self) -> None:
        for tag in (self.crashing, self.numeric_user, self.user, self.buildpack, self.v2, self.v1):
            docker("image", "rm", "--force", tag, check=False)


@pytest.fixture(scope="session")
def images() -> Iterator[Images]:
    built = Images(f"{os.getpid()}")
    yield built
    built.remove()


@pytest.fixture
def app_name() -> Iterator[str]:
    """A unique app name (container names are global to the engine); its containers and images are
    removed afterwards."""
    name = f"{TEST_PREFIX}{os.urandom(4).hex()}"
    yield name
    remove_labelled(name)


def remove_labelled(app: str) -> None:
    """Remove every container and image labelled with the app."""
    for kind in ("container", "image"):
        listed = docker(kind, "ls", "--all", "--quiet", "--filter", f"label=com.dokku.app-name={app}", check=False)
        if listed:
            docker(kind, "rm", "--force", *sorted(set(listed.split())), check=False)


@pytest.fixture
def deploy(dokku):  # type: ignore[no-untyped-def]
    """`deploy(app, image, *mounts)`: create the app (if needed), mount each `host:container` spec or
    tuple of storage:mount arguments, and deploy the image with no checks wait; returns the result of
    `git:from-image` (a test may expect it to fail)."""

    def run(app: str, image: str, *mounts: str | tuple[str, ...]) -> Result:
        dokku("apps:create", app)
        assert dokku("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0").code == 0
        for mount in mounts:
            result = dokku("storage:mount", app, *((mount,) if isinstance(mount, str) else mount))
            assert result.code == 0, result.err
        return dokku("git:from-image", app, image)

    return run


@pytest.fixture
def deployed(deploy, app_name, images, host_dir):  # type: ignore[no-untyped-def]
    """An app with a host directory mounted at /data, deployed from the v1 image."""
    result = deploy(app_name, images.v1, f"{host_dir}:/data")
    assert result.code == 0, result.err
    return app_name


@pytest.fixture
def labelled_volumes() -> Iterator[None]:
    """Held by tests that create Docker volumes labelled com.dokku.app-name and by those that run a
    whole-host storage:verify (which reports such volumes of apps it does not know): one of them at a time
    on this host, whatever the test worker (a lock file; xdist_group does not group under pytest 9.2)."""
    import fcntl

    with open("/tmp/pydokku-labelled-volumes.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture
def engine() -> None:
    """Asked for by tests that need the Docker engine without deploying (user-namespace checks of
    ownership changes, images on the host)."""


# Tests that use these need a running Docker engine: `pytest -m "not engine"` runs all the others.
ENGINE_FIXTURES = frozenset({"engine", "images", "app_name", "deploy", "deployed", "swarm"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if ENGINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.engine)


def running(app: str) -> list[str]:
    """Names of the app's running deploy containers."""
    names = docker(
        "ps", "--filter", f"label=com.dokku.app-name={app}", "--filter", "label=com.dokku.container-type=deploy",
        "--format", "{{.Names}}",
    )  # fmt: skip
    return sorted(names.split())


def in_container(container: str, command: str) -> str:
    return docker("exec", container, "sh", "-c", command)
