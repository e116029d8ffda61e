"""The docker-swarm scheduler: an app's process types as swarm services on a manager's engine.

A release is built on the manager's engine, pushed to the app's registry and used by digest, so every
node runs the same bytes. One service per process type (`<app>-<proc>`), updated start-first; we watch
the new tasks ourselves (each must run for the checks wait) and, when one fails, put the previous spec
back (or remove a service this deploy created) and say which task failed on which node and why.
Storage decides placement: a task never goes to a node without its data (swarm_plan.node_of).
One-off runs and the jobs that prepare storage on a node are replicated jobs, created detached with
restart condition none (a failing job would otherwise retry forever) and judged by task state.
"""

from __future__ import annotations

import os
import sys
import time

from pydokku.engine import Container
from pydokku.errors import DokkuError
from pydokku.locks import app_lock
from pydokku.plugins import apps, registry, scheduler_docker_swarm, storage
from pydokku.plugins.storage import DEFAULT_PROCESS_TYPE
from pydokku.scheduler import plan, swarm_plan
from pydokku.scheduler.runtime import Runtime, load, record_release
from pydokku.text import shell_quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable
    from typing import Any

    from pydokku.context import Context
    from pydokku.engine.swarm import Node, Swarm
    from pydokku.scheduler.plan import Mount
    from pydokku.store.releases import Release

POLL = 0.1
DEPLOY_TIMEOUT = 300.0  # pulls of big images on slow links take a while
# A task the scheduler cannot place (no node satisfies its constraints) fails the deploy after this long.
UNSCHEDULABLE_GRACE = 3.0
FAILED = ("failed", "rejected", "orphaned", "remove")
TERMINAL = ("complete", "failed", "rejected", "shutdown", "orphaned", "remove")


class _App:
    """What a deploy or run needs, read in one transaction."""

    def __init__(self, context: Context, app_name: str, candidate: Release | None = None) -> None:
        with context.store.read() as tx:
            app = apps.require(tx, app_name)
            self.runtime: Runtime = load(tx, app, candidate)
            self.settings = scheduler_docker_swarm.settings(tx, app)
            self.server, self.repository = registry.repository(tx, app)
            self.extra_tags = registry.extra_tags(tx, app)
        self.name = app_name
        self.login = registry.login(context.paths.lib_root, app_name, self.server) if self.server else None
        self.manager = manager(context, self.settings["manager"])

    @property
    def auth(self) -> str:
        from pydokku.engine import registry_auth

        return registry_auth(*self.login, self.server) if self.login else registry_auth()

    @property
    def stop_grace(self) -> float:
        return scheduler_docker_swarm.duration_seconds(self.settings["stop-grace-period"])

    def release(self, not_deployed: str) -> Release:
        if self.runtime.release is None:
            raise DokkuError(not_deployed)
        return self.runtime.release

    def pushed_image(self, context: Context, release: Release, *, announce: bool = True) -> str:
        """Tag the release image for the registry, push it (again: a no-op for the registry when it has
        it); the reference by digest services use. A one-off run's output is the command's alone."""
        if not self.repository:
            raise DokkuError(
                f"App {self.name} uses the docker-swarm scheduler, whose nodes pull images from a registry;"
                f" set one with dokku registry:set {self.name} server <host[:port]> (or registry:set --global)"
            )
        if self.manager.image(release.image_id) is None:
            raise DokkuError(
                f"The release image of {self.name} is not on the manager's engine ({self.manager.host}), where"
                f" swarm releases are built; deploy it there with dokku git:from-image {self.name} <image> (an"
                " image the manager has or can pull)"
            )
        reference = f"{self.repository}:{release.number}"
        self.manager.tag(release.image_id, reference)
        if announce:
            context.console.header(f"Pushing {reference}")
        digest = self.manager.push(reference, self.auth)
        if announce:  # a deploy: the registry's push-extra-tags go with it (untagged here after, as Dokku)
            for tag in self.extra_tags:
                extra = f"{self.repository}:{tag}"
                self.manager.tag(release.image_id, extra)
                context.console.header(f"Pushing {extra}")
                self.manager.push(extra, self.auth)
                self.manager.remove_image(extra)  # the release's own tag keeps the image
        return f"{reference}@{digest}"

    def node(self, mounts: list[Mount]) -> str:
        return swarm_plan.node_of(mounts, self.name, self.settings["node"])


def manager(context: Context, address: str) -> Swarm:
    from pydokku.engine.swarm import Swarm

    return Swarm(trace=context.console.err if context.flags.trace else None, host=address)


def engine(context: Context, app_name: str) -> Swarm:
    """The app's manager, which builds and pushes its releases; the global one for "" or an app no
    longer recorded (being destroyed or renamed)."""
    from pydokku.store import apps as app_store

    with context.store.read() as tx:
        app = app_store.get(tx, app_name) if app_name else None
        address = scheduler_docker_swarm.settings(tx, app)["manager"]
    return manager(context, address)


# -- deploys -------------------------------------------------------------------------------------


