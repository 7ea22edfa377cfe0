"""The market level of Vensim's allocations for the numba VM, one run at a time: ops
``AVAILABLE`` (ALLOCATE AVAILABLE) and ``PRIORITY`` (ALLOCATE BY PRIORITY).

The same bisection, curves and balanced tree of sums as the NumPy VM's
(:mod:`flywheel_sim.engine.vm.levels`), with the minimum, maximum and exponential of
:mod:`flywheel_sim.engine.vm.jitops`, so both kernels and both VMs agree.
"""

from __future__ import annotations

import math

import numpy as np

from flywheel_sim._types import F64
from flywheel_sim.compile import ops
from flywheel_sim.compile.allocate import HALVINGS, NORMAL_B, NORMAL_P, NORMAL_PDF
from flywheel_sim.compile.vectors import BISECTIONS
from flywheel_sim.engine.vm import jitops
from flywheel_sim.engine.vm.jitops import jit

_B0, _B1, _B2 = NORMAL_B


@jit
def _clamp01(x: float) -> float:
    return jitops.apply(ops.MIN, jitops.apply(ops.MAX, x, 0.0), 1.0)


@jit
def taken(kind: float, z: float) -> float:
    """The fraction of its request a requester of profile type ``kind`` takes at the
    standardised level ``z`` (NaN for a type other than 1 to 4)."""
    if kind == 1.0 or kind == 2.0:
        rest = _clamp01(0.5 - z)
        if kind == 1.0:
            return rest
        over = 1.0 - rest
        return 2.0 * (rest * rest) if rest <= 0.5 else 1.0 - 2.0 * (over * over)
    size = abs(z)
    if kind == 3.0:
        t = 1.0 / (1.0 + NORMAL_P * size)
        poly = _B0 + t * (_B1 + t * _B2)
        tail = (NORMAL_PDF * jitops.function(ops.EXP, (size * size) / -2.0)) * (t * poly)
        return tail if z >= 0.0 else 1.0 - tail
    if kind == 4.0:
        side = 0.5 * jitops.function(ops.EXP, 0.0 - size)
        return side if z >= 0.0 else 1.0 - side
    return math.nan


@jit
def tree_sum(buf: F64, n: int) -> float:
    """The sum of ``buf[:n]`` in pairs, as compile/arrays.py's ``reduce`` adds (overwrites
    ``buf``)."""
    m = n
    while m > 1:
        half = m // 2
        for j in range(half):
            buf[j] = buf[2 * j] + buf[2 * j + 1]
        if m % 2:
            buf[half] = buf[m - 1]
            half += 1
        m = half
    total: float = buf[0]
    return total


@jit
def level(op: int, v: F64, n: int) -> float:
    """The level of op ``AVAILABLE`` or ``PRIORITY`` over ``n`` requesters, from the values it
    pops (``v``, in order)."""
    buf = np.empty(max(n, 1))
    if op == ops.AVAILABLE:
        lo, hi, s, halvings = v[4 * n], v[4 * n + 1], v[4 * n + 2], HALVINGS
    else:
        lo, hi, s, halvings = v[2 * n + 1], v[2 * n + 2], v[2 * n + 3], BISECTIONS
    for _ in range(halvings):
        mid = (lo + hi) / 2.0
        for i in range(n):
            if op == ops.AVAILABLE:
                fraction = taken(v[n + i], (mid - v[2 * n + i]) / v[3 * n + i])
            else:
                fraction = _clamp01((v[n + i] - mid) / v[2 * n])
            buf[i] = v[i] * fraction
        if tree_sum(buf, n) >= s:
            lo = mid
        else:
            hi = mid
    out: float = (lo + hi) / 2.0
    return out
