"""logs: each process's output as Dokku shows it, `<time> <app>[<dyno>]: <line>` (`-q`: the line
alone), the last lines of every process merged in time order, or (`-t`) followed until they stop."""

from __future__ import annotations

import sys

from pydokku.errors import DokkuError
from pydokku.plugins import apps

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from typing import BinaryIO

    from pydokku.args import ParsedArgs
    from pydokku.context import Context

DEFAULT_LINES = 100


def _shown(app: str, dyno: str, line: bytes, quiet: bool) -> bytes:
    """Docker's `<RFC 3339 time> <text>` with the app and dyno after the time (quiet: the text)."""
    stamp, _, text = line.partition(b" ")
    return text if quiet else stamp + f" {app}[{dyno}]: ".encode() + text


def logs(context: Context, args: ParsedArgs) -> None:
    from pydokku import scheduler

    name = args.positional(0)
    with context.store.read() as tx:
        app = apps.require(tx, name)
        deployed = scheduler.deployed(tx, app)
    count = args.value("num") or str(DEFAULT_LINES)
    if not count.isascii() or not count.isdigit():
        raise DokkuError(f"-n takes a number of lines, not {count!r}")
    if not deployed:
        raise DokkuError(f"App {name} has not been deployed")
    follow, quiet = args.has("tail"), args.has("quiet") or context.flags.quiet
    streams = scheduler.log_streams(context, name, args.value("ps") or "", int(count), follow)
    if not streams:
        process = args.value("ps")
        raise DokkuError(f"No {process} processes running for {name}" if process else f"App {name} is not running")
    out = sys.stdout.buffer
    context.console.out.flush()
    try:
        if follow:
            _follow(name, streams, quiet, out)
        else:
            lines = [(line, dyno) for dyno, stream in streams for line in _read_all(stream)]
            for line, dyno in sorted(lines, key=lambda pair: pair[0].partition(b" ")[0]):
                out.write(_shown(name, dyno, line, quiet))
        out.flush()
    finally:
        for _, stream in streams:
            if stream.poll() is None:
                stream.kill()
            stream.wait()


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