def deploy(context: Context, app_name: str, only: str | None = None, candidate: Release | None = None) -> None:
    console = context.console
    with app_lock(context, app_name):
        state = _App(context, app_name, candidate)
        release = state.release(f"App {app_name} has not been deployed")
        runtime = state.runtime
        if only is not None and only not in release.processes:
            raise DokkuError(f"Process type {only} is not part of the release of {app_name}")
        swarm = state.manager
        swarm.manager_check()
        wanted = [p for p in sorted(release.processes) if only is None or p == only]
        mounts = {process_type: runtime.mounts_for("deploy", process_type) for process_type in wanted}
        # everything is checked before anything changes
        nodes = {process_type: state.node(mounts[process_type]) for process_type in wanted}
        _check_nodes(swarm, {node for node in nodes.values() if node})
        image = state.pushed_image(context, release)
        _give_owners(context, [mount for process_type in wanted for mount in mounts[process_type]])
        checks_wait = runtime.checks_wait
        console.header(f"Deploying {app_name} via the docker-swarm scheduler...")
        existing = {
            service["Spec"]["Name"]: service
            for service in swarm.services({plan.LABEL_APP: app_name, plan.LABEL_CONTAINER_TYPE: "deploy"})
        }
        changed: list[tuple[str, bool]] = []  # (service, created by this deploy)
        try:
            for process_type in wanted:
                count = runtime.scale[process_type]
                name = swarm_plan.service_name(app_name, process_type)
                console.header(f"Deploying {process_type} (count={count})")
                previous = existing.get(name)
                force = (previous["Spec"]["TaskTemplate"].get("ForceUpdate", 0) + 1) if previous else 0
                spec = swarm_plan.service_spec(
                    name=name, image=image, command=plan.container_command(release.processes[process_type]),
                    env={**runtime.env, "DYNO": f"{process_type}.{{{{.Task.Slot}}}}"},
                    labels=swarm_plan.labels_for(app_name, process_type, "deploy", release.number),
                    mounts=mounts[process_type], node=nodes[process_type], replicas=count,
                    init=state.settings["init-process"] == "true", restart=runtime.settings["restart-policy"],
                    stop_grace=state.stop_grace, options=runtime.deploy_options[process_type],
                    update_parallelism=int(state.settings["update-parallelism"]), force_update=force,
                )  # fmt: skip
                if previous is None:
                    swarm.create_service(spec, state.auth)
                else:
                    swarm.update_service(previous, spec, state.auth)
                changed.append((name, previous is None))
                _converge(swarm, name, count, force, checks_wait)
            if candidate is not None:
                with context.store.write() as tx:
                    record_release(tx, apps.require(tx, app_name), candidate)
        except BaseException as error:
            undone = _undo(swarm, changed)
            if isinstance(error, DokkuError) and undone:
                error.message += f"; {undone}"
            raise
        if only is None:
            for name, service in existing.items():
                if service["Spec"]["Labels"].get(plan.LABEL_PROCESS) not in release.processes:
                    swarm.remove_service(name)
        console.section("Application deployed:")
        for name, _ in changed:
            console.detail(name)


def _give_owners(context: Context, mounts: list[Mount]) -> None:
    """`--volume-chown` on a node's entry: its directory gets that owner on its node (a job; the tree is
    walked only when its root has another owner, links never followed). A shared volume's owner is its
    file service's."""
    done: set[tuple[str, str]] = set()
    for mount in mounts:
        owner = storage.chown_owner(mount.owner, None) if mount.owner else None
        if owner is None or (mount.node, mount.source) in done:
            continue
        done.add((mount.node, mount.source))
        if mount.scheduler != "docker-swarm" or not mount.node or mount.kind != "bind":
            context.console.detail(
                f"Leaving the owner of {mount.source} as it is: on a swarm, only directories of storage entries on"
                " a node (storage:create --scheduler docker-swarm --node) are re-owned"
            )
            continue
        changed = _script_job(context, f"storage-own-{os.urandom(4).hex()}", mount.node, mount.source, _OWN,
                              f"{owner[0]}:{owner[1]}",
                              failed=f"Unable to set the owner of {mount.source} on node {mount.node}")  # fmt: skip
        if changed:
            context.console.detail(f"Setting ownership of {mount.source} on node {mount.node} to {owner[0]}:{owner[1]}")


def _undo(swarm: Swarm, changed: list[tuple[str, bool]]) -> str:
    """Put back what a failed deploy changed: the previous spec of updated services, created ones removed."""
    restored, removed = [], []
    for name, created in changed:
        try:
            if created:
                swarm.remove_service(name)
                removed.append(name)
            else:
                swarm.rollback_service(name)
                restored.append(name)
        except DokkuError:
            continue
    parts = []
    if restored:
        parts.append(f"the previous spec of {', '.join(restored)} was restored")
    if removed:
        parts.append(f"{', '.join(removed)} (new) removed")
    return " and ".join(parts)


def _check_nodes(swarm: Swarm, wanted: set[str]) -> None:
    """Every node the app's data pins it to must be in the swarm (a drained or down one is reported by
    ps:report; the deploy then waits for it as Swarm does, up to the unschedulable grace)."""
    if not wanted:
        return
    known = {node.hostname for node in swarm.nodes()}
    for node in sorted(wanted - known):
        raise DokkuError(f'Node "{node}" is not part of the swarm (nodes: {", ".join(sorted(known))})')


