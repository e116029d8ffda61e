"""Docker options as Dokku 0.38 stores them: one entry per flag group (pure functions).

`docker-options:add app deploy "--ulimit nofile=12" "--shm-size 256m"` and
`docker-options:add app build --build-arg X=Y --link foo` both mean several flags. An argument that
starts with `-` is option text, split with shell quoting rules (never evaluated); any other argument
is the value of the flag before it, taken as given (`-v "/a b:/c"` keeps its space). The tokens are
then grouped: a flag with the values that follow it.
"""

from __future__ import annotations

import shlex

from pydokku.errors import DokkuError
from pydokku.text import has_control_characters, shell_quote


def option_groups(words: list[str]) -> list[str]:
    """The flag groups of the words given after the phase, each as one option line. A word that is
    one whole group is kept as the user wrote it; groups made of several words are re-quoted."""
    groups: list[tuple[list[str], str | None]] = []  # (tokens, the user's own text for them)

    def extend(tokens: list[str]) -> None:
        if groups:
            groups[-1] = (groups[-1][0] + tokens, None)
        else:
            groups.append((tokens, None))

    for word in words:
        if has_control_characters(word):
            raise DokkuError("Docker options cannot contain control characters such as newlines")
        if not word.startswith("-") and len(words) > 1:
            extend([word])  # the value of the flag before it, as given
            continue
        try:
            tokens = shlex.split(word)
        except ValueError as error:
            raise DokkuError(f"Docker options cannot be parsed ({error}): {word}") from error
        starts = [i for i, token in enumerate(tokens) if token.startswith("-")]
        if starts == [0]:
            groups.append((tokens, word.strip()))
            continue
        for token in tokens:
            if token.startswith("-"):
                groups.append(([token], None))
            else:
                extend([token])
    return [text if text is not None else " ".join(shell_quote(t) for t in tokens) for tokens, text in groups]


def lift_processes(groups: list[str]) -> tuple[list[str], list[str]]:
    """A `--process P` (or `--process=P`) typed among the options, after the app (Dokku's
    SplitOptionString): lifted out of the option text; the remaining groups, and those processes."""
    options, processes = [], []
    for group in groups:
        tokens = shlex.split(group)
        if tokens[0] == "--process":
            if len(tokens) < 2:
                raise DokkuError("--process requires a value")
            if len(tokens) > 2:
                raise DokkuError(f"--process accepts a single value, got {len(tokens) - 1}")
            processes.append(tokens[1])
        elif tokens[0].startswith("--process="):
            if len(tokens) > 1:
                raise DokkuError("--process=value cannot be followed by additional tokens")
            processes.append(tokens[0].removeprefix("--process="))
        else:
            options.append(group)
    return options, processes
