"""The storage plugin's exports: an app's mounts, from its attachments and its docker-options volumes.

Every attachment mounts an entry: a named one (`storage:create`), or the `legacy-<hash>` entry a
`host:container` mount creates, so both forms live in one model, as in Dokku 0.38.
"""

from __future__ import annotations

import os
import time

from pydokku.errors import DokkuError
from pydokku.plugins import docker_options
from pydokku.plugins.storage.entries import DEFAULT_PROCESS_TYPE as DEFAULT_PROCESS_TYPE
from pydokku.plugins.storage.entries import LEGACY_PREFIX
from pydokku.plugins.storage.spec import MountSpec as MountSpec
from pydokku.plugins.storage.spec import render_options
from pydokku.store import apps as app_store
from pydokku.store import storage as storage_store
from pydokku.store.schema import legacy_entry_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.console import Console
    from pydokku.engine import Engine
    from pydokku.ownership import ChownResult
    from pydokku.scheduler.plan import Mount
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow
    from pydokku.store.storage import Attachment, Entry


def attachment_spec(attachment: Attachment) -> MountSpec:
    """The mount an attachment gives Docker: the entry's path (and subpath), with its options."""
    host = attachment.entry.host_path
    if attachment.subpath:
        host = os.path.join(host, attachment.subpath)
    options = attachment.options_text or render_options(attachment.readonly, attachment.volume_options)
    return MountSpec(host, attachment.container_path, options)


def scheduler_mounts(mounts: AppMounts, phase: str, process_type: str) -> list[Mount]:
    """The attachments a container of this process type gets in this phase, as the scheduler takes them."""
    from pydokku.plugins.storage.entries import is_volume
    from pydokku.scheduler.plan import Mount

    return [
        Mount(
            "volume" if is_volume(a.entry.host_path) else "bind", a.entry.host_path, a.container_path,
            readonly=a.readonly, options=a.options_text or render_options(a.readonly, a.volume_options),
            subpath=a.subpath, owner=a.volume_chown, entry=a.entry.name, scheduler=a.entry.scheduler,
            node=a.entry.node, driver=a.entry.volume_driver, driver_options=a.entry.volume_opts,
        )
        for a in mounts.attached(phase, process_type)
    ]  # fmt: skip


def inside_storage_root(storage_root: str, host_path: str) -> bool:
    """Whether a host path is, once symlinks are resolved, inside the storage root: only there does
    storage change owners."""
    root = os.path.realpath(storage_root).rstrip("/") + "/"
    return os.path.realpath(host_path).startswith(root)


def say_hard_links(console: Console, result: ChownResult) -> None:
    """One line when an ownership change left files that have other hard links alone."""
    if result.hard_linked:
        console.detail(
            f"Left the owner of {result.hard_linked} file(s) with other hard links as it was:"
            " their other names may be outside the storage area"
        )


def chown_owner(choice: str, userns_offset: tuple[int, int] | None) -> tuple[int, int] | None:
    """The host uid:gid a `--volume-chown` choice means under the engine's user-namespace offset (None:
    leave the owner alone)."""
    from pydokku.plugins.storage import chown

    return chown.resolve(choice).on_host(userns_offset)


def is_named(attachment: Attachment) -> bool:
    return not attachment.entry.name.startswith(LEGACY_PREFIX)


class AppMounts:
    """An app's attachments, and the volumes among its docker options by phase."""

    __slots__ = ("attachments", "option_volumes")

    def __init__(self, attachments: list[Attachment], option_volumes: dict[str, list[str]]) -> None:
        self.attachments = attachments
        self.option_volumes = {
            phase: [MountSpec.loose(spec) for spec in specs] for phase, specs in option_volumes.items()
        }

    def attached(self, phase: str, process_type: str | None = None) -> list[Attachment]:
        """Attachments of a phase; for one process type, those of it and of every process type."""
        return [
            a
            for a in self.attachments
            if getattr(a, phase) and (process_type is None or a.process_type in (DEFAULT_PROCESS_TYPE, process_type))
        ]

    def specs(self, phase: str) -> list[MountSpec]:
        """Every mount of a phase, as `-v` values: attachments, then docker-options volumes."""
        from_attachments = [attachment_spec(a) for a in self.attached(phase)] if phase != "build" else []
        return from_attachments + self.option_volumes.get(phase, [])

    def listed(self) -> list[tuple[MountSpec, Attachment | None]]:
        """What storage:list shows: every deploy and run mount, once, in order."""
        seen: dict[MountSpec, Attachment | None] = {}
        for attachment in self.attachments:
            if attachment.deploy or attachment.run:
                seen.setdefault(attachment_spec(attachment), attachment)
        for phase in ("deploy", "run"):
            for spec in self.option_volumes.get(phase, []):
                seen.setdefault(spec, None)
        return list(seen.items())


