"""The Docker engine: the only module that speaks to Docker.

Containers are created with the `docker` CLI, because options given with `docker-options:add` are
Docker CLI flags by definition and must reach the engine exactly as the CLI reads them. Every other
call goes to the Engine API (`engine.api`), which is tens of times cheaper than a CLI process.
"""

from __future__ import annotations

import contextlib
import json
import os

from pydokku.errors import DokkuError
from pydokku.text import shell_quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Iterator
    from typing import Any, TextIO

    from pydokku.engine.api import Api
    from pydokku.scheduler.plan import ContainerSpec


def _segment(name: str) -> str:
    """A name inside an Engine API path, percent-encoded: a reference like `a?b`, `../info` or one
    holding spaces or line breaks must name that object, never another endpoint (Docker decodes it)."""
    from pydokku.engine.api import quote

    return quote(name)


class EngineUnavailable(DokkuError):
    pass


# Lines the docker CLI adds around an error that say nothing about it.
_NOISE = ("DEPRECATED", "See 'docker", "Run 'docker", "Install the buildx", "            ")


def docker_error(stderr: str) -> str:
    """Docker's own words for why a command failed, without the CLI's name and advice around them."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith(_NOISE)]
    return " ".join(lines).removeprefix("docker: ")


class Container:
    """A container as listed by the engine (or a swarm task: then with its node, and why it is not
    running when it is not)."""

    __slots__ = ("command", "created", "error", "id", "labels", "mounts", "name", "node", "state")

    def __init__(self, id: str, name: str, state: str, labels: dict[str, str], node: str = "", error: str = "",
                 mounts: list[dict[str, Any]] | None = None, command: str = "", created: int = 0) -> None:  # fmt: skip
        self.id = id
        self.command = command  # as the engine lists it (`sh -c 'echo hi'`)
        self.created = created  # epoch seconds
        self.name = name
        self.state = state
        self.labels = labels
        self.node = node
        self.error = error
        self.mounts = mounts or []  # as the engine lists them: Type, Source or Name, Destination


def split_reference(reference: str) -> tuple[str, str]:
    """`host:5000/team/app:1.2` → (`host:5000/team/app`, `1.2`); no tag: `latest` (a digest stays whole)."""
    if "@" in reference:
        return reference, ""
    repository, colon, tag = reference.rpartition(":")
    if not colon or "/" in tag:  # the colon was a registry's port
        return reference, "latest"
    return repository, tag


def registry_auth(username: str = "", password: str = "", server: str = "") -> str:
    """The X-Registry-Auth header value (base64url JSON); `{}` when there are no credentials."""
    import base64

    data = {"username": username, "password": password, "serveraddress": server} if username else {}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def registry_host(reference: str) -> str:
    """The registry an image reference names (Docker's rule: a first part with a dot or a colon, or
    localhost), else Docker Hub's `docker.io`."""
    first, slash, _ = reference.partition("/")
    return first if slash and ("." in first or ":" in first or first == "localhost") else "docker.io"


def progress_messages(data: bytes, failure: str) -> Iterator[dict[str, Any]]:
    """The JSON messages of an Engine API progress stream (a pull, a push); an `error` in it is a
    DokkuError `<failure>: <error>`."""
    for line in data.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("error"):
            raise DokkuError(f"{failure}: {message['error']}")
        yield message


def _listed_container(c: dict[str, Any]) -> Container:
    """A container of the engine's `/containers/json` listing."""
    return Container(c["Id"], c["Names"][0].lstrip("/"), c["State"], c.get("Labels") or {}, mounts=c.get("Mounts"),
                     command=c.get("Command") or "", created=int(c.get("Created") or 0))  # fmt: skip


# The exit statuses of `docker run` for its own failures (125: the run could not start, 126: the command
# could not be invoked, 127: it was not found), each said by a `docker: …` line on its stderr.
DOCKER_RUN_FAILURES = (125, 126, 127)


