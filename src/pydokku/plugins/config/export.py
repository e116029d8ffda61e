"""config:export's formats, as Dokku's config plugin renders them (pure functions)."""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

# godotenv's double-quote escaping, which Dokku's envfile format uses.
_DOUBLE_QUOTED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", '"': '\\"', "!": "\\!", "$": "\\$", "`": "\\`"}


def _single_quoted(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _double_quoted(value: str) -> str:
    return '"' + "".join(_DOUBLE_QUOTED.get(char, char) for char in value) + '"'


def _pretty(values: dict[str, str]) -> str:
    from pydokku.console import columnize

    return "\n".join(columnize([(key + ":", value.strip()) for key, value in values.items()]))


FORMATS: dict[str, Callable[[dict[str, str]], str]] = {
    "docker-args": lambda values: " ".join(f"--env={k}={_single_quoted(v)}" for k, v in values.items()),
    "docker-args-keys": lambda values: " ".join(f"--env={k}" for k in values),
    "envfile": lambda values: "\n".join(f"{k}={_double_quoted(v)}" for k, v in values.items()),
    "exports": lambda values: "\n".join(f"export {k}={_single_quoted(v)}" for k, v in values.items()),
    "json": lambda values: json.dumps(values, separators=(",", ":")),
    "pack-keys": lambda values: " ".join(f"--env {k}" for k in values),
    "json-list": lambda values: json.dumps([{"name": k, "value": v} for k, v in values.items()], separators=(",", ":")),
    "pretty": _pretty,
    "shell": lambda values: " ".join(f"{k}={_single_quoted(v)}" for k, v in values.items()),
}


def render(values: dict[str, str], fmt: str) -> str:
    """The exported text with Dokku's ending (a space after `shell`, else a newline). `values` sorted."""
    return FORMATS[fmt](values) + (" " if fmt == "shell" else "\n")


def bundle(values: dict[str, str]) -> bytes:
    """config:bundle: a tar of one file per key holding its value (0600)."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for key, value in values.items():
            data = value.encode()
            info = tarfile.TarInfo(key)
            info.size, info.mode = len(data), 0o600
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
