"""The docker-local scheduler's work against the engine: build a release, deploy it, stop, run, remove.

A deploy replaces containers one dyno at a time: the new container starts under a temporary name
(`<app>.<proc>.<n>.upcoming-<id>`), must be running, and only then is the old one stopped and
removed and the new one renamed to `<app>.<proc>.<n>`. A container that fails to start is removed
and the old one keeps running. Nothing here ever deletes or re-owns data outside the mounts' owner
fix-up, which runs before any container starts and can be turned off per app.
"""

from __future__ import annotations

import os
import time
from functools import partial

from pydokku.errors import DokkuError
from pydokku.locks import app_lock
from pydokku.plugins import apps, scheduler_docker_local, storage
from pydokku.plugins.storage import DEFAULT_PROCESS_TYPE, attachment_spec
from pydokku.scheduler import plan
from pydokku.scheduler.runtime import Runtime, load, record_failed_output, record_release

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Iterable
    from typing import Any, TypeVar

    T = TypeVar("T")

    from pydokku.context import Context
    from pydokku.engine import Container, Engine
    from pydokku.plugins.storage import MountSpec
    from pydokku.store.releases import Release

DEFAULT_APP_USER = "herokuishuser"
CHECK_INTERVAL = 0.05


def _runtime(context: Context, app_name: str, candidate: Release | None = None) -> Runtime:
    with context.store.read() as tx:
        return load(tx, apps.require(tx, app_name), candidate)


# -- deploys -------------------------------------------------------------------------------------


def deploy(context: Context, app_name: str, only: str | None = None, candidate: Release | None = None) -> None:
    """Run the current release (or a candidate): start a checked container for each dyno, then retire
    the containers they replace and what is no longer wanted. If any dyno fails, the containers
    started so far are removed, the old ones keep running and a candidate is not recorded."""
    console, engine = context.console, context.engine
    with app_lock(context, app_name):
        runtime = _runtime(context, app_name, candidate)
        release = runtime.release
        if release is None:
            raise DokkuError(f"App {app_name} has not been deployed")
        if only is not None and only not in release.processes:
            raise DokkuError(f"Process type {only} is not part of the release of {app_name}")
        image = engine.image(release.image_id)
        if image is None:
            raise DokkuError(f"The release image of {app_name} is missing; run ps:rebuild to build it again")
        checks_wait = runtime.checks_wait
        _check_mounts(engine, runtime.mounts.specs("deploy"), app_name)
        _check_subpaths(runtime)
        given, reowned = _fix_ownership(context, _planned_owners(context, runtime, image))
        console.header(f"Deploying {app_name} via the docker-local scheduler...")
        existing = _deployed_containers(engine, app_name)
        upcoming: list[tuple[str, str]] = []  # (container id, dyno name)
        failed_output: list[bytes] = []  # what the containers that failed said, for logs:failed

        def deploy_process_type(process_type: str) -> tuple[list[tuple[str, str]], BaseException | None]:
            count = runtime.scale[process_type]
            console.header(f"Deploying {process_type} (count={count})")
            start = partial(_start_dyno, engine, runtime, process_type, checks_wait=checks_wait, failed=failed_output)
            return _concurrently([partial(start, i) for i in range(1, count + 1)])

        try:
            for batch in _schedule(release.processes, only, int(runtime.settings["parallel-schedule-count"])):
                # Every process type of a batch runs to its end; a failure stops the batches after it.
                outcomes, crashed = _concurrently([partial(deploy_process_type, t) for t in batch])
                failures = [error for _, error in outcomes if error is not None]
                upcoming += [started for dynos, _ in outcomes for started in dynos]
                if crashed is not None or failures:
                    raise crashed or failures[0]
            with context.store.write() as tx:
                app = apps.require(tx, app_name)
                if candidate is not None:
                    record_release(tx, app, candidate)
                scheduler_docker_local.record_deploy_owners(tx, app, given)
                record_failed_output(tx, app, None)
        except BaseException as error:
            for container_id, _ in upcoming:
                engine.remove(container_id)
            if failed_output:
                with context.store.write() as tx:
                    record_failed_output(tx, apps.require(tx, app_name), b"".join(failed_output))
            if reowned and isinstance(error, DokkuError):
                error.message += "\n !     The deploy had already given these directories their owner: " + ", ".join(
                    reowned
                )
            raise
        replaced = {name.removeprefix(f"{app_name}.") for _, name in upcoming}  # app names may hold dots
        retiring = [
            container
            for container in existing
            if (only is None or container.labels.get(plan.LABEL_PROCESS, "") == only)
            and (
                container.labels.get(plan.LABEL_DYNO, "") in replaced
                or _dyno_index(container) > runtime.scale.get(container.labels.get(plan.LABEL_PROCESS, ""), 0)
            )
        ]
        _, failure = _concurrently([partial(_retire, engine, c, runtime.stop_timeout) for c in retiring])
        if failure is not None:
            raise failure
        for container_id, name in upcoming:
            engine.rename(container_id, name)
        _remove_unused_images(engine, app_name)
        console.section("Application deployed:")
        for _, name in upcoming:
            console.detail(name)


