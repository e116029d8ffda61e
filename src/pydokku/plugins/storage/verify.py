"""storage:verify and storage:repair: what is wrong between the state, the disk and the engine, each
kind with a stable code, and the safe fixes.

Codes (stable: scripts match on them):
  missing-path             a mounted host path does not exist
  missing-volume           a mounted named volume does not exist
  wrong-owner              a mounted directory's owner is not the one its mount or entry asks for
  dead-legacy-entry        a `legacy-*` entry that no app mounts any more
  orphan-directory         a directory under the storage root that no storage entry names
  orphan-volume            a Docker volume labelled for an app that does not exist
  duplicate-docker-option  a docker-options `-v` at a container path an attachment already mounts
  mount-drift              a running container (or swarm service) whose mounts differ from what the next
                           deploy gives it
  linked-path              an entry's host path is a symbolic link (backups read where it leads; imports and
                           restores refuse to write through it)
  held-containers          containers an interrupted backup or restore stopped or paused, not resumed yet
  stale-staging            a staging directory an interrupted import or restore left beside its entry
  interrupted-move         a storage:move that was killed: its copies, helper jobs and stopped apps wait
  previous-copy            the previous content of an entry, kept beside it by an import --replace or an
                           in-place restore

storage:repair creates missing directories (with their mode, and their owner inside the storage root; never
through a symbolic link below the entry), re-owns directories inside the storage root, forgets dead legacy
entries (records only: the data stays), starts or unpauses held containers, and removes stale staging
directories (ours, never the entry's data), finishes an interrupted move whose copies were all verified
and undoes any other (as the next storage:move would), each under the entry's lock. Previous copies are
removed only when asked (--discard-previous [--older-than <age>]), after a typed confirmation. It never
deletes anything else; the rest is listed with what to do.
"""

from __future__ import annotations

import json
import os

from pydokku.errors import DokkuError
from pydokku.plugins.storage import app_mounts, attachment_spec, inside_storage_root
from pydokku.plugins.storage.entries import LEGACY_PREFIX
from pydokku.scheduler.plan import LABEL_APP, LABEL_PROCESS
from pydokku.text import counted

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.engine import Container
    from pydokku.plugins.storage import AppMounts
    from pydokku.store.apps import AppRow
    from pydokku.store.storage import Entry

MISSING_PATH = "missing-path"
MISSING_VOLUME = "missing-volume"
WRONG_OWNER = "wrong-owner"
DEAD_LEGACY = "dead-legacy-entry"
ORPHAN_DIRECTORY = "orphan-directory"
ORPHAN_VOLUME = "orphan-volume"
DUPLICATE_OPTION = "duplicate-docker-option"
DRIFT = "mount-drift"
LINKED_PATH = "linked-path"
HELD = "held-containers"
STALE_STAGING = "stale-staging"
INTERRUPTED_MOVE = "interrupted-move"
PREVIOUS_COPY = "previous-copy"

# What storage:repair does about a finding.
CREATE, CHOWN, FORGET, RESUME, REMOVE, SETTLE, DISCARD = (
    "create", "chown", "forget", "resume", "remove", "settle", "discard",
)  # fmt: skip
DEFAULT_MODE = "0755"


class Finding:
    """One problem: its code, the apps and entry it concerns, the path (or volume), what is wrong, and
    what storage:repair does about it ("" when it leaves it to the operator)."""

    __slots__ = ("apps", "base", "code", "detail", "entry", "mode", "owner", "path", "repair", "since")

    def __init__(self, code: str, path: str, detail: str, *, apps: list[str] | None = None, entry: str = "",
                 repair: str = "", owner: tuple[int, int] | None = None, mode: str = "",
                 base: str = "", since: int = 0) -> None:  # fmt: skip
        self.code = code
        self.path = path
        self.detail = detail
        self.apps = apps or []
        self.entry = entry
        self.repair = repair
        self.owner = owner
        self.mode = mode
        self.base = base  # create: the entry's own directory, below which no link is followed
        self.since = since  # previous-copy: when it was set aside (epoch seconds)

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code, "apps": self.apps, "entry": self.entry, "path": self.path, "detail": self.detail,
            "repairable": bool(self.repair),
        }  # fmt: skip


