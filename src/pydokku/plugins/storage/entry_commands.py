"""Named storage entries (Dokku 0.38): storage:create, destroy, info, list-entries, set, annotations,
labels, wait, exec, migrate, and `storage:report --global`."""

from __future__ import annotations

import json
import os
import shutil
import time

from pydokku.console import confirm_destructive, list_format, report_format
from pydokku.errors import DokkuError
from pydokku.plugins import apps, docker_options
from pydokku.plugins.storage import attach_legacy, chown, disk, entries, mounted_by, require_entry, swarm_entries
from pydokku.plugins.storage.spec import MountSpec
from pydokku.store import apps as app_store
from pydokku.store import storage as storage_store
from pydokku.text import has_control_characters

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.engine import Engine
    from pydokku.store import Tx
    from pydokku.store.storage import Entry

DOCKER_LOCAL = "docker-local"
UNSUPPORTED_ON_DOCKER_LOCAL = ("size", "access-mode", "storage-class-name", "namespace")
PROPERTIES = ("access-mode", "chown", "mode", "namespace", "reclaim-policy", "size", "storage-class-name")
EXEC_IMAGES = ("alpine:3", "alpine:latest", "busybox:latest", "debian:bookworm-slim", "dokku-test/busybox:local")
EXEC_SHELL = ["sh", "-c", "command -v bash >/dev/null 2>&1 && exec bash || exec sh"]


def _default_path(context: Context, name: str) -> str:
    return os.path.join(context.paths.storage_root, name)


def entry_json(tx: Tx, entry: Entry) -> dict[str, object]:
    """The entry as Dokku 0.38 writes it: empty fields omitted, schema_version always there."""
    shown: dict[str, object] = {"name": entry.name, "scheduler": entry.scheduler, "host_path": entry.host_path}
    for key, value in (("chown", entry.chown), ("mode", entry.mode), ("reclaim_policy", entry.reclaim_policy),
                       ("node", entry.node), ("volume_driver", entry.volume_driver)):  # fmt: skip
        if value:
            shown[key] = value
    if entry.volume_opts:
        shown["volume_options"] = entry.volume_opts
    for kind, key in (("annotation", "annotations"), ("label", "labels")):
        values = storage_store.metadata(tx, entry.id, kind)
        if values:
            shown[key] = values
    shown["schema_version"] = entries.SCHEMA_VERSION
    return shown


def _apply_on_disk(context: Context, path: str, mode: str, chown_value: str) -> list[str]:
    """Create the entry's directory and give it its mode and owner (named volumes are left to Docker);
    returns the directories it created, for disk.remove_created. Runs with no transaction open: it may
    ask the engine and walk a large tree."""
    if entries.is_volume(path):
        return []
    owner = disk.host_owner(context, chown.resolve(chown_value)) if chown_value else None
    created = [path] if disk.make_directory(path, describe="storage entry path ") else []
    if created:
        context.console.detail(f"Created {path}")
    try:
        if mode:
            context.console.detail(f"Setting directory mode to {mode}")
            os.chmod(path, int(mode, 8))
        disk.set_owner(context, path, owner)
    except BaseException:
        disk.remove_created(created)
        raise
    return created


def _validate(context: Context, name: str, path: str, chown_value: str, mode: str, policy: str) -> str:
    entries.check_host_path(name, path)
    entries.check_reclaim_policy(name, policy)
    mode = entries.normalize_mode(mode)
    default = _default_path(context, name)
    if chown_value:
        chown.resolve(chown_value)
    for flag, value in (("--chown", chown_value), ("--mode", mode)):
        if value and path != default:
            raise DokkuError(
                f"{flag} is only supported when the storage entry uses the default host path ({default});"
                f" omit {flag} and manage {path} manually"
            )
    if policy == "Delete" and path != default:
        raise DokkuError(f"reclaim policy Delete is only supported for the default host path ({default})")
    return mode


def _fields(entry: Entry) -> tuple[str, str, str, str]:
    return entry.host_path, entry.chown, entry.mode, entry.reclaim_policy


