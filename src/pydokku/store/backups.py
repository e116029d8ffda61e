"""Backup settings of storage entries (and their global defaults) and what each entry's last backup did."""

from __future__ import annotations

from pydokku.store import Tx


def settings(tx: Tx, entry_id: int | None) -> dict[str, str]:
    """The settings stored for one entry, or the global ones (entry_id None)."""
    rows = tx.execute("SELECT key, value FROM backup_settings WHERE entry_id IS ?", (entry_id,))
    return dict(rows.fetchall())


def scheduled(tx: Tx) -> dict[int | None, str]:
    """Every stored schedule, by entry id (None: the global one)."""
    return dict(tx.execute("SELECT entry_id, value FROM backup_settings WHERE key = 'schedule'").fetchall())


def put(tx: Tx, entry_id: int | None, key: str, value: str | None) -> None:
    """Set a setting; None removes it (an entry then inherits the global value)."""
    tx.execute("DELETE FROM backup_settings WHERE entry_id IS ? AND key = ?", (entry_id, key))
    if value is not None:
        tx.execute("INSERT INTO backup_settings (entry_id, key, value) VALUES (?, ?, ?)", (entry_id, key, value))


class Status:
    __slots__ = ("error", "error_at", "finished_at", "snapshot", "summary")

    def __init__(self, snapshot: str, finished_at: int, summary: str, error: str, error_at: int) -> None:
        self.snapshot = snapshot
        self.finished_at = finished_at
        self.summary = summary
        self.error = error
        self.error_at = error_at


def status(tx: Tx, entry_id: int) -> Status:
    row = tx.execute(
        "SELECT snapshot, finished_at, summary, error, error_at FROM backup_status WHERE entry_id = ?", (entry_id,)
    ).fetchone()
    return Status(*row) if row else Status("", 0, "", "", 0)


def record_success(tx: Tx, entry_id: int, snapshot: str, finished_at: int, summary: str) -> None:
    """A snapshot was written: it is the last one, and the last error is cleared."""
    tx.execute(
        "INSERT INTO backup_status (entry_id, snapshot, finished_at, summary) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (entry_id) DO UPDATE SET snapshot = excluded.snapshot, finished_at = excluded.finished_at,"
        " summary = excluded.summary, error = '', error_at = 0",
        (entry_id, snapshot, finished_at, summary),
    )


def record_error(tx: Tx, entry_id: int, error: str, error_at: int) -> None:
    tx.execute(
        "INSERT INTO backup_status (entry_id, error, error_at) VALUES (?, ?, ?)"
        " ON CONFLICT (entry_id) DO UPDATE SET error = excluded.error, error_at = excluded.error_at",
        (entry_id, error, error_at),
    )
