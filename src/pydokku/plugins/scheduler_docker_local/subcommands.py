"""scheduler-docker-local:* handlers."""

from __future__ import annotations

from pydokku import report
from pydokku import settings as settings_module
from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.plugins.scheduler_docker_local import BOOLEAN, DEFAULTS, PLUGIN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx


def _check(key: str, value: str) -> None:
    if key in ("ttl-seconds", "parallel-schedule-count"):
        if not value.isascii() or not value.isdigit() or int(value) == 0:
            what = "seconds" if key == "ttl-seconds" else "process types"
            raise DokkuError(f"Invalid value for {key}: {value} (expected a positive number of {what})")
        return
    if value not in BOOLEAN:
        raise DokkuError(f"Invalid value for {key}: {value} (expected true or false)")


def set_property(context: Context, args: ParsedArgs) -> None:
    settings_module.set_property(context, args, PLUGIN, DEFAULTS, _check)


def _collect(tx: Tx, targets: list[apps.AppRow], context: Context) -> dict[str, dict[str, str]]:
    return {app.name: settings_module.report_values(tx, app.id, PLUGIN, DEFAULTS) for app in targets}


def report_settings(context: Context, args: ParsedArgs) -> int:
    # Dokku's JSON for this report: the keys without the plugin's prefix, only (no legacy keys).
    return report.run(
        context, args, "scheduler-docker-local", _collect, json_values=report.trimmed(PLUGIN, legacy=False),
        global_collect=lambda tx: settings_module.global_report_values(tx, PLUGIN, DEFAULTS),
    )  # fmt: skip
