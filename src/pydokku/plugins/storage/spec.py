"""Mount specs `host-dir:container-dir[:options]` and `docker-volume:container-dir[:options]` (pure).

The two syntax messages are Dokku's own; the further checks catch what Docker would reject at deploy
time (or silently misread), so that a bad mount fails when it is added, not when the app restarts.
"""

from __future__ import annotations

import posixpath

from pydokku.errors import DokkuError
from pydokku.plugins.docker_options import split_volume
from pydokku.text import ASCII_ALNUM, has_control_characters, only

VOLUME_NAME_REST = ASCII_ALNUM | frozenset("_.-")
BAD_PATHS = "Storage path must be two valid paths divided by colon."
BAD_VOLUME = (
    "Volume name must be two characters or more. Volume name must not contain invalid characters. "
    "Storage path must be two valid paths divided by colon."
)
# What `docker run -v` accepts after the second colon.
VOLUME_OPTIONS = (
    "ro", "rw", "z", "Z", "nocopy",
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
    "consistent", "cached", "delegated",
)  # fmt: skip
MAX_PATH_BYTES = 4095
MAX_NAME_BYTES = 255


class MountSpec:
    __slots__ = ("container", "host", "options")

    def __init__(self, host: str, container: str, options: str = "") -> None:
        self.host = host
        self.container = container
        self.options = options

    def _key(self) -> tuple[str, str, str]:
        return self.host, self.container, self.options

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MountSpec) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"MountSpec({str(self)!r})"

    @classmethod
    def loose(cls, spec: str) -> MountSpec:
        """Split a spec found in docker options, unvalidated (Docker already reads it)."""
        return cls(*split_volume(spec))

    @property
    def is_volume(self) -> bool:
        return not self.host.startswith("/")

    @property
    def target(self) -> str:
        """The container path as Docker compares it (`/app/x/` and `/app/x` are one target)."""
        return "/" + posixpath.normpath(self.container).lstrip("/") if self.container else ""

    def identifies(self, other: MountSpec) -> bool:
        """A mount is identified by its host and container paths, compared exactly."""
        return (self.host, self.container) == (other.host, other.container)

    def __str__(self) -> str:
        return f"{self.host}:{self.container}" + (f":{self.options}" if self.options else "")

    def as_json(self) -> dict[str, str]:
        return {"host_path": self.host, "container_path": self.container, "volume_options": self.options}

    @property
    def readonly(self) -> bool:
        return "ro" in self.options.split(",")

    @property
    def other_options(self) -> str:
        """The options besides `ro`, which an attachment keeps as its readonly flag."""
        return ",".join(word for word in self.options.split(",") if word and word != "ro")


def render_options(readonly: bool, volume_options: str) -> str:
    """`ro`, `ro,<options>` or `<options>`, as Dokku renders an attachment's mount options."""
    return ",".join(([] if not readonly else ["ro"]) + ([volume_options] if volume_options else []))


def parse(raw: str) -> MountSpec:
    if has_control_characters(raw):
        raise DokkuError("Storage paths cannot contain control characters such as newlines or tabs.")
    if raw.startswith("/"):
        if ":/" not in raw[1:]:  # Dokku's ^/.*:/
            raise DokkuError(BAD_PATHS)
    elif not _volume_form(raw):
        raise DokkuError(BAD_VOLUME)
    spec = MountSpec(*split_volume(raw))
    if not spec.container.startswith("/"):
        raise DokkuError(BAD_PATHS)
    for path in (spec.host, spec.container):
        if ".." in path.split("/"):
            raise DokkuError(f"Storage paths cannot contain '..' segments: {raw}")
        if len(path.encode()) > MAX_PATH_BYTES or any(len(p.encode()) > MAX_NAME_BYTES for p in path.split("/")):
            raise DokkuError(
                f"Storage paths are limited to {MAX_PATH_BYTES} bytes, and each of their names to {MAX_NAME_BYTES}."
            )
    if spec.target == "/":
        raise DokkuError("The container path cannot be the container's root directory (/).")
    check_volume_options(spec.options, is_volume=spec.is_volume)
    return spec


def _volume_form(raw: str) -> bool:
    """Dokku's ^[a-zA-Z0-9][a-zA-Z0-9_.-]+:/ — a volume name of two or more characters, then `:/`."""
    name, colon, rest = raw.partition(":")
    return (
        len(name) >= 2
        and name[0] in ASCII_ALNUM
        and only(name, VOLUME_NAME_REST)
        and bool(colon)
        and rest.startswith("/")
    )


def check_volume_options(options: str, *, is_volume: bool) -> None:
    if not options:
        return
    words = options.split(",")
    if "nocopy" in words and not is_volume:
        raise DokkuError("Volume option 'nocopy' applies to docker volumes only, not to host paths.")
    for word in words:
        if word not in VOLUME_OPTIONS:
            raise DokkuError(f"Unsupported volume option '{word}'. Supported options: {', '.join(VOLUME_OPTIONS)}")
    if "ro" in words and "rw" in words:
        raise DokkuError("Volume options 'ro' and 'rw' cannot be combined.")
