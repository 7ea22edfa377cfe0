"""Time two peer system-dynamics tools, PySD and pysimlin, beside flywheel-sim.

Used by benchmarks/engine.py (and benchmarks/xmile.py for PySD's load time). Every function
imports its tool when it is called and raises ``RuntimeError`` if the tool is not installed;
importing this module imports neither tool, nor flywheel-sim. When the peers are not
importable in the benchmark's interpreter, engine.py runs this file with the peers'
interpreter: ``python peers.py '<JSON list of requests>'`` prints a JSON list of answers
(:func:`answer`; a request that fails answers ``{"error": "..."}``).

What is measured (wall ``time.perf_counter`` and CPU ``time.process_time``, after one untimed
warm-up; :func:`timing.timed`):

* pysimlin, one run (:func:`simlin_one_run`):

  - ``results_model_run``: ``Model.run(analyze_loops=False).results``, a pandas DataFrame of
    every variable at every step (loop analysis off; on by default, about 8x slower);
  - ``results_series``: ``sim.reset(); sim.run_to_end()`` then ``sim.get_series(name)`` for
    every variable of ``sim.get_var_names()`` on one compiled ``Sim``: the same values as numpy
    arrays, its fastest route to every variable at every step;
  - ``bare``: ``sim.reset(); sim.run_to_end()`` (no results).

* pysimlin, varied runs (:func:`simlin_ensemble`): ``sim.reset()``, ``sim.set_value`` for each
  varied parameter (kept across ``reset()``), ``run_to_end()`` and ``get_value`` of one
  variable, on one compiled ``Sim``; per run.
* pysimlin, load (:func:`simlin_load`): ``simlin.load(path).simulate(enable_ltm=False)``:
  parse the file and build a ``Sim``.
* PySD, one run with results (:func:`pysd_one_run`): ``model.run(saveper=time_step)``, every
  variable at every step, on a model read once with ``pysd.read_xmile`` (which writes a
  translated .py file: in a temporary copy, never in the repository); varied runs
  (:func:`pysd_ensemble`): ``model.run(params=..., return_columns=[one], saveper=final -
  initial)`` (every step computed, only the ends kept: its fastest per-run route).

Parameter sets are drawn uniformly from the given ranges with ``random.Random(seed)``.
"""

from __future__ import annotations

import importlib
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import timed

MODEL_PATH = Path(__file__).resolve().parent / "models" / "SIR.xmile"
"""The repository's copy of the SIR model (stocks susceptible/infectious/recovered)."""

Params = dict[str, float]
Ranges = dict[str, tuple[float, float]]


def _require(module: str, dist: str) -> ModuleType:
    """Import ``module`` or raise a RuntimeError naming the distribution to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(
            f"{dist} is not installed; install it (`pip install {dist}`) to time it"
        ) from exc


def _sample_params(n_runs: int, ranges: Ranges, seed: int) -> list[Params]:
    """Draw ``n_runs`` parameter sets uniformly from ``ranges``; a seed gives the same sets."""
    rng = random.Random(seed)
    return [{k: rng.uniform(lo, hi) for k, (lo, hi) in ranges.items()} for _ in range(n_runs)]


def _check_count(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")


# --------------------------------------------------------------------------- PySD


@contextmanager
def _pysd_workspace(path: str | Path) -> Iterator[Path]:
    """Copy the model into a temporary directory, so PySD writes its .py file there."""
    with tempfile.TemporaryDirectory(prefix="peers-pysd-") as tmp:
        target = Path(tmp) / Path(path).name
        shutil.copyfile(path, target)
        yield target


@contextmanager
def _pysd_quiet() -> Iterator[None]:
    """Hide PySD's deprecation warnings (chardet; pandas 3 ``inplace=``), which fire every run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def _import_pysd() -> ModuleType:
    """Import PySD with its import-time ``chardet`` deprecation warning hidden."""
    with _pysd_quiet():
        return _require("pysd", "pysd")


def _pysd_load(path: Path) -> Any:
    return _import_pysd().read_xmile(str(path))


def pysd_one_run(path: str, repeats: int, variable: str) -> dict[str, Any]:
    """PySD's run with every variable at every step, and ``variable`` at the final time."""
    _check_count("repeats", repeats)
    with _pysd_quiet(), _pysd_workspace(path) as local:
        model = _pysd_load(local)
        step = float(model.time.time_step())
        out = model.run(saveper=step)
        return {
            "results": timed(lambda: model.run(saveper=step), repeats),
            "final": float(out[variable].iloc[-1]),
        }


