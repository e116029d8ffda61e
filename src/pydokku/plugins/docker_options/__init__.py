"""The docker-options plugin's exports.

Options are Docker CLI flags, stored per phase exactly as given and in the order they were added.
Volumes among them (`-v`, `--volume`) are storage too: the storage plugin lists and unmounts them.
"""

from __future__ import annotations

from pydokku.plugins.docker_options.volumes import find_volumes as find_volumes
from pydokku.plugins.docker_options.volumes import remove_volume_flag
from pydokku.plugins.docker_options.volumes import split_volume as split_volume
from pydokku.store import Tx
from pydokku.store import options as option_store
from pydokku.store.apps import AppRow
from pydokku.store.options import DEFAULT_PROCESS_TYPE
from pydokku.text import shell_quote

PHASES = ("build", "deploy", "run")


def copy_app(tx: Tx, source: AppRow, target: AppRow) -> None:
    """The target's options become exactly the source's (every process scope), in the same order."""
    for row in option_store.list_for(tx, [target.id]).get(target.id, []):
        option_store.delete(tx, row.id)
    for row in option_store.list_for(tx, [source.id]).get(source.id, []):
        option_store.add(tx, target.id, row.phase, row.option, row.process_type)


def volumes(tx: Tx, app_ids: list[int] | None) -> dict[int, dict[str, list[str]]]:
    """The volume specs (`host:container[:options]`) in each app's options, by phase, in order."""
    found: dict[int, dict[str, list[str]]] = {}
    for app_id, rows in option_store.list_for(tx, app_ids).items():
        by_phase = found.setdefault(app_id, {phase: [] for phase in PHASES})
        for row in rows:
            if _may_hold_volume(row.option):
                by_phase[row.phase].extend(spec for _, _, spec in find_volumes(split_option(row.option)))
    return found


def option_args(tx: Tx, app: AppRow, phase: str, process_type: str = DEFAULT_PROCESS_TYPE) -> list[str]:
    """The phase's options for a container of a process type (those of every process type, then its
    own), as Docker CLI arguments split with shell quoting rules (never evaluated)."""
    args: list[str] = []
    for row in option_store.list_for(tx, [app.id]).get(app.id, []):
        if row.phase == phase and row.process_type in (DEFAULT_PROCESS_TYPE, process_type):
            args += split_option(row.option)
    return args


def _may_hold_volume(option: str) -> bool:
    # "-v" also catches "--volume", "v " the end of a cluster (`-itv X`); most options are skipped unsplit
    return "-v" in option or "v " in option


def split_option(option: str) -> list[str]:
    """An option line as Docker CLI arguments: shell quoting rules, never evaluated."""
    import shlex

    return shlex.split(option)


def remove_volume(tx: Tx, app: AppRow, host: str, container: str, phases: tuple[str, ...] = PHASES) -> bool:
    """Remove every volume flag mounting host at container from these phases; other flags stay."""
    removed = False
    for row in option_store.list_for(tx, [app.id]).get(app.id, []):
        if row.phase not in phases or not _may_hold_volume(row.option):
            continue
        tokens = split_option(row.option)
        spans = [
            (start, stop) for start, stop, spec in find_volumes(tokens) if split_volume(spec)[:2] == (host, container)
        ]
        if not spans:
            continue
        removed = True
        for start, stop in reversed(spans):
            remove_volume_flag(tokens, start, stop)
        if tokens:
            option_store.replace(tx, row.id, " ".join(shell_quote(token) for token in tokens))
        else:
            option_store.delete(tx, row.id)
    return removed
