"""Compile and run time of Vensim's allocations and INVERT MATRIX (compile/allocate.py,
compile/vectors.py, compile/matrices.py).

Writes benchmarks/results/allocate.json. Cases:

- ``case``: SDXorg's ``allocate_available`` conformance model (tests/mdl/; 37 allocations of
  3 or 4 requesters, 101 evaluations);
- ``available-n``, ``priority-n``: one ALLOCATE_AVAILABLE (profile types 1 to 4 in turn) or
  ALLOCATE_BY_PRIORITY over n requesters, with a supply that changes every step (11 steps);
- ``invert-n``: INVERT_MATRIX of an n x n matrix that changes every step (11 steps).

What is timed (CPU time, ``time.process_time``): loading the model, compiling it (the
program cache cleared first), and simulating one run on each VM after a first run (so
numba's compilation is not counted). ``ops`` is the length of the step code. Before the
bisection of an allocation became one VM op (ops.AVAILABLE / ops.PRIORITY), the case took
about 7 s to compile and 38 s to run on the NumPy VM (777,662 step instructions).

Run: ``python benchmarks/allocate.py [case available-10 ...]``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
import flywheel_sim as fs  # noqa: E402
from flywheel_sim import Options  # noqa: E402
from flywheel_sim.compile import PROGRAMS, compile_model  # noqa: E402

CASE = (
    HERE.parent
    / "tests/mdl/tests__allocate_available__test_allocate_available/test_allocate_available.mdl"
)
HEAD = "time: {{start: 0, stop: 10, dt: 1}}\ndimensions:\n  d: [{names}]\n"


def _per_element(n: int, value: Callable[[int], float]) -> str:
    return "{" + ", ".join(f'"e{i}": {value(i):g}' for i in range(n)) + "}"


def available(n: int) -> str:
    """One ALLOCATE_AVAILABLE over n requesters, profile types 1, 2, 3, 4 in turn."""
    return HEAD.format(names=", ".join(f"e{i}" for i in range(n))) + (
        "parameters:\n"
        f"  req: {{dims: [d], default: {_per_element(n, lambda i: 10 + i % 7)}}}\n"
        f"  typ: {{dims: [d], default: {_per_element(n, lambda i: 1 + i % 4)}}}\n"
        f"  pri: {{dims: [d], default: {_per_element(n, lambda i: 1 + (i * 37) % 11)}}}\n"
        f"  wid: {{dims: [d], default: {_per_element(n, lambda i: 1 + i % 3)}}}\n"
        "auxiliaries:\n"
        f'  supply: {{equation: "{n} * 5 + TIME * {n}"}}\n'
        "  alloc: {dims: [d], equation: "
        '"ALLOCATE_AVAILABLE(req[*], typ[*], pri[*], wid[*], supply)"}\n'
    )


def priority(n: int) -> str:
    """One ALLOCATE_BY_PRIORITY over n requesters."""
    return HEAD.format(names=", ".join(f"e{i}" for i in range(n))) + (
        "parameters:\n"
        f"  req: {{dims: [d], default: {_per_element(n, lambda i: 10 + i % 7)}}}\n"
        f"  pri: {{dims: [d], default: {_per_element(n, lambda i: 1 + (i * 37) % 11)}}}\n"
        "auxiliaries:\n"
        f'  supply: {{equation: "{n} * 5 + TIME * {n}"}}\n'
        f'  alloc: {{dims: [d], equation: "ALLOCATE_BY_PRIORITY(req[*], pri[*], {n}, 3, '
        'supply)"}\n'
    )


def invert(n: int) -> str:
    """INVERT_MATRIX of a diagonally dominant n x n matrix that grows with time."""
    cells = ", ".join(
        f'"r{i},c{j}": {(1 + (i * 7 + j * 3) % 5) + (10 if i == j else 0)}'
        for i in range(n)
        for j in range(n)
    )
    return (
        "time: {start: 0, stop: 10, dt: 1}\ndimensions:\n"
        f"  row: [{', '.join(f'r{i}' for i in range(n))}]\n"
        f"  col: [{', '.join(f'c{i}' for i in range(n))}]\n"
        f"parameters:\n  m0: {{dims: [row, col], default: {{{cells}}}}}\n"
        "auxiliaries:\n"
        '  m: {dims: [row, col], equation: "m0 * (1 + TIME / 100)"}\n'
        f'  inv: {{dims: [row, col], equation: "INVERT_MATRIX(m[*, *], {n})"}}\n'
    )


def _cpu(f: Callable[[], Any]) -> tuple[Any, float]:
    start = time.process_time()
    out = f()
    return out, time.process_time() - start


def measure(load: Callable[[], fs.Model]) -> dict[str, float]:
    PROGRAMS.clear()
    model, loading = _cpu(load)
    program, compiling = _cpu(lambda: compile_model(model))
    row = {"load_s": loading, "compile_s": compiling, "ops": len(program.step_code) // 2}
    for backend in ("numpy", "numba"):
        options = Options(backend=backend)
        fs.simulate(model, options=options)
        _, running = _cpu(lambda: fs.simulate(model, options=options))  # noqa: B023
        row[f"run_{backend}_s"] = running
    return row


def loader(name: str) -> Callable[[], fs.Model]:
    if name == "case":
        return lambda: fs.load_model(CASE)
    kind, _, size = name.partition("-")
    make = {"available": available, "priority": priority, "invert": invert}[kind]
    return lambda: fs.loads_model(make(int(size)))


def main(names: list[str]) -> None:
    cases = names or [
        "case",
        *(f"{kind}-{n}" for kind in ("available", "priority") for n in (10, 50)),
        "invert-10",
        "invert-12",
    ]
    results = {}
    for name in cases:
        results[name] = row = measure(loader(name))
        print(f"{name:14s} " + "  ".join(f"{k} {v:.3g}" for k, v in row.items()), flush=True)
    out = HERE / "results" / "allocate.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
