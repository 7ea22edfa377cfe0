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


@pytest.mark.parametrize(
    ("stop", "dt", "save_step", "message"),
    [
        (1e308, 1e-300, None, "too many steps to count"),
        (float("inf"), None, None, "stop time must be a finite number"),
        (float("nan"), None, None, "stop time must be a finite number"),
        (None, float("nan"), None, "dt must be a finite number"),
        (None, float("inf"), None, "dt must be a finite number"),
        (None, -1.0, None, "dt must be positive"),
        (None, None, float("nan"), "save step must be a finite number"),
        (None, None, float("inf"), "save step must be a finite number"),
        (None, None, 1e300, "longer than the run"),
        (None, None, -1.0, "save step must be positive"),
    ],
)
def test_times_that_are_not_finite_or_too_many_are_one_line_errors(
    stop: float | None, dt: float | None, save_step: float | None, message: str
) -> None:
    """issue 18: ``stop: 1e308`` with ``dt: 1e-300`` raised OverflowError; NaN/inf overrides
    must be refused by name, not crash or hang."""
    program = fs.compile_model(model_from(MODEL))
    with pytest.raises(fs.ModelError, match=message) as caught:
        time_grid(program, stop=stop, dt=dt, save_step=save_step)
    assert "\n" not in str(caught.value)


def test_a_run_over_the_cell_limit_is_refused_before_anything_is_allocated() -> None:
    """issue 18: ``dt: 1e-9`` over ten years is 1e10 steps; refused at once with the model,
    the steps, the slots, the limit and the fix, unless the limit is raised."""
    from flywheel_sim.errors import LimitError
    from flywheel_sim.limits import Limits

    program = fs.compile_model(model_from(MODEL))
    with pytest.raises(LimitError) as caught:
        time_grid(program, stop=None, dt=1e-9, save_step=1)
    text = str(caught.value)
    for part in ("'clock'", "10,000,000,001 steps", "slots", "500,000,000", "--max-cells"):
        assert part in text, text
    with pytest.raises(LimitError, match="max_cells"):
        fs.simulate(model_from(MODEL), dt=1e-9, save_step=1)
    raised = Limits(max_cells=10**12)
    assert time_grid(program, stop=None, dt=1e-9, save_step=1, limits=raised).n_steps == 10**10