def task_problem(task: dict[str, Any], node_names: dict[str, str]) -> str:
    """Why a task is not running, with its node: `failed on node2: task: non-zero exit (3)`."""
    status = task.get("Status") or {}
    node = node_names.get(task.get("NodeID", ""), "")
    where = f" on {node}" if node else " (no node)"
    error = status.get("Err") or status.get("Message") or ""
    code = (status.get("ContainerStatus") or {}).get("ExitCode")
    if not status.get("Err") and code is not None and status.get("State") in ("failed", "complete"):
        error = f"exited with status {code}"
    return f"{status.get('State', 'unknown')}{where}: {error}".rstrip(": ")


def _converge(swarm: Swarm, name: str, replicas: int, force: int, checks_wait: float) -> None:
    """Wait until `replicas` tasks of this deploy run (each for `checks_wait` seconds) and no older task
    is wanted; a task of this deploy that fails, or cannot be placed, fails the deploy."""
    deadline = time.monotonic() + DEPLOY_TIMEOUT
    running_since: dict[str, float] = {}
    unschedulable_since: float | None = None
    while True:
        tasks = swarm.tasks(name)
        now = time.monotonic()
        new = [task for task in tasks if (task["Spec"].get("ForceUpdate") or 0) == force]
        failed = [
            task for task in new
            if task["Status"]["State"] in FAILED
            or (task["Status"]["State"] in ("complete", "shutdown") and task["DesiredState"] == "running")
        ]  # fmt: skip
        if failed:
            task = failed[0]
            raise DokkuError(f"Task {name}.{task.get('Slot', '')} {task_problem(task, swarm.node_names())}")
        live = [task for task in new if task["DesiredState"] == "running"]
        for task in live:
            if task["Status"]["State"] == "running":
                running_since.setdefault(task["ID"], now)
        settled = [
            task for task in live if task["ID"] in running_since and now - running_since[task["ID"]] >= checks_wait
        ]
        new_ids = {task["ID"] for task in new}
        older = [task for task in tasks if task["ID"] not in new_ids and task["DesiredState"] == "running"]
        if len(settled) == len(live) == replicas and not older:
            return
        stuck = [task for task in live if task["Status"]["State"] == "pending" and task["Status"].get("Err")]
        if stuck:
            unschedulable_since = unschedulable_since or now
            if now - unschedulable_since >= UNSCHEDULABLE_GRACE:
                raise DokkuError(
                    f"Task {name}.{stuck[0].get('Slot', '')} cannot be placed: {stuck[0]['Status']['Err']}"
                )
        else:
            unschedulable_since = None
        if now >= deadline:
            raise DokkuError(f"{name} did not reach {replicas} running task(s) within {int(DEPLOY_TIMEOUT)} s")
        time.sleep(POLL)


def check_options(phase: str, options: list[str]) -> None:
    """docker-options:add for a swarm app: only options a service has a counterpart for."""
    swarm_plan.check_options(plan.run_options(options) if phase == "run" else options)


# -- the rest of an app's lifecycle ----------------------------------------------------------------


def _services(swarm: Swarm, app_name: str, container_type: str | None = "deploy") -> list[dict[str, Any]]:
    labels = {plan.LABEL_APP: app_name}
    if container_type:
        labels[plan.LABEL_CONTAINER_TYPE] = container_type
    return swarm.services(labels)


def stop(context: Context, app_name: str) -> int:
    """Scale every service of the app to 0 (its scale is kept for the next start); wait for the tasks."""
    with app_lock(context, app_name):
        swarm = engine(context, app_name)
        stopped = 0
        for service in _services(swarm, app_name):
            spec = service["Spec"]
            if spec["Mode"].get("Replicated", {}).get("Replicas", 0) == 0:
                continue
            stopped += sum(1 for task in swarm.tasks(spec["Name"]) if task["Status"]["State"] == "running")
            spec["Mode"] = {"Replicated": {"Replicas": 0}}
            swarm.update_service(service, spec, "")
            _wait_stopped(swarm, spec["Name"])
        return stopped


def _wait_stopped(swarm: Swarm, name: str) -> None:
    deadline = time.monotonic() + DEPLOY_TIMEOUT
    while any(task["Status"]["State"] in ("running", "starting", "preparing") for task in swarm.tasks(name)):
        if time.monotonic() >= deadline:
            raise DokkuError(f"The tasks of {name} did not stop within {int(DEPLOY_TIMEOUT)} s")
        time.sleep(POLL)


def containers(context: Context, app_name: str) -> list[Container]:
    """The app's current tasks (one per slot: the newest), with their node and what keeps them from running."""
    swarm = engine(context, app_name)
    nodes = swarm.nodes()  # asked once: names for every task, states for the pending ones
    node_names = {node.id: node.hostname for node in nodes}
    found = []
    for service in _services(swarm, app_name):
        spec = service["Spec"]
        process_type = spec["Labels"].get(plan.LABEL_PROCESS, "")
        newest: dict[int, dict[str, Any]] = {}
        for task in swarm.tasks(spec["Name"]):
            if task["DesiredState"] == "running" or task["Status"]["State"] == "running":
                newest[task.get("Slot", 0)] = task  # sorted by slot, then creation
        for slot, task in sorted(newest.items()):
            status = task["Status"]
            state = status["State"]
            dyno = f"{process_type}.{slot}"
            found.append(
                Container(
                    task["ID"], f"{spec['Name']}.{slot}", state,
                    {plan.LABEL_APP: app_name, plan.LABEL_PROCESS: process_type, plan.LABEL_DYNO: dyno},
                    node=node_names.get(task.get("NodeID", ""), ""),
                    error="" if state == "running" else _pending_reason(nodes, task, status.get("Err", "")),
                )
            )  # fmt: skip
    return found