class _StderrRelay:
    """The stderr of an attached `docker run`, passed on as it comes (from a thread: a prompt without a
    line break shows at once), except what the CLI says of its own failure (`docker: …`), held back so
    that it becomes one ` !     ` line instead of Docker's raw text and usage advice."""

    def __init__(self, fd: int) -> None:
        import threading

        self._fd = fd
        self.held = bytearray()
        self._thread = threading.Thread(target=self._relay, daemon=True)
        self._thread.start()

    def _relay(self) -> None:
        import sys

        while data := os.read(self._fd, 65536):
            if self.held or data.startswith(b"docker: "):
                self.held += data
                continue
            sys.stderr.flush()
            sink = getattr(sys.stderr, "buffer", None)  # bytes as they came (a character may span two reads)
            if sink is not None:
                sink.write(data)
                sink.flush()
            else:
                sys.stderr.write(data.decode(errors="replace"))

    def finish(self) -> None:
        self._thread.join()

    def outcome(self, code: int) -> int:
        """The run's exit status, or a DokkuError for Docker's own failure."""
        import sys

        said = self.held.decode(errors="replace")
        if code in DOCKER_RUN_FAILURES and said:
            detail = docker_error(said)
            if "Cannot connect to the Docker daemon" in said:
                raise EngineUnavailable(f"Unable to reach the Docker engine: {detail}")
            raise DokkuError(f"docker run failed: {detail}")
        if said:
            sys.stderr.write(said)
            sys.stderr.flush()
        return code


# What the docker CLI itself reads from its environment: an app's value must not steer it.
_CLI_VARIABLES = frozenset({"PATH", "HOME", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                            "no_proxy"})  # fmt: skip


