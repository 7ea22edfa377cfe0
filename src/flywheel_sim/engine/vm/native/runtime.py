"""Scalar helpers of the native kernel, as LLVM IR text: lookups, RAMP, PULSE and ``pow``.

Each is the function of :mod:`flywheel_sim.engine.vm.jitops` written out operation by
operation (numba's ``min``/``max`` pick ``b if b < a else a``; ``math.floor`` of a float is an
integer there, so PULSE's period count goes through an i64 as it does in numba), so a lane
gets the bits the scalar kernel computes. The lookup tables are the module's constant data.
"""

from __future__ import annotations

import numpy as np

from flywheel_sim._types import F64, I64
from flywheel_sim.engine.vm.native.text import VEC, W, double


def _array(name: str, kind: str, values: list[str]) -> str:
    body = ", ".join(f"{kind} {v}" for v in values) if values else ""
    return f"@{name} = internal constant [{len(values)} x {kind}] [{body}], align 8"


def lookup_tables(ptr: I64, xs: F64, ys: F64, kinds: I64) -> str:
    """The tables as constant arrays (one dummy entry when the model has none)."""
    ptr_v = [str(int(v)) for v in ptr]
    ptr_v += ["0"] * (2 - len(ptr_v))
    x_v = [double(v) for v in xs] or [double(0.0)]
    y_v = [double(v) for v in ys] or [double(0.0)]
    k_v = [str(int(v)) for v in kinds] or ["0"]
    return "\n".join(
        [
            _array("lookup_ptr", "i64", ptr_v),
            _array("lookup_x", "double", x_v),
            _array("lookup_y", "double", y_v),
            _array("lookup_kind", "i64", k_v),
        ]
    )


def _at(table: str, size: int, index: str, out: str, kind: str = "double") -> str:
    """``%out = table[index]``."""
    return (
        f"  {out}.p = getelementptr inbounds [{size} x {kind}], [{size} x {kind}]* @{table}, "
        f"i64 0, i64 {index}\n  {out} = load {kind}, {kind}* {out}.p"
    )


def _line(tag: str, a: tuple[str, str], b: tuple[str, str], c: tuple[str, str]) -> str:
    """``ret ya + (x - xa) * (yb - yc) / (xb - xc)``: a point of a table's segment, or of its
    first or last segment extended, in jitops.lookup's order of operations."""
    (xa, ya), (xb, yb), (xc, yc) = a, b, c
    return (
        f"  %dx{tag} = fsub double %x, {xa}\n  %dy{tag} = fsub double {yb}, {yc}\n"
        f"  %p{tag} = fmul double %dx{tag}, %dy{tag}\n  %w{tag} = fsub double {xb}, {xc}\n"
        f"  %q{tag} = fdiv double %p{tag}, %w{tag}\n  %r{tag} = fadd double {ya}, %q{tag}\n"
        f"  ret double %r{tag}"
    )


