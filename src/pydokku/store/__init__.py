"""The state store: one SQLite database under $DOKKU_LIB_ROOT, the only place that speaks SQL.

WAL mode with a busy timeout lets many `dokku` processes work at once; every command's change is
one `BEGIN IMMEDIATE` transaction, so concurrent writers queue instead of failing or losing updates,
and a process killed mid-write leaves the previous state intact.
"""

from __future__ import annotations

# The C module itself: the `sqlite3` package around it only adds date/time adapters, which we do not
# use, and importing them (datetime) costs every command ~5% of its start-up.
import _sqlite3 as sqlite3
import os

from pydokku.errors import DokkuError
from pydokku.store.schema import migrate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import TextIO

    from pydokku.audit import Audit

BUSY_TIMEOUT_SECONDS = 60.0
# Above this many apps, reading every row and grouping beats a long `IN (...)` list.
MAX_IN_LIST = 500

Tx = sqlite3.Connection


def app_filter(app_ids: list[int] | None) -> tuple[str, tuple[int, ...]]:
    """A WHERE clause (and its parameters) restricting a per-app table to some apps."""
    if app_ids is None or len(app_ids) > MAX_IN_LIST:
        return "", ()
    return f" WHERE app_id IN ({','.join('?' * len(app_ids))})", tuple(app_ids)


class Transaction:
    """`with store.write() as tx:` — commits when the block ends, rolls back when it raises. A write
    transaction also writes the running command's audit event, once: it is taken back when the
    transaction changed nothing else or rolled back (the next one writes it)."""

    __slots__ = ("_audit", "_begin", "_changes", "_connection", "_wrote_event")

    def __init__(self, connection: sqlite3.Connection, begin: str, audit: Audit | None = None) -> None:
        self._connection = connection
        self._begin = begin
        self._audit = audit
        self._wrote_event = False
        self._changes = 0

    def __enter__(self) -> Tx:
        self._connection.execute(self._begin)
        audit = self._audit
        if audit is not None and not audit.event_id:
            from pydokku.store import events

            audit.event_id = events.insert(self._connection, audit.at, audit.actor, audit.command, audit.args,
                                           audit.apps, audit.entries, None)  # fmt: skip
            self._wrote_event = True
            self._changes = self._connection.total_changes
        return self._connection

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        audit = self._audit if self._wrote_event else None
        if kind is not None:
            self._connection.execute("ROLLBACK")
            if audit is not None:
                audit.event_id = 0
            return
        if audit is not None and self._connection.total_changes == self._changes:
            from pydokku.store import events

            events.delete(self._connection, audit.event_id)  # nothing else changed: no event (yet)
            audit.event_id = 0
        self._connection.execute("COMMIT")


# Config values and repository addresses live in the database: only its owner may read it. SQLite gives
# its -wal and -shm files the database file's mode when it creates them.
PRIVATE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")


def _keep_private(path: str) -> None:
    """Create the database file 0600 before SQLite does (it would take the umask's 0644), and take group
    and other permissions off one left readable by an earlier version (with its side files)."""
    if not _make_private(path, os.O_CREAT):
        return
    for suffix in SIDE_FILES:
        if os.path.exists(path + suffix):
            _make_private(path + suffix, 0)


def _make_private(path: str, create: int) -> bool:
    """chmod 0600 (never through a link); True when it was not already. A file this process may not open
    or change is left to SQLite, whose error says why."""
    try:
        fd = os.open(path, os.O_RDONLY | create | os.O_CLOEXEC | os.O_NOFOLLOW, PRIVATE)
    except OSError:
        return False
    try:
        if os.fstat(fd).st_mode & 0o077 == 0:
            return False
        os.fchmod(fd, PRIVATE)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


class Store:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self.audit: Audit | None = None  # the running command's event, when it changes state

    @classmethod
    def open(cls, path: str) -> Store:
        timeout = os.environ.get("DOKKU_STATE_BUSY_TIMEOUT", "")
        try:
            seconds = float(timeout) if timeout else BUSY_TIMEOUT_SECONDS
        except ValueError:
            raise DokkuError(f"DOKKU_STATE_BUSY_TIMEOUT must be a number of seconds, not {timeout!r}") from None
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _keep_private(path)
            connection = sqlite3.connect(path, timeout=seconds, isolation_level=None)
            connection.execute("PRAGMA foreign_keys = ON")
            migrate(connection)
        except OSError as error:
            raise DokkuError(f"Unable to open the state database {path}: {error}") from error
        return cls(connection)

    def read(self) -> Transaction:
        """A consistent snapshot for commands that only look."""
        return Transaction(self._connection, "BEGIN")

    def write(self) -> Transaction:
        """One transaction for a command's whole change: all of it lands, or none of it."""
        return Transaction(self._connection, "BEGIN IMMEDIATE", self.audit)

    def finish_event(self, exit_code: int) -> bool:
        """The command ended: its event gets the exit code (written now if the command wrote nothing).
        Durable at the next checkpoint only (synchronous NORMAL): it adds no fsync to every command. True
        when events are mirrored to syslog (events:on)."""
        from pydokku.store import events, properties

        assert self.audit is not None
        self._connection.execute("PRAGMA synchronous = NORMAL")
        with self.write() as tx:
            events.set_exit_code(tx, self.audit.event_id, exit_code)
            return properties.get_global(tx, "events").get("mirror") == "true"

    def trace(self, stream: TextIO) -> None:
        """`--trace`: echo every statement to `stream`."""
        self._connection.set_trace_callback(lambda sql: stream.write(f"+ sql: {sql}\n"))

    def close(self) -> None:
        self._connection.close()
