"""The scheduler plugin's exports: which scheduler runs an app (Dokku's `selected` property: the app's
own, else the global one, else docker-local) and the shell one-off runs start by default."""

from __future__ import annotations

from pydokku.store import properties

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow

PLUGIN = "scheduler"
KEYS = ("selected", "shell")
DEFAULT_SCHEDULER = "docker-local"
# What can run an app here: docker-local, docker-swarm, and Dokku's null scheduler (runs nothing).
AVAILABLE = ("docker-local", "docker-swarm", "null")


def values(tx: Tx, app: AppRow | None) -> tuple[dict[str, str], dict[str, str]]:
    """The app's own values (none for the global scope) and the global ones."""
    own = properties.get_all(tx, app.id, PLUGIN) if app is not None else {}
    return own, properties.get_global(tx, PLUGIN)


def computed(own: dict[str, str], global_values: dict[str, str], key: str) -> str:
    value = own.get(key) or global_values.get(key) or ""
    return value or (DEFAULT_SCHEDULER if key == "selected" else "")


def selected(tx: Tx, app: AppRow) -> str:
    """The scheduler that runs the app."""
    return computed(*values(tx, app), "selected")


def shell(tx: Tx, app: AppRow) -> str:
    """The shell `dokku run` starts when given no command ("" when none is set)."""
    return computed(*values(tx, app), "shell")