def lookup_function(n_x: int, n_tables: int) -> str:
    """``double @lookup(double x, i64 table)``: jitops.lookup, with a NaN x giving NaN
    (``n_x`` points in all, ``n_tables`` tables)."""
    n = max(n_x, 1)
    n_ptr, n_kind = max(n_tables + 1, 2), max(n_tables, 1)

    def ptr(index: str, out: str) -> str:
        return _at("lookup_ptr", n_ptr, index, out, "i64")

    def kind(index: str, out: str) -> str:
        return _at("lookup_kind", n_kind, index, out, "i64")

    def x(index: str, out: str) -> str:
        return _at("lookup_x", n, index, out)

    def y(index: str, out: str) -> str:
        return _at("lookup_y", n, index, out)

    return f"""
define internal i64 @search_right(i64 %base, i64 %n, double %x) {{
entry:
  br label %head
head:
  %lo = phi i64 [0, %entry], [%lo2, %step]
  %hi = phi i64 [%n, %entry], [%hi2, %step]
  %more = icmp slt i64 %lo, %hi
  br i1 %more, label %body, label %done
body:
  %sum = add i64 %lo, %hi
  %mid = lshr i64 %sum, 1
  %at = add i64 %base, %mid
{x("%at", "%xm")}
  %above = fcmp ogt double %xm, %x
  %mid1 = add i64 %mid, 1
  br label %step
step:
  %lo2 = select i1 %above, i64 %lo, i64 %mid1
  %hi2 = select i1 %above, i64 %mid, i64 %hi
  br label %head
done:
  ret i64 %lo
}}

define internal double @lookup(double %x, i64 %k) {{
entry:
{ptr("%k", "%lo")}
  %k1 = add i64 %k, 1
{ptr("%k1", "%hi")}
  %n = sub i64 %hi, %lo
{kind("%k", "%kind")}
  %last = add i64 %hi, -1
  %disc = icmp eq i64 %kind, 2
  br i1 %disc, label %discrete, label %interp
discrete:
  %found = call i64 @search_right(i64 %lo, i64 %n, double %x)
  %j0 = add i64 %found, -1
  %neg = icmp slt i64 %j0, 0
  %j1 = select i1 %neg, i64 0, i64 %j0
  %nm1 = add i64 %n, -1
  %over = icmp sgt i64 %j1, %nm1
  %j2 = select i1 %over, i64 %nm1, i64 %j1
  %jd = add i64 %lo, %j2
{y("%jd", "%yd")}
  ret double %yd
interp:
{x("%lo", "%x0")}
{y("%lo", "%y0")}
  %below = fcmp ole double %x, %x0
  %single = icmp eq i64 %n, 1
  %low = or i1 %below, %single
  %ext = icmp eq i64 %kind, 1
  br i1 %low, label %lowside, label %notlow
lowside:
  %many = icmp sgt i64 %n, 1
  %under = fcmp olt double %x, %x0
  %e1 = and i1 %ext, %many
  %e2 = and i1 %e1, %under
  br i1 %e2, label %extlow, label %retlow
extlow:
  %lo1 = add i64 %lo, 1
{x("%lo1", "%x1")}
{y("%lo1", "%y1")}
{_line("l", ("%x0", "%y0"), ("%x1", "%y1"), ("%x0", "%y0"))}
retlow:
  ret double %y0
notlow:
{x("%last", "%xn")}
{y("%last", "%yn")}
  %above = fcmp oge double %x, %xn
  br i1 %above, label %highside, label %middle
highside:
  %over2 = fcmp ogt double %x, %xn
  %e3 = and i1 %ext, %over2
  br i1 %e3, label %exthigh, label %rethigh
exthigh:
  %prev = add i64 %hi, -2
{x("%prev", "%xp")}
{y("%prev", "%yp")}
{_line("h", ("%xn", "%yn"), ("%xn", "%yn"), ("%xp", "%yp"))}
rethigh:
  ret double %yn
middle:
  %nan = fcmp uno double %x, %x
  br i1 %nan, label %retnan, label %search
retnan:
  ret double %x
search:
  %f = call i64 @search_right(i64 %lo, i64 %n, double %x)
  %i0 = add i64 %f, -1
  %i = add i64 %lo, %i0
  %i1 = add i64 %i, 1
{x("%i", "%xi")}
{x("%i1", "%xj")}
{y("%i", "%yi")}
{y("%i1", "%yj")}
  %same = fcmp oeq double %xj, %xi
  br i1 %same, label %retsame, label %between
retsame:
  ret double %yj
between:
{_line("m", ("%xi", "%yi"), ("%xj", "%yj"), ("%xi", "%yi"))}
}}
"""


