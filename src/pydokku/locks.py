"""Exclusive locks between dokku processes: a file under `$DOKKU_LIB_ROOT/locks` held with flock, so a
lock dies with its holder (even one killed by SIGKILL)."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.context import Context


class Lock:
    def __init__(self, context: Context, *names: str) -> None:
        self._path = os.path.join(context.paths.lib_root, "locks", *names)
        self._fd = -1

    def __enter__(self) -> None:
        import fcntl

        os.makedirs(os.path.dirname(self._path), exist_ok=True)
        self._fd = os.open(self._path, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)

    def taken_now(self) -> bool:
        """Take the lock only if no one holds it (True: held until __exit__)."""
        import fcntl

        os.makedirs(os.path.dirname(self._path), exist_ok=True)
        self._fd = os.open(self._path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            return False
        return True


def app_lock(context: Context, app: str) -> Lock:
    """One deploy, stop or removal of an app at a time; others wait for it."""
    return Lock(context, app)


def entry_lock(context: Context, entry: str) -> Lock:
    """One backup, restore or import of a storage entry at a time."""
    return Lock(context, "storage", entry)