def _pending_reason(nodes: list[Node], task: dict[str, Any], error: str) -> str:
    """Why a task waits, in the operator's terms: the node its data is on is drained or down."""
    constraints = task["Spec"].get("Placement", {}).get("Constraints") or []
    pinned = [c.partition("==")[2] for c in constraints if c.startswith("node.hostname==")]
    if pinned:
        node = next((n for n in nodes if n.hostname == pinned[0]), None)
        if node is None or not node.usable:
            status = "gone" if node is None else node.availability if node.state == "ready" else node.state
            return (
                f"node {pinned[0]} is {status} and the app's data is on it; make it active again (then move the"
                " data if you wish: dokku storage:move <entry> --to-node <hostname>), or restore the data from a"
                " backup on another node"
            )
    return error


def log_streams(
    context: Context, app_name: str, process_type: str, tail: int, follow: bool
) -> list[tuple[str, subprocess.Popen[bytes]]]:
    """Each service's log (every task's, timestamped), with its process type."""
    swarm = engine(context, app_name)
    found = []
    for service in _services(swarm, app_name):
        process = service["Spec"]["Labels"].get(plan.LABEL_PROCESS, "")
        if process_type and process != process_type:
            continue
        args = ["service", "logs", "--raw", "--timestamps", "--tail", str(tail), *(["--follow"] if follow else [])]
        found.append((process, swarm.log_stream([*args, service["ID"]])))
    return found


def runs(context: Context, app_name: str) -> list[Container]:
    """The app's one-off jobs still there (detached, or ending), as docker-local lists its runs: each
    with the state of its task, its command and when it was created."""
    import datetime

    from pydokku.engine import Container

    swarm = engine(context, app_name)
    found = []
    for service in _services(swarm, app_name, "run"):
        tasks = swarm.tasks(service["ID"])
        spec = service["Spec"]
        command = (spec.get("TaskTemplate") or {}).get("ContainerSpec", {}).get("Args") or []  # swarm_plan: Args
        state = tasks[-1]["Status"]["State"] if tasks else "pending"
        # Swarm's times have nanoseconds and a Z; the seconds are enough.
        created = datetime.datetime.fromisoformat(str(service["CreatedAt"])[:19] + "+00:00").timestamp()
        found.append(Container(str(service["ID"]), spec["Name"], "exited" if state in TERMINAL else state,
                               spec.get("Labels") or {}, command=" ".join(shell_quote(word) for word in command),
                               created=int(created)))  # fmt: skip
    return sorted(found, key=lambda run: run.created)


def _chosen_runs(swarm: Swarm, app_name: str, run: str) -> list[tuple[str, str]]:
    """(id, name) of the app's jobs, or of the one named `run`."""
    found = [(str(service["ID"]), str(service["Spec"]["Name"])) for service in _services(swarm, app_name, "run")]
    return [job for job in found if run in job] if run else found


def run_log_streams(
    context: Context, app_name: str, run: str, tail: int, follow: bool
) -> list[tuple[str, subprocess.Popen[bytes]]]:
    """Each job's log, timestamped; followed until the job ends."""
    import threading

    swarm = engine(context, app_name)
    found = []
    for service, name in _chosen_runs(swarm, app_name, run):
        args = ["service", "logs", "--raw", "--timestamps", "--tail", str(tail), *(["--follow"] if follow else [])]
        stream = swarm.log_stream([*args, service])
        if follow:  # `service logs --follow` goes on after the task ends: end it once the job is over
            threading.Thread(target=_end_with_job, args=(swarm, service, stream), daemon=True).start()
        found.append((name.rpartition("-")[2], stream))
    return found


def _end_with_job(swarm: Swarm, service: str, stream: subprocess.Popen[bytes]) -> None:
    while stream.poll() is None:
        if _job_status_or_gone(swarm, service):
            time.sleep(POLL * 4)  # the last lines reach the stream
            stream.terminate()
            return
        time.sleep(POLL * 2)


def _job_status_or_gone(swarm: Swarm, service: str) -> bool:
    try:
        return _job_status(swarm, service) is not None
    except DokkuError:
        return True  # removed, or never ran: nothing more will come


def stop_runs(context: Context, app_name: str, run: str) -> list[str]:
    """Remove the jobs: their tasks get SIGTERM, then the app's stop grace period."""
    swarm = engine(context, app_name)
    chosen = _chosen_runs(swarm, app_name, run)
    for service, _ in chosen:
        swarm.remove_service(service)
    return [name for _, name in chosen]


def inspect(context: Context, app_name: str) -> list[dict[str, Any]]:
    """The app's services, as `docker service inspect` shows them (the listing carries it all)."""
    return _services(engine(context, app_name), app_name)