def helpers() -> str:
    """RAMP and PULSE of one lane: ``@ramp(t, dt, slope, begin, end)``, ``@pulse(t, dt,
    volume, first, interval)``."""
    eps = double(1e-6)
    return f"""
define internal double @ramp(double %t, double %dt, double %slope, double %begin, double %end) {{
entry:
  %endfirst = fcmp olt double %end, %t
  %m = select i1 %endfirst, double %end, double %t
  %d = fsub double %m, %begin
  %v = fmul double %slope, %d
  %after = fcmp ogt double %t, %begin
  %r = select i1 %after, double %v, double 0.0
  ret double %r
}}

define internal double @pulse(double %t, double %dt, double %volume, double %first,
                              double %interval) {{
entry:
  %eps = fmul double {eps}, %dt
  %since = fsub double %t, %first
  %positive = fcmp ogt double %interval, 0.0
  br i1 %positive, label %count, label %join
count:
  %s = fadd double %since, %eps
  %q = fdiv double %s, %interval
  %fl = call double @llvm.floor.f64(double %q)
  %whole = fptosi double %fl to i64
  %back = sitofp i64 %whole to double
  br label %join
join:
  %periods = phi double [%back, %count], [0.0, %entry]
  %pi = fmul double %periods, %interval
  %offset = fsub double %since, %pi
  %neps = fsub double -0.0, %eps
  %c1 = fcmp oge double %since, %neps
  %dte = fsub double %dt, %eps
  %c2 = fcmp olt double %offset, %dte
  %c3 = fcmp oge double %offset, %neps
  %c12 = and i1 %c1, %c2
  %all = and i1 %c12, %c3
  %v = fdiv double %volume, %dt
  %r = select i1 %all, double %v, double 0.0
  ret double %r
}}
"""


def history_functions() -> str:
    """DELAY and HISTORY of one lane (jitops.delay, jitops.history): ``h`` is the lane's
    value at step 0, step i is ``h[i * W]``; ``recorded`` steps are written."""
    tiny = double(1e-9)
    return f"""
define internal double @between(double* %h, i64 %latest, double %pos) {{
entry:
  %fl = call double @llvm.floor.f64(double %pos)
  %i = fptosi double %fl to i64
  %i1 = add i64 %i, 1
  %over = icmp sgt i64 %i1, %latest
  %j = select i1 %over, i64 %latest, i64 %i1
  %fi = sitofp i64 %i to double
  %frac = fsub double %pos, %fi
  %ia = mul i64 %i, {W}
  %ja = mul i64 %j, {W}
  %ip = getelementptr inbounds double, double* %h, i64 %ia
  %jp = getelementptr inbounds double, double* %h, i64 %ja
  %hi = load double, double* %ip
  %hj = load double, double* %jp
  %rest = fsub double 1.0, %frac
  %a = fmul double %hi, %rest
  %b = fmul double %hj, %frac
  %r = fadd double %a, %b
  ret double %r
}}

define internal double @delay_lane(double* %h, i64 %recorded, double %t, double %start,
                                   double %dt, double %lag, double %initial) {{
entry:
  %target = fsub double %t, %lag
  %latest = add i64 %recorded, -1
  %none = icmp slt i64 %latest, 0
  %tol = fmul double {tiny}, %dt
  %edge = fsub double %start, %tol
  %early = fcmp olt double %target, %edge
  %before = or i1 %none, %early
  br i1 %before, label %start_value, label %in_record
start_value:
  ret double %initial
in_record:
  %since = fsub double %target, %start
  %steps = fdiv double %since, %dt
  %neg = fcmp ogt double 0.0, %steps
  %p0 = select i1 %neg, double 0.0, double %steps
  %last = sitofp i64 %latest to double
  %big = fcmp olt double %last, %p0
  %pos = select i1 %big, double %last, double %p0
  %nan = fcmp uno double %pos, %pos
  br i1 %nan, label %undefined, label %interpolate
undefined:
  ret double %pos
interpolate:
  %r = call double @between(double* %h, i64 %latest, double %pos)
  ret double %r
}}

define internal double @history_lane(double* %h, i64 %recorded, double %start, double %dt,
                                     double %when, double %initial) {{
entry:
  %tol = fmul double {tiny}, %dt
  %edge = fadd double %start, %tol
  %early = fcmp ole double %when, %edge
  br i1 %early, label %start_value, label %later
start_value:
  ret double %initial
later:
  %latest = add i64 %recorded, -1
  %since = fsub double %when, %start
  %pos0 = fdiv double %since, %dt
  %last = sitofp i64 %latest to double
  %limit = fadd double %last, {double(1e-6)}
  %known = fcmp ole double %pos0, %limit
  br i1 %known, label %within, label %unknown
unknown:
  ret double {double(float("nan"))}
within:
  %big = fcmp olt double %last, %pos0
  %pos = select i1 %big, double %last, double %pos0
  %r = call double @between(double* %h, i64 %latest, double %pos)
  ret double %r
}}
"""


