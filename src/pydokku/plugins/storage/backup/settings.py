"""Backup properties: their validation, and the values that apply to an entry (pure, but for reads)."""

from __future__ import annotations

import os

from pydokku.errors import DokkuError
from pydokku.store import backups as backup_store
from pydokku.store.secrets import GLOBAL, Secrets, entry_scope
from pydokku.text import has_control_characters

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.context import Paths
    from pydokku.store import Tx
    from pydokku.store.storage import Entry

RETENTION = ("keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly")
# Properties kept in the state database; `passphrase` is a secret, kept apart (store/secrets.py).
STORED = ("repository", "quiesce", "compression", "sftp-command", *RETENTION, "schedule")
PROPERTIES = tuple(sorted((*STORED, "passphrase")))
QUIESCE = ("none", "pause", "stop")
# `off` by default: measured 30-40 % faster than restic's `auto` on 2 cores, for a repository ~15 % bigger.
COMPRESSION = ("off", "auto", "max")
DEFAULTS = {"quiesce": "none", "compression": "off"}
REMOTE_SCHEMES = ("sftp:", "s3:", "rest:", "rclone:", "b2:", "azure:", "gs:", "swift:")
CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
CRON_NAMES: tuple[tuple[str, ...], ...] = ((), (), (), MONTHS, WEEKDAYS)
CRON_MACROS = ("@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually")
CREDENTIAL_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


MASK = "***"  # as restic masks a repository's password


def masked(repository: str) -> str:
    """A repository address as it may be shown: the password of a URL (`rest:http://user:pw@host/`) or of
    an sftp address (`sftp:user:pw@host:/path`) masked, as restic does."""
    import re

    return re.sub(r"^(sftp:(?://)?[^:@/]*:|.*?://[^:@/]*:)[^@/]*@", rf"\g<1>{MASK}@", repository)


def masked_command(command: str) -> str:
    """An sftp-command as it may be shown: a password given to it (`sshpass -p pw`, `-ppw`, `password=pw`,
    a URL's) masked."""
    import re
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:
        return MASK
    shown = []
    masked_one = not (words and words[0].endswith("sshpass"))  # sshpass's own `-p`, the first one
    for index, word in enumerate(words):
        if not masked_one and index and words[index - 1] == "-p":
            word, masked_one = MASK, True
        elif not masked_one and word.startswith("-p") and len(word) > 2:
            word, masked_one = "-p" + MASK, True
        word = re.sub(r"(?i)(pass(?:word)?=)\S*", rf"\g<1>{MASK}", word)
        word = re.sub(r"(://[^:@/\s]*:)[^@/\s]*@", rf"\g<1>{MASK}@", word)
        shown.append(word if MASK in word else shlex.quote(word))
    return " ".join(shown)


def default_repository(paths: Paths) -> str:
    return os.path.join(paths.lib_root, "data", "backups")


def is_local(repository: str) -> bool:
    return repository.startswith("/") or repository.startswith("local:")


def local_path(repository: str) -> str:
    return repository.removeprefix("local:")


def check(key: str, value: str) -> None:
    """Refuse a value a property cannot take (the messages name what it can)."""
    if has_control_characters(value):
        raise DokkuError(f"{key} cannot contain control characters")
    if key == "repository":
        if not (is_local(value) or value.startswith(REMOTE_SCHEMES)):
            raise DokkuError(
                f'repository "{value}" must be an absolute path or a restic repository'
                f" ({', '.join(s + '…' for s in REMOTE_SCHEMES)})"
            )
        if is_local(value) and ".." in local_path(value).split("/"):
            raise DokkuError(f'repository "{value}" cannot contain ".." segments')
    elif key == "quiesce" and value not in QUIESCE:
        raise DokkuError(f'quiesce must be one of {", ".join(QUIESCE)}: "{value}"')
    elif key == "compression" and value not in COMPRESSION:
        raise DokkuError(f'compression must be one of {", ".join(COMPRESSION)}: "{value}"')
    elif key in RETENTION and not (value.isascii() and value.isdigit() and 0 < int(value) <= 1_000_000):
        raise DokkuError(f'{key} must be a whole number from 1 to 1000000: "{value}"')
    elif key == "schedule":
        check_cron(value)
    elif key == "passphrase" and len(value) < 8:
        raise DokkuError("passphrase must be at least 8 characters long")


