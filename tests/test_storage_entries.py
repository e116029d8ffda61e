"""Named storage entries and attachments (Dokku 0.38): commands, messages, JSON, upsert, lifecycle."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from pydokku.store.schema import legacy_entry_name

NAME_RULE = (
    ' !     storage entry name "{}" must be a DNS-1123 label'
    " (lowercase letters, digits, and dashes; cannot start or end with a dash)\n"
)


def test_create_default_path(dokku, env):
    result = dokku("storage:create", "uploads")
    path = env.storage_root / "uploads"
    assert (result.code, result.err) == (0, "")
    assert result.out == f"       Created {path}\n-----> Storage entry uploads created\n"
    assert path.is_dir()
    shown = json.loads(dokku("storage:info", "uploads", "--format", "json").out)
    assert shown.pop("usage")["state"] == "measured"  # the usage object: tests/test_storage_usage.py
    assert shown == {"name": "uploads", "scheduler": "docker-local", "host_path": str(path), "schema_version": 1}


def test_create_with_chown_mode_and_metadata(dokku, env, engine):
    result = dokku(
        "storage:create", "media", "--chown", "heroku", "--mode", "750", "--reclaim-policy", "Delete",
        "--annotation", "backup.velero.io/include=true", "--label", "tier=gold",
    )  # fmt: skip
    path = env.storage_root / "media"
    assert result.out == (
        f"       Created {path}\n"
        "       Setting directory mode to 0750\n"
        "       Setting directory ownership to 1000:1000\n"
        "-----> Storage entry media created\n"
    )
    assert (os.stat(path).st_uid, oct(os.stat(path).st_mode & 0o777)) == (1000, "0o750")
    info = dokku("storage:info", "media", "--format", "json").out
    usage = json.loads(info)["usage"]
    assert info == json.dumps(
        {
            "name": "media", "scheduler": "docker-local", "host_path": str(path), "chown": "heroku", "mode": "0750",
            "reclaim_policy": "Delete", "annotations": {"backup.velero.io/include": "true"},
            "labels": {"tier": "gold"}, "schema_version": 1, "usage": usage,
        },
        indent=2,
    ) + "\n"  # fmt: skip
    assert dokku("storage:info", "media").lines[:6] == [
        "-----> Storage entry media",
        "       Scheduler:        docker-local",
        f"       Host path:        {path}",
        "       Chown:            heroku",
        "       Mode:             0750",
        "       Reclaim policy:   Delete",
    ]  # then the usage rows: tests/test_storage_usage.py


def test_create_custom_path_and_volume(dokku, env):
    custom = env.root / "srv-data"
    assert dokku("storage:create", "custom", str(custom)).out == (
        f"       Created {custom}\n-----> Storage entry custom created\n"
    )
    assert dokku("storage:create", "vol", "my-volume").out == "-----> Storage entry vol created\n"
    assert dokku("storage:list-entries").out == (
        f"-----> Storage entries:\n       custom\tdocker-local\t{custom}\n       vol\tdocker-local\tmy-volume\n"
    )
    listed = json.loads(dokku("storage:list-entries", "--format", "json").out)
    assert [e["name"] for e in listed] == ["custom", "vol"]


def test_create_again(dokku, env):
    dokku("storage:create", "uploads")
    same = dokku("storage:create", "uploads")
    assert same.out == "-----> Storage entry uploads already exists, leaving in place\n"
    changed = dokku("storage:create", "uploads", "--mode", "0700")
    assert changed.out == "       Setting directory mode to 0700\n-----> Storage entry uploads updated\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), " !     storage entry name is required\n"),
        (
            ("a" * 46,),
            f' !     storage entry name "{"a" * 46}" is too long (max 45 characters); helm release names cap our budget\n',
        ),
        (("Upper",), NAME_RULE.format("Upper")),
        (("-dash",), " !     unknown shorthand flag: 'd' in -dash\n"),
        (("dash-",), NAME_RULE.format("dash-")),
        (("under_score",), NAME_RULE.format("under_score")),
        (("ünï",), NAME_RULE.format("ünï")),
        (("legacy-mine",), ' !     storage entry name "legacy-mine" must not start with reserved prefix "legacy-"\n'),
        (
            ("ok", "relative/dir"),
            ' !     storage entry "ok" host path "relative/dir" must be an absolute path or a docker volume name\n',
        ),
        (("ok", "/srv/../etc"), ' !     storage entry "ok" host path "/srv/../etc" cannot contain ".." segments\n'),
        (
            ("ok", "--scheduler", "k3s"),
            ' !     storage entry "ok" has unsupported scheduler "k3s" (supported: docker-local, docker-swarm)\n',
        ),
        (("ok", "--size", "1Gi"), ' !     storage entry "ok" (docker-local) does not accept --size\n'),
        (
            ("ok", "--mode", "999"),
            ' !     Unsupported directory mode "999". Value must be a 3 or 4 digit octal mode, such as 0755\n',
        ),
        (
            ("ok", "--reclaim-policy", "Recycle"),
            ' !     storage entry "ok" has unsupported reclaim policy "Recycle" (supported: Retain, Delete)\n',
        ),
        (("ok", "--chown", "nobody"), " !     Unsupported chown permissions\n"),
        (("ok", "--annotation", "novalue"), ' !     expected key=value, got "novalue"\n'),
        (("ok", "/srv/custom", "--chown", "heroku"), "{chown_on_custom}"),
        (("ok", "/srv/custom", "--reclaim-policy", "Delete"), "{delete_on_custom}"),
    ],
)
def test_create_errors_change_nothing(dokku, env, args, message):
    default = env.storage_root / "ok"
    message = message.format(
        chown_on_custom=(
            f" !     --chown is only supported when the storage entry uses the default host path ({default});"
            " omit --chown and manage /srv/custom manually\n"
        ),
        delete_on_custom=f" !     reclaim policy Delete is only supported for the default host path ({default})\n",
    )
    before = env.snapshot()
    result = dokku("storage:create", *args)
    expected_code = 2 if "unknown shorthand flag" in message else 1
    assert (result.code, result.out, result.err) == (expected_code, "", message)
    assert env.snapshot() == before


def test_chown_on_a_custom_path_is_refused(dokku, env):
    result = dokku("storage:create", "ok", "/srv/custom", "--chown", "heroku")
    assert result.err == (
        f" !     --chown is only supported when the storage entry uses the default host path"
        f" ({env.storage_root}/ok); omit --chown and manage /srv/custom manually\n"
    )


def test_set(dokku, env, engine):
    dokku("storage:create", "uploads")
    result = dokku("storage:set", "uploads", "mode", "0700")
    assert result.out == "       Setting directory mode to 0700\n-----> Storage entry uploads updated\n"
    assert oct(os.stat(env.storage_root / "uploads").st_mode & 0o777) == "0o700"
    assert dokku("storage:set", "uploads", "chown", "root").out.endswith("-----> Storage entry uploads updated\n")
    assert dokku("storage:set", "uploads", "mode").out == "-----> Storage entry uploads updated\n"
    assert "mode" not in json.loads(dokku("storage:info", "uploads", "--format", "json").out)
    errors = [
        (("uploads",), " !     No property specified\n"),
        (("uploads", "colour", "x"), " !     Invalid property specified, valid properties include: access-mode, chown, mode, namespace, reclaim-policy, size, storage-class-name\n"),
        (("uploads", "access-mode", "ReadWriteMany"), " !     storage:set cannot change access-mode in place; recreate the entry\n"),
        (("uploads", "size", "1Gi"), ' !     storage entry "uploads" (docker-local) does not accept --size\n'),
        (("nope", "mode", "0700"), ' !     storage entry "nope" does not exist\n'),
    ]  # fmt: skip
    for args, err in errors:
        assert dokku("storage:set", *args).err == err


DEPRECATED_FLAGS = " !     Deprecated: please use 'storage:set <name> <property> [<value>]' instead of flags\n"
DEPRECATED_METADATA = " !     Deprecated: please use 'storage:annotations:set' and 'storage:labels:set' instead of --annotation and --label\n"


def test_set_with_the_deprecated_flag_form(dokku, env, engine):
    dokku("storage:create", "uploads", "--annotation", "a=1", "--annotation", "b=2")
    result = dokku("storage:set", "uploads", "--mode", "0770", "--chown", "heroku")
    assert (result.code, result.err) == (0, DEPRECATED_FLAGS)
    assert result.out == (
        "       Setting directory mode to 0770\n"
        "       Setting directory ownership to 1000:1000\n"
        "-----> Storage entry uploads updated\n"
    )
    path = env.storage_root / "uploads"
    assert (oct(path.stat().st_mode & 0o777), path.stat().st_uid) == ("0o770", 1000)
    cleared = dokku("storage:set", "uploads", "--mode", "")
    assert (cleared.err, cleared.out) == (DEPRECATED_FLAGS, "-----> Storage entry uploads updated\n")
    # --annotation and --label replace the whole map.
    replaced = dokku("storage:set", "uploads", "--annotation", "c=3", "--label", "tier=gold")
    assert replaced.err == DEPRECATED_METADATA
    shown = json.loads(dokku("storage:info", "uploads", "--format", "json").out)
    assert (shown["annotations"], shown["labels"], shown["chown"]) == ({"c": "3"}, {"tier": "gold"}, "heroku")
    assert "mode" not in shown
    before = env.snapshot()
    mixed = dokku("storage:set", "uploads", "mode", "0700", "--chown", "root")
    assert (mixed.code, mixed.out, mixed.err) == (
        1, "", " !     storage:set accepts either a property and a value or flags, not both\n"
    )  # fmt: skip
    bad = dokku("storage:set", "uploads", "--mode", "999")
    assert (bad.code, bad.out) == (1, "")
    assert bad.err == DEPRECATED_FLAGS + (
        ' !     Unsupported directory mode "999". Value must be a 3 or 4 digit octal mode, such as 0755\n'
    )
    assert env.snapshot() == before


def test_a_create_refused_while_recording_removes_its_directory(dokku, env, monkeypatch):
    """storage:create makes the directory with no lock held; if recording then fails, the directory
    it made goes too."""
    import _sqlite3

    from pydokku.store import storage as storage_store

    def refuse(*args, **kwargs):
        raise _sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(storage_store, "save_entry", refuse)
    result = dokku("storage:create", "uploads")
    assert result.code == 1
    assert "stayed locked" in result.err
    assert not (env.storage_root / "uploads").exists()


def test_annotations_and_labels(dokku):
    dokku("storage:create", "uploads")
    assert dokku("storage:annotations:set", "uploads", "a/b", "1").out == "=====> Setting annotation a/b to 1\n"
    assert dokku("storage:labels:set", "uploads", "tier", "gold").out == "=====> Setting label tier to gold\n"
    assert dokku("storage:annotations:report", "uploads").out == (
        "=====> uploads annotations information\n       Annotation a/b:                1\n"
    )
    assert dokku("storage:labels:report", "uploads", "--format", "json").out == '{"tier":"gold"}\n'
    assert dokku("storage:labels:report", "uploads", "--storage-labels.tier").out == "gold\n"
    assert dokku("storage:labels:report", "uploads", "--storage-labels.nope").err == (
        " !     Invalid flag passed, valid flags: --storage-labels.tier\n"
    )
    assert dokku("storage:annotations:set", "uploads", "a/b").out == "=====> Unsetting annotation a/b\n"
    assert dokku("storage:annotations:set", "uploads").err == " !     No annotation key specified\n"
    assert dokku("storage:labels:set", "nope", "k", "v").err == ' !     storage entry "nope" does not exist\n'


def test_named_mount_upsert_and_list(dokku, app, env):
    dokku("storage:create", "uploads")
    path = env.storage_root / "uploads"
    added = dokku("storage:mount", app, "uploads", "--container-dir", "/app/uploads")
    assert (added.code, added.out) == (0, "-----> Storage entry uploads mounted at /app/uploads on node-js-app\n")
    updated = dokku("storage:mount", app, "uploads", "--container-dir", "/app/uploads", "--volume-readonly")
    assert updated.out == "-----> Storage entry uploads mount at /app/uploads on node-js-app updated\n"
    assert dokku("--quiet", "storage:list", app).out == f"{path}:/app/uploads:ro\n"
    assert json.loads(dokku("storage:list", app, "--format", "json").out) == [
        {
            "entry_name": "uploads",
            "host_path": str(path),
            "container_path": "/app/uploads",
            "readonly": True,
            "volume_options": "",
        }
    ]
    dokku(
        "storage:mount", app, "uploads", "--container-dir", "/app/uploads", "--volume-readonly", "--volume-options", "z"
    )
    assert json.loads(dokku("storage:list", app, "--format", "json").out)[0]["volume_options"] == "z"
    assert dokku("--quiet", "storage:list", app).out == f"{path}:/app/uploads:ro,z\n"
    report = json.loads(dokku("storage:report", app, "--format", "json").out)
    assert report["attachment.1.entry-name"] == "uploads"
    assert report["storage-attachment.1.readonly"] == "true"
    assert dokku("storage:report", app, "--storage-attachment.1.container-path").out == "/app/uploads\n"
    # Dokku HEAD's "re-running ... updates in place": a re-mount without --volume-readonly drops the key.
    dokku("storage:mount", app, "uploads", "--container-dir", "/app/uploads", "--volume-options", "z")
    assert json.loads(dokku("storage:list", app, "--format", "json").out) == [
        {"entry_name": "uploads", "host_path": str(path), "container_path": "/app/uploads", "volume_options": "z"}
    ]


def test_named_mount_errors_change_nothing(dokku, app, env):
    dokku("storage:create", "uploads")
    before = env.snapshot()
    cases = [
        (("uploads",), " !     --container-dir is required when mounting a named storage entry\n"),
        (("nope", "--container-dir", "/x"), ' !     storage entry "nope" does not exist; create it first with `dokku storage:create`\n'),
        (("uploads", "--container-dir", "rel"), ' !     attachment container path "rel" must be absolute\n'),
        (("uploads", "--container-dir", "/x", "--phase", "build"), ' !     attachment phase "build" is not supported (must be "deploy" or "run")\n'),
        (("uploads", "--container-dir", "/x", "--volume-subpath", "../up"), ' !     attachment subpath "../up" must be a relative path inside the storage entry\n'),
        (("uploads", "--container-dir", "/x", "--volume-subpath", "/abs"), ' !     attachment subpath "/abs" must be a relative path inside the storage entry\n'),
        (("uploads", "--container-dir", "/x", "--volume-chown", "nobody"), " !     Unsupported chown permissions\n"),
        (("uploads", "--container-dir", "/x", "--process-type", "we b"), ' !     attachment process type "we b" may only contain letters, digits, "_" and "-"\n'),
    ]  # fmt: skip
    for args, err in cases:
        result = dokku("storage:mount", app, *args)
        assert (result.code, result.out, result.err) == (1, "", err)
    assert env.snapshot() == before


def test_named_flags_with_a_colon_mount(dokku, app, host_dir, env):
    before = env.snapshot()
    result = dokku("storage:mount", app, f"{host_dir}:/data", "--container-dir", "/x", "--volume-readonly")
    assert (result.code, result.err) == (
        1,
        " !     --container-dir, --volume-readonly apply to named storage entries; a host:container mount takes"
        " its options after a second colon (host:container:ro)\n",
    )
    assert env.snapshot() == before


def test_a_refused_subpath_mount_leaves_no_directory_behind(dokku, app, env):
    dokku("storage:create", "one")
    dokku("storage:create", "two")
    dokku("storage:mount", app, "one", "--container-dir", "/data")
    before = env.snapshot()
    clash = dokku("storage:mount", app, "two", "--container-dir", "/data", "--volume-subpath", "a/b/c")
    assert (clash.code, clash.out) == (1, "")
    assert clash.err == (
        f" !     Container path /data is already mounted by {env.storage_root}/one:/data; unmount that first.\n"
    )
    assert not (env.storage_root / "two" / "a").exists()
    assert env.snapshot() == before


def test_volume_chown_only_inside_the_storage_root(dokku, app, env, host_dir):
    dokku("storage:create", "outside", str(host_dir))
    before = env.snapshot()
    result = dokku("storage:mount", app, "outside", "--container-dir", "/x", "--volume-chown", "heroku")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f" !     --volume-chown is only supported when the storage entry uses the default host path"
        f" ({env.storage_root}/outside); omit --volume-chown and manage {host_dir} manually\n"
    )
    assert env.snapshot() == before
    # `false` names no owner, so it is fine anywhere; inside the root any owner is.
    assert dokku("storage:mount", app, "outside", "--container-dir", "/x", "--volume-chown", "false").code == 0
    dokku("storage:create", "inside")
    assert dokku("storage:mount", app, "inside", "--container-dir", "/y", "--volume-chown", "heroku").code == 0


def test_mounting_again_rewrites_every_mount_time_field(dokku, app, env):
    dokku("storage:create", "uploads")
    first = dokku(
        "storage:mount", app, "uploads", "--container-dir", "/x", "--volume-readonly", "--volume-options", "z",
        "--volume-subpath", "sub", "--volume-chown", "heroku", "--phase", "run",
    )  # fmt: skip
    assert first.out == "-----> Storage entry uploads mounted at /x on node-js-app\n"
    again = dokku("storage:mount", app, "uploads", "--container-dir", "/x")
    assert again.out == "-----> Storage entry uploads mount at /x on node-js-app updated\n"
    report = json.loads(dokku("storage:report", app, "--format", "json").out)
    assert {key: report[f"attachment.1.{key}"] for key in ("readonly", "volume-options", "subpath", "volume-chown",
                                                             "phases")} == {
        "readonly": "false", "volume-options": "", "subpath": "", "volume-chown": "", "phases": "deploy,run",
    }  # fmt: skip


def test_subpath_cannot_lead_through_a_symlink(dokku, app, env):
    dokku("storage:create", "uploads")
    outside = env.root / "outside"
    outside.mkdir()
    (env.storage_root / "uploads" / "link").symlink_to(outside)
    result = dokku("storage:mount", app, "uploads", "--container-dir", "/x", "--volume-subpath", "link/deeper")
    assert result.code == 1
    assert "is a symbolic link or a file" in result.err
    assert list(outside.iterdir()) == []


def test_container_paths_clash_across_entries_and_process_types(dokku, app, env):
    dokku("storage:create", "one")
    dokku("storage:create", "two")
    dokku("storage:mount", app, "one", "--container-dir", "/data", "--process-type", "worker")
    clash = dokku("storage:mount", app, "two", "--container-dir", "/data")
    assert (
        clash.err
        == f" !     Container path /data is already mounted by {env.storage_root}/one:/data; unmount that first.\n"
    )
    # Another process type may mount something else at the same path.
    assert dokku("storage:mount", app, "two", "--container-dir", "/data", "--process-type", "web").code == 0


def test_named_unmount(dokku, app):
    dokku("storage:create", "uploads")
    dokku("storage:mount", app, "uploads", "--container-dir", "/a")
    dokku("storage:mount", app, "uploads", "--container-dir", "/b")
    several = dokku("storage:unmount", app, "uploads")
    assert several.err == (
        ' !     storage entry "uploads" is mounted at multiple paths on app "node-js-app" (/a, /b);'
        " pass --container-dir to disambiguate\n"
    )
    assert dokku("storage:unmount", app, "uploads", "--container-dir", "/c").err == (
        ' !     storage entry "uploads" is not mounted at "/c" on app "node-js-app"\n'
    )
    assert dokku("storage:unmount", app, "uploads", "--container-dir", "/a").out == ""
    assert dokku("storage:unmount", app, "uploads").code == 0
    assert (
        dokku("storage:unmount", app, "uploads").err
        == ' !     storage entry "uploads" is not mounted on app "node-js-app"\n'
    )


def test_destroy(dokku, app, env):
    dokku("storage:create", "uploads")
    (env.storage_root / "uploads" / "keep.txt").write_text("data")
    dokku("storage:mount", app, "uploads", "--container-dir", "/a")
    mounted = dokku("storage:destroy", "uploads", "--force")
    assert (mounted.code, mounted.err) == (
        1,
        ' !     storage entry "uploads" is still mounted by app(s): node-js-app\n',
    )
    dokku("storage:unmount", app, "uploads")
    refused = dokku("storage:destroy", "uploads", stdin="nope\n")
    assert refused.err == (
        " !     WARNING: Potentially Destructive Action\n"
        " !     This command will destroy storage entry uploads.\n"
        ' !     To proceed, type "uploads"\n'
        " !     Confirmation did not match test. Aborted.\n"
    )
    kept = dokku("storage:destroy", "uploads", stdin="uploads\n")
    assert (kept.code, kept.out) == (0, "> -----> Storage entry uploads destroyed\n")
    assert (env.storage_root / "uploads" / "keep.txt").read_text() == "data"
    assert dokku("storage:info", "uploads").err == ' !     storage entry "uploads" does not exist\n'


def test_destroy_host_dir_and_reclaim_delete(dokku, env):
    dokku("storage:create", "scratch")
    (env.storage_root / "scratch" / "x").write_text("x")
    result = dokku("storage:destroy", "scratch", "--destroy-host-dir", stdin="scratch\n")
    assert result.err.startswith(
        f" !     Storage entry scratch is backed by {env.storage_root}/scratch, which will be removed along with its contents.\n"
    )
    assert result.out == f">        Removed {env.storage_root}/scratch\n-----> Storage entry scratch destroyed\n"
    assert not (env.storage_root / "scratch").exists()
    dokku("storage:create", "temp", "--reclaim-policy", "Delete")
    assert dokku("storage:destroy", "--force", "temp").out == (
        f"       Removed {env.storage_root}/temp\n-----> Storage entry temp destroyed\n"
    )
    dokku("storage:create", "custom", str(env.root / "custom"))
    refused = dokku("storage:destroy", "custom", "--force", "--destroy-host-dir")
    assert (refused.code, refused.out) == (1, "")
    assert refused.err == (
        f" !     --destroy-host-dir is only supported when the storage entry uses the default host path"
        f" ({env.storage_root}/custom); omit --destroy-host-dir and manage {env.root}/custom manually\n"
    )
    assert (env.root / "custom").is_dir()
    assert dokku("storage:info", "custom").code == 0


def test_wait(dokku, env):
    dokku("storage:create", "uploads")
    assert (dokku("storage:wait", "uploads").code, dokku("storage:wait", "uploads").out) == (0, "")
    os.rmdir(env.storage_root / "uploads")
    assert dokku("storage:wait", "uploads").err == (
        f' !     storage entry "uploads" host path {env.storage_root}/uploads is not present\n'
    )


def test_colon_mounts_create_legacy_entries(dokku, app, host_dir):
    dokku("storage:mount", app, f"{host_dir}:/data:z,ro")
    name = legacy_entry_name(str(host_dir))
    # As written (ansible-dokku matches the user's own `host:ctr:opts` text against these lines).
    assert dokku("--quiet", "storage:list", app).out == f"{host_dir}:/data:z,ro\n"
    assert json.loads(dokku("storage:list", app, "--format", "json").out)[0]["volume_options"] == "z,ro"
    assert dokku("storage:report", app, "--storage-deploy-mounts").out == f"-v {host_dir}:/data:z,ro\n"
    report = json.loads(dokku("storage:report", app, "--format", "json").out)
    assert (report["attachment.1.readonly"], report["attachment.1.volume-options"]) == ("true", "z")
    assert json.loads(dokku("storage:info", name, "--format", "json").out)["host_path"] == str(host_dir)
    assert dokku("storage:report", "--global").out == (
        f"-----> Storage report (global):\n       {name}\tdocker-local\tmounted by: node-js-app\n"
    )
    assert dokku("storage:create", name).err == (
        f' !     storage entry name "{name}" must not start with reserved prefix "legacy-"\n'
    )


def test_legacy_entries_outlive_their_mounts_as_in_dokku(dokku, app, host_dir):
    """Dokku's own test unmounts a migrated mount by entry name, then destroys the legacy entry."""
    (host_dir / "keep.txt").write_text("data")
    dokku("docker-options:add", app, "deploy,run", f"-v {host_dir}:/legacy")
    assert dokku("storage:migrate", app).code == 0
    name = legacy_entry_name(str(host_dir))
    assert [e["name"] for e in json.loads(dokku("storage:list-entries", "--format", "json").out)] == [name]
    unmounted = dokku("storage:unmount", app, name, "--container-dir", "/legacy")
    assert (unmounted.code, unmounted.out, unmounted.err) == (0, "", "")
    assert dokku("storage:list", app, "--format", "json").out == "[]\n"
    assert name in dokku("storage:list-entries").out  # the record stays, as Dokku keeps it
    destroyed = dokku("storage:destroy", name, "--force")
    assert (destroyed.code, destroyed.out) == (0, f"-----> Storage entry {name} destroyed\n")
    assert dokku("storage:list-entries").out == "-----> No storage entries registered\n"
    assert (host_dir / "keep.txt").read_text() == "data"


