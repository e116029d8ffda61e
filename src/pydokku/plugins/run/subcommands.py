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


DEFAULT_TTL = 86400  # Dokku's: a one-off container is reaped after a day unless told otherwise
RESERVED_LABELS = ("com.dokku", "org.label-schema")


def _run(context: Context, args: ParsedArgs, *, detached: bool) -> int:
    from pydokku import scheduler
    from pydokku.scheduler.plan import OneOff

    app_name = args.positional(0)
    no_tty, force_tty = args.has("no-tty"), args.has("force-tty")
    if no_tty and force_tty:
        raise DokkuError("Cannot specify both --force-tty and --no-tty")
    env, labels = _env(args), _labels(context.flags.labels)
    command = _command(context, app_name, args.positionals[1:])
    ttl = _ttl(args.value("ttl-seconds")) or _default_ttl(context, app_name)
    # Dokku's has_tty: a terminal on both ends; a detached run has one only when forced.
    tty = force_tty or (not no_tty and not detached and sys.stdin.isatty() and sys.stdout.isatty())
    context.console.out.flush()
    return scheduler.run(context, app_name, OneOff(command, env, detached=detached, tty=tty, ttl=ttl, labels=labels))


def _labels(given: list[str]) -> dict[str, str]:
    """The global `--label=KEY=VALUE` flags; Dokku's own label namespaces are not the user's to set."""
    labels = {}
    for label in given:
        key, _, value = label.partition("=")
        if not key or any(c.isspace() for c in key):
            raise DokkuError(f"Invalid label: {label!r} (expected --label=KEY=VALUE)")
        if key.startswith(RESERVED_LABELS):
            raise DokkuError(f"Labels beginning with com.dokku or org.label-schema are reserved: {key}")
        labels[key] = value
    return labels


def _default_ttl(context: Context, app_name: str) -> int:
    """scheduler-docker-local:set <app> ttl-seconds <n>, else Dokku's day."""
    from pydokku.plugins import scheduler
    from pydokku.plugins.scheduler_docker_local import settings

    with context.store.read() as tx:
        app = apps.require(tx, app_name)
        value = settings(tx, app)["ttl-seconds"] if scheduler.selected(tx, app) == "docker-local" else ""
    return int(value) if value else DEFAULT_TTL


def _ttl(value: str | None) -> int:
    """`--ttl-seconds N`: the run is stopped after N seconds, even when the client is gone."""
    if value is None:
        return 0
    if not value.isascii() or not value.isdigit() or int(value) == 0:
        raise DokkuError("--ttl-seconds must be a positive integer")
    return int(value)


def run_attached(context: Context, args: ParsedArgs) -> int:
    return _run(context, args, detached=False)


def run_detached(context: Context, args: ParsedArgs) -> int:
    return _run(context, args, detached=True)


def list_runs(context: Context, args: ParsedArgs) -> None:
    """Dokku's listing: `docker container ls`'s table (NAMES, COMMAND, CREATED), or its JSON fields (the
    command quoted as Docker quotes it, the creation time in Go's format)."""
    import json
    import time

    from pydokku import scheduler
    from pydokku.console import columnize, report_format
    from pydokku.text import docker_time, go_quote, human_duration

    fmt = report_format(args.value("format"))
    with context.store.read() as tx:
        app_name = apps.require(tx, args.positional(0)).name
    found = scheduler.runs(context, app_name)
    if fmt == "json":
        listed = [{"name": run.name, "state": run.state, "command": go_quote(run.command),
                   "created_at": docker_time(run.created)} for run in found]  # fmt: skip
        context.console.line(json.dumps(listed, indent=2))
        return
    now = time.time()
    rows = [(run.name, go_quote(run.command), f"{human_duration(now - run.created)} ago") for run in found]
    context.console.section(f"{app_name} run containers")
    context.console.lines(columnize(rows if context.flags.quiet else [("NAMES", "COMMAND", "CREATED"), *rows],
                                    gutter=3, minimum=10))  # fmt: skip


def _target(context: Context, args: ParsedArgs) -> tuple[str, str]:
    """The app and run container (`--container NAME`, or the older second argument; "": all of the
    app's) a run:logs or run:stop is about, as Dokku derives them: the app from the container's name."""
    app_name, container = args.positional(0), args.value("container") or args.positional(1)
    if not app_name and not container:
        raise DokkuError("No container or app specified")
    if container:
        named_app, kind = run_container_parts(container)
        if not named_app:
            raise DokkuError(f"Invalid container name specified: {container}")
        if app_name and app_name != named_app:
            raise DokkuError("Specified app does not app in container name")
        if kind != "run":
            raise DokkuError("Specified container must be a run container")
        app_name = named_app
    with context.store.read() as tx:
        return apps.require(tx, app_name).name, container


def run_container_parts(name: str) -> tuple[str, str]:
    """`app.run.1234` (docker-local) or `app-run-1234` (a swarm job) → (app, "run"); ("", "") when the
    name has neither shape. App names may hold dots, so the app is what is left of the last two parts."""
    for separator in (".", "-"):
        head, _, number = name.rpartition(separator)
        app, _, kind = head.rpartition(separator)
        if app and kind and number.isdigit() and (separator == "." or kind == "run"):
            return app, kind
    return "", ""


def run_logs(context: Context, args: ParsedArgs) -> None:
    from pydokku import scheduler
    from pydokku.plugins.logs import line_count, show

    app_name, container = _target(context, args)
    count, follow = line_count(args.value("num")), args.has("tail")
    streams = scheduler.run_log_streams(context, app_name, container, count, follow)
    show(context, streams, follow=follow, quiet=args.has("quiet") or context.flags.quiet)


def stop_runs(context: Context, args: ParsedArgs) -> None:
    """Dokku's run:stop: each stopped container's name on a line of its own."""
    from pydokku import scheduler

    app_name, container = _target(context, args)
    stopped = scheduler.stop_runs(context, app_name, container)
    if not stopped:
        if container:
            context.console.warn("Specified container does not exist")
        elif not context.flags.quiet:
            context.console.line("No run containers exist")
    context.console.lines(stopped)
