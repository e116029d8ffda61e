"""Storage directories on the host: made safely and given an owner (storage:ensure-directory and
storage:create share this), subpaths made inside an entry, and what a refused command made, undone."""

from __future__ import annotations

import os
import stat

from pydokku.errors import DokkuError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydokku.context import Context
    from pydokku.plugins.storage.chown import ChownChoice


def make_directory(path: str, *, describe: str = "") -> bool:
    """Create `path` (mode 0755, parents too); False when it already is a directory. A symlink or a
    file in the way is an error: ownership changes must never be redirected through a link."""
    try:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        os.mkdir(path, mode=0o755)
        return True
    except FileExistsError:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            raise DokkuError(
                f"{describe}{path} is a symbolic link; refusing to use it as a storage directory"
            ) from None
        if not stat.S_ISDIR(mode):
            raise DokkuError(f"{describe}{path} exists but is not a directory") from None
        return False
    except OSError as error:
        raise DokkuError(f"Unable to create {path}: {error.strerror}") from error


def host_owner(context: Context, choice: ChownChoice) -> tuple[int, int] | None:
    """The uid:gid a chown choice means on this host (asks the engine only when there is an owner)."""
    return None if choice.owner_id is None else choice.on_host(context.engine.userns_offset())


def set_owner(context: Context, path: str, owner: tuple[int, int] | None) -> None:
    if owner is None:
        return
    from pydokku.ownership import set_tree_owner
    from pydokku.plugins.storage import say_hard_links

    context.console.detail(f"Setting directory ownership to {owner[0]}:{owner[1]}")
    say_hard_links(context.console, set_tree_owner(path, *owner))


def make_subpath(entry_name: str, host_path: str, subpath: str) -> list[str]:
    """Create the subpath inside the entry's directory, one component at a time, refusing any
    component that is a symbolic link (which could lead outside the entry); returns the directories
    it created, outermost first."""
    current = host_path
    created: list[str] = []
    try:
        for part in subpath.split("/"):
            current = os.path.join(current, part)
            try:
                os.mkdir(current, 0o755)
                created.append(current)
            except FileExistsError:
                if os.path.islink(current) or not os.path.isdir(current):
                    raise DokkuError(
                        f'attachment subpath "{subpath}" of storage entry "{entry_name}" must lead through'
                        f" directories only; {current} is a symbolic link or a file"
                    ) from None
            except OSError as error:
                raise DokkuError(f"Unable to create {current}: {error.strerror}") from error
    except BaseException:
        remove_created(created)
        raise
    return created


def remove_created(directories: list[str]) -> None:
    """Undo what a refused command created (make_subpath, make_directory): remove the directories,
    innermost first, while they are still empty."""
    for directory in reversed(directories):
        try:
            os.rmdir(directory)
        except OSError:
            return  # something was put there since: keep it, and its parents
