"""run and run:detached: one-off containers with the run-phase docker options and mounts."""

from __future__ import annotations

import shlex
import sys

from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.plugins.config import app_env
from pydokku.plugins.scheduler import shell as scheduler_shell

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context

DEFAULT_SHELL = "/bin/bash"


def _env(args: ParsedArgs) -> dict[str, str]:
    env = {}
    for pair in args.lists.get("env", []):
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise DokkuError(f"Invalid env pair: {pair}")
        env[key] = value
    return env


def _command(context: Context, app_name: str, words: list[str]) -> list[str]:
    """The container command: a Procfile process type runs its command; no command runs the shell."""
    from pydokku.scheduler import current_release, plan

    with context.store.read() as tx:
        app = apps.require(tx, app_name)
        release = current_release(tx, app)
        # The scheduler plugin's `shell` property, else the older DOKKU_APP_SHELL config var.
        shell = scheduler_shell(tx, app) or app_env(tx, app).get("DOKKU_APP_SHELL") or DEFAULT_SHELL
    if not words:
        return [shell]
    procfile_command = release.processes.get(words[0]) if release is not None else None
    if procfile_command is not None:
        context.console.header(f"Found '{words[0]}' in Procfile, running that command")
        return plan.container_command(" ".join([procfile_command, *map(shlex.quote, words[1:])]))
    return words


def _run(context: Context, args: ParsedArgs, *, detached: bool) -> int:
    from pydokku import scheduler

    app_name = args.positional(0)
    env = _env(args)
    command = _command(context, app_name, args.positionals[1:])
    ttl = _ttl(args.value("ttl-seconds")) or _default_ttl(context, app_name)
    tty = not args.has("no-tty") and sys.stdin.isatty() and sys.stdout.isatty()
    context.console.out.flush()
    return scheduler.run(context, app_name, command, env, detached=detached, tty=tty, ttl=ttl)


def _default_ttl(context: Context, app_name: str) -> int:
    """scheduler-docker-local:set <app> ttl-seconds <n>: every run of the app is stopped after n seconds."""
    from pydokku.plugins import scheduler
    from pydokku.plugins.scheduler_docker_local import settings

    with context.store.read() as tx:
        app = apps.require(tx, app_name)
        value = settings(tx, app)["ttl-seconds"] if scheduler.selected(tx, app) == "docker-local" else ""
    return int(value) if value else 0


def _ttl(value: str | None) -> int:
    """`--ttl-seconds N`: the run is stopped after N seconds, even when the client is gone."""
    if value is None:
        return 0
    if not value.isascii() or not value.isdigit() or int(value) == 0:
        raise DokkuError(f"--ttl-seconds takes a positive number of seconds, not {value!r}")
    return int(value)


def run_attached(context: Context, args: ParsedArgs) -> int:
    return _run(context, args, detached=False)


def run_detached(context: Context, args: ParsedArgs) -> int:
    return _run(context, args, detached=True)


def _app(context: Context, args: ParsedArgs) -> str:
    with context.store.read() as tx:
        return apps.require(tx, args.positional(0)).name


def list_runs(context: Context, args: ParsedArgs) -> None:
    from pydokku import scheduler
    from pydokku.console import columnize, list_format

    fmt = list_format(args.value("format"))
    app_name = _app(context, args)
    found = scheduler.runs(context, app_name)
    if fmt == "json":
        import json

        context.console.line(json.dumps(found))
        return
    context.console.section(f"{app_name} run containers")
    rows = [("NAME", "STATE", "COMMAND", "CREATED"),
            *((run["name"], run["state"], run["command"], run["created_at"]) for run in found)]  # fmt: skip
    context.console.lines(columnize(rows))


def run_logs(context: Context, args: ParsedArgs) -> None:
    from pydokku import scheduler
    from pydokku.plugins.logs import line_count, show

    app_name, run = _app(context, args), args.positional(1)
    if not run:
        raise DokkuError(f"Please specify the run container (dokku run:list {app_name})")
    count, follow = line_count(args.value("num")), args.has("tail")
    stream = scheduler.run_logs(context, app_name, run, count, follow)
    show(context, app_name, [(run.removeprefix(f"{app_name}."), stream)], follow=follow,
         quiet=args.has("quiet") or context.flags.quiet)  # fmt: skip


def stop_run(context: Context, args: ParsedArgs) -> None:
    from pydokku import scheduler

    app_name, run = _app(context, args), args.positional(1)
    if not run:
        raise DokkuError(f"Please specify the run container (dokku run:list {app_name})")
    context.console.header(f"Stopping {run}")
    scheduler.stop_run(context, app_name, run)
