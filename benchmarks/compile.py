"""Compile time and memory against model size (issue 18 item 3, issue 21): load + compile of
generated models with 1,000, 8,000 and 50,000 variables (two simple shapes) and 3,000, 9,000
and 30,000 variables (a mixed shape, from YAML and from XMILE).

Writes benchmarks/results/compile.json. Targets: a 50,000-variable model of the simple shapes
loaded and compiled in under 5 s (``met``), and a 30,000-variable mixed model in under 3 s
(``met_mixed``, both routes). The emitter used to scan every instance for every element
(8,000 variables took about a minute), and the compiler scanned a dimension's tuple of
elements for every element of an equation over it (n^2 in the size of a dimension).

Three shapes of model, generated as YAML text and read with ``loads_model``:

- ``chain``: scalar variables in chains of a parameter, a stock, its inflow and two
  auxiliaries (each link reads the previous link's stock), so every variable is its own
  element with its own equation;
- ``arrayed``: the same five-variable chain over one dimension of n/5 elements, so the
  variables are instances of five arrayed elements: the parameter has a default per element,
  one auxiliary its own equation for every tenth element, and one scalar auxiliary sums
  the parameter over the dimension;
- ``mixed``: sectors of 34 variables as real models have them: parameters with ranges (one
  per region of a 4-element dimension), a graphical function, a non-negative stock with two
  inflows and two outflows, a backlog and an arrayed population, a flow through DELAY3,
  auxiliaries through SMTH1, SMTH3 and TREND and an inline lookup, a sum over the regions,
  subscripted references (``pop[r1]``), an arrayed auxiliary with an own equation for one
  element, and references to the previous sector and to one further back. It is also written
  with ``save_xmile`` and read back with ``load_model`` (the ``xmile`` route). "Variables"
  counts the scalar variables the model declares; ``slots`` adds the delays' and smooths'
  hidden ones.

What is timed: ``loads_model`` (YAML parse, equations parsed, Model built and validated) and
``compile_model`` (scalarise, expand, order, emit), with the parser's and compiler's caches
cleared first; CPU time (``time.process_time``) and wall clock, and the 1-minute load average
before and after (the machine is shared). ``memory`` is the peak of Python allocations
(tracemalloc) during load + compile of the arrayed model and what stays allocated for its
Program, per scalar variable.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
import flywheel_sim as fs  # noqa: E402
from flywheel_sim.compile import PROGRAMS  # noqa: E402
from flywheel_sim.spec.parser import _parse  # noqa: E402

SIZES = (1_000, 8_000, 50_000)
TARGET_SECONDS = 5.0
MIXED_SIZES = (3_000, 9_000, 30_000)
MIXED_SECONDS = 3.0
REPEATS = 2  # the mixed shape: each size and route timed twice, the faster run kept
LINK = 5  # variables per link of a chain


def chain_model(n: int) -> str:
    """A YAML model of n scalar variables (n a multiple of LINK)."""
    links = n // LINK
    params, stocks, flows, auxes = [], [], [], []
    for i in range(links):
        prev = f"s{i - 1}" if i else "1"
        params.append(f"  k{i}: {{default: 0.0{1 + i % 9}}}")
        stocks.append(f"  s{i}: {{initial: 1, inflows: [f{i}]}}")
        flows.append(f"  f{i}: {{equation: k{i} * a{i}}}")
        auxes.append(f"  a{i}: {{equation: {prev} - b{i}}}")
        auxes.append(f'  b{i}: {{equation: "MIN(s{i}, 10) / 2"}}')
    return "\n".join(
        [
            f"name: chain{n}",
            "time: {start: 0, stop: 10, dt: 1}",
            "parameters:",
            *params,
            "stocks:",
            *stocks,
            "flows:",
            *flows,
            "auxiliaries:",
            *auxes,
            "",
        ]
    )


def arrayed_model(n: int) -> str:
    """A YAML model of the same chain over one dimension: n scalar instances."""
    size = n // LINK
    defaults = ", ".join(f"{i}: 0.0{1 + i % 9}" for i in range(1, size + 1))
    own = ", ".join(f'{i}: "s[{i}] / 3"' for i in range(1, size + 1, 10))
    return f"""name: arrayed{n}
time: {{start: 0, stop: 10, dt: 1}}
dimensions:
  d: {size}
parameters:
  k: {{default: {{{defaults}}}, dims: [d]}}
stocks:
  s: {{initial: 1, inflows: [f], dims: [d]}}
flows:
  f: {{equation: k * a, dims: [d]}}
