"""storage:backup* handlers: settings and credentials, snapshots, their list, retention and checks."""

from __future__ import annotations

import json
import os
import shutil
import time

from pydokku.console import list_format
from pydokku.errors import DokkuError
from pydokku.plugins.storage import entries
from pydokku.plugins.storage.backup import restic as restic_driver
from pydokku.plugins.storage.backup import settings as backup_settings
from pydokku.plugins.storage.backup.restic import APP_TAG, ENTRY_TAG, NO_REPOSITORY, VOLUME_TAG, Restic
from pydokku.store import backups as backup_store
from pydokku.store import storage as storage_store
from pydokku.store.secrets import GLOBAL, Secrets, entry_scope
from pydokku.text import human_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from typing import TextIO

    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.plugins.storage.backup.settings import Resolved
    from pydokku.store import Tx
    from pydokku.store.storage import Entry


NO_ENTRIES = "You haven't created any storage entries yet"


def _require_entry(tx: Tx, name: str) -> Entry:
    from pydokku.plugins.storage import require_entry

    if not name:
        raise DokkuError("Please specify a storage entry, or --global")
    return require_entry(tx, name)


def _scope(context: Context, args: ParsedArgs) -> tuple[Entry | None, int]:
    """The entry named first (or None with --global), and where the command's own arguments start."""
    if args.has("global"):
        return None, 0
    with context.store.read() as tx:
        return _require_entry(tx, args.positional(0)), 1


def _described(entry: Entry | None) -> str:
    return f"storage entry {entry.name}" if entry is not None else "every storage entry (global)"


def _secret_scope(entry: Entry | None) -> str:
    return GLOBAL if entry is None else entry_scope(entry.name)


# -- settings and credentials ---------------------------------------------------------------------


def set_property(context: Context, args: ParsedArgs) -> None:
    entry, first = _scope(context, args)
    key, value = args.positional(first), args.positional(first + 1)
    if not key:
        raise DokkuError("No property specified")
    if key not in backup_settings.PROPERTIES:
        raise DokkuError(
            f"Invalid property specified, valid properties include: {', '.join(backup_settings.PROPERTIES)}"
        )
    if len(args.positionals) > first + 2:
        raise DokkuError(f"Unexpected argument(s): [{' '.join(args.positionals[first + 2 :])}]")
    if key == "passphrase" and value == "-":
        value = context.stdin.readline().rstrip("\n")  # kept off the command line and the shell's history
    if value:
        backup_settings.check(key, value)
    console = context.console
    if key == "passphrase":
        if context.audit is not None:
            context.audit.acts = True  # a secret changes outside the database: the event says so
        Secrets(context.paths.lib_root).replace(_secret_scope(entry), "passphrase", {"value": value} if value else {})
        console.header(f"{'Setting' if value else 'Unsetting'} the backup passphrase of {_described(entry)}")
        return
    with context.store.write() as tx:
        entry_id = _require_entry(tx, entry.name).id if entry is not None else None
        backup_store.put(tx, entry_id, key, value or None)
    shown = backup_settings.masked(value) if key == "repository" else value
    shown = backup_settings.masked_command(value) if key == "sftp-command" and value else shown
    console.header(f"Setting {key} to {shown}" if value else f"Unsetting {key}")
    if key == "schedule" or key in backup_settings.RETENTION:
        from pydokku.plugins.storage.backup import schedule

        schedule.sync(context)


def auth(context: Context, args: ParsedArgs) -> None:
    entry, first = _scope(context, args)
    pairs = args.positionals[first:]
    if not pairs:
        raise DokkuError("Please specify credentials as KEY=VALUE (for example AWS_ACCESS_KEY_ID=…)")
    given = dict(backup_settings.check_credential(pair) for pair in pairs)
    secrets = Secrets(context.paths.lib_root)
    stored = secrets.read(_secret_scope(entry)).get("credentials", {})
    secrets.replace(_secret_scope(entry), "credentials", {**stored, **given})
    context.console.header(f"Setting backup credentials {', '.join(sorted(given))} of {_described(entry)}")


