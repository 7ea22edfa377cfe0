"""The operations both numba kernels perform on one value at a time, compiled once.

The block kernel (:mod:`flywheel_sim.engine.vm.block`) calls them once per run of a block, the
scalar kernel (:mod:`flywheel_sim.engine.vm.scalar`) once per run; because both call the same
compiled function, a run gets the same bits from either. Here are the binary operators
(:func:`apply`), the functions of one value (:func:`function`), the clock, the input
functions (STEP, RAMP, PULSE), the safe division, lookups, delays and the counter-based random
draws (:mod:`flywheel_sim.rng`'s hash, in compiled form). Nothing here imports a kernel.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from flywheel_sim import rng
from flywheel_sim._types import F64
from flywheel_sim.compile import ops
from flywheel_sim.engine.vm.vecpow import pow1

jit = numba.njit(cache=True, nogil=True, error_model="numpy")
inline_jit = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")

_GOLDEN, _M1, _M2, _STEPK = rng.GOLDEN, rng.M1, rng.M2, rng.STEP
_U30, _U27, _U31, _U11 = rng.S30, rng.S27, rng.S31, rng.S11
_TWO53 = rng.TWO53


@jit
def apply(op: int, a: float, b: float) -> float:
    """``a <op> b`` for one pair of values (arithmetic, comparisons, AND/OR, MOD, MIN/MAX)."""
    if op == ops.MUL:
        return a * b
    if op == ops.ADD:
        return a + b
    if op == ops.SUB:
        return a - b
    if op == ops.DIV:
        return a / b
    if op == ops.POW:
        return pow1(a, b)
    if op == ops.MIN:
        return a if (a <= b or a != a) else b
    if op == ops.MAX:
        return a if (a >= b or a != a) else b
    if op == ops.MOD:
        return float(np.mod(a, b))
    if op == ops.EQ:
        return 1.0 if a == b else 0.0
    if op == ops.NE:
        return 1.0 if a != b else 0.0
    if op == ops.LT:
        return 1.0 if a < b else 0.0
    if op == ops.LE:
        return 1.0 if a <= b else 0.0
    if op == ops.GT:
        return 1.0 if a > b else 0.0
    if op == ops.GE:
        return 1.0 if a >= b else 0.0
    if op == ops.AND:
        return 1.0 if (a != 0.0 and b != 0.0) else 0.0
    return 1.0 if (a != 0.0 or b != 0.0) else 0.0  # OR


@jit
def function(op: int, v: float) -> float:
    """A function of one value (NEG, NOT, ABS ... INT)."""
    if op == ops.NEG:
        return -v
    if op == ops.EXP:
        return float(np.exp(v))
    if op == ops.LN:
        return float(np.log(v))
    if op == ops.ABS:
        return abs(v)
    if op == ops.SQRT:
        return float(np.sqrt(v))
    if op == ops.LOG10:
        return float(np.log10(v))
    if op == ops.SIN:
        return float(np.sin(v))
    if op == ops.COS:
        return float(np.cos(v))
    if op == ops.TAN:
        return float(np.tan(v))
    if op == ops.ASIN:
        return float(np.arcsin(v))
    if op == ops.ACOS:
        return float(np.arccos(v))
    if op == ops.ATAN:
        return float(np.arctan(v))
    if op == ops.INT:
        return float(np.floor(v))
    return 1.0 if v == 0.0 else 0.0  # NOT


@jit
def clock(which: int, t: float, dt: float, start: float, stop: float) -> float:
    """The value of TIME, DT, START or STOP."""
    if which == ops.TIME:
        return t
    if which == ops.DT:
        return dt
    return start if which == ops.START else stop


@jit
def step_input(t: float, eps: float, height: float, start: float) -> float:
    """STEP(height, start) at time t."""
    return height if t >= start - eps else 0.0


@jit
def ramp(t: float, slope: float, begin: float, end: float) -> float:
    """RAMP(slope, begin, end) at time t."""
    return slope * (min(t, end) - begin) if t > begin else 0.0


@jit
def safe_div(a: float, b: float, fallback: float) -> float:
    """SAFEDIV: ``a / b``, or ``fallback`` where b is 0."""
    return fallback if b == 0.0 else a / b


@jit
def select_pulse(t: float, dt: float, volume: float, first: float, interval: float) -> float:
    """PULSE(volume, first, interval) at time t: volume / dt during the step of each pulse."""
    eps = 1e-6 * dt
    since = t - first
    periods = math.floor((since + eps) / interval) if interval > 0 else 0.0
    offset = since - periods * interval
    if since >= -eps and offset < dt - eps and offset >= -eps:
        return volume / dt
    return 0.0


@jit
def lookup(x: float, xs: F64, ys: F64, kind: int) -> float:
    """The lookup table (xs, ys) at x: interpolated, extrapolated or discrete by ``kind``."""
    n = len(xs)
    if kind == ops.LK_DISCRETE:
        k = int(np.searchsorted(xs, x, side="right")) - 1
        return ys[min(max(k, 0), n - 1)]
    if x <= xs[0] or n == 1:
        if kind == ops.LK_EXTRAPOLATE and n > 1 and x < xs[0]:
            return ys[0] + (x - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0])
        return ys[0]
    if x >= xs[n - 1]:
        if kind == ops.LK_EXTRAPOLATE and x > xs[n - 1]:
            return ys[n - 1] + (x - xs[n - 1]) * (ys[n - 1] - ys[n - 2]) / (xs[n - 1] - xs[n - 2])
        return ys[n - 1]
    if x != x:  # NaN: no interval holds it (searching would index past the table)
        return x
    i = np.searchsorted(xs, x, side="right") - 1
    if xs[i + 1] == xs[i]:
        return ys[i + 1]
    return ys[i] + (x - xs[i]) * (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])


@jit
def delay(
    hist: F64,
    buffer: int,
    t: float,
    start: float,
    dt: float,
    step: int,
    lag: float,
    initial: float,
) -> float:
    """DELAY: buffer ``buffer``'s recorded value at ``t - lag``, linearly interpolated
    between steps; ``initial`` before the start (``hist`` is the recorded prefix)."""
    target = t - lag
    latest = hist.shape[1] - 1
    if latest < 0 or target < start - 1e-9 * dt:
        return initial
    pos = min(max((target - start) / dt, 0.0), float(latest))
    if pos != pos:  # a NaN lag: no recorded step (indexing by it read outside the buffer)
        return pos
    i = math.floor(pos)
    j = min(i + 1, latest)
    frac = pos - i
    return hist[buffer, i] * (1.0 - frac) + hist[buffer, j] * frac


@jit
def history(hist: F64, buffer: int, start: float, dt: float, when: float, initial: float) -> float:
    """HISTORY: buffer ``buffer``'s recorded value at time ``when``, linearly interpolated
    between steps; ``initial`` at or before the start; NaN (the run fails) for a time not
    recorded yet (``hist`` is the recorded prefix)."""
    if when <= start + 1e-9 * dt:
        return initial
    latest = hist.shape[1] - 1
    pos = (when - start) / dt
    if not pos <= latest + 1e-6:
        return math.nan
    pos = min(pos, float(latest))
    i = math.floor(pos)
    j = min(i + 1, latest)
    frac = pos - i
    return hist[buffer, i] * (1.0 - frac) + hist[buffer, j] * frac


@jit
def mix(z: np.uint64) -> np.uint64:
    """SplitMix64's finaliser (:func:`flywheel_sim.rng.mix` on one value)."""
    z = z + _GOLDEN
    z = (z ^ (z >> _U30)) * _M1
    z = (z ^ (z >> _U27)) * _M2
    return z ^ (z >> _U31)


