"""What the docker-swarm scheduler asks a swarm manager for, computed without Docker (pure functions):
service specs, mounts, placement, and the docker options a service has a counterpart for."""

from __future__ import annotations

from pydokku.errors import DokkuError
from pydokku.scheduler import plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pydokku.scheduler.plan import Mount

NANO = 1_000_000_000
# A task must stay up this long for the update to move on; we watch the tasks ourselves, so Swarm's
# own monitor is as short as it accepts (0 is ignored, Swarm keeps 5 s).
UPDATE_MONITOR = 1_000_000
SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}

# The docker options a service has a counterpart for (apply_options; the README's table lists them),
# and their short forms.
SUPPORTED = (
    "--add-host", "--cap-add", "--cap-drop", "--cpus", "--dns", "--env", "--group-add", "--hostname", "--init",
    "--label", "--memory", "--read-only", "--restart", "--stop-signal", "--sysctl", "--tty", "--ulimit", "--user",
    "--workdir",
)  # fmt: skip
_ALIASES = {"-e": "--env", "-h": "--hostname", "-l": "--label", "-m": "--memory", "-t": "--tty", "-u": "--user",
            "-w": "--workdir"}  # fmt: skip
_BOOLEAN = ("--init", "--read-only", "--tty")


def service_name(app: str, process_type: str) -> str:
    return f"{app}-{process_type}"


def restart_policy(policy: str) -> dict[str, Any]:
    """A docker restart policy (`no`, `always`, `unless-stopped`, `on-failure[:N]`) as a task restart policy."""
    name, _, retries = policy.partition(":")
    if name == "no":
        return {"Condition": "none"}
    if name == "on-failure":
        return {"Condition": "on-failure", **({"MaxAttempts": int(retries)} if retries else {})}
    return {"Condition": "any"}


def size_bytes(value: str) -> int:
    number, unit = value.rstrip("bBkKmMgG"), value[len(value.rstrip("bBkKmMgG")) :].lower()
    if not number.isdigit() or unit not in SIZE_UNITS:
        raise DokkuError(f"Invalid memory size {value!r}: expected a number with an optional unit b, k, m or g")
    return int(number) * SIZE_UNITS[unit]


