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


def show(context: Context, app: str, streams: list[tuple[str, subprocess.Popen[bytes]]], *, follow: bool,
         quiet: bool) -> None:  # fmt: skip
    """Print the streams as Dokku shows them: the last lines merged in time order, or (follow) each line
    as it comes until every stream has ended. The streams are ended and reaped in every case."""
    out = sys.stdout.buffer
    context.console.out.flush()
    try:
        if follow:
            _follow(app, streams, quiet, out)
        else:
            lines = [(line, dyno) for dyno, stream in streams for line in _read_all(stream)]
            for line, dyno in sorted(lines, key=lambda pair: pair[0].partition(b" ")[0]):
                out.write(_shown(app, dyno, line, quiet))
        out.flush()
    finally:
        for _, stream in streams:
            if stream.poll() is None:
                stream.kill()
            stream.wait()


def _shown(app: str, dyno: str, line: bytes, quiet: bool) -> bytes:
    """Docker's `<RFC 3339 time> <text>` with the app and dyno after the time (quiet: the text)."""
    stamp, _, text = line.partition(b" ")
    return text if quiet else stamp + f" {app}[{dyno}]: ".encode() + text


def _read_all(stream: subprocess.Popen[bytes]) -> list[bytes]:
    assert stream.stdout is not None
    return [line if line.endswith(b"\n") else line + b"\n" for line in stream.stdout]


def _follow(app: str, streams: list[tuple[str, subprocess.Popen[bytes]]], quiet: bool, out: BinaryIO) -> None:
    """Print lines as any process gives them; return when every stream has ended (its process stopped)."""
    import queue
    import threading

    lines: queue.Queue[tuple[str, bytes] | None] = queue.Queue()

    def pump(dyno: str, stream: subprocess.Popen[bytes]) -> None:
        assert stream.stdout is not None
        for line in stream.stdout:
            lines.put((dyno, line if line.endswith(b"\n") else line + b"\n"))
        lines.put(None)

    for dyno, stream in streams:
        threading.Thread(target=pump, args=(dyno, stream), daemon=True).start()
    open_streams = len(streams)
    while open_streams:
        item = lines.get()
        if item is None:
            open_streams -= 1
            continue
        out.write(_shown(app, item[0], item[1], quiet))
        out.flush()
