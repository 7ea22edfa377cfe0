"""The time grid (engine/grid.py)."""

from __future__ import annotations

import numpy as np
import pytest

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.engine.grid import time_grid

MODEL = """\
name: clock
time: {start: 2000, stop: 2010, dt: 0.25, save_step: 1}
stocks:
  x: {initial: 1, inflows: [f]}
flows:
  f: {equation: "0.1 * x"}
"""


def test_the_grid_follows_the_model_and_its_overrides() -> None:
    program = fs.compile_model(model_from(MODEL))
    grid = time_grid(program, stop=None, dt=None, save_step=None)
    assert (grid.start, grid.stop, grid.dt, grid.n_steps, grid.save_every) == (
        2000.0,
        2010.0,
        0.25,
        40,
        4,
    )
    assert grid.n_saved == len(grid.times) == 11
    assert np.array_equal(grid.times, np.arange(2000.0, 2010.5, 1.0))
    short = time_grid(program, stop=2004, dt=0.5, save_step=2)
    assert (short.n_steps, short.save_every, short.n_saved) == (8, 4, 3)
    assert short.times.tolist() == [2000.0, 2002.0, 2004.0]


@pytest.mark.parametrize(
    ("stop", "dt", "save_step", "message"),
    [
        (1999, None, None, "must be after the start"),
        (None, 0.0, None, "dt must be positive"),
        (None, 0.3, None, "not a whole number of steps"),
        (None, None, 0.3, "not a whole multiple of dt"),
        (None, None, 3, "does not divide the run length"),
    ],
)
def test_a_grid_that_does_not_fit_is_rejected(
    stop: float | None, dt: float | None, save_step: float | None, message: str
) -> None:
    program = fs.compile_model(model_from(MODEL))
    with pytest.raises(fs.ModelError, match=message):
        time_grid(program, stop=stop, dt=dt, save_step=save_step)
