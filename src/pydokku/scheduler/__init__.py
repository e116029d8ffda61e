"""The app's scheduler, as the plugins see it: deploy, rebuild, stop, its processes, retire, one-off
runs, and the containers holding a storage path. Plugins call these functions, never a scheduler module:
each call goes to the scheduler the app uses (the `scheduler` plugin's choice: docker-local, docker-swarm
or null).
Building a release is the same for every scheduler (build.py); schedulers read the plugins' state only
through their exports (runtime.py), never their tables.
"""

from __future__ import annotations

from pydokku.store import releases

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

    from pydokku.context import Context
    from pydokku.engine import Container, Engine
    from pydokku.engine.swarm import Node
    from pydokku.scheduler.docker_swarm import Copied
    from pydokku.scheduler.plan import OneOff
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow
    from pydokku.store.releases import Release


def check_unlocked(context: Context, app_name: str) -> None:
    """Deploys and restarts of a locked app (apps:lock) are refused."""
    from pydokku.plugins import apps
    from pydokku.store import apps as app_store

    with context.store.read() as tx:
        app = app_store.get(tx, app_name)
        if app is not None:
            apps.check_unlocked(tx, app)


def _for(context: Context, app_name: str) -> ModuleType:
    """The scheduler module running this app (the scheduler plugin's `selected`)."""
    from pydokku.plugins import scheduler
    from pydokku.store import apps as app_store

    with context.store.read() as tx:
        app = app_store.get(tx, app_name)
        # An app no longer recorded (renamed, being destroyed) is cleaned up by label: docker-local does it.
        chosen = scheduler.selected(tx, app) if app is not None else "docker-local"
    return _module(chosen)


def _module(name: str) -> ModuleType:
    if name == "null":
        from pydokku.scheduler import null

        return null
    if name == "docker-swarm":
        from pydokku.scheduler import docker_swarm

        return docker_swarm
    from pydokku.scheduler import docker_local

    return docker_local


def switch(context: Context, app_name: str, previous: str) -> None:
    """A deployed app changed scheduler: the new one starts it, then the previous one's processes go."""
    check_unlocked(context, app_name)
    _for(context, app_name).deploy(context, app_name)
    _module(previous).remove_processes(context, app_name)


def deploy(context: Context, app_name: str, only: str | None = None, candidate: Release | None = None) -> None:
    """Start the current release's processes (only one process type when given), or a candidate release
    (recorded once it runs), retiring the old ones."""
    check_unlocked(context, app_name)
    _for(context, app_name).deploy(context, app_name, only=only, candidate=candidate)


def rebuild(context: Context, app_name: str) -> None:
    """Build the current release's source image again and deploy it."""
    from pydokku.scheduler import build

    check_unlocked(context, app_name)
    build.rebuild(context, app_name)


def build_and_deploy(context: Context, app_name: str, source_image: str, source_image_id: str) -> None:
    from pydokku.scheduler import build

    check_unlocked(context, app_name)
    build.build_and_deploy(context, app_name, source_image, source_image_id)


def release_image(context: Context, app_name: str, source_image: str) -> bool:
    """Build and deploy a release from an image on this host; False when it is the current one."""
    from pydokku.scheduler import build

    check_unlocked(context, app_name)
    return build.release_image(context, app_name, source_image)


def stop(context: Context, app_name: str) -> int:
    stopped: int = _for(context, app_name).stop(context, app_name)
    return stopped


def processes(context: Context, app_name: str) -> list[Container]:
    """The app's deployed containers (running or not), oldest first."""
    found: list[Container] = _for(context, app_name).containers(context, app_name)
    return found


def retire(context: Context, app_name: str) -> None:
    """Remove everything the app runs and its images; its storage is never touched."""
    _for(context, app_name).remove_all(context, app_name)


def run(context: Context, app_name: str, one_off: OneOff) -> int:
    """A one-off container of the current release; its exit status (detached: 0 once started)."""
    code: int = _for(context, app_name).run(context, app_name, one_off)
    return code


def runs(context: Context, app_name: str) -> list[Container]:
    """The app's one-off runs still there, oldest first (name, state, command, created)."""
    found: list[Container] = _for(context, app_name).runs(context, app_name)
    return found


def run_log_streams(
    context: Context, app_name: str, run: str, tail: int, follow: bool
) -> list[tuple[str, subprocess.Popen[bytes]]]:
    """The timestamped log of one run (by name) or of every run of the app (""), each with the dyno it is
    shown under (Dokku's: the run's number)."""
    found: list[tuple[str, subprocess.Popen[bytes]]] = _for(context, app_name).run_log_streams(
        context, app_name, run, tail, follow
    )
    return found


def stop_runs(context: Context, app_name: str, run: str) -> list[str]:
    """Stop and remove one run (by name) or every run of the app (""); the names stopped."""
    stopped: list[str] = _for(context, app_name).stop_runs(context, app_name, run)
    return stopped


