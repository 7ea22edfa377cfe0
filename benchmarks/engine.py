"""Engine benchmark: flywheel-sim against PySD and pysimlin on the SIR model, side by side.

Writes benchmarks/results/engine.json. Run with `make bench` (installs the peers) or
`python benchmarks/engine.py`. Every figure is measured in this one process (peers too), so
the ratios compare like with like on the same machine at the same time.

Measured:
- compile: our load+compile of the SIR model (YAML), and compile alone;
- import: `import flywheel_sim` in a fresh interpreter (median of 5);
- one run, like for like: `simulate()` (every variable at every step, as an xarray Dataset)
  against the peers' full-result calls (PySD `run()`, pysimlin `Model.run()`), and our VM
  alone (no result assembly) against their fastest paths (PySD `run()` keeping only the final
  value, pysimlin's compiled `Sim.run_to_end()`);
- 10,000 runs with different parameters in one `simulate` call, per-run time against the
  peers' per-run time when each run sets new parameters;
- memory: peak RSS of a fresh process running a 10,000-run ensemble that saves 10 variables
  at 501 times.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

import flywheel_sim as fs
from flywheel_sim.engine.grid import time_grid
from flywheel_sim.engine.integrators import tableau
from flywheel_sim.engine.params import parameter_matrix, run_seeds
from flywheel_sim.engine.simulate import execute

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import peers  # noqa: E402
from timing import median_seconds  # noqa: E402

N_ENSEMBLE = 10_000


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import flywheel_sim; print(time.perf_counter()-t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    return statistics.median(runs)


MEMORY_SCRIPT = """
import resource, numpy as np, flywheel_sim as fs
m = fs.loads_model(open({path!r}).read())
rng = np.random.default_rng(0)
p = {{"contact_infectivity": rng.uniform(0.1, 0.5, {n}), "duration": rng.uniform(2, 10, {n})}}
r = fs.simulate(m, p, dt=0.025, save_step=0.2)
assert len(r.data_vars) == 10 and r.sizes["time"] == 501
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, r.nbytes)
"""

TEN_VARIABLES = """
name: sir10
time: {start: 0, stop: 100, dt: 0.03125, units: day}
parameters:
  total_population: {default: 1000}
  contact_infectivity: {default: 0.3}
  duration: {default: 5}
stocks:
  susceptible: {initial: total_population, outflows: [succumbing]}
  infectious: {initial: 5, inflows: [succumbing], outflows: [recovering]}
  recovered: {initial: 0, inflows: [recovering]}
flows:
  succumbing: {equation: susceptible * infectious / total_population * contact_infectivity}
  recovering: {equation: infectious / duration}
auxiliaries:
  prevalence: {equation: infectious / total_population}
  attack_rate: {equation: recovered / total_population}
  reproduction: {equation: contact_infectivity * duration * susceptible / total_population}
  incidence_per_1000: {equation: succumbing * 1000 / total_population}
  cumulative_cases: {equation: infectious + recovered}
