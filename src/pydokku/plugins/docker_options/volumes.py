"""Finding volume flags in Docker CLI arguments (pure functions)."""

from __future__ import annotations

VOLUME_FLAGS = ("-v", "--volume")
INLINE_PREFIXES = ("--volume=", "-v=", "-v")  # longest first: `-v=X` is X, not `=X`
# Short flags of `docker container create/run` that take no value, and so may be combined before one
# that does (`-itv /x:/s`); any other letter takes the rest as its value (`-ev=x` is -e with "v=x").
SHORT_BOOLEANS = frozenset("ditP")


def find_volumes(tokens: list[str]) -> list[tuple[int, int, str]]:
    """(start, stop, spec) of each volume flag in `tokens`, in every spelling the Docker CLI reads:
    `-v X`, `--volume X`, `-v=X`, `--volume=X`, `-vX`, and after combined short flags (`-itv X`)."""
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
        elif _clustered_volume(token) and i + 1 < len(tokens):
            found.append((i, i + 2, tokens[i + 1]))
            i += 2
            continue
        i += 1
    return found


def _clustered_volume(token: str) -> bool:
    """`-itv`: value-less short flags, then -v taking the next argument as its value."""
    if len(token) < 3 or token[0] != "-" or token[1] == "-" or token[-1] != "v":
        return False
    return all(flag in SHORT_BOOLEANS for flag in token[1:-1])


def remove_volume_flag(tokens: list[str], start: int, stop: int) -> None:
    """Delete the volume flag found at tokens[start:stop]; from a cluster (`-itv X`) only the `v`."""
    if _clustered_volume(tokens[start]):
        tokens[start] = tokens[start][:-1]
        del tokens[start + 1 : stop]
    else:
        del tokens[start:stop]


def split_volume(spec: str) -> tuple[str, str, str]:
    """Split `host:container[:options]` as Dokku does (at most three fields; missing ones are "")."""
    parts = spec.split(":", 2)
    parts += [""] * (3 - len(parts))
    return parts[0], parts[1], parts[2]
