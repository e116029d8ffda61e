"""What the one error boundary says about a failure no command anticipated (imported only on failure).

Commands raise `DokkuError` for everything they check. Faults of the machine (a full disk, a read-only
or corrupt state database, a lock held too long, a lost engine connection) surface as OSError or
sqlite3 errors from deep inside; the CLI turns each into one ` !     ` line naming the problem and
what to do, and shows the traceback only under `--trace`.
"""

from __future__ import annotations

import _sqlite3 as sqlite3
import errno

_OS_ADVICE = {
    errno.ENOSPC: "the file system is full; free some space and run the command again",
    errno.EDQUOT: "the disk quota is exhausted; free some space and run the command again",
    errno.EROFS: "the file system is read-only; remount it read-write and run the command again",
    errno.EACCES: "permission denied; run dokku as root (or as the dokku user)",
    errno.EPERM: "operation not permitted; run dokku as root (or as the dokku user)",
}


def describe(error: BaseException, database: str) -> str:
    """One line (without the ` !     ` prefix) for an unexpected failure."""
    if isinstance(error, sqlite3.Error):
        return _describe_sqlite(error, database)
    if isinstance(error, OSError):
        where = f" ({error.filename})" if error.filename else ""
        advice = _OS_ADVICE.get(error.errno or 0)
        if advice:
            return f"{error.strerror}{where}: {advice}"
        return f"{error.strerror or error}{where}"
    return f"Unexpected error: {type(error).__name__}: {error}. Run the command again with --trace for details."


def _no_space_left(database: str) -> bool:
    import os

    try:
        usage = os.statvfs(os.path.dirname(database))
    except OSError:
        return False
    return usage.f_bavail == 0 or usage.f_favail == 0


def _describe_sqlite(error: sqlite3.Error, database: str) -> str:
    text = str(error)
    if "locked" in text or "busy" in text:
        return (
            f"The state database {database} stayed locked by another dokku command past the busy timeout;"
            " run the command again when it has finished"
        )
    if "readonly" in text or "read-only" in text:
        return f"The state database {database} is read-only: {text}; make it writable (chattr -i, chmod, mount rw)"
    if "full" in text or ("I/O error" in text and _no_space_left(database)):
        return (
            f"The state database {database} cannot grow: {text}; the file system is full,"
            " free some space and run the command again"
        )
    if "I/O error" in text:
        return (
            f"The state database {database} could not be read or written ({text});"
            " check the disk, then run the command again"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"The state database {database} is corrupt ({text}); restore it from a backup"
            " (`sqlite3 .recover` may salvage its rows)"
        )
    if "unable to open" in text and _unreadable(database):
        return (
            f"The state database {database} is readable by its owner only (it holds config values): run dokku"
            " as root, or through sudo"
        )
    if "unable to open" in text:
        return f"Unable to open the state database {database}: {text}; check that its folder exists and is writable"
    return f"The state database {database} failed: {text}"


def _unreadable(database: str) -> bool:
    import os

    return os.path.exists(database) and not os.access(database, os.R_OK)
