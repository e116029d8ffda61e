"""How much each storage entry holds and how much room is left where it lives: `storage:usage`, and the
usage rows of storage:info, storage:list-entries (JSON) and storage:report (JSON).

A tree is measured in one pass (pydokku.treewalk: links never followed, other file systems never
entered). The figures are kept in a cache file beside the state database, keyed on the measured
directory's identity and mtime and on the number of inodes in use on its file system: a file created or
removed anywhere on that file system, or an entry added to or removed from the directory, makes the next
report measure again. A file that only grows is not seen until then: `--refresh` measures anyway, and
every figure says when it was measured.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from pydokku.errors import DokkuError
from pydokku.text import age_text, counted, human_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx
    from pydokku.store.storage import Entry

CACHE_FILE = "storage-usage.json"

MEASURED = "measured"  # the figures below are the entry's
MISSING = "missing"  # its directory or volume does not exist
ON_NODE = "on-node"  # it lives on a swarm node, not on this host
NOT_LOCAL = "not-local"  # a volume whose driver keeps its data elsewhere
UNREADABLE = "unreadable"  # it exists but could not be read (the reason is in `problem`)


class Usage:
    """One entry's usage: what it holds (when measured) and the room on its file system."""

    __slots__ = (
        "apparent_bytes", "cached", "directories", "disk_bytes", "files", "filesystem_bytes", "free_bytes",
        "host_path", "last_snapshot_at", "measured_at", "name", "other_filesystem", "problem",
        "state", "walk_failed",
    )  # fmt: skip

    def __init__(self, entry: Entry, last_snapshot_at: int) -> None:
        self.name = entry.name
        self.host_path = entry.host_path
        self.state = MEASURED
        self.problem = ""
        self.disk_bytes = self.apparent_bytes = self.files = self.directories = self.other_filesystem = 0
        self.free_bytes: int | None = None
        self.filesystem_bytes: int | None = None
        self.measured_at = 0
        self.cached = False
        self.last_snapshot_at = last_snapshot_at
        self.walk_failed = False  # its tree could not be walked whole: the command fails (no figure is partial)

    def as_json(self, now: int) -> dict[str, object]:
        shown: dict[str, object] = {"state": self.state}
        if self.problem:
            shown["problem"] = self.problem
        if self.state == MEASURED:
            shown.update(
                disk_bytes=self.disk_bytes, apparent_bytes=self.apparent_bytes, files=self.files,
                directories=self.directories, other_filesystem=self.other_filesystem,
                measured_at=iso(self.measured_at), cached=self.cached,
            )  # fmt: skip
        shown["free_bytes"] = self.free_bytes
        shown["filesystem_bytes"] = self.filesystem_bytes
        shown["last_snapshot_at"] = iso(self.last_snapshot_at) if self.last_snapshot_at else None
        shown["last_snapshot_age_seconds"] = max(0, now - self.last_snapshot_at) if self.last_snapshot_at else None
        return shown

    def used_text(self) -> str:
        if self.state == MEASURED:
            return human_bytes(self.disk_bytes)
        return {MISSING: "missing", ON_NODE: "on a swarm node", NOT_LOCAL: "not on this host"}.get(
            self.state, "unreadable"
        )

    def free_text(self) -> str:
        if self.free_bytes is None or self.filesystem_bytes is None:
            return "-"
        return f"{human_bytes(self.free_bytes)} of {human_bytes(self.filesystem_bytes)}"

    def snapshot_text(self, now: int) -> str:
        return f"{age_text(self.last_snapshot_at, now)} ago" if self.last_snapshot_at else "never"


def iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class UsageCache:
    """Figures measured earlier, by measured path, with the key they were measured under."""

    def __init__(self, lib_root: str) -> None:
        self._path = os.path.join(lib_root, CACHE_FILE)
        self._changed = False
        try:
            with open(self._path, encoding="utf-8") as cache:
                loaded = json.load(cache)
            self._figures: dict[str, dict[str, Any]] = loaded if isinstance(loaded, dict) else {}
        except FileNotFoundError:
            self._figures = {}
            # Created empty now, before anything is measured: the file's own inode is then already in the
            # count the figures are keyed on, and replacing it later keeps that count.
            with contextlib.suppress(OSError):
                os.close(os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600))
        except (OSError, ValueError):
            self._figures = {}  # unreadable: measure again

    def get(self, path: str, key: list[int]) -> dict[str, Any] | None:
        figures = self._figures.get(path)
        return figures if isinstance(figures, dict) and figures.get("key") == key else None

    def put(self, path: str, figures: dict[str, Any]) -> None:
        self._figures[path] = figures
        self._changed = True

    def save(self) -> None:
        """Write the cache beside the state (atomically, 0600); a read-only state directory only means
        the next report measures again."""
        if not self._changed:
            return
        temporary = f"{self._path}.{os.getpid()}.tmp"
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as cache:
                json.dump(self._figures, cache, separators=(",", ":"))
            os.replace(temporary, self._path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _room(usage: Usage, room: os.statvfs_result) -> None:
    usage.free_bytes = room.f_bavail * room.f_frsize
    usage.filesystem_bytes = room.f_blocks * room.f_frsize


def _room_of_parent(usage: Usage, path: str) -> None:
    """The room where a missing path would be: its nearest existing parent's file system."""
    current = os.path.dirname(path)
    while True:
        try:
            _room(usage, os.statvfs(current))
            return
        except OSError:
            if current in ("/", ""):
                return
            current = os.path.dirname(current)


def _volume_path(context: Context, usage: Usage, name: str) -> str:
    """The directory holding a named volume's data on this host, or "" (with the state saying why)."""
    from pydokku.engine import EngineUnavailable

    try:
        volume = context.engine.volume(name)
    except EngineUnavailable as error:
        usage.state, usage.problem = UNREADABLE, str(error)
        return ""
    if volume is None:
        usage.state = MISSING
        return ""
    if volume.get("Driver") != "local" or (volume.get("Options") or {}).get("device"):
        usage.state = NOT_LOCAL  # another driver, or a local volume over NFS or a device
        return ""
    return str(volume.get("Mountpoint") or "")


def measure_entry(context: Context, entry: Entry, last_snapshot_at: int, cache: UsageCache, *,
                  refresh: bool) -> Usage:  # fmt: skip
    """The entry's usage, from the cache when nothing it is keyed on changed (unless refresh)."""
    from pydokku.plugins.storage.entries import is_volume

    usage = Usage(entry, last_snapshot_at)
    if entry.node:
        usage.state, usage.problem = ON_NODE, f"on swarm node {entry.node}, not measured from this host"
        return usage
    if entry.scheduler == "docker-swarm":  # a volume the swarm's nodes share through its driver
        driver = entry.volume_driver or "local"
        usage.state, usage.problem = NOT_LOCAL, f"a swarm volume (driver {driver}), not measured from this host"
        return usage
    path = _volume_path(context, usage, entry.host_path) if is_volume(entry.host_path) else entry.host_path
    if not path:
        return usage
    path = os.path.realpath(path)  # the directory Docker mounts: links on the way are followed, none inside
    try:
        found, room = os.stat(path, follow_symlinks=False), os.statvfs(path)
    except FileNotFoundError:
        usage.state = MISSING
        _room_of_parent(usage, path)
        return usage
    except OSError as error:
        usage.state, usage.problem = UNREADABLE, f"{path}: {error.strerror}"
        return usage
    _room(usage, room)
    # A cached figure stands while the directory (device, inode, mtime) and the number of inodes in use on
    # its file system are what they were.
    key = [found.st_dev, found.st_ino, found.st_mtime_ns, room.f_files - room.f_ffree]
    figures = None if refresh else cache.get(path, key)
    if figures is None:
        figures = _walk(usage, path)
        if figures is None:
            return usage
        cache.put(path, {"key": key, **figures})
    else:
        usage.cached = True
    usage.disk_bytes, usage.apparent_bytes = figures["disk_bytes"], figures["apparent_bytes"]
    usage.files, usage.directories = figures["files"], figures["directories"]
    usage.other_filesystem, usage.measured_at = figures["other_filesystem"], figures["measured_at"]
    return usage


def _walk(usage: Usage, path: str) -> dict[str, int] | None:
    from pydokku.treewalk import measure

    if not os.path.isdir(path):
        usage.state, usage.problem = UNREADABLE, f"{path} is not a directory"
        return None
    try:
        size = measure(path)
    except OSError as error:
        usage.state, usage.problem = UNREADABLE, f"{error.filename or path}: {error.strerror}"
        usage.walk_failed = True
        return None
    return {
        "disk_bytes": size.disk_bytes, "apparent_bytes": size.apparent_bytes, "files": size.files,
        "directories": size.directories, "other_filesystem": size.other_filesystem, "measured_at": int(time.time()),
    }  # fmt: skip


def usages(context: Context, chosen: list[tuple[Entry, int]], *, refresh: bool = False) -> list[Usage]:
    """Usage of every (entry, last snapshot time), measured with no transaction open."""
    cache = UsageCache(context.paths.lib_root)
    found = [measure_entry(context, entry, last, cache, refresh=refresh) for entry, last in chosen]
    cache.save()
    return found


def last_snapshots(tx: Tx, chosen: list[Entry]) -> list[tuple[Entry, int]]:
    from pydokku.store import backups as backup_store

    return [(entry, backup_store.status(tx, entry.id).finished_at) for entry in chosen]


def rows(usage: Usage, now: int) -> list[tuple[str, str]]:
    """The labelled rows storage:info adds."""
    if usage.state != MEASURED:
        shown = [("Used", usage.problem or usage.used_text())]
    else:
        shown = [
            ("Used", f"{human_bytes(usage.disk_bytes)} ({usage.disk_bytes} bytes)"),
            ("Files", f"{counted(usage.files, 'file')}, {counted(usage.directories, 'directory')}"),
            ("Measured", iso(usage.measured_at) + (" (cached)" if usage.cached else "")),
        ]
    return [*shown, ("Free", usage.free_text()), ("Last snapshot", usage.snapshot_text(now))]


def select(tx: Tx, names: list[str], app_name: str | None) -> list[Entry]:
    """The entries storage:usage reports: those named, those an app mounts, or all."""
    from pydokku.plugins import apps
    from pydokku.plugins.storage import require_entry
    from pydokku.store import storage as storage_store

    if names and app_name is not None:
        raise DokkuError("Specify storage entry names or --app, not both")
    if app_name is not None:
        app = apps.require(tx, app_name)
        seen = {a.entry.id: a.entry for a in storage_store.attachments(tx, [app.id]).get(app.id, [])}
        return list(seen.values())
    if names:
        return [require_entry(tx, name) for name in dict.fromkeys(names)]
    return storage_store.entries(tx)


def usage(context: Context, args: ParsedArgs) -> None:
    """storage:usage [<name>...|--app <app>|--all] [--refresh] [--format text|json]: largest first."""
    from pydokku.console import list_format

    fmt = list_format(args.value("format"))
    names = args.positionals
    app_name = context.flags.app  # --app is a global flag
    if args.has("all") and (names or app_name is not None):
        raise DokkuError("Specify --all alone, without storage entry names or --app")
    with context.store.read() as tx:
        chosen = last_snapshots(tx, select(tx, names, app_name))
    found = usages(context, chosen, refresh=args.has("refresh"))
    found.sort(key=lambda u: (-u.disk_bytes, u.name))
    now = int(time.time())
    if fmt == "json":
        shown = [{"name": u.name, "host_path": u.host_path, **u.as_json(now)} for u in found]
        context.console.line(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        _table(context, found, now)
    failed = [u for u in found if u.walk_failed]
    if failed:
        raise DokkuError(
            f"Unable to measure {counted(len(failed), 'storage entry')}: {'; '.join(u.problem for u in failed)}"
        )


def _table(context: Context, found: list[Usage], now: int) -> None:
    from pydokku.console import columnize

    if not found:
        context.console.header("No storage entries registered")
        return
    context.console.header("Storage usage")
    table = [("Name", "Used", "Files", "Free", "Last snapshot", "Host path")]
    for u in found:
        files = str(u.files) if u.state == MEASURED else "-"
        table.append((u.name, u.used_text(), files, u.free_text(), u.snapshot_text(now), u.host_path))
    context.console.lines("       " + line for line in columnize(table))
