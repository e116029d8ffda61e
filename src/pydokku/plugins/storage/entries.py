"""Named storage entries: validation with Dokku 0.38's messages (pure functions)."""

from __future__ import annotations

from pydokku.errors import DokkuError
from pydokku.plugins.storage.spec import VOLUME_NAME_REST
from pydokku.text import ASCII_ALNUM, has_control_characters, only

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.store.storage import Entry

MAX_NAME = 45
LEGACY_PREFIX = "legacy-"
SCHEDULERS = ("docker-local", "docker-swarm")
RECLAIM_POLICIES = ("Retain", "Delete")
PHASES = ("deploy", "run")
DEFAULT_PROCESS_TYPE = "_default_"
SCHEMA_VERSION = 1
DNS_LABEL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
PROCESS_TYPE = ASCII_ALNUM | frozenset("_-")


def check_name(name: str) -> None:
    if not name:
        raise DokkuError("storage entry name is required")
    if len(name) > MAX_NAME:
        raise DokkuError(
            f'storage entry name "{name}" is too long (max {MAX_NAME} characters); helm release names cap our budget'
        )
    if not only(name, DNS_LABEL) or name.startswith("-") or name.endswith("-"):
        raise DokkuError(
            f'storage entry name "{name}" must be a DNS-1123 label'
            " (lowercase letters, digits, and dashes; cannot start or end with a dash)"
        )
    if name.startswith(LEGACY_PREFIX):
        raise DokkuError(f'storage entry name "{name}" must not start with reserved prefix "{LEGACY_PREFIX}"')


def is_volume(host_path: str) -> bool:
    return not host_path.startswith("/")


def check_host_path(name: str, host_path: str) -> None:
    """An absolute host path, or a docker volume name (^[a-zA-Z0-9][a-zA-Z0-9_.-]+$)."""
    if has_control_characters(host_path):
        raise DokkuError(f'storage entry "{name}" host path cannot contain control characters')
    if host_path.startswith("/"):
        if ".." in host_path.split("/"):
            raise DokkuError(f'storage entry "{name}" host path "{host_path}" cannot contain ".." segments')
        return
    if len(host_path) < 2 or host_path[0] not in ASCII_ALNUM or not only(host_path, VOLUME_NAME_REST):
        raise DokkuError(
            f'storage entry "{name}" host path "{host_path}" must be an absolute path or a docker volume name'
        )


def check_scheduler(name: str, scheduler: str) -> None:
    if scheduler not in SCHEDULERS:
        raise DokkuError(
            f'storage entry "{name}" has unsupported scheduler "{scheduler}" (supported: {", ".join(SCHEDULERS)})'
        )


def check_reclaim_policy(name: str, policy: str) -> None:
    if policy and policy not in RECLAIM_POLICIES:
        raise DokkuError(
            f'storage entry "{name}" has unsupported reclaim policy "{policy}" (supported: Retain, Delete)'
        )


def normalize_mode(mode: str) -> str:
    if not mode:
        return ""
    if not (3 <= len(mode) <= 4 and only(mode, frozenset("01234567"))):
        raise DokkuError(f'Unsupported directory mode "{mode}". Value must be a 3 or 4 digit octal mode, such as 0755')
    return mode.rjust(4, "0")


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    parsed = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise DokkuError(f'expected key=value, got "{pair}"')
        parsed[key] = value
    return parsed


def check_container_dir(path: str) -> str:
    if not path:
        raise DokkuError("--container-dir is required when mounting a named storage entry")
    if not path.startswith("/") or has_control_characters(path) or ".." in path.split("/"):
        raise DokkuError(f'attachment container path "{path}" must be absolute')
    return path


def check_phases(phases: list[str]) -> tuple[bool, bool]:
    """(deploy, run) from --phase values; both when none are given."""
    for phase in phases:
        if phase not in PHASES:
            raise DokkuError(f'attachment phase "{phase}" is not supported (must be "deploy" or "run")')
    return (not phases or "deploy" in phases), (not phases or "run" in phases)


def check_process_type(process_type: str) -> str:
    if not process_type:
        return DEFAULT_PROCESS_TYPE
    if process_type != DEFAULT_PROCESS_TYPE and not only(process_type, PROCESS_TYPE):
        raise DokkuError(f'attachment process type "{process_type}" may only contain letters, digits, "_" and "-"')
    return process_type


def check_subpath(subpath: str) -> str:
    """A relative path inside the entry: no leading "/", no "..", no control characters."""
    if not subpath:
        return ""
    parts = [part for part in subpath.split("/") if part not in ("", ".")]
    if subpath.startswith("/") or ".." in parts or has_control_characters(subpath) or not parts:
        raise DokkuError(f'attachment subpath "{subpath}" must be a relative path inside the storage entry')
    return "/".join(parts)


def check_on_this_host(entry: Entry) -> None:
    """Commands that read or write an entry's data on this host's disk (export, import, backups, exec)
    refuse a swarm entry's: it lives on a node's disk, or in volumes the nodes mount, and a same-named
    folder here would be other data."""
    if entry.scheduler == "docker-swarm":
        where = (
            f'on swarm node "{entry.node}"' if entry.node else f"in {entry.volume_driver} volumes on the swarm's nodes"
        )
        raise DokkuError(
            f'storage entry "{entry.name}" keeps its data {where}, which this host cannot see; export, import,'
            " backups, restores and storage:exec reach this host's storage only (storage:move moves swarm data)"
        )
