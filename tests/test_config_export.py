"""config:export (Dokku's formats, byte for byte as its config plugin's tests give them), config:clear
and config:bundle."""

from __future__ import annotations

import io
import json
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
    "pack-keys": "--env BAR --env BAZ --env FOO\n",
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


def test_import_reads_an_envfile_or_json_from_a_file_or_stdin(dokku, configured, tmp_path):
    exported = dokku("config:export", "--format", "envfile", configured).out
    assert dokku("config:clear", "--no-restart", configured).code == 0
    envfile = tmp_path / "app.env"
    envfile.write_text(exported)
    imported = dokku("config:import", "--no-restart", configured, str(envfile))
    assert (imported.code, imported.err) == (0, "")
    assert imported.out == "-----> Setting config vars\n       BAR:  BAZ\n       BAZ:  a\nb\n       FOO:  b'ar\n"
    assert dokku("config:export", "--format", "envfile", configured).out == exported  # round trip
    text = "# a comment\nexport NEW=1\nREF=\"${NEW}-x \\$NEW\"\nLIT='$NEW'\nBARE=two words # note\n"
    piped = dokku("config:import", "--no-restart", configured, "-", stdin=text)
    assert piped.out.startswith("-----> Reading config vars from stdin\n-----> Setting config vars\n")
    values = json.loads(dokku("config:show", configured, "--format", "json").out)
    assert {key: values[key] for key in ("NEW", "REF", "LIT", "BARE", "BAR")} == {
        "NEW": "1", "REF": "1-x $NEW", "LIT": "$NEW", "BARE": "two words", "BAR": "BAZ"}  # fmt: skip
    replaced = dokku("config:import", "--replace", "--format", "json", "--no-restart", configured, "-",
                     stdin='{"ONLY": "this"}')  # fmt: skip
    assert replaced.code == 0, replaced.err
    assert dokku("config:keys", configured).out == "ONLY\n"
    assert dokku("config:import", "--global", "-", stdin="G=1\n").code == 0
    assert dokku("config:get", "--global", "G").out == "1\n"


def test_import_refusals_change_nothing(dokku, dokku_process, configured, tmp_path, env):
    before = env.snapshot()
    for args, stdin, message in (
        ((configured,), "", "Please specify a file to import, or - to read stdin"),
        ((configured, str(tmp_path / "missing.env")), "", f"File {tmp_path / 'missing.env'} does not exist"),
        ((configured, "-"), "# only a comment\n", "No config vars to set"),
        ((configured, "-"), "BAD-KEY=1\n", "Invalid key name: 'BAD-KEY'"),
        ((configured, "-"), "JUST TEXT\n", "Unable to import stdin: unexpected line: 'JUST TEXT' (expected KEY=VALUE)"),
        ((configured, "-"), "A=\"open\n", "Unable to import stdin: a value opened with \" is never closed"),
        (("--format", "json", configured, "-"), '{"A": 1}', "Unable to import stdin: expected a JSON object of string"
         " values"),
        (("--format", "yaml", configured, "-"), "A=1", "Unknown format: yaml"),
        (("missing-app", "-"), "A=1", "App missing-app does not exist"),
    ):  # fmt: skip
        refused = dokku("config:import", "--no-restart", *args, stdin=stdin)
        assert (refused.code != 0, refused.err.splitlines()[-1]) == (True, f" !     {message}"), args
    secret = tmp_path / "host-only.env"
    secret.write_text("STOLEN=1\n")
    over_ssh = dokku_process(extra_env={"SSH_ORIGINAL_COMMAND": f"config:import --no-restart {configured} {secret}"})
    assert (over_ssh.code, over_ssh.err) == (
        1,
        " !     Over SSH, config:import reads stdin only: pipe the file to config:import ... -\n",
    )
    assert env.snapshot() == before


def test_dokku_config_is_config_show(dokku, configured):
    assert dokku("config", configured).out == dokku("config:show", configured).out
    assert dokku("config", configured, "--export").out == EXPORTS["exports"]
    assert dokku("config", configured, "--export").err == (
        " !     Deprecated: Use 'config:export --format exports' instead\n"
    )
    assert dokku("config", configured, "--shell").out == EXPORTS["shell"]