auxiliaries:
  a: {{equation: 1 - b, dims: [d]}}
  b: {{equation: "MIN(s, 10) / 2 + total_k / {size}", dims: [d], elements: {{{own}}}}}
  total_k: {{equation: "SUM(k[*])"}}
"""


REGIONS = ("r1", "r2", "r3", "r4")
SECTION_NAMES = ("parameters", "lookups", "stocks", "flows", "auxiliaries")
PER_SECTOR = 34  # scalar variables of one sector of the mixed shape


def mixed_sector(i: int) -> dict[str, list[str]]:
    """Sector ``i`` of the mixed shape: 34 scalar variables (12 elements, 4 of them arrayed)
    and one graphical function."""
    p, source = f"s{i}", f"s{i - 1}_stock" if i else "1"
    mix = f"IF_THEN_ELSE({p}_gap > 0, {p}_trend, s{i // 2}_gap)" if i > 1 else f"{p}_trend"
    shares = ", ".join(f"{r}: 0.{n}" for n, r in enumerate(REGIONS, 1))
    return {
        "parameters": [
            f"{p}_rate: {{default: 0.{1 + i % 8}, min: 0, max: 1, unit: 1/year}}",
            f"{p}_time: {{default: {2 + i % 5}, min: 0.5, max: 20, unit: year}}",
            f"{p}_target: {{default: {100 + i % 37}, min: 10, max: 1000}}",
            f"{p}_share: {{default: {{{shares}}}, dims: [region], min: 0, max: 1}}",
        ],
        "lookups": [f"{p}_effect: {{points: [[0, 0.2], [0.5, 0.6], [1, 1], [2, 1.3], [5, 1.5]]}}"],
        "stocks": [
            f"{p}_stock: {{initial: {p}_target / 2, inflows: [{p}_in, {p}_gain], "
            f"outflows: [{p}_out, {p}_loss], non_negative: true}}",
            f"{p}_backlog: {{initial: 10, inflows: [{p}_out], outflows: [{p}_done]}}",
            f"{p}_pop: {{initial: 5, inflows: [{p}_growth], dims: [region]}}",
        ],
        "flows": [
            f'{p}_in: {{equation: "{p}_rate * {p}_effect({source} / {p}_target) * 10"}}',
            f'{p}_gain: {{equation: "MAX(0, {p}_gap) / {p}_time"}}',
            f"{p}_out: {{equation: {p}_stock / {p}_time}}",
            f'{p}_loss: {{equation: "{p}_stock * 0.01 + PULSE(1, 5)", non_negative: true}}',
            f'{p}_done: {{equation: "DELAY3({p}_out, {p}_time)"}}',
            f'{p}_growth: {{equation: "{p}_share * {p}_smooth - {p}_pop / 10", dims: [region]}}',
        ],
        "auxiliaries": [
            f"{p}_gap: {{equation: {p}_target - {p}_stock}}",
            f'{p}_smooth: {{equation: "SMTH1({p}_in, {p}_time)"}}',
            f'{p}_smooth3: {{equation: "SMTH3({p}_stock, 4, 1)"}}',
            f'{p}_trend: {{equation: "TREND({p}_backlog, 3, 0)"}}',
            f'{p}_total: {{equation: "SUM({p}_pop[*])"}}',
            f'{p}_pressure: {{equation: "{p}_backlog / {p}_time + STEP(2, 10)", '
            "lookup: {points: [[0, 1], [10, 0.8], [100, 0.3]]}}",
            f'{p}_mix: {{equation: "{mix} + {p}_pressure"}}',
            f'{p}_first: {{equation: "{p}_pop[r1] + {p}_pop[r4]"}}',
            f'{p}_per: {{equation: "{p}_pop * 2", dims: [region], '
            f'elements: {{r1: "{p}_pop[r1] / 3"}}}}',
        ],
    }


def mixed_model(n: int) -> str:
    """A YAML model of the mixed shape with about n scalar variables (whole sectors)."""
    sections: dict[str, list[str]] = {name: [] for name in SECTION_NAMES}
    for i in range(max(1, round(n / PER_SECTOR))):
        for name, lines in mixed_sector(i).items():
            sections[name] += [f"  {line}" for line in lines]
    head = [
        f"name: mixed{n}",
        "time: {start: 0, stop: 20, dt: 0.25, units: year}",
        "dimensions:",
        f"  region: [{', '.join(REGIONS)}]",
    ]
    return "\n".join(head + [f"{k}:\n" + "\n".join(v) for k, v in sections.items()]) + "\n"


def load_average() -> float:
    return os.getloadavg()[0]


def timed(load: Callable[[], fs.Model]) -> dict[str, float]:
    """Load (``load()``) and compile once, the parser's and compiler's caches cleared."""
    _parse.cache_clear()
    PROGRAMS.clear()
    gc.collect()
    load_before = load_average()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    model = load()
    cpu1, wall1 = time.process_time(), time.perf_counter()
    program = fs.compile_model(model)
    cpu2, wall2 = time.process_time(), time.perf_counter()
    return {
        "declared": sum(len(v.slots) for v in program.variables),
        "slots": program.n_slots,
        "load_cpu_s": round(cpu1 - cpu0, 3),
        "load_wall_s": round(wall1 - wall0, 3),
        "compile_cpu_s": round(cpu2 - cpu1, 3),
        "compile_wall_s": round(wall2 - wall1, 3),
        "total_cpu_s": round(cpu2 - cpu0, 3),
        "total_wall_s": round(wall2 - wall0, 3),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(load_average(), 2),
    }


def best_of(load: Callable[[], fs.Model], repeats: int = REPEATS) -> dict[str, float]:
    """The run with the least total wall time of ``repeats`` (the machine is shared)."""
    return min((timed(load) for _ in range(repeats)), key=lambda r: r["total_wall_s"])


def mixed_rows(sizes: list[int], folder: Path) -> list[dict[str, Any]]:
    """The mixed shape from YAML text and from the XMILE file ``save_xmile`` writes."""
    rows = []
    for n in sizes:
        text = mixed_model(n)
        path = fs.save_xmile(fs.loads_model(text, name=f"mixed{n}"), folder / f"mixed{n}.xmile")
        routes = {
            "yaml": lambda text=text, n=n: fs.loads_model(text, name=f"mixed{n}"),
            "xmile": lambda path=path: fs.load_model(path),
        }
        for route, load in routes.items():
            row = {"shape": "mixed", "route": route, "variables": n, **best_of(load)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def memory(n: int) -> dict[str, float]:
    """Peak and retained Python allocations of load + compile of the arrayed model."""
    text = arrayed_model(n)
    _parse.cache_clear()
    PROGRAMS.clear()
    gc.collect()
    tracemalloc.start()
    model = fs.loads_model(text, name="memory")
    program = fs.compile_model(model)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del model
    return {
        "variables": program.n_slots,
        "peak_bytes_per_variable": round(peak / program.n_slots),
        "retained_bytes_per_variable": round(current / program.n_slots),
    }


def simple_rows(sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        for shape, build in (("chain", chain_model), ("arrayed", arrayed_model)):
            text = build(n)
            load = lambda text=text, name=f"{shape}{n}": fs.loads_model(text, name=name)  # noqa: E731
            row = {"shape": shape, "route": "yaml", "variables": n, **best_of(load, 1)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def main() -> None:
    """``compile.py [SIZE ...]``: the simple shapes at these sizes (default 1,000, 8,000 and
    50,000); ``compile.py mixed [SIZE ...]``: the mixed shape only (default 3,000, 9,000 and
    30,000)."""
    mixed_only = sys.argv[1:2] == ["mixed"]
    args = [int(a) for a in sys.argv[1 + mixed_only :]]
    sizes = [] if mixed_only else args or list(SIZES)
    mixed_sizes = args or list(MIXED_SIZES) if mixed_only else list(MIXED_SIZES)
    timed(lambda: fs.loads_model(mixed_model(340), name="warm-up"))
    rows = simple_rows(sizes)
    with tempfile.TemporaryDirectory() as tmp:
        rows += mixed_rows(mixed_sizes, Path(tmp))
    report: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    if sizes:
        biggest = max(sizes)
        report["memory_arrayed"] = memory(biggest)
        print(json.dumps(report["memory_arrayed"]), flush=True)
        worst = max(r["total_wall_s"] for r in rows if r["variables"] == biggest)
        report["target"] = {"variables": 50_000, "max_load_and_compile_seconds": TARGET_SECONDS}
        report["met"] = biggest >= 50_000 and worst < TARGET_SECONDS
    largest = [r for r in rows if r["shape"] == "mixed" and r["variables"] == max(mixed_sizes)]
    report["target_mixed"] = {"variables": 30_000, "max_load_and_compile_seconds": MIXED_SECONDS}
    report["met_mixed"] = max(mixed_sizes) >= 30_000 and all(
        r["total_wall_s"] < MIXED_SECONDS for r in largest
    )
    report["rows"] = rows
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "compile.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
