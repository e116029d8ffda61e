"""The audit trail: one event per command that changed state."""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.store import Tx


class Event:
    __slots__ = ("actor", "apps", "args", "at", "command", "entries", "exit_code", "id")

    def __init__(
        self, id: int, at: float, actor: str, command: str, args: str, apps: str, entries: str, exit_code: int | None
    ) -> None:
        self.id, self.at, self.actor, self.command = id, at, actor, command
        self.args: list[str] = json.loads(args)
        self.apps: list[str] = json.loads(apps)
        self.entries: list[str] = json.loads(entries)
        self.exit_code = exit_code


def insert(
    tx: Tx, at: float, actor: str, command: str, args: list[str], apps: list[str], entries: list[str],
    exit_code: int | None,
) -> int:  # fmt: skip
    cursor = tx.execute(
        "INSERT INTO events (at, actor, command, args, apps, entries, exit_code) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at, actor, command, json.dumps(args), json.dumps(apps), json.dumps(entries), exit_code),
    )
    return int(cursor.lastrowid or 0)


def delete(tx: Tx, event_id: int) -> None:
    tx.execute("DELETE FROM events WHERE id = ?", (event_id,))


def set_exit_code(tx: Tx, event_id: int, exit_code: int) -> None:
    tx.execute("UPDATE events SET exit_code = ? WHERE id = ?", (exit_code, event_id))


def listing(tx: Tx, *, app: str = "", entry: str = "", since: float = 0.0, limit: int = 0) -> list[Event]:
    """The newest `limit` events (all when 0) matching, oldest first."""
    where: list[str] = ["at >= ?"]
    params: list[float | str] = [since]
    if app:
        where.append("EXISTS (SELECT 1 FROM json_each(events.apps) WHERE value = ?)")
        params.append(app)
    if entry:
        where.append("EXISTS (SELECT 1 FROM json_each(events.entries) WHERE value = ?)")
        params.append(entry)
    sql = f"SELECT id, at, actor, command, args, apps, entries, exit_code FROM events WHERE {' AND '.join(where)}"
    sql += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
    return [Event(*row) for row in reversed(tx.execute(sql, params).fetchall())]
