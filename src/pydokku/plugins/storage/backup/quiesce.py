"""What happens to the running containers that mount an entry while it is snapshotted: nothing,
a freeze (`docker pause`, ~40 ms each way), or a stop and a start again. They are always resumed,
also when the snapshot fails or the command is interrupted (SIGINT, SIGTERM, SIGHUP); after a
SIGKILL, the journal of held containers lets the entry's next backup or restore resume them."""

from __future__ import annotations

import contextlib
import signal

from pydokku.errors import Interrupted
from pydokku.plugins.storage.backup.journal import Journal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from pydokku.context import Context


KIND = "quiesced"


@contextlib.contextmanager
def quiesced(context: Context, entry: str, mode: str, directory: str, users: list[str]) -> Iterator[None]:
    if mode == "none" or not users:
        yield
        return
    from pydokku import scheduler

    engine = context.engine
    containers = [(c, t) for c, t in scheduler.holding(context, users, directory) if c.state == "running"]
    if not containers:
        yield
        return
    console = context.console
    names = ", ".join(container.name for container, _ in containers)
    journal = Journal(context, KIND, entry)
    with interrupts_raise():
        journal.save(mode=mode, containers=[container.id for container, _ in containers])
        try:
            console.detail(f"{'Pausing' if mode == 'pause' else 'Stopping'} {names} for the snapshot")
            for container, stop_timeout in containers:
                engine.pause(container.id) if mode == "pause" else engine.stop(container.id, stop_timeout)
            yield
        finally:
            resumed = _resume(context, journal)
            journal.remove()
            console.detail(f"{'Resumed' if mode == 'pause' else 'Started'} {', '.join(resumed)}")


def stop_holders(context: Context, entry: str, users: list[str], source: str) -> None:
    """Stop the running containers of these apps that mount `source` (a restore replaces it), recorded
    first, so that they are started again whatever happens next (resume_left_behind)."""
    from pydokku import scheduler

    held = scheduler.holding(context, users, source) if users else []
    if not held:
        return
    Journal(context, KIND, entry).save(mode="stop", by="restore", containers=[c.id for c, _ in held])
    for container, stop_timeout in held:
        context.console.detail(f"Stopping {container.name}")
        context.engine.stop(container.id, stop_timeout)


def resume_left_behind(context: Context, entry: str, *, quiet: bool = False) -> None:
    """Resume the containers a backup or restore of the entry held (paused or stopped): those an
    interrupted one left behind, or (quiet) those a finished one is done with, one at a time."""
    journal = Journal(context, KIND, entry)
    if not journal.load():
        return
    resumed = _resume(context, journal)
    journal.remove()
    if quiet:
        context.console.lines(f"       Starting {name}" for name in resumed)
    elif resumed:
        held_by = journal.text("by") or "backup"
        context.console.warn(f"Resumed {', '.join(resumed)}, held by an interrupted {held_by} of storage entry {entry}")


def left_behind(context: Context) -> list[tuple[str, str]]:
    """Entries whose held containers were not resumed (a backup or restore was killed), each with the
    names of those still stopped or paused."""
    found = []
    for entry in Journal.names(context, KIND):
        journal = Journal(context, KIND, entry)
        if not journal.load():
            continue
        containers = journal.state.get("containers")
        held = []
        for container_id in containers if isinstance(containers, list) else []:
            state = context.engine.inspect(str(container_id)) or {}
            if (state.get("State") or {}).get("Paused") or not (state.get("State") or {}).get("Running", True):
                held.append(str(state.get("Name", container_id)).lstrip("/"))
        if held:
            found.append((entry, ", ".join(held)))
    return found


def held_by(context: Context, entry: str) -> str:
    journal = Journal(context, KIND, entry)
    journal.load()
    return journal.text("by") or "backup"


def _resume(context: Context, journal: Journal) -> list[str]:
    """Unpause (or start) the journal's containers that are still held; their names."""
    engine = context.engine
    containers = journal.state.get("containers")
    resumed = []
    for container_id in containers if isinstance(containers, list) else []:
        found = engine.inspect(str(container_id)) or {}
        state = found.get("State") or {}
        if state.get("Paused"):
            engine.unpause(str(container_id))
        elif state and not state.get("Running") and journal.text("mode") == "stop":
            engine.start(str(container_id))
        else:
            continue
        resumed.append(str(found.get("Name", container_id)).lstrip("/"))
    return resumed


@contextlib.contextmanager
def interrupts_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind like Ctrl-C while the block runs, so its cleanup runs too."""

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = {number: signal.signal(number, interrupt) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
