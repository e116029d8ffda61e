"""storage:* handlers."""

from __future__ import annotations

import os

from pydokku import report
from pydokku.console import list_format
from pydokku.errors import DokkuError
from pydokku.plugins import apps, docker_options, scheduler_docker_swarm
from pydokku.plugins import scheduler as scheduler_plugin
from pydokku.plugins.docker_options import PHASES
from pydokku.plugins.storage import (
    AppMounts,
    app_mounts,
    attach_legacy,
    check_container_path_free,
    entries,
    inside_storage_root,
    is_named,
    warn_if_missing,
)
from pydokku.plugins.storage.spec import MAX_NAME_BYTES, MountSpec, check_volume_options, parse
from pydokku.plugins.storage.swarm_entries import check_app_nodes
from pydokku.store import storage as storage_store
from pydokku.store.schema import legacy_entry_name
from pydokku.text import ASCII_ALNUM, only, shell_quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx
    from pydokku.store.storage import Attachment

DIRECTORY_CHARACTERS = ASCII_ALNUM | frozenset("_-")  # Dokku's ^[A-Za-z0-9_-]+$


def ensure_directory(context: Context, args: ParsedArgs) -> None:
    name = args.positional(0)
    if not name:
        raise DokkuError("Please specify a directory to create")
    if not only(name, DIRECTORY_CHARACTERS):
        raise DokkuError("Directory can only contain the following set of characters: [A-Za-z0-9_-]")
    if len(name) > MAX_NAME_BYTES:
        raise DokkuError(f"Directory name must be at most {MAX_NAME_BYTES} characters")
    from pydokku.plugins.storage import chown

    option = args.value("chown")
    choice = chown.resolve(chown.DEFAULT if option is None else option)
    console = context.console
    if choice.deprecated:
        console.detail(chown.PACKETO_DEPRECATION, always=True)
    from pydokku.plugins.storage import disk

    owner = disk.host_owner(context, choice)
    path = os.path.join(context.paths.storage_root, name)
    console.header(f"Ensuring {path} exists", always=True)
    disk.make_directory(path)
    disk.set_owner(context, path, owner)
    console.detail("Directory ready for mounting")


def _mounts(tx: Tx, app: apps.AppRow) -> AppMounts:
    return app_mounts(tx, [app])[app.id]


def _listed_json(spec: MountSpec, attachment: Attachment | None) -> dict[str, object]:
    """A colon mount: the seed's three keys (`volume_options` as written after the second colon). A named
    attachment, as Dokku lists it: `readonly` its own key and only when true (HEAD leaves it out when false),
    `volume_options` without `ro`."""
    if attachment is None or not is_named(attachment):
        return dict(spec.as_json())
    listed: dict[str, object] = {
        "entry_name": attachment.entry.name,
        "host_path": spec.host,
        "container_path": spec.container,
    }
    if attachment.readonly:
        listed["readonly"] = True
    listed["volume_options"] = attachment.volume_options
    return listed


def list_mounts(context: Context, args: ParsedArgs) -> None:
    with context.store.read() as tx:
        app = apps.require(tx, args.positional(0))
        fmt = list_format(args.value("format"))
        listed = _mounts(tx, app).listed()
    console = context.console
    if fmt == "json":
        import json

        console.line(json.dumps([_listed_json(*item) for item in listed], indent=2, ensure_ascii=False))
    elif console.quiet:
        console.lines(str(spec) for spec, _ in listed)
    else:
        console.header(f"{app.name} volume bind-mounts:")
        console.lines("       " + str(spec) for spec, _ in listed)


def _names_entry(target: str) -> bool:
    """A storage entry's name, not a `host:container` spec (a bare `/path` is a spec missing its half)."""
    return bool(target) and ":" not in target and not target.startswith("/")


def _given(args: ParsedArgs, flag: str) -> bool:
    return args.value(flag) is not None or flag in args.lists or args.has(flag)


NAMED_FLAGS = ("container-dir", "process-type", "volume-subpath", "volume-chown", "volume-options")


def mount(context: Context, args: ParsedArgs) -> None:
    target = args.positional(1)
    if _names_entry(target) or (not target and any(args.value(f) for f in NAMED_FLAGS)):
        _mount_entry(context, args)
        return
    given = [f"--{flag}" for flag in (*NAMED_FLAGS, "phase", "volume-readonly") if _given(args, flag)]
    with context.store.write() as tx:
        app = apps.require(tx, args.positional(0))
        apps.check_unlocked(tx, app)
        if given:
            raise DokkuError(
                f"{', '.join(given)} apply to named storage entries; a host:container mount takes its"
                " options after a second colon (host:container:ro)"
            )
        spec = parse(target)
        _mount_colon(tx, app, spec)
        local = scheduler_plugin.selected(tx, app) == "docker-local"  # a swarm's volumes live on its nodes
    warn_if_missing(context.console, spec, app.name, context.engine if local else None)
    from pydokku.plugins.storage.entry_commands import entries_changed

    entries_changed(context)


