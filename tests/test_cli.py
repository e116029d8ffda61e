"""The command line itself: help screens, version, unknown commands, global and command flags."""

from __future__ import annotations

import pytest

STORAGE_HELP = """\
Usage: dokku storage[:COMMAND]

Manage mounted volumes

Additional commands:
    storage:annotations:report [<name>] [<flag>]                                                 Displays the annotations of one or all storage entries
    storage:annotations:set <name> <key> [<value>]                                               Sets or clears an annotation of a storage entry
    storage:backup <name>...|--app <app>|--all                                                   Takes a snapshot of storage entries now (encrypted, deduplicated, with restic)
    storage:backup-auth <name>|--global <KEY=VALUE>...                                           Keeps backend credentials for backups (passed to restic in its environment, never shown)
    storage:backup-deauth <name>|--global [<KEY>...]                                             Forgets backend credentials for backups (all of them, or those named)
    storage:backup-list <name> [--format text|json]                                              Lists the snapshots of a storage entry
    storage:backup-prune <name>...|--all                                                         Removes the snapshots the retention (keep-*) does not keep
    storage:backup-report [<name>] [<flag>] [--global] [--format stdout|json]                    Displays the backup settings, schedule and last snapshot of storage entries
    storage:backup-restore <name> [<snapshot>|latest] [--to <dir>] [--discard-previous] | --all  Restores a snapshot into its storage entry (atomically), or into another directory
    storage:backup-set <name>|--global <property> [<value>]                                      Sets or clears a backup property of a storage entry, or its global default
    storage:backup-verify <name>...|--all [--read-data]                                          Checks the integrity of the repositories holding storage entries' snapshots
    storage:create <name> [<path>] [--chown <c>] [--mode <m>] [--reclaim-policy <p>]             Creates a named storage entry (a host directory or a docker volume)
    storage:destroy <name> [--force] [--destroy-host-dir]                                        Destroys a storage entry that no app mounts (its data is kept unless asked)
    storage:ensure-directory [--chown option] <directory>                                        Creates a persistent storage directory in the recommended storage path
    storage:exec <name> [--image <image>] [--as-user <uid>] [-- <cmd>...]                        Runs a command in a temporary container with the storage entry at /data
    storage:export <name> [--compress zstd|gzip|none]                                            Writes a storage entry's content as a tar stream to standard output
    storage:import <name> [--replace] [--keep-previous|--discard-previous]                       Replaces a storage entry's content with a tar stream read from standard input
    storage:info <name> [--format text|json]                                                     Displays a storage entry
    storage:labels:report [<name>] [<flag>]                                                      Displays the labels of one or all storage entries
    storage:labels:set <name> <key> [<value>]                                                    Sets or clears a label of a storage entry
    storage:list <app> [--format text|json]                                                      List bind mounts for app's container(s) (host:container)
    storage:list-entries [--format text|json]                                                    Lists the storage entries
    storage:migrate [<app>|--all]                                                                Moves the volumes of an app's docker options into storage entries
    storage:mount <app> <host-dir:container-dir>|<name> [--container-dir <path>]                 Create a new bind mount, or mount a storage entry
    storage:move <name>... --to-node <hostname> [--discard-source] [--replace-target]            Moves storage entries on a swarm node to another node, with the apps that mount them
    storage:repair [<app>|--all] [--dry-run] [--discard-previous [--older-than <age>]]           Fixes what storage:verify finds that is safe to fix; deletes previous copies only when asked
    storage:report [<app>] [<flag>] [--global]                                                   Displays a storage report for one or more apps
    storage:set <name> <property> [<value>]                                                      Sets or clears a property of a storage entry
    storage:unmount <app> <host-dir:container-dir>|<name> [--container-dir <path>]               Remove an existing bind mount, or unmount a storage entry
    storage:usage [<name>...|--app <app>|--all] [--refresh] [--format text|json]                 Displays how much storage entries hold and the room left, largest first
    storage:verify [<app>|--all] [--format text|json]                                            Finds missing paths, wrong owners, orphans, dead records and drift in storage (exit 1 when found)
    storage:wait <name>                                                                          Waits for a storage entry to be ready
"""

GLOBAL_HELP = """\
Usage: dokku [--quiet|--trace|--force] COMMAND <app> [command-specific-options]

Primary help options, type "dokku COMMAND:help" for more details, or dokku help --all to see all commands.

Commands:

    apps                    Manage apps
    config                  Manage global and app-specific config vars
    docker-options          Manage docker options for an app
    events                  Manage event logging
    git                     Manage app deploys
    logs                    Manage log integration for an app
    ps                      List and manage the processes of an app
    registry                Manage registry settings for an app
    run                     Run a one-off process inside a container
    scheduler               Manage schedulers
    scheduler-docker-local  Manage the docker-local scheduler integration for an app
    scheduler-docker-swarm  Manage the docker-swarm scheduler integration for an app
    storage                 Manage mounted volumes
"""


@pytest.mark.parametrize("argv", [["storage"], ["storage:help"], ["--quiet", "storage:help"]])
def test_storage_help(dokku, argv):
    result = dokku(*argv)
    assert (result.code, result.out, result.err) == (0, STORAGE_HELP, "")