def failed_logs(context: Context, app_name: str) -> bytes | None:
    """What the containers of the app's last failed deploy said (None: no failed deploy since the
    last one that succeeded)."""
    from pydokku.scheduler import runtime
    from pydokku.store import apps as app_store

    with context.store.read() as tx:
        app = app_store.get(tx, app_name)
        return runtime.failed_output(tx, app) if app is not None else None


def holding(context: Context, app_names: list[str], source: str) -> list[tuple[Container, int]]:
    """The running containers of these apps that mount `source` (a host path, or a volume by name), each
    with its app's stop timeout: what a backup pauses and a restore stops."""
    found: list[tuple[Container, int]] = []
    for app_name in app_names:
        found += _for(context, app_name).running_with_mount(context, [app_name], source)
    return found


def running_mounts(context: Context, app_names: list[str]) -> dict[str, list[Container]]:
    """The running deployed containers of these apps, with their mounts, by app (apps grouped by their
    scheduler: one listing per scheduler)."""
    from pydokku.plugins import scheduler
    from pydokku.store import apps as app_store

    wanted = set(app_names)
    by_scheduler: dict[str, list[str]] = {}
    with context.store.read() as tx:
        for app in app_store.list_all(tx):
            if app.name in wanted:
                by_scheduler.setdefault(scheduler.selected(tx, app), []).append(app.name)
    found: dict[str, list[Container]] = {}
    for chosen, names in by_scheduler.items():
        found.update(_module(chosen).running_mounts(context, names))
    return found


def log_streams(
    context: Context, app_name: str, process_type: str, tail: int, follow: bool
) -> list[tuple[str, subprocess.Popen[bytes]]]:
    """The app's logs, one timestamped stream per process (docker-local: container; swarm: service),
    each with the name it is shown under."""
    found: list[tuple[str, subprocess.Popen[bytes]]] = _for(context, app_name).log_streams(
        context, app_name, process_type, tail, follow
    )
    return found


def inspect(context: Context, app_name: str) -> list[dict[str, Any]]:
    """What the engine says about the app's processes (containers, or services)."""
    found: list[dict[str, Any]] = _for(context, app_name).inspect(context, app_name)
    return found


def build_engine(context: Context, app_name: str) -> Engine:
    """The engine that builds the app's releases and pushes them (a swarm app's: its manager's); with
    no app, the one the global scheduler uses."""
    if not app_name:
        from pydokku.plugins import scheduler

        with context.store.read() as tx:
            chosen = scheduler.computed(*scheduler.values(tx, None), "selected")
        found: Engine = _module(chosen).engine(context, "")
        return found
    found = _for(context, app_name).engine(context, app_name)
    return found


def check_options(context: Context, app_name: str, phase: str, options: list[str]) -> None:
    """Refuse docker options the app's scheduler cannot give its processes (docker-options:add)."""
    _for(context, app_name).check_options(phase, options)


def swarm_nodes(context: Context) -> list[Node]:
    """The nodes of the swarm the docker-swarm scheduler uses (global manager)."""
    from pydokku.scheduler import docker_swarm

    return docker_swarm.nodes(context)


def prepare_node_directory(context: Context, node: str, path: str, owner: tuple[int, int] | None, mode: str) -> bool:
    """Create a directory on a swarm node's disk with its owner and mode; True when it was created."""
    from pydokku.scheduler import docker_swarm

    return docker_swarm.prepare_directory(context, node, path, owner, mode)


def copy_node_directory(
    context: Context, path: str, source: str, target: str, *, move: str, replace: bool,
    ready: Callable[[], None] | None,
) -> Copied:  # fmt: skip
    """Copy a storage directory from one swarm node's disk to a hidden folder beside the same path on
    another's, verified (file count and bytes); `ready` runs once the target is free, before the source is
    read."""
    from pydokku.scheduler import docker_swarm

    return docker_swarm.copy_directory(context, path, source, target, move=move, replace=replace, ready=ready)


def place_node_directory(context: Context, path: str, target: str, *, move: str, stamp: str, replace: bool) -> str:
    """Put a move's verified copy in place (finishing an interrupted one too); the suffix data it found
    there was renamed with, or ""."""
    from pydokku.scheduler import docker_swarm

    return docker_swarm.place_directory(context, path, target, move=move, stamp=stamp, replace=replace)


def undo_node_directory(context: Context, path: str, target: str, *, move: str, stamp: str, placed: bool) -> None:
    """Take back what an interrupted move did on the target."""
    from pydokku.scheduler import docker_swarm

    docker_swarm.undo_directory(context, path, target, move=move, stamp=stamp, placed=placed)


def remove_move_jobs(context: Context, move: str) -> list[str]:
    """Remove the helper jobs an interrupted move left; their names."""
    from pydokku.scheduler import docker_swarm

    return docker_swarm.remove_move_jobs(context, move)


def remove_node_directory(context: Context, node: str, path: str) -> None:
    from pydokku.scheduler import docker_swarm

    docker_swarm.remove_directory(context, node, path)


def current_release(tx: Tx, app: AppRow) -> Release | None:
    return releases.current(tx, app.id)


def deployed(tx: Tx, app: AppRow) -> bool:
    """Whether the app has a release to run (it may still be stopped)."""
    return releases.current(tx, app.id) is not None
