"""`python -m pydokku.engine.watchdog FD|- NAME TTL container|service HOST`: ends a one-off run once the
`dokku` process that runs it is gone, however it ended (exit, a signal, SIGKILL, a lost SSH session), or
once it has run TTL seconds (`--ttl-seconds`; 0: no limit), whichever comes first.

It runs in a session of its own, holding the read end of a pipe whose write end only that `dokku`
process holds: the read returns end-of-file when that process is gone. With `-` (a detached run) only
the TTL counts. A container (normally already removed by `--rm`) is stopped and removed; a swarm job
(`service`, on the manager HOST) is removed, which stops its task. HOST "" is DOCKER_HOST or the local
engine.
"""

from __future__ import annotations

import os
import select
import sys
import time

STOP_TIMEOUT = 10


def main(argv: list[str]) -> int:
    fd_text, name, ttl, kind, host = argv[1:6]
    deadline = time.monotonic() + float(ttl) if int(ttl) else None
    if fd_text == "-":
        time.sleep(max(0.0, (deadline or time.monotonic()) - time.monotonic()))
    else:
        _wait_for_end(int(fd_text), deadline)
    from pydokku.errors import DokkuError

    try:
        if kind == "service":
            from pydokku.engine.swarm import Swarm

            Swarm(host=host or None).remove_service(name)  # its task gets SIGTERM, then its grace period
            return 0
        from pydokku.engine import Engine

        engine = Engine(host=host or None)
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
