"""Pure logic: volume flags in docker options, mount specs, chown choices, argument parsing, layout."""

from __future__ import annotations

import io
import os
import stat

import pytest

from pydokku.args import ArgSpec, Flag, GlobalFlags, parse
from pydokku.console import columnize
from pydokku.errors import DokkuError, UsageError
from pydokku.plugins.docker_options.volumes import find_volumes, split_volume
from pydokku.plugins.storage import chown
from pydokku.plugins.storage.spec import MountSpec
from pydokku.text import shell_quote


@pytest.mark.parametrize(
    ("tokens", "found"),
    [
        (["-v", "/a:/b"], [(0, 2, "/a:/b")]),
        (["--volume", "/a:/b"], [(0, 2, "/a:/b")]),
        (["--volume=/a:/b"], [(0, 1, "/a:/b")]),
        (["-v=/a:/b"], [(0, 1, "/a:/b")]),
        (["-v/a:/b"], [(0, 1, "/a:/b")]),
        (["--label", "x", "-v", "/a:/b", "--rm", "--volume=v:/c"], [(2, 4, "/a:/b"), (5, 6, "v:/c")]),
        (["-v"], []),
        (["--volumes-from", "x", "--restart=on-failure:10"], []),
    ],
)
def test_find_volumes(tokens, found):
    assert find_volumes(tokens) == found


def test_split_volume_keeps_at_most_three_fields():
    assert split_volume("/a:/b:ro:z") == ("/a", "/b", "ro:z")
    assert split_volume("/tmp") == ("/tmp", "", "")


def test_mount_spec_target_normalizes_the_container_path():
    assert MountSpec("/h", "/app/x/").target == "/app/x"
    assert MountSpec("/h", "//app//x").target == "/app/x"
    assert MountSpec("/h", "/app/x").identifies(MountSpec("/h", "/app/x", "ro"))
    assert not MountSpec("/h", "/app/x").identifies(MountSpec("/h", "/app/x/"))
    assert str(MountSpec("v", "/d", "ro,z")) == "v:/d:ro,z"


@pytest.mark.parametrize(
    ("option", "inside", "offset", "host"),
    [
        ("herokuish", 32767, None, (32767, 32767)),
        ("herokuish", 32767, (165536, 165536), (198303, 198303)),
        ("heroku", 1000, (165536, 165536), (166536, 166536)),
        ("root", 0, (165536, 165536), (165536, 165536)),
        ("paketo", 2000, (100000, 200000), (102000, 202000)),
    ],
)
def test_chown_choices(option, inside, offset, host):
    choice = chown.resolve(option)
    assert choice.owner_id == inside
    assert choice.on_host(offset) == host


def test_chown_false_ignores_the_offset():
    assert chown.resolve("false").on_host((165536, 165536)) is None


def test_parse_flags_and_positionals():
    spec = ArgSpec((Flag("format", takes_value=True), Flag("force-it")), max_positionals=2)
    flags = GlobalFlags()
    parsed = parse(["a", "--format=json", "--quiet", "b", "--force-it=false"], spec, flags, takes_app=True)
    assert parsed.positionals == ["a", "b"]
    assert parsed.value("format") == "json"
    assert not parsed.has("force-it")
    assert flags.quiet


def test_parse_raw_tail_and_app_flag():
    flags = GlobalFlags()
    parsed = parse(["deploy", "--app", "x", "--quiet", "-v", "/a:/b"], ArgSpec(raw_after=2), flags, takes_app=True)
    assert parsed.positionals == ["x", "deploy", "--quiet", "-v", "/a:/b"]
    assert not flags.quiet


def test_parse_errors():
    with pytest.raises(UsageError, match="unknown flag: --nope"):
        parse(["--nope"], ArgSpec(), GlobalFlags(), takes_app=False)
    with pytest.raises(UsageError, match='invalid argument "maybe"'):
        parse(["--x=maybe"], ArgSpec((Flag("x"),)), GlobalFlags(), takes_app=False)
    with pytest.raises(DokkuError, match=r"Unexpected argument\(s\): \[c d\]"):
        parse(["a", "b", "c", "d"], ArgSpec(max_positionals=2), GlobalFlags(), takes_app=False)


def test_columnize():
    assert columnize([("a", "1"), ("long", "2")]) == ["a     1", "long  2"]
    assert columnize([("a", "")]) == ["a"]


@pytest.mark.parametrize(
    ("word", "quoted"), [("/a:/b", "/a:/b"), ("/a b", "'/a b'"), ("it's", "'it'\"'\"'s'"), ("", "''")]
)
def test_shell_quote(word, quoted):
    assert shell_quote(word) == quoted


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_on_a_terminal_only(monkeypatch):
    from pydokku import ownership

    monkeypatch.setattr(ownership, "PROGRESS_EVERY", 0.0)
    terminal = FakeTerminal()
    progress = ownership.Progress("Setting ownership of /x", terminal)
    progress.update(1200)
    progress.finish()
    assert terminal.getvalue().startswith("\r       Setting ownership of /x: 0s, 1200 entries examined")
    assert terminal.getvalue().endswith("\n")
    piped = io.StringIO()
    quiet = ownership.Progress("Setting ownership of /x", piped)
    quiet.update(5)
    quiet.finish()
    assert piped.getvalue() == ""


