"""ps:* handlers: the processes of deployed apps."""

from __future__ import annotations

import json
import os

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


def _deployed(context: Context, app_name: str) -> bool:
    with context.store.read() as tx:
        if deployed(tx, apps.require(tx, app_name)):
            return True
    context.console.warn(f"App {app_name} has not been deployed")
    return False


def _against_apps(context: Context, args: ParsedArgs, command_name: str, action: Callable[[str], None]) -> None:
    """The app named, or with --all every app, serially or --parallel N at a time, as Dokku's
    RunCommandAgainstAllApps: each app's failure is reported and counted, and the count fails the command."""
    if not args.has("all"):
        with context.store.read() as tx:
            app_name = apps.require(tx, args.positional(0)).name
        action(app_name)
        return
    count = _parallel_count(args.value("parallel"))
    if count < -1:
        raise DokkuError(f"Invalid value {count} for --parallel flag")
    if count == -1:
        count = os.cpu_count() or 1
        context.console.warn(f"Setting --parallel=-1 value to CPU count of {count}")
    if count in (0, 1):
        context.console.warn(f"Running {command_name} in serial mode")
    with context.store.read() as tx:
        names = [app.name for app in app_store.list_all(tx)]
    if not names:
        context.console.warn(apps.NO_APPS)
        return
    if count in (0, 1):
        failed = 0
        for app_name in names:
            context.console.header(f"Running {command_name} against app {app_name}")
            try:
                action(app_name)
            except DokkuError as error:
                context.console.warn(f"Error running {command_name} against app {app_name}: {error.message}")
                failed += 1
        if failed:
            raise DokkuError(f"{command_name} command returned {failed} errors")
        return
    failed = _in_parallel(context, command_name, names, count)
    if failed:
        raise DokkuError(f"Encountered {failed} errors during parallel run")


def _parallel_count(value: str | None) -> int:
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        raise DokkuError(f'invalid value "{value}" for flag -parallel: parse error') from None


def _in_parallel(context: Context, command_name: str, names: list[str], count: int) -> int:
    """Each app's command in its own dokku process, `count` at a time (a deploy holds one app's lock and
    its own connections); its output passes through, its error is reported once it ends. The failures."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    flags = [flag for flag, on in (("--quiet", context.flags.quiet), ("--trace", context.flags.trace),
                                   ("--force", context.flags.force)) if on]  # fmt: skip

    def one(app_name: str) -> bool:
        context.console.header(f"Running command against {app_name}")
        done = subprocess.run([sys.executable, "-m", "pydokku", *flags, f"ps:{command_name}", app_name],
                              stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)  # fmt: skip
        context.console.err.write(done.stderr)
        context.console.err.flush()
        if done.returncode == 0:
            return True
        said = [line for line in done.stderr.splitlines() if line.startswith(" !     ")]
        error = said[-1].removeprefix(" !     ") if said else f"exit status {done.returncode}"
        context.console.warn(f"Error running {command_name} against {app_name}: {error}")
        return False

    with ThreadPoolExecutor(max_workers=count) as pool:
        return sum(1 for ok in pool.map(one, names) if not ok)


def restart(context: Context, args: ParsedArgs) -> None:
    process = args.positional(0 if args.has("all") else 1) or None
    if process and args.has("all"):
        raise DokkuError("Unable to restart all apps when specifying a process name")

    def restart_app(app_name: str) -> None:
        if _deployed(context, app_name):
            scheduler.deploy(context, app_name, only=process)

    _against_apps(context, args, "restart", restart_app)


def rebuild(context: Context, args: ParsedArgs) -> None:
    """Build each app from its recorded source: an app whose first deploy failed too."""

    def rebuild_app(app_name: str) -> None:
        with context.store.read() as tx:
            app = apps.require(tx, app_name)
            if apps.deploy_source(tx, app) is None and not deployed(tx, app):
                context.console.warn(f"App {app_name} has not been deployed")
                return
        scheduler.rebuild(context, app_name)

    _against_apps(context, args, "rebuild", rebuild_app)


def stop(context: Context, args: ParsedArgs) -> None:
    def stop_app(app_name: str) -> None:
        if _deployed(context, app_name):
            context.console.header(f"Stopping {app_name}")
            scheduler.stop(context, app_name)

    _against_apps(context, args, "stop", stop_app)


def start(context: Context, args: ParsedArgs) -> None:
    def start_app(app_name: str) -> None:
        if not _deployed(context, app_name):
            return
        states = {c.state for c in scheduler.processes(context, app_name)}
        if states == {"running"}:
            context.console.warn(f"App {app_name} already running")
            return
        if "running" in states:
            context.console.warn("App is running in mixed mode, releasing")
        else:
            context.console.warn("App has been detected as not running, releasing")
        scheduler.deploy(context, app_name)

    _against_apps(context, args, "start", start_app)


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
            if fmt == "json":  # Dokku's formations: [{"process_type": …, "quantity": …}], by process type
                formations = [{"process_type": name, "quantity": count} for name, count in shown.items()]
                console.line(json.dumps(formations, separators=(",", ":")))
                return
            console.header(f"Scaling for {app_name}")
            heading = [] if console.quiet else ["proctype: qty", "--------: ---"]
            console.lines([*heading, *(f"{f'{name}:':<5} {count}" for name, count in shown.items())])
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
    from pydokku.settings import global_report_values

    return report.run(context, args, "ps", _collect, json_values=report.trimmed(PLUGIN), engine_values=_containers,
                      global_collect=lambda tx: global_report_values(tx, PLUGIN, DEFAULTS))  # fmt: skip
