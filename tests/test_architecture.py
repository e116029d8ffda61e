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