def create(context: Context, args: ParsedArgs) -> None:
    """Validate against the state read, make the directory (no lock held), then record it, checking
    again; a refusal at that point removes the directory it made."""
    name, path = args.positional(0), args.positional(1)
    entries.check_name(name)
    scheduler_name = args.value("scheduler") or DOCKER_LOCAL
    entries.check_scheduler(name, scheduler_name)
    if scheduler_name == swarm_entries.DOCKER_SWARM:
        swarm_entries.create(context, args, name, path)
        entries_changed(context)
        return
    for flag in (*UNSUPPORTED_ON_DOCKER_LOCAL, *swarm_entries.FLAGS):
        if args.value(flag) is not None or args.lists.get(flag):
            raise DokkuError(f'storage entry "{name}" ({DOCKER_LOCAL}) does not accept --{flag}')
    path = path or _default_path(context, name)
    chown_value, policy = args.value("chown") or "", args.value("reclaim-policy") or ""
    mode = _validate(context, name, path, chown_value, args.value("mode") or "", policy)
    annotations = entries.parse_pairs(args.lists.get("annotation", []))
    labels = entries.parse_pairs(args.lists.get("label", []))
    with context.store.read() as tx:
        existing = _check_redefinition(tx, name, path)
    if existing is not None and _fields(existing) == (path, chown_value, mode, policy) and not (annotations or labels):
        context.console.header(f"Storage entry {name} already exists, leaving in place")
        return
    created = _apply_on_disk(context, path, mode, chown_value)
    try:
        with context.store.write() as tx:
            _check_redefinition(tx, name, path)
            entry = storage_store.save_entry(tx, name, path, chown_value, mode, policy, int(time.time()))
            for kind, values in (("annotation", annotations), ("label", labels)):
                for key, value in values.items():
                    storage_store.set_metadata(tx, entry.id, kind, key, value)
    except BaseException:
        disk.remove_created(created)
        raise
    context.console.header(f"Storage entry {name} {'updated' if existing else 'created'}")
    entries_changed(context)


def entries_changed(context: Context, destroyed: str = "") -> None:
    """Backups follow the entries: the schedule file lists every entry a schedule applies to, and a
    destroyed entry's backup secrets go with it (its snapshots stay in the repository)."""
    from pydokku.plugins.storage.backup import schedule

    if destroyed:
        from pydokku.store.secrets import Secrets, entry_scope

        Secrets(context.paths.lib_root).remove(entry_scope(destroyed))
    try:
        schedule.sync(context)
    except DokkuError as error:  # the command itself is done: say what is behind, do not fail it
        context.console.warn(error.message)


def _check_redefinition(tx: Tx, name: str, path: str) -> Entry | None:
    """The entry of that name, if any; its host path may change only while no app mounts it."""
    existing = storage_store.entry(tx, name)
    if existing is not None and existing.host_path != path and storage_store.attachments_of_entry(tx, existing.id):
        raise DokkuError(f'storage entry "{name}" is mounted; unmount it before changing its host path')
    return existing


def destroy(context: Context, args: ParsedArgs) -> None:
    name = args.positional(0)
    with context.store.read() as tx:
        entry = require_entry(tx, name)
        users = mounted_by(tx, entry)
    if users:
        raise DokkuError(f'storage entry "{name}" is still mounted by app(s): {", ".join(users)}')
    node = entry.node if entry.scheduler == swarm_entries.DOCKER_SWARM else ""  # its directory is on that node
    if entry.scheduler == swarm_entries.DOCKER_SWARM:
        with context.store.read() as tx:
            default = swarm_entries.default_path(tx, name)
    else:
        default = _default_path(context, name)
    remove_dir = args.has("destroy-host-dir") or entry.reclaim_policy == "Delete"
    if args.has("destroy-host-dir") and entry.host_path != default:
        raise DokkuError(
            f"--destroy-host-dir is only supported when the storage entry uses the default host path ({default});"
            f" omit --destroy-host-dir and manage {entry.host_path} manually"
        )
    if remove_dir and entry.host_path != default:
        context.console.warn(
            f"Leaving {entry.host_path} in place; reclaim policy Delete only removes the default host path"
        )
        remove_dir = False
    if remove_dir and not node and os.path.islink(entry.host_path):
        raise DokkuError(
            f"{entry.host_path} is a symbolic link; refusing to remove it or what it points to."
            f" Remove the link yourself, or destroy the entry without --destroy-host-dir"
        )
    remove_dir = remove_dir and (bool(node) or os.path.isdir(entry.host_path))
    where = f"{entry.host_path} on node {node}" if node else entry.host_path
    if not context.flags.force:
        if remove_dir:
            context.console.warn(
                f"Storage entry {name} is backed by {where}, which will be removed along with its contents."
            )
        confirm_destructive(context.console, context.stdin, f"storage entry {name}", name)
    with context.store.write() as tx:
        storage_store.delete_entry(tx, require_entry(tx, name).id)
    entries_changed(context, destroyed=name)
    if remove_dir:
        try:
            if node:
                from pydokku import scheduler

                scheduler.remove_node_directory(context, node, entry.host_path)
            else:
                shutil.rmtree(entry.host_path)  # descriptor-based: links inside are removed, never followed
        except DokkuError as error:
            raise DokkuError(f"Storage entry {name} is destroyed; {error.message}") from error
        except OSError as error:
            raise DokkuError(
                f"Storage entry {name} is destroyed, but {entry.host_path} could not be removed entirely"
                f" ({error.filename}: {error.strerror}); remove what is left yourself"
            ) from error
        context.console.detail(f"Removed {where}")
    context.console.header(f"Storage entry {name} destroyed")


