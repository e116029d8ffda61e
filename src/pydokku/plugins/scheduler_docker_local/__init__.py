"""The scheduler-docker-local plugin's exports: an app's settings for the docker-local scheduler."""

from __future__ import annotations

from pydokku.settings import layered
from pydokku.store import properties

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow

PLUGIN = "scheduler-docker-local"
# key -> default. disable-chown: never change mount ownership at deploy (Dokku's property).
# init-process: run containers with `--init` so signals reach the app (Dokku's default).
# chown-mounts: also change mount ownership for images that are not buildpack-style.
# parallel-schedule-count: how many process types a deploy starts at once, web first and alone (Dokku's).
# ttl-seconds: one-off runs are stopped after this long unless `--ttl-seconds` says otherwise ("": never).
DEFAULTS = {
    "chown-mounts": "false", "disable-chown": "false", "init-process": "true", "parallel-schedule-count": "1",
    "ttl-seconds": "",
}  # fmt: skip
BOOLEAN = ("true", "false")


def settings(tx: Tx, app: AppRow) -> dict[str, str]:
    """The app's own values, else the global ones (`--global`), else the defaults."""
    return layered(tx, app.id, PLUGIN, DEFAULTS)


DEPLOY_OWNERS = "deploy-owners"  # not a setting: what the last deploy gave each mount


def deploy_owners(tx: Tx, app: AppRow) -> dict[str, tuple[int, int]]:
    """The owner the app's last deploy gave each mount it owns (host path or volume → uid:gid)."""
    import json

    raw = properties.get_all(tx, app.id, PLUGIN).get(DEPLOY_OWNERS)
    return {host: (uid, gid) for host, (uid, gid) in json.loads(raw).items()} if raw else {}


def record_deploy_owners(tx: Tx, app: AppRow, owners: dict[str, tuple[int, int]]) -> None:
    """Remember them (written only when they changed), for storage:verify."""
    import json

    value = json.dumps(owners, sort_keys=True) if owners else None
    if properties.get_all(tx, app.id, PLUGIN).get(DEPLOY_OWNERS) != value:
        properties.put(tx, app.id, PLUGIN, DEPLOY_OWNERS, value)
