"""The native kernel of one model, as an LLVM IR module: the block kernel's stepping
(:mod:`flywheel_sim.engine.vm.block`) with the model's equations, flows and stock updates
written out as straight-line code.

``void @kernel(i64* ctx)`` runs lane groups ``g_lo .. g_hi - 1`` (runs ``g*W .. g*W + W - 1``)
from step ``s_lo`` to ``s_hi - 1``; each group's rows live in a state buffer the caller keeps
between chunks of steps. The stepping does what the block kernel does, in its order: the
step's equations, the non-negative stocks' limits (passes while one cuts), the check for
non-finite values, saving, then Euler or the Runge-Kutta stages. A run that fails keeps
computing (its lanes are blanked after its failure time by the caller, as the block kernel
does). ``ctx`` (int64): params, n_runs, out, n_times, save_rows, n_save, fail_slot,
fail_time, state, g_lo, g_hi, s_lo, s_hi, n_steps, save_every, doubles (start, dt, stop),
hist (each lane group's DELAY/HISTORY buffers: buffer, step, lane), keys (each run's
random-stream key, padded to whole lane groups).
"""

from __future__ import annotations

from dataclasses import dataclass

from flywheel_sim._types import I64
from flywheel_sim.compile.program import Program
from flywheel_sim.engine.integrators import Tableau
from flywheel_sim.engine.vm.native import randoms, runtime
from flywheel_sim.engine.vm.native.equations import ZEROS, equation_function
from flywheel_sim.engine.vm.native.text import VEC, Function, W, double, splat_const

CTX = [
    "params",
    "n",
    "out",
    "n_times",
    "save_rows",
    "n_save",
    "fail_slot",
    "fail_time",
    "state",
    "g_lo",
    "g_hi",
    "s_lo",
    "s_hi",
    "n_steps",
    "save_every",
    "doubles",
    "hist",
    "keys",
]
MASK = f"<{W} x i1>"


@dataclass(frozen=True)
class Rows:
    """Where each kind of value lives among a lane group's rows."""

    n_slots: int
    stack: int
    y0: int
    k: int
    pending: int
    total: int

    @staticmethod
    def of(program: Program, stages: int) -> Rows:
        n_stocks = len(program.stock_slots)
        stack = program.n_slots
        y0 = stack + program.max_stack + 1
        k = y0 + n_stocks
        pending = k + stages * n_stocks
        return Rows(program.n_slots, stack, y0, k, pending, pending + len(program.prev_src))


class _Body:
    """Helpers to write vector code over the rows of ``%R`` in a Function."""

    def __init__(self, fn: Function) -> None:
        self.fn = fn

    def load(self, row: int | str) -> str:
        p = self.fn.value(f"getelementptr inbounds {VEC}, {VEC}* %R, i64 {row}", "p")
        return self.fn.value(f"load {VEC}, {VEC}* {p}, align 8", "r")

    def store(self, row: int | str, value: str) -> None:
        p = self.fn.value(f"getelementptr inbounds {VEC}, {VEC}* %R, i64 {row}", "p")
        self.fn.emit(f"store {VEC} {value}, {VEC}* {p}, align 8")

    def op(self, name: str, a: str, b: str) -> str:
        return self.fn.value(f"{name} {VEC} {a}, {b}")

    def select(self, cond: str, a: str, b: str) -> str:
        return self.fn.value(f"select {MASK} {cond}, {VEC} {a}, {VEC} {b}")

    def cmp(self, cond: str, a: str, b: str) -> str:
        return self.fn.value(f"fcmp {cond} {VEC} {a}, {b}", "c")

    def max0(self, a: str) -> str:
        """numba's max(a, 0.0): 0.0 if 0.0 > a else a."""
        return self.select(self.cmp("ogt", ZEROS, a), ZEROS, a)

    def splat(self, scalar: str) -> str:
        one = self.fn.value(f"insertelement {VEC} undef, double {scalar}, i32 0", "s")
        return self.fn.value(f"shufflevector {VEC} {one}, {VEC} undef, <{W} x i32> zeroinitializer")

    def any(self, mask: str) -> str:
        bits = self.fn.value(f"bitcast {MASK} {mask} to i{W}", "b")
        return self.fn.value(f"icmp ne i{W} {bits}, 0", "b")