class Check:
    """Everything one verification looks at, read in one transaction."""

    def __init__(self, context: Context, app_name: str | None) -> None:
        from pydokku.plugins import apps, scheduler_docker_local
        from pydokku.store import apps as app_store
        from pydokku.store import storage as storage_store

        self.context = context
        self.whole = app_name is None  # global checks (orphans, dead records) only for the whole host
        with context.store.read() as tx:
            every_app = app_store.list_all(tx)
            self.apps: list[AppRow] = every_app if app_name is None else [apps.require(tx, app_name)]
            self.mounts: dict[int, AppMounts] = app_mounts(tx, self.apps)
            self.app_names = {app.name for app in every_app}
            self.entries: list[Entry] = storage_store.entries(tx)
            # What each app's last deploy gave its mounts (docker-local records it): the app user's owner.
            self.deploy_owners = {app.name: scheduler_docker_local.deploy_owners(tx, app) for app in self.apps}
        # Every attachment belongs to an app: with every app read, these are all the mounted entries.
        self.mounted_entry_ids = {a.entry.id for mounted in self.mounts.values() for a in mounted.attachments}
        self.findings: list[Finding] = []

    @property
    def entry_count(self) -> int:
        return len(self.entries) if self.whole else len(self.mounted_entry_ids)

    def run(self) -> list[Finding]:
        self._mounted_paths()
        for app in self.apps:
            self._duplicate_options(app, self.mounts[app.id])
        self._drift()
        self._entry_paths()
        self._held()
        self._moves()
        if self.whole:
            self._dead_legacy()
            self._orphan_directories()
            self._orphan_volumes()
        return self.findings

    def _mounted_paths(self) -> None:
        """Missing paths and volumes, and owners, once per mounted path (with every app mounting it)."""
        by_path: dict[str, tuple[Entry, str, list[str]]] = {}  # host → entry, the mount's --volume-chown, apps
        for app in self.apps:
            for attachment in self.mounts[app.id].attachments:
                entry = attachment.entry
                if entry.node or entry.scheduler == "docker-swarm" or not (attachment.deploy or attachment.run):
                    continue  # on a swarm node, not on this host
                host = attachment_spec(attachment).host
                _, _, users = by_path.setdefault(host, (entry, attachment.volume_chown, []))
                if app.name not in users:
                    users.append(app.name)
        volumes_checked: set[str] = set()
        for host, (entry, volume_chown, users) in by_path.items():
            if not host.startswith("/"):
                name = host.partition("/")[0]
                if name not in volumes_checked and self.context.engine.volume(name) is None:
                    self.findings.append(Finding(MISSING_VOLUME, name, f"docker volume {name} does not exist"
                                                 " (Docker creates it empty at the next deploy; restore its data"
                                                 " first if it was lost)", apps=users, entry=entry.name))  # fmt: skip
                volumes_checked.add(name)
                continue
            self._check_path(host, entry, volume_chown, users)

    def _check_path(self, host: str, entry: Entry, volume_chown: str, users: list[str]) -> None:
        inside = inside_storage_root(self.context.paths.storage_root, host)
        owner, who = self._expected_owner(host, entry, volume_chown, users, inside)
        try:
            found = os.stat(host)
        except FileNotFoundError:
            mode = entry.mode or DEFAULT_MODE
            self.findings.append(Finding(
                MISSING_PATH, host, f"{host} does not exist (a deploy refuses to start without it)", apps=users,
                entry=entry.name, repair=CREATE, owner=owner if inside else None, mode=mode, base=entry.host_path,
            ))  # fmt: skip
            return
        except OSError:
            return  # unreadable: not ours to judge
        if owner is None or (found.st_uid, found.st_gid) == owner:
            return
        root = self.context.paths.storage_root
        where = "" if inside else f"; it is outside the storage root ({root}): change it yourself"
        self.findings.append(Finding(
            WRONG_OWNER, host, f"{host} is owned by {found.st_uid}:{found.st_gid}, {who} asks for"
            f" {owner[0]}:{owner[1]}{where}", apps=users, entry=entry.name, repair=CHOWN if inside else "",
            owner=owner,
        ))  # fmt: skip

    def _expected_owner(self, host: str, entry: Entry, volume_chown: str, users: list[str],
                        inside: bool) -> tuple[tuple[int, int] | None, str]:  # fmt: skip
        """The owner a mounted directory should have, and who says so: the mount's --volume-chown, else
        the user the app runs as when its last deploy gave it the directory, else the entry's chown."""
        if volume_chown:
            return self._owner(volume_chown), f"its mount (--volume-chown {volume_chown})"
        if inside:
            for app_name in users:
                owner = self.deploy_owners.get(app_name, {}).get(host)
                if owner is not None:
                    return owner, f"the user {app_name} runs as (its last deploy gave it the mount)"
        return self._owner(entry.chown), f"its entry (chown {entry.chown})"

    def _owner(self, chown: str) -> tuple[int, int] | None:
        from pydokku.plugins.storage import chown_owner

        if not chown or chown == "false":
            return None
        try:
            return chown_owner(chown, self.context.engine.userns_offset())  # asked once per engine
        except DokkuError:
            return None  # a value from before the presets were checked: nothing to compare with

    def _checked_entries(self) -> list[Entry]:
        """The entries this verification covers whose data is a directory on this host."""
        from pydokku.plugins.storage.entries import is_volume

        return [
            entry for entry in self.entries
            if (self.whole or entry.id in self.mounted_entry_ids) and not entry.node
            and entry.scheduler != "docker-swarm" and not is_volume(entry.host_path)
        ]  # fmt: skip

    def _entry_paths(self) -> None:
        """Entry paths that are links, and staging directories interrupted imports and restores left."""
        from pydokku.plugins.storage import archive
        from pydokku.plugins.storage.backup.journal import Journal

        for entry in self._checked_entries():
            host = entry.host_path
            if os.path.islink(host):
                target = os.path.realpath(host)
                self.findings.append(Finding(
                    LINKED_PATH, host, f"{host} is a symbolic link to {target}: backups read {target}; imports and"
                    " restores refuse to write through it (make it the directory itself, or storage:set"
                    f" {entry.name} path {target})", entry=entry.name,
                ))  # fmt: skip
                continue
            self._previous(entry)
            purposes = ["import"] + ([] if Journal(self.context, "restores", entry.name).load() else ["restore"])
            for purpose in purposes:
                for path in archive.stale_staging(host, purpose):
                    self.findings.append(Finding(
                        STALE_STAGING, path, f"{path} was left by an interrupted {purpose} of {entry.name}",
                        entry=entry.name, repair=REMOVE, base=host, mode=purpose,
                    ))  # fmt: skip

    def _previous(self, entry: Entry) -> None:
        import time

        from pydokku.plugins.storage import archive
        from pydokku.text import age_text, human_bytes
        from pydokku.treewalk import measure

        now = int(time.time())
        for path, since in archive.previous_copies(entry.host_path):
            try:
                size = measure(path)
                held = f"{human_bytes(size.disk_bytes)}, {counted(size.files, 'file')}"
            except OSError as error:
                held = f"unreadable: {error.strerror}"
            self.findings.append(Finding(
                PREVIOUS_COPY, path, f"{path} is the previous content of {entry.name} ({held}), kept"
                f" {age_text(since, now)} ago by an import or restore; storage:repair --discard-previous removes it",
                entry=entry.name, since=since,
            ))  # fmt: skip

    def _held(self) -> None:
        from pydokku.plugins.storage.backup import quiesce

        for entry_name, held in quiesce.left_behind(self.context):
            if self.whole or any(e.name == entry_name for e in self._checked_entries()):
                self.findings.append(Finding(
                    HELD, entry_name, f"{held}, held by an interrupted {quiesce.held_by(self.context, entry_name)}"
                    f" of {entry_name}, are not running", entry=entry_name, repair=RESUME,
                ))  # fmt: skip

    def _moves(self) -> None:
        from pydokku.plugins.storage import move

        for journal in move.interrupted(self.context):
            entries = move.moved_entries(journal)
            if not (self.whole or any(entry_id in self.mounted_entry_ids for entry_id, _ in entries)):
                continue
            names = ", ".join(name for _, name in entries)
            ends = "finishes it" if move.finishable(journal) else "undoes it (not every copy was verified)"
            self.findings.append(Finding(
                INTERRUPTED_MOVE, journal.path, f"storage:move of {names} to node {journal.text('target')} was"
                f" interrupted; the next storage:move or storage:repair {ends}",
                entry=entries[0][1] if entries else "", repair=SETTLE,
            ))  # fmt: skip

    def _duplicate_options(self, app: AppRow, mounts: AppMounts) -> None:
        for phase in ("deploy", "run"):
            attached = {attachment_spec(a).target: a for a in mounts.attached(phase)}
            for spec in mounts.option_volumes.get(phase, []):
                attachment = attached.get(spec.target)
                if attachment is None:
                    continue
                self.findings.append(Finding(
                    DUPLICATE_OPTION, spec.host, f"docker-options ({phase}) -v {spec} mounts {spec.target}, which the"
                    f" attachment of {attachment.entry.name} mounts too; remove one:"
                    f" dokku docker-options:remove {app.name} {phase} \"-v {spec}\"", apps=[app.name],
                    entry=attachment.entry.name,
                ))  # fmt: skip

    def _drift(self) -> None:
        from pydokku import scheduler

        running = scheduler.running_mounts(self.context, [app.name for app in self.apps])
        for app in self.apps:
            for container in running.get(app.name, []):
                process_type = container.labels.get(LABEL_PROCESS, "web")
                expected = _expected(self.mounts[app.id], process_type)
                differences = _differences(expected, _actual(container))
                if differences:
                    self.findings.append(Finding(
                        DRIFT, container.name, f"{container.name} ({process_type}) {'; '.join(differences)};"
                        f" the next deploy changes that (dokku ps:restart {app.name})", apps=[app.name],
                    ))  # fmt: skip

    def _dead_legacy(self) -> None:
        for entry in self.entries:
            if entry.name.startswith(LEGACY_PREFIX) and entry.id not in self.mounted_entry_ids:
                self.findings.append(Finding(
                    DEAD_LEGACY, entry.host_path, f"{entry.name} records the mount of {entry.host_path}, which no app"
                    " has any more", entry=entry.name, repair=FORGET,
                ))  # fmt: skip

    def _orphan_directories(self) -> None:
        root = self.context.paths.storage_root
        named = [os.path.normpath(e.host_path) for e in self.entries if e.host_path.startswith("/") and not e.node]
        try:
            listing = sorted(os.scandir(root), key=lambda item: item.name)
        except OSError:
            return
        staging = tuple(f"{path}.{purpose}-" for path in named for purpose in ("import", "restore"))
        previous = {finding.path for finding in self.findings if finding.code == PREVIOUS_COPY}  # said already
        for item in listing:
            if not item.is_dir(follow_symlinks=False):
                continue
            if any(path == item.path or path.startswith(item.path + "/") for path in named):
                continue
            if os.path.join(root, item.name.removeprefix(".")).startswith(staging):
                continue  # an entry's staging directory: stale-staging says it
            if item.path in previous:
                continue  # an entry's previous copy: previous-copy says it
            self.findings.append(Finding(
                ORPHAN_DIRECTORY, item.path, f"{item.path} is under the storage root but no storage entry names it;"
                f" adopt it (dokku storage:create {item.name} {item.path}) or remove it yourself",
            ))  # fmt: skip

    def _orphan_volumes(self) -> None:
        for volume in self.context.engine.labelled_volumes(LABEL_APP):
            owner_app = (volume.get("Labels") or {}).get(LABEL_APP, "")
            if owner_app not in self.app_names:
                name = str(volume.get("Name", ""))
                self.findings.append(Finding(
                    ORPHAN_VOLUME, name, f"docker volume {name} is labelled for app {owner_app}, which does not"
                    f" exist; remove it yourself (docker volume rm {name}) once its data is not needed",
                ))  # fmt: skip


