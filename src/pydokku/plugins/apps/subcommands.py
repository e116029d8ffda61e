"""apps:* handlers. Each validates, changes state in one transaction, then prints."""

from __future__ import annotations

import os
import time

from pydokku import report, scheduler
from pydokku.console import confirm_destructive
from pydokku.errors import DokkuError
from pydokku.plugins import apps, config, docker_options, storage
from pydokku.store import apps as app_store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx

NAME_TAKEN = "Name is already taken"


def _create(context: Context, tx: Tx, name: str) -> apps.AppRow:
    """Create app `name` in the open transaction, with its $DOKKU_ROOT directory."""
    app = app_store.insert(tx, name, int(time.time()))
    os.makedirs(context.paths.app_dir(name), mode=0o755, exist_ok=True)
    return app


def create(context: Context, args: ParsedArgs) -> None:
    name = args.positional(0)
    apps.validate_name(name)
    with context.store.write() as tx:
        if app_store.get(tx, name) is not None:
            raise DokkuError(NAME_TAKEN)
        _create(context, tx, name)
    context.console.header(f"Creating {name}...")


def _retire(context: Context, name: str, *, deployed: bool) -> None:
    """Remove every container and image labelled with the app (a failed or interrupted deploy may have
    left some even if it never ran); the data of its mounts is never touched. For an app that was
    never deployed, an unreachable engine is no reason to stop."""
    from pydokku.engine import EngineUnavailable
    from pydokku.scheduler import docker_local

    try:
        docker_local.remove_all(context, name)
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
    with context.store.read() as tx:
        names = [app.name for app in app_store.list_all(tx)]
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
    with context.store.write() as tx:
        app = apps.require(tx, old)
        _new_name(tx, new)
        deployed = scheduler.deployed(tx, app)
        context.console.header(f"Renaming {old} to {new}")
        app_store.rename(tx, app.id, new)
        _move_app_dir(context, old, new)
    # Containers and images carry the app's name: rebuild under the new one, and retire the old ones
    # even if that fails, or nothing would ever find them again.
    try:
        if deployed and not args.has("skip-deploy"):
            from pydokku.scheduler import docker_local

            docker_local.rebuild(context, new)
    finally:
        if deployed:
            context.console.header("Retiring old containers and images")
        _retire(context, old, deployed=deployed)


def _move_app_dir(context: Context, old: str, new: str) -> None:
    source, target = context.paths.app_dir(old), context.paths.app_dir(new)
    if os.path.lexists(target):
        try:
            os.rmdir(target)  # an empty leftover of an earlier app of that name
        except OSError as error:
            raise DokkuError(f"Unable to rename {source}: {target} exists and is not empty") from error
    if os.path.isdir(source):
        os.rename(source, target)
    else:
        os.makedirs(target, mode=0o755)


def clone(context: Context, args: ParsedArgs) -> None:
    old, new = args.positional(0), args.positional(1)
    with context.store.write() as tx:
        source = apps.require(tx, old)
        try:
            _new_name(tx, new)
        except DokkuError as error:
            if error.message == NAME_TAKEN and args.has("ignore-existing"):
                context.console.warn(NAME_TAKEN)
                return
            raise
        context.console.header(f"Cloning {old} to {new}")
        context.console.header(f"Creating {new}...")
        target = _create(context, tx, new)
        # Dokku's post-app-clone-setup: the clone gets the same config, options and mounts.
        config.copy_app(tx, source, target)
        docker_options.copy_app(tx, source, target)
        storage.copy_app(tx, source, target)
        release = scheduler.current_release(tx, source)
    if release is not None and not args.has("skip-deploy"):
        from pydokku.scheduler import docker_local

        docker_local.build_and_deploy(context, new, release.source_image, release.source_image_id)


def _collect(tx: Tx, targets: list[apps.AppRow], context: Context) -> dict[str, dict[str, str]]:
    return {
        app.name: {"app-created-at": str(app.created_at), "app-dir": str(context.paths.app_dir(app.name))}
        for app in targets
    }


def report_apps(context: Context, args: ParsedArgs) -> int:
    return report.run(context, args, "app", _collect)
