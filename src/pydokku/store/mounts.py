"""Storage mounts of an app, in the order they were added."""

from __future__ import annotations

from pydokku.store import Tx, app_filter


class MountRow:
    __slots__ = ("app_id", "container_path", "deploy", "host_path", "id", "run", "volume_options")

    def __init__(
        self,
        id: int,
        app_id: int,
        host_path: str,
        container_path: str,
        volume_options: str,
        deploy: int,
        run: int,
    ) -> None:
        self.id = id
        self.app_id = app_id
        self.host_path = host_path
        self.container_path = container_path
        self.volume_options = volume_options
        self.deploy = bool(deploy)
        self.run = bool(run)


_COLUMNS = "SELECT id, app_id, host_path, container_path, volume_options, deploy, run FROM mounts"


def list_for(tx: Tx, app_ids: list[int] | None = None) -> dict[int, list[MountRow]]:
    where, params = app_filter(app_ids)
    grouped: dict[int, list[MountRow]] = {}
    for row in tx.execute(_COLUMNS + where + " ORDER BY id", params):
        grouped.setdefault(row[1], []).append(MountRow(*row))
    return grouped


def add(tx: Tx, app_id: int, host_path: str, container_path: str, volume_options: str, deploy: bool, run: bool) -> None:
    tx.execute(
        "INSERT INTO mounts (app_id, host_path, container_path, volume_options, deploy, run) VALUES (?, ?, ?, ?, ?, ?)",
        (app_id, host_path, container_path, volume_options, int(deploy), int(run)),
    )


def delete(tx: Tx, mount_id: int) -> None:
    tx.execute("DELETE FROM mounts WHERE id = ?", (mount_id,))
