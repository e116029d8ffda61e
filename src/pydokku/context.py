"""What a command runs with: the paths, the global flags, the console, and lazily the store and engine."""

from __future__ import annotations

import os
import sys

from pydokku.console import Console

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TextIO

    from pydokku.args import GlobalFlags
    from pydokku.audit import Audit
    from pydokku.engine import Engine
    from pydokku.store import Store


class Paths:
    __slots__ = ("dokku_root", "lib_root")

    def __init__(self, dokku_root: str, lib_root: str) -> None:
        self.dokku_root = dokku_root  # one directory per app: tools probe $DOKKU_ROOT/<app>
        self.lib_root = lib_root  # state database and storage directories

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Paths:
        lib = env.get("DOKKU_LIB_ROOT") or env.get("DOKKU_LIB_PATH") or "/var/lib/dokku"
        return cls(env.get("DOKKU_ROOT") or "/home/dokku", lib)

    @property
    def storage_root(self) -> str:
        return os.path.join(self.lib_root, "data", "storage")

    @property
    def database(self) -> str:
        return os.path.join(self.lib_root, "pydokku.db")

    def app_dir(self, app: str) -> str:
        return os.path.join(self.dokku_root, app)


class Context:
    def __init__(self, paths: Paths, flags: GlobalFlags, console: Console, stdin: TextIO | None = None) -> None:
        self.paths = paths
        self.flags = flags
        self.console = console
        self.stdin = stdin if stdin is not None else sys.stdin
        self._store: Store | None = None
        self._engine: Engine | None = None
        self.audit: Audit | None = None  # set by the CLI for a command that changes state

    @property
    def store(self) -> Store:
        if self._store is None:
            from pydokku.store import Store

            self._store = Store.open(self.paths.database)
            self._store.audit = self.audit
            if self.flags.trace:
                self._store.trace(self.console.err)
        return self._store

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from pydokku.engine import Engine

            self._engine = Engine(trace=self.console.err if self.flags.trace else None)
        return self._engine

    def finish(self, exit_code: int) -> None:
        """The command ended: complete its audit event (one that wrote, or succeeded), then close. The
        trail never turns a command's outcome into another: a state that cannot be written is let be."""
        import _sqlite3 as sqlite3

        from pydokku.errors import DokkuError

        audit = self.audit
        try:
            if audit is None or not (audit.event_id or (audit.acts and exit_code == 0)):
                return  # it changed nothing: no event
            if self.store.finish_event(exit_code):
                from pydokku.syslog import send

                send(audit.line(exit_code))
        except (DokkuError, OSError, sqlite3.Error):
            pass
        finally:
            self.close()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
