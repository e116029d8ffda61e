"""`python -m pydokku.engine.watchdog FD|- NAME [TTL]`: ends a one-off container once the `dokku` process
that runs it is gone, however it ended (exit, a signal, SIGKILL, a lost SSH session), or once it has
run TTL seconds (`--ttl-seconds`), whichever comes first.

It runs in a session of its own, holding the read end of a pipe whose write end only that `dokku`
process holds: the read returns end-of-file when that process is gone, and the container (normally
already removed by `--rm`) is stopped and removed. With `-` (a detached run) only the TTL counts.
"""

from __future__ import annotations

import os
import select
import sys
import time

STOP_TIMEOUT = 10


def main(argv: list[str]) -> int:
    fd_text, name = argv[1], argv[2]
    deadline = time.monotonic() + float(argv[3]) if len(argv) > 3 else None
    if fd_text == "-":
        time.sleep(max(0.0, (deadline or time.monotonic()) - time.monotonic()))
    else:
        _wait_for_end(int(fd_text), deadline)
    from pydokku.engine import Engine
    from pydokku.errors import DokkuError

    engine = Engine()
    try:
        if deadline is not None and time.monotonic() >= deadline:
            engine.stop(name, STOP_TIMEOUT)  # its time is up: SIGTERM first, as ps:stop does
        engine.remove(name)
    except DokkuError:
        return 1
    return 0


def _wait_for_end(fd: int, deadline: float | None) -> None:
    """Until the pipe's writer is gone (end-of-file) or the deadline passes."""
    while True:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready or not os.read(fd, 1):
                return
        except OSError:
            return


if __name__ == "__main__":
    sys.exit(main(sys.argv))
