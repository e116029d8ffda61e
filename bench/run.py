"""pydokku benchmarks: each figure next to the floor it is compared with, as a ratio.

Run with `scripts/bench` (or `make bench`). Everything runs in throwaway DOKKU_ROOT / DOKKU_LIB_ROOT
folders. Latencies are medians of interleaved runs, so machine noise hits both sides alike.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from functools import partial
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
DOKKU = str(VENV_BIN / "dokku")
PYTHON = str(VENV_BIN / "python")


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def interleaved_medians(commands: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm-up
        timed(command, env)
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(timed(command, env))
    return {name: statistics.median(values) for name, values in samples.items()}


def in_process(env: dict[str, str]) -> Callable[..., None]:
    """Drive the CLI in this process: fast set-up of large fixtures through the real commands."""
    os.environ.update(env)
    from pydokku.cli import main

    def dokku(*args: str) -> None:
        with redirect_stdout(io.StringIO()):
            code = main(list(args))
        if code != 0:
            raise SystemExit(f"set-up failed: dokku {' '.join(args)} exited {code}")

    return dokku


def row(name: str, value: float, floor_name: str, floor: float, target: str) -> str:
    ratio = value / floor
    return f"| {name} | {value * 1000:.1f} ms | {floor_name} | {floor * 1000:.1f} ms | {ratio:.2f}x | {target} |"


def add_apps(env: dict[str, str], first: int, last: int, hosts: list[str]) -> None:
    """Apps first..last-1 with three colon mounts each, recorded in one transaction through the store
    and storage layers (as storage:mount records them): minutes of CLI runs for 10,000 apps otherwise."""
    from pydokku.plugins.storage import attach_legacy
    from pydokku.plugins.storage.spec import parse
    from pydokku.store import Store
    from pydokku.store import apps as app_store

    store = Store.open(os.path.join(env["DOKKU_LIB_ROOT"], "pydokku.db"))
    with store.write() as tx:
        for n in range(first, last):
            app = app_store.insert(tx, f"app-{n:05d}", 0)
            for m, host in enumerate(hosts):
                attach_legacy(tx, app, parse(f"{host}:/app/data{m}"), deploy=True, run=True)
    store.close()


def cli_latency(runs: int, app_counts: list[int]) -> list[str]:
    import compileall

    import pydokku

    # An installed package has its byte code; a checkout run with PYTHONDONTWRITEBYTECODE would otherwise
    # compile every edited module on every run and time the compiler.
    compileall.compile_dir(os.path.dirname(pydokku.__file__), quiet=1)
    with tempfile.TemporaryDirectory(prefix="pydokku-bench.") as folder:
        root = Path(folder)
        env = {**os.environ, "DOKKU_ROOT": str(root / "home"), "DOKKU_LIB_ROOT": str(root / "lib")}
        dokku = in_process(env)
        hosts = [f"{root}/data{n}" for n in range(3)]
        for host in hosts:
            os.mkdir(host)
        dokku("apps:create", "bench-app")
        for n, host in enumerate(hosts):
            dokku("storage:mount", "bench-app", f"{host}:/app/data{n}")
        medians = interleaved_medians(
            {
                "python -c pass": [PYTHON, "-c", "pass"],
                "dokku storage:list <app>": [DOKKU, "storage:list", "bench-app"],
                "dokku storage:report <app>": [DOKKU, "storage:report", "bench-app"],
            },
            env,
            runs,
        )
        floor = medians["python -c pass"]
        lines = [row(name, medians[name], "python -c pass", floor, "<= 2.0x") for name in list(medians)[1:]]
        existing = 1
        for count, target in zip(app_counts, (0.5, 1.0), strict=False):
            add_apps(env, existing, count, hosts)
            existing = count
            report_all = statistics.median(timed([DOKKU, "storage:report"], env) for _ in range(5))
            lines.append(
                f"| dokku storage:report, {count} apps x 3 mounts | {report_all * 1000:.1f} ms"
                f" | target | {target * 1000:.1f} ms | {report_all / target:.2f}x | < 1.00x |"
            )
    return lines


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


def restart(runs: int) -> list[str]:
    """ps:restart of a one-container and a three-container app against the docker CLI sequence it
    performs (create, start, stop, rm for each container, one after the other)."""
    image = "dokku-test/busybox:local"
    app = f"pydokku-bench-{os.getpid()}"
    lines = []
    with tempfile.TemporaryDirectory(prefix="pydokku-bench.") as folder:
        root = Path(folder)
        env = {**os.environ, "DOKKU_ROOT": str(root / "home"), "DOKKU_LIB_ROOT": str(root / "lib")}
        (root / "data").mkdir()
        loop = 'CMD ["sh", "-c", "while true; do sleep 1; done"]'
        subprocess.run(
            ["docker", "build", "-q", "-t", f"{app}:source", "-"], input=f"FROM {image}\n{loop}\n", text=True,
            check=True, capture_output=True,
        )  # fmt: skip
        dokku = in_process(env)
        dokku("apps:create", app)
        dokku("storage:mount", app, f"{root}/data:/data")
        # The raw sequence has no checks wait; measure the scheduler's own cost against it.
        dokku("config:set", "--no-restart", app, "DOKKU_DEFAULT_CHECKS_WAIT=0")
        dokku("git:from-image", app, f"{app}:source")
        create_args = [
            "--init", "--restart=on-failure:10", "-v", f"{root}/data:/data", "--label", f"com.dokku.app-name={app}-raw",
            "--label", "com.dokku.process-type=web", "--env=DYNO=web.1", f"dokku/{app}:latest",
        ]  # fmt: skip
        for count in (1, 3):
            dokku("ps:scale", app, f"web={count}")
            old = [docker("run", "-d", *create_args) for _ in range(count)]

            def raw_sequence(old: list[str] = old) -> float:
                started = time.perf_counter()
                for index, container in enumerate(old):
                    new = docker("container", "create", *create_args)
                    docker("container", "start", new)
                    docker("container", "stop", container)
                    docker("container", "rm", container)
                    old[index] = new
                return time.perf_counter() - started

            ours: list[float] = []
            raw: list[float] = []
            timed([DOKKU, "ps:restart", app], env)
            raw_sequence()
            for _ in range(runs):
                ours.append(timed([DOKKU, "ps:restart", app], env))
                raw.append(raw_sequence())
            docker("rm", "-f", *old)
            lines.append(
                row(
                    f"dokku ps:restart, {count} container{'s' if count > 1 else ''} (checks wait 0)",
                    statistics.median(ours), "docker create+start+stop+rm, each", statistics.median(raw), "<= 1.0x",
                )
            )  # fmt: skip
        dokku("apps:destroy", app, "--force")
        docker("image", "rm", f"{app}:source")
    return lines


def swarm(runs: int) -> list[str]:
    """On the 3-node test swarm (scripts/swarm-up): a 3-replica app's deploy (its services created) and
    restart against the raw `docker service create` / `update --force` they perform, each waited on until
    the 3 new tasks run (checks wait 0 on our side: the raw sequence has none)."""
    root_dir = Path(__file__).resolve().parent.parent
    subprocess.run([str(root_dir / "scripts" / "swarm-up")], check=True, capture_output=True)
    manager = "unix:///tmp/pydokku-swarm/1/docker.sock"
    registry = "10.213.0.1:5000"

    def on_manager(*args: str) -> str:
        return docker("-H", manager, *args)

    app = "pydokku-bench-swarm"
    loop = "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"
    lines = []
    try:
        dockerfile = f'FROM {registry}/busybox:local\nCMD ["sh", "-c", "{loop}"]\n'
        subprocess.run(["docker", "-H", manager, "build", "-q", "-t", f"{app}:source", "-"], check=True,
                       capture_output=True, text=True, input=dockerfile)  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="pydokku-bench.") as folder:
            env, dokku = sandbox(Path(folder))
            for args in (("scheduler-docker-swarm:set", "--global", "manager", manager),
                         ("scheduler-docker-swarm:set", "--global", "helper-image", f"{registry}/busybox:local"),
                         ("scheduler-docker-swarm:set", "--global", "storage-root", "/srv/pydokku-node-storage"),
                         ("registry:set", "--global", "server", registry),
                         ("scheduler:set", "--global", "selected", "docker-swarm"),
                         ("config:set", "--global", "DOKKU_DEFAULT_CHECKS_WAIT=0"),
                         ("apps:create", app), ("ps:scale", app, "web=3", "--skip-deploy"),
                         ("git:from-image", app, f"{app}:source")):  # fmt: skip
                dokku(*args)
            image = on_manager(
                "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", f"{app}-web"
            )

            def running(service: str) -> bool:
                states = on_manager(
                    "service", "ps", "--filter", "desired-state=running", "--format", "{{.CurrentState}}", service
                )
                return states.count("Running") == 3 and len(states.splitlines()) == 3

            def raw_create() -> None:
                on_manager("service", "create", "--detach", "--quiet", "--name", "bench-raw", "--replicas", "3",
                           "--update-order", "start-first", "--update-monitor", "1ms", "--init", image)  # fmt: skip
                while not running("bench-raw"):
                    time.sleep(0.1)

            def raw_restart() -> None:
                on_manager("service", "update", "--detach", "--quiet", "--force", "bench-raw")
                while on_manager(
                    "service", "inspect", "--format", "{{.UpdateStatus.State}}", "bench-raw"
                ) != "completed" or not running("bench-raw"):
                    time.sleep(0.1)

            samples: dict[str, list[float]] = {"deploy": [], "raw deploy": [], "restart": [], "raw restart": []}
            for _ in range(runs):
                on_manager("service", "rm", f"{app}-web")
                samples["deploy"].append(clock(partial(timed, [DOKKU, "ps:start", app], env)))
                samples["raw deploy"].append(clock(raw_create))
                samples["restart"].append(clock(partial(timed, [DOKKU, "ps:restart", app], env)))
                samples["raw restart"].append(clock(raw_restart))
                on_manager("service", "rm", "bench-raw")
            samples.update(storage_move(runs, on_manager, env))
            found = medians_of(samples)
            lines.append(row("dokku ps:start (services created), 3 replicas, swarm", found["deploy"],
                             "docker service create, until 3 run", found["raw deploy"], "<= 1.1x"))  # fmt: skip
            lines.append(row("dokku ps:restart, 3 replicas, swarm", found["restart"],
                             "service update --force, until 3 run", found["raw restart"], "<= 1.1x"))  # fmt: skip
            lines.append(row("dokku storage:move, 1 GiB, node to node", found["move"],
                             "tar -c to nc, nc -l to tar -x jobs", found["raw move"], "<= 1.2x"))  # fmt: skip
    finally:
        subprocess.run([str(root_dir / "scripts" / "swarm-down")], check=False, capture_output=True)
    return lines


def storage_move(runs: int, on_manager: Callable[..., str], env: dict[str, str]) -> dict[str, list[float]]:
    """An entry of 1 GiB (4 files of 256 MiB and 1000 small ones) moved between node2 and node3, against
    the same tar stream sent by hand: a job on the target (`nc -l | tar -x`) and one on the source
    (`tar -c | nc`), both on the nodes' network, until both complete. The copy left behind is removed
    between runs, untimed."""
    image, store = "10.213.0.1:5000/busybox:local", "/srv/pydokku-node-storage"
    address = {"node2": "10.213.0.2", "node3": "10.213.0.3"}

    def job(node: str, script: str, *, wait: bool = True, network: str = "host") -> str:
        name = f"bench-job-{os.urandom(3).hex()}"
        on_manager("service", "create", "--detach", "--quiet", "--name", name, "--mode", "replicated-job",
                   "--restart-condition", "none", "--constraint", f"node.hostname=={node}", "--network", network,
                   "--mount", f"type=bind,source={store},target=/st", image, "sh", "-c", script)  # fmt: skip
        if wait:
            finish(name)
        return name

    def finish(name: str) -> None:
        while not on_manager("service", "ps", "--format", "{{.CurrentState}}", name).startswith("Complete"):
            time.sleep(0.1)
        on_manager("service", "rm", name)

    job("node2", "rm -rf /st/bench-move && mkdir /st/bench-move && cd /st/bench-move && for i in 1 2 3 4; do"
        " head -c 268435456 /dev/zero > big$i; done && mkdir small && for i in $(seq 1000); do echo $i > small/$i;"
        " done")  # fmt: skip
    subprocess.run([DOKKU, "storage:create", "bench-move", "--scheduler", "docker-swarm", "--node", "node2"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    samples: dict[str, list[float]] = {"move": [], "raw move": []}
    holder, other = "node2", "node3"
    for _ in range(runs):
        samples["move"].append(clock(partial(timed, [DOKKU, "storage:move", "bench-move", "--to-node", other], env)))
        job(holder, "rm -rf /st/bench-move")
        holder, other = other, holder

        def raw_move(source: str = holder, target: str = other) -> None:
            receiver = job(target, "mkdir /st/bench-raw && mkfifo /tmp/f && exec 3<>/tmp/f && nc -l -p 7001 <&3 |"
                           " tar -x -C /st/bench-raw", wait=False)  # fmt: skip
            sender = job(source, f"until tar -c -C /st/bench-move . | nc {address[target]} 7001; do sleep 0.1;"
                         " done", wait=False)  # fmt: skip
            finish(sender)
            finish(receiver)

        samples["raw move"].append(clock(raw_move))
        job(other, "rm -rf /st/bench-raw")
    return samples


def audit_cost(runs: int) -> list[str]:
    """What the audit trail adds to a storage:mount (its event in the same transaction, its exit code
    after): in this process, the same mount and unmount with the trail on and off (the command's
    declared kind set to None), alternated."""
    from pydokku.registry import find_command

    with tempfile.TemporaryDirectory(prefix="pydokku-bench.") as folder:
        root = Path(folder)
        env = {**os.environ, "DOKKU_ROOT": str(root / "home"), "DOKKU_LIB_ROOT": str(root / "lib")}
        dokku = in_process(env)
        dokku("apps:create", "bench-app")
        dokku("storage:create", "bench-entry")
        commands = [find_command(name) for name in ("storage:mount", "storage:unmount")]
        declared = [command.audit if command else None for command in commands]
        samples: dict[str, list[float]] = {"on": [], "off": []}
        for index in range(runs * 2):
            trail = "on" if index % 2 else "off"
            for command, kind in zip(commands, declared, strict=True):
                assert command is not None
                command.audit = kind if trail == "on" else None
            started = time.perf_counter()
            dokku("storage:mount", "bench-app", "bench-entry", "--container-dir", "/data")
            samples[trail].append(time.perf_counter() - started)
            dokku("storage:unmount", "bench-app", "bench-entry", "--container-dir", "/data")
        for command, kind in zip(commands, declared, strict=True):
            assert command is not None
            command.audit = kind
    on, off = statistics.median(samples["on"]), statistics.median(samples["off"])
    return [
        f"| dokku storage:mount (in process) with its event | {on * 1000:.2f} ms | without the audit trail"
        f" | {off * 1000:.2f} ms | +{(on - off) * 1000:.2f} ms | <= +1 ms |"
    ]


def make_tree(root: Path, files: int) -> None:
    per_dir = max(1, files // 400)
    payload = b"x" * 100
    for d in range((files + per_dir - 1) // per_dir):
        directory = root / f"d{d:03d}"
        directory.mkdir()
        for f in range(min(per_dir, files - d * per_dir)):
            (directory / f"f{f:04d}").write_bytes(payload)


def ownership(files: int, runs: int) -> list[str]:
    from pydokku.ownership import chown_tree, set_tree_owner

    lines = []
    with tempfile.TemporaryDirectory(prefix="pydokku-bench-tree.") as folder:
        tree = Path(folder) / "tree"
        tree.mkdir()
        make_tree(tree, files)

        def reset() -> None:
            subprocess.run(["chown", "-R", "0:0", str(tree)], check=True)

        def ours_all_need() -> float:
            reset()
            started = time.perf_counter()
            set_tree_owner(str(tree), 32767, 32767)
            return time.perf_counter() - started

        def chown_r() -> float:
            reset()
            started = time.perf_counter()
            subprocess.run(["chown", "-R", "32767:32767", str(tree)], check=True)
            return time.perf_counter() - started

        def walker_all_need() -> float:
            reset()
            started = time.perf_counter()
            chown_tree(str(tree), 32767, 32767)
            return time.perf_counter() - started

        samples: dict[str, list[float]] = {"ours": [], "chown": [], "walker": []}
        for _ in range(runs):
            samples["ours"].append(ours_all_need())
            samples["chown"].append(chown_r())
            samples["walker"].append(walker_all_need())
        full = {name: statistics.median(values) for name, values in samples.items()}

        subprocess.run(["chown", "-R", "32767:32767", str(tree)], check=True)
        owned: dict[str, list[float]] = {"ours": [], "find": [], "walker": []}
        for _ in range(runs):
            started = time.perf_counter()
            set_tree_owner(str(tree), 32767, 32767)
            owned["ours"].append(time.perf_counter() - started)
            started = time.perf_counter()
            subprocess.run(f"find '{tree}' ! -user 32767 | wc -l", shell=True, check=True, capture_output=True)
            owned["find"].append(time.perf_counter() - started)
            started = time.perf_counter()
            chown_tree(str(tree), 32767, 32767)
            owned["walker"].append(time.perf_counter() - started)
        already = {name: statistics.median(values) for name, values in owned.items()}
    lines.append(
        row(f"ownership fix-up, {files} files, all to change", full["ours"], "chown -R", full["chown"], "<= 1.1x")
    )
    lines.append(
        row(
            f"ownership fix-up, {files} files, already owned",
            already["ours"],
            "find ! -user",
            already["find"],
            "<= 1.2x",
        )
    )
    lines.append(row("(Python walker, the fallback when the C walker is not built) all to change", full["walker"],
                     "chown -R", full["chown"], "info"))  # fmt: skip
    lines.append(row("(Python walker) already owned", already["walker"], "find ! -user", already["find"], "info"))
    return lines


def usage(files: int, runs: int) -> list[str]:
    """storage:usage of one entry holding `files` files: measured (--refresh: a walk every time) against
    `du -s` on the same tree, alternated; then answered from the cache (nothing changed in between)."""
    with tempfile.TemporaryDirectory(prefix="pydokku-bench-usage.") as folder:
        root = Path(folder)
        tree = root / "tree"
        tree.mkdir()
        make_tree(tree, files)
        env, dokku = sandbox(root)
        dokku("storage:create", "bench-tree", str(tree))
        cold = interleaved_medians(
            {"ours": [DOKKU, "storage:usage", "bench-tree", "--refresh"], "du": ["du", "-s", str(tree)]}, env, runs
        )
        warm = interleaved_medians({"ours": [DOKKU, "storage:usage", "bench-tree"]}, env, runs)
    return [
        row(f"dokku storage:usage, {files} files, measured (--refresh)", cold["ours"], "du -s", cold["du"], "<= 1.1x"),
        row(f"dokku storage:usage, {files} files, from the cache", warm["ours"], "the 50 ms target", 0.050, "<= 1.0x"),
    ]


def verify_all(apps: int, runs: int) -> list[str]:
    """storage:verify --all over `apps` apps with three mounts each (a named entry inside the storage
    root with an owner to check, two colon mounts of their own host directories), all healthy: every
    path stat'ed, every owner compared, the engine asked once for containers and once for volumes."""
    from pydokku.plugins.storage import attach_legacy
    from pydokku.plugins.storage.spec import parse
    from pydokku.store import Store
    from pydokku.store import apps as app_store
    from pydokku.store import storage as storage_store

    with tempfile.TemporaryDirectory(prefix="pydokku-bench-verify.") as folder:
        root = Path(folder)
        env, dokku = sandbox(root)
        dokku("apps:create", "bench-first")  # the state database, made by the CLI
        storage_root = root / "lib" / "data" / "storage"
        store = Store.open(str(root / "lib" / "pydokku.db"))
        with store.write() as tx:
            for n in range(apps):
                app = app_store.insert(tx, f"app-{n:05d}", 0)
                path = storage_root / f"data-{n:05d}"
                path.mkdir(parents=True)
                os.chown(path, 1000, 1000)
                entry = storage_store.save_entry(tx, path.name, str(path), "heroku", "", "", 0)
                storage_store.upsert_attachment(
                    tx, app.id, entry.id, "/data", "_default_", deploy=True, run=True, subpath="", readonly=False,
                    volume_options="", volume_chown="",
                )  # fmt: skip
                for m in range(2):
                    host = root / "hosts" / f"{n:05d}-{m}"
                    host.mkdir(parents=True)
                    attach_legacy(tx, app, parse(f"{host}:/app/h{m}"), deploy=True, run=True)
        store.close()
        medians = interleaved_medians({"verify": [DOKKU, "storage:verify", "--all"]}, env, runs)
    return [row(f"dokku storage:verify --all, {apps} apps x 3 mounts, clean", medians["verify"], "the 2 s target",
                2.0, "<= 1.0x")]  # fmt: skip


