"""logs: each process's output as Dokku shows it, `<time> app[<dyno>]: <line>` (`-q`: the line
alone), the last lines of every process merged in time order, or (`-t`) followed until they stop;
logs:failed: what the containers of the app's last failed deploy said."""

from __future__ import annotations

import sys

from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.plugins.logs import line_count, show
from pydokku.store import apps as app_store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context


def logs(context: Context, args: ParsedArgs) -> None:
    from pydokku import scheduler

    name = args.positional(0)
    with context.store.read() as tx:
        app = apps.require(tx, name)
        deployed = scheduler.deployed(tx, app)
    count = line_count(args.value("num"))
    if not deployed:
        raise DokkuError(f"App {name} has not been deployed")
    follow, quiet = args.has("tail"), args.has("quiet") or context.flags.quiet
    streams = scheduler.log_streams(context, name, args.value("ps") or "", count, follow)
    if not streams:  # Dokku shows nothing and exits 0; we say why
        process = args.value("ps")
        context.console.warn(f"No {process} processes running for {name}" if process else f"App {name} is not running")
        return
    show(context, streams, follow=follow, quiet=quiet)


def failed(context: Context, args: ParsedArgs) -> None:
    """Dokku's logs:failed <app>|--all: a heading per app, then the output its last failed deploy's
    containers left (kept when the deploy removed them), or Dokku's warning."""
    from pydokku import scheduler

    every = args.has("all")
    with context.store.read() as tx:
        names = [app.name for app in app_store.list_all(tx)] if every else [apps.require(tx, args.positional(0)).name]
    if not names:
        context.console.warn(apps.NO_APPS)
    for name in names:
        if every:  # Dokku's RunCommandAgainstAllAppsSerially
            context.console.header(f"Running logs:failed against app {name}")
        context.console.section(f"{name} failed deploy logs")
        output = scheduler.failed_logs(context, name)
        if output is None:
            context.console.warn("No failed containers found")
            continue
        context.console.out.flush()
        sys.stdout.buffer.write(output)
        sys.stdout.buffer.flush()
