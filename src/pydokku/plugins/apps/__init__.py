"""The apps plugin's exports: app-name rules and lookups other plugins use."""

from __future__ import annotations

from pydokku.errors import AppMissing, DokkuError
from pydokku.store import Tx, properties
from pydokku.store import apps as app_store
from pydokku.store.apps import AppRow
from pydokku.text import only

# Dokku's rule ^[a-z0-9][a-z0-9.-]*$
NAME_START = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
NAME_REST = NAME_START | frozenset(".-")
MAX_APP_NAME = 200
NO_APP = "Please specify an app to run the command on"
BAD_APP_NAME = (
    "App name must begin with lowercase alphanumeric character, "
    "and may only contain lowercase alphanumerics, dots, and hyphens"
)
NO_APPS = "You haven't deployed any applications yet"

PLUGIN = "apps"
DEPLOY_LOCK = "deploy-lock"  # apps:lock: when it was taken (unix time)
# What the app was last deployed from, recorded when that deploy starts (Dokku's deploy-source-set
# trigger): a deploy that failed can be built again (ps:rebuild). The image id is ours: a rebuild takes
# the very bytes the deploy was asked for.
DEPLOY_SOURCE, DEPLOY_SOURCE_METADATA, DEPLOY_SOURCE_IMAGE_ID = (
    "deploy-source", "deploy-source-metadata", "deploy-source-image-id",
)  # fmt: skip

__all__ = [
    "NO_APPS", "AppRow", "DeploySource", "check_unlocked", "deploy_source", "is_locked", "report_targets", "require",
    "set_deploy_source", "validate_name",
]  # fmt: skip


def validate_name(name: str, *, empty_message: str = NO_APP) -> None:
    if not name:
        raise DokkuError(empty_message)
    if name[0] not in NAME_START or not only(name, NAME_REST):
        raise DokkuError(BAD_APP_NAME)
    if len(name) > MAX_APP_NAME:
        raise DokkuError(f"App name must be at most {MAX_APP_NAME} characters")


def require(tx: Tx, name: str) -> AppRow:
    """The existing app called `name`: empty or invalid names exit 1, a missing app exits 20."""
    validate_name(name)
    app = app_store.get(tx, name)
    if app is None:
        raise AppMissing(name)
    return app


def report_targets(tx: Tx, name: str) -> list[AppRow]:
    """The app a report names, or every app when it names none."""
    return [require(tx, name)] if name else app_store.list_all(tx)


def is_locked(tx: Tx, app: AppRow) -> bool:
    return DEPLOY_LOCK in properties.get_all(tx, app.id, PLUGIN)


def check_unlocked(tx: Tx, app: AppRow) -> None:
    """A locked app (apps:lock) is not deployed, restarted, or given other storage: Dokku's refusal."""
    if is_locked(tx, app):
        raise DokkuError(
            f"{app.name} currently has a deploy lock in place. Exiting...\n"
            " !     Run 'apps:unlock' to release the existing deploy lock"
        )


class DeploySource:
    """What an app is deployed from: its kind (`docker-image`), what names it (the image), and the image's id."""

    __slots__ = ("image_id", "kind", "metadata")

    def __init__(self, kind: str, metadata: str, image_id: str) -> None:
        self.kind = kind
        self.metadata = metadata
        self.image_id = image_id


def set_deploy_source(tx: Tx, app: AppRow, source: DeploySource) -> None:
    properties.put(tx, app.id, PLUGIN, DEPLOY_SOURCE, source.kind)
    properties.put(tx, app.id, PLUGIN, DEPLOY_SOURCE_METADATA, source.metadata)
    properties.put(tx, app.id, PLUGIN, DEPLOY_SOURCE_IMAGE_ID, source.image_id)


def deploy_source(tx: Tx, app: AppRow) -> DeploySource | None:
    """The source the app's last deploy started from (None: never deployed)."""
    values = properties.get_all(tx, app.id, PLUGIN)
    if not values.get(DEPLOY_SOURCE):
        return None
    return DeploySource(values[DEPLOY_SOURCE], values.get(DEPLOY_SOURCE_METADATA, ""),
                        values.get(DEPLOY_SOURCE_IMAGE_ID, ""))  # fmt: skip
