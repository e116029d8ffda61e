"""Config vars of an app, or the global ones (app_id None)."""

from __future__ import annotations

from pydokku.store import Tx

_SCOPE = "app_id IS ?"


def all_vars(tx: Tx, app_id: int | None) -> dict[str, str]:
    rows = tx.execute(f"SELECT key, value FROM config_vars WHERE {_SCOPE} ORDER BY key", (app_id,))
    return dict(rows.fetchall())


def set_vars(tx: Tx, app_id: int | None, pairs: dict[str, str]) -> None:
    for key, value in pairs.items():
        tx.execute(f"DELETE FROM config_vars WHERE {_SCOPE} AND key = ?", (app_id, key))
        tx.execute("INSERT INTO config_vars (app_id, key, value) VALUES (?, ?, ?)", (app_id, key, value))


def unset(tx: Tx, app_id: int | None, key: str) -> bool:
    cursor = tx.execute(f"DELETE FROM config_vars WHERE {_SCOPE} AND key = ?", (app_id, key))
    return cursor.rowcount > 0