def deauth(context: Context, args: ParsedArgs) -> None:
    entry, first = _scope(context, args)
    names = args.positionals[first:]
    secrets = Secrets(context.paths.lib_root)
    credentials = secrets.read(_secret_scope(entry)).get("credentials", {})
    unknown = [name for name in names if name not in credentials]
    if unknown:
        raise DokkuError(f"No backup credential {', '.join(unknown)} is set for {_described(entry)}")
    removed = names or sorted(credentials)
    if not removed:
        context.console.header(f"No backup credentials are set for {_described(entry)}")
        return
    kept = {key: value for key, value in credentials.items() if key not in removed}
    secrets.replace(_secret_scope(entry), "credentials", kept)
    context.console.header(f"Removing backup credentials {', '.join(removed)} of {_described(entry)}")


# -- snapshots ------------------------------------------------------------------------------------


def _targets(context: Context, args: ParsedArgs) -> list[Entry]:
    """The entries a command works on: those named, those an app mounts (--app), or every one (--all)."""
    names = args.positionals
    with context.store.read() as tx:
        if args.has("all"):
            if names or context.flags.app:
                raise DokkuError("--all cannot be combined with entry names or --app")
            every = storage_store.entries(tx)
            if not every:
                context.console.warn(NO_ENTRIES)
            return every
        if context.flags.app is not None:
            from pydokku.plugins import apps

            app = apps.require(tx, context.flags.app)
            attached = {a.entry.name: a.entry for a in storage_store.attachments(tx, [app.id]).get(app.id, [])}
            mounted = [attached[name] for name in sorted(attached)]
            if not mounted:
                raise DokkuError(f"App {app.name} mounts no storage entry")
            return mounted + [_require_entry(tx, name) for name in names if name not in attached]
        if not names:
            raise DokkuError("Please specify a storage entry, --app <app> or --all")
        return [_require_entry(tx, name) for name in dict.fromkeys(names)]


def _prepared(context: Context, entry: Entry) -> tuple[Resolved, list[str]]:
    from pydokku.plugins.storage import mounted_by

    with context.store.read() as tx:
        current = _require_entry(tx, entry.name)
        return backup_settings.resolve(tx, context.paths, current), mounted_by(tx, current)


def _each(context: Context, entries: list[Entry], action: Callable[[Entry], None], verb: str) -> None:
    """Run `action` on every entry; one failure does not stop the others, and the end says which failed."""
    failed = []
    for entry in entries:
        try:
            action(entry)
        except DokkuError as error:
            if len(entries) == 1:
                raise
            context.console.warn(error.message)
            failed.append(entry.name)
    if failed:
        raise DokkuError(f"{len(failed)} of {len(entries)} {verb} failed: {', '.join(failed)}")


def backup(context: Context, args: ParsedArgs) -> None:
    entries = _targets(context, args)
    _each(context, entries, lambda entry: _backup_entry(context, entry), "backups")


def _backup_entry(context: Context, entry: Entry) -> None:
    from pydokku.locks import entry_lock
    from pydokku.plugins.storage.backup.quiesce import resume_left_behind

    with entry_lock(context, entry.name):
        resume_left_behind(context, entry.name)
        _snapshot(context, entry)


