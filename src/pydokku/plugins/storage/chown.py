"""`--chown` values of storage:ensure-directory (pure)."""

from __future__ import annotations

from pydokku.errors import DokkuError

PRESETS = {"herokuish": 32767, "heroku": 1000, "paketo": 2000, "packeto": 2000, "root": 0}
DEFAULT = "herokuish"
MAX_ID = 65535
PACKETO_DEPRECATION = (
    "Detected deprecated chown flag 'packeto'. Using 'paketo' instead. Please update your configuration."
)


class ChownChoice:
    __slots__ = ("deprecated", "owner_id")

    def __init__(self, owner_id: int | None, deprecated: bool = False) -> None:
        self.owner_id = owner_id  # None: leave ownership alone (`--chown false`)
        self.deprecated = deprecated

    def on_host(self, userns_offset: tuple[int, int] | None) -> tuple[int, int] | None:
        """The host uid:gid for this choice; under user-namespace remapping, shifted by the offset."""
        if self.owner_id is None:
            return None
        if userns_offset is None:
            return self.owner_id, self.owner_id
        return self.owner_id + userns_offset[0], self.owner_id + userns_offset[1]


def resolve(option: str) -> ChownChoice:
    if option == "false":
        return ChownChoice(None)
    if option in PRESETS:
        return ChownChoice(PRESETS[option], deprecated=option == "packeto")
    if option.isascii() and option.isdigit() and int(option) <= MAX_ID:
        return ChownChoice(int(option))
    raise DokkuError("Unsupported chown permissions")