def mixed_tree(tree: Path, mib: int) -> None:
    """`mib` MiB as storage holds it: a tenth in small files (1-8 KiB, 100 per folder), the rest in 1 MiB
    random files."""
    small_budget, written, index = (mib << 20) // 10, 0, 0
    while written < small_budget:
        folder = tree / "small" / f"d{index // 100:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        data = os.urandom(1024 + (index * 7919) % 7168)
        (folder / f"f{index:06d}").write_bytes(data)
        written, index = written + len(data), index + 1
    (tree / "big").mkdir()
    for n in range(mib - mib // 10):
        (tree / "big" / f"f{n:05d}").write_bytes(os.urandom(1 << 20))


def sandbox(root: Path) -> tuple[dict[str, str], Callable[..., None]]:
    env = {**os.environ, "DOKKU_ROOT": str(root / "home"), "DOKKU_LIB_ROOT": str(root / "lib"),
           "DOKKU_BACKUP_CRON_FILE": str(root / "cron")}  # fmt: skip
    return env, in_process(env)


def clock(action: Callable[[], object]) -> float:
    os.sync()  # what the previous step left to write back is not this step's cost
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def medians_of(samples: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in samples.items()}


def streams(runs: int, mib: int) -> list[str]:
    """storage:export and storage:import against bare GNU tar on the same tree and the same archive,
    interleaved, each after a `sync` (this machine's small-file speed drifts)."""
    with tempfile.TemporaryDirectory(prefix="pydokku-bench.") as folder:
        root = Path(folder)
        env, dokku = sandbox(root)
        dokku("storage:create", "source")
        dokku("storage:create", "target")
        tree = root / "lib" / "data" / "storage" / "source"
        mixed_tree(tree, mib)
        archive, floor_archive, extracted = root / "export.tar", root / "floor.tar", root / "floor-x"
        target = tree.parent / "target"

        def ours_export() -> None:
            with open(archive, "wb") as out:
                subprocess.run([DOKKU, "storage:export", "source"], stdout=out, env=env, check=True)

        def ours_import() -> None:
            with open(archive, "rb") as given:
                subprocess.run([DOKKU, "storage:import", "target"], stdin=given, stdout=subprocess.DEVNULL, env=env,
                               check=True)  # fmt: skip

        def empty(path: Path) -> None:  # both sides extract into an empty place
            subprocess.run(["rm", "-rf", str(path)], check=True)
            path.mkdir()

        flags = ["--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls"]  # what ours keeps

        def tar_export() -> None:
            subprocess.run(["tar", "-cf", str(floor_archive), "-C", str(tree), "."], check=True)

        def tar_export_flags() -> None:
            subprocess.run(
                ["tar", "-c", *flags, "--sparse", "-f", str(floor_archive), "-C", str(tree), "."], check=True
            )

        def tar_import() -> None:  # the same stream ours imports
            subprocess.run(["tar", "-xf", str(archive), "-C", str(extracted)], check=True)

        def tar_import_flags() -> None:
            subprocess.run(["tar", "-x", *flags, "-f", str(archive), "-C", str(extracted)], check=True)

        steps = {"ours_x": ours_export, "tar_x": tar_export, "tar_xf": tar_export_flags, "ours_i": ours_import,
                 "tar_i": tar_import, "tar_if": tar_import_flags}  # fmt: skip
        samples: dict[str, list[float]] = {name: [] for name in steps}
        ours_export()  # the archive both imports read
        for run in range(runs):
            # Each group in both orders, alternately: what one leaves to the kernel weighs on the others alike.
            for group in (("ours_x", "tar_x", "tar_xf"), ("ours_i", "tar_i", "tar_if")):
                for name in group if run % 2 == 0 else reversed(group):
                    if name.endswith(("_i", "_if")):
                        empty(target if name == "ours_i" else extracted)
                    samples[name].append(clock(steps[name]))
        medians = medians_of(samples)
    return [
        row(f"dokku storage:export, {mib} MiB", medians["ours_x"], "tar -cf", medians["tar_x"], "<= 1.05x"),
        row(f"dokku storage:export, {mib} MiB", medians["ours_x"], "tar -c, the same flags", medians["tar_xf"], "info"),
        row(f"dokku storage:import, {mib} MiB", medians["ours_i"], "tar -xf", medians["tar_i"], "<= 1.05x"),
        row(f"dokku storage:import, {mib} MiB", medians["ours_i"], "tar -x, the same flags", medians["tar_if"], "info"),
    ]


def backups(runs: int, mib: int) -> list[str]:
    """storage:backup and storage:backup-restore against bare restic with the same flags, environment
    and kind of repository, interleaved; and what an incremental backup after a 1 % change adds."""
    import json
    import socket

    with tempfile.TemporaryDirectory(prefix="pydokku-bench.") as folder:
        root = Path(folder)
        env, dokku = sandbox(root)
        dokku("storage:create", "source")
        tree = root / "lib" / "data" / "storage" / "source"
        mixed_tree(tree, mib)
        key = root / "passphrase"
        key.write_text("bench-passphrase-not-secret\n")
        dokku("storage:backup-set", "--global", "passphrase", "bench-passphrase-not-secret")
        restic_env = {**env, "RESTIC_PASSWORD_FILE": str(key), "RESTIC_PROGRESS_FPS": "2",
                      "RESTIC_CACHE_DIR": str(root / "lib" / "cache" / "restic")}  # fmt: skip
        bare_backup = ["restic", "--compression", "off", "backup", "--json", "--host", socket.gethostname(),
                       "--tag", "entry:source", "source"]  # fmt: skip

        def fresh_repository(name: str) -> str:
            path = str(root / "repositories" / name)
            subprocess.run(["restic", "init", "-r", path], env=restic_env, capture_output=True, check=True)
            return path

        def ours_backup(repository: str) -> None:
            dokku("storage:backup-set", "--global", "repository", repository)
            subprocess.run([DOKKU, "storage:backup", "source"], env=env, stdout=subprocess.DEVNULL, check=True)

        def bare(command: list[str], repository: str, cwd: Path | None = None) -> None:
            subprocess.run(command, env={**restic_env, "RESTIC_REPOSITORY": repository}, cwd=cwd,
                           stdout=subprocess.DEVNULL, check=True)  # fmt: skip

        samples: dict[str, list[float]] = {"ours_b": [], "bare_b": [], "ours_r": [], "bare_r": []}
        for run in range(runs):
            ours_repository, bare_repository = fresh_repository(f"ours{run}"), fresh_repository(f"bare{run}")
            samples["ours_b"].append(clock(partial(ours_backup, ours_repository)))
            samples["bare_b"].append(clock(partial(bare, bare_backup, bare_repository, tree.parent)))
            # In place: staged beside the entry, swapped in, the previous content kept (removed untimed).
            samples["ours_r"].append(clock(lambda: subprocess.run(
                [DOKKU, "--force", "storage:backup-restore", "source"], env=env, stdout=subprocess.DEVNULL,
                check=True)))  # fmt: skip
            for previous in tree.parent.glob("source.previous-*"):
                subprocess.run(["rm", "-rf", str(previous)], check=True)
            target = root / f"bare-restore-{run}"
            bare_restore = ["restic", "restore", "latest", "--tag", "entry:source", "--target", str(target)]
            samples["bare_r"].append(clock(partial(bare, bare_restore, bare_repository)))
            subprocess.run(["rm", "-rf", str(target)], check=True)
        medians = medians_of(samples)
        # 1 % of the tree changes: a hundredth of the small files rewritten, a hundredth of the big ones.
        for path in sorted((tree / "small").rglob("f*"))[::100] + sorted((tree / "big").glob("f*"))[::100]:
            path.write_bytes(os.urandom(path.stat().st_size))
        repository = root / "repositories" / f"ours{runs - 1}"
        before = sum(p.stat().st_size for p in repository.rglob("*") if p.is_file())
        subprocess.run([DOKKU, "storage:backup", "source"], env=env, stdout=subprocess.DEVNULL, check=True)
        growth = sum(p.stat().st_size for p in repository.rglob("*") if p.is_file()) - before
        tree_size = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
        snapshots = json.loads(subprocess.run(["restic", "snapshots", "--json", "-r", str(repository)],
                                              env=restic_env, capture_output=True, check=True).stdout)  # fmt: skip
        assert len(snapshots) == 2
    backup_name = f"dokku storage:backup, {mib} MiB, new repository"
    restore_name = f"dokku storage:backup-restore, {mib} MiB, in place"
    return [
        row(backup_name, medians["ours_b"], "restic backup", medians["bare_b"], "<= 1.05x"),
        row(restore_name, medians["ours_r"], "restic restore", medians["bare_r"], "<= 1.05x"),
        f"| incremental backup after a 1 % change: repository growth | {growth / 1e6:.1f} MB | tree size |"
        f" {tree_size / 1e6:.1f} MB | {growth / tree_size:.3f}x | <= 0.05x |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40, help="runs per CLI latency figure")
    parser.add_argument(
        "--apps", type=int, nargs="+", default=[1000, 10_000], help="apps in the report-over-all-apps figures"
    )
    parser.add_argument("--restarts", type=int, default=10, help="runs of ps:restart and of the raw sequence")
    parser.add_argument("--files", type=int, default=200_000, help="files in the ownership tree")
    parser.add_argument("--usage-files", type=int, default=1_000_000, help="files in the storage:usage tree")
    parser.add_argument("--stream-mib", type=int, default=1024, help="MiB in the export/import tree")
    parser.add_argument("--backup-mib", type=int, default=1024, help="MiB in the backup/restore tree")
    parser.add_argument(
        "--only",
        choices=("cli", "audit", "restart", "ownership", "streams", "backups", "swarm", "usage", "verify"),
        help="run one group",
    )
    options = parser.parse_args()

    lines: list[str] = []
    if options.only in (None, "cli"):
        lines += cli_latency(options.runs, options.apps)
    if options.only in (None, "audit"):
        lines += audit_cost(200)
    if options.only in (None, "restart"):
        lines += restart(options.restarts)
    if options.only in (None, "ownership"):
        lines += ownership(options.files, 3)
    if options.only in (None, "usage"):
        lines += usage(options.usage_files, 7)
    if options.only in (None, "verify"):
        lines += verify_all(1000, 5)
    if options.only in (None, "streams"):
        lines += streams(5, options.stream_mib)
    if options.only in (None, "backups"):
        lines += backups(3, options.backup_mib)
    if options.only in (None, "swarm"):
        lines += swarm(5)
    print("pydokku benchmarks (medians; each figure and its floor measured alternately in one run)\n")
    print("| measured | time | floor | floor time | ratio | target |")
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
