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
    def variables(self) -> dict[str, str]:
        return {"DOKKU_ROOT": str(self.dokku_root), "DOKKU_LIB_ROOT": str(self.lib_root)}

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
            if not p.name.startswith("pydokku.db")
        )
        return rows, files


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    environment = Env(tmp_path, tmp_path / "home-dokku", tmp_path / "var-lib-dokku")
    for key, value in environment.variables.items():
        monkeypatch.setenv(key, value)
    for key in ("DOKKU_LIB_PATH", "DOKKU_QUIET_OUTPUT", "DOKKU_TRACE"):
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
