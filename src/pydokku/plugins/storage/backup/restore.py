"""storage:backup-restore: a snapshot back into its entry, all or nothing.

restic restores into a fresh staging directory beside the entry (the same file system); the
containers that mount the entry are stopped, the staged tree and the entry are exchanged in one
atomic `renameat2(RENAME_EXCHANGE)`, and the containers started again one at a time. A journal
(`$DOKKU_LIB_ROOT/data/restores/<entry>.json`, replaced atomically at each step) says how far a
restore got, so that a restore interrupted at any moment (even by SIGKILL) is finished or rolled
back by the next one: the entry holds the old content or the new, never a mix. A volume that is no
directory on this host is restored into a folder of ours and written into the volume through a
container, in steps the next write resumes (volume_io).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time

from pydokku.errors import DokkuError
from pydokku.locks import entry_lock
from pydokku.plugins.storage import archive
from pydokku.plugins.storage.backup import settings as backup_settings
from pydokku.plugins.storage.backup.journal import Journal
from pydokku.plugins.storage.backup.quiesce import resume_left_behind, stop_holders
from pydokku.plugins.storage.backup.restic import ENTRY_TAG, Restic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.plugins.storage.backup.settings import Resolved
    from pydokku.store.storage import Entry


def restore(context: Context, args: ParsedArgs) -> None:
    name = args.positional(0)
    if args.has("all"):
        if name or args.value("to") is not None:
            raise DokkuError("--all restores every storage entry in place; it takes no entry, snapshot or --to")
        _restore_all(context, discard=args.has("discard-previous"))
        return
    if not name:
        raise DokkuError("Please specify a storage entry, or --all")
    _check_entry_name(name)
    snapshot = args.positional(1) or "latest"
    if args.has("keep-previous") and args.has("discard-previous"):
        raise DokkuError("--keep-previous and --discard-previous cannot be combined")
    target = args.value("to")
    if target is not None:
        _check_target(target)
    _restore_one(context, name, snapshot, target, discard=args.has("discard-previous"))


def _restore_one(
    context: Context, name: str, snapshot: str, target: str | None, *, discard: bool,
    listed: list[dict[str, object]] | None = None,
) -> None:  # fmt: skip
    """One entry's restore; `listed`: its snapshots, when the caller has already read them."""
    from pydokku.plugins.storage.backup.quiesce import interrupts_raise

    with entry_lock(context, name), interrupts_raise():
        resume_left_behind(context, name)
        entry, resolved, users = _load(context, name)
        restic = Restic(context.paths, resolved, context.console)
        if restic.exists_locally() is False:
            raise DokkuError(f"There are no backups in {restic.shown} yet")
        if target is not None:
            _restore_to(context, restic, name, snapshot, target)
            return
        _restore_entry(context, restic, name, entry, users, snapshot, discard=discard, listed=listed)


def _restore_all(context: Context, *, discard: bool) -> None:
    """Disaster recovery: the latest snapshot of every entry found in the global repository, into each
    entry that is missing or empty (one with content, or a non-empty directory where an entry comes back,
    is left alone, and said so). Every entry it can is restored; the end says which could not be."""
    from pydokku.plugins.storage.backup.restic import entry_of

    _, resolved, _ = _load(context, "")
    restic = Restic(context.paths, resolved, context.console)
    if restic.exists_locally() is False:
        raise DokkuError(f"There are no backups in {restic.shown} yet")
    listed: dict[str, list[dict[str, object]]] = {}
    for snapshot in restic.snapshots(None):  # oldest first, as each entry's own listing
        listed.setdefault(entry_of(snapshot), []).append(snapshot)
    names = sorted(set(listed) - {""})
    if not names:
        raise DokkuError(f"There are no backups of storage entries in {restic.shown}")
    failed = []
    for name in names:
        try:
            _restore_if_empty(context, restic, name, listed[name], discard=discard)
        except DokkuError as error:
            context.console.warn(error.message)
            failed.append(name if _valid_name(name) else json.dumps(name))
    if failed:
        raise DokkuError(f"{len(failed)} of {len(names)} storage entries could not be restored: {', '.join(failed)}")


