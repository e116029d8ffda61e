"""apps:* handlers. Each validates, changes state in one transaction, then prints."""

from __future__ import annotations

import contextlib
import os
import time

from pydokku import registry, report, scheduler
from pydokku.console import confirm_destructive
from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.store import apps as app_store
from pydokku.store import properties

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx

NAME_TAKEN = "Name is already taken"


# Commands that change $DOKKU_ROOT validate against the state read, change the folder with no lock
# held, then record in one transaction that checks again; if that refuses, the folder change is undone.


def _make_app_dir(context: Context, name: str) -> Callable[[], None]:
    """Create $DOKKU_ROOT/<app> (tools probe it); returns how to undo that."""
    path = context.paths.app_dir(name)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        return lambda: None
    return lambda: _remove_empty(path)


def _remove_empty(path: str) -> None:
    with contextlib.suppress(OSError):
        os.rmdir(path)


def create(context: Context, args: ParsedArgs) -> None:
    name = args.positional(0)
    apps.validate_name(name)
    with context.store.read() as tx:
        _new_name(tx, name)
    undo = _make_app_dir(context, name)
    try:
        with context.store.write() as tx:
            _new_name(tx, name)
            app_store.insert(tx, name, int(time.time()))
    except BaseException:
        undo()
        raise
    context.console.header(f"Creating {name}...")


def _retire(context: Context, name: str, *, deployed: bool) -> None:
    """Remove every container and image labelled with the app (a failed or interrupted deploy may have
    left some even if it never ran); the data of its mounts is never touched. For an app that was
    never deployed, an unreachable engine is no reason to stop."""
    from pydokku.engine import EngineUnavailable

    try:
        scheduler.retire(context, name)
    except EngineUnavailable:
        if deployed:
            raise


def destroy(context: Context, args: ParsedArgs) -> None:
    name = args.positional(0)
    with context.store.read() as tx:
        deployed = scheduler.deployed(tx, apps.require(tx, name))
    if not context.flags.force:
        confirm_destructive(context.console, context.stdin, f"app {name}", name)
    context.console.header(f"Destroying {name} (including all add-ons)")
    context.console.header("Retiring old containers and images")
    _retire(context, name, deployed=deployed)  # first: an unreachable engine leaves the app as it was
    with context.store.write() as tx:
        app_store.delete(tx, apps.require(tx, name).id)  # attachments go with it; entries outlive apps
    _remove_app_dir(context, name)


def _remove_app_dir(context: Context, name: str) -> None:
    """Remove $DOKKU_ROOT/<app>, but never files somebody else put there."""
    directory = context.paths.app_dir(name)
    try:
        os.rmdir(directory)
    except FileNotFoundError:
        pass
    except OSError:
        context.console.warn(f"Leaving {directory} in place: it is not empty")


def exists(context: Context, args: ParsedArgs) -> None:
    with context.store.read() as tx:
        apps.require(tx, args.positional(0))


def list_apps(context: Context, args: ParsedArgs) -> None:
    from pydokku.console import list_format

    fmt = list_format(args.value("format"))
    with context.store.read() as tx:
        names = [app.name for app in app_store.list_all(tx)]
    if fmt == "json":  # Dokku's: a compact array of names, `[]` when there are none
        import json

        context.console.line(json.dumps(names, separators=(",", ":")))
        return
    context.console.section("My Apps")
    if not names:
        context.console.warn(apps.NO_APPS)
    context.console.lines(names)


def _new_name(tx: Tx, name: str) -> None:
    apps.validate_name(name, empty_message="Please specify an new app name")
    if app_store.get(tx, name) is not None:
        raise DokkuError(NAME_TAKEN)


def rename(context: Context, args: ParsedArgs) -> None:
    old, new = args.positional(0), args.positional(1)
    with context.store.read() as tx:
        apps.require(tx, old)
        _new_name(tx, new)
    undo = _move_app_dir(context, old, new)
    try:
        with context.store.write() as tx:
            app = apps.require(tx, old)
            _new_name(tx, new)
            deployed = scheduler.deployed(tx, app)
            app_store.rename(tx, app.id, new)
    except BaseException:
        undo()
        raise
    context.console.header(f"Renaming {old} to {new}")
    # Containers and images carry the app's name: rebuild under the new one, and retire the old ones
    # even if that fails, or nothing would ever find them again.
    try:
        if deployed and not args.has("skip-deploy"):
            scheduler.rebuild(context, new)
    finally:
        if deployed:
            context.console.header("Retiring old containers and images")
        _retire(context, old, deployed=deployed)


