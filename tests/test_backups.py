"""storage:backup*: settings and secrets, snapshots with the real restic, retention, checks, restores
that are all or nothing, schedules, and disaster recovery onto empty state."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import DOKKU_BIN
from trees import make_tree, metadata

PASSPHRASE = "correct horse battery staple"


def run_cli(env, *args: str, stdin: str = "", extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DOKKU_BIN), *args], input=stdin, capture_output=True, text=True, check=False,
        env={**os.environ, **env.variables, **(extra or {})},
    )  # fmt: skip


@pytest.fixture
def entry(dokku, env) -> Path:
    assert dokku("storage:create", "uploads").code == 0
    path = env.storage_root / "uploads"
    make_tree(path)
    return path


def repository(env) -> Path:
    return env.lib_root / "data" / "backups"


def key_file(env) -> Path:
    [found] = (env.lib_root / "secrets" / "backup").glob("repository-*.passphrase")
    return found


# -- settings ----------------------------------------------------------------------------------------


def test_backup_set_sets_and_unsets_with_dokku_messages(dokku, env, entry):
    assert dokku("storage:backup-set", "uploads", "keep-daily", "7").out == "-----> Setting keep-daily to 7\n"
    assert dokku("storage:backup-set", "--global", "quiesce", "pause").out == "-----> Setting quiesce to pause\n"
    report = dokku("storage:backup-report", "uploads", "--format", "json")
    values = json.loads(report.out)
    assert (values["backup-keep-daily"], values["backup-computed-keep-daily"]) == ("7", "7")
    assert (values["backup-quiesce"], values["backup-global-quiesce"], values["backup-computed-quiesce"]) == (
        "", "pause", "pause",
    )  # fmt: skip
    assert values["backup-computed-repository"] == str(repository(env))
    assert values["backup-computed-compression"] == "off"
    assert dokku("storage:backup-set", "uploads", "keep-daily").out == "-----> Unsetting keep-daily\n"
    assert dokku("storage:backup-report", "uploads", "--backup-keep-daily").out == "\n"
    assert dokku("storage:backup-report", "--global", "--backup-quiesce").out == "pause\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Please specify a storage entry, or --global"),
        (("missing", "keep-last", "1"), 'storage entry "missing" does not exist'),
        (("uploads",), "No property specified"),
        (
            ("uploads", "colour", "red"),
            "Invalid property specified, valid properties include: compression, keep-daily,"
            " keep-hourly, keep-last, keep-monthly, keep-weekly, passphrase, quiesce, repository, schedule, sftp-command",
        ),
        (("uploads", "keep-last", "0"), 'keep-last must be a whole number from 1 to 1000000: "0"'),
        (("uploads", "keep-last", "١"), 'keep-last must be a whole number from 1 to 1000000: "١"'),
        (("uploads", "quiesce", "freeze"), 'quiesce must be one of none, pause, stop: "freeze"'),
        (("uploads", "compression", "zip"), 'compression must be one of off, auto, max: "zip"'),
        (
            ("uploads", "repository", "relative/path"),
            'repository "relative/path" must be an absolute path or a restic'
            " repository (sftp:…, s3:…, rest:…, rclone:…, b2:…, azure:…, gs:…, swift:…)",
        ),
        (("uploads", "repository", "/srv/../etc"), 'repository "/srv/../etc" cannot contain ".." segments'),
        (("uploads", "repository", "/srv/a\nb"), "repository cannot contain control characters"),
        (("uploads", "schedule", "61 * * * *"), 'schedule field "61" is out of range 0-59: "61 * * * *"'),
        (
            ("uploads", "schedule", "* * *"),
            'schedule must be a cron expression of five fields (minute hour day month weekday): "* * *"',
        ),
        (
            ("uploads", "schedule", "$(reboot) * * * *"),
            'schedule field "$(reboot)" is out of range 0-59: "$(reboot) * * * *"',
        ),
        (("uploads", "schedule", "0 3 * * mon;rm"), 'schedule field "mon;rm" is out of range 0-7: "0 3 * * mon;rm"'),
        (("uploads", "passphrase", "short"), "passphrase must be at least 8 characters long"),
        (("uploads", "keep-last", "1", "2"), "Unexpected argument(s): [2]"),
    ],
)
def test_backup_set_refuses_bad_input_and_changes_nothing(dokku, env, entry, args, message):
    before = env.snapshot()
    result = dokku("storage:backup-set", *args)
    assert (result.code, result.out, result.err) == (1, "", f" !     {message}\n")
    assert env.snapshot() == before


def test_cron_schedules_follow_the_state(dokku, env, entry):
    dokku_bin = str(DOKKU_BIN)
    assert dokku("storage:backup-set", "uploads", "schedule", "30 2 * * *").code == 0
    header = (
        "# Scheduled backups of pydokku storage entries (dokku storage:backup-set <entry>|--global schedule <cron>).\n"
        "# Rewritten from pydokku's state at every change: edit the schedules with dokku, not this file.\n"
        "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
        f"DOKKU_LIB_ROOT={env.lib_root}\nDOKKU_ROOT={env.dokku_root}\n"
    )
    assert env.cron_file.read_text() == header + f"30 2 * * * root {dokku_bin} storage:backup uploads\n"
    assert stat.S_IMODE(env.cron_file.stat().st_mode) == 0o644
    assert dokku("storage:backup-set", "--global", "keep-last", "2").code == 0
    line = f"30 2 * * * root {dokku_bin} storage:backup uploads && {dokku_bin} storage:backup-prune uploads\n"
    assert env.cron_file.read_text() == header + line
    # A global schedule reaches every entry that has none of its own, also those created later.
    assert dokku("storage:backup-set", "--global", "schedule", "@daily").code == 0
    assert dokku("storage:create", "later").code == 0
    later = f"@daily root {dokku_bin} storage:backup later && {dokku_bin} storage:backup-prune later\n"
    assert env.cron_file.read_text() == header + later + line
    assert dokku("--force", "storage:destroy", "later").code == 0
    assert env.cron_file.read_text() == header + line
    # The line runs by hand, as cron would run it.
    variables = dict(row.split("=", 1) for row in env.cron_file.read_text().splitlines()[2:6])
    command = env.cron_file.read_text().splitlines()[-1].split(" root ", 1)[1]
    done = subprocess.run(["sh", "-c", command], env={**os.environ, **variables}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "-----> Backing up storage entry uploads" in done.stdout
    assert "Kept 1 snapshot(s), removed 0" in done.stdout
    for scope in ("uploads", "--global"):
        assert dokku("storage:backup-set", scope, "schedule").code == 0
    assert not env.cron_file.exists()


# -- secrets -----------------------------------------------------------------------------------------


def test_credentials_and_passphrases_are_never_shown_and_stay_root_only(dokku, env, entry):
    secret = "s3cr3t-value-never-shown"
    result = dokku("storage:backup-auth", "uploads", f"AWS_SECRET_ACCESS_KEY={secret}", "AWS_ACCESS_KEY_ID=AKIA1")
    assert (result.code, result.out) == (
        0, "-----> Setting backup credentials AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY of storage entry uploads\n",
    )  # fmt: skip
    assert dokku("storage:backup-set", "--global", "passphrase", "-", stdin=PASSPHRASE + "\n").out == (
        "-----> Setting the backup passphrase of every storage entry (global)\n"
    )
    report = dokku("storage:backup-report", "uploads", "--format", "json")
    values = json.loads(report.out)
    assert values["backup-credentials"] == "AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY"
    assert values["backup-passphrase"] == "set globally"
    everything = report.out + dokku("storage:backup-report", "uploads").out + dokku("storage:backup-report").out
    assert secret not in everything and PASSPHRASE not in everything
    assert secret.encode() not in (env.lib_root / "pydokku.db").read_bytes()
    folder = env.lib_root / "secrets"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in (folder / "backup").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dokku("storage:backup-deauth", "uploads", "AWS_ACCESS_KEY_ID").out == (
        "-----> Removing backup credentials AWS_ACCESS_KEY_ID of storage entry uploads\n"
    )
    missing = dokku("storage:backup-deauth", "uploads", "NOPE")
    assert (missing.code, missing.err) == (1, " !     No backup credential NOPE is set for storage entry uploads\n")
    for bad in ("lower=1", "=1", "NOEQUALS", "1ST=x", "A B=c"):
        refused = dokku("storage:backup-auth", "uploads", bad)
        assert refused.code == 1 and refused.err.startswith(" !     Credentials are given as KEY=VALUE")
    assert dokku("storage:backup-deauth", "uploads").code == 0
    assert dokku("--force", "storage:destroy", "uploads").code == 0
    assert not (folder / "backup" / "entry-uploads.json").exists()


def test_an_s3_repository_without_credentials_is_refused_before_restic_runs(dokku, env, entry):
    # Without AWS_* variables restic would ask the cloud's metadata service, off this host.
    assert dokku("storage:backup-set", "uploads", "repository", "s3:http://127.0.0.1:9/bucket").code == 0
    result = dokku("storage:backup", "uploads")
    assert (result.code, result.err) == (
        1, " !     The s3 repository s3:http://127.0.0.1:9/bucket needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY:"
        " set them with storage:backup-auth\n",
    )  # fmt: skip


# -- snapshots and restores --------------------------------------------------------------------------


def backup(env, *args: str) -> subprocess.CompletedProcess[str]:
    done = run_cli(env, "storage:backup", *args)
    assert done.returncode == 0, done.stderr
    return done


def test_backup_then_restore_gives_back_the_same_tree(dokku, env, tmp_path):
    assert dokku("storage:create", "uploads").code == 0
    path = env.storage_root / "uploads"
    make_tree(path, small_files=1500, big_bytes=24 << 20)
    os.chmod(path, 0o2770)
    os.chown(path, 32767, 32767)
    expected = metadata(path, directory_times=True)
    first = backup(env, "uploads")
    key = key_file(env)
    assert first.stdout.splitlines()[0] == f"-----> Initialising the backup repository {repository(env)}"
    assert first.stderr == (
        f" !     Generated the passphrase of backup repository {repository(env)}, kept in {key}\n"
        " !     Keep a copy of it away from this host: without it, no backup in this repository can be restored\n"
    )
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    summary = first.stdout.splitlines()[-1]
    assert summary.startswith("       Snapshot ") and ": 1507 files (1507 new, 0 changed), " in summary
    # Nothing changed: nothing added, and no second passphrase message.
    second = backup(env, "uploads")
    assert second.stderr == "" and ", 0 B added, " in second.stdout
    shutil.rmtree(path / "docs")
    (path / "small" / "d000" / "f00000.txt").write_text("changed")
    restored = run_cli(env, "--force", "storage:backup-restore", "uploads")
    assert restored.returncode == 0, restored.stderr
    lines = restored.stdout.splitlines()
    assert lines[0] == f"-----> Restoring storage entry uploads from {repository(env)} (latest)"
    assert lines[1].startswith("       Restored snapshot ") and lines[1].endswith(f" into {path}")
    previous = lines[2].removeprefix("       Previous content kept in ")
    assert previous.startswith(f"{path}.previous-")
    assert metadata(path, directory_times=True) == expected
    assert (Path(previous) / "small" / "d000" / "f00000.txt").read_text() == "changed"
    # Into another directory: the entry untouched.
    copy = tmp_path / "copy"
    into = run_cli(env, "storage:backup-restore", "uploads", "--to", str(copy))
    assert into.returncode == 0, into.stderr
    assert metadata(copy, directory_times=True) == expected


def test_restore_refusals_change_nothing(dokku, env, entry, tmp_path):
    backup(env, "uploads")
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    cases = [
        (("storage:backup-restore",), "Please specify a storage entry, or --all"),
        (("storage:backup-restore", "../uploads"), 'storage entry "../uploads" does not exist'),
        (
            ("storage:backup-restore", "--all", "uploads"),
            "--all restores every storage entry in place; it takes no entry, snapshot or --to",
        ),
        (
            ("storage:backup-restore", "uploads", "--to", "relative"),
            "--to must be an absolute path without '..': relative",
        ),
        (
            ("storage:backup-restore", "uploads", "--to", "/tmp/../etc"),
            "--to must be an absolute path without '..': /tmp/../etc",
        ),
        (
            ("storage:backup-restore", "uploads", "--to", str(full)),
            f"--to {full} is not empty; choose an empty or a new directory",
        ),
        (
            ("storage:backup-restore", "uploads", "deadbeef", "--to", str(tmp_path / "n")),
            "Snapshot deadbeef is not a backup of storage entry uploads (see storage:backup-list uploads)",
        ),
        (
            ("storage:backup-restore", "uploads", "--keep-previous", "--discard-previous"),
            "--keep-previous and --discard-previous cannot be combined",
        ),
        (("storage:backup-restore", "uploads"), "Confirmation did not match test. Aborted."),
    ]
    before = env.snapshot(), metadata(entry)
    for args, message in cases:
        result = run_cli(env, *args)
        assert (result.returncode, result.stderr.splitlines()[-1]) == (1, f" !     {message}"), args
        assert (env.snapshot(), metadata(entry)) == before
        assert not list(env.storage_root.glob(".uploads.restore-*")) and not list(tmp_path.glob(".n.restore-*"))


def test_backup_list_and_retention_keep_what_they_should(dokku, env, entry):
    for _ in range(4):
        (entry / "counter").write_text(str(time.time_ns()))
        backup(env, "uploads")
    listed = json.loads(dokku("storage:backup-list", "uploads", "--format", "json").out)
    assert len(listed) == 4 and all(s["host"] and s["apps"] == [] and len(s["id"]) == 8 for s in listed)
    text = dokku("storage:backup-list", "uploads").out.splitlines()
    assert text[0] == f"=====> Backups of storage entry uploads in {repository(env)}"
    assert text[1].split() == ["ID", "Time", "Host", "Apps"]
    assert [row.split()[0] for row in text[2:]] == [s["id"] for s in listed]
    refused = dokku("storage:backup-prune", "uploads")
    assert refused.err == (
        " !     No retention is set for storage entry uploads; set one first, for example"
        " storage:backup-set uploads keep-daily 7\n"
    )
    assert dokku("storage:backup-set", "uploads", "keep-last", "2").code == 0
    pruned = run_cli(env, "storage:backup-prune", "uploads")
    assert pruned.stdout == (
        "-----> Pruning backups of storage entry uploads (keep-last 2)\n       Kept 2 snapshot(s), removed 2\n"
    )
    kept = json.loads(dokku("storage:backup-list", "uploads", "--format", "json").out)
    assert [s["id"] for s in kept] == [s["id"] for s in listed[2:]]
    # A snapshot taken before the prune can no longer be restored; the kept ones can.
    gone = run_cli(env, "storage:backup-restore", "uploads", listed[0]["id"], "--to", str(env.root / "old"))
    assert gone.returncode == 1


def test_verify_finds_a_corrupted_pack(dokku, env, entry):
    backup(env, "uploads")
    checked = run_cli(env, "storage:backup-verify", "uploads", "--read-data")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines() == [
        f"-----> Checking the backup repository {repository(env)} (storage entries: uploads)",
        "       no errors were found",
    ]
    pack = max((repository(env) / "data").rglob("*"), key=lambda p: p.stat().st_size if p.is_file() else 0)
    os.chmod(pack, 0o600)
    with open(pack, "r+b") as file:
        file.seek(100)
        file.write(b"\0" * 64)
    broken = run_cli(env, "storage:backup-verify", "--all", "--read-data")
    assert broken.returncode == 1
    assert broken.stderr.splitlines()[-1] == f" !     Backup repository check failed: {repository(env)}"
    assert pack.name in broken.stderr


def test_backup_of_several_entries_and_of_an_app(dokku, env, entry, app):
    assert dokku("storage:create", "other").code == 0
    assert dokku("storage:mount", app, "other", "--container-dir", "/data").code == 0
    done = backup(env, "--app", app)
    assert "Backing up storage entry other" in done.stdout and "uploads" not in done.stdout
    listed = json.loads(dokku("storage:backup-list", "other", "--format", "json").out)
    assert listed[0]["apps"] == [app]
    everything = backup(env, "--all")
    assert everything.stdout.count("-----> Backing up storage entry") == 2
    nothing = dokku("storage:backup")
    assert nothing.err == " !     Please specify a storage entry, --app <app> or --all\n"
    os.rename(entry, entry.with_name("moved"))
    partial = run_cli(env, "storage:backup", "--all")
    assert partial.returncode == 1
    assert partial.stderr.splitlines() == [
        f' !     storage entry "uploads" host path {entry} does not exist',
        " !     1 of 2 backups failed: uploads",
    ]


def test_no_secret_reaches_a_command_line(dokku, env, entry):
    """While restic runs, no process's command line holds the passphrase or a credential."""
    assert dokku("storage:backup-set", "uploads", "passphrase", PASSPHRASE).code == 0
    assert dokku("storage:backup-auth", "uploads", "RESTIC_TEST_TOKEN=tok-123456789").code == 0
    make_tree(entry / "more", big_bytes=64 << 20)
    seen: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for pid in os.listdir("/proc"):
                with contextlib.suppress(OSError):
                    seen.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        backup(env, "uploads")
    finally:
        stop.set()
        watcher.join()
    assert any("restic" in line and "backup" in line for line in seen)
    assert not [line for line in seen if PASSPHRASE in line or "tok-123456789" in line]


