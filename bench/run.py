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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40, help="runs per latency figure")
    parser.add_argument("--apps", type=int, default=1000, help="apps in the report-over-all-apps figure")
    options = parser.parse_args()

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
            options.runs,
        )
        for n in range(1, options.apps):
            dokku("apps:create", f"app-{n:05d}")
            for m in range(3):
                dokku("storage:mount", f"app-{n:05d}", f"{root}/data{m}:/app/data{m}")
        report_all = statistics.median(timed([DOKKU, "storage:report"], env) for _ in range(5))

    floor = medians["python -c pass"]
    print(f"pydokku benchmarks ({options.runs} interleaved runs per latency, medians)\n")
    print("| measured | time | floor | floor time | ratio | target |")
    print("|---|---|---|---|---|---|")
    for name in ("dokku storage:list <app>", "dokku storage:report <app>"):
        print(row(name, medians[name], "python -c pass", floor, "<= 2.5x"))
    print(
        f"| dokku storage:report, {options.apps} apps x 3 mounts | {report_all * 1000:.1f} ms"
        f" | target | 500.0 ms | {report_all / 0.5:.2f}x | < 1.00x |"
    )


if __name__ == "__main__":
    main()
