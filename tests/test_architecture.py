"""The package's shape, read from the import graph of src/flywheel_sim (its source, not the
imported modules, so nothing has to be importable for the check to run).

Which imports count: every ``import`` and ``from ... import`` statement anywhere in a module,
at its top, inside a function and under ``if TYPE_CHECKING:``. A function-level import is a
dependency deferred for load time, not a different dependency: if the engine imported a study
inside a function, the engine would still need the studies to work. An import under
``TYPE_CHECKING`` is a dependency of the module's types, which mypy and every reader follow;
a circle there still makes the two modules one unit to understand. Only imports of
``flywheel_sim`` modules are edges. Not edges: a submodule's implicit import of its parent
packages (every package's ``__init__`` runs before its submodules; counting it would make
every package that imports its own submodules a circle) and imports by a string
(``importlib.import_module``). The two lazy tables that import by a string, in
``flywheel_sim`` and ``flywheel_sim.io.xmile``, repeat each name as an import under
``TYPE_CHECKING``, so their dependencies are edges all the same (tests/test_api.py checks that
the top-level table and its imports agree).

What is checked:

(a) no circle among modules;
(b) packages are layered: each top-level package imports only the packages ``ALLOWED`` grants
    it (the table itself has no circle), so there is no circle among packages either;
(c) no module imports another module's underscore name, neither ``from m import _name`` nor
    ``m._name`` on an imported module (a name shared across modules is public: it loses its
    underscore and gets a docstring);
(d) every package's ``__init__`` has a docstring saying what the package owns.

The layers follow the pipeline of docs/design.md (model file -> Model -> Program -> simulate ->
Dataset -> analyses -> presentation), one row per layer, each package allowed everything it
needs from the rows above it and nothing beside or below it:

- ``errors``, ``rng``, ``_types``, ``limits``: the exceptions, the counter-based hash, the shared
  type aliases and the size limits; they import nothing of ours (``limits`` only ``errors``,
  to refuse a bad ``FLYWHEEL_MAX_*`` variable), and every package may import ``errors``,
  ``_types`` and ``limits``.
- ``spec``: the model as frozen data and its expression language; only errors.
- ``io``: every file format; builds and writes Models, so spec. ``compile``: Model -> Program;
  spec and rng (the random builtins' seeds are compiled in). Neither needs the other.
- ``engine``: runs a Program: compile, spec, rng.
- ``loops``: the causal graph and dominance measure links along simulations: engine and below.
- ``store``: keeps runs; the model text and the stored results, so io and spec, and nothing
  that runs a model or defines a study (it stores what a study hands it).
- ``studies``: scenarios, sampling, batches, sensitivity, calibration: run the engine, read
  files, write batches to the store. Never a presenter (a study returns data; drawing it is
  ``present``'s).
- ``market``: the agent-based marketplace; runs its ensembles through the studies' executors
  and scenario files.
- ``diagnostics``: the strategist's questions, answered from loops, the engine and studies.
- ``present``: renders everything above it without a server; never web or cli.
- ``web``: the Dash server, over present and everything above.
- ``cli``: thin adapters over everything, including the server (``flywheel serve``).
- ``library``: package data, read with importlib.resources; it imports nothing.

The top-level ``flywheel_sim/__init__.py`` is the public API: its lazy table may point into
every package, so no package may import it (``from flywheel_sim import __version__`` in a
package makes a circle through the API).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "flywheel_sim"

BASE = {"errors", "_types", "version", "limits"}
ALLOWED: dict[str, set[str]] = {
    "_types": set(),
    "limits": {"errors"},
    "version": set(),
    "errors": set(),
    "rng": {"_types"},
    "library": set(),
    "spec": BASE,
    "io": BASE | {"spec"},
    "compile": BASE | {"rng", "spec"},
    "engine": BASE | {"rng", "spec", "compile"},
    "loops": BASE | {"rng", "spec", "compile", "engine"},
    "store": BASE | {"spec", "io"},
    "studies": BASE | {"rng", "spec", "io", "compile", "engine", "store"},
    "market": BASE | {"rng", "spec", "io", "compile", "engine", "studies"},
    "diagnostics": BASE | {"rng", "spec", "io", "compile", "engine", "loops", "studies"},
    "validation": BASE | {"spec", "io", "compile", "engine", "loops", "studies"},
    "present": BASE
    | {"rng", "spec", "io", "compile", "engine", "loops", "studies", "store", "market"}
    | {"diagnostics", "validation"},
    "web": BASE
    | {"rng", "spec", "io", "compile", "engine", "loops", "studies", "store", "market"}
    | {"diagnostics", "validation", "present"},
    "cli": BASE
    | {"rng", "spec", "io", "compile", "engine", "loops", "studies", "store", "market"}
    | {"diagnostics", "validation", "present", "web"},
}


@dataclass(frozen=True)
class Import:
    """One import of a flywheel_sim module: who imports, what, where."""

    source: str  # the importing module, dotted
    target: str  # the imported module (a package means its __init__)
    line: int
    name: str = ""  # the imported name, for ``from target import name``


def module_files() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = module_files()


def is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def imports_of(module: str) -> list[Import]:
    """Every import of a flywheel_sim module in ``module``, wherever the statement is."""
    tree = ast.parse(MODULES[module].read_text(), str(MODULES[module]))
    package = module if is_package(module) else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                Import(module, alias.name, node.lineno)
                for alias in node.names
                if alias.name == ROOT or alias.name.startswith(f"{ROOT}.")
            ]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, base] if base else parents)
            if base != ROOT and not base.startswith(f"{ROOT}."):
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in MODULES:  # ``from package import module``
                    found.append(Import(module, submodule, node.lineno))
                else:
                    found.append(Import(module, base, node.lineno, alias.name))
    return found


IMPORTS = [found for module in MODULES for found in imports_of(module)]


def package_of(module: str) -> str:
    """The top-level package (or module) a module belongs to; the root is ``flywheel_sim``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def circles(edges: list[tuple[str, str]]) -> list[str]:
    """Each group of nodes joined by a circle (strongly connected), with one circle in it."""
    graph = nx.DiGraph(edges)
    found = []
    for group in nx.strongly_connected_components(graph):
        start = min(group)
        if len(group) > 1 or graph.has_edge(start, start):
            cycle = nx.find_cycle(graph.subgraph(group), start)
            path = " -> ".join([a for a, _ in cycle] + [cycle[-1][1]])
            found.append(f"{', '.join(sorted(group))} (one circle: {path})")
    return sorted(found)


