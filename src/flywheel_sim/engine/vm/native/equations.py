"""The model's equations as LLVM IR: three-address code (:mod:`flywheel_sim.compile.registers`)
to straight-line vector code over one lane group of runs.

Each row of the register array (the slots, then the stack) holds one value per run of the
group: an IR ``<W x double>``. Every operation is written as the numba kernels compute it for
one run (:mod:`flywheel_sim.engine.vm.jitops`), lane by lane: the same IEEE operations in the
same order, the same libm functions (LLVM's ``llvm.exp`` and friends become calls of libm's
``exp`` for each lane, as they do in numba), the same vector ``pow`` as
:mod:`flywheel_sim.engine.vm.vecpow` and the comparisons with numba's NaN rules. So each lane
gets the bits the scalar kernel gives that run (tested on every built-in model).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from flywheel_sim._types import F64, I64
from flywheel_sim.compile import ops, registers
from flywheel_sim.engine.vm.native.text import VEC, Function, W, double, splat_const

_BINARY = frozenset((*range(ops.ADD, ops.POW + 1), *range(ops.EQ, ops.OR + 1), ops.MOD))
_BINARY |= {ops.MIN, ops.MAX}
_UNARY = frozenset((registers.MOVE, ops.NEG, ops.NOT, *range(ops.ABS, ops.INT + 1)))
_DRAWS = {
    ops.RANDOM: "random",
    ops.NORMAL: "normal",
    ops.LOGNORMAL: "lognormal",
    ops.EXPRND: "exprnd",
    ops.POISSON: "poisson",
}
_SPECIAL = frozenset(
    (ops.LOOKUP, ops.SELECT, ops.STEP, ops.RAMP, ops.PULSE, ops.SAFEDIV, ops.DELAY, ops.HISTORY)
) | frozenset(_DRAWS)
SUPPORTED = _BINARY | _UNARY | _SPECIAL
ZEROS, ONES = splat_const(0.0), splat_const(1.0)
MASK = f"<{W} x i1>"

_ARITH = {ops.ADD: "fadd", ops.SUB: "fsub", ops.MUL: "fmul", ops.DIV: "fdiv"}
_COMPARE = {ops.EQ: "oeq", ops.NE: "une", ops.LT: "olt", ops.LE: "ole", ops.GT: "ogt"}
_COMPARE[ops.GE] = "oge"
# functions numba lowers to LLVM intrinsics, and those it calls in libm by name
_INTRINSIC = {
    ops.EXP: "exp",
    ops.LN: "log",
    ops.LOG10: "log10",
    ops.SIN: "sin",
    ops.COS: "cos",
    ops.ABS: "fabs",
    ops.INT: "floor",
}
_LIBM = {ops.SQRT: "sqrt", ops.TAN: "tan", ops.ASIN: "asin", ops.ACOS: "acos", ops.ATAN: "atan"}


def unsupported(code: I64) -> set[int]:
    """The ops of three-address ``code`` this code generator does not write."""
    return {int(op) for op in code[:, 0]} - SUPPORTED if len(code) else set()


class EquationWriter:
    """Writes one function ``void @name(<W x double>* R, double t, dt, start, stop)``."""

    def __init__(self, name: str, consts: F64, noinline: bool = False) -> None:
        self.fn = Function(
            f"define internal void @{name}({VEC}* noalias %R, double %t, double %dt, "
            "double %start, double %stop, double* noalias %hist, i64 %recorded, i64 %span, "
            "i64* noalias %keys, i64 %step)" + (" noinline" if noinline else "")
        )
        self.consts = consts
        self.clock: dict[int, str] = {}
        self.n_slots = 0
        self.stack: dict[int, str] = {}  # stack rows live in SSA values, never in memory

    # operands ----------------------------------------------------------------------------
    def row_ptr(self, row: int) -> str:
        return self.fn.value(f"getelementptr inbounds {VEC}, {VEC}* %R, i64 {row}", "p")

    def load(self, row: int) -> str:
        if row >= self.n_slots:
            return self.stack[row]
        return self.fn.value(f"load {VEC}, {VEC}* {self.row_ptr(row)}, align 8", "r")

    def store(self, row: int, value: str) -> None:
        if row >= self.n_slots:  # a temporary: no other function reads it
            self.stack[row] = value
            return
        self.fn.emit(f"store {VEC} {value}, {VEC}* {self.row_ptr(row)}, align 8")

    def splat(self, scalar: str) -> str:
        one = self.fn.value(f"insertelement {VEC} undef, double {scalar}, i32 0", "s")
        return self.fn.value(f"shufflevector {VEC} {one}, {VEC} undef, <{W} x i32> zeroinitializer")

    def clock_value(self, which: int) -> str:
        if which not in self.clock:
            name = {ops.TIME: "%t", ops.DT: "%dt", ops.START: "%start", ops.STOP: "%stop"}
            self.clock[which] = self.splat(name[which])
        return self.clock[which]

    def operand(self, kind: int, index: int) -> str:
        if kind == registers.ROW:
            return self.load(index)
        if kind == registers.CONST:
            return splat_const(float(self.consts[index]))
        return self.clock_value(index)

    # operations --------------------------------------------------------------------------
    def bool_to_double(self, mask: str) -> str:
        return self.fn.value(f"select {MASK} {mask}, {VEC} {ONES}, {VEC} {ZEROS}")

    def fcmp(self, cond: str, a: str, b: str) -> str:
        return self.fn.value(f"fcmp {cond} {VEC} {a}, {b}", "c")

    def binary(self, op: int, a: str, b: str) -> str:
        fn = self.fn
        if op in _ARITH:
            return fn.value(f"{_ARITH[op]} {VEC} {a}, {b}")
        if op == ops.POW:
            return fn.value(f"call {VEC} @pow_lanes({VEC} {a}, {VEC} {b})")
        if op in _COMPARE:
            return self.bool_to_double(self.fcmp(_COMPARE[op], a, b))
        if op in (ops.AND, ops.OR):
            both = f"{'and' if op == ops.AND else 'or'} {MASK}"
            ca, cb = self.fcmp("une", a, ZEROS), self.fcmp("une", b, ZEROS)
            return self.bool_to_double(fn.value(f"{both} {ca}, {cb}", "c"))
        if op in (ops.MIN, ops.MAX):  # a if (a <= b or a != a) else b (>= for MAX)
            order = self.fcmp("ole" if op == ops.MIN else "oge", a, b)
            keep = fn.value(f"or {MASK} {order}, {self.fcmp('une', a, a)}", "c")
            return fn.value(f"select {MASK} {keep}, {VEC} {a}, {VEC} {b}")
        return self.modulo(a, b)

    def modulo(self, a: str, b: str) -> str:
        """numba's np.mod for floats: fmod, moved by b where the signs disagree."""
        fn = self.fn
        rem = fn.value(f"frem {VEC} {a}, {b}")
        nonzero = self.fcmp("one", rem, ZEROS)
        signs = fn.value(f"xor {MASK} {self.fcmp('olt', b, ZEROS)}, {self.fcmp('olt', rem, ZEROS)}")
        fix = fn.value(f"and {MASK} {nonzero}, {signs}", "c")
        shift = fn.value(f"select {MASK} {fix}, {VEC} {b}, {VEC} {ZEROS}")
        return fn.value(f"fadd {VEC} {rem}, {shift}")

    def unary(self, op: int, a: str) -> str:
        fn = self.fn
        if op == registers.MOVE:
            return a
        if op == ops.NEG:
            return fn.value(f"fsub {VEC} {splat_const(-0.0)}, {a}")
        if op == ops.NOT:
            return self.bool_to_double(self.fcmp("oeq", a, ZEROS))
        if op in _INTRINSIC:
            return fn.value(f"call {VEC} @llvm.{_INTRINSIC[op]}.v{W}f64({VEC} {a})")
        return self.per_lane(_LIBM[op], a)

    def per_lane(
        self,
        function: str,
        *vectors: str,
        prefix: Callable[[int], str] | None = None,
        suffix: str = "",
    ) -> str:
        """``double @function(<prefix(lane)> lane of each vector <suffix>)`` in each lane."""
        fn = self.fn
        result = "undef"
        for lane in range(W):
            head = prefix(lane) if prefix is not None else ""
            scalars = [fn.value(f"extractelement {VEC} {v}, i32 {lane}", "e") for v in vectors]
            args = ", ".join(f"double {x}" for x in scalars)
            value = fn.value(f"call double @{function}({head}{args}{suffix})", "e")
            result = fn.value(f"insertelement {VEC} {result}, double {value}, i32 {lane}")
        return result

    # one instruction -----------------------------------------------------------------------
    def instruction(self, row: I64, n_slots: int) -> None:
        op, out, ak, a, bk, b = (int(x) for x in row)
        if op in _BINARY:
            self.store(out, self.binary(op, self.operand(ak, a), self.operand(bk, b)))
        elif op in _UNARY:
            self.store(out, self.unary(op, self.operand(ak, a)))
        else:
            self.special(op, a, n_slots + out)

    def special(self, op: int, arg: int, sp: int) -> None:
        """A stack-machine op on the stack rows below row ``sp`` (its stack pointer)."""
        fn = self.fn
        if op == ops.LOOKUP:
            x = self.load(sp - 1)
            k = f"i64 {arg}"
            self.store(sp - 1, self.per_lane("lookup", x, suffix=f", {k}"))
            return
        if op == ops.SELECT:  # cond, yes, no
            cond, yes, no = self.load(sp - 3), self.load(sp - 2), self.load(sp - 1)
            pick = self.fcmp("une", cond, ZEROS)
            self.store(sp - 3, fn.value(f"select {MASK} {pick}, {VEC} {yes}, {VEC} {no}"))
            return
        if op == ops.SAFEDIV:  # a, b, fallback: fallback if b == 0 else a / b
            a, b, fallback = self.load(sp - 3), self.load(sp - 2), self.load(sp - 1)
            zero = self.fcmp("oeq", b, ZEROS)
            ratio = fn.value(f"fdiv {VEC} {a}, {b}")
            self.store(sp - 3, fn.value(f"select {MASK} {zero}, {VEC} {fallback}, {VEC} {ratio}"))
            return
        if op == ops.STEP:  # height, start: height if t >= start - 1e-6 * dt
            height, begin = self.load(sp - 2), self.load(sp - 1)
            eps = fn.value(f"fmul double {double(1e-6)}, %dt")
            edge = fn.value(f"fsub {VEC} {begin}, {self.splat(eps)}")
            on = self.fcmp("oge", self.clock_value(ops.TIME), edge)
            self.store(sp - 2, fn.value(f"select {MASK} {on}, {VEC} {height}, {VEC} {ZEROS}"))
            return
        if op in _DRAWS:
            two = op in (ops.RANDOM, ops.NORMAL, ops.LOGNORMAL)
            a = self.load(sp - 2 if two else sp - 1)
            b = self.load(sp - 1) if two else ZEROS
            self.store(sp - 2 if two else sp - 1, self.draw(_DRAWS[op], arg, a, b))
            return
        if op in (ops.DELAY, ops.HISTORY):
            self.store(sp - 2, self.recorded(op, arg, self.load(sp - 2), self.load(sp - 1)))
            return
        a, b, c = self.load(sp - 3), self.load(sp - 2), self.load(sp - 1)
        name = "ramp" if op == ops.RAMP else "pulse"
        t, dt = self.clock_value(ops.TIME), self.clock_value(ops.DT)
        self.store(sp - 3, self.per_lane(name, t, dt, a, b, c))

    def recorded(self, op: int, buffer: int, first: str, initial: str) -> str:
        """DELAY(lag, initial) or HISTORY(when, initial) of history buffer ``buffer``, lane by
        lane; lane l of step i of the buffer is ``hist[buffer * span + i * W + l]``."""
        fn = self.fn
        base = fn.value(f"mul i64 {buffer}, %span", "h")
        clock = (
            "double %t, double %start, double %dt"
            if op == ops.DELAY
            else "double %start, double %dt"
        )

        def where(lane: int) -> str:
            at = fn.value(f"add i64 {base}, {lane}", "h")
            h = fn.value(f"getelementptr inbounds double, double* %hist, i64 {at}", "h")
            return f"double* {h}, i64 %recorded, {clock}, "

        name = "delay_lane" if op == ops.DELAY else "history_lane"
        return self.per_lane(name, first, initial, prefix=where)

    def draw(self, name: str, site: int, a: str, b: str) -> str:
        """A random draw of call site ``site`` in each lane, from its run's stream."""
        fn = self.fn

        def stream(lane: int) -> str:
            kp = fn.value(f"getelementptr inbounds i64, i64* %keys, i64 {lane}", "k")
            run_key = fn.value(f"load i64, i64* {kp}", "k")
            key = fn.value(f"call i64 @site_key(i64 {run_key}, i64 {site})", "k")
            return f"i64 {key}, i64 {site}, i64 %step, "

        return self.per_lane(f"draw_{name}", a, b, prefix=stream)

    def write(self, code: I64, n_slots: int) -> str:
        self.n_slots = n_slots
        for row in code:
            self.instruction(row, n_slots)
        self.fn.emit("ret void")
        return self.fn.text()


