"""Powers through glibc's vector ``pow``: within one unit in the last place of the scalar
``pow``, the same special values, and each lane on its own (so kernels agree bit for bit)."""

from __future__ import annotations

import ctypes
import ctypes.util
import math

import numba
import numpy as np
import pytest

from flywheel_sim.engine.vm import vecpow
from flywheel_sim.engine.vm.rows import pow_row_value, pow_rows


@numba.njit
def _eight(x: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
    for r in range(0, len(x), 8):
        p = vecpow.pow8(
            (x[r], x[r + 1], x[r + 2], x[r + 3], x[r + 4], x[r + 5], x[r + 6], x[r + 7]),
            (y[r], y[r + 1], y[r + 2], y[r + 3], y[r + 4], y[r + 5], y[r + 6], y[r + 7]),
        )
        for k in range(8):
            out[r + k] = p[k]


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.view(np.int64) - b.view(np.int64))


def test_powers_are_within_one_unit_in_the_last_place_of_the_scalar_pow() -> None:
    rng = np.random.default_rng(5)
    x = np.exp(rng.uniform(-30, 30, 80_000))
    y = rng.uniform(-4, 4, 80_000)
    out = np.empty_like(x)
    _eight(x, y, out)
    scalar = np.array([math.pow(a, b) for a, b in zip(x, y, strict=True)])
    assert _ulps(out, scalar).max() <= 1
    # every lane alone gives what it gives among seven others
    alone = np.array([vecpow.pow1(a, b) for a, b in zip(x[:4000], y[:4000], strict=True)])
    assert np.array_equal(alone, out[:4000])


SPECIAL = [
    (0.0, 0.0), (0.0, -1.0), (-0.0, -3.0), (0.0, 2.5), (-2.0, 3.0), (-2.0, 2.0), (-2.0, 0.5),
    (math.inf, -1.0), (math.inf, 2.0), (-math.inf, 3.0), (math.nan, 0.0), (1.0, math.nan),
    (math.nan, 1.0), (2.0, math.inf), (0.5, math.inf), (1e300, 2.0), (1e-300, 2.0),
    (5e-324, 0.5), (1.0, -1e308), (-1.0, math.inf), (7.0, 1.0), (7.0, 0.0),
]  # fmt: skip


def _libm_pow() -> ctypes._CFuncPtr:
    path = ctypes.util.find_library("m")
    if path is None:
        pytest.skip("no C maths library to compare with")
    function = ctypes.CDLL(path).pow
    function.restype = ctypes.c_double
    function.argtypes = (ctypes.c_double, ctypes.c_double)
    return function


@pytest.mark.parametrize(("x", "y"), SPECIAL)
def test_special_values_are_those_of_the_scalar_pow(x: float, y: float) -> None:
    expected = _libm_pow()(x, y)  # C's pow: no Python exceptions for poles and overflow
    got = vecpow.pow1(x, y)
    assert np.array([got]).view(np.int64) == np.array([expected]).view(np.int64) or (
        math.isnan(got) and math.isnan(expected)
    )


def test_row_powers_handle_the_tail_and_write_over_their_operand() -> None:
    rng = np.random.default_rng(2)
    for width in (1, 7, 8, 13, 256):
        R = np.empty((3, width))
        R[0] = np.exp(rng.uniform(-3, 3, width))
        R[1] = rng.uniform(-2, 2, width)
        pow_rows(R, 2, 0, 1, width)
        expected = np.array([vecpow.pow1(a, b) for a, b in zip(R[0], R[1], strict=True)])
        assert np.array_equal(R[2], expected)
        before = R[0].copy()
        pow_row_value(R, 0, 0, 1.7, width)  # over its own operand
        assert np.array_equal(R[0], np.array([vecpow.pow1(a, 1.7) for a in before]))


def test_the_variant_matches_the_machine() -> None:
    if vecpow.VARIANT is None:
        pytest.skip("no libmvec here: the scalar pow is used")
    lanes, name = vecpow.VARIANT
    assert lanes in (2, 4, 8) and name == f"_ZGV{'bde'[(2, 4, 8).index(lanes)]}N{lanes}vv_pow"
