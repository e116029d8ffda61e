"""config:export (Dokku's formats, byte for byte as its config plugin's tests give them), config:clear
and config:bundle."""

from __future__ import annotations

import io
import subprocess
import tarfile

import pytest

from conftest import DOKKU_BIN

EXPORTS = {
    "envfile": 'BAR="BAZ"\nBAZ="a\\nb"\nFOO="b\'ar "\n',
    "docker-args": "--env=BAR='BAZ' --env=BAZ='a\nb' --env=FOO='b'\\''ar '\n",
    "docker-args-keys": "--env=BAR --env=BAZ --env=FOO\n",
    "shell": "BAR='BAZ' BAZ='a\nb' FOO='b'\\''ar ' ",
    "exports": "export BAR='BAZ'\nexport BAZ='a\nb'\nexport FOO='b'\\''ar '\n",
    "pretty": "BAR:  BAZ\nBAZ:  a\nb\nFOO:  b'ar\n",
    "json": '{"BAR":"BAZ","BAZ":"a\\nb","FOO":"b\'ar "}\n',
    "json-list": '[{"name":"BAR","value":"BAZ"},{"name":"BAZ","value":"a\\nb"},{"name":"FOO","value":"b\'ar "}]\n',
}


@pytest.fixture
def configured(dokku, app) -> str:  # type: ignore[no-untyped-def]
    assert dokku("config:set", "--no-restart", app, "BAR=BAZ", "FOO=b'ar ", "BAZ=a\nb").code == 0
    return app  # type: ignore[no-any-return]


@pytest.mark.parametrize("fmt", sorted(EXPORTS))
def test_export_formats_are_dokkus(dokku, configured, fmt):
    result = dokku("config:export", "--format", fmt, configured)
    assert (result.code, result.out, result.err) == (0, EXPORTS[fmt], "")


def test_export_defaults_merges_and_refuses(dokku, configured, env):
    assert dokku("config:set", "--global", "GLOBAL_ONE=1").code == 0
    assert dokku("config:export", configured).out == EXPORTS["exports"]
    assert dokku("config:export", "--global").out == "export GLOBAL_ONE='1'\n"
    assert dokku("config:export", "--merged", "--format", "docker-args-keys", configured).out == (
        "--env=BAR --env=BAZ --env=FOO --env=GLOBAL_ONE\n"
    )
    refused = dokku("config:export", "--format", "yaml", configured)
    assert (refused.code, refused.out, refused.err) == (1, "", " !     Unknown export format: yaml\n")
    assert dokku("config:export", "missing").err == " !     App missing does not exist\n"


def test_bundle_is_a_tar_of_one_file_per_key(configured, env):
    done = subprocess.run([str(DOKKU_BIN), "config:bundle", configured], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        members = archive.getmembers()
        assert [(m.name, m.mode) for m in members] == [("BAR", 0o600), ("BAZ", 0o600), ("FOO", 0o600)]
        assert [archive.extractfile(m).read() for m in members] == [b"BAZ", b"a\nb", b"b'ar "]  # type: ignore[union-attr]


def test_clear_unsets_every_key(dokku, configured, env):
    cleared = dokku("config:clear", "--no-restart", configured)
    assert (cleared.code, cleared.out, cleared.err) == (
        0, "-----> Unsetting BAR\n-----> Unsetting BAZ\n-----> Unsetting FOO\n", ""
    )  # fmt: skip
    assert dokku("config:export", configured).out == "\n"
    before = env.snapshot()
    again = dokku("config:clear", "--no-restart", configured)
    assert (again.code, again.out, again.err) == (0, "", "")
    assert env.snapshot() == before