UNROLL = 256  # longer lists (edges, checked rows) are looped over, not written out


def _derivatives(program: Program) -> str:
    """``void @derivatives(R, i64 krow, double dt)``: K rows = net flows after the limits.
    Each stock's flows are added in edge order from 0.0, written out for a small model and
    as a loop over the edge tables for a large one (one long chain of additions is what
    LLVM's instruction selection handles worst)."""
    fn = Function(f"define internal void @derivatives({VEC}* noalias %R, i64 %krow, double %dt)")
    body = _Body(fn)
    if len(program.nonneg_stock):
        _limits(program, fn, body)
    if len(program.edge_stock) > UNROLL:
        fn.emit(
            f"call void @flows({VEC}* %R, i64 %krow, i64 {len(program.stock_slots)}, "
            f"i64 {len(program.edge_stock)})"
        )
        fn.emit("ret void")
        return fn.text()
    acc: dict[int, str] = {}
    for k_idx, slot, sign in zip(
        program.edge_stock.tolist(),
        program.edge_slot.tolist(),
        program.edge_sign.tolist(),
        strict=False,
    ):
        term = body.op("fmul", splat_const(sign), body.load(slot))
        acc[k_idx] = body.op("fadd", acc.get(k_idx, ZEROS), term)
    for k_idx in range(len(program.stock_slots)):
        row = fn.value(f"add i64 %krow, {k_idx}", "k")
        body.store(row, acc.get(k_idx, ZEROS))
    fn.emit("ret void")
    return fn.text()


def _edge_tables(program: Program) -> str:
    """The edges as constant arrays, for the looped ``@flows``."""
    stock = ", ".join(f"i64 {int(v)}" for v in program.edge_stock) or "i64 0"
    slot = ", ".join(f"i64 {int(v)}" for v in program.edge_slot) or "i64 0"
    sign = ", ".join(f"double {double(float(v))}" for v in program.edge_sign) or "double 0.0"
    n = max(len(program.edge_stock), 1)
    return (
        f"@edge_stock = internal constant [{n} x i64] [{stock}], align 8\n"
        f"@edge_slot = internal constant [{n} x i64] [{slot}], align 8\n"
        f"@edge_sign = internal constant [{n} x double] [{sign}], align 8\n"
        + FLOWS.replace("@N@", str(n))
    )


FLOWS = f"""
define internal void @flows({VEC}* noalias %R, i64 %krow, i64 %stocks, i64 %edges) {{
entry:
  br label %zhead
zhead:
  %k = phi i64 [0, %entry], [%k1, %zbody]
  %zmore = icmp slt i64 %k, %stocks
  br i1 %zmore, label %zbody, label %ehead
zbody:
  %kr = add i64 %krow, %k
  %kp = getelementptr inbounds {VEC}, {VEC}* %R, i64 %kr
  store {VEC} {ZEROS}, {VEC}* %kp, align 8
  %k1 = add i64 %k, 1
  br label %zhead
ehead:
  %e = phi i64 [0, %zhead], [%e1, %ebody]
  %emore = icmp slt i64 %e, %edges
  br i1 %emore, label %ebody, label %done
ebody:
  %sp = getelementptr inbounds [@N@ x i64], [@N@ x i64]* @edge_stock, i64 0, i64 %e
  %stock = load i64, i64* %sp
  %lp = getelementptr inbounds [@N@ x i64], [@N@ x i64]* @edge_slot, i64 0, i64 %e
  %slot = load i64, i64* %lp
  %gp = getelementptr inbounds [@N@ x double], [@N@ x double]* @edge_sign, i64 0, i64 %e
  %sign = load double, double* %gp
  %s1 = insertelement {VEC} undef, double %sign, i32 0
  %signs = shufflevector {VEC} %s1, {VEC} undef, <{W} x i32> zeroinitializer
  %vp = getelementptr inbounds {VEC}, {VEC}* %R, i64 %slot
  %v = load {VEC}, {VEC}* %vp, align 8
  %term = fmul {VEC} %signs, %v
  %ar = add i64 %krow, %stock
  %ap = getelementptr inbounds {VEC}, {VEC}* %R, i64 %ar
  %a = load {VEC}, {VEC}* %ap, align 8
  %sum = fadd {VEC} %a, %term
  store {VEC} %sum, {VEC}* %ap, align 8
  %e1 = add i64 %e, 1
  br label %ehead
done:
  ret void
}}
"""


