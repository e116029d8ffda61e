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
    tty = not args.has("no-tty") and sys.stdin.isatty() and sys.stdout.isatty()
    context.console.out.flush()
    return scheduler.run(context, app_name, command, env, detached=detached, tty=tty)


def run_attached(context: Context, args: ParsedArgs) -> int:
    return _run(context, args, detached=False)


def run_detached(context: Context, args: ParsedArgs) -> int:
    return _run(context, args, detached=True)
