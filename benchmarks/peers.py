"""Time two peer system-dynamics tools, PySD and pysimlin, on the SIR model.

These timings let the benchmark put flywheel-sim beside its peers. Every
function imports its tool when it is called and raises ``RuntimeError`` if the
tool is not installed. Importing this module imports neither tool.

What is measured (wall clock, ``time.perf_counter``):

* **load**: from the XMILE file to a model that is ready to run.

  - PySD: ``pysd.read_xmile(path)``. This parses the XMILE, writes a
    translated ``<name>.py`` next to the file, imports that file and
    initialises the model. PySD always writes that file, so each function
    first copies the model into a temporary directory and PySD writes there,
    never into the repository.
  - pysimlin: ``simlin.load(path).simulate(enable_ltm=False)``. This parses
    the file and compiles a ``Sim``, the object that runs the model.

* **one run**: one full simulation with the default parameters. Loading is
  not counted. The time includes reading the final value of ``infectious``.

  - PySD: ``model.run(return_columns=["infectious"], saveper=final - initial)``.
    PySD still takes every Euler step. The ``saveper`` setting only makes it
    record t=initial and t=final rather than all 3201 rows, which is the
    fastest way to get just the final value. ``return_timestamps=[final]`` is
    slower, because PySD then calls ``np.isclose`` at every step.
  - pysimlin: ``sim.reset(); sim.run_to_end(); sim.get_value("infectious")``
    on one compiled ``Sim`` that is reused for every run.

* **varied runs**: the mean time per run over ``n_runs`` runs. Each run draws
  ``contact_infectivity`` uniformly from [0.1, 0.5] and ``duration`` uniformly
  from [2, 10], and the time includes setting those parameters. The same seed
  gives both peers the same parameter sets.

  - PySD: ``model.run(params={...}, ...)``, with the same output settings as
    a single run.
  - pysimlin: ``sim.reset()``, then ``sim.set_value(name, value)`` for each
    parameter, then ``run_to_end()`` and ``get_value()``. The model is
    compiled only once. A value set with ``set_value`` is kept across
    ``reset()``.

We do not use pysimlin's ``Model.run()``. By default it turns on
loops-that-matter analysis (``analyze_loops=True``), which makes it about
8x slower, and it always builds a pandas ``Run``.

Every median and mean is taken after one untimed warm-up call. The first PySD
``read_xmile`` in a process spends about 0.5 s importing PySD's translator and
builder modules, and the warm-up keeps that cost out of the numbers.
"""

from __future__ import annotations

import importlib
import random
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

MODEL_PATH = Path(__file__).resolve().parent / "models" / "SIR.xmile"
"""The repository's copy of the SIR model (stocks susceptible/infectious/recovered)."""

OUTPUT = "infectious"
CONTACT_INFECTIVITY_RANGE = (0.1, 0.5)
DURATION_RANGE = (2.0, 10.0)

Params = dict[str, float]


