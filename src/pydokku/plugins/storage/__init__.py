"""The storage plugin's exports: an app's mounts, from storage:mount and from docker-options volumes."""

from __future__ import annotations

from pydokku.plugins import docker_options
from pydokku.plugins.storage.spec import MountSpec
from pydokku.store import mounts as mount_store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow


class AppMounts:
    """An app's mounts by phase: its storage mounts plus the volumes in its docker options."""

    __slots__ = ("build", "deploy", "run")

    def __init__(self) -> None:
        self.build: list[MountSpec] = []
        self.deploy: list[MountSpec] = []
        self.run: list[MountSpec] = []

    def listed(self) -> list[MountSpec]:
        """What storage:list shows: the deploy and run mounts, each once, in order."""
        return list(dict.fromkeys([*self.deploy, *self.run]))


def app_mounts(tx: Tx, apps: list[AppRow]) -> dict[int, AppMounts]:
    ids = [app.id for app in apps]
    own = mount_store.list_for(tx, ids)
    from_options = docker_options.volumes(tx, ids)
    result = {}
    for app in apps:
        mounts = AppMounts()
        for row in own.get(app.id, []):
            spec = MountSpec(row.host_path, row.container_path, row.volume_options)
            if row.deploy:
                mounts.deploy.append(spec)
            if row.run:
                mounts.run.append(spec)
        for phase, specs in from_options.get(app.id, {}).items():
            getattr(mounts, phase).extend(MountSpec.loose(spec) for spec in specs)
        result[app.id] = mounts
    return result


def own_mounts(tx: Tx, app: AppRow, phase: str) -> list[MountSpec]:
    """The app's storage mounts for a phase (volumes in docker options reach Docker with the options)."""
    rows = mount_store.list_for(tx, [app.id]).get(app.id, [])
    return [MountSpec(r.host_path, r.container_path, r.volume_options) for r in rows if getattr(r, phase)]


def copy_app(tx: Tx, source: AppRow, target: AppRow) -> None:
    for row in mount_store.list_for(tx, [source.id]).get(source.id, []):
        mount_store.add(tx, target.id, row.host_path, row.container_path, row.volume_options, row.deploy, row.run)
