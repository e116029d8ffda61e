"""The ps plugin's exports: how many containers of each process type an app runs, and how they are
restarted and stopped (Dokku 0.38's ps properties)."""

from __future__ import annotations

from pydokku.store import properties

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow


def scale(tx: Tx, app: AppRow, process_types: list[str]) -> dict[str, int]:
    """The count of each process type: as set with ps:scale, else 1 for web and 0 for the others."""
    stored = properties.scale(tx, app.id)
    return {name: stored.get(name, 1 if name == "web" else 0) for name in process_types}


PLUGIN = "ps"
# key -> default: Docker's restart policy for deployed containers (Dokku's default), and the seconds a
# container is given to stop before it is killed.
DEFAULTS = {"restart-policy": "on-failure:10", "stop-timeout-seconds": "10"}


def settings(tx: Tx, app: AppRow) -> dict[str, str]:
    """The app's own values, else the global ones (`ps:set --global`), else the defaults."""
    from pydokku.settings import layered

    return layered(tx, app.id, PLUGIN, DEFAULTS)


def copy_app(tx: Tx, source: AppRow, target: AppRow) -> None:
    """A clone gets the source's scale and ps properties (Dokku's PropertyClone and CloneAppData)."""
    properties.copy(tx, PLUGIN, source.id, target.id)
    properties.copy_scale(tx, source.id, target.id)
