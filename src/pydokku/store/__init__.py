"""The state store: one SQLite database under $DOKKU_LIB_ROOT, the only place that speaks SQL.

WAL mode with a busy timeout lets many `dokku` processes work at once; every command's change is
one `BEGIN IMMEDIATE` transaction, so concurrent writers queue instead of failing or losing updates,
and a process killed mid-write leaves the previous state intact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from pydokku.errors import DokkuError
from pydokku.store.schema import migrate

BUSY_TIMEOUT_SECONDS = 60.0

Tx = sqlite3.Connection


# Above this many apps, reading every row and grouping beats a long `IN (...)` list.
MAX_IN_LIST = 500


def app_filter(app_ids: list[int] | None) -> tuple[str, tuple[int, ...]]:
    """A WHERE clause (and its parameters) restricting a per-app table to some apps."""
    if app_ids is None or len(app_ids) > MAX_IN_LIST:
        return "", ()
    return f" WHERE app_id IN ({','.join('?' * len(app_ids))})", tuple(app_ids)


class Store:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    @classmethod
    def open(cls, path: Path) -> Store:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            connection.execute("PRAGMA foreign_keys = ON")
            migrate(connection)
        except (OSError, sqlite3.Error) as error:
            raise DokkuError(f"Unable to open the state database {path}: {error}") from error
        return cls(connection)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A consistent snapshot for commands that only look."""
        with self._transaction("BEGIN") as tx:
            yield tx

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One transaction for a command's whole change: all of it lands, or none of it."""
        with self._transaction("BEGIN IMMEDIATE") as tx:
            yield tx

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Tx]:
        connection = self._connection
        connection.execute(begin)
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def trace(self, stream: TextIO) -> None:
        """`--trace`: echo every statement to `stream`."""
        self._connection.set_trace_callback(lambda sql: stream.write(f"+ sql: {sql}\n"))

    def close(self) -> None:
        self._connection.close()
