"""The host's cron file for scheduled backups, rewritten from the state after every change to it.

One line per entry that has a schedule (its own, or the global one it inherits): a backup, then the
retention when one is set. The file is replaced atomically and removed when no entry is scheduled.
"""

from __future__ import annotations

import os
import sys

from pydokku.errors import DokkuError
from pydokku.store import backups as backup_store
from pydokku.store import storage as storage_store
from pydokku.text import shell_quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.context import Context

DEFAULT_CRON_FILE = "/etc/cron.d/pydokku-storage-backup"
CRON_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def cron_file() -> str:
    return os.environ.get("DOKKU_BACKUP_CRON_FILE") or DEFAULT_CRON_FILE


def _dokku() -> str:
    """This dokku, by absolute path: cron's PATH may not find it."""
    import shutil

    if os.path.basename(sys.argv[0]) == "dokku" and os.path.isfile(sys.argv[0]):
        return os.path.abspath(sys.argv[0])
    beside_python = os.path.join(os.path.dirname(sys.executable), "dokku")  # run as `python -m pydokku`
    if os.path.isfile(beside_python):
        return beside_python
    return shutil.which("dokku") or "dokku"


def _cron_escape(command: str) -> str:
    return command.replace("%", "\\%")  # cron turns an unescaped % into a newline


def render(context: Context) -> str:
    """The file's content for the current state ("" when no entry is scheduled)."""
    from pydokku.plugins.storage.backup.settings import RETENTION

    with context.store.read() as tx:
        schedules = backup_store.scheduled(tx)
        if not schedules:
            return ""
        entries = storage_store.entries(tx)
        global_values = backup_store.settings(tx, None)
        own = {entry.id: backup_store.settings(tx, entry.id) for entry in entries}
    dokku = shell_quote(_dokku())
    lines = []
    for entry in entries:
        expression = schedules.get(entry.id) or schedules.get(None)
        if not expression:
            continue
        name = shell_quote(entry.name)
        command = f"{dokku} storage:backup {name}"
        if any(own[entry.id].get(key) or global_values.get(key) for key in RETENTION):
            command += f" && {dokku} storage:backup-prune {name}"
        lines.append(f"{expression} root {_cron_escape(command)}")
    if not lines:
        return ""
    header = [
        "# Scheduled backups of pydokku storage entries (dokku storage:backup-set <entry>|--global schedule <cron>).",
        "# Rewritten from pydokku's state at every change: edit the schedules with dokku, not this file.",
        "SHELL=/bin/sh",
        f"PATH={CRON_PATH}",
        f"DOKKU_LIB_ROOT={context.paths.lib_root}",
        f"DOKKU_ROOT={context.paths.dokku_root}",
    ]
    return "\n".join(header + lines) + "\n"


def sync(context: Context) -> None:
    """Make the cron file match the state (atomically; nothing is written when it already does)."""
    path = cron_file()
    content = render(context)
    try:
        _write(path, content)
    except OSError as error:
        raise DokkuError(
            f"The backup schedule is recorded, but the cron file {path} could not be written"
            f" ({error.strerror}); fix that, then run any storage:backup-set again to rewrite it"
        ) from error


def _write(path: str, content: str) -> None:
    try:
        with open(path, encoding="utf-8") as file:
            if file.read() == content:
                return
    except FileNotFoundError:
        if not content:
            return
    if not content:
        os.unlink(path)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, content.encode())
        os.fchmod(fd, 0o644)  # cron ignores files writable by group or others
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
