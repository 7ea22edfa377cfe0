"""Integration methods as data: explicit Runge-Kutta (Butcher) tableaus run by one stepper.

Adding a method is adding a table. ``a`` is strictly lower triangular (explicit methods);
``b`` are the weights; ``c`` the stage times as fractions of DT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel_sim._types import F64
from flywheel_sim.errors import ModelError, did_you_mean


@dataclass(frozen=True)
class Tableau:
    name: str
    a: F64
    b: F64
    c: F64
    order: int

    def __post_init__(self) -> None:
        stages = len(self.b)
        if self.a.shape != (stages, stages) or self.c.shape != (stages,):
            raise ValueError(f"tableau {self.name}: a must be {stages}x{stages}, c length {stages}")
        if np.any(np.triu(self.a) != 0):
            raise ValueError(f"tableau {self.name}: only explicit methods are supported")
        if not np.isclose(self.b.sum(), 1.0):
            raise ValueError(f"tableau {self.name}: weights b must sum to 1")
        if not np.allclose(self.a.sum(axis=1), self.c):
            raise ValueError(f"tableau {self.name}: rows of a must sum to c")

    @property
    def stages(self) -> int:
        return len(self.b)


def _tableau(name: str, a: list[list[float]], b: list[float], order: int) -> Tableau:
    arr = np.array(a, dtype=np.float64)
    return Tableau(name, arr, np.array(b, dtype=np.float64), arr.sum(axis=1), order)


METHODS: dict[str, Tableau] = {
    "euler": _tableau("euler", [[0.0]], [1.0], 1),
    "heun": _tableau("heun", [[0.0, 0.0], [1.0, 0.0]], [0.5, 0.5], 2),
    "rk4": _tableau(
        "rk4",
        [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1.0, 0]],
        [1 / 6, 1 / 3, 1 / 3, 1 / 6],
        4,
    ),
}


def tableau(name: str) -> Tableau:
    """The tableau called ``name`` (euler, heun, rk4); ModelError for anything else."""
    key = name.lower()
    if key not in METHODS:
        hint = did_you_mean(key, list(METHODS)) or f"use one of {', '.join(METHODS)}"
        raise ModelError(f"unknown integration method '{name}'", hint=hint)
    return METHODS[key]