# -- interrupted restores ----------------------------------------------------------------------------


def test_a_restore_killed_at_any_moment_leaves_old_or_new_content_and_a_rerun_finishes(dokku, env):
    assert dokku("storage:create", "uploads").code == 0
    path = env.storage_root / "uploads"
    make_tree(path, small_files=1500)
    new = metadata(path)
    backup(env, "uploads")
    journal = env.lib_root / "data" / "restores" / "uploads.json"
    restore = [str(DOKKU_BIN), "--force", "storage:backup-restore", "uploads", "--discard-previous"]

    def make_old() -> dict[str, tuple[object, ...]]:
        (path / "docs" / "a.txt").write_text("old content\n")
        shutil.rmtree(path / "small" / "d001")
        return metadata(path)

    outcomes = set()
    # Killed at each step the journal records (and a moment into the first), then once more at random.
    for phase, delay in (("restoring", 0.0), ("restoring", 0.4), ("staged", 0.0), ("swapped", 0.0), ("", 0.7)):
        old = make_old()
        process = subprocess.Popen(
            restore, env={**os.environ, **env.variables}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while phase and process.poll() is None and time.monotonic() < deadline:
            try:
                if json.loads(journal.read_text()).get("phase") == phase:
                    break
            except (OSError, ValueError):
                pass
        time.sleep(delay)
        process.kill()
        process.wait()
        state = metadata(path)
        assert state in (old, new), f"a mix after SIGKILL at {phase or 'a random moment'} + {delay}s"
        outcomes.add("new" if state == new else "old")
        time.sleep(0.2)  # restic dies with its parent (PR_SET_PDEATHSIG): nothing writes any more
        assert metadata(path) == state
        rerun = run_cli(env, "--force", "storage:backup-restore", "uploads", "--discard-previous")
        assert rerun.returncode == 0, rerun.stderr
        assert metadata(path) == new and not journal.exists()
        assert not list(env.storage_root.glob(".uploads.restore-*"))
        assert not [p for p in Path("/proc").iterdir() if p.name.isdigit() and _is_orphan_restic(p, env)]
    assert outcomes == {"old", "new"}


def _is_orphan_restic(proc: Path, env) -> bool:
    try:
        return (
            b"restic" in (proc / "cmdline").read_bytes()
            and str(env.lib_root).encode() in (proc / "environ").read_bytes()
        )
    except OSError:
        return False


def test_an_interrupted_restore_is_rolled_back_or_finished_from_its_journal(dokku, env, entry):
    """The two halves of recovery, each from a journal as a SIGKILL would leave it."""
    backup(env, "uploads")
    before = metadata(entry)
    journal = env.lib_root / "data" / "restores" / "uploads.json"
    journal.parent.mkdir(parents=True)
    # Killed while restic was restoring: the staging directory goes, the entry is as it was.
    staging = env.storage_root / ".uploads.restore-x1"
    (staging / "uploads" / "partial").mkdir(parents=True)
    journal.write_text(json.dumps({"entry": "uploads", "directory": str(entry), "staging": str(staging),
                                   "discard": False, "phase": "restoring", "snapshot": "latest"}))  # fmt: skip
    result = run_cli(env, "storage:backup-restore", "uploads", "--to", str(env.root / "elsewhere"))
    assert result.returncode == 0  # --to never recovers (it does not touch the entry) ...
    assert journal.exists()
    result = run_cli(env, "--force", "storage:backup-restore", "uploads")  # ... a restore of the entry does
    assert result.stdout.splitlines()[0] == (
        f"-----> Rolling back the interrupted restore of storage entry uploads: {entry} keeps its content"
    )
    assert not staging.exists() and not journal.exists() and metadata(entry) == before
    # Killed right after the exchange: the next run finishes (keeps the previous content, cleans up).
    journal.parent.mkdir(parents=True)  # the last journal gone, its folder went too
    staging.mkdir()
    previous = staging / "uploads"
    previous.mkdir()
    (previous / "old-file").write_text("old")
    journal.write_text(json.dumps({"entry": "uploads", "directory": str(entry), "staging": str(staging),
                                   "discard": False, "phase": "swapped", "snapshot": "abcdef12",
                                   "tree": str(previous), "stopped": []}))  # fmt: skip
    result = run_cli(env, "--force", "storage:backup-restore", "uploads", "abcdef12")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "-----> Finishing the interrupted restore of storage entry uploads (snapshot abcdef12)"
    assert lines[1].startswith(f"       Previous content kept in {entry}.previous-")
    assert len(lines) == 2 and not staging.exists() and not journal.exists()


# -- disaster recovery -------------------------------------------------------------------------------


def test_disaster_recovery_onto_empty_state(dokku, env, app, tmp_path, monkeypatch):
    assert dokku("storage:create", "uploads").code == 0
    named = env.storage_root / "uploads"
    make_tree(named, small_files=200)
    legacy_dir = tmp_path / "legacy-data"
    legacy_dir.mkdir()
    make_tree(legacy_dir)
    assert dokku("storage:mount", app, f"{legacy_dir}:/legacy").code == 0
    [legacy] = [e["name"] for e in json.loads(dokku("storage:list-entries", "--format", "json").out)
                if e["name"].startswith("legacy-")]  # fmt: skip
    remote = tmp_path / "offsite-repository"
    assert dokku("storage:backup-set", "--global", "repository", str(remote)).code == 0
    backup(env, "--all")
    expected = {named: metadata(named, directory_times=True), legacy_dir: metadata(legacy_dir, directory_times=True)}
    passphrase = key_file(env).read_text().strip()
    # The host is lost: its state and its data.
    shutil.rmtree(env.lib_root)
    shutil.rmtree(env.dokku_root)
    shutil.rmtree(legacy_dir)
    assert dokku("storage:backup-set", "--global", "repository", str(remote)).code == 0
    assert dokku("storage:backup-set", "--global", "passphrase", "-", stdin=passphrase + "\n").code == 0
    result = run_cli(env, "storage:backup-restore", "--all")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    first, second = sorted(["uploads", legacy])  # restored in name order
    assert [line for line in lines if line.startswith("----")] == [
        f"-----> Restoring storage entry {first} from {remote} (latest)",
        f"-----> Restoring storage entry {second} from {remote} (latest)",
    ]
    assert f"       Created storage entry {legacy} at {legacy_dir}" in lines
    assert f"       Created storage entry uploads at {named}" in lines
    assert len(lines) == 6
    # Run again: every entry has content now, and is left alone.
    again = run_cli(env, "storage:backup-restore", "--all")
    assert again.stdout.splitlines()[0].startswith(f"-----> Leaving storage entry {first} as it is: ")
    for path, shown in expected.items():
        assert metadata(path, directory_times=True) == shown
    entries = {e["name"]: e["host_path"] for e in json.loads(dokku("storage:list-entries", "--format", "json").out)}
    assert entries == {"uploads": str(named), legacy: str(legacy_dir)}


# -- the app's containers ----------------------------------------------------------------------------


def legacy_entry(dokku) -> str:
    [name] = [e["name"] for e in json.loads(dokku("storage:list-entries", "--format", "json").out)]
    return name


def container_states(app: str, stop: threading.Event, seen: list[str]) -> None:
    from conftest import docker

    while not stop.is_set():
        listed = docker("ps", "--all", "--filter", f"label=com.dokku.app-name={app}", "--format", "{{.ID}} {{.State}}")
        seen.extend(listed.splitlines())
        time.sleep(0.02)


@pytest.mark.parametrize(("mode", "held"), [("pause", "paused"), ("stop", "exited")])
def test_quiesce_holds_the_containers_that_mount_the_entry_during_the_snapshot(dokku, env, deployed, mode, held):
    from conftest import docker

    name = legacy_entry(dokku)
    assert dokku("storage:backup-set", name, "quiesce", mode).code == 0
    [before] = docker("ps", "--filter", f"label=com.dokku.app-name={deployed}", "--format", "{{.ID}}").split()
    seen: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(target=container_states, args=(deployed, stop, seen))
    watcher.start()
    try:
        done = backup(env, name)
    finally:
        stop.set()
        watcher.join()
    assert f"{before} {held}" in seen
    container = f"{deployed}.web.1"
    lines = done.stdout.splitlines()
    verb, resumed = ("Pausing", "Resumed") if mode == "pause" else ("Stopping", "Started")
    assert lines[0] == f"-----> Initialising the backup repository {repository(env)}"
    assert lines[2:4] == [f"       {verb} {container} for the snapshot", f"       {resumed} {container}"]
    assert lines[4].startswith("       Snapshot ") and len(lines) == 5
    after = docker("ps", "--filter", f"label=com.dokku.app-name={deployed}", "--format", "{{.ID}} {{.State}}")
    assert after == f"{before} running"  # the same container, running again


def test_restore_stops_the_containers_that_mount_the_entry_and_starts_them_again(dokku, env, deployed, host_dir):
    from conftest import docker

    (host_dir / "state.txt").write_text("from the backup\n")
    name = legacy_entry(dokku)
    backup(env, name)
    (host_dir / "state.txt").write_text("written later\n")
    container = f"{deployed}.web.1"
    [before] = docker("ps", "--filter", f"name={container}", "--format", "{{.ID}}").split()
    restored = run_cli(env, "--force", "storage:backup-restore", name, "--discard-previous")
    assert restored.returncode == 0, restored.stderr
    lines = restored.stdout.splitlines()
    assert lines[1:3] == [f"       Stopping {container}", lines[2]]
    assert lines[2].startswith("       Restored snapshot ") and lines[3] == f"       Starting {container}"
    assert docker("ps", "--filter", f"name={container}", "--format", "{{.ID}} {{.State}}") == f"{before} running"
    assert docker("exec", container, "cat", "/data/state.txt") == "from the backup"


# -- a remote repository -----------------------------------------------------------------------------


class SftpServer:
    """A private sshd on 127.0.0.1: its own user (key only, sftp only), host key, port and config; run as
    that user, so it needs no privilege separation directory and serves no one else."""

    def __init__(self) -> None:
        import socket
        import tempfile

        self.user = f"pdt-sftp-{os.urandom(3).hex()}"
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
             "--user-group", self.user], check=True,
        )  # fmt: skip
        self.root = Path(tempfile.mkdtemp(prefix="pydokku-test-sftp-"))
        os.chmod(self.root, 0o755)  # the server's user must reach its files (pytest's folders are root-only)
        keys = self.root / "ssh"
        keys.mkdir()
        for key in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / key)], check=True)
        shutil.copy(keys / "client_key.pub", keys / "authorized_keys")
        (self.root / "repositories").mkdir()
        for path in (keys / "host_key", self.root / "repositories"):
            shutil.chown(path, self.user, self.user)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        (keys / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {keys / 'host_key'}\nPidFile none\n"
            f"AuthorizedKeysFile {keys / 'authorized_keys'}\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPermitRootLogin no\n"
            f"AllowUsers {self.user}\nSubsystem sftp internal-sftp\nForceCommand internal-sftp\n"
            "AllowTcpForwarding no\nX11Forwarding no\nPermitTTY no\nLogLevel VERBOSE\n"
        )
        host_key = (keys / "host_key.pub").read_text().split()[:2]
        (keys / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {' '.join(host_key)}\n")
        self.log = open(self.root / "sshd.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--clear-groups", "/usr/sbin/sshd", "-D",
             "-e", "-f", str(keys / "sshd_config")], stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        for _ in range(100):
            if f"port {self.port}" in (self.root / "sshd.log").read_text():
                break
            time.sleep(0.05)
        self.ssh_command = (
            f"ssh -F /dev/null -p {self.port} -i {keys / 'client_key'} -o IdentitiesOnly=yes"
            f" -o UserKnownHostsFile={keys / 'known_hosts'} -o StrictHostKeyChecking=yes -o BatchMode=yes"
            f" {self.user}@127.0.0.1 -s sftp"
        )

    def repository(self, name: str) -> str:
        return f"sftp:{self.user}@127.0.0.1:{self.root / 'repositories' / name}"

    def stop(self) -> None:
        self.process.terminate()  # by pid: the one sshd this test started
        self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)
        subprocess.run(["userdel", self.user], check=False)


