"""A minimal Docker Engine API client over the daemon's unix socket (or tcp://), stdlib only.

Used for the calls that take no user-given Docker CLI flags (start, stop, remove, rename, inspect,
list, archive): one HTTP request costs about a millisecond, a `docker` CLI process tens of them.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse

from pydokku.errors import DokkuError

DEFAULT_SOCKET = "/var/run/docker.sock"


class ApiError(DokkuError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.timeout is not None:
            sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class Api:
    def __init__(self, docker_host: str | None) -> None:
        self._host = docker_host or f"unix://{DEFAULT_SOCKET}"
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        scheme, _, rest = self._host.partition("://")
        if scheme == "unix":
            return _UnixConnection(rest, timeout)
        if scheme == "tcp":
            host, _, port = rest.partition(":")
            return http.client.HTTPConnection(host, int(port or 2375), timeout=timeout)
        raise DokkuError(f"Unsupported DOCKER_HOST {self._host}: use unix:// or tcp://")

    def request(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: object | None = None,
        timeout: float | None = 120,
    ) -> bytes:
        url = path + ("?" + urllib.parse.urlencode(query) if query else "")
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        for attempt in (1, 2):  # a kept-alive connection the daemon closed is retried once
            if self._connection is None:
                self._connection = self._connect(timeout)
            try:
                self._connection.request(method, url, body=payload, headers=headers)
                response = self._connection.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as error:
                self.close()
                if attempt == 2 or isinstance(error, (FileNotFoundError, ConnectionRefusedError)):
                    from pydokku.engine import EngineUnavailable

                    raise EngineUnavailable(
                        f"Unable to reach the Docker engine: Cannot connect to the Docker daemon at {self._host}."
                        " Is the docker daemon running?"
                    ) from error
        if response.status >= 400:
            try:
                message = json.loads(data)["message"]
            except (ValueError, KeyError, TypeError):
                message = data.decode(errors="replace").strip() or response.reason
            raise ApiError(response.status, message)
        return data

    def json(self, method: str, path: str, query: dict[str, str] | None = None, body: object | None = None) -> object:
        data = self.request(method, path, query, body)
        return json.loads(data) if data else None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
