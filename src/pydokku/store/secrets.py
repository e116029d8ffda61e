"""Secrets (backup passphrases and credentials, registry logins), kept out of the state database.

The database is readable by anyone who can read `$DOKKU_LIB_ROOT`; secrets live in files only root
can read (directory 0700, files 0600), one folder per kind (`backup`, `registry`), one JSON file per
scope (`global`, `entry-<name>`, `app-<name>`), each replaced atomically (write a temporary file,
fsync, rename), so a change is all or nothing. A passphrase generated for a repository is a plain
file restic reads (`RESTIC_PASSWORD_FILE`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os

GLOBAL = "global"


def entry_scope(name: str) -> str:
    return f"entry-{name}"


class Secrets:
    def __init__(self, lib_root: str, kind: str = "backup") -> None:
        self.directory = os.path.join(lib_root, "secrets", kind)

    def _path(self, scope: str) -> str:
        return os.path.join(self.directory, f"{scope}.json")

    def read(self, scope: str) -> dict[str, dict[str, str]]:
        """A scope's secrets by kind, e.g. `{"credentials": {KEY: VALUE}, "passphrase": {"value": …}}` for
        backups, `{<server>: {"username": …, "password": …}}` for registries (empty when unset)."""
        try:
            with open(self._path(scope), encoding="utf-8") as file:
                stored: dict[str, dict[str, str]] = json.load(file)
        except FileNotFoundError:
            return {}
        return stored

    def write(self, scope: str, secrets: dict[str, dict[str, str]]) -> None:
        kept = {kind: values for kind, values in secrets.items() if values}
        if not kept:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path(scope))
            return
        write_private(self._path(scope), json.dumps(kept, sort_keys=True).encode())

    def replace(self, scope: str, kind: str, values: dict[str, str]) -> None:
        """Replace one part of a scope's secrets (`credentials`, `passphrase`, a server); an empty dict removes it."""
        stored = self.read(scope)
        stored[kind] = values
        self.write(scope, stored)

    def remove(self, scope: str) -> None:
        self.write(scope, {})

    def generated_key_file(self, repository: str) -> str:
        """Where the passphrase generated for a repository is kept (it may not exist yet)."""
        digest = hashlib.sha256(repository.encode()).hexdigest()[:16]
        return os.path.join(self.directory, f"repository-{digest}.passphrase")

    def generate_key(self, repository: str) -> str:
        """Create a random passphrase for the repository (once); return its file."""
        import secrets

        path = self.generated_key_file(repository)
        if not os.path.exists(path):
            write_private(path, (secrets.token_urlsafe(32) + "\n").encode(), replace=False)
        return path


def write_private(path: str, data: bytes, *, replace: bool = True, mode: int = 0o600) -> None:
    """Write a file only root can read (0600, or `mode`), in a 0700 folder, atomically."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    os.chmod(os.path.dirname(directory), 0o700)
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if replace:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)  # never overwrites: a generated passphrase is created once
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