@jit
def uniform(key: np.uint64, skey: np.uint64, step: int, draw: int) -> float:
    """The uniform in (0, 1) of run ``key``, call site ``skey``, step and draw."""
    counter = np.uint64(step) * _STEPK + np.uint64(draw)
    z = mix(mix(key ^ skey) + counter)
    return (float(z >> _U11) + 0.5) * _TWO53


@jit
def poisson(key: np.uint64, skey: np.uint64, step: int, lam: float) -> float:
    """A Poisson draw: inversion below a mean of 30, Hörmann's PTRS above (in floats, so a
    huge mean gives a huge count, not an overflowed integer); NaN (the run fails) for a
    negative or NaN mean."""
    if not lam >= 0.0:
        return math.nan
    if lam == 0.0:
        return 0.0
    if lam < 30.0:
        u = uniform(key, skey, step, 0)
        p = math.exp(-lam)
        cdf = p
        k = 0.0
        while u > cdf and k < 1000:
            k += 1.0
            p = p * lam / k
            cdf += p
        return k
    slam, loglam = math.sqrt(lam), math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    for j in range(1000):
        u = uniform(key, skey, step, 2 * j) - 0.5
        v = uniform(key, skey, step, 2 * j + 1)
        us = 0.5 - abs(u)
        k = float(np.floor((2 * a / us + b) * u + lam + 0.43))
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        lhs = math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
        if lhs <= -lam + k * loglam - math.lgamma(k + 1):
            return k
    return math.nan


@jit
def random(op: int, key: np.uint64, skey: np.uint64, step: int, a: float, b: float) -> float:
    """RANDOM(a, b), NORMAL(a, b), LOGNORMAL(a, b), EXPRND(a) or POISSON(a) for one run."""
    if op == ops.RANDOM:
        return a + (b - a) * uniform(key, skey, step, 0)
    if op == ops.EXPRND:  # a negative mean has no draw: NaN, the run fails
        return -a * np.log(uniform(key, skey, step, 0)) if not a < 0.0 else math.nan
    if op == ops.POISSON:
        return poisson(key, skey, step, a)
    u1 = uniform(key, skey, step, 0)
    u2 = uniform(key, skey, step, 1)
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    if op == ops.NORMAL:
        return a + b * z
    sigma2 = math.log1p((b * b) / (a * a))
    return math.exp(math.log(a) - 0.5 * sigma2 + math.sqrt(sigma2) * z)