def remove_processes(context: Context, app_name: str) -> None:
    with app_lock(context, app_name):
        swarm = engine(context, app_name)
        for service in _services(swarm, app_name):
            swarm.remove_service(service["ID"])


def remove_all(context: Context, app_name: str) -> None:
    """Remove every service and job of the app and its images on the manager; data is not touched."""
    with app_lock(context, app_name):
        swarm = engine(context, app_name)
        for service in _services(swarm, app_name, None):
            swarm.remove_service(service["ID"])
        for image_id in swarm.images({plan.LABEL_APP: app_name}):
            swarm.remove_image(image_id)


def running_with_mount(context: Context, app_names: list[str], source: str) -> list[tuple[Container, int]]:
    """Swarm tasks mount a node's disk, never this host's: nothing here holds a host path."""
    return []


# -- one-off runs and jobs ---------------------------------------------------------------------------


def run(context: Context, app_name: str, one_off: plan.OneOff) -> int:
    """A replicated job of the current release with the run-phase options and mounts, on the node the
    app's data is on; its output is streamed, its exit status returned, and it is removed (detached:
    left to finish; the next run of the app removes finished ones)."""
    state = _App(context, app_name)
    release = state.release(
        f"App {app_name} has not been deployed\n !     Successfully deploy your app to fix dokku run calls"
    )
    runtime = state.runtime
    mounts = runtime.mounts_for("run", DEFAULT_PROCESS_TYPE)
    node = state.node(mounts)
    swarm = state.manager
    swarm.manager_check()
    _remove_finished_runs(swarm, app_name)
    image = state.pushed_image(context, release, announce=False)
    dyno = f"run.{int.from_bytes(os.urandom(2), 'big') % 9000 + 1000}"
    name = f"{app_name}-{dyno.replace('.', '-')}"
    spec = swarm_plan.service_spec(
        name=name, image=image, command=one_off.command, env={**runtime.env, **one_off.env, "DYNO": dyno},
        labels={**one_off.labels, **swarm_plan.labels_for(app_name, "run", "run", release.number),
                plan.LABEL_DEADLINE: str(one_off.ttl)}, mounts=mounts, node=node,
        replicas=None, init=state.settings["init-process"] == "true", restart="", stop_grace=state.stop_grace,
        options=plan.run_options(runtime.run_options),
    )  # fmt: skip
    swarm.create_service(spec, state.auth)
    if one_off.detached:
        swarm.expire(name, one_off.ttl)
        context.console.line(name)
        return 0
    with swarm.watched(name, one_off.ttl):  # removed when this process ends in any way, or when its time is up
        try:
            return _follow_job(swarm, name, stream=True)
        finally:
            swarm.remove_service(name)


def _remove_finished_runs(swarm: Swarm, app_name: str) -> None:
    for service in _services(swarm, app_name, "run"):
        tasks = swarm.tasks(service["ID"])
        if tasks and all(task["Status"]["State"] in TERMINAL for task in tasks):
            swarm.remove_service(service["ID"])


def _follow_job(swarm: Swarm, name: str, *, stream: bool) -> int:
    """Wait for a job's task to end (streaming its output as it comes to our stdout and stderr); its exit
    status."""
    from pydokku.engine.swarm import ServiceGone

    printed = 0
    while True:
        try:
            code = _job_status(swarm, name)
            lines = swarm.service_logs(name) if stream else []
        except ServiceGone as error:
            raise DokkuError(f"{name} was stopped before it ended (run:stop, or its --ttl-seconds)") from error
        if stream:
            for source, line in lines[printed:]:
                target = sys.stdout.buffer if source == 1 else sys.stderr.buffer
                target.write(line)
                target.flush()
            printed = max(printed, len(lines))
        if code is not None:
            return code
        time.sleep(POLL * 2)


def _job_status(swarm: Swarm, name: str) -> int | None:
    """A job's exit status once its task has ended (None before). A task that never ran (rejected: e.g.
    a bind source missing on its node) is an error."""
    tasks = swarm.tasks(name)
    if not tasks or not all(task["Status"]["State"] in TERMINAL for task in tasks):
        return None
    task = tasks[-1]
    status = task["Status"]
    code = (status.get("ContainerStatus") or {}).get("ExitCode")
    if status["State"] in ("complete", "failed") and code is not None:
        return int(code)
    problem = task_problem(task, swarm.node_names())
    raise DokkuError(f"{name} did not run: {problem}{_setup_advice(name, problem)}")


# What a helper job that never ran says when the swarm's storage set-up is wrong, and the setting that fixes it.
_NO_ROOT = ("bind source path does not exist",)
_NO_IMAGE = ("No such image", "pull access denied", "manifest unknown", "failed to resolve reference")


def _setup_advice(name: str, problem: str) -> str:
    if not name.startswith("storage-"):
        return ""
    if any(text in problem for text in _NO_ROOT):
        return (
            "; the storage root must exist on every node that holds data: create it there, or choose another"
            " with dokku scheduler-docker-swarm:set --global storage-root <path>"
        )
    if any(text in problem for text in _NO_IMAGE):
        return (
            "; the helper image must be available to every node (in a registry they reach, or loaded on"
            " them), or choose another with dokku scheduler-docker-swarm:set --global helper-image <image>"
        )
    return ""