def _move_app_dir(context: Context, old: str, new: str) -> Callable[[], None]:
    """Move $DOKKU_ROOT/<old> to <new> (or create <new>); returns how to undo that."""
    source, target = context.paths.app_dir(old), context.paths.app_dir(new)
    if os.path.lexists(target):
        try:
            os.rmdir(target)  # an empty leftover of an earlier app of that name
        except OSError as error:
            raise DokkuError(f"Unable to rename {source}: {target} exists and is not empty") from error
    if not os.path.isdir(source):
        return _make_app_dir(context, new)
    os.rename(source, target)
    return lambda: os.rename(target, source)


def clone(context: Context, args: ParsedArgs) -> None:
    old, new = args.positional(0), args.positional(1)
    with context.store.read() as tx:
        apps.require(tx, old)
        try:
            _new_name(tx, new)
        except DokkuError as error:
            if error.message == NAME_TAKEN and args.has("ignore-existing"):
                context.console.warn(NAME_TAKEN)
                return
            raise
    undo = _make_app_dir(context, new)
    try:
        with context.store.write() as tx:
            source = apps.require(tx, old)
            _new_name(tx, new)
            target = app_store.insert(tx, new, int(time.time()))
            # The clone gets the same config, options and mounts: each plugin's answer to the trigger.
            for copy in registry.triggered(registry.APP_CLONE):
                copy(tx, source, target)
            release = scheduler.current_release(tx, source)
    except BaseException:
        undo()
        raise
    context.console.header(f"Cloning {old} to {new}")
    context.console.header(f"Creating {new}...")
    if release is not None and not args.has("skip-deploy"):
        scheduler.build_and_deploy(context, new, release.source_image, release.source_image_id)


def _global_values(tx: Tx) -> dict[str, str]:
    # Dokku's global disable-autocreation property: no command here creates an app on its own, so it is
    # only reported.
    return {"app-global-disable-autocreation": properties.get_global(tx, apps.PLUGIN).get("disable-autocreation", "")}


def _collect(tx: Tx, targets: list[apps.AppRow], context: Context) -> dict[str, dict[str, str]]:
    collected = {}
    shared = _global_values(tx)
    for app in targets:
        source = apps.deploy_source(tx, app)
        release = scheduler.current_release(tx, app) if source is None else None  # deployed before it was recorded
        collected[app.name] = {
            "app-created-at": str(app.created_at),
            "app-deploy-source": source.kind if source else "docker-image" if release else "",
            "app-deploy-source-metadata": source.metadata if source else release.source_image if release else "",
            "app-dir": str(context.paths.app_dir(app.name)),
            "app-locked": "true" if apps.is_locked(tx, app) else "false",
            **shared,
        }
    return collected


def lock(context: Context, args: ParsedArgs) -> None:
    with context.store.write() as tx:
        app = apps.require(tx, args.positional(0))
        if not apps.is_locked(tx, app):
            properties.put(tx, app.id, apps.PLUGIN, apps.DEPLOY_LOCK, str(int(time.time())))
    context.console.header("Deploy lock created")


def unlock(context: Context, args: ParsedArgs) -> None:
    with context.store.write() as tx:
        app = apps.require(tx, args.positional(0))
        if apps.is_locked(tx, app):
            context.console.warn("A deploy may be in progress.")
            context.console.warn("Removing the app lock will not stop in progress deploys.")
            properties.put(tx, app.id, apps.PLUGIN, apps.DEPLOY_LOCK, None)
    context.console.header("Deploy lock removed.")


def locked(context: Context, args: ParsedArgs) -> None:
    with context.store.read() as tx:
        if not apps.is_locked(tx, apps.require(tx, args.positional(0))):
            raise DokkuError("Deploy lock does not exist")
    if not context.console.quiet:  # Dokku's LogQuiet
        context.console.line("Deploy lock exists")


def report_apps(context: Context, args: ParsedArgs) -> int:
    return report.run(context, args, "app", _collect, json_values=report.trimmed("app"), global_collect=_global_values)
