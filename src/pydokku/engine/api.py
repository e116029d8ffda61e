"""A minimal Docker Engine API client over the daemon's unix socket (or tcp://), on bare sockets.

Used for the calls that take no user-given Docker CLI flags (start, stop, remove, rename, inspect,
list, archive): one request costs about a millisecond, a `docker` CLI process tens of them. It speaks
just the HTTP/1.1 the engine needs (one request per connection; Content-Length or chunked bodies),
because `http.client` alone would add ~40 ms of imports (email, ssl) to every command that deploys.
"""

from __future__ import annotations

import json
import socket

from pydokku.errors import DokkuError

DEFAULT_SOCKET = "/var/run/docker.sock"
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class ApiError(DokkuError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def quote(text: str) -> str:
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode())


def _query(params: dict[str, str]) -> str:
    return "&".join(f"{quote(key)}={quote(value)}" for key, value in params.items())


class _Reader:
    """Buffered reads from a socket: lines for the head, exact sizes for the body."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def _fill(self) -> bool:
        data = self._sock.recv(65536)
        self._buffer += data
        return bool(data)

    def line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            if not self._fill():
                raise ConnectionError("the Docker engine closed the connection mid-response")
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not self._fill():
                raise ConnectionError("the Docker engine closed the connection mid-response")
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def rest(self) -> bytes:
        while self._fill():
            pass
        data, self._buffer = self._buffer, b""
        return data


class Api:
    def __init__(self, docker_host: str | None) -> None:
        self._host = docker_host or f"unix://{DEFAULT_SOCKET}"

    def _connect(self, timeout: float | None) -> socket.socket:
        scheme, _, rest = self._host.partition("://")
        try:
            if scheme == "unix":
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                sock.connect(rest)
                return sock
            if scheme == "tcp":
                host, _, port = rest.partition(":")
                return socket.create_connection((host, int(port or 2375)), timeout=timeout)
        except PermissionError as error:
            from pydokku.engine import EngineUnavailable

            raise EngineUnavailable(
                f"Unable to reach the Docker engine: permission denied while connecting to {self._host};"
                " run dokku as root or as a member of the docker group"
            ) from error
        except OSError as error:
            from pydokku.engine import EngineUnavailable

            raise EngineUnavailable(
                f"Unable to reach the Docker engine: Cannot connect to the Docker daemon at {self._host}."
                " Is the docker daemon running?"
            ) from error
        raise DokkuError(f"Unsupported DOCKER_HOST {self._host}: use unix:// or tcp://")

    def request(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: object | None = None,
        timeout: float | None = 120,
        headers: dict[str, str] | None = None,
    ) -> bytes:
        payload = json.dumps(body).encode() if body is not None else b""
        target = path + ("?" + _query(query) if query else "")
        head = f"{method} {target} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        elif method in ("POST", "PUT"):
            head += "Content-Length: 0\r\n"
        with self._connect(timeout) as sock:
            try:
                sock.sendall(head.encode() + b"\r\n" + payload)
                status, data = _response(_Reader(sock))
            except (OSError, ValueError, IndexError) as error:
                from pydokku.engine import EngineUnavailable

                raise EngineUnavailable(
                    f"Lost the connection to the Docker engine at {self._host} during {method} {path}: {error};"
                    " check that dockerd is healthy, then run the command again"
                ) from error
        if status >= 400:
            try:
                message = json.loads(data)["message"]
            except (ValueError, KeyError, TypeError):
                message = data.decode(errors="replace").strip() or f"HTTP status {status}"
            raise ApiError(status, message)
        return data

    def json(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: object | None = None,
        headers: dict[str, str] | None = None,
    ) -> object:
        data = self.request(method, path, query, body, headers=headers)
        return json.loads(data) if data else None


def _response(reader: _Reader) -> tuple[int, bytes]:
    status_line = reader.line().split(b" ", 2)
    status = int(status_line[1])
    headers = {}
    while line := reader.line():
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    if status in (204, 304) or status < 200:
        return status, b""
    if headers.get(b"transfer-encoding") == b"chunked":
        chunks = []
        while size := int(reader.line().split(b";")[0], 16):
            chunks.append(reader.exactly(size))
            reader.line()
        return status, b"".join(chunks)
    if b"content-length" in headers:
        return status, reader.exactly(int(headers[b"content-length"]))
    return status, reader.rest()
