"""config:* handlers. `--global` addresses the global environment instead of an app's."""

from __future__ import annotations

import re

from pydokku.console import columnize, list_format
from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.store import config as config_store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx

KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class _Scope:
    """The app a config command addresses (None: global), and the arguments after it."""

    def __init__(self, args: ParsedArgs) -> None:
        self.is_global = args.has("global")
        self.app_name = "" if self.is_global else args.positional(0)
        self.rest = args.positionals if self.is_global else args.positionals[1:]
        self.title = "global" if self.is_global else self.app_name

    def app_id(self, tx: Tx, args: ParsedArgs | None = None) -> int | None:
        """The app's id (None: global); with the command's args, a change that would restart a locked
        app is refused before it is written."""
        if self.is_global:
            return None
        app = apps.require(tx, self.app_name)
        if args is not None and not args.has("no-restart"):
            from pydokku.scheduler import deployed

            if deployed(tx, app):
                apps.check_unlocked(tx, app)
        return app.id

    def restart_if_deployed(self, context: Context, args: ParsedArgs) -> None:
        """A changed environment reaches a deployed app's containers by a restart (not for --global)."""
        if self.is_global or args.has("no-restart"):
            return
        from pydokku import scheduler
        from pydokku.scheduler import deployed

        with context.store.read() as tx:
            if not deployed(tx, apps.require(tx, self.app_name)):
                return
        context.console.header(f"Restarting app {self.app_name}")
        scheduler.deploy(context, self.app_name)


def _pairs_lines(pairs: dict[str, str], prefix: str) -> list[str]:
    return [prefix + line for line in columnize([(key + ":", value) for key, value in sorted(pairs.items())])]


def set_vars(context: Context, args: ParsedArgs) -> None:
    scope = _Scope(args)
    pairs: dict[str, str] = {}
    for pair in scope.rest:
        key, eq, value = pair.partition("=")
        if not eq:
            raise DokkuError(f"Invalid env pair: {pair}")
        pairs[key] = _decode(key, value) if args.has("encoded") else value
    _set_many(context, args, scope, pairs, replace=False, empty="At least one env pair must be given")


def _set_many(
    context: Context, args: ParsedArgs, scope: _Scope, pairs: dict[str, str], *, replace: bool, empty: str
) -> None:
    """Dokku's SetMany: the keys checked, the environment cleared first when replacing, the pairs
    shown, a deployed app restarted unless --no-restart."""
    with context.store.write() as tx:
        app_id = scope.app_id(tx, args)
        if not pairs:
            raise DokkuError(empty)
        for key in pairs:
            if not KEY.fullmatch(key):
                raise DokkuError(f"Invalid key name: '{key}'")
        if replace:
            for key in config_store.all_vars(tx, app_id):
                config_store.unset(tx, app_id, key)
        config_store.set_vars(tx, app_id, pairs)
    context.console.header("Setting config vars")
    if not context.console.quiet:
        context.console.lines(_pairs_lines(pairs, "       "))
    scope.restart_if_deployed(context, args)


def import_vars(context: Context, args: ParsedArgs) -> None:
    """config:import [--replace] [--format envfile|json] (<app>|--global) FILE|-: the environment read
    from a file (or stdin), set as config:set sets it; --replace: the keys not in it are unset."""
    import os

    from pydokku.plugins.config import envfile

    scope = _Scope(args)
    fmt = args.value("format") or "envfile"
    if fmt not in ("envfile", "json"):
        raise DokkuError(f"Unknown format: {fmt}")
    source = scope.rest[0] if scope.rest else ""
    if not source:
        raise DokkuError("Please specify a file to import, or - to read stdin")
    if source == "-":
        context.console.header("Reading config vars from stdin")
        text = context.stdin.read()
    else:
        if os.environ.get("SSH_ORIGINAL_COMMAND"):  # a remote user names files of this host: refused
            raise DokkuError("Over SSH, config:import reads stdin only: pipe the file to config:import ... -")
        try:
            with open(source, encoding="utf-8") as file:
                text = file.read()
        except FileNotFoundError:
            raise DokkuError(f"File {source} does not exist") from None
        except (OSError, UnicodeDecodeError) as error:
            raise DokkuError(f"Unable to read {source}: {getattr(error, 'strerror', None) or error}") from None
    try:
        pairs = envfile.parse_json(text) if fmt == "json" else envfile.parse_envfile(text)
    except envfile.UnreadableEnv as error:
        raise DokkuError(f"Unable to import {source if source != '-' else 'stdin'}: {error}") from None
    _set_many(context, args, scope, pairs, replace=args.has("replace"), empty="No config vars to set")