def _expected(mounts: AppMounts, process_type: str) -> dict[str, str]:
    """What the next deploy mounts in a container of this process type: container path → source."""
    specs = [attachment_spec(a) for a in mounts.attached("deploy", process_type)]
    specs += mounts.option_volumes.get("deploy", [])
    return {spec.target: _source("volume" if spec.is_volume else "bind", spec.host) for spec in specs if spec.container}


def _actual(container: Container) -> dict[str, str]:
    """What a running container mounts (anonymous volumes, tmpfs and the like left out)."""
    found = {}
    for mount in container.mounts:
        kind, name = mount.get("Type"), str(mount.get("Name") or "")
        if kind == "volume" and len(name) == 64 and all(c in "0123456789abcdef" for c in name):
            continue  # an image's anonymous VOLUME
        if kind in ("bind", "volume"):
            found[str(mount.get("Destination", ""))] = _source(kind, name if kind == "volume" else mount.get("Source"))
    return found


def _source(kind: str, where: object) -> str:
    text = str(where or "")
    return f"volume {text.partition('/')[0]}" if kind == "volume" else os.path.normpath(text)


def _differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    said = []
    for target in sorted(expected.keys() | actual.keys()):
        wanted, mounted = expected.get(target), actual.get(target)
        if wanted == mounted:
            continue
        if mounted is None:
            said.append(f"does not mount {wanted} at {target}")
        elif wanted is None:
            said.append(f"mounts {mounted} at {target}, which the next deploy does not")
        else:
            said.append(f"mounts {mounted} at {target} where the next deploy mounts {wanted}")
    return said


