"""scheduler-docker-swarm:* handlers."""

from __future__ import annotations

from pydokku import settings as settings_module
from pydokku.errors import DokkuError
from pydokku.plugins.scheduler_docker_swarm import (
    APP_KEYS,
    GLOBAL_KEYS,
    KEYS,
    PLUGIN,
    computed,
    duration_seconds,
    values,
)
from pydokku.report import Scoped
from pydokku.text import has_control_characters

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from pydokku.args import ParsedArgs
    from pydokku.context import Context

SCOPED = Scoped(PLUGIN, KEYS, values, computed, GLOBAL_KEYS, APP_KEYS)
HOSTNAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def _manager_address(value: str) -> bool:
    scheme, _, rest = value.partition("://")
    if scheme == "unix":
        return rest.startswith("/") and ".." not in rest.split("/")
    host, _, port = rest.rpartition(":")
    return scheme == "tcp" and bool(host) and port.isascii() and port.isdigit()


def _duration(value: str) -> bool:
    try:
        duration_seconds(value)
    except ValueError:
        return False
    return True


# key -> (is the value valid, what is expected)
VALIDATORS: dict[str, tuple[Callable[[str], bool], str]] = {
    "manager": (_manager_address, "unix:///path/to/docker.sock or tcp://host:port"),
    "node": (lambda v: len(v) <= 253 and all(c in HOSTNAME for c in v), "the hostname of a swarm node"),
    "update-parallelism": (lambda v: v.isascii() and v.isdigit(), "a whole number; 0 updates all at once"),
    "stop-grace-period": (_duration, "seconds or a duration such as 30s or 1m30s"),
    "init-process": (lambda v: v in ("true", "false"), "true or false"),
    "storage-root": (lambda v: v.startswith("/") and ".." not in v.split("/"), "an absolute path"),
    "helper-image": (lambda v: v.isascii() and not v.startswith("-"), "an image reference, e.g. alpine:3"),
}


def _check(key: str, value: str) -> None:
    valid, expected = VALIDATORS[key]
    if has_control_characters(value) or any(c.isspace() for c in value) or not valid(value):
        raise DokkuError(f"Invalid value for {key}: {value!r} (expected {expected})")


def set_property(context: Context, args: ParsedArgs) -> None:
    key = args.positional(0 if args.has("global") else 1)
    if args.has("global") and key and key not in GLOBAL_KEYS:
        raise DokkuError(f"{key} cannot be set globally; global properties: {', '.join(GLOBAL_KEYS)}")
    if not args.has("global") and key in KEYS and key not in APP_KEYS:
        raise DokkuError(f"{key} is set for all apps: dokku scheduler-docker-swarm:set --global {key} <value>")
    settings_module.set_property(context, args, PLUGIN, KEYS, _check)


def report_settings(context: Context, args: ParsedArgs) -> int:
    return SCOPED.report(context, args, "scheduler-docker-swarm")