# below this fraction of what a stock holds, the outflows of one step certainly fit in it
SURE = 1.0 - 2.0**-30


def _limits(program: Program, fn: Function, body: _Body) -> None:
    """The non-negative stocks' limits, in passes while a pass cuts a flow in some lane.

    A stock whose outflows over the step are certainly less than it holds — in every lane,
    ``sum(outflows) * dt <= held * (1 - 2^-30)`` — is left alone: the limits would cut
    nothing and change no bit (each flow is written back as it was). The margin is far above
    the rounding of the sums (a few units in the last place per edge), so where the test
    passes, the exact computation gives "no cut" too; elsewhere (a lane near its stock, a
    NaN or an infinity) the exact limits run. This spares the division by DT and the
    per-edge limits in the common case."""
    dt = body.splat("%dt")
    passes = fn.alloca("i64", "passes")
    cutflag = fn.alloca("i1", "cutflag")
    fn.emit(f"store i64 0, i64* {passes}")
    head, again, done = fn.label("pass"), fn.label("again"), fn.label("limited")
    fn.branch(head)
    fn.start_block(head)
    fn.emit(f"store i1 false, i1* {cutflag}")
    for j, stock in enumerate(program.nonneg_stock.tolist()):
        edges = [
            (int(program.nonneg_slot[q]), float(program.nonneg_sign[q]))
            for q in range(int(program.nonneg_ptr[j]), int(program.nonneg_ptr[j + 1]))
        ]
        held = body.max0(body.load(int(program.stock_slots[stock])))
        outflow = ZEROS
        for slot, sign in edges:
            into = body.op("fmul", splat_const(sign), body.load(slot))
            leaving = body.select(body.cmp("olt", into, ZEROS), into, ZEROS)
            outflow = body.op("fsub", outflow, leaving)
        need = body.op("fmul", outflow, dt)
        room = body.op("fmul", held, splat_const(SURE))
        fits = body.cmp("ole", need, room)
        finite = body.cmp("olt", need, splat_const(float("inf")))
        sure = fn.value(f"and {MASK} {fits}, {finite}", "c")
        bits = fn.value(f"bitcast {MASK} {sure} to i{W}", "b")
        all_sure = fn.value(f"icmp eq i{W} {bits}, -1", "b")
        exact, after = fn.label("exact"), fn.label("next")
        fn.cond_branch(all_sure, after, exact)
        fn.start_block(exact)
        cut = _exact_limits(fn, body, dt, held, edges)
        was = fn.value(f"load i1, i1* {cutflag}", "b")
        fn.emit(f"store i1 {fn.value(f'or i1 {was}, {body.any(cut)}', 'b')}, i1* {cutflag}")
        fn.branch(after)
        fn.start_block(after)
    count = fn.value(f"load i64, i64* {passes}", "n")
    count1 = fn.value(f"add i64 {count}, 1", "n")
    fn.emit(f"store i64 {count1}, i64* {passes}")
    remaining = fn.value(f"icmp slt i64 {count1}, {int(program.nonneg_passes)}", "b")
    anycut = fn.value(f"load i1, i1* {cutflag}", "b")
    repeat = fn.value(f"and i1 {anycut}, {remaining}", "b")
    fn.cond_branch(repeat, again, done)
    fn.start_block(again)
    fn.branch(head)
    fn.start_block(done)


