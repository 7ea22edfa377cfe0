"""Engine benchmark (issue 21): flywheel-sim beside pysimlin and PySD, every target in one run.

Writes benchmarks/results/engine.json (and engine_runs.png, the per-run cost curve, when
matplotlib is installed). What each section and figure means, and how to run it:
docs/benchmarks.md. Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/engine.py [--quick] [--only one_run,curve]
        [--peers-python /path/to/peers/bin/python]

Sections (``--only``): one_run, curve, ensemble, models, compile, fresh. Ours is measured
through the public API (``simulate``, ``compile_model``, ``load_model``, ``save_xmile``) and,
for "VM alone", the internal ``execute``; a peer runs in this process when importable, else in
``--peers-python`` (benchmarks/peers.py as a script).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import flywheel_sim as fs
from flywheel_sim.engine.grid import time_grid
from flywheel_sim.engine.integrators import tableau
from flywheel_sim.engine.params import parameter_matrix, run_seeds
from flywheel_sim.engine.simulate import execute

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import engine_targets  # noqa: E402
import peers  # noqa: E402
from engine_models import VARIED, generate  # noqa: E402
from timing import load_average, timed  # noqa: E402

SECTIONS = ("one_run", "curve", "ensemble", "models", "compile", "fresh")
CURVE_SIZES = (1, 2, 4, 8, 16, 31, 32, 33, 64, 100, 1_000, 10_000, 100_000)
SIR_VARIED = {"contact_infectivity": (0.1, 0.5), "duration": (2.0, 10.0)}
AMAZON_VARIED = {"shoppers_growth": (0.3, 0.5), "reinvest_share": (0.5, 1.0)}
TIMEOUT = 1800
OPTIONS = fs.Options(limits=fs.Limits(max_cells=10**13))  # the benchmark sizes its ensembles


class Case:
    """One model, ours compiled and exported to XMILE for the peers."""

    def __init__(self, name: str, model: fs.Model, xmile: Path, varied: dict[str, Any], var: str):
        self.name, self.model, self.xmile, self.varied, self.var = name, model, xmile, varied, var
        self.program = fs.compile_model(model)
        self.variables = len(model.elements)

    def params(self, n: int, seed: int = 0) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        return {k: rng.uniform(lo, hi, n) for k, (lo, hi) in self.varied.items()}


class Peers:
    """Sends requests to benchmarks/peers.py: here when its tool imports, else in a child."""

    def __init__(self, python: str | None):
        self.python = python

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        tool = "pysd" if request["op"].startswith("pysd") else "simlin"
        if importlib.util.find_spec(tool) is not None:
            return peers.answer(request)
        if self.python is None:
            return {"error": f"{tool} is not importable here and no --peers-python was given"}
        done = subprocess.run(
            [self.python, str(HERE / "peers.py"), json.dumps([request])],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        if done.returncode:
            return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
        answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])[0]
        return answer


def ratio(peer: dict[str, Any] | None, ours: dict[str, Any] | None) -> dict[str, float] | None:
    """peer / ours on the best (min) CPU and wall seconds; None when either is missing."""
    if not peer or not ours:
        return None
    return {k: peer[f"{k}_min"] / ours[f"{k}_min"] for k in ("cpu", "wall")}


def vm_alone(program: Any, repeats: int) -> dict[str, Any]:
    """One run through the internal ``execute``: the VM without assembling the Dataset."""
    grid = time_grid(program, stop=None, dt=None, save_step=None)
    matrix, _ = parameter_matrix(program, None, "error")
    slots = np.array([s for v in program.variables if v.kind != "parameter" for s in v.slots])
    seeds = run_seeds(0, 1)
    options = fs.Options()
    table = tableau(program.time.method)
    return timed(lambda: execute(program, table, matrix, seeds, grid, slots, options), repeats)


def one_run_of(case: Case, peer: Peers, repeats: int, check: list[str]) -> dict[str, Any]:
    ours = timed(lambda: fs.simulate(case.program), repeats)
    req = {"op": "simlin_one_run", "path": str(case.xmile), "repeats": repeats}
    simlin = peer.ask({**req, "variable": case.var, "check": check})
    result = fs.simulate(case.program)
    out: dict[str, Any] = {"ours_simulate": ours, "ours_vm_alone": vm_alone(case.program, repeats)}
    out["pysimlin"] = simlin
    if "error" not in simlin:
        routes = ("results_series", "results_model_run")
        best = min(routes, key=lambda r: simlin[r]["cpu_min"])
        out["pysimlin_results_route"] = best
        out["ratio_with_results"] = ratio(simlin[best], ours)
        out["ratio_without_results"] = ratio(simlin["bare"], ours)
        out["check"] = compare(result, simlin, case.var)
    return out


def compare(result: Any, simlin: dict[str, Any], var: str) -> dict[str, Any]:
    """Our values beside pysimlin's: the final ``var`` and the largest relative difference over
    the whole series of each variable pysimlin sent (where both saved the same times)."""
    ours_final = float(result[var].values[0, -1])
    out: dict[str, Any] = {"ours_final": ours_final, "pysimlin_final": simlin["final"]}
    for name, theirs in simlin.get("series", {}).items():
        mine = result[name].values[0]
        if len(mine) == len(theirs):
            scale = np.maximum(np.abs(mine), 1e-12)
            out[f"max_rel_diff_{name}"] = float(np.max(np.abs(mine - np.array(theirs)) / scale))
    return out


def many(program: Any, params: dict[str, np.ndarray], save_step: float) -> Any:
    """Every run of ``params`` in one ``simulate`` call, saved every ``save_step``."""
    return fs.simulate(program, params, save_step=save_step, options=OPTIONS)


def ensemble_of(case: Case, peer: Peers, runs: int, peer_runs: int, repeats: int) -> dict[str, Any]:
    """Per-run seconds of ``runs`` varied runs in one ``simulate``, saved every time unit and
    every dt (fewer runs where the output would pass the memory budget), beside pysimlin."""
    dt = case.program.time.dt
    cells = max(1, sum(len(v.slots) for v in case.program.variables))
    steps = round((case.program.time.stop - case.program.time.start) / dt) + 1
    runs_dt = max(1, min(runs, int(ARGS.max_output_bytes / (8 * cells * steps))))
    out: dict[str, Any] = {"runs_yearly": runs, "runs_every_dt": runs_dt}
    for key, n, step in (("yearly", runs, 1.0), ("every_dt", runs_dt, dt)):
        action = partial(many, case.program, case.params(n), step)
        out[f"ours_{key}"] = timed(action, repeats, per=n)
    req = {"path": str(case.xmile), "n_runs": peer_runs, "seed": 1, "variable": case.var}
    simlin = peer.ask({"op": "simlin_ensemble", "ranges": case.varied, **req})
    out["pysimlin"] = simlin
    if "error" not in simlin:
        for key in ("yearly", "every_dt"):
            out[f"ratio_{key}"] = ratio(simlin["per_run"], out[f"ours_{key}"])
    return out


def sir_case(tmp: Path) -> Case:
    return Case("sir", fs.load_model("sir"), peers.MODEL_PATH, SIR_VARIED, "infectious")


def generated_case(n: int, tmp: Path) -> Case:
    model = fs.loads_model(generate(n), name=f"generated_{n}")
    xmile = fs.save_xmile(model, tmp / f"generated_{n}.xmile")
    return Case(f"generated_{n}", model, xmile, dict(VARIED), "stock_0")


def amazon_case(tmp: Path) -> Case:
    model = fs.load_model("amazon")
    return Case(
        "amazon", model, fs.save_xmile(model, tmp / "amazon.xmile"), AMAZON_VARIED, "customers"
    )


# ------------------------------------------------------------------------------ sections


def section_one_run(peer: Peers, tmp: Path) -> dict[str, Any]:
    case = sir_case(tmp)
    out = one_run_of(case, peer, ARGS.repeats, ["infectious", "susceptible"])
    pysd = peer.ask(
        {"op": "pysd_one_run", "path": str(case.xmile), "repeats": 3, "variable": "infectious"}
    )
    out["pysd"] = pysd
    if "error" not in pysd:
        out["ratio_vs_pysd_with_results"] = ratio(pysd["results"], out["ours_simulate"])
        out.setdefault("check", {})["pysd_final"] = pysd["final"]
    return out


def section_curve(peer: Peers, tmp: Path) -> dict[str, Any]:
    """Per-run seconds against the number of runs, saved every time unit; the cliff."""
    case = sir_case(tmp)
    points = []
    for n in ARGS.curve_sizes:
        repeats = 3 if n >= 10_000 else ARGS.repeats
        figure = timed(partial(many, case.program, case.params(n), 1.0), repeats)
        points.append({"runs": n, **figure, "per_run_cpu_min": figure["cpu_min"] / n})
        points[-1]["per_run_wall_min"] = figure["wall_min"] / n
    cliffs = [
        {"from": a["runs"], "to": b["runs"]}
        | {k: a[f"{k}_min"] / b[f"{k}_min"] for k in ("cpu", "wall")}
        for a, b in itertools.pairwise(points)
    ]
    worst = {k: max((c[k] for c in cliffs), default=None) for k in ("cpu", "wall")}
    chart = draw_curve(points, ARGS.out.parent / "engine_runs.png")
    return {"points": points, "cliffs": cliffs, "cliff": worst, "chart": chart}


def draw_curve(points: list[dict[str, Any]], path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    runs = [p["runs"] for p in points]
    for key, label in (("per_run_cpu_min", "CPU"), ("per_run_wall_min", "wall")):
        ax.loglog(runs, [p[key] for p in points], marker="o", label=label)
    ax.set(xlabel="runs in one simulate call", ylabel="seconds per run (best)", title="SIR")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def section_ensemble(peer: Peers, tmp: Path) -> dict[str, Any]:
    return ensemble_of(sir_case(tmp), peer, ARGS.runs, ARGS.peer_runs, 3)


def section_models(peer: Peers, tmp: Path) -> dict[str, Any]:
    """One run and the two ensembles on generated models and on amazon."""
    out: dict[str, Any] = {}
    makers: list[tuple[str, Callable[[], Case]]] = [
        (f"generated_{n}", partial(generated_case, n, tmp)) for n in ARGS.model_sizes
    ]
    makers.append(("amazon", partial(amazon_case, tmp)))
    for name, make in makers:
        case = make()
        work = case.program.time.stop - case.program.time.start
        per_run = max(1.0, len(case.program.variables) * work / case.program.time.dt)
        runs = max(8, min(ARGS.runs, int(ARGS.ensemble_work / per_run)))
        peer_runs = max(3, min(ARGS.peer_runs, int(ARGS.peer_work / per_run)))
        check = [case.var] + (["indicator_1", "delayed_2"] if name.startswith("gen") else [])
        out[name] = {
            "variables": case.variables,
            "slots": len(case.program.variables),
            "one_run": one_run_of(case, peer, max(3, ARGS.repeats // 4), check),
            "ensemble": ensemble_of(case, peer, runs, peer_runs, 2),
        }
    return out


def section_compile(peer: Peers, tmp: Path) -> dict[str, Any]:
    """Load + compile of generated models (caches cleared) beside pysimlin's load + Sim."""
    from flywheel_sim.compile import PROGRAMS
    from flywheel_sim.spec import parser

    out: dict[str, Any] = {}
    last: tuple[int, float] | None = None
    for n in ARGS.compile_sizes:
        if last and last[1] * (n / last[0]) ** 2 > ARGS.compile_budget:
            out[str(n)] = {"skipped": f"a quadratic guess from {last[0]} passes the budget"}
            continue
        path = tmp / f"compile_{n}.yaml"
        path.write_text(generate(n))

        def ready(path: Path = path) -> None:
            PROGRAMS.clear()
            if hasattr(parser, "_parse"):  # the equation parser's cache, where there is one
                parser._parse.cache_clear()
            fs.compile_model(fs.load_model(path))

        repeats = 3 if n <= 10_000 else 1
        ours = timed(ready, repeats, warmup=1 if n <= 10_000 else 0)
        xmile = fs.save_xmile(fs.load_model(path), tmp / f"compile_{n}.xmile")
        simlin = peer.ask({"op": "simlin_load", "path": str(xmile), "repeats": repeats})
        out[str(n)] = {
            "ours": ours,
            "ours_cpu_per_variable": ours["cpu_min"] / n,
            "pysimlin": simlin,
            "ratio": ratio(simlin.get("load"), ours),
        }
        last = (n, ours["wall_min"])
    return out