def _restore_if_empty(
    context: Context, restic: Restic, name: str, listed: list[dict[str, object]], *, discard: bool
) -> None:
    from pydokku.plugins.storage.stream_commands import NotOnThisHost, content_directory

    if not _valid_name(name):  # a tag read from the repository is checked like a name typed by the operator
        raise DokkuError(
            f"A snapshot in {restic.shown} names storage entry {json.dumps(name)}, which is no valid entry name;"
            " it was skipped"
        )
    entry, _, _ = _load(context, name)
    try:
        if entry is not None:
            directory = content_directory(context, entry)
        else:
            directory = _recreated(context, restic, name, listed).directory
    except NotOnThisHost as far:
        context.console.warn(far.message)
        return
    if directory and (os.path.islink(directory) or (os.path.isdir(directory) and os.listdir(directory))):
        context.console.header(f"Leaving storage entry {name} as it is: {directory} is not empty")
        return
    _restore_one(context, name, "latest", None, discard=discard, listed=listed)


def _valid_name(name: str) -> bool:
    try:
        _check_entry_name(name)
    except DokkuError:
        return False
    return True


def _check_entry_name(name: str) -> None:
    """The name of an entry, existing or to come back: never a path (it names a lock and a journal)."""
    from pydokku.plugins.storage import entries
    from pydokku.text import only

    if len(name) > entries.MAX_NAME or not only(name, entries.DNS_LABEL):
        raise DokkuError(f'storage entry "{name}" does not exist')


def _load(context: Context, name: str) -> tuple[Entry | None, Resolved, list[str]]:
    from pydokku.plugins.storage import mounted_by
    from pydokku.store import storage as storage_store

    with context.store.read() as tx:
        entry = storage_store.entry(tx, name) if name else None
        users = mounted_by(tx, entry) if entry is not None else []
        return entry, backup_settings.resolve(tx, context.paths, entry), users


def _check_target(target: str) -> None:
    from pydokku.text import has_control_characters

    if has_control_characters(target):
        raise DokkuError(f"--to cannot contain control characters: {json.dumps(target)}")
    if not target.startswith("/") or ".." in target.split("/"):
        raise DokkuError(f"--to must be an absolute path without '..': {target}")
    if os.path.islink(target) or (os.path.exists(target) and not os.path.isdir(target)):
        raise DokkuError(f"--to {target} exists and is not a directory")
    if os.path.isdir(target) and os.listdir(target):
        raise DokkuError(f"--to {target} is not empty; choose an empty or a new directory")


def _restic_restore(restic: Restic, name: str, snapshot: str, staging: str) -> tuple[str, str]:
    console = restic.console
    """Restore into `staging`; return the snapshot's id and the one directory it holds."""
    selector = ["latest", "--tag", ENTRY_TAG + name] if snapshot == "latest" else [_snapshot_of(restic, name, snapshot)]
    outcome = restic.checked("restore", *selector, "--target", staging, what=f"restore storage entry {name}")
    restored = outcome.stdout.partition("<Snapshot ")[2].partition(" ")[0]
    children = os.listdir(staging)
    # lstat, not isdir: a snapshot whose top is a symlink must never become the entry (it would lead out).
    if len(children) != 1 or not stat.S_ISDIR(os.lstat(os.path.join(staging, children[0])).st_mode):
        raise DokkuError(
            f"Snapshot {restored or snapshot} does not hold one directory; it was not made by storage:backup"
        )
    tree = os.path.join(staging, children[0])
    try:
        cleared = archive.check_tree(tree)  # the same policy as storage:import
    except DokkuError as refused:
        raise DokkuError(
            f"Snapshot {restored or snapshot} of storage entry {name} was not restored:"
            + refused.message.removeprefix("The archive").replace("; refusing it", "")
        ) from None
    if cleared:
        console.detail(archive.privileges_text(cleared))
    return restored, tree


def _snapshot_of(restic: Restic, name: str, snapshot: str) -> str:
    """The full id of one of the entry's snapshots, given a unique prefix of it."""
    matching = [str(s.get("id", "")) for s in restic.snapshots(name) if str(s.get("id", "")).startswith(snapshot)]
    if len(matching) != 1:
        problem = "is not a backup of" if not matching else "names several backups of"
        raise DokkuError(f"Snapshot {snapshot} {problem} storage entry {name} (see storage:backup-list {name})")
    return matching[0]


