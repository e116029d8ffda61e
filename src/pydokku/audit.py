"""The audit trail, as the CLI keeps it: who ran a command that changes state, with its arguments
(values that may be secrets redacted), the apps and entries it names, and its exit code. The event is
written by the command's first write transaction, so it lands with the change it describes (or not at
all); its exit code is added when the command ends. A command that wrote nothing leaves none,
unless it acts outside the database (Command.acts) and succeeded."""

from __future__ import annotations

import os
import re
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydokku.args import ParsedArgs
    from pydokku.registry import Command

REDACTED = "<redacted>"
# What a command changes, declared with it (registry.Command.audit): None looks only; "app" (its first
# argument, unless --global), "apps" (the first two), "entry" (the first, unless --global), "entries"
# (every argument), "app-entry" (an app, then an entry unless a `host:container` mount), "state" (names
# neither).
KINDS = (None, "app", "apps", "entry", "entries", "app-entry", "state")
# Commands whose KEY=VALUE arguments carry values to hide (config, backend credentials).
KEY_VALUES = frozenset({"config:set", "storage:backup-auth"})
# Properties whose value may hold a password (an sftp command with `sshpass -p …`), hidden whole.
SECRET_PROPERTIES = {"storage:backup-set": frozenset({"sftp-command", "passphrase"})}
# A password in a URL (`scheme://user:pw@`) or in an sftp address (`sftp:user:pw@host:`).
URL_PASSWORD = re.compile(r"(?P<head>(?:[A-Za-z][A-Za-z0-9+.-]*://|\bsftp:(?://)?)[^/:@\s]*:)[^@/\s]+(?=@)")
# `-e KEY=VALUE` (or `-eKEY=VALUE`, `--env=KEY=VALUE`) inside one argument (docker options are one string).
ENV_OPTION = re.compile(
    r"(?P<head>(?:^|\s)(?:-e|--env)(?:\s+|=)?)"
    r"(?:\"(?P<double>[^=\s\"]+)=[^\"]*\"|'(?P<single>[^=\s']+)=[^']*'|(?P<bare>[^=\s]+)=\S*)"
)


def actor(environ: Mapping[str, str]) -> str:
    """The sudoer, the SSH key's name (Dokku's NAME), else the Unix user."""
    for key in ("SUDO_USER", "NAME"):
        if environ.get(key):
            return environ[key]
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def redact(command: str, args: list[str], parsed: ParsedArgs) -> list[str]:
    shown: list[str] = []
    env_value = False  # the argument after `-e`/`--env` is KEY=VALUE
    secret_value = False  # the value of a property that may hold a password
    for arg in args:
        hide = env_value or secret_value or (command in KEY_VALUES and "=" in arg and not arg.startswith("-"))
        env_value = arg in ("-e", "--env")
        secret_value = command in SECRET_PROPERTIES and arg in SECRET_PROPERTIES[command]
        if hide:
            shown.append(_hidden(arg))
            continue
        arg = ENV_OPTION.sub(_env_hidden, arg)
        shown.append(URL_PASSWORD.sub(rf"\g<head>{REDACTED}", arg))
    positionals = parsed.positionals  # one shown word per argument: the password's place is its own
    given = command == "registry:login" and len(positionals) >= 3 and not parsed.has("password-stdin")
    if given and positionals[-1] in args:
        shown[len(args) - 1 - args[::-1].index(positionals[-1])] = REDACTED
    return shown


def _env_hidden(match: re.Match[str]) -> str:
    key = match.group("double") or match.group("single") or match.group("bare")
    return f"{match.group('head')}{key}={REDACTED}"


def _hidden(pair: str) -> str:
    key, equals, _ = pair.partition("=")
    return f"{key}={REDACTED}" if equals else REDACTED


def subjects(kind: str | None, parsed: ParsedArgs, app_flag: str | None) -> tuple[list[str], list[str]]:
    """The apps and entries a command names."""
    given, scoped = parsed.positionals, not parsed.has("global")
    first = given[:1] if scoped else []
    if kind == "app":
        return first, []
    if kind == "apps":
        return given[:2], []
    if kind == "entry":
        return [], first
    if kind == "entries":
        return ([app_flag] if app_flag else []), list(given)
    if kind == "app-entry":
        named = [target for target in given[1:2] if ":" not in target and not target.startswith("/")]
        return given[:1], named
    return [], []


class Audit:
    """One command's event, written by the store's first write transaction (Store.audit)."""

    __slots__ = ("actor", "acts", "apps", "args", "at", "command", "entries", "event_id")

    def __init__(self, command: Command, args: list[str], parsed: ParsedArgs, app_flag: str | None,
                 environ: Mapping[str, str]) -> None:  # fmt: skip
        self.at = time.time()
        self.acts = command.acts
        self.actor = actor(environ)
        self.command = command.name
        self.args = redact(command.name, args, parsed)
        self.apps, self.entries = subjects(command.audit, parsed, app_flag)
        self.event_id = 0  # once written

    def line(self, exit_code: int) -> str:
        """The event as one syslog line."""
        from pydokku.text import shown_word

        words = " ".join(shown_word(word) for word in [self.command, *self.args])
        return f"{shown_word(self.actor)} dokku {words} (exit {exit_code})"
