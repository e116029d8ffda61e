"""storage:backup-report: each entry's backup settings (its own, the global ones, what applies), where
its passphrase is, whether its repository survives the loss of the disk, and its last snapshot and error."""

from __future__ import annotations

import os
import time

from pydokku import report
from pydokku.errors import DokkuError
from pydokku.plugins.storage.backup import settings as backup_settings
from pydokku.store import backups as backup_store
from pydokku.store import storage as storage_store
from pydokku.store.secrets import GLOBAL, Secrets, entry_scope
from pydokku.text import age_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.plugins.storage.backup.settings import Resolved
    from pydokku.store import Tx
    from pydokku.store.storage import Entry


def backup_report(context: Context, args: ParsedArgs) -> int:
    from pydokku.plugins.storage import require_entry

    request = report.ReportRequest.from_args(args)
    with context.store.read() as tx:
        if args.has("global"):
            if request.app:
                raise DokkuError("--global cannot be combined with a storage entry")
            subjects: list[tuple[str, dict[str, str]]] = [("global", _global_values(tx, context))]
        else:
            chosen = [require_entry(tx, request.app)] if request.app else storage_store.entries(tx)
            subjects = [(entry.name, _entry_values(tx, context, entry)) for entry in chosen]
    if not subjects:
        from pydokku.plugins.storage.backup.subcommands import NO_ENTRIES

        context.console.warn(NO_ENTRIES)
        return 0
    for name, values in subjects:
        report.render(context.console, "backup", name, values, request)
    return 0


def _global_values(tx: Tx, context: Context) -> dict[str, str]:
    resolved = backup_settings.resolve(tx, context.paths, None)
    values = {f"backup-{key}": resolved.global_values.get(key, "") for key in backup_settings.STORED}
    values.update({f"backup-computed-{key}": resolved.computed[key] for key in backup_settings.STORED})
    values["backup-passphrase"] = _passphrase_text(resolved)
    values["backup-credentials"] = " ".join(sorted(Secrets(context.paths.lib_root).read(GLOBAL).get("credentials", {})))
    values["backup-location"] = _location_text(resolved.repository, context.paths.storage_root)
    return _masked(values)


def _entry_values(tx: Tx, context: Context, entry: Entry) -> dict[str, str]:
    resolved = backup_settings.resolve(tx, context.paths, entry)
    values = {}
    for key in backup_settings.STORED:
        values[f"backup-{key}"] = resolved.own.get(key, "")
        values[f"backup-global-{key}"] = resolved.global_values.get(key, "")
        values[f"backup-computed-{key}"] = resolved.computed[key]
    secrets = Secrets(context.paths.lib_root)
    values["backup-passphrase"] = _passphrase_text(resolved)
    values["backup-credentials"] = " ".join(sorted(secrets.read(entry_scope(entry.name)).get("credentials", {})))
    values["backup-global-credentials"] = " ".join(sorted(secrets.read(GLOBAL).get("credentials", {})))
    values["backup-location"] = _location_text(resolved.repository, entry.host_path)
    status = backup_store.status(tx, entry.id)
    values["backup-last-snapshot"] = status.snapshot
    values["backup-last-time"] = _stamp(status.finished_at)
    values["backup-last-age"] = age_text(status.finished_at, int(time.time())) if status.finished_at else ""
    values["backup-last-summary"] = status.summary
    values["backup-last-error"] = status.error
    values["backup-last-error-time"] = _stamp(status.error_at)
    return _masked(values)


def _masked(values: dict[str, str]) -> dict[str, str]:
    """Passwords in repository addresses and sftp commands are never shown (restic masks them too)."""
    for key, value in values.items():
        if key.endswith("-sftp-command") and value:
            values[key] = backup_settings.masked_command(value)
        elif key.endswith("-repository") or key == "backup-last-error":
            values[key] = backup_settings.masked(value) if key.endswith("-repository") else _masked_in(value)
    return values


def _masked_in(text: str) -> str:
    """Every repository address inside a message, masked."""
    return " ".join(backup_settings.masked(word) for word in text.split(" "))


def _passphrase_text(resolved: Resolved) -> str:
    """Where the passphrase comes from; never the passphrase itself."""
    if resolved.passphrase_source == "entry":
        return "set for this storage entry"
    if resolved.passphrase_source == "global":
        return "set globally"
    if os.path.exists(resolved.key_file):
        return f"generated, kept in {resolved.key_file} (keep a copy away from this host)"
    return f"generated on the first backup, into {resolved.key_file}"


def _location_text(repository: str, data_path: str) -> str:
    """Plain words on whether a backup there survives the loss of this disk or host."""
    remote = "set a remote one with: dokku storage:backup-set --global repository sftp:<user>@<host>:<path>"
    if not backup_settings.is_local(repository):
        return "remote"
    if _device(backup_settings.local_path(repository)) == _device(data_path):
        return f"on the same disk as the data: a backup on the same disk is not a backup of the disk; {remote}"
    return f"on this host (another file system): it does not survive the loss of this host; {remote}"


def _device(path: str) -> int | None:
    """The device of a path, or of its nearest existing parent (a volume name: the Docker root)."""
    current = path if path.startswith("/") else "/var/lib/docker"
    while True:
        try:
            return os.stat(current).st_dev
        except OSError:
            if current in ("/", ""):
                return None
            current = os.path.dirname(current)


def _stamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds)) if seconds else ""
