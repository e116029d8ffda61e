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


def cli_latency(runs: int, app_count: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="pydokku-bench.") as folder:
        root = Path(folder)
        env = {**os.environ, "DOKKU_ROOT": str(root / "home"), "DOKKU_LIB_ROOT": str(root / "lib")}
        dokku = in_process(env)
        for n in range(3):
            (root / f"data{n}").mkdir()
        dokku("apps:create", "bench-app")
        for n in range(3):
            dokku("storage:mount", "bench-app", f"{root}/data{n}:/app/data{n}")
        medians = interleaved_medians(
            {
                "python -c pass": [PYTHON, "-c", "pass"],
                "dokku storage:list <app>": [DOKKU, "storage:list", "bench-app"],
                "dokku storage:report <app>": [DOKKU, "storage:report", "bench-app"],
            },
            env,
            runs,
        )
        for n in range(1, app_count):
            dokku("apps:create", f"app-{n:05d}")
            for m in range(3):
                dokku("storage:mount", f"app-{n:05d}", f"{root}/data{m}:/app/data{m}")
        report_all = statistics.median(timed([DOKKU, "storage:report"], env) for _ in range(5))
    floor = medians["python -c pass"]
    return [
        *(row(name, medians[name], "python -c pass", floor, "<= 2.5x") for name in list(medians)[1:]),
        f"| dokku storage:report, {app_count} apps x 3 mounts | {report_all * 1000:.1f} ms"
        f" | target | 500.0 ms | {report_all / 0.5:.2f}x | < 1.00x |",
    ]


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


def restart(runs: int) -> list[str]:
    """ps:restart of a one-container app against the docker CLI sequence it performs."""
    image = "dokku-test/busybox:local"
    app = f"pydokku-bench-{os.getpid()}"
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
        old = docker("run", "-d", *create_args)

        def raw_sequence() -> float:
            nonlocal old
            started = time.perf_counter()
            new = docker("container", "create", *create_args)
            docker("container", "start", new)
            docker("container", "stop", old)
            docker("container", "rm", old)
            old = new
            return time.perf_counter() - started

        ours: list[float] = []
        raw: list[float] = []
        timed([DOKKU, "ps:restart", app], env)
        raw_sequence()
        for _ in range(runs):
            ours.append(timed([DOKKU, "ps:restart", app], env))
            raw.append(raw_sequence())
        docker("rm", "-f", old)
        dokku("apps:destroy", app, "--force")
        docker("image", "rm", f"{app}:source")
    ours_median, raw_median = statistics.median(ours), statistics.median(raw)
    return [
        row(
            "dokku ps:restart, 1 container (checks wait 0)", ours_median,
            "docker create+start+stop+rm", raw_median, "<= 1.2x",
        )
    ]  # fmt: skip


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
    lines.append(row("(walker, used when file systems are mounted inside) all to change", full["walker"],
                     "chown -R", full["chown"], "info"))  # fmt: skip
    lines.append(row("(walker) already owned", already["walker"], "find ! -user", already["find"], "info"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40, help="runs per CLI latency figure")
    parser.add_argument("--apps", type=int, default=1000, help="apps in the report-over-all-apps figure")
    parser.add_argument("--restarts", type=int, default=10, help="runs of ps:restart and of the raw sequence")
    parser.add_argument("--files", type=int, default=200_000, help="files in the ownership tree")
    parser.add_argument("--only", choices=("cli", "restart", "ownership"), help="run one group")
    options = parser.parse_args()

    lines: list[str] = []
    if options.only in (None, "cli"):
        lines += cli_latency(options.runs, options.apps)
    if options.only in (None, "restart"):
        lines += restart(options.restarts)
    if options.only in (None, "ownership"):
        lines += ownership(options.files, 3)
    print("pydokku benchmarks (medians; each figure and its floor measured alternately in one run)\n")
    print("| measured | time | floor | floor time | ratio | target |")
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