def _output(swarm: Swarm, name: str) -> str:
    return b"".join(line for _, line in swarm.service_logs(name)).decode(errors="replace").strip()


def _job_spec(
    name: str,
    image: str,
    node: str,
    mounts: list[dict[str, Any]],
    command: list[str],
    *,
    env: list[str] | None = None,
    host_network: bool = False,
) -> dict[str, Any]:
    """A one-off helper job on a node (storage preparation, moves)."""
    task: dict[str, Any] = {
        # Killed at once when removed: a move's jobs must not go on copying after the command gave up.
        "ContainerSpec": {
            "Image": image,
            "Command": command,
            "Mounts": mounts,
            "Env": env or [],
            "StopSignal": "SIGKILL",
        },
        "RestartPolicy": {"Condition": "none"},
        "Placement": swarm_plan.placement(node),
    }
    if host_network:  # the node's own address: overlay networks here are far slower than the nodes' link
        task["Networks"] = [{"Target": "host"}]
    return {
        "Name": name,
        "Labels": {plan.LABEL_CONTAINER_TYPE: "storage-job"},
        "TaskTemplate": task,
        "Mode": {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}},
    }


def run_job(
    swarm: Swarm, name: str, image: str, node: str, mounts: list[dict[str, Any]], command: list[str]
) -> tuple[int, str]:
    """Run a helper job to its end: its exit status and its output."""
    swarm.create_service(_job_spec(name, image, node, mounts, command), "")
    try:
        return _follow_job(swarm, name, stream=False), _output(swarm, name)
    finally:
        swarm.remove_service(name)


# -- storage on the nodes ----------------------------------------------------------------------------

_PREPARE = (
    'set -e; cd /parent; if [ -e "$1" ] && [ ! -d "$1" ]; then echo "exists but is not a directory" >&2; exit 3; fi;'
    ' if [ ! -d "$1" ]; then mkdir "$1"; echo created; fi;'
    ' if [ -n "$2" ]; then chmod "$2" "$1"; fi; if [ -n "$3" ]; then chown -hR "$3" "$1"; fi'
)


def nodes(context: Context) -> list[Node]:
    swarm = engine(context, "")
    swarm.manager_check()
    return swarm.nodes()


def _storage_manager(context: Context) -> tuple[Swarm, str]:
    """The global manager (entries belong to no app) and the helper jobs' image."""
    with context.store.read() as tx:
        settings = scheduler_docker_swarm.settings(tx, None)
    return manager(context, settings["manager"]), settings["helper-image"]


def _parent_mount(path: str, *, readonly: bool = False) -> tuple[dict[str, Any], str]:
    parent, base = os.path.split(path.rstrip("/"))
    return {"Type": "bind", "Source": parent, "Target": "/parent", "ReadOnly": readonly}, base


def prepare_directory(context: Context, node: str, path: str, owner: tuple[int, int] | None, mode: str) -> bool:
    """Create a storage directory on a node's disk (through a job there: this host cannot see it) with
    its mode and owner; True when it was created. Its parent must exist on the node."""
    owner_text = f"{owner[0]}:{owner[1]}" if owner else ""
    output = _script_job(context, f"storage-prepare-{os.urandom(4).hex()}", node, path, _PREPARE, mode, owner_text,
                         failed=f"Unable to prepare {path} on node {node}")  # fmt: skip
    return "created" in output.split()