def _scope(args: ParsedArgs) -> str | None:
    name = args.positional(0)
    if name and args.has("all"):
        raise DokkuError("Specify an app or --all, not both")
    return name or None


def verify(context: Context, args: ParsedArgs) -> int:
    """storage:verify [<app>|--all] [--format text|json]: exit 1 when anything is found."""
    from pydokku.console import columnize, list_format

    fmt = list_format(args.value("format"))
    check = Check(context, _scope(args))
    findings = check.run()
    checked = {"apps": len(check.apps), "entries": check.entry_count}
    if fmt == "json":
        shown = {"checked": checked, "problems": [finding.as_json() for finding in findings]}
        context.console.line(json.dumps(shown, indent=2, ensure_ascii=False))
        return 1 if findings else 0
    summary = f"Checked {counted(checked['apps'], 'app')} and {counted(checked['entries'], 'storage entry')}"
    if not findings:
        context.console.header(f"{summary}: no problems")
        return 0
    context.console.header(f"{summary}: {counted(len(findings), 'problem')}")
    rows = [(f.code, ",".join(f.apps) or "-", f.entry or "-", f.detail) for f in findings]
    context.console.lines("       " + line for line in columnize([("Code", "Apps", "Entry", "Detail"), *rows]))
    repairable = sum(1 for finding in findings if finding.repair)
    if repairable:
        context.console.detail(f"storage:repair fixes {repairable} of them (see what it would do: --dry-run)")
    return 1


