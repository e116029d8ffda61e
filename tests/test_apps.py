"""apps:*: names, the app directory tools probe, destroy confirmation, rename and clone carrying storage."""

from __future__ import annotations

import json

import pytest

from conftest import running

BAD_NAME = (
    " !     App name must begin with lowercase alphanumeric character,"
    " and may only contain lowercase alphanumerics, dots, and hyphens\n"
)


def test_create(dokku, env):
    result = dokku("apps:create", "my-app.v2")
    assert (result.code, result.out, result.err) == (0, "-----> Creating my-app.v2...\n", "")
    assert (env.dokku_root / "my-app.v2").is_dir()
    # Dokku 0.38: the restart policy is a ps property, not a docker option.
    assert dokku("docker-options:report", "my-app.v2", "--docker-options-deploy").out == "\n"
    assert dokku("ps:report", "my-app.v2", "--ps-computed-restart-policy").out == "on-failure:10\n"


def test_create_quiet(dokku):
    assert dokku("--quiet", "apps:create", "my-app").out == ""


def test_create_taken(dokku, app, env):
    before = env.snapshot()
    result = dokku("apps:create", app)
    assert (result.code, result.out, result.err) == (1, "", " !     Name is already taken\n")
    assert env.snapshot() == before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", " !     Please specify an app to run the command on\n"),
        ("Upper", BAD_NAME),
        ("under_score", BAD_NAME),
        ("-dash-first", None),  # parsed as a flag: usage error
        (".dot-first", BAD_NAME),
        ("has space", BAD_NAME),
        ("colon:name", BAD_NAME),
        ("slash/name", BAD_NAME),
        ("..", BAD_NAME),
        ("$(id)", BAD_NAME),
        ("quote'd", BAD_NAME),
        ("ünïcode", BAD_NAME),
        ("newline\n", BAD_NAME),
        ("a" * 201, " !     App name must be at most 200 characters\n"),
    ],
)
def test_create_bad_names_change_nothing(dokku, env, name, message):
    before = env.snapshot()
    result = dokku("apps:create", name)
    if message is None:
        assert result.code == 2
    else:
        assert (result.code, result.out, result.err) == (1, "", message)
    assert env.snapshot() == before


def test_list(dokku):
    for name in ("zeta", "alpha", "mid"):
        dokku("apps:create", name)
    assert dokku("apps:list").out == "=====> My Apps\nalpha\nmid\nzeta\n"
    assert dokku("--quiet", "apps:list").out == "alpha\nmid\nzeta\n"


def test_list_empty(dokku, env):
    result = dokku("apps:list")
    assert (result.code, result.out, result.err) == (
        0,
        "=====> My Apps\n",
        " !     You haven't deployed any applications yet\n",
    )


def test_exists(dokku, app):
    assert (dokku("apps:exists", app).code, dokku("apps:exists", app).out) == (0, "")
    missing = dokku("apps:exists", "nope")
    assert (missing.code, missing.err) == (20, " !     App nope does not exist\n")
    assert dokku("apps:exists", "Nope").code == 1
    assert dokku("apps:exists").err == " !     Please specify an app to run the command on\n"


def test_destroy_asks_for_the_name(dokku, app, env, host_dir):
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    (host_dir / "keep.txt").write_text("data")
    refused = dokku("apps:destroy", app, stdin="wrong\n")
    assert refused.code == 1
    assert refused.out == "> "
    assert refused.err == (
        " !     WARNING: Potentially Destructive Action\n"
        " !     This command will destroy app node-js-app.\n"
        ' !     To proceed, type "node-js-app"\n'
        " !     Confirmation did not match test. Aborted.\n"
    )
    assert dokku("apps:exists", app).code == 0
    eof = dokku("apps:destroy", app, stdin="")
    assert eof.code == 1
    assert dokku("apps:exists", app).code == 0
    confirmed = dokku("apps:destroy", app, stdin=f"{app}\n")
    assert confirmed.code == 0
    assert confirmed.out == (
        "> -----> Destroying node-js-app (including all add-ons)\n-----> Retiring old containers and images\n"
    )
    assert dokku("apps:exists", app).code == 20
    assert not (env.dokku_root / app).exists()
    assert (host_dir / "keep.txt").read_text() == "data"


@pytest.mark.parametrize(
    "argv", [["apps:destroy", "node-js-app", "--force"], ["--force", "apps:destroy", "node-js-app"]]
)
def test_destroy_forced(dokku, app, argv):
    result = dokku(*argv)
    assert (result.code, result.out, result.err) == (
        0,
        "-----> Destroying node-js-app (including all add-ons)\n-----> Retiring old containers and images\n",
        "",
    )


