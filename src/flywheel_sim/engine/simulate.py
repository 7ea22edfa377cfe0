"""``simulate``: run a model for one parameter set or thousands at once.

All runs of a call share the time grid and are evaluated together (one VM call over a
(slots, runs) array, or the numba VM's compiled loop) — never a Python loop over runs.
``simulate`` is ``assemble(run_arrays(...))``: :func:`run_arrays` resolves the parameters
(:mod:`.params`), the seeds, the time grid (:mod:`.grid`) and the integrator, runs the VM and
returns its raw arrays; :func:`flywheel_sim.engine.result.assemble` turns them into an
``xarray.Dataset`` with dims ``run``, ``time`` (plus model dimensions), the parameter values and
seeds as coordinates on ``run``, and ``status``/``failed_variable``/``failed_time`` saying which
runs hit a non-finite value, where and when.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np

from flywheel_sim._types import F64, I64
from flywheel_sim.compile import Program, compile_model
from flywheel_sim.engine.cancel import combined
from flywheel_sim.engine.derived import derived
from flywheel_sim.engine.grid import Grid, check_cells, time_grid
from flywheel_sim.engine.integrators import Tableau, tableau
from flywheel_sim.engine.params import (
    OUT_OF_RANGE,
    OutOfRange,
    ParamValues,
    parameter_matrix,
    run_seeds,
)
from flywheel_sim.engine.result import RunArrays, assemble
from flywheel_sim.errors import ModelError, ParameterError, did_you_mean
from flywheel_sim.limits import DEFAULT as DEFAULT_LIMITS
from flywheel_sim.limits import Limits
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.names import canonical

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from flywheel_sim.engine.vm.reference import Zeroing

Backend = Literal["auto", "numpy", "numba", "native"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)


@dataclass(frozen=True, slots=True)
class Options:
    """Less common simulation options.

    - ``backend``: ``"native"`` (the model compiled to machine code through LLVM, see
      :mod:`flywheel_sim.engine.vm.native`; models using operations it does not translate yet
      run on the numba kernels), ``"numba"`` (the numba kernels interpret the compiled
      model), both from the ``fast`` extra; ``"numpy"`` (always available); or ``"auto"``
      (native or numba by the expected cost, see :func:`flywheel_sim.engine.vm.native.worth_it`;
      numpy without the ``fast`` extra).
    - ``out_of_range``: ``"error"`` rejects parameter values outside their declared
      [min, max]; ``"clip"`` clips them into range.
    - ``limits``: the size limits checked before allocating (:mod:`flywheel_sim.limits`).
    - ``cancel``: called between chunks of steps; when it returns True the run stops with
      :class:`flywheel_sim.errors.Cancelled` (the dashboard's time budget, a GUI's stop button).
    """

    backend: Backend = "auto"
    out_of_range: OutOfRange = "error"
    limits: Limits = DEFAULT_LIMITS
    cancel: Callable[[], bool] | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ParameterError(f"backend '{self.backend}' must be {', '.join(BACKENDS)}")
        if self.out_of_range not in OUT_OF_RANGE:
            raise ParameterError(
                f"out_of_range '{self.out_of_range}' must be {' or '.join(OUT_OF_RANGE)}"
            )


def simulate(
    model: Model | Program,
    params: ParamValues | pd.DataFrame | None = None,
    *,
    method: str | None = None,
    stop: float | None = None,
    dt: float | None = None,
    save_step: float | None = None,
    variables: Sequence[str] | None = None,
    seed: int | Sequence[int] | I64 | None = None,
    options: Options = Options(),
) -> xr.Dataset:
    """Simulate ``model`` for every parameter set in ``params``.

    ``params`` maps parameter names to scalars or 1-D arrays (all arrays the same length N), or
    is a DataFrame with one row per run; N runs are computed together. ``seed`` is one integer
    (each run derives its own stream) or one integer per run.
    Returns a Dataset with dims ("run", "time", *model dims).
    """
    return assemble(
        run_arrays(
            model,
            params,
            method=method,
            stop=stop,
            dt=dt,
            save_step=save_step,
            variables=variables,
            seed=seed,
            options=options,
        )
    )


def run_arrays(
    model: Model | Program,
    params: ParamValues | pd.DataFrame | None = None,
    *,
    method: str | None = None,
    stop: float | None = None,
    dt: float | None = None,
    save_step: float | None = None,
    variables: Sequence[str] | None = None,
    seed: int | Sequence[int] | I64 | None = None,
    options: Options = Options(),
    zero_stocks: tuple[Sequence[str | None], float] | None = None,
) -> RunArrays:
    """What :func:`simulate` computes, as the VM's arrays (no Dataset); same arguments, and
    ``zero_stocks``: (one stock name or None per run, a time) forces each run's stock to zero
    at that time (the first step at or after it)."""
    program = model if isinstance(model, Program) else compile_model(model, options.limits)
    matrix, n = parameter_matrix(program, params, options.out_of_range)
    seeds = run_seeds(seed, n)
    if seeds.size != n:
        matrix = np.repeat(matrix, seeds.size, axis=1)
    grid = time_grid(program, stop=stop, dt=dt, save_step=save_step, limits=options.limits)
    table = tableau(method or program.time.method)
    chosen = select_slots(program, variables)
    save_slots = (
        derived(program, _default_slots).copy() if variables is None else slots_of(program, chosen)
    )
    zeroing = None if zero_stocks is None else stock_zeroing(program, grid, *zero_stocks)
    if zeroing is not None and zeroing.mask.shape[1] != matrix.shape[1]:
        raise ParameterError(
            f"zero_stocks names {zeroing.mask.shape[1]} runs but there are {matrix.shape[1]}"
        )
    out, fail_slot, fail_time = execute(
        program, table, matrix, seeds, grid, save_slots, options, zeroing
    )
    return RunArrays(program, grid, table.name, matrix, seeds, chosen, out, fail_slot, fail_time)


def stock_zeroing(program: Program, grid: Grid, stocks: Sequence[str | None], at: float) -> Zeroing:
    """The reference VM's :class:`~flywheel_sim.engine.vm.reference.Zeroing` for one stock
    (all its elements) or None per run, at the first step at or after time ``at``."""
    from flywheel_sim.engine.vm.reference import Zeroing

    rows = {int(slot): row for row, slot in enumerate(program.stock_slots)}
    mask = np.zeros((len(program.stock_slots), len(stocks)), dtype=bool)
    by_key = {v.key: v for v in program.variables}
    for run, name in enumerate(stocks):
        if name is None:
            continue
        variable = by_key.get(canonical(name))
        if variable is None or variable.kind != "stock":
            raise ModelError(f"model '{program.name}' has no stock '{name}' to set to zero")
        for slot in variable.slots:
            mask[rows[int(slot)], run] = True
    step = max(1, min(grid.n_steps, math.ceil((at - grid.start) / grid.dt - 1e-9)))
    return Zeroing(step, mask)


def slots_of(program: Program, chosen: Sequence[int]) -> I64:
    """The slots of the variables ``chosen`` (indices into ``program.variables``), in order."""
    return np.array([s for i in chosen for s in program.variables[i].slots], np.int64)


def _visible(program: Program) -> tuple[int, ...]:
    return tuple(i for i, v in enumerate(program.variables) if v.kind != "parameter")


def _default_slots(program: Program) -> I64:
    return slots_of(program, _visible(program))


def select_slots(program: Program, names: Sequence[str] | None) -> list[int]:
    """The variables to save (indices into ``program.variables``): ``names``, or every
    variable but the parameters; ModelError for a name the model does not have."""
    if names is None:
        return list(derived(program, _visible))
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


def resolve_backend(name: Backend) -> Literal["numpy", "numba", "native", "auto"]:
    """The backend that runs: ``numpy`` when asked for, or for ``auto`` without the ``fast``
    extra; a compiled backend when asked for (ModelError without the extra). Finding out
    whether numba is installed does not import it."""
    if name == "numpy":
        return "numpy"
    if importlib.util.find_spec("numba") is None:
        if name != "auto":
            raise ModelError(
                f"the {name} backend needs the 'fast' extra",
                hint="pip install 'flywheel-sim[fast]'",
            )
        return "numpy"
    return name


def execute(
    program: Program,
    table: Tableau,
    matrix: F64,
    seeds: I64,
    grid: Grid,
    save_slots: I64,
    options: Options,
    zeroing: Zeroing | None = None,
) -> tuple[F64, I64, F64]:
    """Run the VM; returns saved values (slots, times, runs) and per-run failures;
    ``zeroing`` forces stocks to zero during the run (the model tests). LimitError before
    anything is allocated when the run is larger than ``options.limits`` allows; Cancelled
    when ``options.cancel`` (or :func:`flywheel_sim.engine.cancel.cancelling`) says to stop."""
    check_cells(program, grid, matrix.shape[1], options.limits)
    cancel = combined(options.cancel)
    backend = resolve_backend(options.backend)
    if backend in ("native", "auto") and zeroing is None:
        from flywheel_sim.engine.vm import native

        if native.supports(program) and (
            backend == "native" or native.worth_it(program, table, matrix.shape[1], grid)
        ):
            result = native.run(program, table, matrix, seeds, grid, save_slots, cancel)
            return result.out, result.fail_slot, result.fail_time
    if backend != "numpy":
        from flywheel_sim.engine.vm import block, compiled

        return compiled.run(
            program, table, matrix, seeds, grid, save_slots, block.BLOCK, zeroing, cancel
        )
    from flywheel_sim.engine.vm import reference

    batch = reference.run(program, table, matrix, seeds, grid, save_slots, zeroing, cancel)
    return batch.out, batch.fail_slot, batch.fail_time
