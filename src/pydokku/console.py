"""Dokku's output conventions.

stdout: `-----> ` and `=====> ` headers, 7-space detail lines; stderr: ` !     ` warnings and errors.
Lines marked "quiet" are dropped under `--quiet` (or DOKKU_QUIET_OUTPUT), as Dokku's `_quiet` helpers do.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import TextIO

HEADER = "-----> "
SECTION = "=====> "
DETAIL = "       "
WARN = " !     "


class Console:
    def __init__(self, quiet: bool = False, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.quiet = quiet
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr

    def line(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def lines(self, texts: Iterable[str]) -> None:
        self.out.writelines(t + "\n" for t in texts)

    def header(self, text: str, *, always: bool = False) -> None:
        if always or not self.quiet:
            self.line(HEADER + text)

    def section(self, text: str, *, always: bool = False) -> None:
        if always or not self.quiet:
            self.line(SECTION + text)

    def detail(self, text: str, *, always: bool = False) -> None:
        if always or not self.quiet:
            self.line(DETAIL + text)

    def warn(self, text: str) -> None:
        self.out.flush()
        self.err.write(WARN + text + "\n")
        self.err.flush()


# One --format rule: every command that takes --format checks it; list and show commands accept
# text|json with Dokku's list message, reports stdout|text|json with Dokku's report message.
LIST_FORMATS = ("text", "json")
REPORT_FORMATS = ("stdout", "text", "json")


def list_format(value: str | None) -> str:
    """The --format of a list or show command: "text" (the default) or "json"."""
    fmt = "text" if value is None else value
    if fmt not in LIST_FORMATS:
        from pydokku.errors import DokkuError

        raise DokkuError("Invalid --format value specified")
    return fmt


def report_format(value: str | None) -> str:
    """The --format of a report: "stdout" (the default; "text" is the same) or "json"."""
    fmt = "stdout" if value is None else value
    if fmt not in REPORT_FORMATS:
        from pydokku.errors import DokkuError

        raise DokkuError(f'Format must be "stdout" or "json": "{fmt}"')
    return "json" if fmt == "json" else "stdout"


def columnize(rows: Sequence[Sequence[str]], gutter: int = 2, minimum: int = 0) -> list[str]:
    """Left-justify every column but the last to its widest cell plus `gutter` spaces, and to at least
    `minimum` (Docker's tables: gutter 3, minimum 10)."""
    if not rows:
        return []
    widths = [max(minimum - gutter, *(len(row[i]) for row in rows)) for i in range(len(rows[0]) - 1)]
    out = []
    for row in rows:
        cells = [cell.ljust(widths[i] + gutter) for i, cell in enumerate(row[:-1])]
        out.append(("".join(cells) + row[-1]).rstrip())
    return out


def confirm_destructive(console: Console, stdin: TextIO, description: str, answer: str) -> None:
    """Dokku's typed confirmation: the user must type `answer`, else the command aborts."""
    console.warn("WARNING: Potentially Destructive Action")
    console.warn(f"This command will destroy {description}.")
    console.warn(f'To proceed, type "{answer}"')
    console.out.write("> ")
    console.out.flush()
    reply = stdin.readline()
    if not reply.endswith("\n"):
        console.line()  # EOF: end the prompt line
    if reply.strip() != answer:
        from pydokku.errors import DokkuError

        raise DokkuError("Confirmation did not match test. Aborted.")
