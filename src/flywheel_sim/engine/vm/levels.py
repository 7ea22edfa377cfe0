"""The market level of Vensim's allocations for the NumPy VM: ops ``AVAILABLE`` (ALLOCATE
AVAILABLE, compile/allocate.py) and ``PRIORITY`` (ALLOCATE BY PRIORITY, compile/vectors.py).

Each op finds, by bisection, the level at which the requesters together take what is
available, for all runs at once: every halving is a few NumPy calls over a (requesters, runs)
array. The compiler writes the allocations themselves (each request times the fraction it
takes at that level) as ordinary expressions. The arithmetic is the one those compilers used
to write out as expressions, operation for operation (the same curves, the same balanced
tree of sums, the same halvings), so the levels are the values the expressions gave; the
numba VM computes the same in :mod:`flywheel_sim.engine.vm.jitlevels`.
"""

from __future__ import annotations

import numpy as np

from flywheel_sim._types import F64
from flywheel_sim.compile import ops
from flywheel_sim.compile.allocate import HALVINGS, NORMAL_B, NORMAL_P, NORMAL_PDF
from flywheel_sim.compile.vectors import BISECTIONS


def tree_sum(v: F64) -> F64:
    """The sum over the first axis as compile/arrays.py's ``reduce`` adds: in pairs, a
    balanced tree, an odd one out carried to the next round."""
    while v.shape[0] > 1:
        half = v.shape[0] // 2
        paired = v[0 : 2 * half : 2] + v[1 : 2 * half : 2]
        v = np.concatenate((paired, v[2 * half :])) if v.shape[0] % 2 else paired
    total: F64 = v[0]
    return total


def taken(present: list[tuple[float, F64]], z: F64) -> F64:
    """The fraction of its request each requester takes at standardised level ``z``: 1 - F(z)
    of its profile type (compile/allocate.py's curves), NaN for a type other than 1 to 4.
    ``present``: each type some requester has, with where (a mask like ``z``)."""
    out = np.full(z.shape, np.nan)
    rest = np.minimum(np.maximum(0.5 - z, 0.0), 1.0)
    size = np.abs(z)
    above = z >= 0.0
    for kind, where in present:
        if kind == 1.0:
            curve = rest
        elif kind == 2.0:
            over = 1.0 - rest
            curve = np.where(rest <= 0.5, 2.0 * (rest * rest), 1.0 - 2.0 * (over * over))
        elif kind == 3.0:
            t = 1.0 / (1.0 + NORMAL_P * size)
            poly = NORMAL_B[1] + t * NORMAL_B[2]
            poly = NORMAL_B[0] + t * poly
            tail = (NORMAL_PDF * np.exp((size * size) / -2.0)) * (t * poly)
            curve = np.where(above, tail, 1.0 - tail)
        else:
            side = 0.5 * np.exp(0.0 - size)
            curve = np.where(above, side, 1.0 - side)
        out = np.where(where, curve, out)
    return out


def _rows(values: list[F64 | float], runs: int) -> F64:
    out = np.empty((len(values), runs))
    for j, value in enumerate(values):
        out[j] = value
    return out


def available(v: F64, n: int) -> F64:
    """ALLOCATE AVAILABLE's level: rows request, ptype, priority, width (n each), then low,
    high and avail."""
    r, kind, p, w = v[:n], v[n : 2 * n], v[2 * n : 3 * n], v[3 * n : 4 * n]
    lo, hi, s = v[4 * n], v[4 * n + 1], v[4 * n + 2]
    present = [(k, kind == k) for k in (1.0, 2.0, 3.0, 4.0) if (kind == k).any()]
    for _ in range(HALVINGS):
        mid = (lo + hi) / 2.0
        enough = tree_sum(r * taken(present, (mid - p) / w)) >= s
        lo, hi = np.where(enough, mid, lo), np.where(enough, hi, mid)
    out: F64 = (lo + hi) / 2.0
    return out


def priority(v: F64, n: int) -> F64:
    """ALLOCATE BY PRIORITY's level: rows request, priority (n each), then width, low, high and
    supply."""
    r, p = v[:n], v[n : 2 * n]
    w, lo, hi, s = v[2 * n], v[2 * n + 1], v[2 * n + 2], v[2 * n + 3]
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2.0
        share = np.minimum(np.maximum((p - mid) / w, 0.0), 1.0)
        enough = tree_sum(r * share) >= s
        lo, hi = np.where(enough, mid, lo), np.where(enough, hi, mid)
    out: F64 = (lo + hi) / 2.0
    return out


def level(op: int, values: list[F64 | float], n: int, runs: int) -> F64:
    """The level of op ``AVAILABLE`` or ``PRIORITY`` over ``n`` requesters, from the values it
    pops (each a number or one value per run)."""
    v = _rows(values, runs)
    return available(v, n) if op == ops.AVAILABLE else priority(v, n)
