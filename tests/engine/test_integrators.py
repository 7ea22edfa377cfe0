"""Integration methods are tables; malformed tables are rejected."""

from __future__ import annotations

import numpy as np
import pytest

import flywheel_sim as fs
from flywheel_sim.engine.integrators import Tableau, tableau


def test_builtin_tableaus() -> None:
    assert set(fs.METHODS) == {"euler", "heun", "rk4"}
    rk4 = tableau("RK4")
    assert rk4.stages == 4 and rk4.order == 4
    np.testing.assert_allclose(rk4.c, [0, 0.5, 0.5, 1])


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([[0, 1], [0, 0]], [0.5, 0.5], "only explicit"),
        ([[0, 0], [1, 0]], [0.5, 0.6], "sum to 1"),
        ([[0]], [0.5, 0.5], "must be 2x2"),
    ],
)
def test_bad_tableaus(a: list[list[float]], b: list[float], message: str) -> None:
    arr = np.array(a, dtype=float)
    with pytest.raises(ValueError, match=message):
        Tableau("bad", arr, np.array(b, dtype=float), arr.sum(axis=1), 1)


def test_unknown_method_hint() -> None:
    with pytest.raises(fs.ModelError, match="did you mean 'heun'"):
        tableau("heunn")
