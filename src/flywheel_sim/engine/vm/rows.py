"""Arithmetic over rows of runs, for the numba VM's block kernel
(:mod:`flywheel_sim.engine.vm.block`).

A block's values live in one register array ``R`` (rows: the slots, then the stack; columns:
the block's runs); each function here computes one three-address instruction
(:mod:`flywheel_sim.compile.registers`) over the first ``B`` runs. Rows are passed as indices
into ``R``, not as row views: a view costs reference counting on every instruction, which at
a few hundred instructions per evaluation was more than the arithmetic.

When the result goes to a different row than its left operand the compiler must assume the
rows may overlap and checks at run time; the ``*_into`` forms (result over the left operand)
need no check. Each form performs the same floating-point operation as the stack machine did
(``x * y``, ``pow1(x, y)``, ...), so results are bit for bit the same. Powers go eight runs
at a time through :func:`flywheel_sim.engine.vm.vecpow.pow8` (glibc's vector ``pow``), the
biggest part of a model full of elasticities.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from flywheel_sim.compile import ops
from flywheel_sim.engine.vm.vecpow import pow1, pow8

jit = numba.njit(cache=True, nogil=True, error_model="numpy")
F2 = NDArray[np.float64]

_ADD, _SUB, _MUL, _DIV, _POW, _NEG = ops.ADD, ops.SUB, ops.MUL, ops.DIV, ops.POW, ops.NEG
_EQ, _NE, _LT, _LE, _GT, _GE, _AND = ops.EQ, ops.NE, ops.LT, ops.LE, ops.GT, ops.GE, ops.AND
_MOD, _MIN, _MAX = ops.MOD, ops.MIN, ops.MAX


@jit
def apply(op: int, a: float, b: float) -> float:
    """``a <op> b`` for one pair of values."""
    if op == _MUL:
        return a * b
    if op == _ADD:
        return a + b
    if op == _SUB:
        return a - b
    if op == _DIV:
        return a / b
    if op == _POW:
        return pow1(a, b)
    if op == _MIN:
        return a if (a <= b or a != a) else b
    if op == _MAX:
        return a if (a >= b or a != a) else b
    if op == _MOD:
        return float(np.mod(a, b))
    if op == _EQ:
        return 1.0 if a == b else 0.0
    if op == _NE:
        return 1.0 if a != b else 0.0
    if op == _LT:
        return 1.0 if a < b else 0.0
    if op == _LE:
        return 1.0 if a <= b else 0.0
    if op == _GT:
        return 1.0 if a > b else 0.0
    if op == _GE:
        return 1.0 if a >= b else 0.0
    if op == _AND:
        return 1.0 if (a != 0.0 and b != 0.0) else 0.0
    return 1.0 if (a != 0.0 or b != 0.0) else 0.0


@jit
def rows(op: int, R: F2, o: int, x: int, y: int, B: int) -> None:
    """R[o] = R[x] <op> R[y]."""
    if op == _MUL:
        for r in range(B):
            R[o, r] = R[x, r] * R[y, r]
    elif op == _ADD:
        for r in range(B):
            R[o, r] = R[x, r] + R[y, r]
    elif op == _SUB:
        for r in range(B):
            R[o, r] = R[x, r] - R[y, r]
    elif op == _DIV:
        for r in range(B):
            R[o, r] = R[x, r] / R[y, r]
    elif op == _POW:
        _pow_rows(R, o, x, y, B)
    elif op == _MIN:
        for r in range(B):
            a, b = R[x, r], R[y, r]
            R[o, r] = a if (a <= b or a != a) else b
    elif op == _MAX:
        for r in range(B):
            a, b = R[x, r], R[y, r]
            R[o, r] = a if (a >= b or a != a) else b
    else:
        for r in range(B):
            R[o, r] = apply(op, R[x, r], R[y, r])


@numba.njit(cache=True, nogil=True, inline="always")
def _lanes(R: F2, row: int, r: int) -> tuple[float, ...]:
    """Eight consecutive runs of a row, as pow8 takes them."""
    return (
        R[row, r],
        R[row, r + 1],
        R[row, r + 2],
        R[row, r + 3],
        R[row, r + 4],
        R[row, r + 5],
        R[row, r + 6],
        R[row, r + 7],
    )


@jit
def _pow_rows(R: F2, o: int, x: int, y: int, B: int) -> None:
    """R[o] = R[x] ** R[y], eight runs per call (every lane read before any is written)."""
    r = 0
    while r + 8 <= B:
        p = pow8(
            _lanes(R, x, r),
            _lanes(R, y, r),
        )
        R[o, r], R[o, r + 1], R[o, r + 2], R[o, r + 3] = p[0], p[1], p[2], p[3]
        R[o, r + 4], R[o, r + 5], R[o, r + 6], R[o, r + 7] = p[4], p[5], p[6], p[7]
        r += 8
    while r < B:
        R[o, r] = pow1(R[x, r], R[y, r])
        r += 1


@jit
def _pow_row_value(R: F2, o: int, x: int, c: float, B: int) -> None:
    """R[o] = R[x] ** c (o may be x), eight runs per call."""
    r = 0
    while r + 8 <= B:
        p = pow8(
            _lanes(R, x, r),
            (c, c, c, c, c, c, c, c),
        )
        R[o, r], R[o, r + 1], R[o, r + 2], R[o, r + 3] = p[0], p[1], p[2], p[3]
        R[o, r + 4], R[o, r + 5], R[o, r + 6], R[o, r + 7] = p[4], p[5], p[6], p[7]
        r += 8
    while r < B:
        R[o, r] = pow1(R[x, r], c)
        r += 1


@jit
def row_value(op: int, R: F2, o: int, x: int, c: float, B: int) -> None:
    """R[o] = R[x] <op> c (o may be x)."""
    if o == x:
        _row_value_into(op, R, x, c, B)
    elif op == _MUL:
        for r in range(B):
            R[o, r] = R[x, r] * c
    elif op == _ADD:
        for r in range(B):
            R[o, r] = R[x, r] + c
    elif op == _SUB:
        for r in range(B):
            R[o, r] = R[x, r] - c
    elif op == _DIV:
        for r in range(B):
            R[o, r] = R[x, r] / c
    elif op == _POW:
        _pow_row_value(R, o, x, c, B)
    elif op == _MAX:
        for r in range(B):
            a = R[x, r]
            R[o, r] = a if (a >= c or a != a) else c
    elif op == _MIN:
        for r in range(B):
            a = R[x, r]
            R[o, r] = a if (a <= c or a != a) else c
    else:
        for r in range(B):
            R[o, r] = apply(op, R[x, r], c)


@jit
def _row_value_into(op: int, R: F2, x: int, c: float, B: int) -> None:
    if op == _MUL:
        for r in range(B):
            R[x, r] = R[x, r] * c
    elif op == _ADD:
        for r in range(B):
            R[x, r] = R[x, r] + c
    elif op == _SUB:
        for r in range(B):
            R[x, r] = R[x, r] - c
    elif op == _DIV:
        for r in range(B):
            R[x, r] = R[x, r] / c
    elif op == _POW:
        _pow_row_value(R, x, x, c, B)
    elif op == _MAX:
        for r in range(B):
            a = R[x, r]
            R[x, r] = a if (a >= c or a != a) else c
    elif op == _MIN:
        for r in range(B):
            a = R[x, r]
            R[x, r] = a if (a <= c or a != a) else c
    else:
        for r in range(B):
            R[x, r] = apply(op, R[x, r], c)


@jit
def value_row(op: int, R: F2, o: int, c: float, y: int, B: int) -> None:
    """R[o] = c <op> R[y]."""
    if op == _MUL:
        for r in range(B):
            R[o, r] = c * R[y, r]
    elif op == _ADD:
        for r in range(B):
            R[o, r] = c + R[y, r]
    elif op == _SUB:
        for r in range(B):
            R[o, r] = c - R[y, r]
    elif op == _DIV:
        for r in range(B):
            R[o, r] = c / R[y, r]
    elif op == _MAX:
        for r in range(B):
            b = R[y, r]
            R[o, r] = c if (c >= b or c != c) else b
    elif op == _MIN:
        for r in range(B):
            b = R[y, r]
            R[o, r] = c if (c <= b or c != c) else b
    else:
        for r in range(B):
            R[o, r] = apply(op, c, R[y, r])


@jit
def function(op: int, v: float) -> float:
    """A function of one value (NEG, NOT, ABS ... INT)."""
    if op == _NEG:
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
def unary(op: int, R: F2, o: int, x: int, B: int) -> None:
    """R[o] = f(R[x]) (o may be x)."""
    if o == x:
        if op == _NEG:
            for r in range(B):
                R[x, r] = -R[x, r]
        else:
            for r in range(B):
                R[x, r] = function(op, R[x, r])
    elif op == _NEG:
        for r in range(B):
            R[o, r] = -R[x, r]
    else:
        for r in range(B):
            R[o, r] = function(op, R[x, r])


@jit
def move(R: F2, o: int, x: int, B: int) -> None:
    """R[o] = R[x]."""
    for r in range(B):
        R[o, r] = R[x, r]


@jit
def fill(R: F2, o: int, value: float, B: int) -> None:
    """R[o] = value."""
    for r in range(B):
        R[o, r] = value