def repair(context: Context, args: ParsedArgs) -> None:
    """storage:repair [--dry-run] [--discard-previous [--older-than <age>]] [<app>|--all]: fix what is safe,
    list the rest; previous copies go only when asked."""
    dry_run = args.has("dry-run")
    age = args.value("older-than")
    older_than = _age_seconds(age) if age is not None else None
    if older_than is not None and not args.has("discard-previous"):
        raise DokkuError("--older-than only applies with --discard-previous")
    if dry_run and context.audit is not None:
        context.audit.acts = False  # a dry run changes nothing: it leaves no event
    findings = Check(context, _scope(args)).run()
    if args.has("discard-previous"):
        _to_discard(findings, older_than or 0)
    fixable = [finding for finding in findings if finding.repair]
    left = [finding for finding in findings if not finding.repair]
    if not findings:
        context.console.header("Nothing to repair")
        return
    discarded = [finding for finding in fixable if finding.repair == DISCARD]
    if discarded and not dry_run and not context.flags.force:
        from pydokku.console import confirm_destructive

        listed = ", ".join(finding.path for finding in discarded)
        confirm_destructive(context.console, context.stdin, f"{counted(len(discarded), 'previous copy')}: {listed}",
                            "discard-previous")  # fmt: skip
    if fixable:
        context.console.header("Storage repair (dry run: nothing changed)" if dry_run else "Repairing storage")
        _fix(context, fixable, dry_run)
    if left:
        context.console.header("Left as they are (storage:repair never deletes anything unless asked):")
        context.console.lines(f"       {finding.code}: {finding.detail}" for finding in left)


def _to_discard(findings: list[Finding], older_than: int) -> None:
    """--discard-previous: the previous copies at least `older_than` seconds old become repairs."""
    import time

    now = int(time.time())
    for finding in findings:
        if finding.code == PREVIOUS_COPY and now - finding.since >= older_than:
            finding.repair = DISCARD


def _age_seconds(text: str) -> int:
    """`7d`, `12h`, `30m`, `90s`, `2w` or a number of seconds."""
    import re

    matched = re.fullmatch(r"(\d{1,9})([smhdw]?)", text)
    if not matched:
        raise DokkuError(f"Invalid --older-than value: {text} (expected an age such as 7d, 12h, 30m or 90s)")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[matched.group(2)]
    return int(matched.group(1)) * unit


