"""Compile time and memory against model size (issue 18 item 3): load + compile of generated
models with 1,000, 8,000 and 50,000 variables.

Writes benchmarks/results/compile.json. Target: a 50,000-variable model compiles in under
5 s; ``met`` asks it of load + compile together (``total``), for both shapes. The emitter
used to scan every instance for every element: 8,000 variables took about a minute.

Two shapes of model, generated as YAML text and read with ``loads_model``:

- ``chain``: scalar variables in chains of a parameter, a stock, its inflow and two
  auxiliaries (each link reads the previous link's stock), so every variable is its own
  element with its own equation;
- ``arrayed``: the same five-variable chain over one dimension of n/5 elements, so the
  variables are instances of five arrayed elements: the parameter has a default per element,
  one auxiliary its own equation for every tenth element, and one scalar auxiliary sums
  the parameter over the dimension.

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
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
import flywheel_sim as fs  # noqa: E402
from flywheel_sim.compile import PROGRAMS  # noqa: E402
from flywheel_sim.spec.parser import _parse  # noqa: E402

SIZES = (1_000, 8_000, 50_000)
TARGET_SECONDS = 5.0
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


def load_average() -> float:
    return os.getloadavg()[0]


def timed(text: str, name: str) -> dict[str, float]:
    _parse.cache_clear()
    PROGRAMS.clear()
    gc.collect()
    load_before = load_average()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    model = fs.loads_model(text, name=name)
    cpu1, wall1 = time.process_time(), time.perf_counter()
    program = fs.compile_model(model)
    cpu2, wall2 = time.process_time(), time.perf_counter()
    return {
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


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    timed(chain_model(100), "warm-up")
    rows = []
    for n in sizes:
        for shape, build in (("chain", chain_model), ("arrayed", arrayed_model)):
            row = {"shape": shape, "variables": n, **timed(build(n), f"{shape}{n}")}
            print(json.dumps(row), flush=True)
            rows.append(row)
    biggest = max(sizes)
    mem = memory(biggest)
    print(json.dumps(mem), flush=True)
    worst = max(r["total_wall_s"] for r in rows if r["variables"] == biggest)
    report = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "rows": rows,
        "memory_arrayed": mem,
        "target": {"variables": 50_000, "max_load_and_compile_seconds": TARGET_SECONDS},
        "met": biggest >= 50_000 and worst < TARGET_SECONDS,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "compile.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
