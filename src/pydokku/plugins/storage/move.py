"""storage:move: storage entries on a swarm node's disk moved to another node, with the apps that mount
them. The apps are stopped once the target is found free, the data is copied node to node and verified
(file count and bytes), the entries (and apps pinned to the old node) point at the new node in one
transaction, and the apps start there. The source copy stays unless --discard-source. Anything failing
before the apps started on the new node leaves them running on the old one, with its data untouched."""

from __future__ import annotations

import contextlib
import time

from pydokku.errors import DokkuError
from pydokku.locks import entry_lock
from pydokku.plugins import apps, scheduler_docker_swarm
from pydokku.plugins.storage import require_entry
from pydokku.plugins.storage.backup.quiesce import interrupts_raise
from pydokku.plugins.storage.swarm_entries import DOCKER_SWARM, check_node
from pydokku.store import apps as app_store
from pydokku.store import storage as storage_store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow
    from pydokku.store.storage import Entry


class _Plan:
    """The entries to move, the apps mounting them, and the apps whose own pin follows them."""

    def __init__(self, tx: Tx, names: list[str], target: str) -> None:
        self.entries = [_movable(tx, name, target) for name in dict.fromkeys(names)]
        moving = {entry.id for entry in self.entries}
        app_ids = {a.app_id for entry in self.entries for a in storage_store.attachments_of_entry(tx, entry.id)}
        self.apps: list[AppRow] = [app for app in app_store.list_all(tx) if app.id in app_ids]
        self.pins: dict[str, str] = {}  # app -> its own node pin, changed to the target
        attachments = storage_store.attachments(tx, sorted(app_ids))
        for app in self.apps:
            apps.check_unlocked(tx, app)  # the move restarts it
            pinned = scheduler_docker_swarm.values(tx, app)[0].get("node", "")
            for attachment in attachments.get(app.id, []):
                _check_stays(app, attachment.entry, moving, pinned, names, target)
            if pinned and pinned != target:
                self.pins[app.name] = pinned


def _movable(tx: Tx, name: str, target: str) -> Entry:
    entry = require_entry(tx, name)
    if entry.scheduler != DOCKER_SWARM or entry.volume_driver:
        what = "a shared volume every node mounts" if entry.volume_driver else f"{entry.scheduler} storage"
        raise DokkuError(
            f'storage entry "{name}" is {what}; storage:move moves directories on a swarm node'
            " (storage:create --scheduler docker-swarm --node)"
        )
    if entry.node == target:
        raise DokkuError(f'storage entry "{name}" is already on node "{target}"')
    return entry


def _check_stays(app: AppRow, other: Entry, moving: set[int], pinned: str, names: list[str], target: str) -> None:
    """Storage of the app that is not moving must not hold it on the old node."""
    if other.id in moving or other.volume_driver or (other.scheduler == DOCKER_SWARM and other.node == target):
        return
    if other.scheduler == DOCKER_SWARM:
        together = " ".join([*dict.fromkeys(names), other.name])
        raise DokkuError(
            f'App {app.name} also mounts storage entry "{other.name}", on node "{other.node}"; the tasks of an app'
            f" run on one node: move them together (dokku storage:move {together} --to-node {target})"
        )
    if pinned:
        what = f"host path {other.host_path}" if other.name.startswith("legacy-") else f'storage entry "{other.name}"'
        raise DokkuError(
            f'App {app.name} also mounts {what}, on its node "{pinned}", which storage:move cannot move;'
            f" unmount it first, or create it with storage:create --scheduler docker-swarm --node {pinned}"
        )


def move(context: Context, args: ParsedArgs) -> None:
    from pydokku import scheduler

    names, target = args.positionals, args.value("to-node") or ""
    if not names:
        raise DokkuError("Please specify the storage entries to move")
    if not target:
        raise DokkuError("Please specify the node to move them to with --to-node <hostname>")
    with context.store.read() as tx:
        plan = _Plan(tx, names, target)
    nodes = scheduler.swarm_nodes(context)
    check_node(nodes, target, "to receive the data")
    for node in dict.fromkeys(entry.node for entry in plan.entries):
        check_node(nodes, node, "to read the data")
    with contextlib.ExitStack() as stack:
        for entry in plan.entries:
            stack.enter_context(entry_lock(context, entry.name))
        stack.enter_context(interrupts_raise())
        stopped = _copy(context, plan, target, replace=args.has("replace-target"))
        _switch(context, plan, target, stopped)
    for entry in plan.entries:
        if args.has("discard-source"):
            scheduler.remove_node_directory(context, entry.node, entry.host_path)
            context.console.detail(f"Removed {entry.host_path} from node {entry.node}")
        else:
            context.console.detail(
                f"The copy on node {entry.node} stays at {entry.host_path} (--discard-source removes it)"
            )


def _copy(context: Context, plan: _Plan, target: str, *, replace: bool) -> list[str]:
    """Copy each entry to the target (the apps stopped before the first is read); the apps stopped."""
    from pydokku import scheduler

    stopped: list[str] = []

    def stop_apps() -> None:
        for app in plan.apps:
            context.console.detail(f"Stopping {app.name}")
            if scheduler.stop(context, app.name):
                stopped.append(app.name)

    try:
        for index, entry in enumerate(plan.entries):
            context.console.header(f"Moving storage entry {entry.name} from node {entry.node} to node {target}")
            started = time.monotonic()
            moved = scheduler.move_node_directory(
                context, entry.host_path, entry.node, target, replace=replace,
                ready=stop_apps if plan.apps and index == 0 else None,  # stopped once, before the first read
            )  # fmt: skip
            context.console.detail(
                f"Copied {moved.entries} entries, {moved.bytes} bytes to node {target} in"
                f" {time.monotonic() - started:.1f} s (file count and bytes verified)"
            )
            if moved.replaced:
                context.console.detail(
                    f"What was at {entry.host_path} on node {target} is now at {entry.host_path}{moved.replaced}"
                )
    except BaseException:
        _start(context, stopped)
        raise
    return stopped


def _switch(context: Context, plan: _Plan, target: str, stopped: list[str]) -> None:
    """Point the entries (and pinned apps) at the target and start the apps there; on failure, put both
    back and start the apps on the old node."""
    from pydokku import scheduler

    _record(context, plan, {entry.id: target for entry in plan.entries}, dict.fromkeys(plan.pins, target))
    try:
        for app in stopped:
            context.console.detail(f"Starting {app} on node {target}")
            scheduler.deploy(context, app)
    except BaseException:
        _record(context, plan, {entry.id: entry.node for entry in plan.entries}, plan.pins)
        _start(context, stopped)
        raise


def _record(context: Context, plan: _Plan, nodes: dict[int, str], pins: dict[str, str]) -> None:
    with context.store.write() as tx:
        for entry_id, node in nodes.items():
            storage_store.set_entry_node(tx, entry_id, node)
        for app in plan.apps:
            if app.name in pins:
                scheduler_docker_swarm.pin(tx, app, pins[app.name])


def _start(context: Context, apps: list[str]) -> None:
    """Start the apps a failed move stopped (each try is reported; one failing does not stop the others)."""
    from pydokku import scheduler

    for app in apps:
        try:
            scheduler.deploy(context, app)
            context.console.detail(f"Started {app} again, on the node its data is on")
        except DokkuError as error:
            context.console.warn(f"{app} did not start: {error.message}")
