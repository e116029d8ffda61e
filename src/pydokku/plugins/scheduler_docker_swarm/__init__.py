"""The scheduler-docker-swarm plugin's exports: an app's settings for the docker-swarm scheduler (its
own value, else the global one, else the default)."""

from __future__ import annotations

import os

from pydokku.store import properties

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow

PLUGIN = "scheduler-docker-swarm"
# manager: engine address of a manager node (default DOCKER_HOST). node: pin the app's tasks to a node.
# update-parallelism: tasks replaced at once (0: all). stop-grace-period: before SIGKILL.
# init-process: run tasks with an init (signals reach the app). helper-image: the image of the jobs
# that prepare and move storage on a node. storage-root: where entries live on the nodes.
DEFAULTS = {
    "helper-image": "alpine:3",
    "init-process": "true",
    "manager": "",
    "node": "",
    "stop-grace-period": "10s",
    "storage-root": "",
    "update-parallelism": "1",
}
KEYS = tuple(sorted(DEFAULTS))
APP_KEYS = ("init-process", "manager", "node", "stop-grace-period", "update-parallelism")
GLOBAL_KEYS = tuple(key for key in KEYS if key != "node")


def values(tx: Tx, app: AppRow | None) -> tuple[dict[str, str], dict[str, str]]:
    own = properties.get_all(tx, app.id, PLUGIN) if app is not None else {}
    return own, properties.get_global(tx, PLUGIN)


def computed(own: dict[str, str], global_values: dict[str, str], key: str, app_name: str = "") -> str:
    value = (own.get(key) if key in APP_KEYS else "") or global_values.get(key) or DEFAULTS[key]
    if not value and key == "manager":
        return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if not value and key == "storage-root":
        from pydokku.context import Paths

        return Paths.from_env(os.environ).storage_root
    return value


def settings(tx: Tx, app: AppRow | None) -> dict[str, str]:
    """Every setting's computed value for the app (the global scope when None)."""
    own, global_values = values(tx, app)
    return {key: computed(own, global_values, key) for key in KEYS}


def pin(tx: Tx, app: AppRow, node: str) -> None:
    """Pin the app's tasks to a node (its data moved there)."""
    properties.put(tx, app.id, PLUGIN, "node", node)


def duration_seconds(value: str) -> float:
    """Seconds of a whole number of seconds or a Go duration (`10s`, `1m30s`, `500ms`)."""
    if value.isascii() and value.isdigit():
        return float(value)
    total, number, index = 0.0, "", 0
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    while index < len(value):
        char = value[index]
        if char.isascii() and char.isdigit():
            number += char
            index += 1
            continue
        unit = "ms" if value.startswith("ms", index) else char
        if not number or unit not in scale:
            raise ValueError(value)
        total += int(number) * scale[unit]
        number, index = "", index + len(unit)
    if number or not value:
        raise ValueError(value)
    return total
