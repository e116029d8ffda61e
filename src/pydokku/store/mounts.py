"""Storage mounts of an app, in the order they were added."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from pydokku.store import Tx, app_filter


@dataclass(frozen=True)
class MountRow:
    id: int
    app_id: int
    host_path: str
    container_path: str
    volume_options: str
    deploy: bool
    run: bool


def list_for(tx: Tx, app_ids: list[int] | None = None) -> dict[int, list[MountRow]]:
    sql = "SELECT id, app_id, host_path, container_path, volume_options, deploy, run FROM mounts"
    where, params = app_filter(app_ids)
    grouped: dict[int, list[MountRow]] = defaultdict(list)
    for row in tx.execute(sql + where + " ORDER BY id", params):
        mount_id, app_id, host, container, options, deploy, run = row
        grouped[app_id].append(MountRow(mount_id, app_id, host, container, options, bool(deploy), bool(run)))
    return grouped


def add(
    tx: Tx, app_id: int, host_path: str, container_path: str, volume_options: str, deploy: bool, run: bool
) -> None:
    tx.execute(
        "INSERT INTO mounts (app_id, host_path, container_path, volume_options, deploy, run)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (app_id, host_path, container_path, volume_options, int(deploy), int(run)),
    )


def delete(tx: Tx, mount_id: int) -> None:
    tx.execute("DELETE FROM mounts WHERE id = ?", (mount_id,))
