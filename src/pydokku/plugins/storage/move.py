"""storage:move: storage entries on a swarm node's disk moved to another node, with the apps that mount
them. The apps are stopped once the target is found free, the data is copied node to node and verified
(file count and bytes), the entries (and apps pinned to the old node) point at the new node in one
transaction, and the apps start there. The source copy stays unless --discard-source. Anything failing
before the apps started on the new node leaves them running on the old one, with its data untouched.

Each step is in a journal (data/moves/<id>.json) written before it is taken, so that a move killed
outright is finished by the next storage:move or storage:repair when every copy was verified (the
copies put in place, the entries pointed at the target, the apps started there), and undone otherwise
(the target's copies taken back, the apps started on the old node); its helper jobs are removed."""

from __future__ import annotations

import contextlib
import os
import time

from pydokku.errors import DokkuError
from pydokku.locks import entry_lock
from pydokku.plugins import apps, scheduler_docker_swarm
from pydokku.plugins.storage import require_entry
from pydokku.plugins.storage.backup.journal import Journal
from pydokku.plugins.storage.backup.quiesce import interrupts_raise
from pydokku.plugins.storage.swarm_entries import DOCKER_SWARM, check_node
from pydokku.store import apps as app_store
from pydokku.store import storage as storage_store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow
    from pydokku.store.storage import Entry

KIND = "moves"
# An entry's step in a move's journal: its copy under way, verified on the target, put in place there.
COPYING, VERIFIED, PLACED = "copying", "verified", "placed"


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
    done = settle_interrupted(context)
    names = [name for name in names if done.get(name) != target]  # an interrupted move of it just finished
    if not names:
        return
    with context.store.read() as tx:
        plan = _Plan(tx, names, target)
    nodes = scheduler.swarm_nodes(context)
    check_node(nodes, target, "to receive the data")
    for node in dict.fromkeys(entry.node for entry in plan.entries):
        check_node(nodes, node, "to read the data")
    journal = Journal(context, KIND, os.urandom(4).hex())
    with contextlib.ExitStack() as stack:
        for entry in plan.entries:
            stack.enter_context(entry_lock(context, entry.name))
        stack.enter_context(interrupts_raise())
        journal.save(
            target=target, stamp=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), replace=args.has("replace-target"),
            entries=[{"name": e.name, "id": e.id, "node": e.node, "path": e.host_path, "step": ""}
                     for e in plan.entries],
            pins=plan.pins, stopped=[], switched=False,
        )  # fmt: skip
        _copy(context, plan, journal)
        _switch(context, journal)
    for entry in plan.entries:
        if args.has("discard-source"):
            scheduler.remove_node_directory(context, entry.node, entry.host_path)
            context.console.detail(f"Removed {entry.host_path} from node {entry.node}")
        else:
            context.console.detail(
                f"The copy on node {entry.node} stays at {entry.host_path} (--discard-source removes it)"
            )


def _entries(journal: Journal) -> list[dict[str, Any]]:
    listed = journal.state.get("entries")
    return [entry for entry in listed if isinstance(entry, dict)] if isinstance(listed, list) else []


def _stopped(journal: Journal) -> list[str]:
    listed = journal.state.get("stopped")
    return [str(name) for name in listed] if isinstance(listed, list) else []


def _pins(journal: Journal) -> dict[str, str]:
    """Apps pinned to the old node: their pins follow the entries."""
    pins = journal.state.get("pins")
    return {str(app): str(node) for app, node in pins.items()} if isinstance(pins, dict) else {}


def _step(journal: Journal, entry: dict[str, Any], step: str) -> None:
    entry["step"] = step
    journal.save()


def _copy(context: Context, plan: _Plan, journal: Journal) -> None:
    """Copy each entry to the target and put it in place (the apps stopped before the first is read). On
    failure, what was done on the target is undone and the apps start again on the old node."""
    from pydokku import scheduler

    target, stamp, replace = journal.text("target"), journal.text("stamp"), bool(journal.state.get("replace"))

    def stop_apps() -> None:
        for app in plan.apps:
            context.console.detail(f"Stopping {app.name}")
            journal.save(stopped=[*_stopped(journal), app.name])  # before: a kill while it stops still restarts it
            if not scheduler.stop(context, app.name):
                journal.save(stopped=[name for name in _stopped(journal) if name != app.name])

    try:
        for index, (entry, step) in enumerate(zip(plan.entries, _entries(journal), strict=True)):
            context.console.header(f"Moving storage entry {entry.name} from node {entry.node} to node {target}")
            started = time.monotonic()
            _step(journal, step, COPYING)
            copied = scheduler.copy_node_directory(
                context, entry.host_path, entry.node, target, move=journal.name, replace=replace,
                ready=stop_apps if plan.apps and index == 0 else None,  # stopped once, before the first read
            )  # fmt: skip
            _step(journal, step, VERIFIED)
            replaced = scheduler.place_node_directory(
                context, entry.host_path, target, move=journal.name, stamp=stamp, replace=replace
            )
            _step(journal, step, PLACED)
            context.console.detail(
                f"Copied {copied.entries} entries, {copied.bytes} bytes to node {target} in"
                f" {time.monotonic() - started:.1f} s (file count and bytes verified)"
            )
            if replaced:
                context.console.detail(
                    f"What was at {entry.host_path} on node {target} is now at {entry.host_path}{replaced}"
                )
    except BaseException:
        _undo(context, journal)
        raise