def _mount_colon(tx: Tx, app: apps.AppRow, spec: MountSpec) -> None:
    """`host:container[:options]`: an attachment of the host's legacy entry, for every process type."""
    mounts = _mounts(tx, app)
    if any(spec.identifies(other) for other, _ in mounts.listed()):
        raise DokkuError("Mount path already exists.")
    check_container_path_free(mounts, spec)
    attach_legacy(tx, app, spec, deploy=True, run=True)


class _EntryMount:
    """`storage:mount <app> <entry> --container-dir <path> …`, validated against the state it was read
    from: what the attachment will be, and whether it replaces one with the same identity."""

    def __init__(self, context: Context, tx: Tx, args: ParsedArgs) -> None:
        self.app = apps.require(tx, args.positional(0))
        apps.check_unlocked(tx, self.app)
        self.name = name = args.positional(1)
        entry = storage_store.entry(tx, name)
        if entry is None:
            raise DokkuError(f'storage entry "{name}" does not exist; create it first with `dokku storage:create`')
        self.entry = entry
        self.container = entries.check_container_dir(args.value("container-dir") or "")
        self.deploy, self.run = entries.check_phases(args.lists.get("phase", []))
        self.process_type = entries.check_process_type(args.value("process-type") or "")
        self.subpath = entries.check_subpath(args.value("volume-subpath") or "")
        self.volume_options = args.value("volume-options") or ""
        check_volume_options(self.volume_options, is_volume=entries.is_volume(entry.host_path))
        self.volume_chown = args.value("volume-chown") or ""
        if self.volume_chown:
            from pydokku.plugins.storage import chown

            owner = chown.resolve(self.volume_chown).owner_id
            root = context.paths.storage_root
            if entry.scheduler == "docker-swarm":  # its nodes' storage root
                root = scheduler_docker_swarm.settings(tx, None)["storage-root"]
            default = os.path.join(root, name)
            outside = not entries.is_volume(entry.host_path) and not inside_storage_root(root, entry.host_path)
            if owner is not None and outside:
                raise DokkuError(
                    f"--volume-chown is only supported when the storage entry uses the default host path"
                    f" ({default}); omit --volume-chown and manage {entry.host_path} manually"
                )
        mounts = _mounts(tx, self.app)
        check_app_nodes(tx, self.app, entry, mounts.attachments)
        if self.subpath and entry.scheduler == "docker-swarm":
            raise DokkuError(
                f'storage entry "{name}" is on a swarm node; --volume-subpath is not supported there'
                " (swarm volume subpaths need Docker Engine 26 or later); create another entry for that directory"
            )
        if self.subpath:
            if entries.is_volume(entry.host_path):
                raise DokkuError(
                    f'storage entry "{name}" is a docker volume; --volume-subpath needs a host directory entry'
                )
            if not os.path.isdir(entry.host_path):
                raise DokkuError(f"host path {entry.host_path} does not exist")
        identity = (entry.id, self.container, self.process_type)
        same = next((a for a in mounts.attachments if (a.entry.id, a.container_path, a.process_type) == identity), None)
        check_container_path_free(mounts, MountSpec(entry.host_path, self.container), self.process_type, ignore=same)
        self.readonly = args.has("volume-readonly")
        self._check_one_owner(tx, same)

    def _check_one_owner(self, tx: Tx, same: Attachment | None) -> None:
        """One directory, one owner: a second mount of it asking for another owner would have every
        deploy re-own the tree back and forth."""
        from pydokku.plugins.storage import chown
        from pydokku.store import apps as app_store

        owner = chown.resolve(self.volume_chown).owner_id if self.volume_chown else None
        if owner is None:
            return
        names = {app.id: app.name for app in app_store.list_all(tx)}
        for other in storage_store.attachments_of_entry(tx, self.entry.id):
            if (same is not None and other.id == same.id) or other.subpath != self.subpath or not other.volume_chown:
                continue
            theirs = chown.resolve(other.volume_chown).owner_id
            if theirs is not None and theirs != owner:
                raise DokkuError(
                    f'storage entry "{self.name}" is already mounted with --volume-chown {other.volume_chown}'
                    f" (app {names.get(other.app_id, '?')} at {other.container_path}); a directory has one owner:"
                    " mount it with the same --volume-chown, or without one"
                )

    def record(self, tx: Tx) -> str:
        """Write the attachment (every mount-time field, as given); the message to print."""
        added = storage_store.upsert_attachment(
            tx, self.app.id, self.entry.id, self.container, self.process_type, deploy=self.deploy, run=self.run,
            subpath=self.subpath, readonly=self.readonly, volume_options=self.volume_options,
            volume_chown=self.volume_chown,
        )  # fmt: skip
        if added:
            return f"Storage entry {self.name} mounted at {self.container} on {self.app.name}"
        return f"Storage entry {self.name} mount at {self.container} on {self.app.name} updated"


