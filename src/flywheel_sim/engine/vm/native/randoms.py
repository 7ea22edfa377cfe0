"""Random draws of one lane for the native kernel, as LLVM IR text: the counter-based streams
of :mod:`flywheel_sim.rng` and the draws of :func:`flywheel_sim.engine.vm.jitops.random`,
operation for operation (SplitMix64 in wrapping 64-bit integers; Box-Muller with libm's
``sqrt``/``log``/``cos``; Poisson by inversion below a mean of 30 and Hörmann's PTRS above,
with libm's ``lgamma``), so each run draws the numbers the numba kernels draw."""

from __future__ import annotations

import math

from flywheel_sim import rng
from flywheel_sim._types import I64, U64
from flywheel_sim.engine.vm.native.text import double


def _i64(value: object) -> str:
    """An unsigned 64-bit constant as IR's (signed) i64 literal."""
    number = int(value)  # type: ignore[call-overload]
    return str(number - (1 << 64) if number >= 1 << 63 else number)


def site_tables(site_keys: U64, site_seed: I64) -> str:
    """Each call site's stream key, and the mask ANDed with the run's key (0 where the call
    has a seed argument: the same draws in every run)."""
    keys = [_i64(k) for k in site_keys] or ["0"]
    masks = ["0" if s >= 0 else "-1" for s in site_seed] or ["0"]
    return (
        f"@site_keys = internal constant [{len(keys)} x i64] "
        f"[{', '.join('i64 ' + k for k in keys)}], align 8\n"
        f"@site_masks = internal constant [{len(masks)} x i64] "
        f"[{', '.join('i64 ' + m for m in masks)}], align 8"
    )


def functions(n_sites: int) -> str:
    """``@uniform``, ``@draw_*`` (RANDOM, NORMAL, LOGNORMAL, EXPRND, POISSON) of one lane."""
    n = max(n_sites, 1)
    return f"""
declare double @llvm.log.f64(double)
declare double @llvm.exp.f64(double)
declare double @llvm.cos.f64(double)
declare double @log1p(double)
declare double @lgamma(double)

define internal i64 @mix(i64 %z0) {{
entry:
  %z = add i64 %z0, {_i64(rng.GOLDEN)}
  %a = lshr i64 %z, 30
  %b = xor i64 %z, %a
  %c = mul i64 %b, {_i64(rng.M1)}
  %d = lshr i64 %c, 27
  %e = xor i64 %c, %d
  %f = mul i64 %e, {_i64(rng.M2)}
  %g = lshr i64 %f, 31
  %h = xor i64 %f, %g
  ret i64 %h
}}

define internal i64 @site_key(i64 %run_key, i64 %site) {{
entry:
  %mp = getelementptr inbounds [{n} x i64], [{n} x i64]* @site_masks, i64 0, i64 %site
  %mask = load i64, i64* %mp
  %key = and i64 %run_key, %mask
  ret i64 %key
}}

define internal double @uniform(i64 %key, i64 %site, i64 %step, i64 %draw) {{
entry:
  %sp = getelementptr inbounds [{n} x i64], [{n} x i64]* @site_keys, i64 0, i64 %site
  %skey = load i64, i64* %sp
  %counter0 = mul i64 %step, {_i64(rng.STEP)}
  %counter = add i64 %counter0, %draw
  %k = xor i64 %key, %skey
  %m1 = call i64 @mix(i64 %k)
  %m2 = add i64 %m1, %counter
  %z = call i64 @mix(i64 %m2)
  %top = lshr i64 %z, 11
  %f = uitofp i64 %top to double
  %h = fadd double %f, 0.5
  %u = fmul double %h, {double(rng.TWO53)}
  ret double %u
}}

define internal double @normal01(i64 %key, i64 %site, i64 %step) {{
entry:
  %u1 = call double @uniform(i64 %key, i64 %site, i64 %step, i64 0)
  %u2 = call double @uniform(i64 %key, i64 %site, i64 %step, i64 1)
  %l = call double @llvm.log.f64(double %u1)
  %m = fmul double -2.0, %l
  %s = call double @sqrt(double %m)
  %a = fmul double {double(2.0 * math.pi)}, %u2
  %c = call double @llvm.cos.f64(double %a)
  %z = fmul double %s, %c
  ret double %z
}}

define internal double @draw_random(i64 %key, i64 %site, i64 %step, double %a, double %b) {{
entry:
  %u = call double @uniform(i64 %key, i64 %site, i64 %step, i64 0)
  %w = fsub double %b, %a
  %x = fmul double %w, %u
  %r = fadd double %a, %x
  ret double %r
}}

define internal double @draw_normal(i64 %key, i64 %site, i64 %step, double %a, double %b) {{
entry:
  %z = call double @normal01(i64 %key, i64 %site, i64 %step)
  %x = fmul double %b, %z
  %r = fadd double %a, %x
  ret double %r
}}

define internal double @draw_lognormal(i64 %key, i64 %site, i64 %step, double %a, double %b) {{
entry:
  %z = call double @normal01(i64 %key, i64 %site, i64 %step)
  %bb = fmul double %b, %b
  %aa = fmul double %a, %a
  %q = fdiv double %bb, %aa
  %s2 = call double @log1p(double %q)
  %la = call double @llvm.log.f64(double %a)
  %h = fmul double 0.5, %s2
  %d = fsub double %la, %h
  %s = call double @sqrt(double %s2)
  %sz = fmul double %s, %z
  %e = fadd double %d, %sz
  %r = call double @llvm.exp.f64(double %e)
  ret double %r
}}

define internal double @draw_exprnd(i64 %key, i64 %site, i64 %step, double %a, double %b) {{
entry:
  %negative = fcmp olt double %a, 0.0
  br i1 %negative, label %none, label %draw
none:
  ret double {double(math.nan)}
draw:
  %u = call double @uniform(i64 %key, i64 %site, i64 %step, i64 0)
  %l = call double @llvm.log.f64(double %u)
  %na = fsub double -0.0, %a
  %r = fmul double %na, %l
  ret double %r
}}
{_poisson()}"""