def pow_function(variant: tuple[int, str] | None) -> str:
    """``<W x double> @pow_lanes(a, b)``: each lane through the vector ``pow`` the numba
    kernels use (:mod:`flywheel_sim.engine.vm.vecpow`), or libm's ``pow`` lane by lane."""
    head = f"define internal {VEC} @pow_lanes({VEC} %a, {VEC} %b) {{\nentry:\n"
    if variant is None:
        return (
            head + f"  %r = call {VEC} @llvm.pow.v{W}f64({VEC} %a, {VEC} %b)\n  ret {VEC} %r\n}}\n"
        )
    lanes, symbol = variant
    wide = f"<{lanes} x double>"
    if lanes >= W:
        pad = ", ".join(f"i32 {i}" if i < W else f"i32 {W}" for i in range(lanes))
        ones = "<" + ", ".join("double 1.0" for _ in range(W)) + ">"
        keep = ", ".join(f"i32 {i}" for i in range(W))
        return (
            head
            + f"  %wa = shufflevector {VEC} %a, {VEC} {ones}, <{lanes} x i32> <{pad}>\n"
            + f"  %wb = shufflevector {VEC} %b, {VEC} {ones}, <{lanes} x i32> <{pad}>\n"
            + f"  %wr = call {wide} @{symbol}({wide} %wa, {wide} %wb)\n"
            + f"  %r = shufflevector {wide} %wr, {wide} undef, <{W} x i32> <{keep}>\n"
            + f"  ret {VEC} %r\n}}\ndeclare {wide} @{symbol}({wide}, {wide})\n"
        )
    parts = []
    lines = [head]
    for start in range(0, W, lanes):
        idx = ", ".join(f"i32 {start + i}" for i in range(lanes))
        lines.append(f"  %a{start} = shufflevector {VEC} %a, {VEC} undef, <{lanes} x i32> <{idx}>")
        lines.append(f"  %b{start} = shufflevector {VEC} %b, {VEC} undef, <{lanes} x i32> <{idx}>")
        lines.append(f"  %r{start} = call {wide} @{symbol}({wide} %a{start}, {wide} %b{start})")
        parts.append((f"%r{start}", lanes))
    while len(parts) > 1:  # join neighbours until one vector of W lanes is left
        joined = []
        for k in range(0, len(parts), 2):
            (left, size), (right, _) = parts[k], parts[k + 1]
            name = f"%j{len(lines)}"
            idx = ", ".join(f"i32 {i}" for i in range(2 * size))
            lines.append(
                f"  {name} = shufflevector <{size} x double> {left}, <{size} x double> {right}, "
                f"<{2 * size} x i32> <{idx}>"
            )
            joined.append((name, 2 * size))
        parts = joined
    lines.append(f"  ret {VEC} {parts[0][0]}\n}}\ndeclare {wide} @{symbol}({wide}, {wide})\n")
    return "\n".join(lines)


DECLARATIONS = "\n".join(
    [
        *(
            f"declare {VEC} @llvm.{name}.v{W}f64({VEC})"
            for name in ("exp", "log", "log10", "sin", "cos", "fabs", "floor")
        ),
        f"declare {VEC} @llvm.pow.v{W}f64({VEC}, {VEC})",
        "declare double @llvm.floor.f64(double)",
        *(f"declare double @{name}(double)" for name in ("sqrt", "tan", "asin", "acos", "atan")),
    ]
)


def no_lookups() -> tuple[I64, F64, F64, I64]:
    """Empty tables, for programs without lookups."""
    return np.zeros(1, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
