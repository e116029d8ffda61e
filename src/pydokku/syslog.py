"""One line to the local syslog (events:on mirrors the audit trail there): a datagram to /dev/log
(DOKKU_SYSLOG_SOCKET elsewhere), user facility, notice level, tag `dokku`. Best effort: no syslog, no
line."""

from __future__ import annotations

import os
import socket

USER_NOTICE = 8 + 5  # facility user (1) * 8 + severity notice (5)


def send(line: str) -> None:
    path = os.environ.get("DOKKU_SYSLOG_SOCKET") or "/dev/log"
    message = f"<{USER_NOTICE}>dokku[{os.getpid()}]: {line}".encode(errors="backslashreplace")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sink:
            sink.sendto(message, path)
    except OSError:
        pass