def _restore_to(context: Context, restic: Restic, name: str, snapshot: str, target: str) -> None:
    """A copy of a snapshot in a directory of the operator's choosing; the entry and its apps untouched."""
    staging = archive.staging_beside(target, "restore")
    try:
        context.console.header(f"Restoring storage entry {name} ({snapshot}) into {target}")
        restored, tree = _restic_restore(restic, name, snapshot, staging)
        if os.path.isdir(target):
            os.rmdir(target)  # empty, checked before
        os.rename(tree, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    context.console.detail(f"Restored snapshot {restored} into {target}")


def _restore_entry(
    context: Context, restic: Restic, name: str, entry: Entry | None, users: list[str], snapshot: str, *,
    discard: bool, listed: list[dict[str, object]] | None,
) -> None:  # fmt: skip
    from pydokku.plugins.storage.stream_commands import NotOnThisHost, content_directory

    console = context.console
    journal = Journal(context, "restores", name)
    if journal.load():
        # An interrupted restore first (finished, or rolled back); then what was asked, unless that was
        # the very snapshot just finished.
        finished = recover(context, journal)
        if finished and snapshot != "latest" and journal.text("snapshot").startswith(snapshot):
            return
        journal = Journal(context, "restores", name)
    try:
        directory = content_directory(context, entry) if entry is not None else ""
    except NotOnThisHost as far:
        _restore_volume(context, restic, name, far.volume, users, snapshot, discard=discard)
        return
    recreated = _recreated(context, restic, name, listed) if entry is None else None
    host_path = entry.host_path if entry is not None else recreated.host_path  # type: ignore[union-attr]
    directory = directory or recreated.directory  # type: ignore[union-attr]
    if os.path.islink(directory):
        raise DokkuError(f"{directory} is a symbolic link; refusing to restore through it")
    exists = os.path.isdir(directory)
    if exists and os.listdir(directory) and not context.flags.force:
        from pydokku.console import confirm_destructive

        confirm_destructive(
            context.console, context.stdin, f"the current content of storage entry {name} ({directory})", name
        )
    staging = archive.staging_beside(directory, "restore")
    journal.state = {"entry": name, "directory": directory, "staging": staging, "discard": discard}
    journal.save(phase="restoring", snapshot=snapshot)
    console.header(f"Restoring storage entry {name} from {restic.shown} ({snapshot})")
    try:
        restored, tree = _restic_restore(restic, name, snapshot, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        journal.remove()
        raise
    journal.save(phase="staged", snapshot=restored, tree=tree, inode=os.lstat(tree).st_ino, existed=exists)
    stop_holders(context, name, users, directory)
    if exists:
        archive.exchange(tree, directory)
    else:
        os.rename(tree, directory)
    journal.save(phase="swapped")
    if entry is None:
        _record_entry(context, name, host_path)
    console.detail(f"Restored snapshot {restored} into {directory}")
    _finish(context, journal)


def _restore_volume(
    context: Context, restic: Restic, name: str, volume: str, users: list[str], snapshot: str, *, discard: bool
) -> None:
    """A volume that is no directory on this host: restored into a folder of our own, then written into
    the volume through a container in resumable steps (volume_io), its containers stopped meanwhile (and
    started by the next backup or restore of the entry if this one is killed)."""
    from pydokku.plugins.storage import volume_io

    if not context.flags.force:
        from pydokku.console import confirm_destructive

        confirm_destructive(
            context.console,
            context.stdin,
            f"the current content of storage entry {name} (docker volume {volume})",
            name,
        )
    console = context.console
    staging = volume_io.scratch(context, f"{name}.restore")
    console.header(f"Restoring storage entry {name} from {restic.shown} ({snapshot}) into docker volume {volume}")
    try:
        restored, tree = _restic_restore(restic, name, snapshot, staging)
        stop_holders(context, name, users, volume)
        kept = volume_io.replace(context, volume, tree, replace_content=True, discard=discard)
        console.detail(f"Restored snapshot {restored} into docker volume {volume}")
        if kept:
            console.detail(volume_io.kept_text(kept, name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        resume_left_behind(context, name, quiet=True)


def recover(context: Context, journal: Journal) -> bool:
    """Finish (True) or roll back (False) the restore a journal describes, whatever stopped it."""
    console = context.console
    name, directory = journal.text("entry"), journal.text("directory")
    swapped = journal.text("phase") == "swapped" or (
        journal.text("phase") == "staged" and _inode(directory) == journal.state.get("inode")
    )
    if swapped:
        console.header(
            f"Finishing the interrupted restore of storage entry {name} (snapshot {journal.text('snapshot')})"
        )
        _finish(context, journal)
        return True
    console.header(f"Rolling back the interrupted restore of storage entry {name}: {directory} keeps its content")
    shutil.rmtree(journal.text("staging"), ignore_errors=True)
    resume_left_behind(context, journal.text("entry"), quiet=True)
    journal.remove()
    return False


def _finish(context: Context, journal: Journal) -> None:
    """After the exchange: keep (or remove) the previous content, start the containers, forget the journal."""
    staging, tree, directory = journal.text("staging"), journal.text("tree"), journal.text("directory")
    if os.path.isdir(tree):  # the previous content, exchanged into the staging directory
        kept = archive.set_aside(tree, directory, discard=bool(journal.state.get("discard")))
        if kept:
            context.console.detail(f"Previous content kept in {kept}")
    shutil.rmtree(staging, ignore_errors=True)
    resume_left_behind(context, journal.text("entry"), quiet=True)
    journal.remove()


def _inode(path: str) -> int | None:
    try:
        return os.lstat(path).st_ino
    except OSError:
        return None


class _Recreated:
    """Where an entry that no longer exists comes back: its host path (a directory, or a docker volume's
    name) and the directory its content goes to."""

    __slots__ = ("directory", "host_path")

    def __init__(self, host_path: str, directory: str) -> None:
        self.host_path = host_path
        self.directory = directory


def _recreated(
    context: Context, restic: Restic, name: str, listed: list[dict[str, object]] | None = None
) -> _Recreated:
    """Disaster recovery onto empty state: a named entry at its default path; a legacy entry (a
    `host:container` mount) at the path it was named after, or, for a docker volume, in the volume it was
    named after (created again when missing)."""
    from pydokku.plugins.storage import entries
    from pydokku.store.schema import legacy_entry_name

    snapshots = restic.snapshots(name) if listed is None else listed
    if not snapshots:
        raise DokkuError(f'storage entry "{name}" does not exist, and {restic.shown} holds no backup of it')
    if not name.startswith(entries.LEGACY_PREFIX):
        entries.check_name(name)
        path = os.path.join(context.paths.storage_root, name)
        return _Recreated(path, path)
    paths = [str(path) for s in snapshots[-1:] for path in (s.get("paths") or [])]  # type: ignore[attr-defined]
    if len(paths) == 1 and legacy_entry_name(paths[0]) == name:
        return _Recreated(paths[0], paths[0])
    volume = _volume_of(snapshots[-1:], paths)
    if volume and legacy_entry_name(volume) == name:
        found = context.engine.volume(volume) or context.engine.create_volume(volume)
        return _Recreated(volume, str(found.get("Mountpoint", "")))
    where = f" (docker volume {volume}, at {paths[0]})" if volume else ""
    raise DokkuError(f'storage entry "{name}"{where} does not exist, and no backup of it says where it was')


def _volume_of(snapshots: list[dict[str, object]], paths: list[str]) -> str:
    """The docker volume a snapshot was taken of: its `volume:` tag, else a local volume's mount point
    (`…/volumes/<name>/_data`) as its path."""
    from pydokku.plugins.storage.backup.restic import VOLUME_TAG, tags_of

    tagged = [tag.removeprefix(VOLUME_TAG) for s in snapshots for tag in tags_of(s) if tag.startswith(VOLUME_TAG)]
    if tagged:
        return tagged[0]
    parts = paths[0].rstrip("/").split("/") if len(paths) == 1 else []
    return parts[-2] if len(parts) >= 3 and parts[-1] == "_data" and parts[-3] == "volumes" else ""


def _record_entry(context: Context, name: str, host_path: str) -> None:
    from pydokku.store import storage as storage_store

    with context.store.write() as tx:
        if storage_store.entry(tx, name) is None:
            storage_store.save_entry(tx, name, host_path, "", "", "", int(time.time()))
    context.console.detail(f"Created storage entry {name} at {host_path}")