def test_the_graph_is_read() -> None:
    # the checks below pass vacuously on an empty graph: make sure it holds what we know
    assert {"flywheel_sim", "flywheel_sim.engine.simulate", "flywheel_sim.cli.app"} <= set(MODULES)
    edges = {(i.source, i.target) for i in IMPORTS}
    assert ("flywheel_sim.engine.simulate", "flywheel_sim.compile") in edges
    assert any(i.source == ROOT and i.target == "flywheel_sim.engine.simulate" for i in IMPORTS)
    assert {package_of(m) for m in MODULES} - {ROOT} <= set(ALLOWED)  # a new one needs a row


def test_circles_are_found() -> None:
    # the detector itself: a circle of three, a self-import, and a chain that is no circle
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "d"), ("d", "e"), ("e", "f")]
    assert circles(edges) == [
        "a, b, c (one circle: a -> b -> c -> a)",
        "d (one circle: d -> d)",
    ]


def test_no_circle_among_modules() -> None:
    edges = [(i.source, i.target) for i in IMPORTS if i.source != i.target]
    found = circles(edges)
    assert found == [], "\n".join(found)


def test_the_layer_table_has_no_circle() -> None:
    edges = [(package, needed) for package, needs in ALLOWED.items() for needed in needs]
    assert circles(edges) == []
    assert all(needed in ALLOWED for needs in ALLOWED.values() for needed in needs)


def test_packages_import_only_the_layers_below() -> None:
    wrong = sorted(
        {
            f"{i.source}:{i.line} imports {i.target} ({package_of(i.target)})"
            for i in IMPORTS
            if package_of(i.source) != ROOT
            and package_of(i.target) != package_of(i.source)
            and package_of(i.target) not in ALLOWED.get(package_of(i.source), set())
        }
    )
    assert wrong == [], "\n".join(wrong)


def test_no_circle_among_packages() -> None:
    edges = [
        (package_of(i.source), package_of(i.target))
        for i in IMPORTS
        if package_of(i.source) != package_of(i.target)
    ]
    found = circles(edges)
    assert found == [], "\n".join(found)


def private_uses(module: str) -> list[str]:
    """Underscore names ``module`` takes from another module: imported by name, or read as an
    attribute of an imported module."""
    found = [
        f"{module}:{i.line} imports {i.target}.{i.name}"
        for i in imports_of(module)
        if i.name.startswith("_") and not i.name.startswith("__")
    ]
    tree = ast.parse(MODULES[module].read_text())
    bound: dict[str, str] = {}  # local name -> the module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == ROOT:
                    # ``import a.b`` binds ``a``; ``import a.b as c`` binds ``c`` to a.b
                    local = alias.asname or ROOT
                    bound[local] = alias.name if alias.asname else ROOT
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == ROOT:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in MODULES:
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        if not node.attr.startswith("_") or node.attr.startswith("__"):
            continue
        chain = []  # ``flywheel_sim.a.b._c``: follow the dotted name down to its first part
        value = node.value
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name) and value.id in bound:
            owner = ".".join([bound[value.id], *reversed(chain)])
            found.append(f"{module}:{node.lineno} reads {owner}.{node.attr}")
    return sorted(found, key=lambda use: int(use.split(":")[1].split()[0]))


def test_private_uses_are_found(tmp_path: Path) -> None:
    # the scan itself, on a module that does each thing once (and one it may do)
    text = (
        "import flywheel_sim.engine.simulate\n"
        "import flywheel_sim.loops.find as lf\n"
        "from flywheel_sim.compile import emit\n"
        "from flywheel_sim.spec.model import _hidden, Model\n"
        "def f() -> None:\n"
        "    flywheel_sim.engine.simulate._seeds()\n"
        "    lf._rotate, emit._Emitter, emit.__name__, Model._fields\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(text)
    MODULES["flywheel_sim.probe"] = path
    try:
        found = private_uses("flywheel_sim.probe")
    finally:
        del MODULES["flywheel_sim.probe"]
    assert found == [
        "flywheel_sim.probe:4 imports flywheel_sim.spec.model._hidden",
        "flywheel_sim.probe:6 reads flywheel_sim.engine.simulate._seeds",
        "flywheel_sim.probe:7 reads flywheel_sim.loops.find._rotate",
        "flywheel_sim.probe:7 reads flywheel_sim.compile.emit._Emitter",
    ]


def test_no_module_imports_another_modules_underscore_names() -> None:
    found = [use for module in MODULES for use in private_uses(module)]
    assert found == [], "\n".join(found)


def test_every_package_says_what_it_owns() -> None:
    missing = [
        module
        for module in MODULES
        if is_package(module)
        and not (ast.get_docstring(ast.parse(MODULES[module].read_text())) or "").strip()
    ]
    assert missing == []