def test_a_colon_unmount_and_app_destroy_keep_the_legacy_entry(dokku, app, host_dir):
    dokku("apps:create", "second")
    for name in (app, "second"):
        dokku("storage:mount", name, f"{host_dir}:/data")
    entry = legacy_entry_name(str(host_dir))
    dokku("storage:unmount", app, f"{host_dir}:/data")
    dokku("apps:destroy", "second", "--force")
    assert dokku("storage:list-entries").out == (f"-----> Storage entries:\n       {entry}\tdocker-local\t{host_dir}\n")
    # Mounting the same host path again reuses it.
    assert dokku("storage:mount", app, f"{host_dir}:/other").code == 0
    assert dokku("storage:report", "--global").out == (
        f"-----> Storage report (global):\n       {entry}\tdocker-local\tmounted by: node-js-app\n"
    )


def test_global_report_json_and_empty(dokku, app):
    assert dokku("storage:report", "--global").out == "-----> No storage entries registered\n"
    dokku("storage:create", "uploads")
    shown = json.loads(dokku("storage:report", "--global", "--format", "json").out)
    assert [(item["entry"]["name"], item["mounted_by"]) for item in shown] == [("uploads", [])]


def test_rename_clone_destroy_carry_attachments_and_entries_outlive_apps(dokku, app):
    dokku("storage:create", "uploads")
    dokku("storage:mount", app, "uploads", "--container-dir", "/a")
    dokku("apps:rename", app, "renamed")
    dokku("apps:clone", "renamed", "copy")
    for name in ("renamed", "copy"):
        assert json.loads(dokku("storage:report", name, "--format", "json").out)["attachment.1.entry-name"] == "uploads"
    dokku("apps:destroy", "renamed", "--force")
    dokku("apps:destroy", "copy", "--force")
    assert dokku("storage:report", "--global").out.endswith("uploads\tdocker-local\tmounted by: —\n")