@pytest.mark.parametrize(
    "plugin",
    [
        "apps",
        "config",
        "docker-options",
        "git",
        "ps",
        "registry",
        "run",
        "scheduler",
        "scheduler-docker-local",
        "scheduler-docker-swarm",
        "storage",
    ],
)
def test_every_plugin_has_the_same_help_layout(dokku, plugin):
    help_command = dokku(f"{plugin}:help")
    if plugin not in ("run", "config"):  # `dokku run` runs a command, `dokku config` shows one, as in Dokku
        assert dokku(plugin) == help_command
    lines = help_command.lines
    assert lines[:2] == [f"Usage: dokku {plugin}[:COMMAND]", ""]
    assert lines[3:5] == ["", "Additional commands:"]
    assert all(line.startswith((f"    {plugin}:", f"    {plugin} ")) for line in lines[5:])
    # The descriptions form one column, two spaces after the longest usage.
    starts = {len(line) - len(line[4:].split("  ", 1)[1].lstrip()) for line in lines[5:]}
    assert len(starts) == 1


def test_run_without_an_app(dokku):
    result = dokku("run")
    assert (result.code, result.err) == (1, " !     Please specify an app to run the command on\n")


def test_docker_options_help_table(dokku):
    assert dokku("docker-options").lines[5:] == [
        "    docker-options:add [--process PROC...] <app> <phase(s)> OPTION     Add Docker option to app for phase (comma separated phase list)",
        "    docker-options:clear [--process PROC...] <app> [phase(s)]          Clear a docker options from application with an optional phase (comma separated phase list)",
        "    docker-options:list <app> [--process PROC] --phase PHASE           List docker options for one process+phase pair",
        "    docker-options:remove [--process PROC...] <app> <phase(s)> OPTION  Remove Docker option from app for phase (comma separated phase list)",
        "    docker-options:report [<app>] [<flag>]                             Displays a docker options report for one or more apps",
    ]


@pytest.mark.parametrize("argv", [[], ["help"], ["--help"]])
def test_global_help(dokku, argv):
    assert dokku(*argv).out == GLOBAL_HELP


def test_global_help_quiet_drops_the_header(dokku):
    assert dokku("--quiet", "help").out == GLOBAL_HELP.split("Commands:\n\n")[1]


def test_help_all_lists_every_command(dokku):
    lines = dokku("help", "--all").lines
    commands = [line.split()[0] for line in lines[6:]]
    assert commands == sorted(commands)
    assert {"apps:create", "config:set", "docker-options:add", "storage:mount", "storage:report"} <= set(commands)


@pytest.mark.parametrize("word", ["version", "--version", "-v"])
def test_version(dokku, word):
    assert (dokku(word).out, dokku(word).code) == ("dokku version 0.38.27\n", 0)


def test_unknown_command(dokku):
    result = dokku("storage:frobnicate", "node-js-app", "x")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        " !     `storage:frobnicate node-js-app x` is not a dokku command.\n"
        " !     See `dokku help` for a list of available commands.\n"
    )


def test_unknown_plugin(dokku):
    result = dokku("nosuchplugin")
    assert result.code == 1
    assert result.err.splitlines()[0] == " !     `nosuchplugin` is not a dokku command."


def test_unknown_flag_is_a_usage_error(dokku, app):
    result = dokku("storage:list", app, "--bogus")
    assert (result.code, result.out, result.err) == (2, "", " !     unknown flag: --bogus\n")


def test_unknown_short_flag_is_a_usage_error(dokku, app):
    result = dokku("storage:list", "-x", app)
    assert (result.code, result.err) == (2, " !     unknown shorthand flag: 'x' in -x\n")


def test_missing_flag_value_is_a_usage_error(dokku, app):
    result = dokku("storage:list", app, "--format")
    assert (result.code, result.err) == (2, " !     flag needs an argument: --format\n")


def test_too_many_arguments(dokku, app):
    result = dokku("storage:list", app, "other")
    assert (result.code, result.err) == (1, " !     Unexpected argument(s): [other]\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["--quiet", "storage:list", "node-js-app"],
        ["storage:list", "--quiet", "node-js-app"],
        ["storage:list", "node-js-app", "--quiet"],
        ["storage:list", "--app", "node-js-app", "--quiet"],
        ["--app", "node-js-app", "--quiet", "storage:list"],
        ["--app=node-js-app", "storage:list", "--quiet"],
    ],
)
def test_global_flags_anywhere(dokku, app, host_dir, argv):
    dokku("storage:mount", app, f"{host_dir}:/app/storage")
    assert dokku(*argv).out == f"{host_dir}:/app/storage\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["storage:list", "node-js-app", "--format", "json"],
        ["storage:list", "node-js-app", "--format=json"],
        ["storage:list", "--format", "json", "node-js-app"],
        ["storage:list", "--format=json", "node-js-app"],
    ],
)
def test_command_flags_in_both_spellings_and_any_position(dokku, app, argv):
    assert dokku(*argv).out == "[]\n"