def _exact_limits(
    fn: Function, body: _Body, dt: str, held: str, edges: list[tuple[int, float]]
) -> str:
    """One stock's limits as the block kernel computes them; returns the lanes it cut."""
    inflow = ZEROS
    for slot, sign in edges:
        into = body.op("fmul", splat_const(sign), body.load(slot))
        more = body.op("fadd", inflow, into)
        inflow = body.select(body.cmp("ogt", into, ZEROS), more, inflow)
    available = body.op("fadd", body.op("fdiv", held, dt), inflow)
    cut = "zeroinitializer"
    for slot, sign in edges:
        value = body.load(slot)
        into = body.op("fmul", splat_const(sign), value)
        out = body.cmp("olt", into, ZEROS)
        wanted = body.op("fsub", splat_const(-0.0), into)
        room = body.max0(available)
        taken = body.select(body.cmp("olt", room, wanted), room, wanted)
        short = body.cmp("une", taken, wanted)
        cut_here = fn.value(f"and {MASK} {out}, {short}", "c")
        cut = fn.value(f"or {MASK} {cut}, {cut_here}", "c")
        limited = body.op("fmul", splat_const(-sign), taken)
        body.store(slot, body.select(out, limited, value))
        available = body.select(out, body.op("fsub", available, taken), available)
    return cut


def _update(program: Program, table: Tableau, rows: Rows) -> str:
    """``void @update(R, double dt)``: the stocks after Euler's step, or the combination of
    stage ``i``'s slopes as ``@combine{i}`` (RK: stages 1..s-1, then the weights as s)."""
    stocks = program.stock_slots.tolist()
    parts = []
    if table.stages == 1:
        fn = Function(f"define internal void @update({VEC}* noalias %R, double %dt)")
        body = _Body(fn)
        dt = body.splat("%dt")
        for k, slot in enumerate(stocks):
            step = body.op("fmul", dt, body.load(rows.k + k))
            body.store(slot, body.op("fadd", body.load(slot), step))
        fn.emit("ret void")
        return fn.text()
    clamped = set(program.nonneg_stock.tolist())
    for i in range(1, table.stages + 1):
        weights = table.a[i].tolist()[:i] if i < table.stages else table.b.tolist()
        fn = Function(f"define internal void @combine{i}({VEC}* noalias %R, double %dt)")
        body = _Body(fn)
        dt = body.splat("%dt")
        for k, slot in enumerate(stocks):
            acc = ZEROS
            for m, w in enumerate(weights):
                term = body.op("fmul", splat_const(w), body.load(rows.k + m * len(stocks) + k))
                acc = body.op("fadd", acc, term)
            value = body.op("fadd", body.load(rows.y0 + k), body.op("fmul", dt, acc))
            if i == table.stages and k in clamped:
                value = body.max0(value)
            body.store(slot, value)
        fn.emit("ret void")
        parts.append(fn.text())
    return "\n".join(parts)


def _moves(name: str, pairs: list[tuple[int, int]]) -> str:
    """``void @name(R)``: row copies ``dst = src`` for each pair, in order."""
    fn = Function(f"define internal void @{name}({VEC}* noalias %R)")
    body = _Body(fn)
    for dst, src in pairs:
        body.store(dst, body.load(src))
    fn.emit("ret void")
    return fn.text()


def _order(name: str, order: I64) -> str:
    values = ", ".join(f"i64 {int(v)}" for v in order) or "i64 0"
    return f"@{name} = internal constant [{max(len(order), 1)} x i64] [{values}], align 8"