def _schedule(process_types: Iterable[str], only: str | None, parallel: int) -> list[list[str]]:
    """The process types a deploy starts, in batches started at once: web first and alone (Dokku's
    parallel-schedule-count), then the others by name, `parallel` at a time."""
    chosen = sorted(t for t in process_types if only is None or t == only)
    first = [["web"]] if "web" in chosen else []
    rest = [t for t in chosen if t != "web"]
    return first + [rest[i : i + parallel] for i in range(0, len(rest), parallel)]


def _concurrently(calls: list[Callable[[], T]]) -> tuple[list[T], BaseException | None]:
    """Run the calls at once, in threads (each waits on Docker, not on Python); the results of those
    that succeeded, in order, and the first error."""
    if len(calls) <= 1:
        try:
            return [call() for call in calls], None
        except BaseException as error:
            return [], error
    import threading

    results: list[tuple[T] | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = (calls[index](),)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [result[0] for result in results if result is not None], (errors[0] if errors else None)


def _dyno_index(container: Container) -> int:
    index = container.labels.get(plan.LABEL_DYNO, "").rpartition(".")[2]
    return int(index) if index.isdigit() else 0


def _deployed_containers(engine: Engine, app_name: str) -> list[Container]:
    return engine.containers({plan.LABEL_APP: app_name, plan.LABEL_CONTAINER_TYPE: "deploy"})


def _retire(engine: Engine, container: Container, stop_timeout: int) -> None:
    if container.state == "running":
        engine.stop(container.id, stop_timeout)
    engine.remove(container.id)


def _start_dyno(
    engine: Engine, runtime: Runtime, process_type: str, index: int, *, checks_wait: float, failed: list[bytes]
) -> tuple[str, str]:
    """Create and start a dyno's new container under a temporary name and check it; returns its id
    and the name it takes once the old container is retired. A container that fails is removed, what it
    said added to `failed`."""
    release = runtime.release
    assert release is not None
    dyno = f"{process_type}.{index}"
    name = f"{runtime.app}.{dyno}"
    spec = plan.ContainerSpec(
        f"{name}.upcoming-{os.urandom(4).hex()}",
        release.image_id,
        plan.container_command(release.processes[process_type]),
        env={**runtime.env, "DYNO": dyno},
        labels={
            plan.LABEL_APP: runtime.app,
            plan.LABEL_CONTAINER_TYPE: "deploy",
            plan.LABEL_PROCESS: process_type,
            plan.LABEL_DYNO: dyno,
            plan.LABEL_RELEASE: str(release.number),
        },
        binds=[mount.volume_value() for mount in runtime.mounts_for("deploy", process_type)],
        init=runtime.settings["init-process"] == "true",
        restart=runtime.settings["restart-policy"],
        options=runtime.deploy_options[process_type],
    )
    container = engine.create_container(spec)
    try:
        engine.start(container)
        _check_running(engine, container, name, checks_wait)
    except BaseException as error:
        if isinstance(error, DokkuError):
            failed.append(engine.output(container))
        engine.remove(container)
        raise
    return container, name


def _check_running(engine: Engine, container: str, name: str, wait: float) -> None:
    """The new container must be running now and, polled, for `wait` seconds more."""
    deadline = time.monotonic() + wait
    while True:
        state = (engine.inspect(container) or {}).get("State", {})
        if not state.get("Running") or state.get("Restarting"):  # a restart policy retrying a crash
            raise DokkuError(
                f"{name} exited with status {state.get('ExitCode')} as soon as it started;"
                " the previous containers keep running"
            )
        if time.monotonic() >= deadline:
            return
        time.sleep(min(CHECK_INTERVAL, max(0.0, deadline - time.monotonic())))


def _remove_unused_images(engine: Engine, app_name: str) -> None:
    """Earlier release images of the app that no container uses any more (Dokku's retire step)."""
    for image_id in engine.dangling_images({plan.LABEL_APP: app_name}):
        engine.remove_image(image_id)


# -- mounts --------------------------------------------------------------------------------------


def _check_mounts(engine: Engine, mounts: list[MountSpec], app_name: str) -> None:
    """Host paths and named volumes must exist: Docker would create them empty (and root-owned)."""
    for spec in mounts:
        if not spec.container:
            continue  # `-v /path`: an anonymous volume Docker creates by design
        if not spec.is_volume:
            if not os.path.exists(spec.host):
                raise DokkuError(
                    f"Host path {spec.host} of the mount {spec} does not exist; create it (dokku storage:repair"
                    f" {app_name}, or mkdir -p {spec.host}) or unmount it"
                )
        elif engine.volume(spec.host) is None:
            raise DokkuError(
                f"Docker volume {spec.host} of the mount {spec} does not exist;"
                f" create it with `docker volume create {spec.host}` or unmount it"
            )


def _fix_ownership(
    context: Context, owners: dict[MountSpec, tuple[int, int]]
) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Give the mounted directories their owners before the app starts, each at most once. Only
    directories inside the storage root and plain local-driver volumes are ever changed; a tree whose
    root already has the owner is skipped without a walk. Returns the owner each mount it may change has
    (by host path or volume), and what it re-owned, as `<path> (was <uid>:<gid>)`."""
    given: dict[str, tuple[int, int]] = {}
    reowned: list[str] = []
    for spec, (uid, gid) in owners.items():
        path = _ownable_path(context, spec)
        if path is None:
            continue
        given[spec.host] = (uid, gid)
        previous = _own(context, path, uid, gid)
        if previous is not None:
            reowned.append(f"{path} (was {previous[0]}:{previous[1]})")
    return given, reowned


def _planned_owners(context: Context, runtime: Runtime, image: dict[str, Any]) -> dict[MountSpec, tuple[int, int]]:
    """The owner of each mount a deploy sets. An attachment's `--volume-chown` names its owner. The
    other writable mounts go to the user the app runs as, for buildpack-style images (their
    environment says USER=<app user>) as Dokku's docker-local scheduler did, or for any image when
    `chown-mounts` is set; never when `disable-chown` is set."""
    owners: dict[MountSpec, tuple[int, int]] = {}
    app_owner = _app_user_owner(context, runtime, image)
    if app_owner is not None:
        for spec in runtime.mounts.specs("deploy"):
            if spec.container and not spec.readonly:
                owners[spec] = app_owner
    explicit = [attachment for attachment in runtime.mounts.attached("deploy") if attachment.volume_chown]
    if explicit:
        for attachment in explicit:
            owner = storage.chown_owner(attachment.volume_chown, context.engine.userns_offset())
            if owner is not None:
                owners[attachment_spec(attachment)] = owner
            else:
                owners.pop(attachment_spec(attachment), None)  # `--volume-chown false`: leave it alone
    return owners


def _ownable_path(context: Context, spec: MountSpec) -> str | None:
    """The directory whose owner a deploy may change for a mount, or None (with a notice) when it is
    not storage's to change: a host path outside the storage root, or a volume that is not a plain
    local-driver volume (a `device` option binds some other directory)."""
    if spec.is_volume:
        volume = context.engine.volume(spec.host) or {}
        if volume.get("Driver") == "local" and "device" not in (volume.get("Options") or {}):
            return str(volume.get("Mountpoint") or "") or None
        context.console.detail(
            f"Leaving the owner of docker volume {spec.host} as it is: only local-driver volumes without a"
            " device option are re-owned; give it its owner yourself"
        )
        return None
    if storage.inside_storage_root(context.paths.storage_root, spec.host):
        return spec.host
    context.console.detail(
        f"Leaving the owner of {spec.host} as it is: it is outside the storage root"
        f" ({context.paths.storage_root}); to have its owner managed, keep the data in a storage entry"
        " (dokku storage:create) and mount that"
    )
    return None


def _app_user_owner(context: Context, runtime: Runtime, image: dict[str, Any]) -> tuple[int, int] | None:
    """The host uid:gid of the user the app runs as, when its mounts should be given to it."""
    settings = runtime.settings
    if settings["disable-chown"] == "true":
        return None
    config = image.get("Config") or {}
    user = runtime.env.get("DOKKU_APP_USER") or config.get("User") or DEFAULT_APP_USER
    buildpack_style = f"USER={user.partition(':')[0]}" in (config.get("Env") or [])
    if not buildpack_style and settings["chown-mounts"] != "true":
        return None
    if not any(spec.container and not spec.readonly for spec in runtime.mounts.specs("deploy")):
        return None  # nothing to own: do not read the image's /etc/passwd
    uid, gid = _resolve_user(context.engine, image["Id"], user)
    if uid == 0:
        return None
    offset = context.engine.userns_offset()
    return (uid, gid) if offset is None else (uid + offset[0], gid + offset[1])


def _own(context: Context, path: str, uid: int, gid: int) -> tuple[int, int] | None:
    """Give a directory the owner unless its root has it already; returns the root's previous owner
    when it changed it."""
    from pydokku.ownership import set_tree_owner

    if not os.path.isdir(path):
        return None
    root = os.lstat(path)
    if (root.st_uid, root.st_gid) == (uid, gid):
        return None
    context.console.detail(f"Setting ownership of {path} to {uid}:{gid}")
    storage.say_hard_links(context.console, set_tree_owner(path, uid, gid))
    return root.st_uid, root.st_gid


def _check_subpaths(runtime: Runtime) -> None:
    """A subpath must still lead to a directory inside its entry (a symlink may have been planted); an
    entry of another scheduler (a swarm node's directory) is not this host's to mount."""
    for attachment in runtime.mounts.attachments:
        if attachment.entry.scheduler != "docker-local":
            raise DokkuError(
                f'storage entry "{attachment.entry.name}" is scheduler={attachment.entry.scheduler} but is mounted'
                " on a docker-local app; recreate it with --scheduler docker-local"
            )
        if not attachment.subpath:
            continue
        entry_root = os.path.realpath(attachment.entry.host_path)
        resolved = os.path.realpath(os.path.join(entry_root, attachment.subpath))
        if not resolved.startswith(entry_root + os.sep) or not os.path.isdir(resolved):
            raise DokkuError(
                f'attachment subpath "{attachment.subpath}" of storage entry "{attachment.entry.name}"'
                f" no longer leads to a directory inside {attachment.entry.host_path}"
            )


def _resolve_user(engine: Engine, image_id: str, user: str) -> tuple[int, int]:
    """uid:gid of `user` in the image: numeric as given, else from the image's /etc/passwd."""
    name, _, group = user.partition(":")
    if name.isdigit():
        return int(name), int(group) if group.isdigit() else int(name)
    passwd = engine.read_file(image_id, "/etc/passwd") or b""
    for line in passwd.decode(errors="replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] == name and fields[2].isdigit() and fields[3].isdigit():
            return int(fields[2]), int(fields[3])
    raise DokkuError(
        f"User {name} does not exist in the image; set DOKKU_APP_USER to a user of the image,"
        " or turn the ownership fix-up off with scheduler-docker-local:set <app> disable-chown true"
    )


# -- the rest of an app's lifecycle ----------------------------------------------------------------


def stop(context: Context, app_name: str) -> int:
    """Stop the app's running containers (they are kept, as `docker stop` keeps them)."""
    with app_lock(context, app_name):
        stop_timeout = _runtime(context, app_name).stop_timeout
        running = [c for c in _deployed_containers(context.engine, app_name) if c.state == "running"]
        for container in running:
            context.engine.stop(container.id, stop_timeout)
        return len(running)


def containers(context: Context, app_name: str) -> list[Container]:
    return _deployed_containers(context.engine, app_name)


def log_streams(
    context: Context, app_name: str, process_type: str, tail: int, follow: bool
) -> list[tuple[str, subprocess.Popen[bytes]]]:
    """Each deployed container's log (timestamped), with its dyno (`web.1`)."""
    found = []
    for container in _deployed_containers(context.engine, app_name):
        if process_type and container.labels.get(plan.LABEL_PROCESS) != process_type:
            continue
        found.append((container.name.removeprefix(f"{app_name}."), _log_stream(context, container, tail, follow)))
    return found


def _log_stream(context: Context, container: Container, tail: int, follow: bool) -> subprocess.Popen[bytes]:
    """A container's timestamped log: its last `tail` lines, then (follow) what comes."""
    args = ["logs", "--timestamps", "--tail", str(tail), *(["--follow"] if follow else []), container.id]
    return context.engine.log_stream(args)


def inspect(context: Context, app_name: str) -> list[dict[str, Any]]:
    details = [context.engine.inspect(container.id) for container in _deployed_containers(context.engine, app_name)]
    return [detail for detail in details if detail is not None]


def check_options(phase: str, options: list[str]) -> None:
    """Every docker option reaches the docker CLI as given: nothing to refuse here."""


def engine(context: Context, app_name: str) -> Engine:
    """This host's engine builds and runs the app."""
    return context.engine


def running_with_mount(context: Context, app_names: list[str], source: str) -> list[tuple[Container, int]]:
    """The running containers of these apps (deployed and one-off) that mount `source` (a host
    directory, or what is inside it, or a docker volume by name), each with its app's stop timeout."""
    engine = context.engine
    real = os.path.realpath(source) if source.startswith("/") else ""
    found = []
    for app_name in app_names:
        stop_timeout = _runtime(context, app_name).stop_timeout
        for container in engine.containers({plan.LABEL_APP: app_name}):
            if container.state not in ("running", "paused"):
                continue
            mounts = (engine.inspect(container.id) or {}).get("Mounts") or []
            if any(_mounts_source(mount, source, real) for mount in mounts):
                found.append((container, stop_timeout))
    return found


def running_mounts(context: Context, app_names: list[str]) -> dict[str, list[Container]]:
    """The running deployed containers of these apps (their mounts as the engine lists them), by app:
    one call to the engine for all of them."""
    wanted = set(app_names)
    found: dict[str, list[Container]] = {}
    for container in context.engine.containers({plan.LABEL_CONTAINER_TYPE: "deploy"}):
        app_name = container.labels.get(plan.LABEL_APP, "")
        if app_name in wanted and container.state == "running":
            found.setdefault(app_name, []).append(container)
    return found


def _mounts_source(mount: dict[str, Any], source: str, real: str) -> bool:
    if not real:
        return bool(mount.get("Type") == "volume" and mount.get("Name") == source)
    mounted = os.path.realpath(mount.get("Source") or "/nonexistent")
    return mounted == real or mounted.startswith(real.rstrip("/") + "/")


def remove_processes(context: Context, app_name: str) -> None:
    """Stop and remove the app's deployed containers (its images stay: the release may run again)."""
    with app_lock(context, app_name):
        stop_timeout = _runtime(context, app_name).stop_timeout
        for container in _deployed_containers(context.engine, app_name):
            _retire(context.engine, container, stop_timeout)


def remove_all(context: Context, app_name: str) -> None:
    """Remove every container and image of the app. Its mounts' data is not touched."""
    engine = context.engine
    with app_lock(context, app_name):
        for container in engine.containers({plan.LABEL_APP: app_name}):
            engine.remove(container.id)
        for image_id in engine.images({plan.LABEL_APP: app_name}):
            engine.remove_image(image_id)


def run(context: Context, app_name: str, one_off: plan.OneOff) -> int:
    """A one-off container of the current release with the run-phase options and mounts, reaped after
    its deadline (its label says so, as Dokku's run:retire reads it)."""
    engine = context.engine
    runtime = _runtime(context, app_name)
    release = runtime.release
    if release is None:
        raise DokkuError(
            f"App {app_name} has not been deployed\n !     Successfully deploy your app to fix dokku run calls"
        )
    _check_mounts(engine, runtime.mounts.specs("run"), runtime.app)
    _check_subpaths(runtime)
    dyno = f"run.{int.from_bytes(os.urandom(2), 'big') % 9000 + 1000}"
    name = f"{app_name}.{dyno}"
    spec = plan.ContainerSpec(
        name,
        release.image_id,
        one_off.command,
        env={**runtime.env, **one_off.env, "DYNO": dyno},
        labels={
            **one_off.labels,
            plan.LABEL_APP: app_name,
            plan.LABEL_CONTAINER_TYPE: "run",
            plan.LABEL_DYNO: dyno,
            plan.LABEL_DEADLINE: str(one_off.ttl),
        },
        binds=[mount.volume_value() for mount in runtime.mounts_for("run", DEFAULT_PROCESS_TYPE)],
        init=runtime.settings["init-process"] == "true",  # signals reach the command
        restart="",  # a one-off container is removed when it exits
        options=plan.run_options(runtime.run_options),
    )
    # Attached or detached, a one-off run goes through the docker CLI (it streams the terminal).
    detached, tty = one_off.detached, one_off.tty
    args = ["--rm", *(["--detach"] if detached else []), *(["--interactive"] if tty or not detached else []),
            *(["--tty"] if tty else [])]  # fmt: skip
    args += spec.cli_args()
    if detached:
        engine.run_detached(args, spec.env)
        engine.expire(name, one_off.ttl)
        context.console.line(name)
        return 0
    return engine.run_attached(args, name, runtime.stop_timeout, one_off.ttl, spec.env)


def _run_containers(context: Context, app_name: str) -> list[Container]:
    return context.engine.containers({plan.LABEL_APP: app_name, plan.LABEL_CONTAINER_TYPE: "run"})


def _chosen_runs(context: Context, app_name: str, run: str) -> list[Container]:
    """The app's run containers, or the one named `run` (none when it is not there)."""
    found = _run_containers(context, app_name)
    return [container for container in found if run in (container.name, container.id)] if run else found


def runs(context: Context, app_name: str) -> list[Container]:
    return _run_containers(context, app_name)


def run_log_streams(
    context: Context, app_name: str, run: str, tail: int, follow: bool
) -> list[tuple[str, subprocess.Popen[bytes]]]:
    found = []
    for container in _chosen_runs(context, app_name, run):
        found.append((container.name.rpartition(".")[2], _log_stream(context, container, tail, follow)))
    return found


def stop_runs(context: Context, app_name: str, run: str) -> list[str]:
    chosen = _chosen_runs(context, app_name, run)
    timeout = _runtime(context, app_name).stop_timeout
    with app_lock(context, app_name):
        for container in chosen:
            context.engine.stop(container.id, timeout)
            context.engine.remove(container.id)
    return [container.name for container in chosen]
