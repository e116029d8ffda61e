"""Releases of an app: the image to run and its process types; the newest is the current one."""

from __future__ import annotations

from pydokku.store import Tx


class Release:
    __slots__ = ("created_at", "id", "image_id", "number", "processes", "source_image", "source_image_id")

    def __init__(
        self,
        id: int,
        number: int,
        source_image: str,
        source_image_id: str,
        image_id: str,
        created_at: int,
        processes: dict[str, str | None],
    ) -> None:
        self.id = id
        self.number = number
        self.source_image = source_image
        self.source_image_id = source_image_id
        self.image_id = image_id
        self.created_at = created_at
        self.processes = processes  # process type -> command (None: the image's own command)


def current(tx: Tx, app_id: int) -> Release | None:
    row = tx.execute(
        "SELECT id, number, source_image, source_image_id, image_id, created_at FROM releases"
        " WHERE app_id = ? ORDER BY number DESC LIMIT 1",
        (app_id,),
    ).fetchone()
    if row is None:
        return None
    processes = dict(
        tx.execute(
            "SELECT process_type, command FROM release_processes WHERE release_id = ? ORDER BY process_type",
            (row[0],),
        ).fetchall()
    )
    release_id, number, source_image, source_image_id, image_id, created_at = row
    return Release(release_id, number, source_image, source_image_id, image_id, created_at, processes)


def add(tx: Tx, app_id: int, release: Release) -> None:
    """Record a release as the app's current one (its number was given when it was built)."""
    cursor = tx.execute(
        "INSERT INTO releases (app_id, number, source_image, source_image_id, image_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (app_id, release.number, release.source_image, release.source_image_id, release.image_id, release.created_at),
    )
    assert cursor.lastrowid is not None
    release.id = cursor.lastrowid
    tx.executemany(
        "INSERT INTO release_processes (release_id, process_type, command) VALUES (?, ?, ?)",
        [(release.id, name, command) for name, command in release.processes.items()],
    )