CHECK = f"""
define internal i64 @first_bad({VEC}* noalias %R, i64 %lane, i64* %order, i64 %n) {{
entry:
  br label %head
head:
  %k = phi i64 [0, %entry], [%k1, %next]
  %more = icmp slt i64 %k, %n
  br i1 %more, label %body, label %none
body:
  %op = getelementptr inbounds i64, i64* %order, i64 %k
  %row = load i64, i64* %op
  %rp = getelementptr inbounds {VEC}, {VEC}* %R, i64 %row
  %rd = bitcast {VEC}* %rp to double*
  %ep = getelementptr inbounds double, double* %rd, i64 %lane
  %v = load double, double* %ep
  %a = call double @llvm.fabs.f64(double %v)
  %finite = fcmp one double %a, {double(float("inf"))}
  %k1 = add i64 %k, 1
  br i1 %finite, label %next, label %found
next:
  br label %head
found:
  ret i64 %row
none:
  ret i64 -1
}}

define internal void @check({VEC}* noalias %R, {VEC} %acc, i64* %order, i64 %n, double %t,
                            i64 %r0, i64 %runs, i64* %fail_slot, double* %fail_time) {{
entry:
  %bad = fcmp une {VEC} %acc, {ZEROS}
  %bits = bitcast <{W} x i1> %bad to i{W}
  %any = icmp ne i{W} %bits, 0
  br i1 %any, label %lanes, label %done
lanes:
  %lane = phi i64 [0, %entry], [%lane1, %next]
  %r = add i64 %r0, %lane
  %inside = icmp slt i64 %r, %runs
  br i1 %inside, label %known, label %next
known:
  %fp = getelementptr inbounds i64, i64* %fail_slot, i64 %r
  %f = load i64, i64* %fp
  %fresh = icmp slt i64 %f, 0
  %accl = extractelement {VEC} %acc, i64 %lane
  %badl = fcmp une double %accl, 0.0
  %look = and i1 %fresh, %badl
  br i1 %look, label %search, label %next
search:
  %slot = call i64 @first_bad({VEC}* %R, i64 %lane, i64* %order, i64 %n)
  %found = icmp sge i64 %slot, 0
  br i1 %found, label %record, label %next
record:
  store i64 %slot, i64* %fp
  %tp = getelementptr inbounds double, double* %fail_time, i64 %r
  store double %t, double* %tp
  br label %next
next:
  %lane1 = add i64 %lane, 1
  %again = icmp slt i64 %lane1, {W}
  br i1 %again, label %lanes, label %done
done:
  ret void
}}

define internal void @save({VEC}* noalias %R, double* %out, i64* %rows, i64 %n_save,
                           i64 %j, i64 %n_times, i64 %r0, i64 %runs) {{
entry:
  %end = add i64 %r0, {W}
  %full = icmp sle i64 %end, %runs
  br label %head
head:
  %k = phi i64 [0, %entry], [%k1, %next]
  %more = icmp slt i64 %k, %n_save
  br i1 %more, label %body, label %done
body:
  %rp = getelementptr inbounds i64, i64* %rows, i64 %k
  %row = load i64, i64* %rp
  %vp = getelementptr inbounds {VEC}, {VEC}* %R, i64 %row
  %v = load {VEC}, {VEC}* %vp, align 8
  %kt = mul i64 %k, %n_times
  %kj = add i64 %kt, %j
  %base = mul i64 %kj, %runs
  %at = add i64 %base, %r0
  %op = getelementptr inbounds double, double* %out, i64 %at
  br i1 %full, label %whole, label %part
whole:
  %ov = bitcast double* %op to {VEC}*
  store {VEC} %v, {VEC}* %ov, align 8
  br label %next
part:
  %left = sub i64 %runs, %r0
  br label %lane
lane:
  %l = phi i64 [0, %part], [%l1, %lane]
  %x = extractelement {VEC} %v, i64 %l
  %lp = getelementptr inbounds double, double* %op, i64 %l
  store double %x, double* %lp
  %l1 = add i64 %l, 1
  %lm = icmp slt i64 %l1, %left
  br i1 %lm, label %lane, label %next
next:
  %k1 = add i64 %k, 1
  br label %head
done:
  ret void
}}

declare double @llvm.fabs.f64(double)
"""


def _lane_param(lane: int) -> str:
    """Lane ``lane``'s parameter value: run r0 + lane, or the last run past the end (lanes
    with no run compute a copy of it and are never saved)."""
    previous = "undef" if lane == 0 else f"%v{lane - 1}"
    return f"""  %run{lane}a = add i64 %r0, {lane}
  %run{lane}o = icmp sgt i64 %run{lane}a, %lastrun
  %run{lane} = select i1 %run{lane}o, i64 %lastrun, i64 %run{lane}a
  %i{lane} = add i64 %rowbase, %run{lane}
  %q{lane} = getelementptr inbounds double, double* %params, i64 %i{lane}
  %x{lane} = load double, double* %q{lane}
  %v{lane} = insertelement {VEC} {previous}, double %x{lane}, i32 {lane}
"""


