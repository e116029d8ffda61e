"""The docker-options plugin's exports.

Options are Docker CLI flags, stored per phase exactly as given and in the order they were added.
Volumes among them (`-v`, `--volume`) are storage too: the storage plugin lists and unmounts them.
"""

from __future__ import annotations

from pydokku.plugins.docker_options.volumes import find_volumes, split_volume
from pydokku.store import Tx
from pydokku.store import options as option_store
from pydokku.store.apps import AppRow
from pydokku.text import shell_quote

PHASES = ("build", "deploy", "run")
DEFAULT_RESTART_POLICY = "--restart=on-failure:10"


def on_app_create(tx: Tx, app: AppRow) -> None:
    """New apps restart on failure, as Dokku's ps plugin sets up on post-create."""
    option_store.add(tx, app.id, "deploy", DEFAULT_RESTART_POLICY)


def copy_app(tx: Tx, source: AppRow, target: AppRow) -> None:
    """The target's options become exactly the source's, in the same order."""
    for phase in PHASES:
        option_store.delete_phase(tx, target.id, phase)
    for row in option_store.list_for(tx, [source.id]).get(source.id, []):
        option_store.add(tx, target.id, row.phase, row.option)


def volumes(tx: Tx, app_ids: list[int] | None) -> dict[int, dict[str, list[str]]]:
    """The volume specs (`host:container[:options]`) in each app's options, by phase, in order."""
    found: dict[int, dict[str, list[str]]] = {}
    for app_id, rows in option_store.list_for(tx, app_ids).items():
        by_phase = found.setdefault(app_id, {phase: [] for phase in PHASES})
        for row in rows:
            if _may_hold_volume(row.option):
                by_phase[row.phase].extend(spec for _, _, spec in find_volumes(_split(row.option)))
    return found


def option_args(tx: Tx, app: AppRow, phase: str) -> list[str]:
    """The phase's options as Docker CLI arguments, split with shell quoting rules (never evaluated)."""
    args: list[str] = []
    for row in option_store.list_for(tx, [app.id]).get(app.id, []):
        if row.phase == phase:
            args += _split(row.option)
    return args


def _may_hold_volume(option: str) -> bool:
    return "-v" in option  # also catches "--volume"; most options (--restart=…) are skipped unsplit


def _split(option: str) -> list[str]:
    import shlex

    return shlex.split(option)


def remove_volume(tx: Tx, app: AppRow, host: str, container: str, phases: tuple[str, ...] = PHASES) -> bool:
    """Remove every volume flag mounting host at container from these phases; other flags stay."""
    removed = False
    for row in option_store.list_for(tx, [app.id]).get(app.id, []):
        if row.phase not in phases or not _may_hold_volume(row.option):
            continue
        tokens = _split(row.option)
        spans = [
            (start, stop) for start, stop, spec in find_volumes(tokens) if split_volume(spec)[:2] == (host, container)
        ]
        if not spans:
            continue
        removed = True
        for start, stop in reversed(spans):
            del tokens[start:stop]
        if tokens:
            option_store.replace(tx, row.id, " ".join(shell_quote(token) for token in tokens))
        else:
            option_store.delete(tx, row.id)
    return removed
