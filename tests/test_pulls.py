"""git:from-image pulls an image that is not on the host, as Dokku does, from a real registry (Debian's
docker-registry on 127.0.0.1, a port of the test's own, with htpasswd logins), with the app's
registry:login."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator

import pytest

from conftest import docker

pytestmark = pytest.mark.xdist_group("registry")

USER, PASSWORD = "pusher", "s3cret-pull"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bcrypt(password: str) -> str:
    with warnings.catch_warnings():  # the registry reads bcrypt alone; libcrypt has it
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, images) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A registry that wants a login, serving one image, `<address>/team/web:1`; stopped by pid."""
    root = tmp_path_factory.mktemp("registry")
    (root / "htpasswd").write_text(f"{USER}:{bcrypt(PASSWORD)}\n")
    address = f"127.0.0.1:{free_port()}"
    (root / "config.yml").write_text(
        "version: 0.1\nlog: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {root}/data}}}}\n"
        f"http: {{addr: '{address}', secret: test-only}}\n"
        f"auth: {{htpasswd: {{realm: test, path: {root}/htpasswd}}}}\n"
    )
    server = subprocess.Popen(["docker-registry", "serve", str(root / "config.yml")], stdout=subprocess.DEVNULL,
                              stderr=(root / "log").open("wb"))  # fmt: skip
    try:
        wait_for_registry(address)
        image = f"{address}/team/web:1"
        docker("tag", images.v1, image)  # a web process that keeps running
        login = subprocess.run(["docker", "login", "--username", USER, "--password-stdin", address],
                               input=PASSWORD, capture_output=True, text=True, check=False,
                               env={**os.environ, "DOCKER_CONFIG": str(root / "client")})  # fmt: skip
        assert login.returncode == 0, login.stderr
        pushed = subprocess.run(["docker", "--config", str(root / "client"), "push", "--quiet", image],
                                capture_output=True, text=True, check=False)  # fmt: skip
        assert pushed.returncode == 0, pushed.stderr
        docker("image", "rm", image)
        yield address
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_for_registry(address: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://{address}/v2/", timeout=1)
            return
        except urllib.error.HTTPError:
            return  # 401: it answers, and wants a login
        except OSError:
            assert time.monotonic() < deadline, "the registry did not start"
            time.sleep(0.1)


def test_an_image_not_on_the_host_is_pulled_with_the_app_s_login(dokku, app_name, registry, env):
    image = f"{registry}/team/web:1"
    dokku("apps:create", app_name)
    dokku("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0")
    refused = dokku("git:from-image", app_name, image)
    assert refused.code == 1
    assert refused.out == "-----> Generating build context\n-----> Pulling image\n"
    assert refused.err.startswith(f" !     Failed to pull image: {image}: ") and refused.err.count("\n") == 1
    assert "no basic auth credentials" in refused.err or "unauthorized" in refused.err, refused.err
    assert dokku("apps:report", app_name, "--app-deploy-source").out == "\n"  # nothing recorded

    logged_in = dokku("registry:login", app_name, registry, USER, "--password-stdin", stdin=PASSWORD)
    assert logged_in.code == 0, logged_in.err
    pulled = dokku("git:from-image", app_name, image)
    assert pulled.code == 0, pulled.err
    lines = pulled.out.splitlines()
    assert lines[:3] == ["-----> Generating build context", "-----> Pulling image", "1: Pulling from team/web"]
    assert f"Status: Downloaded newer image for {image}" in lines
    assert f"-----> Building {app_name} from {image}" in lines
    assert docker("inspect", "--format", "{{.State.Running}}", f"{app_name}.web.1") == "true"
    assert PASSWORD not in pulled.out + pulled.err

    again = dokku("git:from-image", app_name, image)
    assert again.out.splitlines()[1] == "-----> Image exists on host, skipping pull"
    forced = dokku("--force", "git:from-image", app_name, image)
    assert forced.out.splitlines()[1] == "-----> Force pulling image"
    assert f"Status: Image is up to date for {image}" in forced.out
    docker("image", "rm", "--force", image, check=False)


def test_a_registry_that_does_not_answer_is_one_line(dokku, app, env):
    before = env.snapshot()
    image = f"127.0.0.1:{free_port()}/team/none:1"
    result = dokku("git:from-image", app, image)
    assert result.code == 1
    assert result.err.startswith(f" !     Failed to pull image: {image}: ") and result.err.count("\n") == 1
    assert "connection refused" in result.err
    assert env.snapshot() == before