def _poisson() -> str:
    """jitops.poisson: inversion below a mean of 30, PTRS above; NaN for a negative or NaN
    mean or when 1,000 tries are not enough."""
    c = {k: double(v) for k, v in {
        "b0": 0.931, "b1": 2.53, "a0": -0.059, "a1": 0.02483, "i0": 1.1239, "i1": 1.1328,
        "v0": 0.9277, "v1": 3.6224, "us_min": 0.07, "us_tiny": 0.013, "shift": 0.43,
        "nan": math.nan}.items()}  # fmt: skip
    return f"""
define internal double @draw_poisson(i64 %key, i64 %site, i64 %step, double %lam, double %b) {{
entry:
  %ok = fcmp oge double %lam, 0.0
  br i1 %ok, label %valid, label %fail
fail:
  ret double {c["nan"]}
valid:
  %zero = fcmp oeq double %lam, 0.0
  br i1 %zero, label %retzero, label %which
retzero:
  ret double 0.0
which:
  %small = fcmp olt double %lam, 30.0
  br i1 %small, label %inversion, label %ptrs
inversion:
  %u = call double @uniform(i64 %key, i64 %site, i64 %step, i64 0)
  %nl = fsub double -0.0, %lam
  %p0 = call double @llvm.exp.f64(double %nl)
  br label %ihead
ihead:
  %k = phi double [0.0, %inversion], [%k1, %ibody]
  %p = phi double [%p0, %inversion], [%p1, %ibody]
  %cdf = phi double [%p0, %inversion], [%cdf1, %ibody]
  %above = fcmp ogt double %u, %cdf
  %room = fcmp olt double %k, 1000.0
  %go = and i1 %above, %room
  br i1 %go, label %ibody, label %idone
ibody:
  %k1 = fadd double %k, 1.0
  %pl = fmul double %p, %lam
  %p1 = fdiv double %pl, %k1
  %cdf1 = fadd double %cdf, %p1
  br label %ihead
idone:
  ret double %k
ptrs:
  %nl2 = fsub double -0.0, %lam
  %slam = call double @sqrt(double %lam)
  %loglam = call double @llvm.log.f64(double %lam)
  %bs = fmul double {c["b1"]}, %slam
  %bb = fadd double {c["b0"]}, %bs
  %ab = fmul double {c["a1"]}, %bb
  %aa = fadd double {c["a0"]}, %ab
  %b34 = fsub double %bb, 3.4
  %iq = fdiv double {c["i1"]}, %b34
  %invalpha = fadd double {c["i0"]}, %iq
  %b2 = fsub double %bb, 2.0
  %vq = fdiv double {c["v1"]}, %b2
  %vr = fsub double {c["v0"]}, %vq
  br label %phead
phead:
  %j = phi i64 [0, %ptrs], [%j1, %pnext]
  %more = icmp slt i64 %j, 1000
  br i1 %more, label %pbody, label %fail
pbody:
  %d0 = mul i64 %j, 2
  %d1 = add i64 %d0, 1
  %uu = call double @uniform(i64 %key, i64 %site, i64 %step, i64 %d0)
  %u0 = fsub double %uu, 0.5
  %v = call double @uniform(i64 %key, i64 %site, i64 %step, i64 %d1)
  %au = call double @llvm.fabs.f64(double %u0)
  %us = fsub double 0.5, %au
  %a2 = fmul double 2.0, %aa
  %t1 = fdiv double %a2, %us
  %t2 = fadd double %t1, %bb
  %t3 = fmul double %t2, %u0
  %t4 = fadd double %t3, %lam
  %t5 = fadd double %t4, {c["shift"]}
  %kk = call double @llvm.floor.f64(double %t5)
  %c1 = fcmp oge double %us, {c["us_min"]}
  %c2 = fcmp ole double %v, %vr
  %quick = and i1 %c1, %c2
  br i1 %quick, label %accept, label %check
check:
  %kneg = fcmp olt double %kk, 0.0
  %c3 = fcmp olt double %us, {c["us_tiny"]}
  %c4 = fcmp ogt double %v, %us
  %c34 = and i1 %c3, %c4
  %skip = or i1 %kneg, %c34
  br i1 %skip, label %pnext, label %test
test:
  %lv = call double @llvm.log.f64(double %v)
  %li = call double @llvm.log.f64(double %invalpha)
  %uu2 = fmul double %us, %us
  %ad = fdiv double %aa, %uu2
  %adb = fadd double %ad, %bb
  %ld = call double @llvm.log.f64(double %adb)
  %s1 = fadd double %lv, %li
  %lhs = fsub double %s1, %ld
  %kl = fmul double %kk, %loglam
  %r1 = fadd double %nl2, %kl
  %k1p = fadd double %kk, 1.0
  %lg = call double @lgamma(double %k1p)
  %rhs = fsub double %r1, %lg
  %fine = fcmp ole double %lhs, %rhs
  br i1 %fine, label %accept, label %pnext
accept:
  %res = phi double [%kk, %pbody], [%kk, %test]
  ret double %res
pnext:
  %j1 = add i64 %j, 1
  br label %phead
}}
"""
