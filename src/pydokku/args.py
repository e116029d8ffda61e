"""Per-command argument parsing: `--flag value` and `--flag=value`, flags before or after positionals.

Global flags (`--quiet`, `--trace`, `--force`, `--app APP`) are accepted anywhere before `--` or
before a command's raw tail (the docker options of `docker-options:add`, for example), which is
passed through untouched because it is somebody else's command line. `--label KEY=VALUE` (Dokku's,
for `run`) only before the command: after it, `--label` is the command's own (storage:create's).

Plain classes, not dataclasses: this module is on every command's start-up path.
"""

from __future__ import annotations

from pydokku.errors import DokkuError, UsageError

GLOBAL_BOOL_FLAGS = frozenset({"quiet", "trace", "force"})
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


class Flag:
    __slots__ = ("name", "repeat", "short", "takes_value")

    def __init__(self, name: str, *, takes_value: bool = False, short: str | None = None, repeat: bool = False) -> None:
        self.name = name
        self.takes_value = takes_value or repeat
        self.short = short
        self.repeat = repeat  # every value is kept, in order (`-e A=1 -e B=2`)


class ArgSpec:
    __slots__ = ("flags", "info_flags", "max_positionals", "raw_after")

    def __init__(
        self,
        flags: tuple[Flag, ...] = (),
        *,
        raw_after: int | None = None,
        max_positionals: int | None = None,
        info_flags: bool = False,
    ) -> None:
        self.flags = flags
        # Positionals after which everything is passed through raw (no flag parsing).
        self.raw_after = raw_after
        self.max_positionals = max_positionals
        # Report commands take `--<key>` info flags that the command itself validates.
        self.info_flags = info_flags


class GlobalFlags:
    __slots__ = ("app", "force", "labels", "quiet", "trace")

    def __init__(self) -> None:
        self.quiet = False
        self.trace = False
        self.force = False
        self.app: str | None = None
        self.labels: list[str] = []  # `--label=KEY=VALUE`: labels of the one-off containers `run` starts


HELP_FLAGS = frozenset({"--help", "-h"})


class ParsedArgs:
    __slots__ = ("bools", "help", "info_flags", "lists", "positionals", "values")

    def __init__(self) -> None:
        self.help = False  # `--help`/`-h` where the command's own flags are read
        self.positionals: list[str] = []
        self.values: dict[str, str] = {}
        self.lists: dict[str, list[str]] = {}
        self.bools: set[str] = set()
        self.info_flags: list[str] = []

    def value(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.bools

    def positional(self, index: int) -> str:
        """The positional at `index`, or "" when it was not given (commands report what is missing)."""
        return self.positionals[index] if index < len(self.positionals) else ""


def parse_leading_globals(argv: list[str], flags: GlobalFlags) -> list[str]:
    """Consume the global flags that come before the command name; return the rest."""
    i = 0
    while i < len(argv) and argv[i].startswith("--") and argv[i] != "--":
        consumed = _take_global(argv, i, flags)
        if consumed == 0:
            break
        i += consumed
    return argv[i:]


def _take_global(argv: list[str], i: int, flags: GlobalFlags, *, leading: bool = True) -> int:
    """If argv[i] is a global flag, record it and return how many tokens it used; else 0."""
    name, eq, inline = argv[i][2:].partition("=")
    if name in GLOBAL_BOOL_FLAGS and not eq:
        setattr(flags, name, True)
        return 1
    if name not in (("app", "label") if leading else ("app",)):
        return 0
    if eq:
        value, used = inline, 1
    elif i + 1 < len(argv):
        value, used = argv[i + 1], 2
    else:
        raise UsageError(f"flag needs an argument: --{name}")
    if name == "app":
        flags.app = value
    else:
        flags.labels.append(value)
    return used


def parse(argv: list[str], spec: ArgSpec, flags: GlobalFlags, *, takes_app: bool) -> ParsedArgs:
    known = {f.name: f for f in spec.flags}
    shorts = {f.short: f for f in spec.flags if f.short}
    result = ParsedArgs()
    if takes_app and flags.app is not None:
        result.positionals.append(flags.app)
    raw = False
    i = 0
    while i < len(argv):
        token = argv[i]
        if raw or (spec.raw_after is not None and len(result.positionals) >= spec.raw_after):
            result.positionals.append(token)
            i += 1
            continue
        if token == "--":
            raw = True
            i += 1
            continue
        if token in HELP_FLAGS:
            result.help = True
            return result
        if token.startswith("--") and len(token) > 2:
            before = flags.app
            used = _take_global(argv, i, flags, leading=False)
            if used:
                if takes_app and flags.app is not None and flags.app != before:
                    result.positionals.insert(0, flags.app)
                i += used
                continue
            i += _take_long(argv, i, known, spec, result)
            continue
        if token.startswith("-") and len(token) > 1:
            flag = shorts.get(token[1])
            if flag is None:
                raise UsageError(f"unknown shorthand flag: '{token[1]}' in {token}")
            i += _store_flag(flag, token[2:].removeprefix("=") or None, argv, i, result, token)
            continue
        result.positionals.append(token)
        i += 1
    if spec.max_positionals is not None and len(result.positionals) > spec.max_positionals:
        extra = result.positionals[spec.max_positionals :]
        raise DokkuError(f"Unexpected argument(s): [{' '.join(extra)}]")
    return result


def _take_long(argv: list[str], i: int, known: dict[str, Flag], spec: ArgSpec, result: ParsedArgs) -> int:
    token = argv[i]
    name, eq, inline = token[2:].partition("=")
    flag = known.get(name)
    if flag is None:
        if spec.info_flags and not eq:
            result.info_flags.append(token)
            return 1
        raise UsageError(f"unknown flag: --{name}")
    return _store_flag(flag, inline if eq else None, argv, i, result, token)


def _store_flag(flag: Flag, inline: str | None, argv: list[str], i: int, result: ParsedArgs, token: str) -> int:
    if not flag.takes_value:
        if inline is None or inline.lower() in _TRUE:
            result.bools.add(flag.name)
        elif inline.lower() in _FALSE:
            result.bools.discard(flag.name)
        else:
            raise UsageError(f'invalid argument "{inline}" for "{token}" flag: a boolean is expected')
        return 1
    used = 1
    if inline is None:
        if i + 1 >= len(argv):
            raise UsageError(f"flag needs an argument: {token}")
        inline = argv[i + 1]
        used = 2
    if flag.repeat:
        result.lists.setdefault(flag.name, []).append(inline)
    else:
        result.values[flag.name] = inline
    return used
