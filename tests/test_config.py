"""config:*: the environment apps run with (DOKKU_APP_USER matters to storage ownership)."""

from __future__ import annotations

import base64
import json

import pytest


def test_set_show_get(dokku, app):
    result = dokku("config:set", "--no-restart", app, "DOKKU_APP_USER=web", "A=1", "EMPTY=")
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "-----> Setting config vars\n       A:               1\n       DOKKU_APP_USER:  web\n       EMPTY:\n"
    )
    assert (
        dokku("config:show", app).out
        == "=====> node-js-app env vars\nA:               1\nDOKKU_APP_USER:  web\nEMPTY:\n"
    )
    assert dokku("config:get", app, "DOKKU_APP_USER").out == "web\n"
    assert dokku("config:get", app, "EMPTY").out == "\n"
    assert json.loads(dokku("config:show", app, "--format", "json").out) == {
        "A": "1",
        "DOKKU_APP_USER": "web",
        "EMPTY": "",
    }
    assert dokku("config:keys", app).out == "A\nDOKKU_APP_USER\nEMPTY\n"


def test_values_are_kept_verbatim(dokku, app):
    value = 'it\'s $(id) `x` "q" ünï=x'
    dokku("config:set", app, f"V={value}")
    assert dokku("config:get", app, "V").out == value + "\n"
    assert dokku("config:get", "--quoted", app, "V").out == "'it'\\''s $(id) `x` \"q\" ünï=x'\n"


def test_encoded(dokku, app):
    dokku("config:set", "--encoded", app, "B=" + base64.b64encode(b"line1\nline2").decode())
    assert dokku("config:get", app, "B").out == "line1\nline2\n"
    bad = dokku("config:set", "--encoded", app, "B=***")
    assert (bad.code, bad.err) == (1, " !     Unable to decode the base64 value of B\n")


def test_set_errors_change_nothing(dokku, app, env):
    before = env.snapshot()
    cases = [
        ((app,), " !     At least one env pair must be given\n"),
        ((app, "NOEQUALS"), " !     Invalid env pair: NOEQUALS\n"),
        ((app, "1BAD=x"), " !     Invalid key name: '1BAD'\n"),
        ((app, "GOOD=1", "BAD-KEY=x"), " !     Invalid key name: 'BAD-KEY'\n"),
        ((app, "ÜNI=x"), " !     Invalid key name: 'ÜNI'\n"),
    ]
    for args, err in cases:
        result = dokku("config:set", *args)
        assert (result.code, result.out, result.err) == (1, "", err)
    assert dokku("config:set", "nope", "A=1").code == 20
    assert env.snapshot() == before


def test_get_errors(dokku, app):
    assert (dokku("config:get", app, "UNSET").code, dokku("config:get", app, "UNSET").out) == (1, "")
    assert dokku("config:get", app).err == " !     Expected: key\n"
    assert dokku("config:get", app, "A", "B").err == " !     Unexpected argument(s): [B]\n"


def test_unset(dokku, app):
    dokku("config:set", app, "A=1")
    result = dokku("config:unset", app, "A", "B")
    assert result.out == "-----> Unsetting A\n-----> Skipping B, it is not set in the environment\n"
    assert dokku("config:get", app, "A").code == 1
    assert dokku("config:unset", app).err == " !     At least one key must be given\n"


def test_global_config_merges_under_the_app(dokku, app):
    dokku("config:set", "--global", "G=global", "A=global")
    dokku("config:set", app, "A=app")
    assert dokku("config:show", "--global").out == "=====> global env vars\nA:  global\nG:  global\n"
    assert dokku("config:get", "--global", "G").out == "global\n"
    assert dokku("config:keys", "--merged", app).out == "A\nG\n"
    assert dokku("config:show", app, "--merged").lines[1:] == ["A:  app", "G:  global"]


@pytest.mark.parametrize("fmt", ["yaml", ""])
def test_show_bad_format(dokku, app, fmt):
    assert dokku("config:show", app, "--format", fmt).err == " !     Invalid --format value specified\n"
