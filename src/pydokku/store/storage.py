"""Storage entries (named host directories or docker volumes) and their attachments to apps."""

from __future__ import annotations

from pydokku.store import Tx, app_filter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_COLUMNS = "id, name, scheduler, host_path, chown, mode, reclaim_policy, created_at, node, volume_driver, volume_opts"
_ENTRY = f"SELECT {_COLUMNS} FROM storage_entries"


class Entry:
    __slots__ = (
        "chown", "created_at", "host_path", "id", "mode", "name", "node", "reclaim_policy", "scheduler",
        "volume_driver", "volume_opts",
    )  # fmt: skip

    def __init__(
        self,
        id: int,
        name: str,
        scheduler: str,
        host_path: str,
        chown: str,
        mode: str,
        reclaim_policy: str,
        created_at: int,
        node: str = "",
        volume_driver: str = "",
        volume_opts: str = "{}",
    ) -> None:
        self.id = id
        self.name = name
        self.scheduler = scheduler
        self.host_path = host_path
        self.chown = chown
        self.mode = mode
        self.reclaim_policy = reclaim_policy
        self.created_at = created_at
        self.node = node  # docker-swarm: the node whose disk holds the host directory
        self.volume_driver = volume_driver  # docker-swarm: a volume any node can mount, with these options
        self.volume_opts: dict[str, str] = {} if volume_opts == "{}" else _decoded(volume_opts)


def _decoded(text: str) -> dict[str, str]:
    # json (and the re it pulls in) costs a read command a fifth of its start-up: only driver volumes need it.
    import json

    options: dict[str, str] = json.loads(text)
    return options


class Attachment:
    """An entry mounted into an app's containers."""

    __slots__ = (
        "app_id", "container_path", "deploy", "entry", "id", "options_text", "process_type", "readonly", "run",
        "subpath", "volume_chown", "volume_options",
    )  # fmt: skip

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.id, self.app_id, _, self.container_path, self.process_type, deploy, run, self.subpath, readonly,
         self.volume_options, self.volume_chown, self.options_text) = row[:12]  # fmt: skip
        self.deploy, self.run, self.readonly = bool(deploy), bool(run), bool(readonly)
        # options_text: a colon mount's options as the user wrote them (`z,ro`); "" for named attachments
        self.entry = Entry(*row[12:])


# -- entries -----------------------------------------------------------------------------------------


def entry(tx: Tx, name: str) -> Entry | None:
    row = tx.execute(_ENTRY + " WHERE name = ?", (name,)).fetchone()
    return Entry(*row) if row else None


def entries(tx: Tx) -> list[Entry]:
    return [Entry(*row) for row in tx.execute(_ENTRY + " ORDER BY name COLLATE BINARY")]


def save_entry(
    tx: Tx,
    name: str,
    host_path: str,
    chown: str,
    mode: str,
    reclaim_policy: str,
    created_at: int,
    *,
    scheduler: str = "docker-local",
    node: str = "",
    volume_driver: str = "",
    volume_opts: dict[str, str] | None = None,
) -> Entry:
    """Insert the entry, or update every field of the existing one of that name."""
    import json

    tx.execute(
        "INSERT INTO storage_entries (name, host_path, chown, mode, reclaim_policy, created_at, scheduler, node,"
        " volume_driver, volume_opts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
        " host_path = excluded.host_path, chown = excluded.chown, mode = excluded.mode,"
        " reclaim_policy = excluded.reclaim_policy, node = excluded.node, volume_driver = excluded.volume_driver,"
        " volume_opts = excluded.volume_opts",
        (name, host_path, chown, mode, reclaim_policy, created_at, scheduler, node, volume_driver,
         json.dumps(volume_opts or {}, sort_keys=True)),
    )  # fmt: skip
    saved = entry(tx, name)
    assert saved is not None
    return saved


def set_entry_node(tx: Tx, entry_id: int, node: str) -> None:
    tx.execute("UPDATE storage_entries SET node = ? WHERE id = ?", (node, entry_id))


