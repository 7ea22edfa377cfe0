"""The time grid of a simulation: start, step, number of steps and which steps are saved."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from flywheel_sim._types import F64
from flywheel_sim.compile import Program
from flywheel_sim.errors import ModelError


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
    program: Program, *, stop: float | None, dt: float | None, save_step: float | None
) -> Grid:
    """The grid of ``program``'s time spec, with ``stop``/``dt``/``save_step`` overriding it;
    ModelError unless dt divides the run and the save step is a whole multiple of dt."""
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