def test_parse_procfile_and_processes():
    from pydokku.scheduler.plan import parse_procfile, release_processes

    procfile = parse_procfile("# comment\n\nweb: ./server --port $PORT\nworker:  run-jobs \nrelease: migrate\n")
    assert procfile == {"web": "./server --port $PORT", "worker": "run-jobs", "release": "migrate"}
    assert release_processes(procfile) == {"web": "./server --port $PORT", "worker": "run-jobs"}
    assert release_processes({}) == {"web": None}
    with pytest.raises(DokkuError, match="Invalid Procfile line 1: no colon here"):
        parse_procfile("no colon here")


def test_build_options_leave_out_volumes_and_links():
    from pydokku.scheduler.plan import build_options, run_options

    kept, dropped = build_options(["--label", "a=1", "-v", "/a:/b", "--link=db", "--build-arg", "X=1", "--link", "c"])
    assert kept == ["--label", "a=1", "--build-arg", "X=1"]
    assert dropped == ["-v", "/a:/b", "--link=db", "--link", "c"]
    assert run_options(["--restart=always", "--env", "A=1", "--restart", "no"]) == ["--env", "A=1"]


@pytest.mark.parametrize(
    ("raw", "status", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, b"hello"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n", 200, b"abcde"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 204, b""),
        (b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n{}", 404, b"{}"),
    ],
)
def test_engine_api_responses(raw, status, body):
    import socket

    from pydokku.engine.api import _Reader, _response

    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(raw)
        theirs.shutdown(socket.SHUT_WR)
        assert _response(_Reader(ours)) == (status, body)


def test_engine_api_query_encoding():
    from pydokku.engine.api import _query

    assert _query({"filters": '{"label": ["a=b c"]}', "t": "10"}) == (
        "filters=%7B%22label%22%3A%20%5B%22a%3Db%20c%22%5D%7D&t=10"
    )


def test_container_spec_renders_the_same_container_for_the_cli_and_the_api():
    from pydokku.scheduler.plan import ContainerSpec

    spec = ContainerSpec(
        "app.web.1.upcoming-1", "sha256:abc", ["/bin/sh", "-c", "run"], env={"B": "2", "A": "1"},
        labels={"com.dokku.app-name": "app"}, binds=["/a b:/c:ro"], init=True, restart="on-failure:10",
        options=["--restart=always"],
    )  # fmt: skip
    assert spec.cli_args() == [  # the environment travels apart (engine.cli_environment)
        "--restart=on-failure:10", "--restart=always", "-v", "/a b:/c:ro", "--init",
        "--label=com.dokku.app-name=app", "--name=app.web.1.upcoming-1", "sha256:abc", "/bin/sh", "-c", "run",
    ]  # fmt: skip
    assert spec.api_body() == {
        "Image": "sha256:abc",
        "Env": ["A=1", "B=2"],
        "Labels": {"com.dokku.app-name": "app"},
        "HostConfig": {"Binds": ["/a b:/c:ro"], "Init": True,
                       "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 10}},
        "Cmd": ["/bin/sh", "-c", "run"],
    }  # fmt: skip


def test_the_cli_gets_the_environment_off_its_command_line():
    from pydokku.engine import cli_environment
    from pydokku.errors import DokkuError

    with cli_environment({"B": "two words", "A": "1", "KEY": "-----BEGIN\nKEY-----"}) as (args, fds, environ):
        [fd] = fds
        assert args == ["--env-file", f"/dev/fd/{fd}", "--env=KEY"]
        with open(f"/dev/fd/{fd}") as file:
            assert file.read() == "A=1\nB=two words\n"
        assert stat.S_IMODE(os.fstat(fd).st_mode) == 0o600 and os.fstat(fd).st_nlink == 0  # no name on disk
        assert environ is not None and environ["KEY"] == "-----BEGIN\nKEY-----"
    with pytest.raises(OSError):
        os.fstat(fd)
    with cli_environment({}) as nothing:
        assert nothing == ([], (), None)
    with pytest.raises(DokkuError, match="The value of DOCKER_HOST holds a line break"), \
            cli_environment({"DOCKER_HOST": "a\nb"}):  # fmt: skip
        pass


@pytest.mark.parametrize(
    ("count", "shown"), [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (5 << 30, "5.0 GiB")]
)
def test_human_bytes(count, shown):
    from pydokku.text import human_bytes

    assert human_bytes(count) == shown


@pytest.mark.parametrize(
    ("mount", "value"),
    [
        (("bind", "/srv/a", "/data", False, "", ""), "/srv/a:/data"),
        (("bind", "/srv/a/", "/data", True, "ro", "sub/dir"), "/srv/a/sub/dir:/data:ro"),
        (("bind", "/", "/data", True, "z,ro", "x"), "/x:/data:z,ro"),
        (("volume", "pgdata", "/var/lib/pg", False, "nocopy", ""), "pgdata:/var/lib/pg:nocopy"),
    ],
)
def test_a_mount_as_a_volume_value(mount, value):
    from pydokku.scheduler.plan import Mount

    kind, source, target, readonly, options, subpath = mount
    assert Mount(kind, source, target, readonly=readonly, options=options, subpath=subpath).volume_value() == value


def test_deploy_schedule_puts_web_first_and_alone_then_batches_the_others():
    from pydokku.scheduler.docker_local import _schedule

    types = ["worker", "web", "clock", "task"]
    assert _schedule(types, None, 1) == [["web"], ["clock"], ["task"], ["worker"]]
    assert _schedule(types, None, 2) == [["web"], ["clock", "task"], ["worker"]]
    assert _schedule(types, None, 8) == [["web"], ["clock", "task", "worker"]]
    assert _schedule(["worker", "clock"], None, 2) == [["clock", "worker"]]
    assert _schedule(types, "task", 4) == [["task"]]