def test_migrate_moves_docker_options_volumes(dokku, app, host_dir, env):
    dokku("docker-options:add", app, "deploy,run", f"-v {host_dir}:/data --label keep=1")
    dokku("docker-options:add", app, "run", "-v /tmp")
    assert dokku("storage:migrate").err == " !     storage:migrate requires an app name (or --all)\n"
    assert (
        dokku("storage:migrate", app, "--all").err
        == " !     storage:migrate accepts either an app name or --all, not both\n"
    )
    assert dokku("storage:migrate", app).out == "-----> Re-migrated node-js-app\n"
    report = json.loads(dokku("storage:report", app, "--format", "json").out)
    assert report["attachment.1.entry-name"] == legacy_entry_name(str(host_dir))
    assert report["attachment.1.phases"] == "deploy,run"
    assert dokku("docker-options:report", app, "--docker-options-deploy").out == ("--label keep=1\n")
    assert dokku("docker-options:report", app, "--docker-options-run").out == "--label keep=1 -v /tmp\n"
    before = env.snapshot()
    assert dokku("storage:migrate", "--all").out == "-----> Re-migrated 1 app(s)\n"
    assert env.snapshot() == before


def test_schema_migration_turns_mounts_into_attachments(tmp_path, monkeypatch):
    """A database written before entries existed (schema 2) is upgraded in place on first use."""
    from pydokku.store import schema

    database = tmp_path / "lib" / "pydokku.db"
    database.parent.mkdir()
    connection = sqlite3.connect(database, isolation_level=None)
    for statements in schema.MIGRATIONS[:2]:
        for statement in statements:
            assert isinstance(statement, str)
            connection.execute(statement)
    connection.execute("PRAGMA user_version = 2")
    connection.execute("INSERT INTO apps (id, name, created_at) VALUES (1, 'old-app', 0)")
    connection.execute(
        "INSERT INTO mounts (app_id, host_path, container_path, volume_options) VALUES (1, '/srv/a', '/a', 'z,ro')"
    )
    connection.close()
    monkeypatch.setenv("DOKKU_LIB_ROOT", str(tmp_path / "lib"))
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path / "home"))
    from pydokku import cli

    assert cli.main(["--quiet", "storage:list", "old-app"]) == 0
    connection = sqlite3.connect(database)
    assert connection.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)
    assert connection.execute("SELECT name, host_path FROM storage_entries").fetchall() == [
        (legacy_entry_name("/srv/a"), "/srv/a")
    ]
    assert connection.execute("SELECT container_path, readonly, volume_options FROM attachments").fetchall() == [
        ("/a", 1, "z")
    ]


def test_create_with_an_unreachable_engine_creates_nothing(dokku, env, monkeypatch):
    dokku("storage:list-entries")  # the state database exists before, as on any used host
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    before = env.snapshot()
    result = dokku("storage:create", "uploads", "--chown", "heroku")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        " !     Unable to reach the Docker engine: Cannot connect to the Docker daemon at"
        " unix:///nonexistent/docker.sock. Is the docker daemon running?\n"
    )
    assert env.snapshot() == before


def test_create_over_a_symlink_or_file_is_refused(dokku, env):
    env.storage_root.mkdir(parents=True)
    (env.storage_root / "linked").symlink_to(env.root)
    (env.storage_root / "filed").write_text("x")
    linked = dokku("storage:create", "linked")
    assert linked.err == (
        f" !     storage entry path {env.storage_root}/linked is a symbolic link;"
        " refusing to use it as a storage directory\n"
    )
    filed = dokku("storage:create", "filed")
    assert filed.err == f" !     storage entry path {env.storage_root}/filed exists but is not a directory\n"
    assert dokku("storage:list-entries").out == "-----> No storage entries registered\n"