def _mount_entry(context: Context, args: ParsedArgs) -> None:
    """Validate with nothing changed, create the subpath outside the write lock, then record (checking
    again, as another command may have changed the state); a refusal removes what was created."""
    from pydokku.plugins.storage import disk

    with context.store.read() as tx:
        planned = _EntryMount(context, tx, args)
    created = disk.make_subpath(planned.name, planned.entry.host_path, planned.subpath) if planned.subpath else []
    try:
        with context.store.write() as tx:
            message = _EntryMount(context, tx, args).record(tx)
    except BaseException:
        disk.remove_created(created)
        raise
    context.console.header(message)


def unmount(context: Context, args: ParsedArgs) -> None:
    target = args.positional(1)
    with context.store.write() as tx:
        app = apps.require(tx, args.positional(0))
        apps.check_unlocked(tx, app)
        if _names_entry(target):
            _unmount_entry(tx, app, target, args.value("container-dir"))
            return
        spec = parse(target)
        removed = False
        legacy = legacy_entry_name(spec.host)
        for attachment in _mounts(tx, app).attachments:
            if (attachment.entry.name, attachment.container_path) == (legacy, spec.container):
                storage_store.delete_attachment(tx, attachment.id)
                removed = True
        removed = docker_options.remove_volume(tx, app, spec.host, spec.container) or removed
        if not removed:
            raise DokkuError("Mount path does not exist.")


def _unmount_entry(tx: Tx, app: apps.AppRow, name: str, container: str | None) -> None:
    matching = [a for a in _mounts(tx, app).attachments if a.entry.name == name]
    if container is not None:
        matching = [a for a in matching if a.container_path == container]
        if not matching:
            raise DokkuError(f'storage entry "{name}" is not mounted at "{container}" on app "{app.name}"')
    if not matching:
        raise DokkuError(f'storage entry "{name}" is not mounted on app "{app.name}"')
    paths = sorted({a.container_path for a in matching})
    if len(paths) > 1:
        raise DokkuError(
            f'storage entry "{name}" is mounted at multiple paths on app "{app.name}" ({", ".join(paths)});'
            " pass --container-dir to disambiguate"
        )
    for attachment in matching:
        storage_store.delete_attachment(tx, attachment.id)


def _flags(specs: list[MountSpec]) -> str:
    return " ".join("-v " + shell_quote(str(spec)) for spec in specs)


ATTACHMENT_FIELDS = (
    "entry-name", "host-path", "container-path", "phases", "process-type", "subpath", "readonly",
    "volume-options", "volume-chown",
)  # fmt: skip
PHASE_KEYS = ("storage-build-mounts", "storage-deploy-mounts", "storage-run-mounts")  # the seed's three rows
_ATTACHMENT = "storage-attachment."
_attachment_keys: list[tuple[str, ...]] = []  # per index: reports over many apps repeat them


def _keys(index: int) -> tuple[str, ...]:
    while len(_attachment_keys) < index:
        number = len(_attachment_keys) + 1
        _attachment_keys.append(tuple(f"{_ATTACHMENT}{number}.{field}" for field in ATTACHMENT_FIELDS))
    return _attachment_keys[index - 1]


def _attachment_values(index: int, attachment: Attachment) -> dict[str, str]:
    phases = ",".join(p for p in ("deploy", "run") if getattr(attachment, p))
    fields = (
        attachment.entry.name, attachment.entry.host_path or attachment.entry.name, attachment.container_path, phases,
        attachment.process_type, attachment.subpath, str(attachment.readonly).lower(), attachment.volume_options,
        attachment.volume_chown,
    )  # fmt: skip
    return dict(zip(_keys(index), fields, strict=True))


def _collect(tx: Tx, targets: list[apps.AppRow], every_key: bool) -> dict[str, dict[str, str]]:
    """The seed's three values per app, and Dokku's nine values of each attachment when they are shown:
    always in JSON and for info flags, in text only for an app with a named attachment (the seed's layout
    otherwise). Usage figures are storage:usage's and storage:info's, never a report's."""
    mounts = app_mounts(tx, targets)
    values = {}
    for app in targets:
        mounted = mounts[app.id]
        app_values = {key: _flags(mounted.specs(phase)) for key, phase in zip(PHASE_KEYS, PHASES, strict=True)}
        if every_key or any(is_named(attachment) for attachment in mounted.attachments):
            for index, attachment in enumerate(mounted.attachments, start=1):
                app_values.update(_attachment_values(index, attachment))
        values[app.name] = app_values
    return values


def report_storage(context: Context, args: ParsedArgs) -> int:
    if args.has("global"):
        from pydokku.plugins.storage.entry_commands import global_report

        return global_report(context, args)
    every_key = bool(args.info_flags) or args.value("format") == "json"
    return report.run(
        context, args, "storage", lambda tx, targets, _: _collect(tx, targets, every_key),
        json_values=report.trimmed("storage"),
    )  # fmt: skip
