"""The Docker engine: the only module that runs `docker`.

It drives the `docker` CLI rather than the HTTP API because options given with `docker-options:add`
are Docker CLI flags by definition and must reach the engine exactly as the CLI reads them.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from typing import TextIO

from pydokku.errors import DokkuError


class EngineUnavailable(DokkuError):
    pass


class Engine:
    def __init__(self, trace: TextIO | None = None, binary: str | None = None) -> None:
        self._trace = trace
        self._binary = binary or os.environ.get("DOKKU_DOCKER_BIN", "docker")

    def _run(self, *args: str) -> str:
        command = [self._binary, *args]
        if self._trace is not None:
            self._trace.write("+ " + shlex.join(command) + "\n")
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError as error:
            raise EngineUnavailable(f"Unable to run {self._binary}: the Docker CLI is not installed") from error
        if done.returncode != 0:
            reason = done.stderr.strip().splitlines()
            detail = reason[-1] if reason else f"exit status {done.returncode}"
            if "Cannot connect to the Docker daemon" in done.stderr or "docker daemon" in detail.lower():
                raise EngineUnavailable(f"Unable to reach the Docker engine: {detail}")
            raise DokkuError(f"docker {args[0]} failed: {detail}")
        return done.stdout

    def userns_offset(self) -> tuple[int, int] | None:
        """The host uid and gid that root in a container maps to, when the daemon remaps user namespaces.

        Docker keeps a remapped daemon's data under `<data-root>/<uid>.<gid>`, so the root directory
        names the offset: 165536 on a typical host, but whatever /etc/subuid gave the remap user.
        """
        reply = self._run("info", "--format", "{{json .SecurityOptions}}|{{.DockerRootDir}}").strip()
        options, _, root_dir = reply.partition("|")
        if "name=userns" not in json.loads(options or "[]"):
            return None
        uid, _, gid = os.path.basename(root_dir).partition(".")
        if not (uid.isdigit() and gid.isdigit()):
            raise DokkuError(f"Unable to read the user namespace offset from the Docker root dir {root_dir}")
        return int(uid), int(gid)
