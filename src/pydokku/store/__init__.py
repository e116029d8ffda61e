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
    """`with store.write() as tx:` — commits when the block ends, rolls back when it raises."""

    __slots__ = ("_begin", "_connection")

    def __init__(self, connection: sqlite3.Connection, begin: str) -> None:
        self._connection = connection
        self._begin = begin

    def __enter__(self) -> Tx:
        self._connection.execute(self._begin)
        return self._connection

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._connection.execute("COMMIT" if kind is None else "ROLLBACK")


class Store:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    @classmethod
    def open(cls, path: str) -> Store:
        timeout = os.environ.get("DOKKU_STATE_BUSY_TIMEOUT", "")
        try:
            seconds = float(timeout) if timeout else BUSY_TIMEOUT_SECONDS
        except ValueError:
            raise DokkuError(f"DOKKU_STATE_BUSY_TIMEOUT must be a number of seconds, not {timeout!r}") from None
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
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
        return Transaction(self._connection, "BEGIN IMMEDIATE")

    def trace(self, stream: TextIO) -> None:
        """`--trace`: echo every statement to `stream`."""
        self._connection.set_trace_callback(lambda sql: stream.write(f"+ sql: {sql}\n"))

    def close(self) -> None:
        self._connection.close()
