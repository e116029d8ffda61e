"""storage:verify finds each kind of problem planted here (and nothing on a clean host); storage:repair
--dry-run changes nothing; storage:repair fixes what it says, deletes nothing, and verify is clean after."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import uuid

import pytest

from conftest import DOKKU_BIN, docker
from pydokku.store.schema import legacy_entry_name

# Verify asks the engine (containers, volumes), and a whole-host check sees every labelled volume on it, such
# as the orphan one a test here plants: these tests need the engine and hold the labelled-volumes lock.
pytestmark = pytest.mark.usefixtures("engine", "labelled_volumes")


def problems(dokku, *args: str) -> list[dict]:
    result = dokku("storage:verify", *args, "--format", "json")
    shown = json.loads(result.out)
    assert result.code == (1 if shown["problems"] else 0)
    return shown["problems"]


def codes(dokku, *args: str) -> list[tuple[str, str]]:
    return [(p["code"], p["path"]) for p in problems(dokku, *args)]


def test_a_clean_host(dokku, env):
    result = dokku("storage:verify")
    assert (result.code, result.out, result.err) == (
        0,
        "-----> Checked 0 apps and 0 storage entries: no problems\n",
        "",
    )
    dokku("apps:create", "web-app")
    dokku("storage:create", "media", "--chown", "heroku")
    dokku("storage:mount", "web-app", "media", "--container-dir", "/media")
    clean = dokku("storage:verify", "--all", "--format", "json")
    assert (clean.code, json.loads(clean.out)) == (0, {"checked": {"apps": 1, "entries": 1}, "problems": []})
    assert dokku("storage:verify", "web-app").out == "-----> Checked 1 app and 1 storage entry: no problems\n"
    assert dokku("storage:repair").out == "-----> Nothing to repair\n"


@pytest.fixture
def planted(dokku, env, tmp_path):
    """One of each kind that needs no engine, on app web-app."""
    root = env.storage_root
    dokku("apps:create", "web-app")
    dokku("storage:create", "media", "--chown", "heroku")
    dokku("storage:mount", "web-app", "media", "--container-dir", "/media")
    os.chown(root / "media", 0, 0)  # wrong-owner, inside the storage root
    (root / "media" / "kept.txt").write_text("data")
    outside = tmp_path / "outside"
    outside.mkdir()
    dokku("storage:create", "ext", str(outside))
    dokku("storage:mount", "web-app", "ext", "--container-dir", "/ext")
    os.chown(outside, 0, 0)  # wrong-owner, outside: listed, never changed
    gone = tmp_path / "gone"
    dokku("storage:mount", "web-app", f"{gone}:/gone")  # missing-path
    old = tmp_path / "old"
    old.mkdir()
    (old / "file").write_text("old data")
    dokku("storage:mount", "web-app", f"{old}:/old")
    dokku("storage:unmount", "web-app", f"{old}:/old")  # dead-legacy-entry (Dokku never removes it)
    (root / "stray").mkdir()  # orphan-directory
    (root / "stray" / "precious").write_text("keep me")
    dup = tmp_path / "dup"
    with sqlite3.connect(env.lib_root / "pydokku.db") as connection:  # as an old state might hold it
        # storage:create refuses --chown outside the storage root; a state from elsewhere may have it.
        connection.execute("UPDATE storage_entries SET chown = 'paketo' WHERE name = 'ext'")
        (app_id,) = connection.execute("SELECT id FROM apps WHERE name = 'web-app'").fetchone()
        connection.execute("INSERT INTO docker_options (app_id, phase, option) VALUES (?, 'deploy', ?)",
                           (app_id, f"-v {dup}:/media"))  # fmt: skip
    return {"root": root, "outside": outside, "gone": gone, "old": old, "dup": dup}


def test_verify_finds_each_kind(dokku, env, planted):
    root = planted["root"]
    found = problems(dokku)
    assert [(p["code"], p["path"], p["apps"], p["entry"], p["repairable"]) for p in found] == [
        ("wrong-owner", str(root / "media"), ["web-app"], "media", True),
        ("wrong-owner", str(planted["outside"]), ["web-app"], "ext", False),
        ("missing-path", str(planted["gone"]), ["web-app"], legacy_entry_name(str(planted["gone"])), True),
        ("duplicate-docker-option", str(planted["dup"]), ["web-app"], "media", False),
        ("dead-legacy-entry", str(planted["old"]), [], legacy_entry_name(str(planted["old"])), True),
        ("orphan-directory", str(root / "stray"), [], "", False),
    ]
    assert found[0]["detail"] == f"{root / 'media'} is owned by 0:0, its entry (chown heroku) asks for 1000:1000"
    assert found[1]["detail"] == (
        f"{planted['outside']} is owned by 0:0, its entry (chown paketo) asks for 2000:2000;"
        f" it is outside the storage root ({root}): change it yourself"
    )
    assert found[3]["detail"] == (
        f"docker-options (deploy) -v {planted['dup']}:/media mounts /media, which the attachment of media mounts too;"
        f' remove one: dokku docker-options:remove web-app deploy "-v {planted["dup"]}:/media"'
    )
    text = dokku("storage:verify")
    assert text.code == 1
    assert text.lines[0] == "-----> Checked 1 app and 4 storage entries: 6 problems"
    assert text.lines[1].split() == ["Code", "Apps", "Entry", "Detail"]
    assert [line.split()[0] for line in text.lines[2:8]] == [p["code"] for p in found]
    assert text.lines[8] == "       storage:repair fixes 3 of them (see what it would do: --dry-run)"
    # An app's own check leaves out what belongs to no app (dead records, orphans).
    assert [code for code, _ in codes(dokku, "web-app")] == [
        "wrong-owner", "wrong-owner", "missing-path", "duplicate-docker-option"]  # fmt: skip


def test_repair_dry_run_changes_nothing_and_repair_fixes_what_it_says(dokku, env, planted):
    root = planted["root"]
    before = env.snapshot()
    dry = dokku("storage:repair", "--dry-run")
    assert (dry.code, dry.err) == (0, "")
    left = [
        "-----> Left as they are (storage:repair never deletes anything unless asked):",
        f"       wrong-owner: {planted['outside']} is owned by 0:0, its entry (chown paketo) asks for 2000:2000;"
        f" it is outside the storage root ({root}): change it yourself",
        f"       duplicate-docker-option: docker-options (deploy) -v {planted['dup']}:/media mounts /media, which the"
        f' attachment of media mounts too; remove one: dokku docker-options:remove web-app deploy "-v {planted["dup"]}:/media"',
        f"       orphan-directory: {root / 'stray'} is under the storage root but no storage entry names it; adopt it"
        f" (dokku storage:create stray {root / 'stray'}) or remove it yourself",
    ]  # fmt: skip
    old_entry = legacy_entry_name(str(planted["old"]))
    assert dry.lines == [
        "-----> Storage repair (dry run: nothing changed)",
        f"       Would set the owner of {root / 'media'} to 1000:1000",
        f"       Would create {planted['gone']} (mode 0755)",
        f"       Would forget {old_entry} (its data, if any, stays: {planted['old']})",
        *left,
    ]
    assert env.snapshot() == before
    assert not planted["gone"].exists()

    done = dokku("storage:repair")
    assert (done.code, done.err) == (0, "")
    assert done.lines == [
        "-----> Repairing storage",
        f"       Setting the owner of {root / 'media'} to 1000:1000",
        f"       Created {planted['gone']} (mode 0755)",
        f"       Forgetting {old_entry} (its data, if any, stays: {planted['old']})",
        *left,
    ]
    assert [(os.stat(p).st_uid, os.stat(p).st_gid) for p in (root / "media", root / "media" / "kept.txt")] == [
        (1000, 1000), (1000, 1000)]  # fmt: skip
    assert (os.stat(planted["outside"]).st_uid, planted["gone"].is_dir()) == (0, True)
    assert (planted["old"] / "file").read_text() == "old data"  # forgotten, never deleted
    assert (root / "stray" / "precious").read_text() == "keep me"
    assert [code for code, _ in codes(dokku)] == ["wrong-owner", "duplicate-docker-option", "orphan-directory"]
    # What is left is the operator's to fix; then verify is clean.
    os.chown(planted["outside"], 2000, 2000)
    dokku("docker-options:remove", "web-app", "deploy", f"-v {planted['dup']}:/media")
    assert dokku("storage:create", "stray", str(root / "stray")).code == 0
    assert codes(dokku) == []


def test_refusals_change_nothing(dokku, env, planted):
    before = env.snapshot()
    for command in ("storage:verify", "storage:repair"):
        for args, code, message in (
            (("missing-app",), 20, "App missing-app does not exist"),
            (("web-app", "--all"), 1, "Specify an app or --all, not both"),
        ):
            result = dokku(command, *args)
            assert (result.code, result.out, result.err) == (code, "", f" !     {message}\n"), (command, args)
    bad = dokku("storage:verify", "--format", "yaml")
    assert (bad.code, bad.out, bad.err) == (1, "", " !     Invalid --format value specified\n")
    assert env.snapshot() == before


def test_a_missing_directory_inside_the_storage_root_is_made_with_its_owner_and_mode(dokku, env):
    dokku("apps:create", "web-app")
    dokku("storage:create", "media", "--chown", "paketo", "--mode", "0750")
    dokku("storage:mount", "web-app", "media", "--container-dir", "/media")
    path = env.storage_root / "media"
    path.rmdir()
    assert codes(dokku) == [("missing-path", str(path))]
    assert dokku("storage:repair").lines == ["-----> Repairing storage",
                                             f"       Created {path} (mode 0750, owner 2000:2000)"]  # fmt: skip
    found = os.stat(path)
    assert (found.st_uid, found.st_gid, oct(found.st_mode & 0o777)) == (2000, 2000, "0o750")
    assert codes(dokku) == []


def test_engine_kinds_drift_missing_and_orphan_volumes(dokku, deployed, env, host_dir):
    app = deployed
    volume = f"pydokku-test-{uuid.uuid4().hex[:8]}"
    gone_app = f"pydokku-test-gone-{uuid.uuid4().hex[:6]}"
    docker("volume", "create", "--label", f"com.dokku.app-name={gone_app}", volume)
    try:
        assert codes(dokku, app) == []
        dokku("storage:create", "later")
        dokku("storage:mount", app, "later", "--container-dir", "/later")
        dokku("storage:mount", app, f"{volume}-absent:/absent")
        found = problems(dokku)
        kinds = {(p["code"], p["path"]) for p in found}
        assert ("missing-volume", f"{volume}-absent") in kinds
        assert ("orphan-volume", volume) in kinds
        drift = [p for p in found if p["code"] == "mount-drift"]
        assert len(drift) == 1 and drift[0]["apps"] == [app]
        assert drift[0]["detail"].startswith(f"{drift[0]['path']} (web) does not mount ")
        assert f"does not mount {env.storage_root / 'later'} at /later" in drift[0]["detail"]
        assert f"does not mount volume {volume}-absent at /absent" in drift[0]["detail"]
        assert drift[0]["detail"].endswith(f"; the next deploy changes that (dokku ps:restart {app})")
        dokku("storage:unmount", app, f"{volume}-absent:/absent")
        assert dokku("ps:restart", app).code == 0
        assert [p["code"] for p in problems(dokku, app)] == []
        assert docker("volume", "ls", "-q", "--filter", f"name={volume}") == volume  # listed, never removed
    finally:
        docker("volume", "rm", "-f", volume, f"{volume}-absent", check=False)


def test_the_app_user_a_deploy_gave_the_mount_is_the_owner_expected(dokku, env, app_name, images):
    dokku("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0")
    dokku("apps:create", app_name)
    dokku("storage:create", "media")
    dokku("storage:mount", app_name, "media", "--container-dir", "/media")
    assert dokku("git:from-image", app_name, images.buildpack).code == 0
    path = env.storage_root / "media"
    given = (os.stat(path).st_uid, os.stat(path).st_gid)
    assert given != (0, 0)  # the buildpack-style image's user
    assert codes(dokku) == []
    os.chown(path, 0, 0)
    (found,) = problems(dokku)
    assert (found["code"], found["detail"]) == (
        "wrong-owner",
        f"{path} is owned by 0:0, the user {app_name} runs as (its last deploy gave it the mount) asks for"
        f" {given[0]}:{given[1]}",
    )
    assert dokku("storage:repair").code == 0
    assert (os.stat(path).st_uid, os.stat(path).st_gid) == given
    assert codes(dokku) == []


def test_previous_copies_are_listed_and_removed_only_when_asked(dokku, env, tmp_path):
    assert dokku("storage:create", "docs").code == 0
    entry = env.storage_root / "docs"
    (entry / "old.txt").write_text("old")
    source = tmp_path / "new"
    source.mkdir()
    (source / "new.txt").write_text("new")
    archive = subprocess.run(["tar", "-c", "-C", str(source), "."], capture_output=True, check=True).stdout
    imported = subprocess.run([str(DOKKU_BIN), "storage:import", "docs", "--replace"], input=archive,
                              capture_output=True, env={**os.environ, **env.variables}, check=False)  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    (kept,) = [p for p in env.storage_root.iterdir() if p.name.startswith("docs.previous-")]

    found = json.loads(dokku("storage:verify", "--format", "json").out)["problems"]
    assert [(f["code"], f["entry"], f["path"], f["repairable"]) for f in found] == [
        ("previous-copy", "docs", str(kept), False)
    ]  # not an orphan-directory whose advice (storage:create docs.previous-…) would be refused
    assert re.fullmatch(
        rf"{kept} is the previous content of docs \([\d.]+ KiB, 1 file\), kept \d+s ago by an import or restore;"
        r" storage:repair --discard-previous removes it",
        found[0]["detail"],
    ), found[0]["detail"]
    listed = dokku("storage:repair")
    assert listed.out.startswith("-----> Left as they are (storage:repair never deletes anything unless asked):\n")
    assert kept.exists()

    # asked: a typed confirmation (a wrong answer changes nothing); --older-than keeps younger copies
    refused = dokku("storage:repair", "--discard-previous", stdin="no\n")
    assert (refused.code, refused.err.splitlines()[-1]) == (1, " !     Confirmation did not match test. Aborted.")
    assert f"This command will destroy 1 previous copy: {kept}." in refused.err
    assert kept.exists()
    young = dokku("--force", "storage:repair", "--discard-previous", "--older-than", "7d")
    assert young.code == 0 and kept.exists(), young.out
    would = dokku("storage:repair", "--discard-previous", "--dry-run")
    assert f"       Would remove {kept}\n" in would.out and kept.exists()
    removed = dokku("storage:repair", "--discard-previous", stdin="discard-previous\n")
    assert removed.code == 0, removed.err
    assert f"       Removed {kept}\n" in removed.out
    assert not kept.exists() and (entry / "new.txt").read_text() == "new"


def test_repair_older_than_needs_discard_previous_and_an_age(dokku):
    cases = {
        ("--older-than", "7d"): " !     --older-than only applies with --discard-previous\n",
        ("--discard-previous", "--older-than", "soon"): " !     Invalid --older-than value: soon (expected an age"
        " such as 7d, 12h, 30m or 90s)\n",
    }
    for args, message in cases.items():
        result = dokku("storage:repair", *args)
        assert (result.code, result.out, result.err) == (1, "", message)