def delete_entry(tx: Tx, entry_id: int) -> None:
    tx.execute("DELETE FROM storage_entries WHERE id = ?", (entry_id,))


def metadata(tx: Tx, entry_id: int, kind: str) -> dict[str, str]:
    rows = tx.execute(
        "SELECT key, value FROM storage_entry_metadata WHERE entry_id = ? AND kind = ? ORDER BY key", (entry_id, kind)
    )
    return dict(rows.fetchall())


def set_metadata(tx: Tx, entry_id: int, kind: str, key: str, value: str | None) -> None:
    tx.execute("DELETE FROM storage_entry_metadata WHERE entry_id = ? AND kind = ? AND key = ?", (entry_id, kind, key))
    if value is not None:
        tx.execute(
            "INSERT INTO storage_entry_metadata (entry_id, kind, key, value) VALUES (?, ?, ?, ?)",
            (entry_id, kind, key, value),
        )


# -- attachments -------------------------------------------------------------------------------------

_ATTACHMENT = (
    "SELECT a.id, a.app_id, a.entry_id, a.container_path, a.process_type, a.deploy, a.run, a.subpath,"
    " a.readonly, a.volume_options, a.volume_chown, a.options_text,"
    " e.id, e.name, e.scheduler, e.host_path, e.chown, e.mode, e.reclaim_policy, e.created_at, e.node,"
    " e.volume_driver, e.volume_opts"
    " FROM attachments a JOIN storage_entries e ON e.id = a.entry_id"
)


def attachments(tx: Tx, app_ids: list[int] | None = None) -> dict[int, list[Attachment]]:
    """Every attachment of the given apps (all when None), grouped by app, in the order added."""
    where, params = app_filter(app_ids)
    grouped: dict[int, list[Attachment]] = {}
    for row in tx.execute(_ATTACHMENT + where.replace("app_id", "a.app_id") + " ORDER BY a.id", params):
        grouped.setdefault(row[1], []).append(Attachment(row))
    return grouped


def attachments_of_entry(tx: Tx, entry_id: int) -> list[Attachment]:
    rows = tx.execute(_ATTACHMENT + " WHERE a.entry_id = ? ORDER BY a.id", (entry_id,))
    return [Attachment(row) for row in rows]


def upsert_attachment(
    tx: Tx,
    app_id: int,
    entry_id: int,
    container_path: str,
    process_type: str,
    *,
    deploy: bool,
    run: bool,
    subpath: str,
    readonly: bool,
    volume_options: str,
    volume_chown: str,
    options_text: str = "",
) -> bool:
    """Add the attachment, or rewrite the one with the same identity; True when it was added."""
    existing = tx.execute(
        "SELECT id FROM attachments WHERE app_id = ? AND entry_id = ? AND container_path = ? AND process_type = ?",
        (app_id, entry_id, container_path, process_type),
    ).fetchone()
    values = (int(deploy), int(run), subpath, int(readonly), volume_options, volume_chown, options_text)
    if existing:
        tx.execute(
            "UPDATE attachments SET deploy = ?, run = ?, subpath = ?, readonly = ?, volume_options = ?,"
            " volume_chown = ?, options_text = ? WHERE id = ?",
            (*values, existing[0]),
        )
        return False
    tx.execute(
        "INSERT INTO attachments (app_id, entry_id, container_path, process_type, deploy, run, subpath, readonly,"
        " volume_options, volume_chown, options_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (app_id, entry_id, container_path, process_type, *values),
    )
    return True


def delete_attachment(tx: Tx, attachment_id: int) -> None:
    tx.execute("DELETE FROM attachments WHERE id = ?", (attachment_id,))


def copy_attachments(tx: Tx, source_app_id: int, target_app_id: int) -> None:
    tx.execute(
        "INSERT INTO attachments (app_id, entry_id, container_path, process_type, deploy, run, subpath, readonly,"
        " volume_options, volume_chown, options_text) SELECT ?, entry_id, container_path, process_type, deploy, run,"
        " subpath, readonly, volume_options, volume_chown, options_text FROM attachments WHERE app_id = ? ORDER BY id",
        (target_app_id, source_app_id),
    )
