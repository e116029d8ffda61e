"""scheduler:* handlers: which scheduler runs an app, and moving a deployed app to another one."""

from __future__ import annotations

from pydokku import settings as settings_module
from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.plugins.scheduler import AVAILABLE, KEYS, PLUGIN, computed, values
from pydokku.report import Scoped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context

SCOPED = Scoped(PLUGIN, KEYS, values, lambda own, global_values, key, app: computed(own, global_values, key))
NOT_HERE = {
    "k3s": "Kubernetes cannot run on this host kind",
}


def _check(key: str, value: str) -> None:
    if key == "selected" and value not in AVAILABLE:
        why = NOT_HERE.get(value, "no such scheduler")
        raise DokkuError(f'Scheduler "{value}" is not available ({why}); available: {", ".join(AVAILABLE)}')


def set_property(context: Context, args: ParsedArgs) -> None:
    """Set the property; when an app's scheduler changes and it is deployed, the new scheduler takes it
    over at once: the new one starts it, then the old one's containers are retired."""
    from pydokku import scheduler

    app_name = "" if args.has("global") else args.positional(0)
    before = _computed_schedulers(context, app_name)
    settings_module.set_property(context, args, PLUGIN, KEYS, _check)
    after = _computed_schedulers(context, app_name)
    for name, old in before.items():
        if after.get(name, old) != old:
            scheduler.switch(context, name, old)


def _computed_schedulers(context: Context, app_name: str) -> dict[str, str]:
    """The scheduler of each deployed app the change may concern (one app, or all with --global)."""
    from pydokku import scheduler
    from pydokku.store import apps as app_store

    with context.store.read() as tx:
        targets = [apps.require(tx, app_name)] if app_name else app_store.list_all(tx)
        return {app.name: computed(*values(tx, app), "selected") for app in targets if scheduler.deployed(tx, app)}


def report_scheduler(context: Context, args: ParsedArgs) -> int:
    return SCOPED.report(context, args, "scheduler")