# Both ends count what they hold the same way: entries (sockets aside: tar skips them) and the bytes of
# regular files.
_COUNT = "find . ! -type s | wc -l; find . -type f -exec stat -c %s {} + | awk '{s+=$1} END {printf \"%.0f\\n\", s}'"
# The source node: the directory (never a symbolic link) read-only, sent after a line with the move's
# token and the counts, to the target's address; connection attempts repeat until the target listens.
_SEND = (
    'cd /parent || exit 2; if [ -L "$1" ] || [ ! -d "$1" ]; then echo "$1 is not a directory there" >&2; exit 2; fi;'
    f' cd "$1" || exit 2; counts=$({_COUNT}); counts=$(echo $counts); tries=0;'
    ' until { echo "$MOVE_TOKEN $counts"; tar -c .; } | nc -w 5 "$2" "$3"; do tries=$((tries + 1));'
    ' if [ $tries -ge 300 ]; then echo "no connection to $2:$3" >&2; exit 8; fi; sleep 0.1; done'
)
# The target node: refuses a path that holds data (unless replacing), listens for the source (its nc keeps
# a stdin that never ends: an ended one would close the connection), refuses a copy larger than the free
# space, extracts into a hidden folder beside the path and compares the counts. Each move has its own
# hidden folder (a job of an interrupted move may linger a moment); older ones are unfinished moves' copies.
_RECEIVE = (
    'cd /parent || exit 2; tmp=".$1.pydokku-move-$4";'
    ' if [ "$3" != replace ] && { [ -L "$1" ] || { [ -e "$1" ] && [ -n "$(ls -A "$1" 2>&1)" ]; }; }; then'
    '  echo "$1 already holds data there" >&2; exit 3; fi;'
    ' rm -rf ".$1.pydokku-move-"* && mkdir "$tmp" && mkfifo /tmp/hold && exec 3<>/tmp/hold || exit 2; echo listening;'
    ' nc -l -p "$2" <&3 | {'
    "  read -r token entries bytes;"
    '  if [ "$token" != "$MOVE_TOKEN" ]; then'
    '   echo "a connection without the move\'s token was refused" >&2; exit 4; fi;'
    "  free=$(df -Pk . | awk 'NR == 2 {printf \"%.0f\", $4 * 1024}');"
    '  if [ "$free" -lt "$bytes" ]; then rm -rf "$tmp"; cat >/dev/null;'
    '   echo "the copy needs $bytes bytes and the file system there has $free bytes free" >&2; exit 7; fi;'
    '  if ! tar -x -C "$tmp" --numeric-owner 2>/tmp/tar.err; then rm -rf "$tmp"; cat >/dev/null;'
    '   echo "extracting the copy failed: $(tail -n 2 /tmp/tar.err | tr "\\n" " ")" >&2; exit 5; fi; cat >/dev/null;'
    f'  counts=$(cd "$tmp" && {{ {_COUNT}; }}); counts=$(echo $counts);'
    '  if [ "$counts" != "$entries $bytes" ]; then rm -rf "$tmp";'
    '   echo "the copy holds $counts (entries, bytes) where the source held $entries $bytes" >&2; exit 6; fi;'
    '  echo "verified $entries $bytes"; }'
)
# Only the command (or the next one, finishing an interrupted move) puts a verified copy in place: an empty
# directory there is replaced, data there is renamed aside when replacing (never deleted). Run again after
# an interruption, it finishes what it began (the copy already in place: nothing to do).
_PLACE = (
    'cd /parent || exit 2; tmp=".$1.pydokku-move-$4";'
    ' if [ ! -d "$tmp" ]; then if [ -d "$1" ] && [ ! -L "$1" ]; then exit 0; fi;'
    '  echo "the verified copy is not there any more" >&2; exit 2; fi;'
    ' if [ -L "$1" ] || [ -e "$1" ]; then'
    '  if [ ! -L "$1" ] && [ -z "$(ls -A "$1")" ]; then rmdir "$1";'
    '  elif [ "$3" = replace ]; then mv "$1" "$1.replaced-$2" && echo "replaced $2";'
    '  else echo "$1 already holds data there" >&2; exit 3; fi;'
    ' fi && mv "$tmp" "$1"'
)
# An interrupted move undone on the target: a copy it put in place goes back to its hidden folder ($3
# "placed": only then can the path be the move's), what it renamed aside comes back, the hidden folder goes.
_UNDO = (
    'cd /parent || exit 2; tmp=".$1.pydokku-move-$4";'
    ' if [ "$3" = placed ]; then'
    '  if [ ! -e "$tmp" ] && [ -d "$1" ] && [ ! -L "$1" ]; then mv "$1" "$tmp" || exit 2; fi;'
    '  if [ -e "$1.replaced-$2" ] && [ ! -e "$1" ] && [ ! -L "$1" ]; then mv "$1.replaced-$2" "$1" || exit 2; fi;'
    ' fi; rm -rf "$tmp"'
)
_OWN = (
    'cd /parent || exit 2; if [ -L "$1" ] || [ ! -d "$1" ]; then echo "$1 is not a directory there" >&2; exit 2; fi;'
    ' if [ "$(stat -c %u:%g "$1")" != "$2" ]; then chown -hR "$2" "$1" && echo changed; fi'
)
_REMOVE = (
    'cd /parent || exit 2; if [ -L "$1" ] || [ ! -d "$1" ]; then echo "$1 is not a directory there" >&2; exit 2; fi;'
    ' rm -rf "$1"'
)


class Copied:
    """What a move copied to the target, verified there: entries and bytes of regular files."""

    def __init__(self, received: str) -> None:
        words = received.split()
        if len(words) < 3 or words[-3] != "verified":
            raise DokkuError(f"The move's copy said: {received}")
        self.entries, self.bytes = int(words[-2]), int(words[-1])


def _said(swarm: Swarm, name: str, code: int) -> str:
    """What a failed move job said (its own progress line aside), or its exit status."""
    lines = [line for line in _output(swarm, name).splitlines() if line != "listening"]
    return " ".join(lines) or f"exit status {code}"


