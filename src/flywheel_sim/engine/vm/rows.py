"""Arithmetic over rows of runs, for the numba VM's block kernel
(:mod:`flywheel_sim.engine.vm.block`).

A block's values live in one register array ``R`` (rows: the slots, then the stack; columns:
the block's runs); each function here computes one three-address instruction
(:mod:`flywheel_sim.compile.registers`) over the first ``B`` runs; the operation on each
pair of values is :func:`flywheel_sim.engine.vm.jitops.apply` or ``function`` (or the same
expression written out, where a loop of it vectorises). Rows are passed as indices
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

from flywheel_sim._types import F64
from flywheel_sim.compile import ops
from flywheel_sim.engine.vm.jitops import apply, function, jit
from flywheel_sim.engine.vm.vecpow import pow1, pow8

_ADD, _SUB, _MUL, _DIV, _POW, _NEG = ops.ADD, ops.SUB, ops.MUL, ops.DIV, ops.POW, ops.NEG
_MIN, _MAX = ops.MIN, ops.MAX


@jit
def rows(op: int, R: F64, o: int, x: int, y: int, B: int) -> None:
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
        pow_rows(R, o, x, y, B)
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
def _lanes(R: F64, row: int, r: int) -> tuple[float, ...]:
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
def pow_rows(R: F64, o: int, x: int, y: int, B: int) -> None:
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
def pow_row_value(R: F64, o: int, x: int, c: float, B: int) -> None:
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
def row_value(op: int, R: F64, o: int, x: int, c: float, B: int) -> None:
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
        pow_row_value(R, o, x, c, B)
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
def _row_value_into(op: int, R: F64, x: int, c: float, B: int) -> None:
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
        pow_row_value(R, x, x, c, B)
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
def value_row(op: int, R: F64, o: int, c: float, y: int, B: int) -> None:
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
def unary(op: int, R: F64, o: int, x: int, B: int) -> None:
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
def move(R: F64, o: int, x: int, B: int) -> None:
    """R[o] = R[x]."""
    for r in range(B):
        R[o, r] = R[x, r]


@jit
def fill(R: F64, o: int, value: float, B: int) -> None:
    """R[o] = value."""
    for r in range(B):
        R[o, r] = value
