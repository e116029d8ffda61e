"""storage:* handlers."""

from __future__ import annotations

import os

from pydokku import report
from pydokku.errors import DokkuError
from pydokku.plugins import apps, docker_options
from pydokku.plugins.storage import AppMounts, app_mounts
from pydokku.plugins.storage.spec import MAX_NAME_BYTES, parse
from pydokku.store import mounts as mount_store
from pydokku.text import ASCII_ALNUM, only, shell_quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.plugins.storage.spec import MountSpec
    from pydokku.store import Tx

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
    owner = choice.on_host(None if choice.owner_id is None else context.engine.userns_offset())
    path = os.path.join(context.paths.storage_root, name)
    console.header(f"Ensuring {path} exists", always=True)
    _make_directory(path)
    if owner is not None:
        uid, gid = owner
        console.detail(f"Setting directory ownership to {uid}:{gid}")
        from pydokku.ownership import set_tree_owner

        set_tree_owner(path, uid, gid)
    console.detail("Directory ready for mounting")


def _make_directory(path: str) -> None:
    import stat

    try:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        os.mkdir(path, mode=0o755)
    except FileExistsError:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            raise DokkuError(f"{path} is a symbolic link; refusing to use it as a storage directory") from None
        if not stat.S_ISDIR(mode):
            raise DokkuError(f"{path} exists but is not a directory") from None
    except OSError as error:
        raise DokkuError(f"Unable to create {path}: {error.strerror}") from error


def _mounts(tx: Tx, app: apps.AppRow) -> AppMounts:
    return app_mounts(tx, [app])[app.id]


def list_mounts(context: Context, args: ParsedArgs) -> None:
    with context.store.read() as tx:
        app = apps.require(tx, args.positional(0))
        fmt = args.value("format", "text")
        if fmt not in ("text", "json"):
            raise DokkuError("Invalid --format value specified")
        listed = _mounts(tx, app).listed()
    console = context.console
    if fmt == "json":
        import json

        console.line(json.dumps([spec.as_json() for spec in listed], indent=2, ensure_ascii=False))
    elif console.quiet:
        console.lines(str(spec) for spec in listed)
    else:
        console.header(f"{app.name} volume bind-mounts:")
        console.lines("       " + str(spec) for spec in listed)


def mount(context: Context, args: ParsedArgs) -> None:
    with context.store.write() as tx:
        app = apps.require(tx, args.positional(0))
        spec = parse(args.positional(1))
        existing = _mounts(tx, app).listed()
        if any(spec.identifies(other) for other in existing):
            raise DokkuError("Mount path already exists.")
        clash = next((other for other in existing if other.target == spec.target), None)
        if clash is not None:
            raise DokkuError(f"Container path {spec.container} is already mounted by {clash}; unmount that first.")
        if not spec.is_volume and not os.path.exists(spec.host):
            raise DokkuError(
                f"Host path {spec.host} does not exist; create it first, for example with storage:ensure-directory."
            )
        mount_store.add(tx, app.id, spec.host, spec.container, spec.options, deploy=True, run=True)


def unmount(context: Context, args: ParsedArgs) -> None:
    with context.store.write() as tx:
        app = apps.require(tx, args.positional(0))
        spec = parse(args.positional(1))
        removed = False
        for row in mount_store.list_for(tx, [app.id]).get(app.id, []):
            if (row.host_path, row.container_path) == (spec.host, spec.container):
                mount_store.delete(tx, row.id)
                removed = True
        removed = docker_options.remove_volume(tx, app, spec.host, spec.container) or removed
        if not removed:
            raise DokkuError("Mount path does not exist.")


def _flags(specs: list[MountSpec]) -> str:
    return " ".join("-v " + shell_quote(str(spec)) for spec in specs)


def _collect(tx: Tx, targets: list[apps.AppRow], context: Context) -> dict[str, dict[str, str]]:
    mounts = app_mounts(tx, targets)
    return {
        app.name: {
            "storage-build-mounts": _flags(mounts[app.id].build),
            "storage-deploy-mounts": _flags(mounts[app.id].deploy),
            "storage-run-mounts": _flags(mounts[app.id].run),
        }
        for app in targets
    }


def report_storage(context: Context, args: ParsedArgs) -> int:
    return report.run(context, args, "storage", _collect)