def copy_directory(
    context: Context, path: str, source: str, target: str, *, move: str, replace: bool,
    ready: Callable[[], None] | None,
) -> Copied:  # fmt: skip
    """Copy a directory from one node's disk to a hidden folder beside the same path on another's (named
    by the move's id): a job on the source sends it as a tar stream straight to a job on the target, over
    the nodes' own network, which verifies it. The source is only read, from once `ready` returns (called
    when the target is found free and listens: the caller stops what writes the data; with nothing to
    stop, both jobs start at once)."""
    swarm, image = _storage_manager(context)
    address = next((node.address for node in swarm.nodes() if node.hostname == target), "")
    token = os.urandom(16).hex()
    port = 20000 + int.from_bytes(os.urandom(2), "big") % 40000
    receiver, sender = f"storage-move-to-{move}", f"storage-move-from-{move}"
    env = [f"MOVE_TOKEN={token}"]
    writable, base = _parent_mount(path)
    readonly, _ = _parent_mount(path, readonly=True)
    receive = ["sh", "-c", _RECEIVE, "sh", base, str(port), "replace" if replace else "", move]
    send = ["sh", "-c", _SEND, "sh", base, address, str(port)]
    try:
        swarm.create_service(_job_spec(receiver, image, target, [writable], receive, env=env, host_network=True), "")
        while ready is not None and "listening" not in _output(swarm, receiver).split():
            if (code := _job_status(swarm, receiver)) is not None:
                raise DokkuError(f"Unable to copy {path} to node {target}: {_said(swarm, receiver, code)}")
            time.sleep(POLL)
        if ready is not None:
            ready()
        swarm.create_service(_job_spec(sender, image, source, [readonly], send, env=env, host_network=True), "")
        received = _received(swarm, receiver, sender, f"Unable to read {path} on node {source}")
        if received != 0:
            raise DokkuError(f"Unable to copy {path} to node {target}: {_said(swarm, receiver, received)}")
        return Copied(_output(swarm, receiver))
    finally:
        for name in (sender, receiver):
            swarm.remove_service(name)


def _received(swarm: Swarm, receiver: str, sender: str, unreadable: str) -> int:
    """The receiver's exit status. A sender that fails first is the error only when the receiver does not
    fail too within a moment (a receiver refusing the copy makes the sender fail: its reason is the one)."""
    failed_at, sent = 0.0, None
    while (received := _job_status(swarm, receiver)) is None:
        if not failed_at:
            sent = _job_status(swarm, sender)
            failed_at = time.monotonic() if sent not in (None, 0) else 0.0
        elif time.monotonic() - failed_at > 10:
            raise DokkuError(f"{unreadable}: {_said(swarm, sender, sent or 1)}")
        time.sleep(POLL)
    return received


def _script_job(context: Context, name: str, node: str, path: str, script: str, *args: str, failed: str) -> str:
    """A script run by a job on a node with the path's parent at /parent (writable) and the path's base
    name as its first argument; its output. A failure is `failed: <what it said>`."""
    swarm, image = _storage_manager(context)
    mount, base = _parent_mount(path)
    try:
        code, output = run_job(swarm, name, image, node, [mount], ["sh", "-c", script, "sh", base, *args])
    except DokkuError as error:  # the job did not run (a node gone, its bind source missing)
        raise DokkuError(f"{failed}: {error.message}") from error
    if code != 0:
        raise DokkuError(f"{failed}: {output or f'exit status {code}'}")
    return output


def place_directory(context: Context, path: str, target: str, *, move: str, stamp: str, replace: bool) -> str:
    """Put a move's verified copy in place on the target (again after an interruption: it finishes); where
    data it found at the path went (the path with this suffix), "" when there was none."""
    placed = _script_job(context, f"storage-move-commit-{move}", target, path, _PLACE, stamp,
                         "replace" if replace else "", move,
                         failed=f"Unable to put the copy of {path} in place on node {target}")  # fmt: skip
    return f".replaced-{stamp}" if placed.startswith("replaced") else ""


def undo_directory(context: Context, path: str, target: str, *, move: str, stamp: str, placed: bool) -> None:
    """Undo a move's copy on the target: its hidden folder removed; a copy it may have put in place
    (`placed`) taken back, and what it renamed aside put back."""
    _script_job(context, f"storage-move-undo-{move}", target, path, _UNDO, stamp, "placed" if placed else "", move,
                failed=f"Unable to undo the copy of {path} on node {target}")  # fmt: skip


def remove_move_jobs(context: Context, move: str) -> list[str]:
    """The jobs an interrupted move left (a copy may still be running): removed, killed at once; their names."""
    swarm, _ = _storage_manager(context)
    names = [service["Spec"]["Name"] for service in swarm.services({plan.LABEL_CONTAINER_TYPE: "storage-job"})]
    left = [name for name in names if name.startswith("storage-move-") and name.endswith(f"-{move}")]
    for name in left:
        swarm.remove_service(name)
    return left


def remove_directory(context: Context, node: str, path: str) -> None:
    """Remove a storage directory from a node's disk (asked for: storage:move --discard-source)."""
    _script_job(context, f"storage-remove-{os.urandom(4).hex()}", node, path, _REMOVE,
                failed=f"Unable to remove {path} on node {node}")  # fmt: skip


def running_mounts(context: Context, app_names: list[str]) -> dict[str, list[Container]]:
    """The services these apps run (replicas above 0), each as a container whose mounts are its spec's:
    what every task of it mounts."""
    found: dict[str, list[Container]] = {}
    for app_name in app_names:
        for service in _services(engine(context, app_name), app_name):
            spec = service["Spec"]
            if ((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas", 0) == 0:
                continue
            mounts = [
                {
                    "Type": m.get("Type"),
                    "Source": m.get("Source"),
                    "Name": m.get("Source"),
                    "Destination": m.get("Target"),
                }
                for m in (spec.get("TaskTemplate") or {}).get("ContainerSpec", {}).get("Mounts") or []
            ]
            labels = spec.get("Labels") or {}
            found.setdefault(app_name, []).append(Container(service["ID"], spec["Name"], "running", labels,
                                                            mounts=mounts))  # fmt: skip
    return found
