from __future__ import annotations

from pydokku.store import Tx


class AppRow:
    __slots__ = ("created_at", "id", "name")

    def __init__(self, id: int, name: str, created_at: int) -> None:
        self.id = id
        self.name = name
        self.created_at = created_at


_COLUMNS = "SELECT id, name, created_at FROM apps"


def get(tx: Tx, name: str) -> AppRow | None:
    row = tx.execute(_COLUMNS + " WHERE name = ?", (name,)).fetchone()
    return AppRow(*row) if row else None


def list_all(tx: Tx) -> list[AppRow]:
    # Byte order, as Dokku lists $DOKKU_ROOT.
    return [AppRow(*row) for row in tx.execute(_COLUMNS + " ORDER BY name COLLATE BINARY")]


def insert(tx: Tx, name: str, created_at: int) -> AppRow:
    cursor = tx.execute("INSERT INTO apps (name, created_at) VALUES (?, ?)", (name, created_at))
    assert cursor.lastrowid is not None
    return AppRow(cursor.lastrowid, name, created_at)


def rename(tx: Tx, app_id: int, new_name: str) -> None:
    tx.execute("UPDATE apps SET name = ? WHERE id = ?", (new_name, app_id))


def delete(tx: Tx, app_id: int) -> None:
    """Deletes the app; its config, docker options and mounts go with it (ON DELETE CASCADE)."""
    tx.execute("DELETE FROM apps WHERE id = ?", (app_id,))
