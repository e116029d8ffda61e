"""storage:export and storage:import: a storage entry's content as a tar stream, out and back in."""

from __future__ import annotations

import os
import sys

from pydokku.errors import DokkuError
from pydokku.plugins.storage import archive, entries

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store.storage import Entry


def _entry(context: Context, name: str) -> tuple[Entry, list[str]]:
    from pydokku.plugins.storage import mounted_by, require_entry

    with context.store.read() as tx:
        entry = require_entry(tx, name)
        return entry, mounted_by(tx, entry)


class NotOnThisHost(DokkuError):
    """A volume whose data is no directory on this host (another driver, or the local driver with a
    `device`: NFS, tmpfs, a bind): read through a container, never replaced in place."""

    def __init__(self, entry: Entry, volume: dict[str, Any]) -> None:
        device = ", with a device" if "device" in (volume.get("Options") or {}) else ""
        super().__init__(
            f'storage entry "{entry.name}": docker volume {entry.host_path} (driver {volume.get("Driver")}{device})'
            " is not a directory on this"
            " host: it is read through a container (storage:export, storage:backup) but not replaced in place;"
            " restore it elsewhere (storage:backup-restore --to <dir>) and copy it in with storage:exec"
        )
        self.volume = entry.host_path


def content_directory(context: Context, entry: Entry) -> str:
    """Where the entry's content lives on this host: its directory, or a plain local-driver volume's data
    (NotOnThisHost for other volumes); a swarm entry's is on no directory here."""
    entries.check_on_this_host(entry)
    if not entries.is_volume(entry.host_path):
        return entry.host_path
    volume = context.engine.volume(entry.host_path)
    if volume is None:
        raise DokkuError(f'storage entry "{entry.name}": docker volume {entry.host_path} does not exist')
    if volume.get("Driver") != "local" or "device" in (volume.get("Options") or {}):
        raise NotOnThisHost(entry, volume)
    return str(volume["Mountpoint"])


def export(context: Context, args: ParsedArgs) -> None:
    compress = args.value("compress") or "none"
    if compress not in archive.COMPRESSORS:
        raise DokkuError(f'--compress must be "zstd", "gzip" or "none": "{compress}"')
    if sys.stdout.isatty():
        raise DokkuError("Refusing to write an archive to a terminal; redirect standard output to a file or a pipe")
    entry, _ = _entry(context, args.positional(0))
    context.console.out.flush()
    try:
        directory = content_directory(context, entry)
    except NotOnThisHost as far:
        from pydokku.plugins.storage import volume_io

        with volume_io.stream_out(context, far.volume) as command:
            _export(context, command, compress)
        return
    if not os.path.isdir(directory):
        raise DokkuError(f'storage entry "{entry.name}" host path {directory} does not exist')
    _export(context, archive.tar_command(directory), compress)


def _export(context: Context, command: list[str], compress: str) -> None:
    """The stream to standard output; its progress on stderr only when that is a terminal."""
    err = context.console.err
    if not err.isatty():
        archive.export(command, compress, sys.stdout.fileno())
        return
    from pydokku.text import human_bytes

    def show(written: int) -> None:
        err.write(f"\r       {human_bytes(written)} written ")
        err.flush()

    archive.export(command, compress, sys.stdout.fileno(), show)
    err.write("\n")


def import_stream(context: Context, args: ParsedArgs) -> None:
    """Extract into a staging directory beside the entry, check it, then swap it in atomically; the
    previous content is kept beside it (or removed with --discard-previous)."""
    if args.has("keep-previous") and args.has("discard-previous"):
        raise DokkuError("--keep-previous and --discard-previous cannot be combined")
    if sys.stdin.isatty():
        raise DokkuError("Refusing to read an archive from a terminal; redirect standard input from a file or a pipe")
    entry, users = _entry(context, args.positional(0))
    from pydokku.locks import entry_lock
    from pydokku.plugins.storage.backup.quiesce import interrupts_raise

    # Under the entry's lock (not while a backup reads it or a restore replaces it), with SIGTERM and
    # SIGHUP unwinding like Ctrl-C, so that the staging directory is removed however the import ends.
    with entry_lock(context, entry.name), interrupts_raise():
        _import_into(context, args, entry, users)


def _import_into(context: Context, args: ParsedArgs, entry: Entry, users: list[str]) -> None:
    try:
        directory = content_directory(context, entry)
    except NotOnThisHost as far:
        _import_volume(context, args, entry, far.volume)
        return
    if os.path.islink(directory):
        raise DokkuError(f"{directory} is a symbolic link; refusing to import through it")
    exists = os.path.isdir(directory)
    if exists and os.listdir(directory) and not args.has("replace"):
        raise DokkuError(
            f'storage entry "{entry.name}" is not empty ({directory}); pass --replace to replace its content'
        )
    archive.remove_stale_staging(context.console, directory, "import")
    staging = archive.staging_beside(directory, "import")
    try:
        archive.match_root(staging, directory, int(entry.mode or "755", 8), None)
        cleared = archive.extract(sys.stdin.fileno(), staging)
        if not exists:
            os.rename(staging, directory)
        else:
            archive.exchange(staging, directory)  # staging now holds the previous content
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    console = context.console
    console.header(f"Imported into storage entry {entry.name} ({directory})")
    if cleared:
        console.detail(archive.privileges_text(cleared))
    kept = archive.set_aside(staging, directory, discard=args.has("discard-previous")) if exists else ""
    if kept:
        console.detail(f"Previous content kept in {kept}")
    if users:
        console.detail(
            f"Running containers of {', '.join(users)} still see the previous content until restarted"
            " (dokku ps:restart <app>)"
        )


def _import_volume(context: Context, args: ParsedArgs, entry: Entry, volume: str) -> None:
    """Checked extraction into a folder of our own, then into the volume through a container
    (volume_io: resumable steps; the apps see the new content at once, there is no restart to wait for)."""
    import shutil

    from pydokku.plugins.storage import volume_io

    staging = volume_io.scratch(context, f"{entry.name}.import")
    try:
        cleared = archive.extract(sys.stdin.fileno(), staging)
        kept = volume_io.replace(
            context, volume, staging, replace_content=args.has("replace"), discard=args.has("discard-previous")
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    console = context.console
    console.header(f"Imported into storage entry {entry.name} (docker volume {volume})")
    if cleared:
        console.detail(archive.privileges_text(cleared))
    if kept:
        console.detail(volume_io.kept_text(kept, entry.name))
