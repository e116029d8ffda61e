"""`<plugin>:set <app>|--global <key> [<value>]`, shared by the plugins that keep per-app settings
(Dokku's property system): validate the key and value, store it (an empty value unsets it), say so.
`--global` works for the plugins whose command declares the flag."""

from __future__ import annotations

from pydokku.errors import DokkuError
from pydokku.store import properties

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store import Tx


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


def layered(tx: Tx, app_id: int, plugin: str, defaults: Mapping[str, str]) -> dict[str, str]:
    """The app's values: its own, else the global ones, else the defaults."""
    return {**defaults, **properties.get_global(tx, plugin), **properties.get_all(tx, app_id, plugin)}


def global_report_values(tx: Tx, plugin: str, defaults: Mapping[str, str]) -> dict[str, str]:
    """`<plugin>:report --global`: the global value and the one in effect for an app without its own."""
    global_values = properties.get_global(tx, plugin)
    values = {}
    for key, default in defaults.items():
        values[f"{plugin}-global-{key}"] = global_values.get(key, "")
        values[f"{plugin}-computed-{key}"] = global_values.get(key) or default
    return values


def report_values(tx: Tx, app_id: int, plugin: str, defaults: Mapping[str, str]) -> dict[str, str]:
    """Dokku 0.38's three report values per property: the app's own (`<plugin>-<key>`), the global one
    (`<plugin>-global-<key>`) and the one in effect (`<plugin>-computed-<key>`); "" when not set."""
    own, global_values = properties.get_all(tx, app_id, plugin), properties.get_global(tx, plugin)
    values = {}
    for key, default in defaults.items():
        values[f"{plugin}-{key}"] = own.get(key, "")
        values[f"{plugin}-global-{key}"] = global_values.get(key, "")
        values[f"{plugin}-computed-{key}"] = own.get(key) or global_values.get(key) or default
    return values
