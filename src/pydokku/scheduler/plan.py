"""What the docker-local scheduler asks Docker for, computed without Docker (pure functions)."""

from __future__ import annotations

from pydokku.errors import DokkuError
from pydokku.plugins.docker_options import find_volumes
from pydokku.text import ASCII_ALNUM, only

PROCESS_NAME = ASCII_ALNUM | frozenset("_-")
LABEL_APP = "com.dokku.app-name"
LABEL_PROCESS = "com.dokku.process-type"
LABEL_DYNO = "com.dokku.dyno"
LABEL_RELEASE = "com.dokku.release"
LABEL_CONTAINER_TYPE = "com.dokku.container-type"
LABEL_DEADLINE = "com.dokku.active-deadline-seconds"  # a one-off run's time limit (Dokku's run:retire)
# `docker build` has no volumes or links; Dokku drops these build options for Dockerfile builds too.
BUILD_INCOMPATIBLE = ("--link",)
# A one-off container is removed when it exits, so a restart policy cannot apply to it.
RUN_INCOMPATIBLE = ("--restart",)


def image_tag(app: str) -> str:
    return f"dokku/{app}:latest"


def parse_procfile(text: str) -> dict[str, str]:
    """Process types of a Procfile (`name: command` lines; `#` comments and blank lines skipped)."""
    processes: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, colon, command = line.partition(":")
        name, command = name.strip(), command.strip()
        if not colon or not name or not only(name, PROCESS_NAME) or not command:
            raise DokkuError(f"Invalid Procfile line {number}: {raw}")
        processes[name] = command
    return processes


def release_processes(procfile: dict[str, str]) -> dict[str, str | None]:
    """The process types a release runs: the Procfile's, and `web` from the image's own command when
    the Procfile has none. `release` is a release-phase task in a Procfile, not a process type."""
    processes: dict[str, str | None] = {name: command for name, command in procfile.items() if name != "release"}
    processes.setdefault("web", None)
    return dict(sorted(processes.items()))


def _strip_flags(tokens: list[str], flags: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Split tokens into (kept, dropped) where dropped are `FLAG value` / `FLAG=value` of `flags`."""
    kept: list[str] = []
    dropped: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in flags and i + 1 < len(tokens):
            dropped += tokens[i : i + 2]
            i += 2
            continue
        if token.startswith(tuple(flag + "=" for flag in flags)):
            dropped.append(token)
        else:
            kept.append(token)
        i += 1
    return kept, dropped


def build_options(tokens: list[str]) -> tuple[list[str], list[str]]:
    """The build-phase options `docker build` takes, and those it cannot (volumes, links)."""
    spans = find_volumes(tokens)
    volume_tokens = {i for start, stop, _ in spans for i in range(start, stop)}
    without_volumes = [token for i, token in enumerate(tokens) if i not in volume_tokens]
    kept, dropped = _strip_flags(without_volumes, BUILD_INCOMPATIBLE)
    return kept, [token for i, token in enumerate(tokens) if i in volume_tokens] + dropped


def run_options(tokens: list[str]) -> list[str]:
    return _strip_flags(tokens, RUN_INCOMPATIBLE)[0]


def mount_args(specs: list[str]) -> list[str]:
    """`-v SPEC` for each mount, as separate arguments: no shell ever splits them."""
    return [arg for spec in specs for arg in ("-v", spec)]


def container_command(command: str | None) -> list[str]:
    """A Procfile command runs through the image's shell, as on Heroku; None keeps the image's own."""
    return [] if command is None else ["/bin/sh", "-c", command]


class Mount:
    """A storage mount as a scheduler gets it, as data: each scheduler renders it its own way (docker-local:
    a `-v` value; a Swarm service: a `--mount`)."""

    __slots__ = (
        "driver", "driver_options", "entry", "kind", "node", "options", "owner", "readonly", "scheduler", "source",
        "subpath", "target",
    )  # fmt: skip

    def __init__(
        self,
        kind: str,
        source: str,
        target: str,
        *,
        readonly: bool,
        options: str,
        subpath: str = "",
        owner: str = "",
        entry: str = "",
        scheduler: str = "docker-local",
        node: str = "",
        driver: str = "",
        driver_options: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind  # "bind" (a host path) or "volume" (a docker volume by name)
        self.source = source
        self.target = target
        self.readonly = readonly
        self.options = options  # as written after the second colon (`ro`, `z,ro`), `ro` included
        self.subpath = subpath  # inside the source
        self.owner = owner  # --volume-chown: who should own it ("" leaves it to the scheduler's rules)
        self.entry = entry  # the storage entry mounted
        self.scheduler = scheduler  # the scheduler the entry was created for
        self.node = node  # docker-swarm: the node whose disk holds the source ("" for a shared volume)
        self.driver = driver  # docker-swarm: a volume driver every node has, with its options
        self.driver_options = driver_options or {}

    def volume_value(self) -> str:
        """The `-v` value: `source[/subpath]:target[:options]`."""
        source = f"{self.source.rstrip('/')}/{self.subpath}" if self.subpath else self.source
        return f"{source}:{self.target}" + (f":{self.options}" if self.options else "")


class OneOff:
    """A one-off run as asked for: its command and extra environment, detached or attached, with a
    terminal or not, its deadline in seconds and the user's labels (`dokku --label=k=v run`)."""

    __slots__ = ("command", "detached", "env", "labels", "ttl", "tty")

    def __init__(self, command: list[str], env: dict[str, str], *, detached: bool, tty: bool, ttl: int,
                 labels: dict[str, str]) -> None:  # fmt: skip
        self.command = command
        self.env = env
        self.detached = detached
        self.tty = tty
        self.ttl = ttl
        self.labels = labels


class ContainerSpec:
    """A container as data: the scheduler plans it; the engine creates it through the Engine API, or
    through the docker CLI when there are user options (docker-options), which only the CLI reads as
    users expect. Both renderings say the same thing."""

    __slots__ = ("binds", "command", "env", "image", "init", "labels", "name", "options", "restart")

    def __init__(
        self,
        name: str,
        image: str,
        command: list[str],
        *,
        env: dict[str, str],
        labels: dict[str, str],
        binds: list[str],
        init: bool,
        restart: str,
        options: list[str],
    ) -> None:
        self.name = name
        self.image = image
        self.command = command  # empty: the image's own
        self.env = env
        self.labels = labels
        self.binds = binds  # `-v` values
        self.init = init
        self.restart = restart  # Docker restart policy; "" for none
        self.options = options  # the user's docker options, as CLI arguments

    def cli_args(self) -> list[str]:
        """`docker container create` arguments, without the environment (the engine passes `env` off the
        command line); the user's options follow the restart policy, so a --restart among them wins."""
        return [
            *([f"--restart={self.restart}"] if self.restart else []),
            *self.options,
            *mount_args(self.binds),
            *(["--init"] if self.init else []),
            *(f"--label={key}={value}" for key, value in self.labels.items()),
            f"--name={self.name}",
            self.image,
            *self.command,
        ]

    def api_body(self) -> dict[str, object]:
        """The Engine API's `POST /containers/create` body (without user options)."""
        policy, _, retries = self.restart.partition(":")
        host_config: dict[str, object] = {"Binds": self.binds, "Init": self.init}
        if policy:
            host_config["RestartPolicy"] = {"Name": policy, "MaximumRetryCount": int(retries or 0)}
        body: dict[str, object] = {
            "Image": self.image,
            "Env": [f"{key}={value}" for key, value in sorted(self.env.items())],
            "Labels": self.labels,
            "HostConfig": host_config,
        }
        if self.command:
            body["Cmd"] = self.command
        return body