@pytest.fixture
def sftp_server():  # type: ignore[no-untyped-def]
    server = SftpServer()
    yield server
    server.stop()


def test_backups_to_a_remote_sftp_repository(dokku, env, tmp_path, sftp_server):
    assert dokku("storage:create", "uploads").code == 0
    path = env.storage_root / "uploads"
    make_tree(path, small_files=300)
    expected = metadata(path, directory_times=True)
    remote = sftp_server.repository("main")
    assert dokku("storage:backup-set", "--global", "repository", remote).code == 0
    assert dokku("storage:backup-set", "--global", "sftp-command", sftp_server.ssh_command).code == 0
    assert dokku("storage:backup-set", "--global", "passphrase", "-", stdin=PASSPHRASE + "\n").code == 0
    first = backup(env, "uploads")
    assert first.stdout.splitlines()[:2] == [
        f"-----> Backing up storage entry uploads ({path}) to {remote}",
        f"-----> Initialising the backup repository {remote}",
    ]
    assert first.stderr == ""  # the passphrase was set: nothing generated, nothing to warn about
    assert (sftp_server.root / "repositories" / "main" / "config").exists()
    values = json.loads(dokku("storage:backup-report", "uploads", "--format", "json").out)
    assert values["backup-location"] == "remote"
    restored = run_cli(env, "storage:backup-restore", "uploads", "--to", str(tmp_path / "copy"))
    assert restored.returncode == 0, restored.stderr
    assert metadata(tmp_path / "copy", directory_times=True) == expected
    checked = run_cli(env, "storage:backup-verify", "uploads")
    assert checked.returncode == 0 and checked.stdout.splitlines()[-1] == "       no errors were found"
    assert "Accepted publickey for " + sftp_server.user in (sftp_server.root / "sshd.log").read_text()
    assert PASSPHRASE not in (sftp_server.root / "sshd.log").read_text()
    # A wrong key: restic's own words, recorded as the entry's last error.
    assert dokku("storage:backup-set", "--global", "sftp-command", sftp_server.ssh_command.replace(
        "client_key", "host_key")).code == 0  # fmt: skip
    failed = run_cli(env, "storage:backup", "uploads")
    assert failed.returncode == 1
    assert failed.stderr.startswith(f" !     Unable to back up storage entry uploads to {remote}: ")
    values = json.loads(dokku("storage:backup-report", "uploads", "--format", "json").out)
    assert values["backup-last-error"] == failed.stderr.removeprefix(" !     ").strip()