def _load_params() -> str:
    """``void @load_params(...)``: each lane group's parameter values into their rows."""
    return f"""
define internal void @load_params({VEC}* noalias %R, double* %params, i64 %runs, i64 %r0,
                                  i64* %slots, i64 %n_params) {{
entry:
  %lastrun = add i64 %runs, -1
  br label %head
head:
  %p = phi i64 [0, %entry], [%p1, %body]
  %more = icmp slt i64 %p, %n_params
  br i1 %more, label %body, label %done
body:
  %sp = getelementptr inbounds i64, i64* %slots, i64 %p
  %slot = load i64, i64* %sp
  %rowbase = mul i64 %p, %runs
{"".join(_lane_param(lane) for lane in range(W))}
  %vp = getelementptr inbounds {VEC}, {VEC}* %R, i64 %slot
  store {VEC} %v{W - 1}, {VEC}* %vp, align 8
  %p1 = add i64 %p, 1
  br label %head
done:
  ret void
}}
"""


def _ctx(fn: Function) -> dict[str, str]:
    """Load the fields of ``%ctx`` (pointers cast to their types)."""
    types = {
        "params": "double*",
        "out": "double*",
        "save_rows": "i64*",
        "fail_slot": "i64*",
        "fail_time": "double*",
        "state": f"{VEC}*",
        "doubles": "double*",
        "hist": "double*",
        "keys": "i64*",
    }
    fields: dict[str, str] = {}
    for index, name in enumerate(CTX):
        p = fn.value(f"getelementptr inbounds i64, i64* %ctx, i64 {index}", "cp")
        raw = fn.value(f"load i64, i64* {p}", name)
        fields[name] = (
            fn.value(f"inttoptr i64 {raw} to {types[name]}", name) if name in types else raw
        )
    for index, name in enumerate(("start", "dt", "stop")):
        p = fn.value(f"getelementptr inbounds double, double* {fields['doubles']}, i64 {index}")
        fields[name] = fn.value(f"load double, double* {p}", name)
    return fields


def _main(program: Program, table: Tableau, rows: Rows) -> str:
    """``void @kernel(i64* ctx)``: steps outermost, lane groups inside, so that each saved
    value of a step is written for all the task's runs side by side."""
    fn = Function("define void @kernel(i64* %ctx)")
    c = _ctx(fn)
    c["n_init"], c["n_check"] = str(len(program.init_check)), str(len(program.check_order))
    n_params = len(program.param_slots)

    n_delays = len(program.delay_src)
    steps1 = fn.value(f"add i64 {c['n_steps']}, 1")
    c["span"] = fn.value(f"mul i64 {steps1}, {W}", "span")

    def group(g: str) -> tuple[str, str]:
        offset = fn.value(f"sub i64 {g}, {c['g_lo']}")
        base = fn.value(f"mul i64 {offset}, {rows.total}")
        R = fn.value(f"getelementptr inbounds {VEC}, {VEC}* {c['state']}, i64 {base}", "R")
        held = fn.value(f"mul i64 {offset}, {n_delays}")
        at = fn.value(f"mul i64 {held}, {c['span']}")
        c["H"] = fn.value(f"getelementptr inbounds double, double* {c['hist']}, i64 {at}", "H")
        r0 = fn.value(f"mul i64 {g}, {W}", "r0")
        c["K"] = fn.value(f"getelementptr inbounds i64, i64* {c['keys']}, i64 {r0}", "K")
        return R, r0

    first = fn.value(f"icmp eq i64 {c['s_lo']}, 0", "b")
    with fn.if_then(first), fn.loop(c["g_lo"], c["g_hi"], "g") as g:
        R, r0 = group(g)
        slots = f"[{max(n_params, 1)} x i64]"
        fn.emit(
            f"call void @load_params({VEC}* {R}, double* {c['params']}, i64 {c['n']}, "
            f"i64 {r0}, i64* getelementptr ({slots}, {slots}* @param_slots, i64 0, i64 0), "
            f"i64 {n_params})"
        )
        fn.emit(f"call void @init({VEC}* {R}, double {c['start']}, {_clock(c, '0', '0')})")
        _check(fn, c, R, r0, c["start"], "init")
    last = fn.value(f"add i64 {c['n_steps']}, 1")
    over = fn.value(f"icmp slt i64 {c['s_hi']}, {last}", "b")
    s_end = fn.value(f"select i1 {over}, i64 {c['s_hi']}, i64 {last}")
    with fn.loop(c["s_lo"], s_end, "step") as step:
        c["step"] = step
        stepf = fn.value(f"sitofp i64 {step} to double")
        elapsed = fn.value(f"fmul double {stepf}, {c['dt']}")
        t = fn.value(f"fadd double {c['start']}, {elapsed}", "t")
        rem = fn.value(f"srem i64 {step}, {c['save_every']}")
        saving = fn.value(f"icmp eq i64 {rem}, 0", "b")
        j = fn.value(f"sdiv i64 {step}, {c['save_every']}")
        moving = fn.value(f"icmp slt i64 {step}, {c['n_steps']}", "b")
        with fn.loop(c["g_lo"], c["g_hi"], "g") as g:
            R, r0 = group(g)
            _step(fn, program, table, rows, c, (R, r0, t, saving, j, moving))
    fn.emit("ret void")
    return fn.text()