def section_fresh(peer: Peers, tmp: Path) -> dict[str, Any]:
    python = sys.executable if importlib.util.find_spec("simlin") else ARGS.peers_python
    return engine_targets.measure(python, str(peers.MODEL_PATH), ARGS.fresh_rounds)


RUNNERS: dict[str, Callable[[Peers, Path], dict[str, Any]]] = {
    "one_run": section_one_run,
    "curve": section_curve,
    "ensemble": section_ensemble,
    "models": section_models,
    "compile": section_compile,
    "fresh": section_fresh,
}


def run_section(name: str, peer: Peers, tmp: Path) -> dict[str, Any]:
    before, start, cpu = load_average(), time.perf_counter(), time.process_time()
    print(f"[{name}] load {before:.2f}", file=sys.stderr, flush=True)
    try:
        figures = RUNNERS[name](peer, tmp)
    except Exception as exc:  # one broken section must not lose the others
        figures = {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "load_average_before": before,
        "load_average_after": load_average(),
        "section_wall_seconds": time.perf_counter() - start,
        "section_cpu_seconds": time.process_time() - cpu,
        **figures,
    }


def sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    p.add_argument("--quick", action="store_true", help="smaller sizes: a few minutes")
    p.add_argument("--peers-python", default=None, help="interpreter with pysimlin and PySD")
    p.add_argument("--out", type=Path, default=HERE / "results" / "engine.json")
    p.add_argument("--repeats", type=int, help="repeats of one-run figures (20; quick 8)")
    p.add_argument("--runs", type=int, default=10_000, help="runs of the SIR ensembles")
    p.add_argument("--peer-runs", type=int, help="pysimlin's runs per ensemble (500; quick 200)")
    p.add_argument("--curve-sizes", type=sizes, help="runs per point of the curve")
    p.add_argument("--model-sizes", type=sizes, help="generated models' variables")
    p.add_argument("--compile-sizes", type=sizes, help="generated models' variables")
    p.add_argument("--compile-budget", type=float, default=300.0, help="seconds per size")
    p.add_argument("--fresh-rounds", type=int, help="fresh processes each (7; quick 3)")
    p.add_argument("--ensemble-work", type=float, help="variable-steps per ensemble (4e8)")
    p.add_argument("--peer-work", type=float, help="variable-steps for pysimlin (2e7)")
    p.add_argument("--max-output-bytes", type=float, default=3e9)
    args = p.parse_args(argv)
    full = not args.quick
    for name, value, quick in (
        ("repeats", 20, 8),
        ("peer_runs", 500, 200),
        ("curve_sizes", list(CURVE_SIZES), [n for n in CURVE_SIZES if n <= 1_000]),
        ("model_sizes", [1_000, 10_000], [1_000]),
        ("compile_sizes", [1_000, 10_000, 30_000], [1_000, 3_000]),
        ("fresh_rounds", 7, 3),
        ("ensemble_work", 4e8, 1e8),
        ("peer_work", 2e7, 5e6),
    ):
        if getattr(args, name) is None:
            setattr(args, name, value if full else quick)
    return args


ARGS = arguments([])


def main() -> None:
    global ARGS
    ARGS = arguments()
    names = [s.strip() for s in ARGS.only.split(",") if s.strip()]
    unknown = set(names) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    ARGS.out.parent.mkdir(parents=True, exist_ok=True)
    peer = Peers(ARGS.peers_python)
    with tempfile.TemporaryDirectory(prefix="engine-bench-") as folder:
        sections = {name: run_section(name, peer, Path(folder)) for name in names}
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "versions": {"flywheel_sim": fs.__version__, **peers.peer_versions()},
        "arguments": {k: str(v) for k, v in vars(ARGS).items()},
        "targets": engine_targets.targets(sections),
        "sections": sections,
    }
    ARGS.out.write_text(json.dumps(report, indent=1) + "\n")
    for name, target in report["targets"].items():
        print(f"{name:58} {engine_targets.line(target)}")


if __name__ == "__main__":
    main()