def _switch(context: Context, journal: Journal) -> None:
    """Point the entries (and pinned apps) at the target and start the apps there; on failure, put both
    back and start the apps on the old node. Either way the move has ended: its journal goes."""
    from pydokku import scheduler

    target = journal.text("target")
    entries = _entries(journal)
    pins = _pins(journal)
    _record(context, {int(entry["id"]): target for entry in entries}, dict.fromkeys(pins, target))
    journal.save(switched=True)
    try:
        for app in _stopped(journal):
            context.console.detail(f"Starting {app} on node {target}")
            scheduler.deploy(context, app)
    except BaseException:
        _record(
            context,
            {int(entry["id"]): str(entry["node"]) for entry in entries},
            {str(a): str(n) for a, n in pins.items()},
        )
        journal.save(switched=False)
        _start(context, _stopped(journal))
        journal.remove()
        raise
    journal.remove()


def _record(context: Context, nodes: dict[int, str], pins: dict[str, str]) -> None:
    with context.store.write() as tx:
        for entry_id, node in nodes.items():
            storage_store.set_entry_node(tx, entry_id, node)
        for name, node in pins.items():
            app = app_store.get(tx, name)
            if app is not None:
                scheduler_docker_swarm.pin(tx, app, node)


def _undo(context: Context, journal: Journal) -> None:
    """Take back what the move did on the target (its hidden copies, a copy it put in place, what it set
    aside) and start the apps it stopped on the old node: the move has ended, its journal goes."""
    from pydokku import scheduler

    target, stamp = journal.text("target"), journal.text("stamp")
    scheduler.remove_move_jobs(context, journal.name)
    for entry in _entries(journal):
        if entry.get("step"):
            scheduler.undo_node_directory(context, str(entry["path"]), target, move=journal.name, stamp=stamp,
                                          placed=entry["step"] in (VERIFIED, PLACED))  # fmt: skip
    journal.save(entries=[{**entry, "step": ""} for entry in _entries(journal)])
    _start(context, _stopped(journal))
    journal.remove()


def _start(context: Context, apps: list[str]) -> None:
    """Start the apps a failed move stopped (each try is reported; one failing does not stop the others)."""
    from pydokku import scheduler

    for app in apps:
        try:
            scheduler.deploy(context, app)
            context.console.detail(f"Started {app} again, on the node its data is on")
        except DokkuError as error:
            context.console.warn(f"{app} did not start: {error.message}")


def _unlocked(context: Context, journal: Journal, stack: contextlib.ExitStack) -> bool:
    """Take the locks of the journal's entries if no running move holds them (held until the stack ends)."""
    for entry in _entries(journal):
        lock = entry_lock(context, str(entry.get("name")))
        if not lock.taken_now():
            return False
        stack.callback(lock.__exit__)
    return True


def interrupted(context: Context) -> list[Journal]:
    """The journals of moves that were interrupted (none of their entries locked by a running move)."""
    found = []
    for name in Journal.names(context, KIND):
        journal = Journal(context, KIND, name)
        with contextlib.ExitStack() as stack:
            if journal.load() and _unlocked(context, journal, stack):
                found.append(journal)
    return found


def moved_entries(journal: Journal) -> list[tuple[int, str]]:
    """The (id, name) of the entries an interrupted move was moving."""
    return [(int(entry["id"]), str(entry["name"])) for entry in _entries(journal)]


def finishable(journal: Journal) -> bool:
    """Whether settling the move finishes it: it had switched, or every copy was verified."""
    return bool(journal.state.get("switched")) or all(e.get("step") in (VERIFIED, PLACED) for e in _entries(journal))


def settle_interrupted(context: Context, only: str = "") -> dict[str, str]:
    """Finish (every copy verified) or undo each interrupted move, under its entries' locks; the node
    each entry it touched is on now."""
    from pydokku import scheduler

    settled: dict[str, str] = {}
    for name in [only] if only else Journal.names(context, KIND):
        journal = Journal(context, KIND, name)
        with contextlib.ExitStack() as stack:
            if not journal.load():
                continue
            if not _unlocked(context, journal, stack):
                continue  # a move under way
            stack.enter_context(interrupts_raise())
            entries, target = _entries(journal), journal.text("target")
            finish = finishable(journal)
            what = ", ".join(str(e["name"]) for e in entries)
            context.console.header(
                f"{'Finishing' if finish else 'Undoing'} the interrupted move of storage"
                f" {'entry' if len(entries) == 1 else 'entries'} {what} to node {target}"
            )
            for job in scheduler.remove_move_jobs(context, journal.name):
                context.console.detail(f"Removed its job {job}")
            if finish:
                for entry in entries:
                    if entry.get("step") == VERIFIED:
                        scheduler.place_node_directory(context, str(entry["path"]), target, move=journal.name,
                                                       stamp=journal.text("stamp"),
                                                       replace=bool(journal.state.get("replace")))  # fmt: skip
                        _step(journal, entry, PLACED)
                    context.console.detail(f"The verified copy of {entry['path']} is in place on node {target}")
                if not journal.state.get("switched"):
                    _switch(context, journal)
                else:
                    _start(context, _stopped(journal))
                    journal.remove()
            else:
                context.console.detail(f"Removing the unfinished copies on node {target}; the data stays where it was")
                _undo(context, journal)
            settled.update({str(e["name"]): target if finish else str(e["node"]) for e in entries})
    return settled