def _clock(c: dict[str, str], recorded: str, step: str) -> str:
    """The equation functions' arguments after the time: the clock, the history, the keys."""
    return (
        f"double {c['dt']}, double {c['start']}, double {c['stop']}, double* {c['H']}, "
        f"i64 {recorded}, i64 {c['span']}, i64* {c['K']}, i64 {step}"
    )


def _check(fn: Function, c: dict[str, str], R: str, r0: str, t: str, which: str) -> None:
    """Record the first non-finite value of each lane that has not failed yet (``which``:
    the initial values' order or the step's)."""
    acc = fn.value(f"call {VEC} @finite_{which}({VEC}* {R})")
    size = c[f"n_{which}"]
    array = f"[{max(1, int(size))} x i64]"
    fn.emit(
        f"call void @check({VEC}* {R}, {VEC} {acc}, i64* getelementptr ({array}, {array}* "
        f"@{which}_order, i64 0, i64 0), i64 {size}, double {t}, i64 {r0}, i64 {c['n']}, "
        f"i64* {c['fail_slot']}, double* {c['fail_time']})"
    )


def _finite(which: str, order: I64) -> str:
    """``<W x double> @finite_{which}(R)``: the sum of the values of ``order`` times 0: NaN in
    a lane where some value is not finite (a NaN or an infinity stays in a sum, and infinity
    times 0 is NaN), and rarely in a lane whose finite values overflow the sum; that lane is
    then searched value by value (``@first_bad``) and found sound, so the sum only decides
    when to search, as the block kernel's sum of value * 0 does. Written out for a short
    order, a loop over ``@{which}_order`` for a long one."""
    fn = Function(f"define internal {VEC} @finite_{which}({VEC}* noalias %R)")
    body = _Body(fn)
    if len(order) > UNROLL:
        array = f"[{len(order)} x i64]"
        total = fn.value(
            f"call {VEC} @sum_rows({VEC}* %R, i64* getelementptr ({array}, {array}* "
            f"@{which}_order, i64 0, i64 0), i64 {len(order)})"
        )
    else:
        total = ZEROS
        for row in order.tolist():
            total = body.op("fadd", total, body.load(row))
    fn.emit(f"ret {VEC} {body.op('fmul', total, ZEROS)}")
    return fn.text()


SUM_ROWS = f"""
define internal {VEC} @sum_rows({VEC}* noalias %R, i64* %order, i64 %n) {{
entry:
  br label %head
head:
  %k = phi i64 [0, %entry], [%k1, %body]
  %acc = phi {VEC} [{ZEROS}, %entry], [%acc1, %body]
  %more = icmp slt i64 %k, %n
  br i1 %more, label %body, label %done
body:
  %op = getelementptr inbounds i64, i64* %order, i64 %k
  %row = load i64, i64* %op
  %rp = getelementptr inbounds {VEC}, {VEC}* %R, i64 %row
  %v = load {VEC}, {VEC}* %rp, align 8
  %acc1 = fadd {VEC} %acc, %v
  %k1 = add i64 %k, 1
  br label %head
done:
  ret {VEC} %acc
}}
"""