def _fix(context: Context, fixable: list[Finding], dry_run: bool) -> None:
    from pydokku.plugins.storage import say_hard_links
    from pydokku.store import storage as storage_store

    say = context.console.detail
    forget = [finding for finding in fixable if finding.repair == FORGET]
    for finding in fixable:
        owner = f"{finding.owner[0]}:{finding.owner[1]}" if finding.owner else ""
        if finding.repair == CREATE:
            made = f"{finding.path} (mode {finding.mode}" + (f", owner {owner})" if owner else ")")
            if dry_run:
                say(f"Would create {made}")
                continue
            _make_missing(finding)
            os.chmod(finding.path, int(finding.mode, 8))
            if finding.owner:
                os.chown(finding.path, *finding.owner, follow_symlinks=False)
            say(f"Created {made}")
        elif finding.repair == CHOWN and finding.owner:
            if dry_run:
                say(f"Would set the owner of {finding.path} to {owner}")
                continue
            from pydokku.ownership import set_tree_owner

            say(f"Setting the owner of {finding.path} to {owner}")
            say_hard_links(context.console, set_tree_owner(finding.path, *finding.owner))
        elif finding.repair in (RESUME, REMOVE):
            _clear_left_behind(context, finding, dry_run)
        elif finding.repair == DISCARD:
            _discard(context, finding, dry_run)
        elif finding.repair == SETTLE:
            from pydokku.plugins.storage import move

            if dry_run:
                say(f"Would settle the interrupted move ({finding.path})")
            else:
                move.settle_interrupted(context, only=os.path.basename(finding.path).removesuffix(".json"))
    for finding in forget:
        say(f"{'Would forget' if dry_run else 'Forgetting'} {finding.entry} (its data, if any, stays: {finding.path})")
    if forget and not dry_run:
        with context.store.write() as tx:
            for finding in forget:
                entry = storage_store.entry(tx, finding.entry)
                if entry is not None and not storage_store.attachments_of_entry(tx, entry.id):
                    storage_store.delete_entry(tx, entry.id)


def _discard(context: Context, finding: Finding, dry_run: bool) -> None:
    """A previous copy removed, under its entry's lock (an import or restore setting one aside is waited
    for), if it is still one of the entry's."""
    import shutil

    from pydokku.locks import entry_lock
    from pydokku.plugins.storage import archive, require_entry

    if dry_run:
        context.console.detail(f"Would remove {finding.path}")
        return
    with entry_lock(context, finding.entry):
        with context.store.read() as tx:
            host_path = require_entry(tx, finding.entry).host_path
        if finding.path in (path for path, _ in archive.previous_copies(host_path)):
            shutil.rmtree(finding.path)
            context.console.detail(f"Removed {finding.path}")


def _make_missing(finding: Finding) -> None:
    """A missing mounted directory: the entry's own directory (its parents as they are), then the subpath
    below it one component at a time, never through a symbolic link (which could lead out of the entry)."""
    from pydokku.plugins.storage import disk

    base = finding.base.rstrip("/")
    if not base or not finding.path.startswith(base + "/"):
        disk.make_directory(finding.path)
        return
    disk.make_directory(base)
    disk.make_subpath(finding.entry, base, finding.path[len(base) + 1 :])


def _clear_left_behind(context: Context, finding: Finding, dry_run: bool) -> None:
    """Held containers resumed, or a stale staging directory removed, under the entry's lock (a running
    backup, import or restore is waited for: then there may be nothing left to do)."""
    import shutil

    from pydokku.locks import entry_lock
    from pydokku.plugins.storage import archive
    from pydokku.plugins.storage.backup import quiesce

    say = context.console.detail
    if finding.repair == RESUME:
        if dry_run:
            say(f"Would start the containers held for {finding.entry}")
            return
        with entry_lock(context, finding.entry):
            quiesce.resume_left_behind(context, finding.entry, quiet=True)
        return
    if dry_run:
        say(f"Would remove {finding.path}")
        return
    with entry_lock(context, finding.entry):
        if finding.path in archive.stale_staging(finding.base, finding.mode):  # mode: the staging's purpose
            shutil.rmtree(finding.path)
            say(f"Removed {finding.path}")
