"""Docker options of an app, per phase, in the order they were added."""

from __future__ import annotations

from pydokku.store import Tx, app_filter

DEFAULT_PROCESS_TYPE = "_default_"


class OptionRow:
    __slots__ = ("app_id", "id", "option", "phase", "process_type")

    def __init__(self, id: int, app_id: int, phase: str, option: str, process_type: str) -> None:
        self.id = id
        self.app_id = app_id
        self.phase = phase
        self.option = option
        self.process_type = process_type  # _default_: every process type of the app


def list_for(tx: Tx, app_ids: list[int] | None = None) -> dict[int, list[OptionRow]]:
    """Every option of the given apps (all apps when None), grouped by app, in added order."""
    where, params = app_filter(app_ids)
    grouped: dict[int, list[OptionRow]] = {}
    query = "SELECT id, app_id, phase, option, process_type FROM docker_options" + where + " ORDER BY id"
    for row in tx.execute(query, params):
        grouped.setdefault(row[1], []).append(OptionRow(*row))
    return grouped


def add(tx: Tx, app_id: int, phase: str, option: str, process_type: str = DEFAULT_PROCESS_TYPE) -> None:
    tx.execute(
        "INSERT INTO docker_options (app_id, phase, option, process_type) VALUES (?, ?, ?, ?)",
        (app_id, phase, option, process_type),
    )


def replace(tx: Tx, option_id: int, option: str) -> None:
    tx.execute("UPDATE docker_options SET option = ? WHERE id = ?", (option, option_id))


def delete(tx: Tx, option_id: int) -> None:
    tx.execute("DELETE FROM docker_options WHERE id = ?", (option_id,))


def delete_phase(tx: Tx, app_id: int, phase: str, process_type: str = DEFAULT_PROCESS_TYPE) -> None:
    tx.execute(
        "DELETE FROM docker_options WHERE app_id = ? AND phase = ? AND process_type = ?", (app_id, phase, process_type)
    )
