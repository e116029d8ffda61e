"""scheduler-docker-local:* handlers."""

from __future__ import annotations

from pydokku import report
from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.plugins.scheduler_docker_local import BOOLEAN, DEFAULTS, PLUGIN, settings
from pydokku.store import properties

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx


def set_property(context: Context, args: ParsedArgs) -> None:
    key, value = args.positional(1), args.positional(2)
    with context.store.write() as tx:
        app = apps.require(tx, args.positional(0))
        if not key:
            raise DokkuError("No property specified")
        if key not in DEFAULTS:
            raise DokkuError(f"Invalid property specified, valid properties include: {', '.join(sorted(DEFAULTS))}")
        if value and value not in BOOLEAN:
            raise DokkuError(f"Invalid value for {key}: {value} (expected true or false)")
        properties.put(tx, app.id, PLUGIN, key, value or None)
    if value:
        context.console.header(f"Setting {key} to {value}")
    else:
        context.console.header(f"Unsetting {key}")


def _collect(tx: Tx, targets: list[apps.AppRow], context: Context) -> dict[str, dict[str, str]]:
    return {app.name: {f"{PLUGIN}-{key}": value for key, value in settings(tx, app).items()} for app in targets}


def report_settings(context: Context, args: ParsedArgs) -> int:
    return report.run(context, args, "scheduler-docker-local", _collect)
