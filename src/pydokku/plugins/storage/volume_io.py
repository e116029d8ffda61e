"""The content of volumes that are no directory on this host (other drivers, or the local driver with a
`device`: NFS, tmpfs, a bind), read and written through throwaway containers.

Reading: Docker copies `/data` out of a created, never started container (`docker cp`): owners, modes,
times to the second. Writing cannot swap the volume's root atomically, so it is done in steps inside the
volume, each resumable: the new content is copied in beside the old (`.pydokku-incoming-<id>`); a phase
file (`.pydokku-swap-<id>`) records the step; the old entries move into `.pydokku-previous-<id>`, then
the new ones out of the incoming directory, all renames. Every write first finishes any swap a phase
file shows was interrupted and removes incoming copies that never got one, so a write killed at any
moment is completed by the next, never left half-done.
"""

from __future__ import annotations

import contextlib
import os
import subprocess

from pydokku.errors import DokkuError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from pydokku.context import Context

# $1: id, $2: 1 to discard the previous content, $3: 1 to replace content (else refuse a non-empty volume).
# Exit 3: not empty. Prints `kept <dir>` when the previous content is kept, `finished <id>` per resumed swap.
SWAP_SCRIPT = r"""
set -eu
cd /data
ours() { case "$1" in .pydokku-swap-*|.pydokku-incoming-*|.pydokku-previous-*) return 0;; esac; return 1; }
present() { [ -e "$1" ] || [ -L "$1" ]; }
finish() {
  id=$1; read -r phase discard < ".pydokku-swap-$id"
  if [ "$phase" = 1 ]; then
    mkdir -p ".pydokku-previous-$id"
    for f in * .[!.]* ..?*; do if present "$f" && ! ours "$f"; then mv "$f" ".pydokku-previous-$id/"; fi; done
    echo "2 $discard" > ".pydokku-swap-$id.new" && mv ".pydokku-swap-$id.new" ".pydokku-swap-$id"
  fi
  if [ -d ".pydokku-incoming-$id" ]; then
    cd ".pydokku-incoming-$id"
    for f in * .[!.]* ..?*; do if present "$f"; then mv "$f" /data/; fi; done
    cd /data
    chown "$(stat -c %u:%g ".pydokku-incoming-$id")" /data && chmod "$(stat -c %a ".pydokku-incoming-$id")" /data
    rmdir ".pydokku-incoming-$id"
  fi
  if [ -z "$(ls -A ".pydokku-previous-$id")" ]; then rmdir ".pydokku-previous-$id"
  elif [ "$discard" = 1 ]; then rm -rf ".pydokku-previous-$id"
  else echo "kept .pydokku-previous-$id"; fi
  rm ".pydokku-swap-$id"
}
rm -f .pydokku-swap-*.new
for s in .pydokku-swap-*; do
  if [ -e "$s" ]; then finish "${s#.pydokku-swap-}" >/dev/null; echo "finished ${s#.pydokku-swap-}"; fi
done
for i in .pydokku-incoming-*; do if [ -e "$i" ] && [ "$i" != ".pydokku-incoming-$1" ]; then rm -rf "$i"; fi; done
if [ "$3" != 1 ]; then
  for f in * .[!.]* ..?*; do
    if present "$f" && ! ours "$f"; then rm -rf ".pydokku-incoming-$1"; exit 3; fi
  done
fi
echo "1 $2" > ".pydokku-swap-$1.new" && mv ".pydokku-swap-$1.new" ".pydokku-swap-$1"
finish "$1"
"""


def scratch_path(context: Context, label: str) -> str:
    """Where a volume's content stays on its way out or in: `$DOKKU_LIB_ROOT/data/backup-copies/<label>`."""
    return os.path.join(context.paths.lib_root, "data", "backup-copies", label)


def scratch(context: Context, label: str) -> str:
    """That folder, made afresh (what an interrupted copy left there goes)."""
    import shutil

    path = scratch_path(context, label)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, mode=0o700)
    return path


def _image(context: Context, volume: str) -> str:
    from pydokku.plugins.storage.entry_commands import EXEC_IMAGES, helper_image

    image = helper_image(context.engine)
    if image is None:
        raise DokkuError(f"No image on this host to reach volume {volume} through (tried {', '.join(EXEC_IMAGES)})")
    return image


@contextlib.contextmanager
def stream_out(context: Context, volume: str) -> Iterator[list[str]]:
    """The command that writes a volume's content as a tar stream, through a throwaway container."""
    engine = context.engine
    container = engine.volume_container(volume, _image(context, volume), readonly=True)
    try:
        yield engine.copy_out_command(container, "/data")
    finally:
        engine.remove(container)


def copy_out(context: Context, volume: str, directory: str) -> None:
    """The volume's content into the empty `directory`, checked as an import is."""
    from pydokku.plugins.storage import archive

    with stream_out(context, volume) as command, subprocess.Popen(command, stdout=subprocess.PIPE) as copier:
        assert copier.stdout is not None
        archive.extract(copier.stdout.fileno(), directory)
    if copier.returncode != 0:
        raise DokkuError(f"Unable to read docker volume {volume} through a container (docker cp failed)")


def replace(context: Context, volume: str, staged: str, *, replace_content: bool, discard: bool) -> str:
    """Make the tree in `staged` the volume's content (see the module's notes); return where the
    previous content is kept inside the volume ("" when there was none or it was discarded)."""
    from pydokku.plugins.storage import archive

    engine = context.engine
    image = _image(context, volume)
    swap_id = os.urandom(6).hex()
    container = engine.volume_container(volume, image, readonly=False)
    try:
        tar = [*archive.tar_command(staged)[:-1], "--transform", f"s,^\\.,.pydokku-incoming-{swap_id},", "."]
        with subprocess.Popen(tar, stdout=subprocess.PIPE) as producer:
            assert producer.stdout is not None
            copied = subprocess.run(
                engine.copy_in_command(container, "/data"), stdin=producer.stdout, capture_output=True, text=True
            )
        if producer.returncode != 0 or copied.returncode != 0:
            raise DokkuError(f"Unable to copy into docker volume {volume}: {copied.stderr.strip()}")
    finally:
        engine.remove(container)
    flags = [swap_id, "1" if discard else "0", "1" if replace_content else "0"]
    code, out, err = engine.run_script(image, volume, SWAP_SCRIPT, flags)
    if code == 3:
        raise DokkuError(f"docker volume {volume} is not empty; pass --replace to replace its content")
    if code != 0:
        raise DokkuError(f"Unable to swap the new content into docker volume {volume}: {err.strip() or out.strip()}")
    kept = [line.removeprefix("kept ") for line in out.splitlines() if line.startswith("kept ")]
    return f"/data/{kept[-1]}" if kept else ""


def kept_text(kept: str, entry: str) -> str:
    return f"Previous content kept in the volume at {kept} (remove it: dokku storage:exec {entry} -- rm -rf {kept})"