def pysd_ensemble(
    path: str, n_runs: int, ranges: Ranges, seed: int, variable: str, repeats: int = 1
) -> dict[str, Any]:
    """Seconds per PySD run with new parameters each run (final value of one variable kept)."""
    _check_count("n_runs", n_runs)
    sets = _sample_params(n_runs, ranges, seed)
    with _pysd_quiet(), _pysd_workspace(path) as local:
        model = _pysd_load(local)
        span = float(model.time.final_time()) - float(model.time.initial_time())

        def runs() -> None:
            for params in sets:
                model.run(params=params, return_columns=[variable], saveper=span)

        return {"per_run": timed(runs, repeats, per=n_runs), "runs": n_runs}


def pysd_load_seconds(path: str | Path, repeats: int) -> float:
    """Median seconds for ``pysd.read_xmile(path)``: translate, write .py, import, initialise."""
    _check_count("repeats", repeats)
    _import_pysd()
    with _pysd_quiet(), _pysd_workspace(path) as model_file:
        _pysd_load(model_file)  # warm-up: PySD imports its translator modules on first use
        times: list[float] = []
        for _ in range(repeats):
            start = time.perf_counter()
            _pysd_load(model_file)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


# ----------------------------------------------------------------------- pysimlin


def _simlin_sim(path: str) -> Any:
    """Parse the file and compile a reusable ``simlin.Sim`` with loop analysis off."""
    simlin = _require("simlin", "pysimlin")
    return simlin.load(path).simulate(enable_ltm=False)


def simlin_one_run(
    path: str, repeats: int, variable: str, check: list[str] | None = None
) -> dict[str, Any]:
    """pysimlin's one run three ways (module docstring), ``variable`` at the final time and
    the whole series of each variable in ``check`` (for comparing values)."""
    _check_count("repeats", repeats)
    simlin = _require("simlin", "pysimlin")
    model = simlin.load(path)
    sim = model.simulate(enable_ltm=False)
    names = sim.get_var_names()

    def series() -> list[Any]:
        sim.reset()
        sim.run_to_end()
        return [sim.get_series(name) for name in names]

    def bare() -> None:
        sim.reset()
        sim.run_to_end()

    out: dict[str, Any] = {
        "results_model_run": timed(lambda: model.run(analyze_loops=False).results, repeats),
        "results_series": timed(series, repeats),
        "bare": timed(bare, repeats),
    }
    bare()
    out["final"] = float(sim.get_value(variable))
    out["series"] = {name: [float(x) for x in sim.get_series(name)] for name in check or []}
    return out


def simlin_ensemble(
    path: str, n_runs: int, ranges: Ranges, seed: int, variable: str, repeats: int = 1
) -> dict[str, Any]:
    """Seconds per pysimlin run with new parameters each run, on one compiled Sim."""
    _check_count("n_runs", n_runs)
    sets = _sample_params(n_runs, ranges, seed)
    sim = _simlin_sim(path)

    def runs() -> None:
        for params in sets:
            sim.reset()
            for name, value in params.items():
                sim.set_value(name, value)
            sim.run_to_end()
            sim.get_value(variable)

    return {"per_run": timed(runs, repeats, per=n_runs), "runs": n_runs}


def simlin_load(path: str, repeats: int) -> dict[str, Any]:
    """Seconds to parse the file and build a Sim."""
    return {"load": timed(lambda: _simlin_sim(path), repeats)}


OPS = {
    "pysd_one_run": pysd_one_run,
    "pysd_ensemble": pysd_ensemble,
    "simlin_one_run": simlin_one_run,
    "simlin_ensemble": simlin_ensemble,
    "simlin_load": simlin_load,
}


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """Run one request ``{"op": name, **arguments}``; an error answers ``{"error": text}``."""
    arguments = dict(request)
    op = OPS[arguments.pop("op")]
    try:
        result: dict[str, Any] = op(**arguments)  # type: ignore[operator]
        return result
    except Exception as exc:  # a peer that cannot read or run a model: record why
        return {"error": f"{type(exc).__name__}: {exc}".replace("\n", " ")[:2000]}


# ----------------------------------------------------------------------- versions


def peer_versions() -> dict[str, str]:
    """Installed versions of the peers. A peer that is missing is shown as ``"not installed"``."""
    versions: dict[str, str] = {}
    for dist in ("pysd", "pysimlin"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


if __name__ == "__main__":
    print(json.dumps([answer(r) for r in json.loads(sys.argv[1])]))
