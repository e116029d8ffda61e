"""`<plugin>:set <app>|--global <key> [<value>]`, shared by the plugins that keep per-app settings
(Dokku's property system): validate the key and value, store it (an empty value unsets it), say so.
`--global` works for the plugins whose command declares the flag."""

from __future__ import annotations

from pydokku.errors import DokkuError
from pydokku.store import properties

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from pydokku.args import ParsedArgs
    from pydokku.context import Context


def set_property(
    context: Context, args: ParsedArgs, plugin: str, keys: Iterable[str], check: Callable[[str, str], None]
) -> None:
    from pydokku.plugins import apps

    scope = 0 if args.has("global") else 1  # `--global <key> <value>`, or `<app> <key> <value>`
    key, value = args.positional(scope), args.positional(scope + 1)
    with context.store.write() as tx:
        app = apps.require(tx, args.positional(0)) if scope else None
        if not key:
            raise DokkuError("No property specified")
        if key not in keys:
            raise DokkuError(f"Invalid property specified, valid properties include: {', '.join(sorted(keys))}")
        if value:
            check(key, value)
        if app is None:
            properties.put_global(tx, plugin, key, value or None)
        else:
            properties.put(tx, app.id, plugin, key, value or None)
    if value:
        context.console.header(f"Setting {key} to {value}")
    else:
        context.console.header(f"Unsetting {key}")
