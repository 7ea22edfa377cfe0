"""The time grid of a simulation: start, step, number of steps and which steps are saved."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from flywheel_sim._types import F64
from flywheel_sim.compile import Program
from flywheel_sim.errors import LimitError, ModelError
from flywheel_sim.limits import DEFAULT as DEFAULT_LIMITS
from flywheel_sim.limits import Limits


@dataclass(frozen=True, slots=True)
class Grid:
    start: float
    stop: float
    dt: float
    n_steps: int
    save_every: int

    @property
    def times(self) -> F64:
        steps = np.arange(0, self.n_steps + 1, self.save_every)
        return np.asarray(self.start + steps * self.dt, dtype=np.float64)

    @property
    def n_saved(self) -> int:
        """How many times are saved (the first, then every ``save_every`` steps)."""
        return self.n_steps // self.save_every + 1


def time_grid(
    program: Program,
    *,
    stop: float | None,
    dt: float | None,
    save_step: float | None,
    limits: Limits = DEFAULT_LIMITS,
) -> Grid:
    """The grid of ``program``'s time spec, with ``stop``/``dt``/``save_step`` overriding it;
    ModelError unless every time is a finite number, dt divides the run and the save step is
    a whole multiple of dt; LimitError when one run alone needs more than ``limits.max_cells``
    (:func:`check_cells`), before anything the size of the run is allocated."""
    spec = program.time
    start = _finite("start time", spec.start)
    stop = _finite("stop time", spec.stop if stop is None else stop)
    dt = _finite("dt", spec.dt if dt is None else dt)
    if not stop > start:
        raise ModelError(f"stop time {stop:g} must be after the start time {start:g}")
    if not dt > 0:
        raise ModelError(f"dt must be positive, not {dt:g}")
    steps = (stop - start) / dt
    if not math.isfinite(steps):
        raise ModelError(
            f"the run from {start:g} to {stop:g} in steps of dt {dt:g} has too many steps to count",
            hint="use a larger dt or a shorter run",
        )
    n_steps = round(steps)
    if abs(steps - n_steps) > 1e-6 * max(1.0, steps) or n_steps < 1:
        raise ModelError(
            f"the run length {stop - start:g} is not a whole number of steps of dt {dt:g}",
            hint="choose a dt that divides stop - start",
        )
    save = spec.save_step if save_step is None else save_step
    save = dt if save is None else _finite("save step", save)
    if not save > 0:
        raise ModelError(f"save step must be positive, not {save:g}")
    every = save / dt
    if not math.isfinite(every) or every > n_steps:
        raise ModelError(
            f"save step {save:g} is longer than the run ({stop - start:g})",
            hint="choose a save_step that divides stop - start",
        )
    save_every = round(every)
    if save_every < 1 or abs(every - save_every) > 1e-6 * every:
        raise ModelError(
            f"save step {save:g} is not a whole multiple of dt {dt:g}",
            hint="make save_step a multiple of dt",
        )
    if n_steps % save_every:
        raise ModelError(
            f"save step {save:g} does not divide the run length {stop - start:g}",
            hint="choose a save_step that divides stop - start",
        )
    grid = Grid(start, start + n_steps * dt, dt, n_steps, save_every)
    check_cells(program, grid, 1, limits)
    return grid


def _finite(label: str, value: object) -> float:
    """``value`` as a finite float; ModelError naming ``label`` otherwise."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ModelError(f"{label} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise ModelError(
            f"{label} must be a finite number, not {number}", hint=f"give a finite {label}"
        )
    return number


def check_cells(program: Program, grid: Grid, runs: int, limits: Limits) -> None:
    """LimitError when steps × slots × runs exceeds ``limits.max_cells``, before the run's
    arrays are allocated: each cell is one slot of one run at one step, the work of the run
    (and the most its saved values and delay histories can hold)."""
    steps = grid.n_steps + 1
    slots = max(1, int(program.n_slots))
    cells = steps * slots * runs
    if cells <= limits.max_cells:
        return
    raise LimitError(
        f"model '{program.name}' needs {steps:,} steps × {slots:,} slots × {runs:,} "
        f"run{'s' if runs != 1 else ''} = {cells:.3g} cells, over the limit of "
        f"{limits.max_cells:,} (max_cells) — use a larger dt, a shorter run or fewer runs, "
        "or raise the limit with --max-cells N or FLYWHEEL_MAX_CELLS=N in the environment "
        "(API: Options(limits=Limits(max_cells=N)))"
    )
