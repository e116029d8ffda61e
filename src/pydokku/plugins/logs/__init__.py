"""The logs plugin: an app's output, from its containers (or services). Exports `show`, which run:logs
uses too."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from typing import BinaryIO

    from pydokku.context import Context

DEFAULT_LINES = 100


def line_count(value: str | None) -> int:
    """`-n`: how many of the last lines (100 when not given)."""
    from pydokku.errors import DokkuError

    count = value or str(DEFAULT_LINES)
    if not count.isascii() or not count.isdigit():
        raise DokkuError(f"-n takes a number of lines, not {count!r}")
    return int(count)


COLOURS = (36, 33, 32, 35, 31)  # Dokku's, one per container in turn


def show(context: Context, streams: list[tuple[str, subprocess.Popen[bytes]]], *, follow: bool, quiet: bool) -> None:
    """Print the streams as Dokku shows them, `<time> app[<dyno>]: <line>` (coloured on a terminal;
    quiet: the line alone): the last lines merged in time order, or (follow) each line as it comes until
    every stream has ended. The streams are ended and reaped in every case."""
    out = sys.stdout.buffer
    context.console.out.flush()
    colour = sys.stdout.isatty()
    prefixes = [_prefix(dyno, index, colour) for index, (dyno, _) in enumerate(streams)]
    try:
        if follow:
            _follow(streams, prefixes, quiet, out)
        else:
            lines = [(line, index) for index, (_, stream) in enumerate(streams) for line in _read_all(stream)]
            for line, index in sorted(lines, key=lambda pair: pair[0].partition(b" ")[0]):
                out.write(_shown(prefixes[index], line, quiet))
        out.flush()
    finally:
        for _, stream in streams:
            if stream.poll() is None:
                stream.kill()
            stream.wait()


def _prefix(dyno: str, index: int, colour: bool) -> tuple[bytes, bytes]:
    """What goes before a line's time and after it: Dokku's `\\e[<colour>m` … `app[<dyno>]:\\e[0m `."""
    if not colour:
        return b"", f" app[{dyno}]: ".encode()
    return f"\x1b[{COLOURS[index % len(COLOURS)]}m".encode(), f" app[{dyno}]:\x1b[0m ".encode()


def _shown(prefix: tuple[bytes, bytes], line: bytes, quiet: bool) -> bytes:
    """Docker's `<RFC 3339 time> <text>` with `app[<dyno>]:` after the time (quiet: the text)."""
    stamp, _, text = line.partition(b" ")
    return text if quiet else prefix[0] + stamp + prefix[1] + text


def _read_all(stream: subprocess.Popen[bytes]) -> list[bytes]:
    assert stream.stdout is not None
    return [line if line.endswith(b"\n") else line + b"\n" for line in stream.stdout]


def _follow(streams: list[tuple[str, subprocess.Popen[bytes]]], prefixes: list[tuple[bytes, bytes]], quiet: bool,
            out: BinaryIO) -> None:  # fmt: skip
    """Print lines as any process gives them; return when every stream has ended (its process stopped)."""
    import queue
    import threading

    lines: queue.Queue[tuple[int, bytes] | None] = queue.Queue()

    def pump(index: int, stream: subprocess.Popen[bytes]) -> None:
        assert stream.stdout is not None
        for line in stream.stdout:
            lines.put((index, line if line.endswith(b"\n") else line + b"\n"))
        lines.put(None)

    for index, (_, stream) in enumerate(streams):
        threading.Thread(target=pump, args=(index, stream), daemon=True).start()
    open_streams = len(streams)
    while open_streams:
        item = lines.get()
        if item is None:
            open_streams -= 1
            continue
        out.write(_shown(prefixes[item[0]], item[1], quiet))
        out.flush()