PART = 250  # three-address instructions per function at most, where the code allows a cut


def equation_function(name: str, code: I64, consts: F64, n_slots: int) -> str:
    """The IR text of ``void @name(R, t, dt, start, stop, hist, recorded, span, keys, step)``
    running three-address ``code`` (``hist``: the lane group's history buffers, of which
    ``recorded`` steps are written; ``span``: doubles per buffer; ``keys``: its runs' random
    keys). Long code is cut into functions of about PART instructions where no stack value
    is pending (between equations), called in order and never inlined: LLVM's optimisation
    and instruction selection grow faster than linearly with one function's length, so a
    large model is optimised piece by piece in linear time."""
    cuts = _cuts(code, n_slots)
    if len(cuts) <= 2:
        return EquationWriter(name, consts).write(code, n_slots)
    parts = [
        EquationWriter(f"{name}.{i}", consts, noinline=True).write(code[lo:hi], n_slots)
        for i, (lo, hi) in enumerate(itertools.pairwise(cuts))
    ]
    args = (
        f"{VEC}* %R, double %t, double %dt, double %start, double %stop, double* %hist, "
        "i64 %recorded, i64 %span, i64* %keys, i64 %step"
    )
    calls = "\n".join(f"  call void @{name}.{i}({args})" for i in range(len(parts)))
    wrapper = (
        f"define internal void @{name}({VEC}* noalias %R, double %t, double %dt, double %start, "
        "double %stop, double* noalias %hist, i64 %recorded, i64 %span, i64* noalias %keys, "
        f"i64 %step) {{\nentry:\n{calls}\n  ret void\n}}"
    )
    return "\n\n".join([*parts, wrapper])


def _cuts(code: I64, n_slots: int) -> list[int]:
    """Where ``code`` may be cut (no stack row read later without being written first), at
    most PART instructions apart where possible: [0, ..., len(code)]."""
    free = [False] * (len(code) + 1)
    live: set[int] = set()
    free[len(code)] = True
    for k in range(len(code) - 1, -1, -1):
        op, out, ak, a, bk, b = (int(x) for x in code[k])
        if op in _BINARY or op in _UNARY:
            live.discard(out)
            live.update(r for kind, r in ((ak, a), (bk, b)) if kind == registers.ROW)
        else:
            pops = ops.pops(op, a)
            base = n_slots + out - pops
            live.discard(base)
            live.update(range(base, n_slots + out))
        live = {r for r in live if r >= n_slots}
        free[k] = not live
    cuts, last = [0], 0
    for k in range(1, len(code)):
        if free[k] and k - last >= PART:
            cuts.append(k)
            last = k
    return [*cuts, len(code)]
