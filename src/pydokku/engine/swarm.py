"""A swarm manager's engine: services, tasks, nodes and registry pushes (Engine API only; the docker CLI
is never needed for these). One instance per manager address."""

from __future__ import annotations

import contextlib
import json

from pydokku.engine import Engine, _segment, progress_messages
from pydokku.errors import DokkuError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any


class Node:
    __slots__ = ("address", "availability", "hostname", "id", "message", "role", "state")

    def __init__(self, data: dict[str, Any]) -> None:
        self.id: str = data["ID"]
        self.hostname: str = data.get("Description", {}).get("Hostname", "")
        self.role: str = data.get("Spec", {}).get("Role", "")
        self.availability: str = data.get("Spec", {}).get("Availability", "")
        status = data.get("Status", {})
        self.state: str = status.get("State", "")  # ready, down, unknown, disconnected
        self.message: str = status.get("Message", "")
        # The address other nodes reach it at; a manager may report 0.0.0.0 there, its raft address not.
        address = status.get("Addr", "")
        if address in ("", "0.0.0.0"):
            address = (data.get("ManagerStatus") or {}).get("Addr", "").rpartition(":")[0]
        self.address: str = address

    @property
    def usable(self) -> bool:
        return self.state == "ready" and self.availability == "active"


class ServiceGone(DokkuError):
    """The service was removed (a job stopped by run:stop or its --ttl-seconds)."""


@contextlib.contextmanager
def _service_gone() -> Iterator[None]:
    """The engine's 404 (no such service) as ServiceGone."""
    from pydokku.engine.api import ApiError

    try:
        yield
    except ApiError as error:
        if error.status == 404:
            raise ServiceGone(str(error)) from error
        raise


class Swarm(Engine):
    def manager_check(self) -> None:
        """This engine must be a reachable swarm manager."""
        swarm = self.info().get("Swarm") or {}
        if swarm.get("LocalNodeState") != "active":
            raise DokkuError(f"The Docker engine at {self.host} is not part of a swarm (docker swarm init)")
        if not swarm.get("ControlAvailable"):
            raise DokkuError(f"The Docker engine at {self.host} is a swarm worker; point manager at a manager node")

    def _watched_as(self) -> list[str]:
        """One-off runs here are jobs (services) on this manager."""
        return ["service", self.host or ""]

    def nodes(self) -> list[Node]:
        return [Node(data) for data in self._get("/nodes")]

    def node_names(self) -> dict[str, str]:
        """Node id -> hostname."""
        return {node.id: node.hostname for node in self.nodes()}

    def services(self, labels: dict[str, str]) -> list[dict[str, Any]]:
        filters = json.dumps({"label": [f"{key}={value}" for key, value in labels.items()]})
        listed: list[dict[str, Any]] = self._get("/services", {"filters": filters})
        return sorted(listed, key=lambda service: service["Spec"]["Name"])

    def service(self, name: str) -> dict[str, Any] | None:
        return self._missing_is_none(f"/services/{_segment(name)}")  # type: ignore[no-any-return]

    def create_service(self, spec: dict[str, Any], auth: str) -> str:
        return str(self._post("/services/create", body=spec, headers={"X-Registry-Auth": auth})["ID"])

    def update_service(self, service: dict[str, Any], spec: dict[str, Any], auth: str) -> None:
        query = {"version": str(service["Version"]["Index"])}
        self._post(f"/services/{service['ID']}/update", query, spec, headers={"X-Registry-Auth": auth})

    def rollback_service(self, name: str) -> None:
        """Put back the service's previous spec (the engine keeps it)."""
        service = self.service(name)
        if service is not None and service.get("PreviousSpec"):
            query = {"version": str(service["Version"]["Index"]), "rollback": "previous"}
            self._post(f"/services/{service['ID']}/update", query, service["Spec"])

    def remove_service(self, name: str) -> None:
        from pydokku.engine.api import ApiError

        if self._trace is not None:
            self._trace.write(f"+ DELETE /services/{name}\n")
        try:
            self.api.request("DELETE", f"/services/{_segment(name)}")
        except ApiError as error:
            if error.status != 404:
                raise

    def tasks(self, service: str) -> list[dict[str, Any]]:
        """The service's tasks; ServiceGone when it was removed."""
        with _service_gone():
            listed: list[dict[str, Any]] = self._get("/tasks", {"filters": json.dumps({"service": [service]})})
        return sorted(listed, key=lambda task: (task.get("Slot", 0), task["CreatedAt"]))

    def service_logs(self, service: str) -> list[tuple[int, bytes]]:
        """The service's output so far as (stream, line) pairs: 1 stdout, 2 stderr. ServiceGone when
        it was removed."""
        with _service_gone():
            data = self.api.request(
                "GET", f"/services/{_segment(service)}/logs", {"stdout": "1", "stderr": "1", "timestamps": "0"}
            )
        return demultiplex(data)

    def push(self, reference: str, auth: str) -> str:
        """Push a tagged image; returns the digest the registry gave it."""
        repository, _, tag = reference.rpartition(":")
        if self._trace is not None:
            self._trace.write(f"+ POST /images/{repository}/push tag={tag}\n")
        data = self.api.request(
            "POST", f"/images/{_segment(repository)}/push", {"tag": tag}, headers={"X-Registry-Auth": auth}, timeout=600
        )
        digest = ""
        for message in progress_messages(data, f"Pushing {reference} failed"):
            digest = (message.get("aux") or {}).get("Digest", digest)
        if not digest:
            raise DokkuError(f"Pushing {reference} failed: the registry gave no digest")
        return digest


def demultiplex(data: bytes) -> list[tuple[int, bytes]]:
    """Docker's multiplexed stream (8-byte frame headers: stream, 0, 0, 0, size) as (stream, line) pairs."""
    pending: dict[int, bytes] = {1: b"", 2: b""}
    out: list[tuple[int, bytes]] = []
    offset = 0
    while offset + 8 <= len(data):
        stream, size = data[offset], int.from_bytes(data[offset + 4 : offset + 8], "big")
        chunk = data[offset + 8 : offset + 8 + size]
        offset += 8 + size
        text = pending.get(stream, b"") + chunk
        *lines, pending[stream] = text.split(b"\n")
        out += [(stream, line + b"\n") for line in lines]
    out += [(stream, rest) for stream, rest in pending.items() if rest]
    return out
