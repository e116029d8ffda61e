"""Dokku's null scheduler: it runs nothing. A release built for an app it schedules is recorded and no
container starts; what another scheduler left (containers, images) is still removed with the app."""

from __future__ import annotations

from pydokku.errors import DokkuError
from pydokku.plugins import apps
from pydokku.scheduler.docker_local import check_options as check_options
from pydokku.scheduler.docker_local import engine as engine
from pydokku.scheduler.docker_local import remove_all as remove_all
from pydokku.scheduler.runtime import record_release

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.context import Context
    from pydokku.engine import Container
    from pydokku.scheduler.plan import OneOff
    from pydokku.store.releases import Release


def deploy(context: Context, app_name: str, only: str | None = None, candidate: Release | None = None) -> None:
    if candidate is not None:
        with context.store.write() as tx:
            record_release(tx, apps.require(tx, app_name), candidate)
    context.console.header(f"Skipping the deploy of {app_name}: its scheduler is null, which runs nothing")


def stop(context: Context, app_name: str) -> int:
    return 0


def containers(context: Context, app_name: str) -> list[Container]:
    return []


def inspect(context: Context, app_name: str) -> list[dict[str, object]]:
    return []


def log_streams(context: Context, app_name: str, process_type: str, tail: int, follow: bool) -> list[object]:
    return []


def remove_processes(context: Context, app_name: str) -> None:
    """Nothing runs under the null scheduler."""


def run(context: Context, app_name: str, one_off: OneOff) -> int:
    raise DokkuError(
        f"App {app_name} uses the null scheduler, which runs nothing; choose another with"
        f" dokku scheduler:set {app_name} selected docker-local"
    )


def runs(context: Context, app_name: str) -> list[Container]:
    return []


def run_log_streams(context: Context, app_name: str, run: str, tail: int, follow: bool) -> list[object]:
    return []


def stop_runs(context: Context, app_name: str, run: str) -> list[str]:
    return []


def running_with_mount(context: Context, app_names: list[str], source: str) -> list[tuple[Container, int]]:
    return []


def running_mounts(context: Context, app_names: list[str]) -> dict[str, list[Container]]:
    return {}