def test_destroy_keeps_files_others_put_in_the_app_directory(dokku, app, env):
    (env.dokku_root / app / "notes.txt").write_text("mine")
    result = dokku("apps:destroy", app, "--force")
    assert result.code == 0
    assert result.err == f" !     Leaving {env.dokku_root / app} in place: it is not empty\n"
    assert (env.dokku_root / app / "notes.txt").read_text() == "mine"


def test_destroy_then_recreate_starts_clean(dokku, app, host_dir):
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    dokku("config:set", app, "A=1")
    dokku("apps:destroy", app, "--force")
    dokku("apps:create", app)
    assert dokku("--quiet", "storage:list", app).out == ""
    assert dokku("config:get", app, "A").code == 1


def test_destroy_missing(dokku):
    assert dokku("apps:destroy", "nope", "--force").code == 20


def test_rename_carries_mounts_and_options(dokku, app, env, host_dir):
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    dokku("docker-options:add", app, "run", "--label x=1")
    dokku("config:set", app, "KEY=value")
    result = dokku("apps:rename", app, "new-name")
    assert (result.code, result.out, result.err) == (0, "-----> Renaming node-js-app to new-name\n", "")
    assert dokku("apps:exists", app).code == 20
    assert not (env.dokku_root / app).exists()
    assert (env.dokku_root / "new-name").is_dir()
    assert dokku("--quiet", "storage:list", "new-name").out == f"{host_dir}:/app/storage\n"
    assert dokku("docker-options:report", "new-name", "--docker-options-run").out == "--label x=1\n"
    assert dokku("config:get", "new-name", "KEY").out == "value\n"


def test_rename_errors_change_nothing(dokku, app, env):
    dokku("apps:create", "other")
    before = env.snapshot()
    cases = [
        (("apps:rename", app, "other"), 1, " !     Name is already taken\n"),
        (("apps:rename", app, ""), 1, " !     Please specify an new app name\n"),
        (("apps:rename", app), 1, " !     Please specify an new app name\n"),
        (("apps:rename", app, "Bad"), 1, BAD_NAME),
        (("apps:rename", "nope", "fine"), 20, " !     App nope does not exist\n"),
    ]
    for argv, code, err in cases:
        result = dokku(*argv)
        assert (result.code, result.out, result.err) == (code, "", err)
    assert env.snapshot() == before


def test_clone_copies_config_options_and_mounts(dokku, app, host_dir):
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    dokku("docker-options:add", app, "deploy", "--label first=1")
    dokku("config:set", app, "KEY=value")
    result = dokku("apps:clone", app, "copy")
    assert (result.code, result.err) == (0, "")
    assert result.out == "-----> Cloning node-js-app to copy\n-----> Creating copy...\n"
    for name in (app, "copy"):
        assert dokku("--quiet", "storage:list", name).out == f"{host_dir}:/app/storage\n"
        assert dokku("docker-options:report", name, "--docker-options-deploy").out == ("--label first=1\n")
        assert dokku("config:get", name, "KEY").out == "value\n"
    # The two apps' mounts are independent records.
    dokku("storage:unmount", "copy", f"{host_dir}:/app/storage")
    assert dokku("--quiet", "storage:list", app).out == f"{host_dir}:/app/storage\n"


def test_clone_keeps_the_scale_and_the_ps_properties(dokku, app):
    assert dokku("ps:scale", "--skip-deploy", app, "web=2", "worker=1").code == 0
    assert dokku("ps:set", app, "restart-policy", "always").code == 0
    assert dokku("ps:set", app, "stop-timeout-seconds", "30").code == 0
    assert dokku("apps:clone", app, "copy").code == 0
    for name in (app, "copy"):
        assert dokku("ps:scale", name, "--format", "json").out == '[{"process_type":"web","quantity":2},' \
            '{"process_type":"worker","quantity":1}]\n'  # fmt: skip
        assert dokku("ps:report", name, "--ps-restart-policy").out == "always\n"
        assert dokku("ps:report", name, "--ps-stop-timeout-seconds").out == "30\n"
    assert dokku("ps:scale", "--skip-deploy", "copy", "web=1").code == 0  # independent records
    assert '"quantity":2' in dokku("ps:scale", app, "--format", "json").out


