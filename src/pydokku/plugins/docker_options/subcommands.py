"""docker-options:* handlers."""

from __future__ import annotations

import json

from pydokku import report
from pydokku.args import ParsedArgs
from pydokku.context import Context
from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.plugins import scheduler as scheduler_plugin
from pydokku.plugins.docker_options import PHASES, split_option
from pydokku.plugins.docker_options.groups import lift_processes, option_groups
from pydokku.store import Tx
from pydokku.store import options as option_store
from pydokku.store.options import DEFAULT_PROCESS_TYPE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.plugins.storage import MountSpec

BAD_PHASE = "Phase(s) must be one of [build deploy run]"
PROCESS_PHASES = ("deploy",)  # options of one process type exist for deployed containers only


def parse_phases(raw: str) -> list[str]:
    phases = raw.split(",")
    if not raw or any(phase not in PHASES for phase in phases):
        raise DokkuError(BAD_PHASE)
    return list(dict.fromkeys(phases))


def _check_process(process_type: str, phases: list[str]) -> None:
    if not process_type:
        raise DokkuError("--process value must not be empty")
    if process_type == DEFAULT_PROCESS_TYPE:
        raise DokkuError(f'"{DEFAULT_PROCESS_TYPE}" is reserved and cannot be used as a --process value')
    for phase in phases:
        if phase not in PROCESS_PHASES:
            raise DokkuError(f'--process is only supported for the deploy phase, got "{phase}"')


class _Change:
    """`docker-options:add|remove [--process P]… <app> <phase(s)> OPTION…`, validated."""

    def __init__(self, tx: Tx, args: ParsedArgs, missing: str) -> None:
        self.app = apps.require(tx, args.positional(0))
        self.phases = parse_phases(args.positional(1))
        words = args.positionals[2:]
        if not words or not "".join(words).strip():
            raise DokkuError(missing)
        self.text = " ".join(words)
        self.groups, lifted = lift_processes(option_groups(words))
        if not self.groups:
            raise DokkuError(missing)
        asked = [*args.lists.get("process", []), *lifted]
        for process_type in asked:
            _check_process(process_type, self.phases)
        self.processes = list(dict.fromkeys(asked)) or [DEFAULT_PROCESS_TYPE]

    def scopes(self) -> list[tuple[str, str]]:
        return [(phase, process_type) for phase in self.phases for process_type in self.processes]


def add(context: Context, args: ParsedArgs) -> None:
    from pydokku import scheduler
    from pydokku.plugins.docker_options import split_option

    with context.store.read() as tx:
        planned = _Change(tx, args, "Please specify docker options to add to the phase")
    for phase in set(planned.phases) & {"deploy", "run"}:  # what the app's scheduler cannot give its processes
        scheduler.check_options(
            context, planned.app.name, phase, [word for group in planned.groups for word in split_option(group)]
        )
    with context.store.write() as tx:
        change = _Change(tx, args, "Please specify docker options to add to the phase")
        volumes = _volumes(tx, change)
        existing = option_store.list_for(tx, [change.app.id]).get(change.app.id, [])
        present = {(row.phase, row.process_type, row.option) for row in existing}
        for phase, process_type in change.scopes():
            for group in change.groups:
                if (phase, process_type, group) not in present:
                    option_store.add(tx, change.app.id, phase, group, process_type)
        unknown = _unknown_processes(tx, change)
        local = scheduler_plugin.selected(tx, change.app) == "docker-local"  # a swarm's volumes live on its nodes
    from pydokku.plugins.storage import warn_if_missing

    for spec in volumes:
        warn_if_missing(context.console, spec, change.app.name, context.engine if local else None)
    for process_type in unknown:
        context.console.warn(
            f"Process type {json.dumps(process_type)} is not declared in the Procfile for {change.app.name}"
        )


def _volumes(tx: Tx, change: _Change) -> list[MountSpec]:
    """The volumes the change adds to deploy or run containers. One at a container path that a storage
    mount of the app already uses is refused now: Docker would refuse the container at deploy."""
    from pydokku.plugins import storage
    from pydokku.plugins.docker_options.volumes import find_volumes
    from pydokku.plugins.storage import MountSpec

    if not {"deploy", "run"} & set(change.phases):
        return []
    mounts = storage.app_mounts(tx, [change.app])[change.app.id]
    specs = [MountSpec.loose(raw) for group in change.groups for _, _, raw in find_volumes(split_option(group))]
    for spec in specs:
        if spec.container:
            storage.check_container_path_free(mounts, spec)
    return specs


