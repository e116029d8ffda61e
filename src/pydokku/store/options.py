"""Docker options of an app, per phase, in the order they were added."""

from __future__ import annotations

from pydokku.store import Tx, app_filter


class OptionRow:
    __slots__ = ("app_id", "id", "option", "phase")

    def __init__(self, id: int, app_id: int, phase: str, option: str) -> None:
        self.id = id
        self.app_id = app_id
        self.phase = phase
        self.option = option


def list_for(tx: Tx, app_ids: list[int] | None = None) -> dict[int, list[OptionRow]]:
    """Every option of the given apps (all apps when None), grouped by app, in added order."""
    where, params = app_filter(app_ids)
    grouped: dict[int, list[OptionRow]] = {}
    for row in tx.execute("SELECT id, app_id, phase, option FROM docker_options" + where + " ORDER BY id", params):
        grouped.setdefault(row[1], []).append(OptionRow(*row))
    return grouped


def add(tx: Tx, app_id: int, phase: str, option: str) -> None:
    tx.execute("INSERT INTO docker_options (app_id, phase, option) VALUES (?, ?, ?)", (app_id, phase, option))


def replace(tx: Tx, option_id: int, option: str) -> None:
    tx.execute("UPDATE docker_options SET option = ? WHERE id = ?", (option, option_id))


def delete(tx: Tx, option_id: int) -> None:
    tx.execute("DELETE FROM docker_options WHERE id = ?", (option_id,))


def delete_phase(tx: Tx, app_id: int, phase: str) -> None:
    tx.execute("DELETE FROM docker_options WHERE app_id = ? AND phase = ?", (app_id, phase))
