"""The engine's modules import one another in one direction, and only public names."""

from __future__ import annotations

import ast
from graphlib import TopologicalSorter
from pathlib import Path

import flywheel_sim

SRC = Path(flywheel_sim.__file__).resolve().parent
ENGINE = SRC / "engine"


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every import in the file, at any depth (lazy imports too)."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.module, alias.name) for alias in node.names]
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in ENGINE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for module, imported in _imports(path):
            for target in (f"{module}.{imported}", module):  # a submodule, or the module
                if target in modules and target != name:
                    graph[name].add(target)
                    break
    return graph


def test_the_engine_has_no_import_circle() -> None:
    graph = _graph()
    assert "flywheel_sim.engine.vm.block" in graph
    order = list(TopologicalSorter(graph).static_order())  # CycleError on a circle
    assert set(order) == set(graph)
    block, scalar = "flywheel_sim.engine.vm.block", "flywheel_sim.engine.vm.scalar"
    assert scalar not in graph[block] and block not in graph[scalar]
    assert "flywheel_sim.engine.simulate" not in graph["flywheel_sim.engine.result"]


def test_no_engine_module_imports_a_private_name() -> None:
    for path in ENGINE.rglob("*.py"):
        for module, name in _imports(path):
            if module.startswith("flywheel_sim") and name is not None:
                assert not name.startswith("_"), f"{_module(path)} imports {module}.{name}"