def _snapshot(context: Context, entry: Entry) -> None:
    import socket

    from pydokku.plugins.storage import volume_io
    from pydokku.plugins.storage.stream_commands import NotOnThisHost, content_directory

    resolved, users = _prepared(context, entry)
    restic = Restic(context.paths, resolved, context.console)
    console = context.console
    volume = ""
    linked = ""
    try:
        directory = content_directory(context, entry)
        if os.path.islink(directory):  # restic would store the link itself: back up what it leads to
            linked, directory = directory, os.path.realpath(directory)
        if not os.path.isdir(directory) or os.path.islink(directory):
            raise DokkuError(f'storage entry "{entry.name}" host path {linked or directory} does not exist')
    except NotOnThisHost as far:  # copied out through a container into a folder of ours, then backed up
        volume = far.volume
        directory = volume_io.scratch_path(context, f"{entry.name}.backup")
    existing = restic.exists_locally()
    if existing is False:
        restic.initialise()
    shown = f"docker volume {volume}, read through a container" if volume else directory
    if linked:
        shown = f"{linked}, a symbolic link to {directory}"
    console.header(f"Backing up storage entry {entry.name} ({shown}) to {restic.shown}")
    parent, base = os.path.split(directory.rstrip("/"))
    named = [ENTRY_TAG + entry.name, *(APP_TAG + app for app in users)]
    if entries.is_volume(entry.host_path):
        named.append(VOLUME_TAG + entry.host_path)
    tags = [arg for tag in named for arg in ("--tag", tag)]
    command = ("backup", "--json", "--host", socket.gethostname(), *tags, base)
    progress = _Progress(console.err)
    try:
        with _quiesced(context, entry.name, resolved.computed["quiesce"], volume or directory, users):
            if volume:
                volume_io.copy_out(context, volume, volume_io.scratch(context, base))
            outcome = restic.run(*command, cwd=parent or "/", on_line=progress.line)
            if outcome.code != 0 and existing is None and NO_REPOSITORY in outcome.stderr:
                progress.finish()
                restic.initialise()
                outcome = restic.run(*command, cwd=parent or "/", on_line=progress.line)
    finally:
        progress.finish()
        if volume:
            shutil.rmtree(directory, ignore_errors=True)
    summary = progress.summary
    now = int(time.time())
    if outcome.code not in (0, 3) or summary is None:
        message = f"Unable to back up storage entry {entry.name} to {restic.shown}: {outcome.failure()}"
        with context.store.write() as tx:
            backup_store.record_error(tx, _require_entry(tx, entry.name).id, message, now)
        raise DokkuError(message)
    text = _summary_text(summary)
    with context.store.write() as tx:
        current = _require_entry(tx, entry.name)
        backup_store.record_success(tx, current.id, str(summary.get("snapshot_id", "")), now, text)
        if outcome.code == 3:
            unread = outcome.failure()
            message = f"Snapshot {summary.get('snapshot_id')} is incomplete: some files could not be read: {unread}"
            backup_store.record_error(tx, current.id, message, now)
    console.detail(f"Snapshot {summary.get('snapshot_id')}: {text}")
    if outcome.code == 3:
        raise DokkuError(message)


def _summary_text(summary: dict[str, object]) -> str:
    def number(key: str) -> int:
        value = summary.get(key, 0)
        return int(value) if isinstance(value, int | float) else 0

    duration = summary.get("total_duration", 0)
    seconds = float(duration) if isinstance(duration, int | float) else 0.0
    return (
        f"{number('total_files_processed')} file{'s' * (number('total_files_processed') != 1)}"
        f" ({number('files_new')} new, {number('files_changed')} changed),"
        f" {human_bytes(number('total_bytes_processed'))}, {human_bytes(number('data_added'))} added, {seconds:.1f}s"
    )


class _Progress:
    """restic's JSON lines: the summary kept, the status shown on one line when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.summary: dict[str, object] | None = None
        self.shown = False

    def line(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("message_type") == "summary":
            self.summary = message
        elif self.tty and message.get("message_type") == "status":
            done, total = int(message.get("bytes_done", 0)), int(message.get("total_bytes", 0))
            percent = 100 * float(message.get("percent_done", 0))
            self.stream.write(f"\r       {percent:5.1f}% {human_bytes(done)} of {human_bytes(total)}" + " " * 10)
            self.stream.flush()
            self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.shown = False


def _quiesced(
    context: Context, entry: str, mode: str, directory: str, users: list[str]
) -> AbstractContextManager[None]:
    from pydokku.plugins.storage.backup.quiesce import quiesced

    return quiesced(context, entry, mode, directory, users)


def backup_list(context: Context, args: ParsedArgs) -> None:
    fmt = list_format(args.value("format"))
    with context.store.read() as tx:
        entry = _require_entry(tx, args.positional(0))
        resolved = backup_settings.resolve(tx, context.paths, entry)
    restic = Restic(context.paths, resolved, context.console)
    snapshots = [] if restic.exists_locally() is False else restic.snapshots(entry.name)
    shown = [
        {
            "id": str(s.get("short_id", "")),
            "full_id": str(s.get("id", "")),
            "time": _time_text(str(s.get("time", ""))),
            "host": str(s.get("hostname", "")),
            "apps": restic_driver.apps_of(s),
            "paths": s.get("paths", []),
        }
        for s in snapshots
    ]
    console = context.console
    if fmt == "json":
        console.line(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    from pydokku.console import columnize

    console.section(f"Backups of storage entry {entry.name} in {restic.shown}", always=True)
    if not shown:
        console.detail("No backups yet", always=True)
        return
    rows = [("ID", "Time", "Host", "Apps")] + [
        (str(s["id"]), str(s["time"]), str(s["host"]), ",".join(s["apps"]) or "-")  # type: ignore[arg-type]
        for s in shown
    ]
    console.lines("       " + row for row in columnize(rows))


def _time_text(stamp: str) -> str:
    """restic's RFC 3339 time with nanoseconds, as `YYYY-MM-DD HH:MM:SS` UTC."""
    return stamp[:19].replace("T", " ") if stamp else ""