def _pairs(tokens: list[str]) -> list[tuple[str, str]]:
    """`--flag value`, `--flag=value`, `-x value` and boolean flags as (flag, value) pairs; a flag a
    service has no counterpart for is refused as soon as it is seen (its arity is unknown)."""
    pairs: list[tuple[str, str]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        flag, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        flag = _ALIASES.get(flag, flag)
        if flag in ("-v", "--volume", "--mount"):
            raise DokkuError(
                f"docker option {flag} cannot be given to a swarm service: mount storage with"
                " dokku storage:mount, which takes the data's node into account"
            )
        if flag not in SUPPORTED:
            raise DokkuError(
                f"docker option {token} has no counterpart on a swarm service (supported: {', '.join(SUPPORTED)});"
                " remove it or run the app on docker-local"
            )
        if eq or flag in _BOOLEAN:
            pairs.append((flag, value if eq else "true"))
            index += 1
            continue
        if index + 1 >= len(tokens):
            raise DokkuError(f"docker option {flag} needs a value")
        pairs.append((flag, tokens[index + 1]))
        index += 2
    return pairs


def check_options(tokens: list[str]) -> None:
    """Refuse docker options a swarm service has no counterpart for."""
    _pairs(tokens)


def apply_options(tokens: list[str], container: dict[str, Any], task: dict[str, Any]) -> None:
    """Set what the docker options say on a service's ContainerSpec and TaskTemplate."""
    for flag, value in _pairs(tokens):
        if flag == "--env":
            container.setdefault("Env", []).append(value)
        elif flag == "--label":
            key, _, label = value.partition("=")
            container.setdefault("Labels", {})[key] = label
        elif flag == "--user":
            container["User"] = value
        elif flag == "--workdir":
            container["Dir"] = value
        elif flag == "--hostname":
            container["Hostname"] = value
        elif flag in _BOOLEAN:
            key = {"--init": "Init", "--read-only": "ReadOnly", "--tty": "TTY"}[flag]
            container[key] = value != "false"
        elif flag == "--stop-signal":
            container["StopSignal"] = value
        elif flag == "--restart":
            task["RestartPolicy"] = restart_policy(value)
        elif flag == "--memory":
            task.setdefault("Resources", {}).setdefault("Limits", {})["MemoryBytes"] = size_bytes(value)
        elif flag == "--cpus":
            try:
                task.setdefault("Resources", {}).setdefault("Limits", {})["NanoCPUs"] = int(float(value) * NANO)
            except ValueError:
                raise DokkuError(f"Invalid --cpus {value!r}: expected a number such as 0.5") from None
        elif flag == "--ulimit":
            name, _, limits = value.partition("=")
            soft, _, hard = limits.partition(":")
            if not name or not soft.lstrip("-").isdigit() or (hard and not hard.lstrip("-").isdigit()):
                raise DokkuError(f"Invalid --ulimit {value!r}: expected name=soft[:hard]")
            container.setdefault("Ulimits", []).append({"Name": name, "Soft": int(soft), "Hard": int(hard or soft)})
        elif flag in ("--cap-add", "--cap-drop"):
            key = "CapabilityAdd" if flag == "--cap-add" else "CapabilityDrop"
            container.setdefault(key, []).append(value if value.startswith("CAP_") else f"CAP_{value.upper()}")
        elif flag == "--sysctl":
            key, _, setting = value.partition("=")
            container.setdefault("Sysctls", {})[key] = setting
        elif flag == "--group-add":
            container.setdefault("Groups", []).append(value)
        elif flag == "--dns":
            container.setdefault("DNSConfig", {}).setdefault("Nameservers", []).append(value)
        elif flag == "--add-host":
            host, _, address = value.partition(":")
            container.setdefault("Hosts", []).append(f"{address} {host}")


def service_mount(mount: Mount) -> dict[str, Any]:
    """A storage mount as a service mount: a bind of a node's directory, or a volume (with its driver)."""
    rendered: dict[str, Any] = {"Type": mount.kind, "Source": mount.source, "Target": mount.target}
    if mount.readonly:
        rendered["ReadOnly"] = True
    if mount.kind == "bind" and mount.subpath:
        rendered["Source"] = f"{mount.source.rstrip('/')}/{mount.subpath}"
    if mount.kind == "volume" and mount.subpath:
        # Engines before 26 ignore a volume subpath and would mount the whole volume.
        raise DokkuError(
            f"Storage entry {mount.entry or mount.source} is mounted with a volume subpath, which swarm services"
            " support from Docker Engine 26 on; mount it without --volume-subpath"
        )
    if mount.driver:
        rendered["VolumeOptions"] = {"DriverConfig": {"Name": mount.driver, "Options": dict(mount.driver_options)}}
    for option in mount.options.split(","):
        if option in ("", "ro", "rw"):
            continue
        if mount.kind == "bind" and option in ("shared", "slave", "private", "rshared", "rslave", "rprivate"):
            rendered["BindOptions"] = {"Propagation": option}
        elif option == "nocopy" and mount.kind == "volume":
            rendered.setdefault("VolumeOptions", {})["NoCopy"] = True
        else:
            raise DokkuError(
                f"Mount option {option!r} of storage entry {mount.entry or mount.source} has no counterpart on a"
                " swarm service mount (supported: ro, a bind propagation mode, nocopy for volumes)"
            )
    return rendered


def node_of(mounts: list[Mount], app: str, pinned: str) -> str:
    """The node the app's tasks must run on: where its node-local data lives ("" when none). A host
    directory or local volume of a docker-local entry lives on whichever node the app is pinned to."""
    nodes: dict[str, str] = {}  # node -> the entry that needs it
    for mount in mounts:
        if mount.driver:
            continue  # a volume driver every node has: no pin
        if mount.scheduler == "docker-swarm":
            nodes.setdefault(mount.node, mount.entry)
        elif not pinned:
            what = f"host path {mount.source}" if mount.kind == "bind" else f"docker volume {mount.source}"
            raise DokkuError(
                f"App {app} mounts {what}, which lives on one node's disk: pin the app to that node with"
                f" dokku scheduler-docker-swarm:set {app} node <hostname>, or create the storage with"
                " storage:create --scheduler docker-swarm (--node, or --volume-driver for a shared volume)"
            )
    if pinned:
        for node, entry in nodes.items():
            if node != pinned:
                raise DokkuError(
                    f'App {app} is pinned to node "{pinned}", but storage entry "{entry}" lives on node "{node}";'
                    f" move it there with dokku storage:move {entry} --to-node {pinned}, or change the pin"
                )
        return pinned
    if len(nodes) > 1:
        described = ", ".join(f'"{entry}" on "{node}"' for node, entry in sorted(nodes.items()))
        raise DokkuError(f"App {app} mounts storage on different nodes ({described}); its tasks run on one node")
    return next(iter(nodes), "")


def placement(node: str) -> dict[str, Any]:
    return {"Constraints": [f"node.hostname=={node}"]} if node else {}


def duration_ns(seconds: float) -> int:
    return int(seconds * NANO)


def service_spec(
    *,
    name: str,
    image: str,
    command: list[str],
    env: dict[str, str],
    labels: dict[str, str],
    mounts: list[Mount],
    node: str,
    replicas: int | None,
    init: bool,
    restart: str,
    stop_grace: float,
    options: list[str],
    update_parallelism: int = 1,
    force_update: int = 0,
) -> dict[str, Any]:
    """A service (replicas given) or a one-off job (replicas None: a replicated job that runs once)."""
    container: dict[str, Any] = {
        "Image": image,
        "Env": [f"{key}={value}" for key, value in sorted(env.items())],
        "Labels": dict(labels),
        "Mounts": [service_mount(mount) for mount in mounts],
        "Init": init,
        "StopGracePeriod": duration_ns(stop_grace),
    }
    if command:
        container["Args"] = command
    task: dict[str, Any] = {
        "ContainerSpec": container,
        "RestartPolicy": restart_policy(restart),
        "Placement": placement(node),
        "ForceUpdate": force_update,
    }
    apply_options(options, container, task)
    if replicas is None:
        task["RestartPolicy"] = {"Condition": "none"}  # whatever the options say: a failing one-off never retries
        mode: dict[str, Any] = {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}}
    else:
        mode = {"Replicated": {"Replicas": replicas}}
    spec: dict[str, Any] = {"Name": name, "Labels": dict(labels), "TaskTemplate": task, "Mode": mode}
    if replicas is not None:
        spec["UpdateConfig"] = {
            "Parallelism": update_parallelism, "Order": "start-first", "Monitor": UPDATE_MONITOR,
            "FailureAction": "pause",
        }  # fmt: skip
        spec["RollbackConfig"] = {"Parallelism": 0, "Order": "start-first", "Monitor": UPDATE_MONITOR}
    return spec


def labels_for(app: str, process_type: str, container_type: str, release: int) -> dict[str, str]:
    return {
        plan.LABEL_APP: app,
        plan.LABEL_PROCESS: process_type,
        plan.LABEL_CONTAINER_TYPE: container_type,
        plan.LABEL_RELEASE: str(release),
    }