def check_cron(expression: str) -> None:
    """A cron schedule: five fields (numbers, `*`, ranges, steps, lists, month/day names) or a macro."""
    if expression in CRON_MACROS:
        return
    fields = expression.split()
    if len(fields) != 5:
        raise DokkuError(
            f'schedule must be a cron expression of five fields (minute hour day month weekday): "{expression}"'
        )
    for field, (low, high), names in zip(fields, CRON_RANGES, CRON_NAMES, strict=True):
        for part in field.split(","):
            span, _, step = part.partition("/")
            if step and not (step.isascii() and step.isdigit() and int(step) > 0):
                raise DokkuError(f'schedule field "{field}" has an invalid step: "{expression}"')
            if span == "*":
                continue
            for bound in span.split("-", 1):
                number = _cron_number(bound, low, names)
                if number is None or not low <= number <= high:
                    raise DokkuError(f'schedule field "{field}" is out of range {low}-{high}: "{expression}"')


def _cron_number(bound: str, low: int, names: tuple[str, ...]) -> int | None:
    if bound.lower() in names:
        return names.index(bound.lower()) + low  # months count from 1, weekdays from 0 (Sunday)
    return int(bound) if bound.isascii() and bound.isdigit() else None


def check_credential(pair: str) -> tuple[str, str]:
    name, equals, value = pair.partition("=")
    if not equals or not name or not set(name) <= CREDENTIAL_NAME_CHARACTERS or name[0].isdigit():
        raise DokkuError(
            f"Credentials are given as KEY=VALUE, KEY in capitals, digits and underscores: {name or pair!r}"
        )
    if has_control_characters(value):
        raise DokkuError(f"The value of {name} cannot contain control characters")
    return name, value


class Resolved:
    """What applies to one entry (or the global scope): each property's own, global and computed value,
    the secrets restic gets in its environment, and where the passphrase comes from."""

    def __init__(self, own: dict[str, str], global_values: dict[str, str], default_repository: str) -> None:
        self.own = own
        self.global_values = global_values
        self.computed = {key: own.get(key) or global_values.get(key) or DEFAULTS.get(key, "") for key in STORED}
        self.computed["repository"] = self.computed["repository"] or default_repository
        self.credentials: dict[str, str] = {}
        self.passphrase = ""
        self.passphrase_source = ""  # "entry", "global", or "" (generated, in key_file)
        self.key_file = ""

    @property
    def repository(self) -> str:
        return self.computed["repository"]

    @property
    def retention(self) -> dict[str, str]:
        return {key: self.computed[key] for key in RETENTION if self.computed[key]}


def resolve(tx: Tx, paths: Paths, entry: Entry | None) -> Resolved:
    """The settings of an entry (None: the global scope), read in the caller's transaction."""
    global_values = backup_store.settings(tx, None)
    own = backup_store.settings(tx, entry.id) if entry is not None else global_values
    resolved = Resolved(own, global_values, default_repository(paths))
    secrets = Secrets(paths.lib_root)
    scopes = [GLOBAL] if entry is None else [GLOBAL, entry_scope(entry.name)]
    for scope in scopes:  # the entry's secrets override the global ones
        stored = secrets.read(scope)
        resolved.credentials.update(stored.get("credentials", {}))
        passphrase = stored.get("passphrase", {}).get("value", "")
        if passphrase:
            resolved.passphrase, resolved.passphrase_source = passphrase, "global" if scope == GLOBAL else "entry"
    resolved.key_file = secrets.generated_key_file(resolved.repository)
    return resolved