"""


def memory_figures(tmp: Path) -> dict[str, float]:
    path = tmp / "sir10.yaml"
    path.write_text(TEN_VARIABLES)
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT.format(path=str(path), n=N_ENSEMBLE)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {"peak_rss_bytes": float(out[0]), "result_bytes": float(out[1])}


def ours(model: fs.Model) -> dict[str, float]:
    program = fs.compile_model(model)
    figures: dict[str, float] = {}
    figures["compile_seconds"] = median_seconds(lambda: fs.compile_model.__wrapped__(model), 20)  # type: ignore[attr-defined]
    figures["load_and_compile_seconds"] = median_seconds(
        lambda: fs.compile_model.__wrapped__(fs.load_model("sir")), 20
    )  # type: ignore[attr-defined]
    figures["one_run_simulate_seconds"] = median_seconds(lambda: fs.simulate(program), 50)
    grid = time_grid(program, stop=None, dt=None, save_step=None)
    matrix, _ = parameter_matrix(program, None, "error")
    slots = np.array([s for v in program.variables if v.kind != "parameter" for s in v.slots])
    seeds = run_seeds(0, 1)
    figures["one_run_vm_seconds"] = median_seconds(
        lambda: execute(program, tableau("euler"), matrix, seeds, grid, slots, fs.Options()), 50
    )
    figures["one_run_numpy_backend_seconds"] = median_seconds(
        lambda: fs.simulate(program, options=fs.Options(backend="numpy")), 5
    )
    rng = np.random.default_rng(0)
    params = {
        "contact_infectivity": rng.uniform(0.1, 0.5, N_ENSEMBLE),
        "duration": rng.uniform(2.0, 10.0, N_ENSEMBLE),
    }
    ensemble = median_seconds(lambda: fs.simulate(program, params, save_step=1.0), 3)
    figures["ensemble_seconds"] = ensemble
    figures["ensemble_per_run_seconds"] = ensemble / N_ENSEMBLE
    figures["final_infectious"] = float(fs.simulate(program).infectious.values[0, -1])
    return figures


def peer_figures() -> dict[str, dict[str, float] | str]:
    out: dict[str, dict[str, float] | str] = {}
    path = peers.MODEL_PATH
    try:
        out["pysd"] = {
            "load_seconds": peers.pysd_load_seconds(path, 5),
            "one_run_seconds": peers.pysd_run_seconds(path, 10),
            "one_run_full_output_seconds": peers.pysd_full_run_seconds(path, 5),
            "per_run_varied_seconds": peers.pysd_per_run_seconds_varied(path, 20, 0),
            "final_infectious": peers.pysd_final_infectious(path, 0.3, 5.0),
        }
    except RuntimeError as exc:
        out["pysd"] = str(exc)
    try:
        out["pysimlin"] = {
            "load_seconds": peers.pysimlin_load_seconds(path, 50),
            "one_run_seconds": peers.pysimlin_run_seconds(path, 50),
            "one_run_full_output_seconds": peers.pysimlin_full_run_seconds(path, 50),
            "per_run_varied_seconds": peers.pysimlin_per_run_seconds_varied(path, 500, 0),
            "final_infectious": peers.pysimlin_final_infectious(path, 0.3, 5.0),
        }
    except RuntimeError as exc:
        out["pysimlin"] = str(exc)
    return out


def ratios(mine: dict[str, float], others: dict[str, dict[str, float] | str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, figures in others.items():
        if isinstance(figures, str):
            continue
        out[f"one_run_speedup_vs_{name}_simulate"] = (
            figures["one_run_full_output_seconds"] / mine["one_run_simulate_seconds"]
        )
        out[f"one_run_speedup_vs_{name}_vm"] = (
            figures["one_run_seconds"] / mine["one_run_vm_seconds"]
        )
        out[f"one_run_slowdown_vs_{name}_simulate"] = 1 / out[f"one_run_speedup_vs_{name}_simulate"]
        out[f"one_run_slowdown_vs_{name}_vm"] = 1 / out[f"one_run_speedup_vs_{name}_vm"]
        out[f"per_run_throughput_vs_{name}"] = (
            figures["per_run_varied_seconds"] / mine["ensemble_per_run_seconds"]
        )
        out[f"final_infectious_difference_vs_{name}"] = abs(
            figures["final_infectious"] - mine["final_infectious"]
        )
    return out


def main() -> None:
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    model = fs.load_model("sir")
    mine = ours(model)
    mine["import_seconds"] = import_seconds()
    mine.update(memory_figures(results))
    others = peer_figures()
    report = {
        "model": "SIR (benchmarks/models/SIR.xmile; ours: built-in sir.yaml), Euler, dt 1/32, "
        "3,200 steps",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "versions": {"flywheel_sim": fs.__version__, **peers.peer_versions()},
        "flywheel_sim": mine,
        "peers": others,
        "ratios": ratios(mine, others),
        "targets": {
            "one_run_vs_pysd_min": 50,
            "one_run_vs_pysimlin_max_slowdown": 2,
            "ensemble_vs_pysd_min": 500,
            "ensemble_vs_pysimlin_min": 20,
            "compile_max_seconds": 0.1,
            "import_max_seconds": 0.5,
            "ensemble_memory_max_bytes": 1 << 30,
        },
    }
    (results / "engine.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
