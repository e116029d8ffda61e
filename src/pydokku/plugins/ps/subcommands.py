"""ps:* handlers: the processes of deployed apps."""

from __future__ import annotations

import json

from pydokku import report, scheduler
from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.plugins.ps import DEFAULTS, PLUGIN
from pydokku.plugins.ps import scale as current_scale
from pydokku.scheduler import current_release, deployed, plan
from pydokku.store import apps as app_store
from pydokku.store import properties
from pydokku.text import only

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx


def _targets(context: Context, args: ParsedArgs) -> list[str]:
    """The app named, or every app with --all; each must exist."""
    with context.store.read() as tx:
        if args.has("all"):
            return [app.name for app in app_store.list_all(tx)]
        return [apps.require(tx, args.positional(0)).name]


def _deployed(context: Context, app_name: str) -> bool:
    with context.store.read() as tx:
        if deployed(tx, apps.require(tx, app_name)):
            return True
    context.console.warn(f"App {app_name} has not been deployed")
    return False


def _each_deployed(context: Context, args: ParsedArgs, action: Callable[[str], None]) -> None:
    for app_name in _targets(context, args):
        if _deployed(context, app_name):
            action(app_name)


def restart(context: Context, args: ParsedArgs) -> None:
    process = args.positional(0 if args.has("all") else 1) or None
    _each_deployed(context, args, lambda app: scheduler.deploy(context, app, only=process))


def rebuild(context: Context, args: ParsedArgs) -> None:
    _each_deployed(context, args, lambda app: scheduler.rebuild(context, app))


def stop(context: Context, args: ParsedArgs) -> None:
    def stop_app(app_name: str) -> None:
        context.console.header(f"Stopping {app_name}")
        scheduler.stop(context, app_name)

    _each_deployed(context, args, stop_app)


def start(context: Context, args: ParsedArgs) -> None:
    def start_app(app_name: str) -> None:
        states = {c.state for c in scheduler.processes(context, app_name)}
        if states == {"running"}:
            context.console.header(f"App {app_name} already running")
            return
        if "running" in states:
            context.console.warn("App is running in mixed mode, releasing")
        else:
            context.console.warn("App has been detected as not running, releasing")
        scheduler.deploy(context, app_name)

    _each_deployed(context, args, start_app)


def _parse_scale(pairs: list[str]) -> dict[str, int]:
    quantities = {}
    for pair in pairs:
        name, eq, count = pair.partition("=")
        if not eq or not name or not only(name, plan.PROCESS_NAME) or not count.isascii() or not count.isdigit():
            raise DokkuError(f"Invalid process scaling argument {pair!r}: expected <proc>=<count>, e.g. web=2")
        quantities[name] = int(count)
    return quantities


def scale(context: Context, args: ParsedArgs) -> None:
    from pydokku.console import list_format

    app_name, pairs = args.positional(0), args.positionals[1:]
    fmt = list_format(args.value("format"))
    quantities = _parse_scale(pairs)
    if quantities and args.value("format") is not None:
        raise DokkuError("--format only applies when showing the scaling (without <proc>=<count>)")
    console = context.console
    with context.store.write() as tx:
        app = apps.require(tx, app_name)
        release = current_release(tx, app)
        if not quantities:
            types = sorted(release.processes) if release else []
            shown = dict(sorted({**current_scale(tx, app, types), **properties.scale(tx, app.id)}.items()))
            if fmt == "json":
                console.line(json.dumps(shown, separators=(",", ":")))
                return
            console.header(f"Scaling for {app_name}")
            console.lines(["proctype: qty", "--------: ---", *(f"{name}:  {count}" for name, count in shown.items())])
            return
        unknown = sorted(set(quantities) - set(release.processes)) if release else []
        if unknown:
            raise DokkuError(f"Process type {', '.join(unknown)} is not in the release of {app_name}")
        properties.set_scale(tx, app.id, quantities)
    console.header(f"Scaling {app_name} processes: {' '.join(pairs)}")
    if release is not None and not args.has("skip-deploy"):
        scheduler.deploy(context, app_name)


# Dokku's scheduler-inspect shows these variables as they are and every other value as XXXXXX.
SHOWN_ENV_PREFIXES = ("CACHE_PATH=", "DOCKER_", "DOKKU_", "DYNO=", "PATH=", "PORT=", "USER=")


def inspect(context: Context, args: ParsedArgs) -> None:
    with context.store.read() as tx:
        app = apps.require(tx, args.positional(0))
    details = [_sanitized(detail) for detail in scheduler.inspect(context, app.name)]
    context.console.line(json.dumps(details, sort_keys=True, indent=4))


def _sanitized(detail: dict[str, Any]) -> dict[str, Any]:
    """Config values masked in a container's (`Config.Env`) or a swarm service's environment."""
    holders = [detail.get("Config"), ((detail.get("Spec") or {}).get("TaskTemplate") or {}).get("ContainerSpec")]
    for holder in holders:
        if isinstance(holder, dict) and isinstance(holder.get("Env"), list):
            holder["Env"] = [
                item if item.startswith(SHOWN_ENV_PREFIXES) else f"{item.partition('=')[0]}=XXXXXX"
                for item in map(str, holder["Env"])
            ]
    return detail


RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")


def _check_setting(key: str, value: str) -> None:
    if key == "restart-policy":
        name, colon, retries = value.partition(":")
        if name not in RESTART_POLICIES or (colon and (name != "on-failure" or not retries.isdigit())):
            raise DokkuError(
                f"Invalid restart-policy: {value} (expected no, always, unless-stopped, on-failure"
                " or on-failure:<retries>)"
            )
    elif not (value.isascii() and value.isdigit()):
        raise DokkuError(f"Invalid stop-timeout-seconds: {value} (expected a whole number of seconds)")


def set_property(context: Context, args: ParsedArgs) -> None:
    from pydokku import settings as plugin_settings

    plugin_settings.set_property(context, args, PLUGIN, DEFAULTS, _check_setting)


def _collect(tx: Tx, targets: list[apps.AppRow], context: Context) -> dict[str, dict[str, str]]:
    from pydokku.settings import report_values

    values = {}
    for app in targets:
        values[app.name] = {
            "deployed": str(current_release(tx, app) is not None).lower(),
            "ps-can-scale": "true",  # every process type of a release can be scaled with ps:scale
            **report_values(tx, app.id, PLUGIN, DEFAULTS),
        }
    return values


def _json_keys(values: dict[str, str]) -> dict[str, str]:
    """Dokku 0.38.8's JSON for ps:report: each key without the `ps-` prefix, and with it."""
    return {**{key.removeprefix("ps-"): value for key, value in values.items()}, **values}


def _containers(context: Context, values: dict[str, dict[str, str]]) -> None:
    """What runs, from the engine: asked only for deployed apps."""
    for app_name, row in values.items():
        containers = scheduler.processes(context, app_name) if row["deployed"] == "true" else []
        running = [c for c in containers if c.state == "running"]
        row["processes"] = str(len(running))
        row["running"] = "true" if containers and len(running) == len(containers) else "mixed" if running else "false"
        for container in containers:
            dyno = container.labels.get(plan.LABEL_DYNO, "")
            where = f", node: {container.node}" if container.node else ""
            why = f": {container.error}" if container.error else ""
            row[f"status-{dyno}"] = f"{container.state} (CID: {container.id[:11]}{where}){why}"


def report_processes(context: Context, args: ParsedArgs) -> int:
    return report.run(context, args, "ps", _collect, json_values=_json_keys, engine_values=_containers)
