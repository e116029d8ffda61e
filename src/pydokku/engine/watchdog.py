"""`python -m pydokku.engine.watchdog FD NAME`: removes a one-off container once the `dokku` process
that runs it is gone, however it ended (exit, a signal, SIGKILL, a lost SSH session).

It runs in a session of its own, holding the read end of a pipe whose write end only that `dokku`
process holds: the read returns end-of-file when that process is gone, and the container (normally
already removed by `--rm`) is force-removed.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    fd, name = int(argv[1]), argv[2]
    try:
        while os.read(fd, 1):
            pass
    except OSError:
        pass
    from pydokku.engine import Engine
    from pydokku.errors import DokkuError

    try:
        Engine().remove(name)
    except DokkuError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
