"""``simulate``: run a model for one parameter set or thousands at once.

All runs of a call share the time grid and are evaluated together (one VM call over a
(slots, runs) array, or the numba VM's compiled loop) — never a Python loop over runs.
The result is an ``xarray.Dataset`` with dims ``run``, ``time`` (plus model dimensions), the
parameter values and seeds as coordinates on ``run``, and ``status``/``failed_variable``/
``failed_time`` saying which runs hit a non-finite value, where and when.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.compile import Program, compile_model
from flywheel_sim.engine.integrators import Tableau, tableau
from flywheel_sim.errors import ModelError, ParameterError, did_you_mean
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.names import canonical

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

Backend = Literal["auto", "numpy", "numba"]
ParamValues = Mapping[str, float | Sequence[float] | NDArray[np.float64]]


@dataclass(frozen=True, slots=True)
class Options:
    """Less common simulation options.

    - ``backend``: ``"numba"`` (compiled; needs the ``fast`` extra), ``"numpy"`` (always
      available) or ``"auto"`` (numba when installed).
    - ``out_of_range``: ``"error"`` rejects parameter values outside their declared
      [min, max]; ``"clip"`` clips them into range.
    """

    backend: Backend = "auto"
    out_of_range: Literal["error", "clip"] = "error"


@dataclass(frozen=True, slots=True)
class Grid:
    start: float
    stop: float
    dt: float
    n_steps: int
    save_every: int

    @property
    def times(self) -> NDArray[np.float64]:
        steps = np.arange(0, self.n_steps + 1, self.save_every)
        return np.asarray(self.start + steps * self.dt, dtype=np.float64)


def time_grid(
    program: Program, *, stop: float | None, dt: float | None, save_step: float | None
) -> Grid:
    spec = program.time
    start = spec.start
    stop = spec.stop if stop is None else float(stop)
    dt = spec.dt if dt is None else float(dt)
    if not (math.isfinite(stop) and stop > start):
        raise ModelError(f"stop time {stop} must be after the start time {start}")
    if not (math.isfinite(dt) and dt > 0):
        raise ModelError(f"dt must be positive, not {dt}")
    steps = (stop - start) / dt
    n_steps = round(steps)
    if abs(steps - n_steps) > 1e-6 * max(1.0, steps) or n_steps < 1:
        raise ModelError(
            f"the run length {stop - start} is not a whole number of steps of dt {dt}",
            hint="choose a dt that divides stop - start",
        )
    save = spec.save_step if save_step is None else float(save_step)
    save = dt if save is None else save
    every = save / dt
    save_every = round(every)
    if save_every < 1 or abs(every - save_every) > 1e-6 * every:
        raise ModelError(
            f"save step {save} is not a whole multiple of dt {dt}",
            hint="make save_step a multiple of dt",
        )
    if n_steps % save_every:
        raise ModelError(
            f"save step {save} does not divide the run length {stop - start}",
            hint="choose a save_step that divides stop - start",
        )
    return Grid(start, start + n_steps * dt, dt, n_steps, save_every)


def parameter_matrix(
    program: Program, params: ParamValues | pd.DataFrame | None, out_of_range: str
) -> tuple[NDArray[np.float64], int]:
    """Resolve ``params`` into a (parameters, runs) matrix of values."""
    rows = _columns(params)
    n = 1
    for name, values in rows.items():
        if values.ndim > 1:
            raise ParameterError(f"parameter '{name}' must be a scalar or a 1-D array")
        if values.size != 1:
            if n not in (1, values.size):
                raise ParameterError(
                    f"parameter '{name}' has {values.size} values but another "
                    f"has {n}; give every array the same length"
                )
            n = values.size
    matrix = np.repeat(program.param_default[:, None], n, axis=1)
    groups = _parameter_groups(program)
    for name, values in rows.items():
        key = canonical(name)
        if key not in groups:
            hint = did_you_mean(key, list(groups)) or (
                "parameters: " + ", ".join(sorted(groups)[:12])
            )
            raise ParameterError(f"unknown parameter '{name}' in model '{program.name}' — {hint}")
        for index in groups[key]:
            matrix[index] = values if values.size != 1 else values.reshape(())
    _check_ranges(program, matrix, out_of_range)
    return matrix, n


def _columns(params: Any) -> dict[str, NDArray[np.float64]]:
    if params is None:
        return {}
    if hasattr(params, "columns") and hasattr(params, "to_numpy"):
        return {str(c): _as_float(params[c].to_numpy(), str(c)) for c in params.columns}
    if not isinstance(params, Mapping):
        raise ParameterError("params must be a mapping of names to values or a DataFrame")
    return {str(k): _as_float(v, str(k)) for k, v in params.items()}


def _as_float(value: Any, name: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter '{name}' must be numeric, not {value!r}") from None
    if not np.isfinite(arr).all():
        raise ParameterError(f"parameter '{name}' has a non-finite value")
    return arr


def _parameter_groups(program: Program) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for index, key in enumerate(program.param_keys):
        groups.setdefault(key, []).append(index)
        base = key.split("[")[0]
        if base != key:
            groups.setdefault(base, []).append(index)
    return groups


def _check_ranges(program: Program, matrix: NDArray[np.float64], mode: str) -> None:
    lo = np.where(np.isnan(program.param_min), -np.inf, program.param_min)[:, None]
    hi = np.where(np.isnan(program.param_max), np.inf, program.param_max)[:, None]
    if mode == "clip":
        np.clip(matrix, lo, hi, out=matrix)
        return
    bad = (matrix < lo) | (matrix > hi)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise ParameterError(
            f"parameter '{program.param_keys[row]}' = {matrix[row, col]:g} (run {col}) is "
            f"outside its declared range [{lo[row, 0]:g}, {hi[row, 0]:g}] — pass a value in "
            "range, or ask for clipping (options=Options(out_of_range='clip'), CLI --clip)"
        )


def run_seeds(seed: int | Sequence[int] | NDArray[np.int64] | None, n: int) -> NDArray[np.int64]:
    if seed is None:
        seed = 0
    arr = np.asarray(seed)
    if arr.ndim == 0:
        base = np.array([int(arr)], dtype=np.uint64)
        from flywheel_sim import rng

        derived = rng.mix(base + np.arange(n, dtype=np.uint64) * rng.GOLDEN)
        return (derived >> np.uint64(1)).astype(np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ParameterError("seed must be an integer or a 1-D array of integers")
    if n != 1 and arr.size != n:
        raise ParameterError(f"{arr.size} seeds given for {n} runs")
    return arr.astype(np.int64)


def select_slots(program: Program, names: Sequence[str] | None) -> list[int]:
    visible = [i for i, v in enumerate(program.variables) if v.kind != "parameter"]
    if names is None:
        return visible
    keys = {v.key: i for i, v in enumerate(program.variables)}
    chosen = []
    for name in names:
        key = canonical(name)
        if key not in keys:
            hint = did_you_mean(key, list(keys))
            raise ModelError(f"model '{program.name}' has no variable '{name}'", hint=hint)
        if program.variables[keys[key]].kind == "parameter":
            continue
        chosen.append(keys[key])
    return chosen


def resolve_backend(name: str) -> str:
    if name == "numpy":
        return "numpy"
    try:
        import numba  # noqa: F401
    except ImportError:
        if name == "numba":
            raise ModelError(
                "the numba backend needs the 'fast' extra", hint="pip install 'flywheel-sim[fast]'"
            ) from None
        return "numpy"
    return "numba"


def simulate(
    model: Model | Program,
    params: ParamValues | pd.DataFrame | None = None,
    *,
    method: str | None = None,
    stop: float | None = None,
    dt: float | None = None,
    save_step: float | None = None,
    variables: Sequence[str] | None = None,
    seed: int | Sequence[int] | NDArray[np.int64] | None = None,
    options: Options = Options(),
) -> xr.Dataset:
    """Simulate ``model`` for every parameter set in ``params``.

    ``params`` maps parameter names to scalars or 1-D arrays (all arrays the same length N), or
    is a DataFrame with one row per run; N runs are computed together. ``seed`` is one integer
    (each run derives its own stream) or one integer per run.
    Returns a Dataset with dims ("run", "time", *model dims).
    """
    program = model if isinstance(model, Program) else compile_model(model)
    matrix, n = parameter_matrix(program, params, options.out_of_range)
    seeds = run_seeds(seed, n)
    if seeds.size != n:
        matrix = np.repeat(matrix, seeds.size, axis=1)
        n = seeds.size
    grid = time_grid(program, stop=stop, dt=dt, save_step=save_step)
    table = tableau(method or program.time.method)
    chosen = select_slots(program, variables)
    save_slots = np.array([s for i in chosen for s in program.variables[i].slots], np.int64)
    out, fail_slot, fail_time = execute(program, table, matrix, seeds, grid, save_slots, options)
    from flywheel_sim.engine.result import assemble

    return assemble(program, grid, table.name, matrix, seeds, chosen, out, fail_slot, fail_time)


def execute(
    program: Program,
    table: Tableau,
    matrix: NDArray[np.float64],
    seeds: NDArray[np.int64],
    grid: Grid,
    save_slots: NDArray[np.int64],
    options: Options,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Run the VM; returns saved values (slots, times, runs) and per-run failures."""
    args = (
        program,
        table,
        matrix,
        seeds,
        grid.start,
        grid.dt,
        grid.n_steps,
        grid.save_every,
        save_slots,
    )
    if resolve_backend(options.backend) == "numba":
        from flywheel_sim.engine.vm import block as vm_numba

        return vm_numba.run(*args)
    from flywheel_sim.engine.vm import reference as vm_numpy

    batch = vm_numpy.run(*args)
    return batch.out, batch.fail_slot, batch.fail_time
