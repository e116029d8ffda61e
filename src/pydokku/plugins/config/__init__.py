"""The config plugin's exports."""

from __future__ import annotations

from pydokku.store import Tx
from pydokku.store import config as config_store
from pydokku.store.apps import AppRow


def copy_app(tx: Tx, source: AppRow, target: AppRow) -> None:
    config_store.set_vars(tx, target.id, config_store.all_vars(tx, source.id))


def app_env(tx: Tx, app: AppRow) -> dict[str, str]:
    """The environment an app's containers get: global vars overridden by the app's own."""
    return {**config_store.all_vars(tx, None), **config_store.all_vars(tx, app.id)}
