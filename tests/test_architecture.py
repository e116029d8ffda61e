"""The layers keep their seams (read from the source's imports): plugins reach the scheduler only through
its interface, schedulers and plugins reach a plugin only through its package's exports, and only the
engine layer runs Docker."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "pydokku"


def imports() -> list[tuple[str, str]]:
    """(importing module, imported module or module.name) for every import in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found += [(module, node.module)] + [(module, f"{node.module}.{alias.name}") for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(module, alias.name) for alias in node.names]
    return found


def is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative / "__init__.py").exists()


def test_plugins_reach_the_scheduler_only_through_its_interface():
    allowed = {"pydokku.scheduler", "pydokku.scheduler.plan"}  # the interface, and pure planning (Procfiles)
    wrong = [
        (module, name)
        for module, name in imports()
        if module.startswith("pydokku.plugins.") and name.startswith("pydokku.scheduler.") and is_module(name)
        and name not in allowed
    ]  # fmt: skip
    assert wrong == []


def test_a_plugin_is_reached_only_through_its_package():
    wrong = []
    for module, name in imports():
        if not name.startswith("pydokku.plugins.") or len(name.split(".")) < 4 or not is_module(name):
            continue
        owner = name.split(".")[2]
        inside = module.startswith(f"pydokku.plugins.{owner}.") or module == f"pydokku.plugins.{owner}"
        if not inside:
            wrong.append((module, name))
    assert wrong == []


def test_only_the_engine_layer_runs_docker():
    """`docker` command lines are built in engine/ (other code asks it for them); the Engine API too."""
    wrong = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "engine" not in path.relative_to(PACKAGE).parts
        and ('["docker"' in path.read_text() or "engine.api" in path.read_text())
    ]
    assert wrong == []


def test_read_commands_import_nothing_heavy(dokku, app, host_dir, env):  # type: ignore[no-untyped-def]
    """Start-up is a feature (read commands within 2x `python -c pass`): storage:list and storage:report of
    an app with a colon mount and a named entry load neither json (and the re it pulls in) nor a plugin
    they do not need."""
    import subprocess
    import sys

    dokku("storage:mount", app, f"{host_dir}:/app/data")
    dokku("storage:create", "uploads")
    dokku("storage:mount", app, "uploads", "--container-dir", "/app/uploads")
    probe = (
        "import sys\n"
        "from pydokku.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "sys.stdout.flush()\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
        "raise SystemExit(code)\n"
    )
    heavy = {"json", "re", "subprocess", "tempfile", "shlex", "dataclasses", "typing", "pathlib", "socket"}
    for command in ("storage:list", "storage:report"):
        run = subprocess.run(
            [sys.executable, "-S", "-c", probe, command, app],
            capture_output=True,
            text=True,
            env=env.variables | {"PYTHONPATH": str(PACKAGE.parent)},
            check=True,
        )
        loaded = set(run.stderr.split())
        assert loaded & heavy == set(), command
        assert {m for m in loaded if m.startswith("pydokku.plugins.")} <= {
            "pydokku.plugins.apps",
            "pydokku.plugins.docker_options",
            "pydokku.plugins.docker_options.volumes",
            "pydokku.plugins.scheduler",
            "pydokku.plugins.scheduler_docker_swarm",
            "pydokku.plugins.storage",
            "pydokku.plugins.storage.chown",
            "pydokku.plugins.storage.commands",
            "pydokku.plugins.storage.entries",
            "pydokku.plugins.storage.spec",
            "pydokku.plugins.storage.subcommands",
            "pydokku.plugins.storage.swarm_entries",
        }, command