def _unknown_processes(tx: Tx, change: _Change) -> list[str]:
    from pydokku import scheduler

    release = scheduler.current_release(tx, change.app)
    if release is None:
        return []
    return [p for p in change.processes if p != DEFAULT_PROCESS_TYPE and p not in release.processes]


def remove(context: Context, args: ParsedArgs) -> None:
    with context.store.write() as tx:
        change = _Change(tx, args, "Please specify docker options to remove from the phase")
        # An option line stored whole before options were kept one flag group each still matches.
        wanted = {*change.groups, change.text}
        for row in option_store.list_for(tx, [change.app.id]).get(change.app.id, []):
            if (row.phase, row.process_type) in change.scopes() and row.option in wanted:
                option_store.delete(tx, row.id)


def clear(context: Context, args: ParsedArgs) -> None:
    processes = list(dict.fromkeys(args.lists.get("process", [])))
    with context.store.write() as tx:
        app = apps.require(tx, args.positional(0))
        if args.positional(1):
            phases = parse_phases(args.positional(1))
        else:
            phases = list(PROCESS_PHASES if processes else PHASES)
        for process_type in processes:
            _check_process(process_type, phases)
        for phase in phases:
            for process_type in processes or [DEFAULT_PROCESS_TYPE]:
                option_store.delete_phase(tx, app.id, phase, process_type)
    scope = f" (process{'es' if len(processes) > 1 else ''} {', '.join(processes)})" if processes else ""
    if args.positional(1) or processes:
        for phase in phases:
            context.console.header(f"Clearing docker-options for {app.name}{scope} on phase {phase}")
    else:
        context.console.header(f"Clearing docker-options for {app.name} on all phases")


def list_options(context: Context, args: ParsedArgs) -> None:
    """The options of one phase and process scope, one per line (Dokku 0.38)."""
    phase, process_type = args.value("phase") or "", args.value("process") or ""
    with context.store.read() as tx:
        app = apps.require(tx, args.positional(0))
        if not phase:
            raise DokkuError("--phase is required")
        if phase not in PHASES:
            raise DokkuError(f"Phase must be one of [{' '.join(PHASES)}]")
        if process_type:
            _check_process(process_type, [phase])
        rows = option_store.list_for(tx, [app.id]).get(app.id, [])
    scope = process_type or DEFAULT_PROCESS_TYPE
    context.console.lines(row.option for row in rows if (row.phase, row.process_type) == (phase, scope))


REPORT_TYPE = "docker-options"  # the prefix of the report's keys


def _options(tx: Tx, targets: list[apps.AppRow]) -> dict[str, dict[str, list[str]]]:
    """Each app's options by report key: `docker-options-<phase>` (every phase, maybe empty) and
    `docker-options-deploy.<process>` for each process type that has some, in the order they were added."""
    rows = option_store.list_for(tx, None if len(targets) > 1 else [a.id for a in targets])
    found = {}
    for app in targets:
        by_key: dict[str, list[str]] = {f"docker-options-{phase}": [] for phase in PHASES}
        for row in rows.get(app.id, []):
            scope = "" if row.process_type == DEFAULT_PROCESS_TYPE else f".{row.process_type}"
            by_key.setdefault(f"docker-options-{row.phase}{scope}", []).append(row.option)
        found[app.name] = by_key
    return found


def report_options(context: Context, args: ParsedArgs) -> int:
    """Text: each key's options joined by spaces. JSON (Dokku's): the keys with and without the plugin's
    prefix, and beside each stripped one a `-list` array of the options themselves."""
    listed: dict[str, dict[str, list[str]]] = {}

    def collect(tx: Tx, targets: list[apps.AppRow], context: Context) -> dict[str, dict[str, str]]:
        listed.update(_options(tx, targets))
        return {app: {key: " ".join(options) for key, options in keys.items()} for app, keys in listed.items()}

    def shape(app_name: str, values: dict[str, str]) -> dict[str, object]:
        shown = report.trimmed(REPORT_TYPE)(app_name, values)
        for key, options in listed[app_name].items():
            shown[f"{key.removeprefix(REPORT_TYPE + '-')}-list"] = options
        return shown

    return report.run(context, args, "docker options", collect, json_values=shape)
