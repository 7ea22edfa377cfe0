"""``x ** y`` for the numba kernels, several runs at a time through glibc's vector ``pow``.

Profiling the amazon sweep showed the twelve powers per evaluation (elasticities: ``x ^ e``
with ``e`` a parameter) taking more than half of the simulation: numba calls the scalar
``pow`` once per run, ~10-18 ns each, since LLVM does not vectorise a loop around a call it
knows nothing about. glibc ships the same function in vector form (``libmvec``: 2, 4 or 8
lanes for SSE2, AVX2 and AVX-512), ~4 ns per value here with AVX-512. :func:`pow8` hands it
eight values at once from numba (an LLVM-level intrinsic, since the vector calling convention
cannot be reached from Python or ctypes); it splits them over the widest variant this
processor runs.

The vector ``pow`` differs from the scalar one by at most one unit in the last place (in a
quarter of random cases). Every numba kernel — the block kernel, the one-run-at-a-time kernel
and :func:`pow1` — goes through :func:`pow8`, and each lane is computed on its own, so the
kernels stay bit-for-bit equal to one another (tested). Where there is no ``libmvec`` (not
glibc, not x86-64) or numba compiles for another processor (``NUMBA_CPU_NAME``), the lanes
call the scalar ``pow``, exactly as before.
"""

from __future__ import annotations

from typing import Any

import numba
from llvmlite import binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from flywheel_sim.engine.vm import libmvec

LANES = 8  # values per call of pow8


def _variant() -> tuple[int, str] | None:
    """(lanes, symbol) of the widest vector ``pow`` this machine can call, if any."""
    if getattr(numba.config, "CPU_NAME", None):
        return None
    return libmvec.variant(llvm)


VARIANT = _variant()


def _pow8(typingctx: Any, xs: Any, ys: Any) -> Any:
    """``(x0 ** y0, ..., x7 ** y7)`` for two 8-tuples of floats (numba's typing and code)."""
    want = types.UniTuple(types.float64, LANES)
    if xs != want or ys != want:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        f64 = ir.DoubleType()
        out = cgutils.get_null_value(context.get_value_type(signature.return_type))
        if VARIANT is None:
            scalar = builder.module.declare_intrinsic("llvm.pow", [f64])
            for k in range(LANES):
                x = builder.extract_value(args[0], k)
                y = builder.extract_value(args[1], k)
                out = builder.insert_value(out, builder.call(scalar, [x, y]), k)
            return out
        width, name = VARIANT
        vector = ir.VectorType(f64, width)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(vector, [vector, vector]), name
        )
        for start in range(0, LANES, width):
            vx = ir.Constant(vector, ir.Undefined)
            vy = ir.Constant(vector, ir.Undefined)
            for k in range(width):
                lane = ir.Constant(ir.IntType(32), k)
                vx = builder.insert_element(vx, builder.extract_value(args[0], start + k), lane)
                vy = builder.insert_element(vy, builder.extract_value(args[1], start + k), lane)
            result = builder.call(function, [vx, vy])
            for k in range(width):
                lane = ir.Constant(ir.IntType(32), k)
                out = builder.insert_value(out, builder.extract_element(result, lane), start + k)
        return out

    return want(want, want), codegen


pow8: Any = intrinsic(_pow8)  # called from numba code only: pow8(xs, ys)


@numba.njit(cache=True, nogil=True, inline="always")
def pow1(x: float, y: float) -> float:
    """``x ** y`` exactly as :func:`pow8` computes it (lane 0; the other lanes idle)."""
    return pow8((x, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0), (y, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0))[0]