def info(context: Context, args: ParsedArgs) -> None:
    from pydokku.plugins.storage import usage

    fmt = list_format(args.value("format"))
    with context.store.read() as tx:
        entry = require_entry(tx, args.positional(0))
        shown = entry_json(tx, entry)
        chosen = usage.last_snapshots(tx, [entry])
    (used,) = usage.usages(context, chosen)
    now = int(time.time())
    if fmt == "json":
        shown["usage"] = used.as_json(now)
        context.console.line(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    context.console.header(f"Storage entry {entry.name}")
    options = ",".join(f"{key}={value}" for key, value in sorted(entry.volume_opts.items()))
    rows = (("Scheduler", entry.scheduler), ("Host path", entry.host_path), ("Node", entry.node),
            ("Volume driver", entry.volume_driver), ("Volume options", options), ("Chown", entry.chown),
            ("Mode", entry.mode), ("Reclaim policy", entry.reclaim_policy))  # fmt: skip
    shown_rows = [row for row in rows if row[1]] + usage.rows(used, now)
    context.console.lines(f"       {(label + ':').ljust(18)}{value}" for label, value in shown_rows)


def _inventory(context: Context, fmt: str, shown: list[dict[str, object]], title: str, rows: list[str]) -> None:
    """A list of entries: pretty JSON, or a header and one tab-separated row per entry."""
    if fmt == "json":
        context.console.line(json.dumps(shown, indent=2, ensure_ascii=False))
    elif not rows:
        context.console.header("No storage entries registered")
    else:
        context.console.header(title)
        context.console.lines("       " + row for row in rows)


def list_entries(context: Context, args: ParsedArgs) -> None:
    """Text rows stay Dokku's three tab-separated fields (scripts split them); JSON adds each usage."""
    fmt = list_format(args.value("format"))
    with context.store.read() as tx:
        all_entries = [e for e in storage_store.entries(tx) if e.scheduler == (args.value("scheduler") or e.scheduler)]
        shown = [entry_json(tx, e) for e in all_entries]
        if fmt == "json":
            from pydokku.plugins.storage import usage

            chosen = usage.last_snapshots(tx, all_entries)
    if fmt == "json":
        now = int(time.time())
        for shown_entry, used in zip(shown, usage.usages(context, chosen), strict=True):
            shown_entry["usage"] = used.as_json(now)
    rows = [f"{e.name}\t{e.scheduler}\t{e.host_path}" for e in all_entries]
    _inventory(context, fmt, shown, "Storage entries:", rows)


SET_FLAGS = ("chown", "mode", "reclaim-policy")
DEPRECATED_FLAGS = "Deprecated: please use 'storage:set <name> <property> [<value>]' instead of flags"
DEPRECATED_METADATA_FLAGS = (
    "Deprecated: please use 'storage:annotations:set' and 'storage:labels:set' instead of --annotation and --label"
)


def _requested_changes(context: Context, args: ParsedArgs) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """What storage:set asks for: property values, and the annotation/label maps the deprecated flag
    form replaces whole."""
    prop, value = args.positional(1), args.positional(2)
    flags = {flag: args.values[flag] for flag in (*SET_FLAGS, *UNSUPPORTED_ON_DOCKER_LOCAL) if flag in args.values}
    metadata_flags = {kind: pairs for kind, pairs in args.lists.items() if kind in ("annotation", "label")}
    if prop and (flags or metadata_flags):
        raise DokkuError("storage:set accepts either a property and a value or flags, not both")
    if flags:
        context.console.warn(DEPRECATED_FLAGS)
    if metadata_flags:
        context.console.warn(DEPRECATED_METADATA_FLAGS)
    if flags or metadata_flags:
        return flags, {kind: entries.parse_pairs(pairs) for kind, pairs in metadata_flags.items()}
    if not prop:
        raise DokkuError("No property specified")
    if prop not in PROPERTIES:
        raise DokkuError(f"Invalid property specified, valid properties include: {', '.join(PROPERTIES)}")
    return {prop: value}, {}


def set_property(context: Context, args: ParsedArgs) -> None:
    """`storage:set <name> <property> [<value>]` (or the deprecated flags): validate, change the
    directory's mode and owner when they change (no lock held), then record."""
    name = args.positional(0)
    changes, maps = _requested_changes(context, args)
    for prop in changes:
        if prop in ("access-mode", "storage-class-name"):
            raise DokkuError(f"storage:set cannot change {prop} in place; recreate the entry")
    with context.store.read() as tx:
        entry = require_entry(tx, name)
    for prop in changes:
        if prop in ("size", "namespace"):
            raise DokkuError(f'storage entry "{name}" ({DOCKER_LOCAL}) does not accept --{prop}')
    fields = {"chown": entry.chown, "mode": entry.mode, "reclaim-policy": entry.reclaim_policy, **changes}
    if entry.scheduler == swarm_entries.DOCKER_SWARM:
        mode = swarm_entries.apply_settings(context, entry, fields["chown"], fields["mode"], fields["reclaim-policy"])
    else:
        mode = _validate(context, name, entry.host_path, fields["chown"], fields["mode"], fields["reclaim-policy"])
        changed_mode = mode if mode != entry.mode else ""
        changed_chown = fields["chown"] if fields["chown"] != entry.chown else ""
        _apply_on_disk(context, entry.host_path, changed_mode, changed_chown)
    with context.store.write() as tx:
        current = require_entry(tx, name)
        storage_store.save_entry(
            tx, name, current.host_path, fields["chown"], mode, fields["reclaim-policy"], current.created_at,
            scheduler=current.scheduler, node=current.node, volume_driver=current.volume_driver,
            volume_opts=current.volume_opts,
        )  # fmt: skip
        for kind, values in maps.items():
            for key in storage_store.metadata(tx, current.id, kind):
                storage_store.set_metadata(tx, current.id, kind, key, None)
            for key, value in values.items():
                storage_store.set_metadata(tx, current.id, kind, key, value)
    context.console.header(f"Storage entry {name} updated")


def set_metadata(context: Context, args: ParsedArgs, kind: str) -> None:
    name, key, value = args.positional(0), args.positional(1), args.positional(2)
    if not key:
        raise DokkuError(f"No {kind} key specified")
    with context.store.write() as tx:
        entry = require_entry(tx, name)
        storage_store.set_metadata(tx, entry.id, kind, key, value or None)
    if value:
        context.console.section(f"Setting {kind} {key} to {value}")
    else:
        context.console.section(f"Unsetting {kind} {key}")


def set_annotation(context: Context, args: ParsedArgs) -> None:
    set_metadata(context, args, "annotation")


def set_label(context: Context, args: ParsedArgs) -> None:
    set_metadata(context, args, "label")


def report_metadata(context: Context, args: ParsedArgs, kind: str) -> None:
    plural = kind + "s"
    fmt = report_format(args.value("format"))
    name = args.positional(0)
    if args.info_flags and not name:
        raise DokkuError(f"storage:{plural}:report requires a storage entry name when an info flag is specified")
    with context.store.read() as tx:
        targets = [require_entry(tx, name)] if name else storage_store.entries(tx)
        values = {entry.name: storage_store.metadata(tx, entry.id, kind) for entry in targets}
    prefix = f"--storage-{plural}."
    for entry_name, entry_values in values.items():
        if args.info_flags:
            flag = args.info_flags[0]
            if not flag.startswith(prefix) or flag.removeprefix(prefix) not in entry_values:
                valid = ", ".join(prefix + key for key in entry_values)
                raise DokkuError(f"Invalid flag passed, valid flags: {valid}")
            context.console.line(entry_values[flag.removeprefix(prefix)])
        elif fmt == "json":
            context.console.line(json.dumps(entry_values, separators=(",", ":"), ensure_ascii=False))
        else:
            context.console.section(f"{entry_name} {plural} information")
            width = max([31, *(len(f"{kind.title()} {key}:") + 1 for key in entry_values)])
            context.console.lines(
                f"       {f'{kind.title()} {key}:'.ljust(width)}{value}".rstrip() for key, value in entry_values.items()
            )


def report_annotations(context: Context, args: ParsedArgs) -> None:
    report_metadata(context, args, "annotation")


def report_labels(context: Context, args: ParsedArgs) -> None:
    report_metadata(context, args, "label")


def wait(context: Context, args: ParsedArgs) -> None:
    with context.store.read() as tx:
        entry = require_entry(tx, args.positional(0))
    if entry.scheduler == swarm_entries.DOCKER_SWARM:
        return  # made on its node by storage:create (a driver's volume: when a task mounts it)
    if entries.is_volume(entry.host_path):
        if context.engine.volume(entry.host_path) is None:
            raise DokkuError(f'storage entry "{entry.name}" docker volume {entry.host_path} is not present')
    elif not os.path.isdir(entry.host_path):
        raise DokkuError(f'storage entry "{entry.name}" host path {entry.host_path} is not present')


def exec_in(context: Context, args: ParsedArgs) -> int:
    import sys

    name = args.positional(0)
    if not name:
        raise DokkuError("storage:exec requires a storage entry name")
    with context.store.read() as tx:
        entry = require_entry(tx, name)
    entries.check_on_this_host(entry)
    engine = context.engine
    if entries.is_volume(entry.host_path):
        if engine.volume(entry.host_path) is None:
            raise DokkuError(
                f'docker named volume "{entry.host_path}" is not present: create it with docker volume create'
            )
    elif not os.path.isdir(entry.host_path):
        raise DokkuError(f"host path {entry.host_path} does not exist")
    image = args.value("image") or helper_image(engine)
    if image is None:
        raise DokkuError(
            f"No image to run storage:exec with on this host (tried {', '.join(EXEC_IMAGES)}); pass --image"
        )
    if has_control_characters(image):
        raise DokkuError(f"Docker image references cannot contain control characters such as newlines: {image!r}")
    if engine.image(image) is None:
        raise DokkuError(
            f"Image {image} is not on this host, and nothing is pulled from a registry implicitly;"
            " load or build it first (docker load, docker build)"
        )
    user = args.value("as-user") or (
        str(chown.resolve(entry.chown).owner_id) if entry.chown not in ("", "false") else ""
    )
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    command = args.positionals[1:] or EXEC_SHELL
    container = f"storage-exec.{name}.{os.urandom(4).hex()}"
    run_args = [
        "--rm", "--interactive", *(["--tty"] if tty else []), *(["--user", f"{user}:{user}"] if user else []),
        "--name", container, "--label", f"com.dokku.storage-entry={name}", "-v", f"{entry.host_path}:/data",
        "--pull", "never", image, *command,
    ]  # fmt: skip
    context.console.out.flush()
    return engine.run_attached(run_args, container)


def helper_image(engine: Engine) -> str | None:
    """An image on this host to run storage:exec in, or to read a volume through (never pulled)."""
    return next((image for image in EXEC_IMAGES if engine.image(image) is not None), None)


def migrate(context: Context, args: ParsedArgs) -> None:
    """Move the volumes among docker options (deploy and run) into legacy entries and attachments."""
    name = args.positional(0)
    if name and args.has("all"):
        raise DokkuError("storage:migrate accepts either an app name or --all, not both")
    if not name and not args.has("all"):
        raise DokkuError("storage:migrate requires an app name (or --all)")
    with context.store.write() as tx:
        targets = app_store.list_all(tx) if args.has("all") else [apps.require(tx, name)]
        for app in targets:
            _migrate_app(tx, app)
    entries_changed(context)
    if args.has("all"):
        context.console.header(f"Re-migrated {len(targets)} app(s)")
    else:
        context.console.header(f"Re-migrated {name}")


def _migrate_app(tx: Tx, app: apps.AppRow) -> None:
    volumes = docker_options.volumes(tx, [app.id]).get(app.id, {})
    phases: dict[MountSpec, set[str]] = {}
    for phase in ("deploy", "run"):
        for raw in volumes.get(phase, []):
            spec = MountSpec.loose(raw)
            if spec.container:  # an anonymous `-v /path` volume is not storage anyone manages
                phases.setdefault(spec, set()).add(phase)
    for spec, found_in in phases.items():
        attach_legacy(tx, app, spec, deploy="deploy" in found_in, run="run" in found_in)
        docker_options.remove_volume(tx, app, spec.host, spec.container, phases=tuple(sorted(found_in)))


def global_report(context: Context, args: ParsedArgs) -> int:
    fmt = report_format(args.value("format"))
    with context.store.read() as tx:
        all_entries = storage_store.entries(tx)
        users = {e.name: mounted_by(tx, e) for e in all_entries}
        shown: list[dict[str, object]] = [
            {"entry": entry_json(tx, e), "mounted_by": users[e.name]} for e in all_entries
        ]
    rows = [f"{e.name}\t{e.scheduler}\tmounted by: {', '.join(users[e.name]) or '—'}" for e in all_entries]
    _inventory(context, fmt, shown, "Storage report (global):", rows)
    return 0