@contextlib.contextmanager
def cli_environment(
    env: dict[str, str] | None,
) -> Iterator[tuple[list[str], tuple[int, ...], dict[str, str] | None]]:
    """A container's environment for the docker CLI, never on its command line (which any local user
    reads in /proc): one-line values in an anonymous 0600 file the CLI reads (`--env-file /dev/fd/N`,
    gone when closed), values with line breaks (which that file cannot hold) in the CLI's own environment,
    which only its user can read, named by `--env KEY`. Yields the arguments, the descriptors to pass and
    the CLI's environment (None: this one)."""
    if not env:
        yield [], (), None
        return
    lines, passed = [], {}
    for key, value in sorted(env.items()):
        if "\n" not in value and "\r" not in value:
            lines.append(f"{key}={value}\n")
            continue
        if key.startswith("DOCKER_") or key in _CLI_VARIABLES:
            raise DokkuError(f"The value of {key} holds a line break, which the docker CLI cannot be given")
        passed[key] = value
    fd = os.open(os.environ.get("TMPDIR") or "/tmp", os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
    try:
        data = memoryview("".join(lines).encode("utf-8", "surrogateescape"))
        while data:
            data = data[os.write(fd, data) :]
        args = ["--env-file", f"/dev/fd/{fd}", *(f"--env={key}" for key in passed)]
        yield args, (fd,), ({**os.environ, **passed} if passed else None)
    finally:
        os.close(fd)


class Engine:
    def __init__(self, trace: TextIO | None = None, binary: str | None = None, host: str | None = None) -> None:
        self._trace = trace
        self._binary = binary or os.environ.get("DOKKU_DOCKER_BIN", "docker")
        self.host = host  # an engine address (unix://, tcp://); None: DOCKER_HOST or the local socket
        self._api: Api | None = None
        self._userns: tuple[tuple[int, int] | None] | None = None  # asked once per command

    # -- the docker CLI -------------------------------------------------------------------------

    def _command(self, args: list[str]) -> list[str]:
        command = [self._binary, *(["--host", self.host] if self.host else []), *args]
        if self._trace is not None:
            self._trace.write("+ " + " ".join(shell_quote(word) for word in command) + "\n")
        return command

    def _run(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
        import subprocess  # here, not at the top: deploys of apps without docker options start no process

        try:
            with cli_environment(env) as (env_args, fds, environ):
                command = self._command([*args[:2], *env_args, *args[2:]])
                done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False,
                                      pass_fds=fds, env=environ)  # fmt: skip
        except FileNotFoundError as error:
            raise EngineUnavailable(f"Unable to run {self._binary}: the Docker CLI is not installed") from error
        if done.returncode != 0:
            detail = docker_error(done.stderr) or f"exit status {done.returncode}"
            if "Cannot connect to the Docker daemon" in done.stderr:
                raise EngineUnavailable(f"Unable to reach the Docker engine: {detail}")
            raise DokkuError(f"docker {args[0]} {args[1] if len(args) > 1 else ''} failed: {detail}".replace("  ", " "))
        return done.stdout

    def expire(self, name: str, ttl: int) -> None:
        """Stop and remove a detached one-off run after `ttl` seconds, whatever happens to this process
        (a watchdog in a session of its own)."""
        self._watchdog("-", name, ttl)

    @contextlib.contextmanager
    def watched(self, name: str, ttl: int) -> Iterator[None]:
        """An attached one-off run never outlives this process: for as long as the block runs, a watchdog
        holds the read end of a pipe only this process writes to; when the block ends, or this process
        ends in any way (SIGKILL too), the pipe closes and the watchdog ends the run; it also ends it
        after `ttl` seconds (0: no limit)."""
        read_end, write_end = os.pipe()
        watchdog = self._watchdog(str(read_end), name, ttl)
        os.close(read_end)
        try:
            yield
        finally:
            os.close(write_end)  # the watchdog removes whatever is left, then exits
            watchdog.wait()

    def _watchdog(self, fd_text: str, name: str, ttl: int) -> subprocess.Popen[bytes]:
        """Start pydokku.engine.watchdog for a one-off run of this engine (see there), in a session of its
        own, holding the pipe's read end `fd_text` ("-": none)."""
        import subprocess
        import sys

        command = [sys.executable, "-m", "pydokku.engine.watchdog", fd_text, name, str(ttl), *self._watched_as()]
        passed = (int(fd_text),) if fd_text != "-" else ()
        return subprocess.Popen(command, pass_fds=passed, start_new_session=True, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def _watched_as(self) -> list[str]:
        """How the watchdog finds the run again: a container of the local engine (or DOCKER_HOST's)."""
        return ["container", self.host or ""]

    def log_stream(self, args: list[str]) -> subprocess.Popen[bytes]:
        """`docker logs …`/`docker service logs …`: stdout and stderr as one stream of lines, read as it
        comes (a followed stream ends when its container stops)."""
        import subprocess

        return subprocess.Popen(self._command(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def output(self, container: str) -> bytes:
        """Everything a container has written so far, stdout and stderr as one stream, ordered by the
        times the engine gave the lines (the CLI writes each stream to its own pipe)."""
        lines = self.log_stream(["logs", "--timestamps", container]).communicate()[0].splitlines(keepends=True)
        return b"".join(line.partition(b" ")[2] for line in sorted(lines, key=lambda line: line.partition(b" ")[0]))

    def create(self, args: list[str], env: dict[str, str] | None = None) -> str:
        """`docker container create ARGS…` with the environment `env` (never on the command line); returns
        the new container's id."""
        return self._run("container", "create", *args, env=env).strip()

    def create_container(self, spec: ContainerSpec) -> str:
        """Create a planned container: through the docker CLI when it carries user options (which are
        CLI flags), else through the Engine API (no CLI process); returns its id."""
        if spec.options:
            return self.create(spec.cli_args(), spec.env)
        created = self._post("/containers/create", {"name": spec.name}, spec.api_body())
        return str(created["Id"])

    def build(self, tag: str, dockerfile: str, options: list[str]) -> str:
        """`docker image build` of a Dockerfile given as text, without a build context; returns the
        image id (`--quiet` prints just that)."""
        output = self._run("image", "build", "--quiet", "--tag", tag, *options, "-", stdin=dockerfile)
        return output.strip().splitlines()[-1]

    def run_detached(self, args: list[str], env: dict[str, str] | None = None) -> str:
        """`docker container run --detach ARGS…` with the environment `env`; returns the container id."""
        return self._run("container", "run", *args, env=env).strip()

    def run_attached(
        self, args: list[str], name: str, stop_timeout: int = 10, ttl: int = 0, env: dict[str, str] | None = None
    ) -> int:
        """`docker container run ARGS…` (which names the container `name`) with this process's terminal;
        returns its exit status. The container never outlives this command: SIGINT, SIGTERM or SIGHUP
        stop it (SIGTERM, then removal after `stop_timeout` seconds), and a watchdog removes it when
        this process ends in any other way."""
        import signal
        import subprocess
        import time

        stopping: list[float] = []

        def stop(signum: int, frame: object) -> None:
            if not stopping:
                stopping.append(time.monotonic())
                with contextlib.suppress(DokkuError):
                    self._post(f"/containers/{_segment(name)}/kill", {"signal": "SIGTERM"})

        caught = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        with self.watched(name, ttl):
            previous = {signum: signal.signal(signum, stop) for signum in caught}
            try:
                with cli_environment(env) as (env_args, fds, environ):
                    process = subprocess.Popen(self._command(["container", "run", *env_args, *args]), pass_fds=fds,
                                               env=environ, stderr=subprocess.PIPE)  # fmt: skip
                assert process.stderr is not None
                relay = _StderrRelay(process.stderr.fileno())
                while True:
                    try:
                        code = process.wait(timeout=0.2)
                        break
                    except subprocess.TimeoutExpired:
                        if stopping and time.monotonic() - stopping[0] > stop_timeout:
                            self.remove(name)
                relay.finish()
                process.stderr.close()
                return relay.outcome(code)
            except FileNotFoundError as error:
                raise EngineUnavailable(f"Unable to run {self._binary}: the Docker CLI is not installed") from error
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)

    # -- the Engine API -------------------------------------------------------------------------

    @property
    def api(self) -> Api:
        if self._api is None:
            from pydokku.engine.api import Api

            self._api = Api(self.host or os.environ.get("DOCKER_HOST"))
        return self._api

    def _get(self, path: str, query: dict[str, str] | None = None) -> Any:
        if self._trace is not None:
            self._trace.write(f"+ GET {path} {query or ''}\n")
        return self.api.json("GET", path, query)

    def _post(
        self,
        path: str,
        query: dict[str, str] | None = None,
        body: object | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        if self._trace is not None:
            self._trace.write(f"+ POST {path} {query or ''}\n")
        return self.api.json("POST", path, query, body, headers)

    def _missing_is_none(self, path: str) -> Any:
        from pydokku.engine.api import ApiError

        try:
            return self._get(path)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = self._get("/info")
        return info

    def userns_offset(self) -> tuple[int, int] | None:
        """The host uid and gid that root in a container maps to, when the daemon remaps user namespaces.

        Docker keeps a remapped daemon's data under `<data-root>/<uid>.<gid>`, so the root directory
        names the offset: 165536 on a typical host, but whatever /etc/subuid gave the remap user.
        """
        if self._userns is None:
            self._userns = (self._read_userns_offset(),)
        return self._userns[0]

    def _read_userns_offset(self) -> tuple[int, int] | None:
        info = self.info()
        if "name=userns" not in (info.get("SecurityOptions") or []):
            return None
        root_dir = info.get("DockerRootDir", "")
        uid, _, gid = os.path.basename(root_dir).partition(".")
        if not (uid.isdigit() and gid.isdigit()):
            raise DokkuError(f"Unable to read the user namespace offset from the Docker root dir {root_dir}")
        return int(uid), int(gid)

    def login(self, server: str, username: str, password: str) -> None:
        """Check credentials against a registry from this engine (the one that pushes)."""
        from pydokku.engine.api import ApiError

        try:
            self._post("/auth", body={"username": username, "password": password, "serveraddress": server})
        except ApiError as error:
            raise DokkuError(f"Login to {server} failed: {error.message}") from error

    def pull(self, reference: str, auth: str, shown: Callable[[str], None]) -> None:
        """Pull an image (X-Registry-Auth `auth`), handing `shown` the lines `docker pull` prints without a
        terminal; a pull the registry refuses is a DokkuError with its answer."""
        from pydokku.engine.api import ApiError

        repository, tag = split_reference(reference)
        if self._trace is not None:
            self._trace.write(f"+ POST /images/create fromImage={repository} tag={tag}\n")
        try:
            data = self.api.request("POST", "/images/create", {"fromImage": repository, "tag": tag},
                                    headers={"X-Registry-Auth": auth}, timeout=600)  # fmt: skip
        except ApiError as error:
            raise DokkuError(f"Failed to pull image: {reference}: {error.message}") from error
        for message in progress_messages(data, f"Failed to pull image: {reference}"):
            status, layer = str(message.get("status", "")), str(message.get("id", ""))
            if not layer:
                shown(status)
            elif status.startswith("Pulling from") or status in ("Pull complete", "Already exists"):
                shown(f"{layer}: {status}")

    def image(self, reference: str) -> dict[str, Any] | None:
        """The image's inspect data, or None when it is not on this host."""
        return self._missing_is_none(f"/images/{_segment(reference)}/json")  # type: ignore[no-any-return]

    def volume(self, name: str) -> dict[str, Any] | None:
        return self._missing_is_none(f"/volumes/{_segment(name)}")  # type: ignore[no-any-return]

    def create_volume(self, name: str) -> dict[str, Any]:
        """A local-driver volume (disaster recovery brings one back); returns it as the engine describes it."""
        created: dict[str, Any] = self._post("/volumes/create", None, {"Name": name})
        return created

    def labelled_volumes(self, label: str) -> list[dict[str, Any]]:
        """Every volume carrying the label (whatever its value)."""
        listed = self._get("/volumes", {"filters": json.dumps({"label": [label]})})
        return list(listed.get("Volumes") or [])

    def inspect(self, container: str) -> dict[str, Any] | None:
        return self._missing_is_none(f"/containers/{_segment(container)}/json")  # type: ignore[no-any-return]

    def containers(self, labels: dict[str, str]) -> list[Container]:
        """Every container (running or not) carrying all of these labels, oldest first."""
        filters = json.dumps({"label": [f"{key}={value}" for key, value in labels.items()]})
        listed = self._get("/containers/json", {"all": "1", "filters": filters})
        return [_listed_container(c) for c in sorted(listed, key=lambda c: c["Created"])]

    def start(self, container: str) -> None:
        self._post(f"/containers/{_segment(container)}/start")

    def stop(self, container: str, timeout: int) -> None:
        self._post(f"/containers/{_segment(container)}/stop", {"t": str(timeout)})

    def volume_container(self, volume: str, image: str, *, readonly: bool) -> str:
        """A container (created, never started) that mounts a volume at /data, so Docker can copy its
        content out (`copy_out_command`) or in (`copy_in_command`) whatever the volume's driver; remove
        it after use."""
        body = {
            "Image": image, "Cmd": ["true"], "Labels": {"com.dokku.container-type": "storage-copy"},
            "HostConfig": {"Binds": [f"{volume}:/data{':ro' if readonly else ''}"]},
        }  # fmt: skip
        return str(self._post("/containers/create", body=body)["Id"])

    def copy_out_command(self, container: str, path: str) -> list[str]:
        """`docker cp CONTAINER:PATH/. -`: the command that writes a directory's content as a tar stream
        (numeric owners, modes, times) on its standard output."""
        return self._command(["cp", f"{container}:{path.rstrip('/')}/.", "-"])

    def copy_in_command(self, container: str, path: str) -> list[str]:
        """`docker cp - CONTAINER:PATH`: the command that extracts the tar stream on its standard input
        into a directory of the container."""
        return self._command(["cp", "-", f"{container}:{path}"])

    def run_script(self, image: str, volume: str, script: str, args: list[str]) -> tuple[int, str, str]:
        """Run a shell script in a throwaway container with the volume at /data; its exit status and output."""
        import subprocess

        command = self._command(
            ["container", "run", "--rm", "--pull", "never", "--label", "com.dokku.container-type=storage-copy",
             "-v", f"{volume}:/data", "--entrypoint", "sh", image, "-c", script, "sh", *args]
        )  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError as error:
            raise EngineUnavailable(f"Unable to run {self._binary}: the Docker CLI is not installed") from error
        return done.returncode, done.stdout, done.stderr

    def pause(self, container: str) -> None:
        self._post(f"/containers/{_segment(container)}/pause")

    def unpause(self, container: str) -> None:
        self._post(f"/containers/{_segment(container)}/unpause")

    def remove(self, container: str) -> None:
        """Force-remove a container (its named volumes and bind mounts are never removed)."""
        import time

        from pydokku.engine.api import ApiError

        if self._trace is not None:
            self._trace.write(f"+ DELETE /containers/{container}\n")
        for attempt in range(5):
            try:
                self.api.request("DELETE", f"/containers/{_segment(container)}", {"force": "1", "v": "0"})
                return
            except ApiError as error:
                if error.status == 404:
                    return
                # 409/500 while the daemon is still restarting or removing it: try again shortly
                if error.status not in (409, 500) or attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def rename(self, container: str, name: str) -> None:
        self._post(f"/containers/{_segment(container)}/rename", {"name": name})

    def images(self, labels: dict[str, str], *, dangling: bool = False) -> list[str]:
        filters: dict[str, list[str]] = {"label": [f"{key}={value}" for key, value in labels.items()]}
        if dangling:
            filters["dangling"] = ["true"]
        listed = self._get("/images/json", {"filters": json.dumps(filters)})
        return [image["Id"] for image in listed]

    def dangling_images(self, labels: dict[str, str]) -> list[str]:
        return self.images(labels, dangling=True)

    def tag(self, image: str, reference: str) -> None:
        repo, _, tag = reference.rpartition(":")
        self._post(f"/images/{_segment(image)}/tag", {"repo": repo, "tag": tag})

    def remove_image(self, image: str) -> bool:
        """Remove an image unless a container still uses it (then it stays: False)."""
        from pydokku.engine.api import ApiError

        if self._trace is not None:
            self._trace.write(f"+ DELETE /images/{image}\n")
        try:
            self.api.request("DELETE", f"/images/{_segment(image)}", {"noprune": "0"})
        except ApiError as error:
            if error.status in (404, 409):
                return False
            raise
        return True

    def read_file(self, image: str, path: str) -> bytes | None:
        """A file's contents from an image, without running it; None when the image lacks it."""
        import io
        import tarfile

        from pydokku.engine.api import ApiError

        created = self._post("/containers/create", body={"Image": image, "Cmd": ["true"], "Labels": {}})
        try:
            data = self.api.request("GET", f"/containers/{created['Id']}/archive", {"path": path})
        except ApiError as error:
            if error.status == 404:
                return None
            raise
        finally:
            self.remove(created["Id"])
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            member = archive.next()
            extracted = archive.extractfile(member) if member is not None and member.isfile() else None
            return extracted.read() if extracted is not None else None
