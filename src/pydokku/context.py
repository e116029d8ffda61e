"""What a command runs with: the paths, the global flags, the console, and lazily the store and engine."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pydokku.args import GlobalFlags
from pydokku.console import Console

if TYPE_CHECKING:
    from pydokku.engine import Engine
    from pydokku.store import Store


@dataclass(frozen=True)
class Paths:
    dokku_root: Path  # one directory per app: tools probe $DOKKU_ROOT/<app>
    lib_root: Path  # state database and storage directories

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Paths:
        lib = env.get("DOKKU_LIB_ROOT") or env.get("DOKKU_LIB_PATH") or "/var/lib/dokku"
        return cls(Path(env.get("DOKKU_ROOT") or "/home/dokku"), Path(lib))

    @property
    def storage_root(self) -> Path:
        return self.lib_root / "data" / "storage"

    @property
    def database(self) -> Path:
        return self.lib_root / "pydokku.db"

    def app_dir(self, app: str) -> Path:
        return self.dokku_root / app


@dataclass
class Context:
    paths: Paths
    flags: GlobalFlags
    console: Console
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    _store: Store | None = None
    _engine: Engine | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            from pydokku.store import Store

            self._store = Store.open(self.paths.database)
        return self._store

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from pydokku.engine import Engine

            self._engine = Engine(trace=self.console.err if self.flags.trace else None)
        return self._engine

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
