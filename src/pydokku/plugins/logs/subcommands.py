"""logs: each process's output as Dokku shows it, `<time> <app>[<dyno>]: <line>` (`-q`: the line
alone), the last lines of every process merged in time order, or (`-t`) followed until they stop."""

from __future__ import annotations

from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.plugins.logs import line_count, show

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
    if not streams:
        process = args.value("ps")
        raise DokkuError(f"No {process} processes running for {name}" if process else f"App {name} is not running")
    show(context, name, streams, follow=follow, quiet=quiet)
