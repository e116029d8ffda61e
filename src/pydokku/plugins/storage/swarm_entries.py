"""Storage entries of the docker-swarm scheduler: a directory on one node's disk (`--node`), made there
by a job since this host cannot see it, or a volume every node can mount (`--volume-driver` with
`--volume-opt k=v`, e.g. the local driver with NFS options). Which node an app's tasks run on follows
from the entries it mounts (checked here at mount time, and by the scheduler at deploy)."""

from __future__ import annotations

import os
import time

from pydokku.errors import DokkuError
from pydokku.plugins import scheduler_docker_swarm
from pydokku.plugins.storage import chown, entries
from pydokku.store import storage as storage_store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.engine.swarm import Node
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow
    from pydokku.store.storage import Entry

DOCKER_SWARM = "docker-swarm"
FLAGS = ("node", "volume-driver", "volume-opt")
UNSUPPORTED = ("size", "access-mode", "storage-class-name", "namespace")
DRIVER_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:")


NO_DELETE = (
    "does not accept reclaim policy Delete: its data is on a node (storage:destroy --destroy-host-dir removes it)"
)
NO_OWNER_ON_VOLUMES = (
    "sets --chown and --mode on node directories; a shared volume's owner and mode are those its file service keeps"
    " (or set at mount with --volume-chown)"
)


def _refuse(name: str, what: str) -> DokkuError:
    return DokkuError(f'storage entry "{name}" ({DOCKER_SWARM}) {what}')


def create(context: Context, args: ParsedArgs, name: str, path: str) -> None:
    for flag in UNSUPPORTED:
        if args.value(flag) is not None:
            raise _refuse(name, f"does not accept --{flag}")
    node, driver = args.value("node") or "", args.value("volume-driver") or ""
    options = entries.parse_pairs(args.lists.get("volume-opt", []))
    chown_value, mode = args.value("chown") or "", entries.normalize_mode(args.value("mode") or "")
    policy = args.value("reclaim-policy") or ""
    entries.check_reclaim_policy(name, policy)
    if policy == "Delete":
        raise _refuse(name, NO_DELETE)
    if chown_value:
        chown.resolve(chown_value)
    if driver:
        if node:
            raise _refuse(name, "takes --node or --volume-driver, not both: a driver's volume mounts on any node")
        if chown_value or mode:
            raise _refuse(name, NO_OWNER_ON_VOLUMES)
        if not all(c in DRIVER_NAME for c in driver) or any(k.strip() != k or not k for k in options):
            raise _refuse(name, f"has an invalid --volume-driver {driver!r} or --volume-opt key")
        path = path or name
        entries.check_host_path(name, path)
        if not entries.is_volume(path):
            raise _refuse(name, f"names a volume; give a volume name, not the host path {path}")
    else:
        if options:
            raise _refuse(name, "takes --volume-opt only with --volume-driver")
        if not node:
            raise _refuse(name, "needs --node <hostname> (a directory on that node's disk) or --volume-driver"
                          " (a volume every node can mount)")  # fmt: skip
        with context.store.read() as tx:
            path = path or default_path(tx, name)
        entries.check_host_path(name, path)
        from pydokku import scheduler

        check_node(scheduler.swarm_nodes(context), node, "to create the directory")
    with context.store.read() as tx:
        existing = _check_existing(tx, name, path, node)
    fields = (path, chown_value, mode, policy, node, driver, options)
    if existing is not None and _fields(existing) == fields:
        context.console.header(f"Storage entry {name} already exists, leaving in place")
        return
    if node and not entries.is_volume(path):
        from pydokku import scheduler

        owner = chown.resolve(chown_value).on_host(None) if chown_value else None
        if scheduler.prepare_node_directory(context, node, path, owner, mode):
            context.console.detail(f"Created {path} on node {node}")
    with context.store.write() as tx:
        _check_existing(tx, name, path, node)
        storage_store.save_entry(
            tx, name, path, chown_value, mode, policy, int(time.time()), scheduler=DOCKER_SWARM, node=node,
            volume_driver=driver, volume_opts=options,
        )  # fmt: skip
    context.console.header(f"Storage entry {name} {'updated' if existing else 'created'}")


def apply_settings(context: Context, entry: Entry, chown_value: str, mode: str, policy: str) -> str:
    """storage:set on a swarm entry: checked as storage:create checks them; a changed mode or owner is
    given to the directory on its node. The normalized mode."""
    from pydokku import scheduler

    mode = entries.normalize_mode(mode)
    entries.check_reclaim_policy(entry.name, policy)
    if policy == "Delete":
        raise _refuse(entry.name, NO_DELETE)
    changed_mode = mode if mode != entry.mode else ""
    changed_owner = chown.resolve(chown_value).on_host(None) if chown_value and chown_value != entry.chown else None
    if (changed_mode or changed_owner) and entry.volume_driver:
        raise _refuse(entry.name, NO_OWNER_ON_VOLUMES)
    if changed_mode or changed_owner:
        scheduler.prepare_node_directory(context, entry.node, entry.host_path, changed_owner, changed_mode)
    return mode


def default_path(tx: Tx, name: str) -> str:
    return os.path.join(scheduler_docker_swarm.settings(tx, None)["storage-root"], name)


def _fields(entry: Entry) -> tuple[object, ...]:
    return (entry.host_path, entry.chown, entry.mode, entry.reclaim_policy, entry.node, entry.volume_driver,
            entry.volume_opts)  # fmt: skip


def _check_existing(tx: Tx, name: str, path: str, node: str) -> Entry | None:
    existing = storage_store.entry(tx, name)
    if existing is None:
        return None
    if existing.scheduler != DOCKER_SWARM:
        raise DokkuError(
            f'storage entry "{name}" already exists with scheduler "{existing.scheduler}"; refusing to redefine'
        )
    mounted = bool(storage_store.attachments_of_entry(tx, existing.id))
    if mounted and (existing.host_path, existing.node) != (path, node):
        what = "node" if existing.node != node else "host path"
        raise DokkuError(f'storage entry "{name}" is mounted; unmount it before changing its {what}')
    return existing


def check_node(nodes: list[Node], node: str, purpose: str) -> None:
    """The node must be in the swarm and able to run a job (one `purpose` needs there)."""
    found = {n.hostname: n for n in nodes}
    if node not in found:
        raise DokkuError(f'Node "{node}" is not part of the swarm (nodes: {", ".join(sorted(found))})')
    if not found[node].usable:
        state = found[node].availability if found[node].state == "ready" else found[node].state
        raise DokkuError(f'Node "{node}" is {state}; no job can run there {purpose}')


def check_app_nodes(tx: Tx, app: AppRow, entry: Entry, attachments: list[storage_store.Attachment]) -> None:
    """Mounting a node's entry on an app whose other data (or pin) is on another node is refused: its
    tasks run on one node."""
    if entry.scheduler != DOCKER_SWARM or not entry.node:
        return
    pinned = scheduler_docker_swarm.settings(tx, app)["node"]
    if pinned and pinned != entry.node:
        raise DokkuError(
            f'storage entry "{entry.name}" lives on node "{entry.node}", but app "{app.name}" is pinned to node'
            f' "{pinned}"; its tasks run on one node'
        )
    for attachment in attachments:
        other = attachment.entry
        if other.scheduler == DOCKER_SWARM and other.node and other.node != entry.node:
            raise DokkuError(
                f'storage entry "{entry.name}" lives on node "{entry.node}" and "{other.name}", already mounted on'
                f' "{app.name}", on node "{other.node}"; the tasks of an app run on one node: keep its data on one'
                " node"
            )