def test_double_dash_ends_flag_parsing(dokku, app):
    # After `--`, "--quiet" is a positional (here: the name of a storage entry), not the global flag.
    result = dokku("storage:mount", app, "--", "--quiet")
    assert result.code == 1
    assert result.err == ' !     storage entry "--quiet" does not exist; create it first with `dokku storage:create`\n'


def test_quiet_environment_variable(dokku, app, monkeypatch):
    monkeypatch.setenv("DOKKU_QUIET_OUTPUT", "1")
    assert dokku("storage:list", app).out == ""


def test_trace_echoes_what_runs(dokku, app):
    result = dokku("--trace", "storage:list", app)
    assert result.err.startswith("+ dokku --trace storage:list node-js-app\n")


def test_console_script_end_to_end(dokku_process):
    created = dokku_process("apps:create", "my-app")
    assert (created.code, created.out, created.err) == (0, "-----> Creating my-app...\n", "")
    missing = dokku_process("storage:list", "other-app")
    assert (missing.code, missing.out, missing.err) == (20, "", " !     App other-app does not exist\n")


LIST_MESSAGE = " !     Invalid --format value specified\n"
REPORT_MESSAGE = ' !     Format must be "stdout" or "json": "yaml"\n'


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("storage:list", "node-js-app"), LIST_MESSAGE),
        (("storage:info", "uploads"), LIST_MESSAGE),
        (("storage:list-entries",), LIST_MESSAGE),
        (("config:show", "node-js-app"), LIST_MESSAGE),
        (("storage:report", "node-js-app"), REPORT_MESSAGE),
        (("storage:report", "--global"), REPORT_MESSAGE),
        (("storage:annotations:report", "uploads"), REPORT_MESSAGE),
        (("storage:labels:report",), REPORT_MESSAGE),
        (("apps:report", "node-js-app"), REPORT_MESSAGE),
        (("docker-options:report", "node-js-app"), REPORT_MESSAGE),
        (("scheduler-docker-local:report", "node-js-app"), REPORT_MESSAGE),
    ],
)
def test_one_format_rule(dokku, app, argv, message):
    """Every command that takes --format checks it: list and show commands with Dokku's list message,
    reports with Dokku's report message; none silently falls back to text."""
    dokku("storage:create", "uploads")
    result = dokku(*argv, "--format", "yaml")
    assert (result.code, result.out, result.err) == (1, "", message)
    assert dokku(*argv, "--format", "json").code == 0


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("argv", [("storage:list",), ("storage:list", "node-js-app"), ("storage:mount", "x", "y")])
def test_command_help(dokku, env, flag, argv):
    before = env.snapshot()
    result = dokku(*argv, flag)
    usage = (
        "storage:list <app> [--format text|json]"
        if argv[0] == "storage:list"
        else ("storage:mount <app> <host-dir:container-dir>|<name> [--container-dir <path>]")
    )
    description = (
        "List bind mounts for app's container(s) (host:container)"
        if argv[0] == "storage:list"
        else "Create a new bind mount, or mount a storage entry"
    )
    assert (result.code, result.err) == (0, "")
    assert result.out == f"Usage: dokku {usage}\n\n{description}\n"
    assert env.snapshot() == before


def test_help_flags_after_a_raw_tail_belong_to_the_command(dokku, app):
    """`dokku run <app> ls -h`: the -h is the container command's; docker options keep theirs too."""
    assert dokku("run", "missing-app", "ls", "-h").err == " !     App missing-app does not exist\n"
    assert dokku("docker-options:add", app, "deploy", "-h", "myhost").code == 0
    assert dokku("docker-options:report", app, "--docker-options-deploy").out.endswith("-h myhost\n")


def test_ssh_original_command_is_split_with_shell_rules_never_evaluated(dokku, app, env, monkeypatch):
    (env.root / "a b").mkdir()
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", f"storage:mount node-js-app '{env.root}/a b:/data'")
    assert dokku().code == 0
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "--quiet storage:list node-js-app")
    assert dokku().out == f"{env.root}/a b:/data\n"
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", f"apps:create $(touch {env.root}/pwned)")
    result = dokku()
    assert result.code == 1
    assert not (env.root / "pwned").exists()
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "apps:create 'unbalanced")
    assert dokku().err == " !     Unable to parse the SSH command (No closing quotation): apps:create 'unbalanced\n"


def test_arguments_that_are_not_utf8_are_refused_before_anything(dokku_process, env):
    """A command line holding bytes that are not UTF-8 (a surrogate escape in Python) changes nothing."""
    import os
    import subprocess

    from conftest import DOKKU_BIN

    dokku_process("apps:create", "node-js-app")
    before = env.snapshot()
    done = subprocess.run(
        [os.fsencode(str(DOKKU_BIN)), b"storage:mount", b"node-js-app", b"/srv/\xff:/data"],
        capture_output=True, env={**os.environ, **env.variables}, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (1, b"")
    assert done.stderr == b" !     Arguments must be valid UTF-8 text: '/srv/\\udcff:/data'\n"
    assert env.snapshot() == before