def test_containers_held_by_a_killed_backup_are_resumed_by_the_next_one(dokku, env, deployed, host_dir):
    from conftest import docker

    make_tree(host_dir, big_bytes=256 << 20)  # a snapshot long enough to be killed in
    name = legacy_entry(dokku)
    assert dokku("storage:backup-set", name, "quiesce", "pause").code == 0
    container = f"{deployed}.web.1"
    process = subprocess.Popen(
        [str(DOKKU_BIN), "storage:backup", name], env={**os.environ, **env.variables},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(400):
            if docker("inspect", "--format", "{{.State.Status}}", container) == "paused":
                break
            time.sleep(0.02)
        else:
            pytest.fail("the container was never paused")
    finally:
        process.kill()
        process.wait()
    assert docker("inspect", "--format", "{{.State.Status}}", container) == "paused"
    again = run_cli(env, "storage:backup", name)
    assert again.returncode == 0, again.stderr
    assert f" !     Resumed {container}, held by an interrupted backup of storage entry {name}\n" in again.stderr
    assert docker("inspect", "--format", "{{.State.Status}}", container) == "running"


# -- volumes that are no directory on this host ------------------------------------------------------


@pytest.fixture
def device_volume(engine, tmp_path):  # type: ignore[no-untyped-def]
    """A local-driver volume with a device (here a bind): its data is reached only through a container."""
    from conftest import docker

    device = tmp_path / "device"
    device.mkdir()
    name = f"pydokku-test-{os.urandom(4).hex()}"
    docker("volume", "create", "--driver", "local", "--opt", "type=none", "--opt", "o=bind", "--opt",
           f"device={device}", name)  # fmt: skip
    yield name, device
    docker("volume", "rm", "--force", name, check=False)


def copies_left(env) -> list[str]:
    """What is left in the folder volumes are copied through."""
    folder = env.lib_root / "data" / "backup-copies"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def to_seconds(shown: dict[str, tuple[object, ...]]) -> dict[str, tuple[object, ...]]:
    return {
        path: (*row[:5], row[5] // 10**9 if isinstance(row[5], int) else row[5], *row[6:])
        for path, row in shown.items()
    }


def test_a_volume_of_another_kind_is_read_through_a_container(dokku, env, tmp_path, device_volume):
    from conftest import docker

    volume, device = device_volume
    (device / "docs").mkdir()
    (device / "docs" / "a.txt").write_text("alpha\n")
    os.chown(device / "docs", 1000, 2000)
    os.chmod(device / "docs", 0o750)
    (device / "link").symlink_to("docs/a.txt")
    assert dokku("storage:create", "shared", volume).code == 0
    done = backup(env, "shared")
    assert copies_left(env) == []  # the copy the snapshot was taken from is gone
    assert done.stdout.splitlines()[1] == (
        f"-----> Backing up storage entry shared (docker volume {volume}, read through a container) to"
        f" {repository(env)}"
    )
    copy = tmp_path / "copy"
    restored = run_cli(env, "storage:backup-restore", "shared", "--to", str(copy))
    assert restored.returncode == 0, restored.stderr
    assert to_seconds(metadata(copy)) == to_seconds(metadata(device))  # Docker's archives keep whole seconds
    exported = subprocess.run(
        [str(DOKKU_BIN), "storage:export", "shared"], capture_output=True, env={**os.environ, **env.variables}
    )
    assert exported.returncode == 0 and exported.stderr == b""
    listed = subprocess.run(["tar", "-tvf", "-"], input=exported.stdout, capture_output=True, check=True).stdout
    assert b"1000/2000" in listed and b"./docs/a.txt" in listed
    # Restored in place: through a container, in steps inside the volume.
    original = to_seconds(metadata(device))
    (device / "docs" / "a.txt").write_text("changed\n")
    (device / "extra").write_text("extra\n")
    restored = run_cli(env, "--force", "storage:backup-restore", "shared")
    assert restored.returncode == 0, restored.stderr
    lines = restored.stdout.splitlines()
    assert (
        lines[0] == f"-----> Restoring storage entry shared from {repository(env)} (latest) into docker volume {volume}"
    )
    assert lines[1].startswith("       Restored snapshot ") and lines[1].endswith(f" into docker volume {volume}")
    [previous] = [p.name for p in device.glob(".pydokku-previous-*")]
    assert lines[2] == (
        f"       Previous content kept in the volume at /data/{previous} (remove it: dokku storage:exec shared --"
        f" rm -rf /data/{previous})"
    )
    assert (device / previous / "extra").read_text() == "extra\n"
    shutil.rmtree(device / previous)
    assert to_seconds(metadata(device)) == original
    assert docker("ps", "--all", "--filter", f"volume={volume}", "--quiet") == ""
    assert copies_left(env) == []


def test_an_import_into_a_volume_of_another_kind_and_an_interrupted_one(dokku, env, tmp_path, device_volume):
    volume, device = device_volume
    (device / "old.txt").write_text("old\n")
    assert dokku("storage:create", "shared", volume).code == 0
    assert dokku("storage:create", "source").code == 0
    make_tree(env.storage_root / "source")
    expected = to_seconds(metadata(env.storage_root / "source"))
    stream = tmp_path / "stream.tar"
    with open(stream, "wb") as out:
        assert subprocess.run([str(DOKKU_BIN), "storage:export", "source"], stdout=out,
                              env={**os.environ, **env.variables}).returncode == 0  # fmt: skip

    def import_stream(*flags: str) -> subprocess.CompletedProcess[bytes]:
        with open(stream, "rb") as given:
            return subprocess.run([str(DOKKU_BIN), "storage:import", "shared", *flags], stdin=given,
                                  capture_output=True, env={**os.environ, **env.variables})  # fmt: skip

    refused = import_stream()
    assert (
        refused.stderr.decode()
        == f" !     docker volume {volume} is not empty; pass --replace to replace its content\n"
    )
    assert sorted(p.name for p in device.iterdir()) == ["old.txt"]
    # A swap interrupted after its first step (the old entries moved aside, the new ones not yet in).
    (device / ".pydokku-previous-0a1b").mkdir()
    os.rename(device / "old.txt", device / ".pydokku-previous-0a1b" / "old.txt")
    (device / ".pydokku-incoming-0a1b").mkdir()
    (device / ".pydokku-incoming-0a1b" / "half.txt").write_text("from the interrupted import\n")
    (device / ".pydokku-swap-0a1b").write_text("2 0\n")
    (device / ".pydokku-incoming-dead").mkdir()  # a copy that never got as far as a swap
    done = import_stream("--replace", "--discard-previous")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == f"-----> Imported into storage entry shared (docker volume {volume})\n"
    assert (device / ".pydokku-previous-0a1b" / "old.txt").read_text() == "old\n"  # the finished swap kept it
    shutil.rmtree(device / ".pydokku-previous-0a1b")
    assert to_seconds(metadata(device)) == expected  # half.txt went with --discard-previous
    assert copies_left(env) == []


def test_report_without_entries_the_global_report_and_a_missing_restic(dokku, env, tmp_path):
    empty = dokku("storage:backup-report")
    assert (empty.code, empty.out, empty.err) == (0, "", " !     You haven't created any storage entries yet\n")
    values = json.loads(dokku("storage:backup-report", "--global", "--format", "json").out)
    assert values["backup-computed-repository"] == str(repository(env))
    assert values["backup-passphrase"].startswith("generated on the first backup, into ")
    assert values["backup-location"].startswith("on the same disk as the data: a backup on the same disk is not")
    assert dokku("storage:backup-report", "--global", "uploads").err == (
        " !     --global cannot be combined with a storage entry\n"
    )
    assert dokku("storage:create", "uploads").code == 0
    no_restic = run_cli(env, "storage:backup", "uploads", extra={"PATH": str(tmp_path)})
    assert (no_restic.returncode, no_restic.stderr) == (1, " !     restic is not installed (apt-get install restic)\n")
    assert not list((env.lib_root / "secrets" / "backup").glob("*.passphrase"))


def test_backup_progress_shows_on_a_terminal_only(dokku, env, tmp_path):
    import pty

    assert dokku("storage:create", "uploads").code == 0
    make_tree(env.storage_root / "uploads", big_bytes=192 << 20)
    master, slave = pty.openpty()
    with open(tmp_path / "out", "w") as out:
        done = subprocess.run([str(DOKKU_BIN), "storage:backup", "uploads"], stdout=out, stderr=slave,
                              env={**os.environ, **env.variables})  # fmt: skip
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert done.returncode == 0
    text = shown.decode()
    assert "% " in text and " of " in text and "\r       " in text  # `\r        42.0% 80.0 MiB of 192.1 MiB`
    assert "\r" + " " * 60 + "\r" in text  # the progress line is cleared before the summary
    assert (tmp_path / "out").read_text().splitlines()[-1].startswith("       Snapshot ")


def test_an_unwritable_cron_file_is_said_and_the_state_stays_true(dokku, env, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("DOKKU_BACKUP_CRON_FILE", str(blocker / "pydokku-storage-backup"))
    assert dokku("storage:create", "uploads").code == 0
    result = dokku("storage:backup-set", "--global", "schedule", "@daily")
    message = (
        f" !     The backup schedule is recorded, but the cron file {blocker}/pydokku-storage-backup could not be"
        " written (Not a directory); fix that, then run any storage:backup-set again to rewrite it\n"
    )
    assert (result.code, result.out, result.err) == (1, "-----> Setting schedule to @daily\n", message)
    created = dokku("storage:create", "later")  # the entry is created; the cron file's trouble is said
    assert (created.code, created.err) == (0, message)
    assert dokku("storage:backup-report", "later", "--backup-computed-schedule").out == "@daily\n"


@pytest.mark.parametrize("command", ["storage:backup", "storage:backup-prune", "storage:backup-verify"])
def test_all_without_entries_says_so_and_succeeds(dokku, command):
    result = dokku(command, "--all")
    assert (result.code, result.out, result.err) == (0, "", " !     You haven't created any storage entries yet\n")
