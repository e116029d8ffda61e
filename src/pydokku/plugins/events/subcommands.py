"""events, events:on, events:off."""

from __future__ import annotations

import re
import time
from datetime import UTC

from pydokku.errors import DokkuError
from pydokku.store import events, properties
from pydokku.text import shown_word

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.args import ParsedArgs
    from pydokku.context import Context
    from pydokku.store.events import Event

PLUGIN = "events"
RELATIVE = re.compile(r"(\d+)([smhd])")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def since_seconds(value: str, now: float) -> float:
    """`--since`: a duration back from now (`90s`, `10m`, `2h`, `7d`) or an ISO 8601 date or time (UTC
    unless it says otherwise)."""
    relative = RELATIVE.fullmatch(value)
    if relative:
        return now - int(relative.group(1)) * UNIT_SECONDS[relative.group(2)]
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise DokkuError(
            f"--since takes a duration (90s, 10m, 2h, 7d) or an ISO 8601 date or time, not {value!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def _shown(event: Event) -> dict[str, object]:
    return {
        "id": event.id, "time": _stamp(event.at), "actor": event.actor, "command": event.command,
        "args": event.args, "apps": event.apps, "entries": event.entries, "exit_code": event.exit_code,
    }  # fmt: skip


def list_events(context: Context, args: ParsedArgs) -> None:
    fmt = args.value("format") or "text"
    if fmt not in ("text", "json"):
        raise DokkuError(f'--format must be "text" or "json": "{fmt}"')
    count = args.value("num") or "0"
    if not count.isascii() or not count.isdigit():
        raise DokkuError(f"-n takes a number of events, not {count!r}")
    since = since_seconds(args.value("since") or "", time.time()) if args.value("since") else 0.0
    with context.store.read() as tx:
        found = events.listing(tx, app=context.flags.app or "", entry=args.value("entry") or "", since=since,
                               limit=int(count))  # fmt: skip
    if fmt == "json":
        import json

        context.console.line(json.dumps([_shown(event) for event in found]))
        return
    for event in found:
        code = "killed or still running" if event.exit_code is None else f"exit {event.exit_code}"
        words = " ".join(shown_word(word) for word in [event.command, *event.args])
        context.console.line(f"{_stamp(event.at)} {shown_word(event.actor)} dokku {words} ({code})")


def _mirror(context: Context, on: bool) -> None:
    with context.store.write() as tx:
        properties.put_global(tx, PLUGIN, "mirror", "true" if on else None)
    context.console.header(f"{'Enabling' if on else 'Disabling'} dokku events logger")


def mirror_on(context: Context, args: ParsedArgs) -> None:
    _mirror(context, True)


def mirror_off(context: Context, args: ParsedArgs) -> None:
    _mirror(context, False)