def prune(context: Context, args: ParsedArgs) -> None:
    entries = _targets(context, args)
    _each(context, entries, lambda entry: _prune_entry(context, entry, many=len(entries) > 1), "prunes")


def _prune_entry(context: Context, entry: Entry, *, many: bool) -> None:
    resolved, _ = _prepared(context, entry)
    console = context.console
    retention = resolved.retention
    if not retention:
        if many:
            console.header(f"No retention is set for storage entry {entry.name}: every backup is kept")
            return
        raise DokkuError(
            f"No retention is set for storage entry {entry.name}; set one first, for example"
            f" storage:backup-set {entry.name} keep-daily 7"
        )
    restic = Restic(context.paths, resolved, console)
    if restic.exists_locally() is False:
        console.header(f"No backups of storage entry {entry.name} to prune")
        return
    policy = [arg for key, value in sorted(retention.items()) for arg in (f"--{key}", value)]
    console.header(
        f"Pruning backups of storage entry {entry.name} ({', '.join(f'{k} {v}' for k, v in sorted(retention.items()))})"
    )
    outcome = restic.checked(
        "forget", "--json", "--tag", ENTRY_TAG + entry.name, "--group-by", "", *policy, "--prune",
        what=f"prune the backups of storage entry {entry.name}",
    )  # fmt: skip
    groups = json.loads(outcome.stdout.splitlines()[0]) if outcome.stdout.strip() else []
    kept = sum(len(group.get("keep") or []) for group in groups)
    removed = sum(len(group.get("remove") or []) for group in groups)
    console.detail(f"Kept {kept} snapshot(s), removed {removed}")


def verify(context: Context, args: ParsedArgs) -> None:
    """restic's checks, once per repository the entries use."""
    entries = _targets(context, args)
    repositories: dict[str, tuple[Resolved, list[str]]] = {}
    for entry in entries:
        resolved, _ = _prepared(context, entry)
        repositories.setdefault(resolved.repository, (resolved, []))[1].append(entry.name)
    failed = []
    console = context.console
    for resolved, names in repositories.values():
        restic = Restic(context.paths, resolved, console)
        if restic.exists_locally() is False:
            console.header(f"No backup repository yet at {restic.shown} (storage entries: {', '.join(names)})")
            continue
        console.header(f"Checking the backup repository {restic.shown} (storage entries: {', '.join(names)})")
        outcome = restic.run("check", *(["--read-data"] if args.has("read-data") else []))
        lines = [line for line in (outcome.stdout + outcome.stderr).splitlines() if _worth_showing(line)]
        if outcome.code == 0:
            console.detail(lines[-1] if lines else "no errors were found")
            continue
        for line in lines:
            console.warn(line)
        failed.append(restic.shown)
    if failed:
        raise DokkuError(f"Backup repository check failed: {', '.join(failed)}")


def _worth_showing(line: str) -> bool:
    quiet = ("using temporary cache", "create exclusive lock", "load indexes", "check all packs", "check snapshots",
             "read all data", "[", "created new cache", "repository ")  # fmt: skip
    return bool(line.strip()) and not line.strip().startswith(quiet)
