"""Schema versions and forward migrations, tracked in `PRAGMA user_version`.

Each migration is a list of statements applied in one transaction; append new ones, never edit old ones.
"""

from __future__ import annotations

import _sqlite3 as sqlite3

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE apps (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        )""",
        # app_id NULL holds the global config.
        """CREATE TABLE config_vars (
            app_id INTEGER REFERENCES apps(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX config_vars_key ON config_vars (COALESCE(app_id, 0), key)",
        # Options keep the order they were added in: the rowid.
        """CREATE TABLE docker_options (
            id INTEGER PRIMARY KEY,
            app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            phase TEXT NOT NULL CHECK (phase IN ('build', 'deploy', 'run')),
            option TEXT NOT NULL
        )""",
        "CREATE INDEX docker_options_app ON docker_options (app_id, phase, id)",
        # A storage mount is stored once; its `-v` strings, JSON and report rows derive from it.
        """CREATE TABLE mounts (
            id INTEGER PRIMARY KEY,
            app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            host_path TEXT NOT NULL,
            container_path TEXT NOT NULL,
            volume_options TEXT NOT NULL DEFAULT '',
            deploy INTEGER NOT NULL DEFAULT 1 CHECK (deploy IN (0, 1)),
            run INTEGER NOT NULL DEFAULT 1 CHECK (run IN (0, 1)),
            UNIQUE (app_id, host_path, container_path)
        )""",
    ),
    (
        # A release: an image built from a source image, and the process types it runs.
        """CREATE TABLE releases (
            id INTEGER PRIMARY KEY,
            app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            source_image TEXT NOT NULL,
            source_image_id TEXT NOT NULL,
            image_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (app_id, number)
        )""",
        # command NULL: the image's own command (the web process of an image without a Procfile).
        """CREATE TABLE release_processes (
            release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
            process_type TEXT NOT NULL,
            command TEXT,
            PRIMARY KEY (release_id, process_type)
        )""",
        """CREATE TABLE process_scale (
            app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            process_type TEXT NOT NULL,
            quantity INTEGER NOT NULL CHECK (quantity >= 0),
            PRIMARY KEY (app_id, process_type)
        )""",
        # Per-app settings of a plugin (Dokku's property system): ps, scheduler-docker-local, ...
        """CREATE TABLE properties (
            app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            plugin TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (app_id, plugin, key)
        )""",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def _version(connection: sqlite3.Connection) -> int:
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(connection: sqlite3.Connection) -> None:
    version = _version(connection)
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"the database has schema version {version}, newer than this pydokku's {SCHEMA_VERSION}"
        )
    if version == 0:
        # WAL is a property of the file; set it before the first transaction that creates tables.
        connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while we waited for the write lock.
        for statements in MIGRATIONS[_version(connection) :]:
            for statement in statements:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