def _decode(key: str, value: str) -> str:
    import base64
    import binascii

    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise DokkuError(f"Unable to decode the base64 value of {key}") from error


def unset(context: Context, args: ParsedArgs) -> None:
    scope = _Scope(args)
    with context.store.write() as tx:
        app_id = scope.app_id(tx, args)
        if not scope.rest:
            raise DokkuError("At least one key must be given")
        removed = [(key, config_store.unset(tx, app_id, key)) for key in scope.rest]
    for key, was_set in removed:
        if was_set:
            context.console.header(f"Unsetting {key}")
        else:
            context.console.header(f"Skipping {key}, it is not set in the environment")
    if any(was_set for _, was_set in removed):
        scope.restart_if_deployed(context, args)


def _vars(context: Context, scope: _Scope, merged: bool) -> dict[str, str]:
    with context.store.read() as tx:
        app_id = scope.app_id(tx)
        values = config_store.all_vars(tx, app_id)
        if merged and app_id is not None:
            values = {**config_store.all_vars(tx, None), **values}
    return dict(sorted(values.items()))


def get(context: Context, args: ParsedArgs) -> int:
    scope = _Scope(args)
    values = _vars(context, scope, merged=False)
    if not scope.rest:
        raise DokkuError("Expected: key")
    if len(scope.rest) > 1:
        raise DokkuError(f"Unexpected argument(s): [{' '.join(scope.rest[1:])}]")
    key = scope.rest[0]
    if key not in values:
        return 1
    value = values[key]
    context.console.line("'" + value.replace("'", "'\\''") + "'" if args.has("quoted") else value)
    return 0


def keys(context: Context, args: ParsedArgs) -> None:
    scope = _Scope(args)
    context.console.lines(_vars(context, scope, args.has("merged")))


def show(context: Context, args: ParsedArgs) -> None:
    """config:show, and `dokku config` (with Dokku's deprecated --shell and --export)."""
    scope = _Scope(args)
    fmt = list_format(args.value("format"))
    values = _vars(context, scope, args.has("merged"))
    shell, exports = args.has("shell"), args.has("export")
    if shell and exports:
        raise DokkuError("Only one of --shell and --export can be given")
    if shell or exports:
        from pydokku.plugins.config import export as formats

        replacement = "shell" if shell else "exports"
        context.console.warn(f"Deprecated: Use 'config:export --format {replacement}' instead")
        context.console.out.write(formats.render(values, replacement))
        return
    if fmt == "json":
        import json

        context.console.line(json.dumps(values, indent=2, ensure_ascii=False))
        return
    context.console.section(f"{scope.title} env vars")
    context.console.lines(_pairs_lines(values, ""))


def export(context: Context, args: ParsedArgs) -> None:
    from pydokku.plugins.config import export as formats

    fmt = args.value("format") or "exports"
    if fmt not in formats.FORMATS:
        raise DokkuError(f"Unknown export format: {fmt}")
    scope = _Scope(args)
    context.console.out.write(formats.render(_vars(context, scope, args.has("merged")), fmt))


def bundle(context: Context, args: ParsedArgs) -> None:
    import sys

    from pydokku.plugins.config import export as formats

    scope = _Scope(args)
    data = formats.bundle(_vars(context, scope, args.has("merged")))
    if sys.stdout.isatty():
        raise DokkuError("config:bundle writes a tar archive: redirect it to a file or a pipe")
    context.console.out.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def clear(context: Context, args: ParsedArgs) -> None:
    """Unset every key (each said, as config:unset says it); a deployed app restarts unless --no-restart."""
    scope = _Scope(args)
    with context.store.write() as tx:
        app_id = scope.app_id(tx, args)
        removed = [key for key in sorted(config_store.all_vars(tx, app_id)) if config_store.unset(tx, app_id, key)]
    for key in removed:
        context.console.header(f"Unsetting {key}")
    if removed:
        scope.restart_if_deployed(context, args)
