"""What a long operation on an entry has done so far, in a file replaced atomically at each step, so
that the next run can finish or undo it after an interruption (even SIGKILL)."""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.context import Context


class Journal:
    def __init__(self, context: Context, kind: str, name: str) -> None:
        self.name = name
        self.path = os.path.join(context.paths.lib_root, "data", kind, f"{name}.json")
        self.state: dict[str, object] = {}

    def load(self) -> bool:
        try:
            with open(self.path, encoding="utf-8") as file:
                self.state = json.load(file)
        except FileNotFoundError:
            return False
        return True

    def save(self, **changes: object) -> None:
        self.state.update(changes)
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        temporary = f"{self.path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(self.state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)

    def remove(self) -> None:
        import contextlib

        os.unlink(self.path)
        with contextlib.suppress(OSError):  # when it was the last: a finished operation leaves nothing
            os.rmdir(os.path.dirname(self.path))

    @staticmethod
    def names(context: Context, kind: str) -> list[str]:
        """The names of this kind's journals (operations not finished), sorted."""
        try:
            listed = os.listdir(os.path.join(context.paths.lib_root, "data", kind))
        except FileNotFoundError:
            return []
        return sorted(name.removesuffix(".json") for name in listed if name.endswith(".json"))

    def text(self, key: str) -> str:
        return str(self.state.get(key) or "")
