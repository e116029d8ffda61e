"""The only code that runs restic: its environment (secrets travel there, never on a command line),
the repository's creation on first use, and restic's JSON read back into values.

Every restic command pays ~0.8 s of key derivation, so each operation is one restic call where
restic allows it (a first backup tries, and initialises the repository only when restic says there
is none).
"""

from __future__ import annotations

import json
import os
import subprocess

from pydokku.errors import DokkuError
from pydokku.plugins.storage.backup.settings import is_local, local_path, masked

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from pydokku.console import Console
    from pydokku.context import Paths
    from pydokku.plugins.storage.backup.settings import Resolved

NO_REPOSITORY = "Is there a repository at the following location?"
# Passed through to restic from our own environment: what ssh and rclone need to find their way.
PASSED_THROUGH = ("PATH", "HOME", "TMPDIR", "SSH_AUTH_SOCK", "LANG", "LC_ALL")
ENTRY_TAG = "entry:"
VOLUME_TAG = "volume:"  # a docker volume's snapshot: its name, for disaster recovery
APP_TAG = "app:"


class Outcome:
    __slots__ = ("code", "stderr", "stdout")

    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    def failure(self) -> str:
        """restic's own words for what went wrong: its `Fatal:` line, else its last lines."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        fatal = [line.removeprefix("Fatal: ") for line in lines if line.startswith("Fatal: ")]
        if any(line.startswith("There were ") and line.endswith(" errors") for line in fatal):
            # `restore` counts the files it could not write: the first ones say why (a full disk, …).
            fatal = [*fatal, *(line for line in lines if line.startswith("ignoring error for "))][:3]
        return "; ".join(fatal or lines[-3:]) or f"restic exited with status {self.code}"


class Restic:
    def __init__(self, paths: Paths, resolved: Resolved, console: Console) -> None:
        self.paths = paths
        self.settings = resolved
        self.console = console

    @property
    def repository(self) -> str:
        return self.settings.repository

    @property
    def shown(self) -> str:
        """The repository as messages name it: its password masked."""
        return masked(self.settings.repository)

    def _environment(self) -> dict[str, str]:
        env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
        env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        env.update(self.settings.credentials)
        env["RESTIC_REPOSITORY"] = self.repository  # a rest: URL may hold a password: not on the command line
        env["RESTIC_CACHE_DIR"] = os.path.join(self.paths.lib_root, "cache", "restic")
        env["RESTIC_PROGRESS_FPS"] = "2"
        if self.settings.passphrase:
            env["RESTIC_PASSWORD"] = self.settings.passphrase
        else:
            env["RESTIC_PASSWORD_FILE"] = self.settings.key_file
        return env

    def _command(self, args: tuple[str, ...]) -> list[str]:
        options = ["--compression", self.settings.computed["compression"]]
        if self.settings.computed["sftp-command"]:
            # It may hold a password: restic gets a root-only script that runs it, never the command itself.
            options += ["-o", f"sftp.command={self._sftp_script()}"]
        return ["restic", *options, *args]

    def _sftp_script(self) -> str:
        """`$DOKKU_LIB_ROOT/secrets/backup/sftp-<hash>` (0700 in a 0700 folder): `exec` of the sftp-command,
        its words quoted so that the shell reads them as restic would have split them."""
        import hashlib
        import shlex

        from pydokku.store.secrets import Secrets, write_private

        command = self.settings.computed["sftp-command"]
        words = shlex.split(command)
        script = f"#!/bin/sh\nexec {shlex.join(words)}\n".encode()
        path = os.path.join(Secrets(self.paths.lib_root).directory, f"sftp-{hashlib.sha256(script).hexdigest()[:16]}")
        if not os.path.exists(path):
            write_private(path, script, mode=0o700)
        return path

    def _check_usable(self) -> None:
        if self.repository.startswith("s3:") and not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(
            self.settings.credentials
        ):
            # Without them restic asks the cloud's instance metadata service, off this host.
            raise DokkuError(
                f"The s3 repository {self.shown} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY:"
                " set them with storage:backup-auth"
            )
        if not self.settings.passphrase and not os.path.exists(self.settings.key_file):
            raise DokkuError(
                f"No passphrase is known for the backup repository {self.shown}; set it with"
                " storage:backup-set <entry>|--global passphrase <passphrase>"
            )

    def run(self, *args: str, cwd: str | None = None, on_line: Callable[[str], None] | None = None) -> Outcome:
        """Run a restic command; its stdout is handed line by line to `on_line` when given (JSON
        progress), else kept. stderr goes to a temporary file: a pipe left unread could stall restic."""
        import tempfile

        self._check_usable()
        with tempfile.TemporaryFile() as errors:
            try:
                process = subprocess.Popen(
                    self._command(args), cwd=cwd, env=self._environment(), stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=errors, text=True, errors="replace", preexec_fn=_die_with_parent,
                )  # fmt: skip
            except FileNotFoundError as error:
                raise DokkuError("restic is not installed (apt-get install restic)") from error
            assert process.stdout is not None
            kept = []
            try:
                for line in process.stdout:
                    if on_line is not None:
                        on_line(line)
                    else:
                        kept.append(line)
            finally:
                code = process.wait()
            errors.seek(0)
            return Outcome(code, "".join(kept), errors.read().decode(errors="replace"))

    def checked(self, *args: str, what: str, cwd: str | None = None) -> Outcome:
        outcome = self.run(*args, cwd=cwd)
        if outcome.code != 0:
            raise DokkuError(f"Unable to {what} in {self.shown}: {outcome.failure()}")
        return outcome

    # -- the repository -----------------------------------------------------------------------------

    def exists_locally(self) -> bool | None:
        """Whether a local repository exists (None: a remote one, only restic can tell)."""
        if not is_local(self.repository):
            return None
        path = local_path(self.repository)
        if os.path.exists(os.path.join(path, "config")):
            return True
        if os.path.isdir(path) and os.listdir(path):
            raise DokkuError(f"{path} is not empty and holds no restic repository; choose another repository")
        return False

    def initialise(self) -> None:
        """Create the repository; a passphrase is generated first when none is set (and said once)."""
        generated = ""
        if not self.settings.passphrase and not os.path.exists(self.settings.key_file):
            from pydokku.store.secrets import Secrets

            generated = Secrets(self.paths.lib_root).generate_key(self.repository)
        self.console.header(f"Initialising the backup repository {self.shown}")
        if is_local(self.repository):
            os.makedirs(os.path.dirname(local_path(self.repository).rstrip("/")), mode=0o700, exist_ok=True)
        try:
            outcome = self.run("init")
            if outcome.code != 0:
                raise DokkuError(f"Unable to create the backup repository {self.shown}: {outcome.failure()}")
        except BaseException:
            if generated:  # a passphrase is only ever generated for a repository that came to be
                os.unlink(generated)
            raise
        if generated:
            self.console.warn(f"Generated the passphrase of backup repository {self.shown}, kept in {generated}")
            self.console.warn(
                "Keep a copy of it away from this host: without it, no backup in this repository can be restored"
            )

    # -- snapshots ----------------------------------------------------------------------------------

    def snapshots(self, entry: str | None) -> list[dict[str, object]]:
        """The repository's snapshots (of one entry when named), oldest first."""
        args = ["snapshots", "--json"] + (["--tag", ENTRY_TAG + entry] if entry is not None else [])
        outcome = self.checked(*args, what="list the snapshots")
        listed: list[dict[str, object]] = json.loads(outcome.stdout or "[]") or []
        return listed


def _die_with_parent() -> None:
    """In the child, before restic starts: be killed when dokku dies (even by SIGKILL), so that no restic
    goes on writing into a staging directory the next run removes."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def entry_of(snapshot: dict[str, object]) -> str:
    return next((tag.removeprefix(ENTRY_TAG) for tag in tags_of(snapshot) if tag.startswith(ENTRY_TAG)), "")


def apps_of(snapshot: dict[str, object]) -> list[str]:
    return [tag.removeprefix(APP_TAG) for tag in tags_of(snapshot) if tag.startswith(APP_TAG)]


def tags_of(snapshot: dict[str, object]) -> list[str]:
    tags = snapshot.get("tags")
    return [str(tag) for tag in tags] if isinstance(tags, list) else []