def _step(
    fn: Function,
    program: Program,
    table: Tableau,
    rows: Rows,
    c: dict[str, str],
    where: tuple[str, str, str, str, str, str],
) -> None:
    """One step of one lane group (see the module docstring)."""
    R, r0, t, saving, j, moving = where
    fn.emit(f"call void @first({VEC}* {R}, double {t}, {_clock(c, c['step'], c['step'])})")
    fn.emit(f"call void @derivatives({VEC}* {R}, i64 {rows.k}, double {c['dt']})")
    _check(fn, c, R, r0, t, "check")
    with fn.if_then(saving):
        fn.emit(
            f"call void @save({VEC}* {R}, double* {c['out']}, i64* {c['save_rows']}, "
            f"i64 {c['n_save']}, i64 {j}, i64 {c['n_times']}, i64 {r0}, i64 {c['n']})"
        )
    with fn.if_then(moving):
        for d, src in enumerate(program.delay_src.tolist()):  # the buffers record this step
            cell = fn.value(f"mul i64 {c['step']}, {W}")
            offset = fn.value(f"mul i64 {d}, {c['span']}")
            index = fn.value(f"add i64 {offset}, {cell}")
            p = fn.value(f"getelementptr inbounds double, double* {c['H']}, i64 {index}")
            vp = fn.value(f"bitcast double* {p} to {VEC}*")
            row = fn.value(f"getelementptr inbounds {VEC}, {VEC}* {R}, i64 {src}")
            value = fn.value(f"load {VEC}, {VEC}* {row}, align 8")
            fn.emit(f"store {VEC} {value}, {VEC}* {vp}, align 8")
        fn.emit(f"call void @pend({VEC}* {R})")
        if table.stages == 1:
            fn.emit(f"call void @update({VEC}* {R}, double {c['dt']})")
        else:
            fn.emit(f"call void @keep({VEC}* {R})")
            n_stocks = len(program.stock_slots)
            recorded = fn.value(f"add i64 {c['step']}, 1")
            for i in range(1, table.stages):
                fn.emit(f"call void @combine{i}({VEC}* {R}, double {c['dt']})")
                frac = fn.value(f"fmul double {double(float(table.c[i]))}, {c['dt']}")
                ti = fn.value(f"fadd double {t}, {frac}", "t")
                fn.emit(
                    f"call void @later({VEC}* {R}, double {ti}, {_clock(c, recorded, c['step'])})"
                )
                krow = rows.k + i * n_stocks
                fn.emit(f"call void @derivatives({VEC}* {R}, i64 {krow}, double {c['dt']})")
            fn.emit(f"call void @combine{table.stages}({VEC}* {R}, double {c['dt']})")
        fn.emit(f"call void @restore({VEC}* {R})")


def module_text(program: Program, table: Tableau, variant: tuple[int, str] | None) -> str:
    """The whole IR module of ``program``'s kernel for the method ``table``."""
    from flywheel_sim.compile import registers
    from flywheel_sim.compile.stages import stage_code

    rows = Rows.of(program, table.stages)
    code = stage_code(program)
    init = registers.to_registers(program.init_code, program.n_slots)
    parts = [
        "; flywheel-sim native kernel",
        runtime.lookup_tables(
            program.lookup_ptr, program.lookup_x, program.lookup_y, program.lookup_kind
        ),
        _order("param_slots", program.param_slots),
        _order("init_order", program.init_check),
        _order("check_order", program.check_order),
        runtime.DECLARATIONS,
        runtime.lookup_function(len(program.lookup_x), len(program.lookup_kind)),
        runtime.helpers(),
        runtime.history_functions(),
        randoms.site_tables(program.site_keys, program.site_seed),
        randoms.functions(program.n_sites),
        runtime.pow_function(variant),
        CHECK,
        _load_params(),
        equation_function("init", init, program.consts, program.n_slots),
        equation_function("first", code.first, program.consts, program.n_slots),
        _derivatives(program),
        SUM_ROWS,
        _edge_tables(program),
        _finite("init", program.init_check),
        _finite("check", program.check_order),
        _update(program, table, rows),
        _moves("pend", [(rows.pending + q, int(s)) for q, s in enumerate(program.prev_src)]),
        _moves("restore", [(int(d), rows.pending + q) for q, d in enumerate(program.prev_dst)]),
        _main(program, table, rows),
    ]
    if table.stages > 1:
        parts.append(equation_function("later", code.later, program.consts, program.n_slots))
        keep = [(rows.y0 + k, int(s)) for k, s in enumerate(program.stock_slots)]
        parts.append(_moves("keep", keep))
    return "\n\n".join(parts)
