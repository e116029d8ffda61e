"""Per-app settings of a plugin (Dokku's property system) and the process scale of an app."""

from __future__ import annotations

from pydokku.store import Tx


def get_all(tx: Tx, app_id: int, plugin: str) -> dict[str, str]:
    rows = tx.execute("SELECT key, value FROM properties WHERE app_id = ? AND plugin = ?", (app_id, plugin))
    return dict(rows.fetchall())


def put(tx: Tx, app_id: int, plugin: str, key: str, value: str | None) -> None:
    """Set a property; None removes it (back to its default)."""
    tx.execute("DELETE FROM properties WHERE app_id = ? AND plugin = ? AND key = ?", (app_id, plugin, key))
    if value is not None:
        tx.execute(
            "INSERT INTO properties (app_id, plugin, key, value) VALUES (?, ?, ?, ?)", (app_id, plugin, key, value)
        )


def get_global(tx: Tx, plugin: str) -> dict[str, str]:
    rows = tx.execute("SELECT key, value FROM global_properties WHERE plugin = ?", (plugin,))
    return dict(rows.fetchall())


def put_global(tx: Tx, plugin: str, key: str, value: str | None) -> None:
    """Set a plugin's global value for a key; None removes it."""
    tx.execute("DELETE FROM global_properties WHERE plugin = ? AND key = ?", (plugin, key))
    if value is not None:
        tx.execute("INSERT INTO global_properties (plugin, key, value) VALUES (?, ?, ?)", (plugin, key, value))


def copy(tx: Tx, plugin: str, source_id: int, target_id: int) -> None:
    """The target's properties of a plugin become exactly the source's."""
    tx.execute("DELETE FROM properties WHERE app_id = ? AND plugin = ?", (target_id, plugin))
    tx.execute(
        "INSERT INTO properties (app_id, plugin, key, value) SELECT ?, plugin, key, value FROM properties"
        " WHERE app_id = ? AND plugin = ?",
        (target_id, source_id, plugin),
    )


def copy_scale(tx: Tx, source_id: int, target_id: int) -> None:
    tx.execute("DELETE FROM process_scale WHERE app_id = ?", (target_id,))
    tx.execute(
        "INSERT INTO process_scale (app_id, process_type, quantity) SELECT ?, process_type, quantity"
        " FROM process_scale WHERE app_id = ?",
        (target_id, source_id),
    )


def scale(tx: Tx, app_id: int) -> dict[str, int]:
    rows = tx.execute(
        "SELECT process_type, quantity FROM process_scale WHERE app_id = ? ORDER BY process_type", (app_id,)
    )
    return dict(rows.fetchall())


def set_scale(tx: Tx, app_id: int, quantities: dict[str, int]) -> None:
    for process_type, quantity in quantities.items():
        tx.execute(
            "INSERT INTO process_scale (app_id, process_type, quantity) VALUES (?, ?, ?)"
            " ON CONFLICT (app_id, process_type) DO UPDATE SET quantity = excluded.quantity",
            (app_id, process_type, quantity),
        )
