"""An app as a scheduler sees it, read in one transaction from the plugins' exports (release, scale,
config, docker options, mounts, settings); and its releases. A scheduler then talks to the engine with no
transaction open."""

from __future__ import annotations

import time

from pydokku.errors import DokkuError
from pydokku.plugins import config, docker_options, ps, scheduler_docker_local, storage
from pydokku.store import properties, releases

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.plugins.storage import AppMounts
    from pydokku.scheduler.plan import Mount
    from pydokku.store import Tx
    from pydokku.store.apps import AppRow
    from pydokku.store.releases import Release


DEFAULT_CHECKS_WAIT = 1.0


class Runtime:
    """An app as the scheduler sees it."""

    def __init__(self, tx: Tx, app: AppRow, candidate: Release | None = None) -> None:
        self.app = app.name
        # A candidate (built, not yet recorded) is deployed in place of the current release.
        self.release: Release | None = candidate or releases.current(tx, app.id)
        processes = sorted(self.release.processes) if self.release else []
        self.scale = ps.scale(tx, app, processes)
        self.env = config.app_env(tx, app)
        self.settings = {**scheduler_docker_local.settings(tx, app), **ps.settings(tx, app)}
        # Attachments, and the volumes among the docker options (which reach Docker with the options).
        self.mounts: AppMounts = storage.app_mounts(tx, [app])[app.id]
        self.run_options = docker_options.option_args(tx, app, "run")
        # Deploy-phase options may be given for one process type (Dokku 0.38's --process).
        self.deploy_options = {
            process_type: docker_options.option_args(tx, app, "deploy", process_type) for process_type in processes
        }

    @property
    def checks_wait(self) -> float:
        """Dokku's checks without a CHECKS file: a new container (or task) must still run after this many
        seconds (config var DOKKU_DEFAULT_CHECKS_WAIT; Dokku waits 10, we default to 1; 0 checks once)."""
        value = self.env.get("DOKKU_DEFAULT_CHECKS_WAIT", "")
        try:
            return max(0.0, float(value)) if value else DEFAULT_CHECKS_WAIT
        except ValueError as error:
            raise DokkuError(f"DOKKU_DEFAULT_CHECKS_WAIT must be a number of seconds, not {value!r}") from error

    @property
    def stop_timeout(self) -> int:
        return int(self.settings["stop-timeout-seconds"])

    def mounts_for(self, phase: str, process_type: str) -> list[Mount]:
        """The attachments a container of this process type gets in this phase."""
        return storage.scheduler_mounts(self.mounts, phase, process_type)


def load(tx: Tx, app: AppRow, candidate: Release | None = None) -> Runtime:
    return Runtime(tx, app, candidate)


def candidate_release(
    tx: Tx, app: AppRow, source_image: str, source_image_id: str, image_id: str, processes: dict[str, str | None]
) -> Release:
    """The release a build makes, numbered after the current one; recorded only once it runs."""
    current = releases.current(tx, app.id)
    number = current.number + 1 if current else 1
    return releases.Release(0, number, source_image, source_image_id, image_id, int(time.time()), processes)


def record_release(tx: Tx, app: AppRow, release: Release) -> None:
    releases.add(tx, app.id, release)


def build_options(tx: Tx, app: AppRow) -> list[str]:
    return docker_options.option_args(tx, app, "build")


# The output of the last failed deploy's containers (logs:failed), kept with the app; its tail only.
FAILED_OUTPUT = ("logs", "failed-deploy-output")
FAILED_OUTPUT_LIMIT = 1 << 20


def record_failed_output(tx: Tx, app: AppRow, output: bytes | None) -> None:
    """Keep what a failed deploy's containers said (None: a deploy succeeded, forget it)."""
    import base64

    value = None if output is None else base64.b64encode(output[-FAILED_OUTPUT_LIMIT:]).decode()
    if properties.get_all(tx, app.id, FAILED_OUTPUT[0]).get(FAILED_OUTPUT[1]) != value:
        properties.put(tx, app.id, *FAILED_OUTPUT, value)


def failed_output(tx: Tx, app: AppRow) -> bytes | None:
    import base64

    value = properties.get_all(tx, app.id, FAILED_OUTPUT[0]).get(FAILED_OUTPUT[1])
    return None if value is None else base64.b64decode(value)