def check_container_path_free(
    mounts: AppMounts, spec: MountSpec, process_type: str = DEFAULT_PROCESS_TYPE, ignore: Attachment | None = None
) -> None:
    """Refuse a second mount at a container path another mount of the same containers already uses
    (Docker would refuse the container at deploy)."""
    attached = [
        attachment_spec(attachment)
        for attachment in mounts.attachments
        if attachment is not ignore
        and (DEFAULT_PROCESS_TYPE in (attachment.process_type, process_type) or attachment.process_type == process_type)
    ]
    from_options = [other for phase in ("deploy", "run") for other in mounts.option_volumes.get(phase, [])]
    for other in attached + from_options:
        if other.target == spec.target:
            raise DokkuError(f"Container path {spec.container} is already mounted by {other}; unmount that first.")


def warn_if_missing(console: Console, spec: MountSpec, app_name: str, engine: Engine | None) -> None:
    """A host path (or volume) may be mounted before it exists (provisioning tools create it later); say
    so, with a command that creates it. With no engine to ask (or none reachable), volumes go unchecked."""
    if not spec.container:
        return
    if not spec.is_volume:
        if not os.path.exists(spec.host):
            console.warn(
                f"Host path {spec.host} does not exist yet; create it before the app is deployed (dokku"
                f" storage:repair {app_name}, or mkdir -p {spec.host}): a deploy refuses to start without it"
            )
        return
    if engine is None:
        return
    name = spec.host.partition("/")[0]
    try:
        missing = engine.volume(name) is None
    except DokkuError:
        return
    if missing:
        console.warn(
            f"Docker volume {name} does not exist yet; the app's first deploy creates it empty (restore its data"
            " into it first if it was lost)"
        )


def app_mounts(tx: Tx, apps: list[AppRow]) -> dict[int, AppMounts]:
    ids = [app.id for app in apps]
    attachments = storage_store.attachments(tx, ids)
    volumes = docker_options.volumes(tx, ids)
    return {app.id: AppMounts(attachments.get(app.id, []), volumes.get(app.id, {})) for app in apps}


def attach_legacy(tx: Tx, app: AppRow, spec: MountSpec, *, deploy: bool, run: bool) -> None:
    """A `host:container[:options]` mount as Dokku 0.38 stores it: an attachment, for every process
    type, of the legacy entry named after the host (created when missing)."""
    name = legacy_entry_name(spec.host)
    entry = storage_store.entry(tx, name) or storage_store.save_entry(tx, name, spec.host, "", "", "", int(time.time()))
    if entry.host_path != spec.host:
        raise DokkuError(f'legacy entry "{name}" already exists with conflicting fields')
    storage_store.upsert_attachment(
        tx, app.id, entry.id, spec.container, DEFAULT_PROCESS_TYPE, deploy=deploy, run=run, subpath="",
        readonly=spec.readonly, volume_options=spec.other_options, volume_chown="", options_text=spec.options,
    )  # fmt: skip


def require_entry(tx: Tx, name: str) -> Entry:
    entry = storage_store.entry(tx, name)
    if entry is None:
        raise DokkuError(f'storage entry "{name}" does not exist')
    return entry


def mounted_by(tx: Tx, entry: Entry) -> list[str]:
    """The names of the apps that mount the entry."""
    app_ids = {attachment.app_id for attachment in storage_store.attachments_of_entry(tx, entry.id)}
    return sorted(app.name for app in app_store.list_all(tx) if app.id in app_ids)


def copy_app(tx: Tx, source: AppRow, target: AppRow) -> None:
    storage_store.copy_attachments(tx, source.id, target.id)
