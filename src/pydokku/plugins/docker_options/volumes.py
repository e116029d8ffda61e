"""Finding volume flags in Docker CLI arguments (pure functions)."""

from __future__ import annotations

VOLUME_FLAGS = ("-v", "--volume")
INLINE_PREFIXES = ("--volume=", "-v=", "-v")  # longest first: `-v=X` is X, not `=X`


def find_volumes(tokens: list[str]) -> list[tuple[int, int, str]]:
    """(start, stop, spec) of each volume flag in `tokens`, in every spelling the Docker CLI reads:
    `-v X`, `--volume X`, `-v=X`, `--volume=X` and `-vX`."""
    found = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in VOLUME_FLAGS and i + 1 < len(tokens):
            found.append((i, i + 2, tokens[i + 1]))
            i += 2
            continue
        prefix = next((p for p in INLINE_PREFIXES if token.startswith(p) and len(token) > len(p)), None)
        if prefix is not None:
            found.append((i, i + 1, token[len(prefix) :]))
        i += 1
    return found


def split_volume(spec: str) -> tuple[str, str, str]:
    """Split `host:container[:options]` as Dokku does (at most three fields; missing ones are "")."""
    parts = spec.split(":", 2)
    parts += [""] * (3 - len(parts))
    return parts[0], parts[1], parts[2]