def test_clone_onto_an_existing_app(dokku, app, env):
    dokku("apps:create", "copy")
    before = env.snapshot()
    taken = dokku("apps:clone", app, "copy")
    assert (taken.code, taken.err) == (1, " !     Name is already taken\n")
    ignored = dokku("apps:clone", "--ignore-existing", app, "copy")
    assert (ignored.code, ignored.out, ignored.err) == (0, "", " !     Name is already taken\n")
    assert env.snapshot() == before


def test_report(dokku, app, env):
    result = dokku("apps:report", app)
    created = json.loads(dokku("apps:report", app, "--format", "json").out)["app-created-at"]
    assert result.out == (
        "=====> node-js-app app information\n"  # padded to the longest key, --app-global-disable-autocreation
        f"       App created at:                  {created}\n"
        "       App deploy source:\n"
        "       App deploy source metadata:\n"
        f"       App dir:                         {env.dokku_root / app}\n"
        "       App global disable autocreation:\n"
        "       App locked:                      false\n"
    )
    assert dokku("apps:report", app, "--app-dir").out == f"{env.dokku_root / app}\n"


def test_lock_unlock_locked_with_dokku_messages(dokku, app, env):
    assert (dokku("apps:locked", app).code, dokku("apps:locked", app).err) == (1, " !     Deploy lock does not exist\n")
    locked = dokku("apps:lock", app)
    assert (locked.code, locked.out, locked.err) == (0, "-----> Deploy lock created\n", "")
    assert dokku("apps:locked", app).out == "Deploy lock exists\n"
    assert dokku("--quiet", "apps:locked", app).out == ""
    assert dokku("apps:report", app, "--app-locked").out == "true\n"
    refusal = (f" !     {app} currently has a deploy lock in place. Exiting...\n"
               " !     Run 'apps:unlock' to release the existing deploy lock\n")  # fmt: skip
    for args in (("storage:mount", app, "/var/tmp:/tmp/x"), ("storage:unmount", app, "/var/tmp:/tmp/x")):
        before = env.snapshot()
        result = dokku(*args)
        assert (result.code, result.out, result.err) == (1, "", refusal), args
        assert env.snapshot() == before
    unlocked = dokku("apps:unlock", app)
    assert (unlocked.code, unlocked.out, unlocked.err) == (
        0, "-----> Deploy lock removed.\n",
        " !     A deploy may be in progress.\n !     Removing the app lock will not stop in progress deploys.\n",
    )  # fmt: skip
    again = dokku("apps:unlock", app)
    assert (again.code, again.out, again.err) == (0, "-----> Deploy lock removed.\n", "")
    assert dokku("apps:report", app, "--app-locked").out == "false\n"
    assert dokku("apps:lock", "missing").err == " !     App missing does not exist\n"


def test_a_locked_app_is_not_deployed_or_restarted(dokku, deployed, images, env):
    running_before = running(deployed)
    assert dokku("apps:lock", deployed).code == 0
    refusal = (f" !     {deployed} currently has a deploy lock in place. Exiting...\n"
               " !     Run 'apps:unlock' to release the existing deploy lock\n")  # fmt: skip
    for args in (("ps:restart", deployed), ("ps:rebuild", deployed), ("ps:scale", deployed, "web=2"),
                 ("git:from-image", deployed, images.v2), ("config:set", deployed, "A=1")):  # fmt: skip
        result = dokku(*args)
        assert (result.code, result.err) == (1, refusal), args
    assert running(deployed) == running_before
    assert dokku("config:get", deployed, "A").code == 1  # refused before it was written
    assert dokku("config:set", "--no-restart", deployed, "A=1").code == 0  # no restart: allowed
    assert dokku("apps:unlock", deployed).code == 0
    assert dokku("ps:restart", deployed).code == 0
    report = dokku("apps:report", deployed, "--format", "json").out
    assert '"app-deploy-source":"docker-image"' in report.replace(" ", "")
    assert dokku("apps:report", deployed, "--app-deploy-source-metadata").out == f"{images.v1}\n"


def test_list_as_json_is_dokkus_compact_array(dokku, env):
    assert dokku("apps:list", "--format", "json").out == "[]\n"
    for name in ("python-app", "node-js-app"):
        assert dokku("apps:create", name).code == 0
    listed = dokku("apps:list", "--format", "json")
    assert (listed.code, listed.out, listed.err) == (0, '["node-js-app","python-app"]\n', "")
    refused = dokku("apps:list", "--format", "yaml")
    assert (refused.code, refused.err) == (1, " !     Invalid --format value specified\n")
