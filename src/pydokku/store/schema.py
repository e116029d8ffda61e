"""Schema versions and forward migrations, tracked in `PRAGMA user_version`.

Each migration is a list of steps (SQL statements, or functions for data that SQL cannot compute)
applied in one transaction; append new ones, never edit old ones.
"""

from __future__ import annotations

import _sqlite3 as sqlite3
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    Step = str | Callable[[sqlite3.Connection], None]


def legacy_entry_name(host: str) -> str:
    """Dokku's name for the entry behind a `host:container` mount: a hash of the host path, or of
    `vol:<name>` for a docker volume."""
    import hashlib

    token = host if host.startswith("/") else f"vol:{host}"
    return "legacy-" + hashlib.sha1(token.encode()).hexdigest()[:10]


def _mounts_to_attachments(connection: sqlite3.Connection) -> None:
    """Every colon-form mount becomes an attachment of its legacy entry (created when missing)."""
    rows = connection.execute(
        "SELECT app_id, host_path, container_path, volume_options, deploy, run FROM mounts ORDER BY id"
    ).fetchall()
    for app_id, host, container, options, deploy, run in rows:
        name = legacy_entry_name(host)
        connection.execute(
            "INSERT OR IGNORE INTO storage_entries (name, host_path, created_at) VALUES (?, ?, ?)",
            (name, host, int(time.time())),
        )
        words = [word for word in options.split(",") if word]
        connection.execute(
            "INSERT INTO attachments (app_id, entry_id, container_path, deploy, run, readonly, volume_options)"
            " SELECT ?, id, ?, ?, ?, ?, ? FROM storage_entries WHERE name = ?",
            (app_id, container, deploy, run, int("ro" in words), ",".join(w for w in words if w != "ro"), name),
        )


def _restart_options_to_property(connection: sqlite3.Connection) -> None:
    """A deploy option that is only a restart policy becomes the app's `restart-policy` ps property
    (Dokku's default, on-failure:10, needs none); options mixing it with other flags stay options."""
    rows = connection.execute(
        "SELECT id, app_id, option FROM docker_options WHERE phase = 'deploy' AND option LIKE '--restart%' ORDER BY id"
    ).fetchall()
    for option_id, app_id, option in rows:
        flag, separator, policy = option.replace(" ", "=", 1).partition("=")
        if flag != "--restart" or not separator or not policy or " " in policy:
            continue
        connection.execute("DELETE FROM docker_options WHERE id = ?", (option_id,))
        connection.execute("DELETE FROM properties WHERE app_id = ? AND plugin = 'ps' AND key = 'restart-policy'",
                           (app_id,))  # fmt: skip
        if policy != "on-failure:10":
            connection.execute(
                "INSERT INTO properties (app_id, plugin, key, value) VALUES (?, 'ps', 'restart-policy', ?)",
                (app_id, policy),
            )


MIGRATIONS: tuple[tuple[Step, ...], ...] = (
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
    (
        # Named storage entries (Dokku 0.38): a host directory or a docker volume, global to the host.
        """CREATE TABLE storage_entries (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            scheduler TEXT NOT NULL DEFAULT 'docker-local',
            host_path TEXT NOT NULL,
            chown TEXT NOT NULL DEFAULT '',
            mode TEXT NOT NULL DEFAULT '',
            reclaim_policy TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL
        )""",
        """CREATE TABLE storage_entry_metadata (
            entry_id INTEGER NOT NULL REFERENCES storage_entries(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('annotation', 'label')),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (entry_id, kind, key)
        )""",
        # An entry mounted into an app. No cascade from entries: a mounted entry cannot be deleted.
        """CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
            entry_id INTEGER NOT NULL REFERENCES storage_entries(id),
            container_path TEXT NOT NULL,
            process_type TEXT NOT NULL DEFAULT '_default_',
            deploy INTEGER NOT NULL DEFAULT 1 CHECK (deploy IN (0, 1)),
            run INTEGER NOT NULL DEFAULT 1 CHECK (run IN (0, 1)),
            subpath TEXT NOT NULL DEFAULT '',
            readonly INTEGER NOT NULL DEFAULT 0 CHECK (readonly IN (0, 1)),
            volume_options TEXT NOT NULL DEFAULT '',
            volume_chown TEXT NOT NULL DEFAULT '',
            UNIQUE (app_id, entry_id, container_path, process_type)
        )""",
        "CREATE INDEX attachments_entry ON attachments (entry_id)",
        _mounts_to_attachments,
        "DROP TABLE mounts",
    ),
    (
        # Dokku 0.38: deploy-phase options may apply to one process type only.
        "ALTER TABLE docker_options ADD COLUMN process_type TEXT NOT NULL DEFAULT '_default_'",
        # The restart policy became a ps property: move `--restart` deploy options there.
        _restart_options_to_property,
    ),
    (
        # A colon mount's options as written (`z,ro`): what storage:list shows and clients match.
        "ALTER TABLE attachments ADD COLUMN options_text TEXT NOT NULL DEFAULT ''",
    ),
    (
        # Backup settings of a storage entry; entry_id NULL holds the global values entries inherit.
        # Secrets (passphrases, backend credentials) are not here: see store/secrets.py.
        """CREATE TABLE backup_settings (
            entry_id INTEGER REFERENCES storage_entries(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX backup_settings_key ON backup_settings (COALESCE(entry_id, 0), key)",
        # What the last backup of an entry did, for backup-report without asking the repository.
        """CREATE TABLE backup_status (
            entry_id INTEGER PRIMARY KEY REFERENCES storage_entries(id) ON DELETE CASCADE,
            snapshot TEXT NOT NULL DEFAULT '',
            finished_at INTEGER NOT NULL DEFAULT 0,
            summary TEXT NOT NULL DEFAULT '',
            error TEXT NOT NULL DEFAULT '',
            error_at INTEGER NOT NULL DEFAULT 0
        )""",
    ),
    (
        # Global values of a plugin's properties (`<plugin>:set --global <key> <value>`).
        """CREATE TABLE global_properties (
            plugin TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (plugin, key)
        )""",
    ),
    (
        # docker-swarm entries: the node whose disk holds a host directory, or a volume driver and its
        # options (JSON object) for a volume every node can mount.
        "ALTER TABLE storage_entries ADD COLUMN node TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE storage_entries ADD COLUMN volume_driver TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE storage_entries ADD COLUMN volume_opts TEXT NOT NULL DEFAULT '{}'",
    ),
    (
        # The audit trail: one row per command that changed state (args redacted; apps and entries as
        # JSON lists). exit_code is NULL until the command ends (still NULL: it was killed).
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            actor TEXT NOT NULL,
            command TEXT NOT NULL,
            args TEXT NOT NULL,
            apps TEXT NOT NULL,
            entries TEXT NOT NULL,
            exit_code INTEGER
        )""",
        "CREATE INDEX events_at ON events (at)",
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
            for step in statements:
                if isinstance(step, str):
                    connection.execute(step)
                else:
                    step(connection)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