def _require(module: str, dist: str) -> ModuleType:
    """Import ``module`` or raise a RuntimeError naming the distribution to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(
            f"{dist} is not installed; install it (`pip install {dist}`) to time it"
        ) from exc


def _sample_params(n_runs: int, seed: int) -> list[Params]:
    """Draw ``n_runs`` parameter sets. A seed gives the same sets for every peer."""
    rng = random.Random(seed)
    return [
        {
            "contact_infectivity": rng.uniform(*CONTACT_INFECTIVITY_RANGE),
            "duration": rng.uniform(*DURATION_RANGE),
        }
        for _ in range(n_runs)
    ]


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


def _pysd_saveper(model: Any) -> float:
    """Save every this many time units, so PySD records only t=initial and t=final."""
    return float(model.time.final_time()) - float(model.time.initial_time())


def _pysd_final(model: Any, saveper: float, params: Params | None) -> float:
    """Run the model once and return ``infectious`` at the final time.

    PySD keeps ``params`` and ``saveper`` on the model for later runs. Every
    call here passes ``saveper`` again, and every varied run sets both
    parameters, so nothing carries over from one run to the next.
    """
    out = model.run(params=params, return_columns=[OUTPUT], saveper=saveper)
    return float(out[OUTPUT].iloc[-1])


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


def pysd_run_seconds(path: str | Path, repeats: int) -> float:
    """Median seconds for one PySD run with the default parameters. Loading is not counted."""
    _check_count("repeats", repeats)
    _import_pysd()
    with _pysd_quiet(), _pysd_workspace(path) as model_file:
        model = _pysd_load(model_file)
        saveper = _pysd_saveper(model)
        _pysd_final(model, saveper, None)  # warm-up
        times: list[float] = []
        for _ in range(repeats):
            start = time.perf_counter()
            _pysd_final(model, saveper, None)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def pysd_per_run_seconds_varied(path: str | Path, n_runs: int, seed: int) -> float:
    """Mean seconds per PySD run with new parameters each run, including ``params=`` handling."""
    _check_count("n_runs", n_runs)
    _import_pysd()
    param_sets = _sample_params(n_runs, seed)
    with _pysd_quiet(), _pysd_workspace(path) as model_file:
        model = _pysd_load(model_file)
        saveper = _pysd_saveper(model)
        _pysd_final(model, saveper, None)  # warm-up
        start = time.perf_counter()
        for params in param_sets:
            _pysd_final(model, saveper, params)
        elapsed = time.perf_counter() - start
    return elapsed / n_runs


def pysd_final_infectious(path: str | Path, contact_infectivity: float, duration: float) -> float:
    """``infectious`` at the final time (t=100 for SIR), as computed by PySD."""
    _import_pysd()
    params = {"contact_infectivity": contact_infectivity, "duration": duration}
    with _pysd_quiet(), _pysd_workspace(path) as model_file:
        model = _pysd_load(model_file)
        out = model.run(params=params, return_columns=[OUTPUT])
    return float(out[OUTPUT].iloc[-1])


# ----------------------------------------------------------------------- pysimlin


def _simlin_compile(path: str | Path) -> Any:
    """Parse the file and compile a reusable ``simlin.Sim`` with loop analysis off."""
    simlin = _require("simlin", "pysimlin")
    return simlin.load(path).simulate(enable_ltm=False)


def _simlin_final(sim: Any, params: Params | None) -> float:
    """Reset ``sim``, apply ``params``, run to the end and return the final ``infectious``.

    Values set with ``set_value`` are kept across ``reset()``. Give a ``Sim``
    either no overrides or the same parameter names on every run, so a value
    from an earlier run cannot leak into a later one.
    """
    sim.reset()
    if params:
        for name, value in params.items():
            sim.set_value(name, value)
    sim.run_to_end()
    return float(sim.get_value(OUTPUT))


def pysimlin_load_seconds(path: str | Path, repeats: int) -> float:
    """Median seconds for ``simlin.load(path).simulate(enable_ltm=False)``: parse and compile."""
    _check_count("repeats", repeats)
    _simlin_compile(path)  # warm-up
    times: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        _simlin_compile(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pysimlin_run_seconds(path: str | Path, repeats: int) -> float:
    """Median seconds for one pysimlin run (reset + run_to_end + get_value), not loading."""
    _check_count("repeats", repeats)
    sim = _simlin_compile(path)
    _simlin_final(sim, None)  # warm-up
    times: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        _simlin_final(sim, None)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pysimlin_per_run_seconds_varied(path: str | Path, n_runs: int, seed: int) -> float:
    """Mean seconds per pysimlin run on one compiled Sim, including the two ``set_value`` calls."""
    _check_count("n_runs", n_runs)
    param_sets = _sample_params(n_runs, seed)
    sim = _simlin_compile(path)
    _simlin_final(sim, None)  # warm-up
    start = time.perf_counter()
    for params in param_sets:
        _simlin_final(sim, params)
    elapsed = time.perf_counter() - start
    return elapsed / n_runs


def pysimlin_final_infectious(
    path: str | Path, contact_infectivity: float, duration: float
) -> float:
    """``infectious`` at the final time (t=100 for SIR), as computed by pysimlin."""
    simlin = _require("simlin", "pysimlin")
    overrides = {"contact_infectivity": contact_infectivity, "duration": duration}
    with simlin.load(path).simulate(overrides=overrides, enable_ltm=False) as sim:
        sim.run_to_end()
        return float(sim.get_value(OUTPUT))


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


# ------------------------------------------------------------- full results (like ours)


def pysd_full_run_seconds(path: str | Path, repeats: int) -> float:
    """Median seconds for a PySD run returning every variable at every time step (its
    default ``run()``), the same output a flywheel-sim ``simulate()`` returns."""
    _check_count("repeats", repeats)
    with _pysd_workspace(path) as local, _pysd_quiet():
        model = _pysd_load(local)
        step = float(model.time.time_step())
        model.run(saveper=step)  # warm-up
        times: list[float] = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.run(saveper=step)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def pysimlin_full_run_seconds(path: str | Path, repeats: int) -> float:
    """Median seconds for pysimlin's ``Model.run(analyze_loops=False)``: every variable at
    every step as a pandas DataFrame (loop analysis off, its fastest full-result call)."""
    _check_count("repeats", repeats)
    simlin = _require("simlin", "pysimlin")
    model = simlin.load(path)
    model.run(analyze_loops=False)  # warm-up
    times: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.run(analyze_loops=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
