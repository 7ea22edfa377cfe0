"""The numba kernels' shared per-value operations (engine/vm/jitops.py) against NumPy.

Both kernels call these compiled functions, so the kernels agree with each other by
construction; these tests pin each operation to the NumPy VM's definition, value by value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from flywheel_sim import rng
from flywheel_sim.compile import ops

pytest.importorskip("numba")

from flywheel_sim.engine.vm import jitops  # after the skip: needs numba
from flywheel_sim.engine.vm.vecpow import pow1

VALUES = [-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, math.inf, -math.inf, math.nan]

BINARY = {
    ops.ADD: np.add,
    ops.SUB: np.subtract,
    ops.MUL: np.multiply,
    ops.DIV: np.divide,
    ops.MIN: np.minimum,
    ops.MAX: np.maximum,
    ops.MOD: np.mod,
    ops.EQ: np.equal,
    ops.NE: np.not_equal,
    ops.LT: np.less,
    ops.LE: np.less_equal,
    ops.GT: np.greater,
    ops.GE: np.greater_equal,
    ops.AND: lambda a, b: (a != 0.0) & (b != 0.0),
    ops.OR: lambda a, b: (a != 0.0) | (b != 0.0),
}
UNARY = {
    ops.NEG: np.negative,
    ops.NOT: lambda v: v == 0.0,
    ops.ABS: np.abs,
    ops.SQRT: np.sqrt,
    ops.EXP: np.exp,
    ops.LN: np.log,
    ops.LOG10: np.log10,
    ops.SIN: np.sin,
    ops.COS: np.cos,
    ops.TAN: np.tan,
    ops.ASIN: np.arcsin,
    ops.ACOS: np.arccos,
    ops.ATAN: np.arctan,
    ops.INT: np.floor,
}


def _same(a: float, b: float) -> bool:
    """Equal values, or both NaN (as the VMs' agreement tests compare; MIN(-0.0, 0.0) may be
    either zero)."""
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("op", list(BINARY))
def test_binary_operators_compute_what_numpy_computes(op: int) -> None:
    with np.errstate(all="ignore"):
        for a in VALUES:
            for b in VALUES:
                expected = float(BINARY[op](np.float64(a), np.float64(b)))
                assert _same(jitops.apply(op, a, b), expected), (op, a, b)


def test_powers_are_the_kernels_pow() -> None:
    for a in VALUES:
        for b in VALUES:
            assert _same(jitops.apply(ops.POW, a, b), pow1(a, b)), (a, b)


@pytest.mark.parametrize("op", list(UNARY))
def test_functions_of_one_value_compute_what_numpy_computes(op: int) -> None:
    # the numba kernels call libm; NumPy's SIMD loops may round the last bit differently
    with np.errstate(all="ignore"):
        for v in VALUES:
            expected = float(UNARY[op](np.float64(v)))
            got = jitops.function(op, v)
            assert _same(got, expected) or abs(got - expected) <= 1e-15 * abs(expected), (op, v)


def test_the_clock_and_the_input_functions() -> None:
    assert [
        jitops.clock(w, 3.0, 0.5, 1.0, 9.0) for w in (ops.TIME, ops.DT, ops.START, ops.STOP)
    ] == [
        3.0,
        0.5,
        1.0,
        9.0,
    ]
    eps = 1e-6 * 0.5
    assert jitops.step_input(2.0, eps, 5.0, 2.0) == 5.0
    assert jitops.step_input(1.5, eps, 5.0, 2.0) == 0.0
    assert jitops.ramp(3.0, 2.0, 1.0, 10.0) == 4.0
    assert jitops.ramp(12.0, 2.0, 1.0, 10.0) == 18.0
    assert jitops.ramp(0.5, 2.0, 1.0, 10.0) == 0.0
    assert jitops.safe_div(1.0, 0.0, 7.0) == 7.0
    assert jitops.safe_div(1.0, 4.0, 7.0) == 0.25
    pulses = [jitops.select_pulse(t * 0.5, 0.5, 3.0, 1.0, 2.0) for t in range(10)]
    assert pulses == [0.0, 0.0, 6.0, 0.0, 0.0, 0.0, 6.0, 0.0, 0.0, 0.0]


def test_lookups_interpolate_extrapolate_or_step() -> None:
    xs, ys = np.array([0.0, 1.0, 2.0]), np.array([0.0, 10.0, 30.0])
    interp = [jitops.lookup(x, xs, ys, ops.LK_CONTINUOUS) for x in (-1.0, 0.5, 1.5, 3.0)]
    assert interp == [0.0, 5.0, 20.0, 30.0]
    extra = [jitops.lookup(x, xs, ys, ops.LK_EXTRAPOLATE) for x in (-1.0, 3.0)]
    assert extra == [-10.0, 50.0]
    steps = [jitops.lookup(x, xs, ys, ops.LK_DISCRETE) for x in (-1.0, 0.5, 1.0, 9.0)]
    assert steps == [0.0, 0.0, 10.0, 30.0]


def test_delays_read_the_recorded_history() -> None:
    hist = np.array([[1.0, 2.0, 4.0, 8.0]])  # one buffer, four recorded steps of dt 0.5
    assert jitops.delay(hist, 0, 1.5, 0.0, 0.5, 3, 0.5, -1.0) == 4.0
    assert jitops.delay(hist, 0, 1.5, 0.0, 0.5, 3, 0.25, -1.0) == 6.0  # halfway 4 -> 8
    assert jitops.delay(hist, 0, 1.5, 0.0, 0.5, 3, 2.0, -1.0) == -1.0  # before the start
    assert jitops.delay(hist[:, :0], 0, 0.0, 0.0, 0.5, 0, 0.0, -1.0) == -1.0  # none recorded


def test_uniforms_are_the_counter_based_hash_bit_for_bit() -> None:
    keys = rng.run_keys(np.arange(20, dtype=np.int64))
    skey = rng.site_key(3, -1)
    for step, draw in ((0, 0), (7, 1), (123456, 5)):
        expected = rng.uniform(keys, skey, step, draw)
        got = [jitops.uniform(k, skey, step, draw) for k in keys]
        assert np.array_equal(got, expected)
        first = rng.uniform(keys, skey, step, 0)  # RANDOM takes the site's first draw
        uniform = [jitops.random(ops.RANDOM, k, skey, step, 2.0, 6.0) for k in keys]
        assert np.array_equal(uniform, 2.0 + (6.0 - 2.0) * first)


def test_a_lookup_of_nan_is_nan_in_every_vm() -> None:
    # a NaN input used to search past the table's end in the numba kernels (a value read
    # from beyond the table); np.interp in the NumPy VM gives NaN
    xs, ys = np.array([0.0, 1.0, 2.0]), np.array([0.0, 2.0, 1.0])
    for kind in (ops.LK_CONTINUOUS, ops.LK_EXTRAPOLATE):
        assert math.isnan(jitops.lookup(math.nan, xs, ys, kind))
    assert jitops.lookup(math.nan, xs, ys, ops.LK_DISCRETE) == 1.0  # the last step holds
