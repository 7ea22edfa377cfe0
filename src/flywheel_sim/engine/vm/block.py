"""The numba virtual machine: the code of :mod:`flywheel_sim.engine.vm.reference`, run in
compiled loops.

For 32 runs or more, the *block* kernel runs blocks of 256 runs in parallel (``prange``, one
block per core at a time); each instruction is a loop over the block's runs, which the
compiler vectorises, and powers go eight runs at a time through glibc's vector ``pow``
(:mod:`flywheel_sim.engine.vm.vecpow`, which the one-run kernel uses too). It runs the three-address
form of the code (:mod:`flywheel_sim.compile.registers`, arithmetic in
:mod:`flywheel_sim.engine.vm.rows`) and lets Runge-Kutta stages skip equations whose value cannot
have changed (:mod:`flywheel_sim.compile.stages`). Fewer runs go to the scalar kernel
(:mod:`flywheel_sim.engine.vm.scalar`), which runs the postfix code one run at a time. Both perform
the same floating-point operations in the same order, so they agree bit for bit.

The VM is compiled once per machine and cached on disk (``cache=True``); models are data for
it, so a new model costs no JIT time. Needs the ``fast`` extra (numba); tests check it agrees
with the NumPy VM on every builtin and every built-in model.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numba import prange
from numpy.typing import NDArray

from flywheel_sim import rng
from flywheel_sim.compile import ops, registers
from flywheel_sim.compile.program import Program
from flywheel_sim.compile.stages import stage_code
from flywheel_sim.engine.grid import Grid
from flywheel_sim.engine.integrators import Tableau
from flywheel_sim.engine.vm import rows as vm_rows

_CONST, _LOAD, _STORE = ops.CONST, ops.LOAD, ops.STORE
_ADD, _SUB, _MUL, _DIV, _POW, _NEG, _NOT = (
    ops.ADD,
    ops.SUB,
    ops.MUL,
    ops.DIV,
    ops.POW,
    ops.NEG,
    ops.NOT,
)
_EQ, _NE, _LT, _LE, _GT, _GE, _AND, _OR = (
    ops.EQ,
    ops.NE,
    ops.LT,
    ops.LE,
    ops.GT,
    ops.GE,
    ops.AND,
    ops.OR,
)
_SELECT, _MOD, _MIN, _MAX = ops.SELECT, ops.MOD, ops.MIN, ops.MAX
_GOLDEN, _M1, _M2, _STEPK = rng.GOLDEN, rng.M1, rng.M2, rng.STEP
_U30, _U27, _U31, _U11 = rng.S30, rng.S27, rng.S31, rng.S11
_TWO53 = rng.TWO53

jit = numba.njit(cache=True, nogil=True, error_model="numpy")
_ROW, _CONST_VALUE = registers.ROW, registers.CONST
_MOVE = registers.MOVE
BLOCK = 256
SCALAR_BELOW = 32  # fewer runs than this: the scalar kernel (vm_scalar) is faster


@jit
def _mix(z: np.uint64) -> np.uint64:
    z = z + _GOLDEN
    z = (z ^ (z >> _U30)) * _M1
    z = (z ^ (z >> _U27)) * _M2
    return z ^ (z >> _U31)


@jit
def _uniform(key: np.uint64, skey: np.uint64, step: int, draw: int) -> float:
    counter = np.uint64(step) * _STEPK + np.uint64(draw)
    z = _mix(_mix(key ^ skey) + counter)
    return (float(z >> _U11) + 0.5) * _TWO53


@jit
def _lookup(x: float, xs: NDArray[np.float64], ys: NDArray[np.float64], kind: int) -> float:
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
    i = np.searchsorted(xs, x, side="right") - 1
    if xs[i + 1] == xs[i]:
        return ys[i + 1]
    return ys[i] + (x - xs[i]) * (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])


@jit
def _poisson(key: np.uint64, skey: np.uint64, step: int, lam: float) -> float:
    if lam != lam:
        return math.nan
    if not lam > 0.0:
        return 0.0
    if lam < 30.0:
        u = _uniform(key, skey, step, 0)
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
        u = _uniform(key, skey, step, 2 * j) - 0.5
        v = _uniform(key, skey, step, 2 * j + 1)
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        lhs = math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
        if lhs <= -lam + k * loglam - math.lgamma(k + 1):
            return k
    return math.nan


@jit
def _random(op: int, key: np.uint64, skey: np.uint64, step: int, a: float, b: float) -> float:
    if op == ops.RANDOM:
        return a + (b - a) * _uniform(key, skey, step, 0)
    if op == ops.EXPRND:
        return -a * np.log(_uniform(key, skey, step, 0))
    if op == ops.POISSON:
        return _poisson(key, skey, step, a)
    u1 = _uniform(key, skey, step, 0)
    u2 = _uniform(key, skey, step, 1)
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    if op == ops.NORMAL:
        return a + b * z
    sigma2 = math.log1p((b * b) / (a * a))
    return math.exp(math.log(a) - 0.5 * sigma2 + math.sqrt(sigma2) * z)


@jit
def _delay(
    hist: NDArray[np.float64],
    buffer: int,
    t: float,
    start: float,
    dt: float,
    step: int,
    delay: float,
    initial: float,
) -> float:
    target = t - delay
    latest = hist.shape[1] - 1  # rows recorded so far (callers pass the recorded prefix)
    if latest < 0 or target < start - 1e-9 * dt:
        return initial
    pos = min(max((target - start) / dt, 0.0), float(latest))
    i = math.floor(pos)
    j = min(i + 1, latest)
    frac = pos - i
    return hist[buffer, i] * (1.0 - frac) + hist[buffer, j] * frac


@jit
def _select_pulse(t: float, dt: float, volume: float, first: float, interval: float) -> float:
    eps = 1e-6 * dt
    since = t - first
    periods = math.floor((since + eps) / interval) if interval > 0 else 0.0
    offset = since - periods * interval
    if since >= -eps and offset < dt - eps and offset >= -eps:
        return volume / dt
    return 0.0


@jit
def _special(
    op: int,
    arg: int,
    st: NDArray[np.float64],
    sp: int,
    B: int,
    t: float,
    dt: float,
    start: float,
    step: int,
    keys: NDArray[np.uint64],
    site_keys: NDArray[np.uint64],
    lk_ptr: NDArray[np.int64],
    lk_x: NDArray[np.float64],
    lk_y: NDArray[np.float64],
    lk_kind: NDArray[np.int64],
    hist: NDArray[np.float64],
) -> int:
    """The less frequent ops; returns the new stack pointer."""
    eps = 1e-6 * dt
    if op == ops.LOOKUP:
        lo, hi = lk_ptr[arg], lk_ptr[arg + 1]
        for r in range(B):
            st[sp - 1, r] = _lookup(st[sp - 1, r], lk_x[lo:hi], lk_y[lo:hi], lk_kind[arg])
        return sp
    if op == _SELECT:
        for r in range(B):
            st[sp - 3, r] = st[sp - 2, r] if st[sp - 3, r] != 0.0 else st[sp - 1, r]
        return sp - 2
    if op == ops.STEP:
        for r in range(B):
            st[sp - 2, r] = st[sp - 2, r] if t >= st[sp - 1, r] - eps else 0.0
        return sp - 1
    if op == ops.RAMP:
        for r in range(B):
            slope, begin, end = st[sp - 3, r], st[sp - 2, r], st[sp - 1, r]
            st[sp - 3, r] = slope * (min(t, end) - begin) if t > begin else 0.0
        return sp - 2
    if op == ops.PULSE:
        for r in range(B):
            st[sp - 3, r] = _select_pulse(t, dt, st[sp - 3, r], st[sp - 2, r], st[sp - 1, r])
        return sp - 2
    if op == ops.SAFEDIV:
        for r in range(B):
            a, b, c = st[sp - 3, r], st[sp - 2, r], st[sp - 1, r]
            st[sp - 3, r] = c if b == 0.0 else a / b
        return sp - 2
    if op == ops.RANDOM or op == ops.NORMAL or op == ops.LOGNORMAL:
        for r in range(B):
            st[sp - 2, r] = _random(op, keys[r], site_keys[arg], step, st[sp - 2, r], st[sp - 1, r])
        return sp - 1
    if op == ops.EXPRND or op == ops.POISSON:
        for r in range(B):
            st[sp - 1, r] = _random(op, keys[r], site_keys[arg], step, st[sp - 1, r], 0.0)
        return sp
    # DELAY
    for r in range(B):
        st[sp - 2, r] = _delay(hist[:, :, r], arg, t, start, dt, step, st[sp - 2, r], st[sp - 1, r])
    return sp - 1


@jit
def _clock(which: int, t: float, dt: float, start: float, stop: float) -> float:
    if which == ops.TIME:
        return t
    if which == ops.DT:
        return dt
    return start if which == ops.START else stop


@jit
def _exec(
    code: NDArray[np.int64],
    consts: NDArray[np.float64],
    R: NDArray[np.float64],
    n_slots: int,
    B: int,
    t: float,
    dt: float,
    start: float,
    stop: float,
    step: int,
    keys: NDArray[np.uint64],
    site_keys: NDArray[np.uint64],
    lk_ptr: NDArray[np.int64],
    lk_x: NDArray[np.float64],
    lk_y: NDArray[np.float64],
    lk_kind: NDArray[np.int64],
    hist: NDArray[np.float64],
) -> None:
    """Run three-address ``code`` (:mod:`flywheel_sim.compile.registers`) for a block of B
    runs; R holds the slots (rows ``0..n_slots``) and then the stack."""
    for k in range(code.shape[0]):
        op, o, ak, a, bk, b = code[k, 0], code[k, 1], code[k, 2], code[k, 3], code[k, 4], code[k, 5]
        if op <= _MAX and op != _NEG and op != _NOT and op != _SELECT:  # binary
            if ak == _ROW and bk == _ROW:
                if o == a:
                    vm_rows.rows(op, R, a, a, b, B)  # R[a] = R[a] <op> R[b]
                else:
                    vm_rows.rows(op, R, o, a, b, B)
            elif ak == _ROW:
                c = consts[b] if bk == _CONST_VALUE else _clock(b, t, dt, start, stop)
                vm_rows.row_value(op, R, o, a, c, B)
            else:
                c = consts[a] if ak == _CONST_VALUE else _clock(a, t, dt, start, stop)
                if bk == _ROW:
                    vm_rows.value_row(op, R, o, c, b, B)
                else:
                    d = consts[b] if bk == _CONST_VALUE else _clock(b, t, dt, start, stop)
                    vm_rows.fill(R, o, vm_rows.apply(op, c, d), B)
        elif op == _MOVE or op == _NEG or op == _NOT or ops.ABS <= op <= ops.INT:  # noqa: SIM109
            if ak == _ROW:
                if op == _MOVE:
                    vm_rows.move(R, o, a, B)
                else:
                    vm_rows.unary(op, R, o, a, B)
            else:
                c = consts[a] if ak == _CONST_VALUE else _clock(a, t, dt, start, stop)
                vm_rows.fill(R, o, c if op == _MOVE else vm_rows.function(op, c), B)
        else:  # the stack-machine ops, on the stack rows (o is the stack pointer)
            _special(
                op,
                a,
                R[n_slots:],
                o,
                B,
                t,
                dt,
                start,
                step,
                keys,
                site_keys,
                lk_ptr,
                lk_x,
                lk_y,
                lk_kind,
                hist,
            )


@jit
def _derivatives(
    S: NDArray[np.float64],
    D: NDArray[np.float64],
    B: int,
    dt: float,
    stock_slots: NDArray[np.int64],
    edge_stock: NDArray[np.int64],
    edge_slot: NDArray[np.int64],
    edge_sign: NDArray[np.float64],
    nonneg_stock: NDArray[np.int64],
    nonneg_ptr: NDArray[np.int64],
    nonneg_slot: NDArray[np.int64],
    nonneg_sign: NDArray[np.float64],
    nonneg_passes: int,
    work: NDArray[np.float64],
) -> None:
    """D (stocks, B) = net flow of each stock, after limiting what flows out of non-negative
    stocks (outflows, and inflows gone negative: inflows first, then outflows, as listed),
    again while a pass cuts a flow in some run of the block and passes remain.

    ``work`` is (2, >= B) scratch. Each loop runs over the block's runs innermost (so it
    vectorises); per run the additions and limits happen in the same order as a loop over
    runs outermost would do them.
    """
    inflow = work[0]
    available = work[1]
    for _ in range(nonneg_passes):
        cut = False
        for j in range(len(nonneg_stock)):
            for r in range(B):
                inflow[r] = 0.0
            for q in range(nonneg_ptr[j], nonneg_ptr[j + 1]):
                slot, sign = nonneg_slot[q], nonneg_sign[q]
                for r in range(B):
                    into = sign * S[slot, r]
                    if into > 0.0:
                        inflow[r] += into
            row = stock_slots[nonneg_stock[j]]
            for r in range(B):
                available[r] = max(S[row, r], 0.0) / dt + inflow[r]
            for q in range(nonneg_ptr[j], nonneg_ptr[j + 1]):
                slot, sign = nonneg_slot[q], nonneg_sign[q]
                for r in range(B):
                    into = sign * S[slot, r]
                    if into < 0.0:
                        taken = min(-into, max(available[r], 0.0))
                        if taken != -into:
                            cut = True
                        S[slot, r] = -sign * taken
                        available[r] -= taken
        if not cut:
            break
    D[:, :B] = 0.0
    for e in range(len(edge_stock)):
        k, slot, sign = edge_stock[e], edge_slot[e], edge_sign[e]
        for r in range(B):
            D[k, r] += sign * S[slot, r]


@jit
def _check(
    S: NDArray[np.float64],
    order: NDArray[np.int64],
    B: int,
    t: float,
    fail_slot: NDArray[np.int64],
    fail_time: NDArray[np.float64],
    acc: NDArray[np.float64],
) -> bool:
    """Record the first non-finite slot (in ``order``) of each run; True if any run failed.

    ``acc`` is scratch of length >= B: a per-run sum of value*0 (NaN iff any value is not
    finite), accumulated across runs so the loop vectorises.
    """
    acc[:B] = 0.0
    for k in range(len(order)):
        row = order[k]
        for r in range(B):
            acc[r] += S[row, r] * 0.0
    found = False
    for r in range(B):
        if acc[r] != 0.0:
            found = True
    if not found:
        return False
    for r in range(B):
        if fail_slot[r] >= 0 or acc[r] == 0.0:
            continue
        for k in range(len(order)):
            if not math.isfinite(S[order[k], r]):
                fail_slot[r] = order[k]
                fail_time[r] = t
                break
    return True


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _run(
    code_init: NDArray[np.int64],
    code_first: NDArray[np.int64],
    code_first_again: NDArray[np.int64],
    code_later: NDArray[np.int64],
    code_later_again: NDArray[np.int64],
    consts: NDArray[np.float64],
    n_slots: int,
    max_stack: int,
    param_slots: NDArray[np.int64],
    params: NDArray[np.float64],
    keys: NDArray[np.uint64],
    site_keys: NDArray[np.uint64],
    lk_ptr: NDArray[np.int64],
    lk_x: NDArray[np.float64],
    lk_y: NDArray[np.float64],
    lk_kind: NDArray[np.int64],
    stock_slots: NDArray[np.int64],
    edge_stock: NDArray[np.int64],
    edge_slot: NDArray[np.int64],
    edge_sign: NDArray[np.float64],
    nonneg_stock: NDArray[np.int64],
    nonneg_ptr: NDArray[np.int64],
    nonneg_slot: NDArray[np.int64],
    nonneg_sign: NDArray[np.float64],
    nonneg_passes: int,
    prev_src: NDArray[np.int64],
    prev_dst: NDArray[np.int64],
    delay_src: NDArray[np.int64],
    check_order: NDArray[np.int64],
    init_order: NDArray[np.int64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    c: NDArray[np.float64],
    start: float,
    dt: float,
    n_steps: int,
    save_every: int,
    save_slots: NDArray[np.int64],
    block: int,
    out: NDArray[np.float64],
    fail_slot: NDArray[np.int64],
    fail_time: NDArray[np.float64],
) -> None:
    n = params.shape[1]
    stages = len(b)
    n_stocks = len(stock_slots)
    stop = start + n_steps * dt
    n_blocks = (n + block - 1) // block
    for blk in prange(n_blocks):
        r0 = blk * block
        B = min(block, n - r0)
        R = np.zeros((n_slots + max_stack + 1, B))  # registers: slots, then the stack
        S = R[:n_slots]
        hist = np.zeros((len(delay_src), n_steps + 1, B))
        y0 = np.empty((n_stocks, B))
        K = np.empty((stages, n_stocks, B))
        pending = np.empty((len(prev_src), B))
        fslot = fail_slot[r0 : r0 + B]
        ftime = fail_time[r0 : r0 + B]
        bkeys = keys[r0 : r0 + B]
        for p in range(len(param_slots)):
            for r in range(B):
                S[param_slots[p], r] = params[p, r0 + r]
        _exec(
            code_init,
            consts,
            R,
            n_slots,
            B,
            start,
            dt,
            start,
            stop,
            0,
            bkeys,
            site_keys,
            lk_ptr,
            lk_x,
            lk_y,
            lk_kind,
            hist[:, :0],
        )
        scratch = np.empty(B)
        work = np.empty((2, B))
        any_failed = _check(S, init_order, B, start, fslot, ftime, scratch)
        t_last = np.nan  # the time of the last evaluation (compiler.stages: skipping)
        for step in range(n_steps + 1):
            t = start + step * dt
            _exec(
                code_first_again if t == t_last else code_first,
                consts,
                R,
                n_slots,
                B,
                t,
                dt,
                start,
                stop,
                step,
                bkeys,
                site_keys,
                lk_ptr,
                lk_x,
                lk_y,
                lk_kind,
                hist[:, :step],
            )
            t_last = t
            _derivatives(
                S,
                K[0],
                B,
                dt,
                stock_slots,
                edge_stock,
                edge_slot,
                edge_sign,
                nonneg_stock,
                nonneg_ptr,
                nonneg_slot,
                nonneg_sign,
                nonneg_passes,
                work,
            )
            if _check(S, check_order, B, t, fslot, ftime, scratch):
                any_failed = True
            if step % save_every == 0:
                j = step // save_every
                for k in range(len(save_slots)):
                    row = save_slots[k]
                    for r in range(B):
                        out[k, j, r0 + r] = S[row, r]
            if step == n_steps:
                break
            for d in range(len(delay_src)):
                for r in range(B):
                    hist[d, step, r] = S[delay_src[d], r]
            for q in range(len(prev_src)):
                for r in range(B):
                    pending[q, r] = S[prev_src[q], r]
            if stages == 1:
                for k in range(n_stocks):
                    row = stock_slots[k]
                    for r in range(B):
                        S[row, r] += dt * K[0, k, r]
                for q in range(len(prev_dst)):
                    for r in range(B):
                        S[prev_dst[q], r] = pending[q, r]
                continue
            for k in range(n_stocks):
                for r in range(B):
                    y0[k, r] = S[stock_slots[k], r]
            for i in range(1, stages):
                _combine(S, stock_slots, y0, K, a[i], i, dt, B, work[0])
                t_stage = t + c[i] * dt
                _exec(
                    code_later_again if t_stage == t_last else code_later,
                    consts,
                    R,
                    n_slots,
                    B,
                    t_stage,
                    dt,
                    start,
                    stop,
                    step,
                    bkeys,
                    site_keys,
                    lk_ptr,
                    lk_x,
                    lk_y,
                    lk_kind,
                    hist[:, : step + 1],
                )
                t_last = t_stage
                _derivatives(
                    S,
                    K[i],
                    B,
                    dt,
                    stock_slots,
                    edge_stock,
                    edge_slot,
                    edge_sign,
                    nonneg_stock,
                    nonneg_ptr,
                    nonneg_slot,
                    nonneg_sign,
                    nonneg_passes,
                    work,
                )
            _combine(S, stock_slots, y0, K, b, stages, dt, B, work[0])
            if stages > 1:
                for k in range(len(nonneg_stock)):
                    row = stock_slots[nonneg_stock[k]]
                    for r in range(B):
                        S[row, r] = max(S[row, r], 0.0)
            for q in range(len(prev_dst)):
                for r in range(B):
                    S[prev_dst[q], r] = pending[q, r]
        if any_failed:
            _blank(out, fslot, ftime, r0, B, start, dt * save_every)


@jit
def _combine(
    S: NDArray[np.float64],
    stock_slots: NDArray[np.int64],
    y0: NDArray[np.float64],
    K: NDArray[np.float64],
    weights: NDArray[np.float64],
    n: int,
    dt: float,
    B: int,
    acc: NDArray[np.float64],
) -> None:
    """Stocks = y0 + dt * sum(weights[m] * K[m] for m < n), summed in order from 0.0 (per run
    exactly the scalar sum; the runs are the inner loop, so it vectorises)."""
    for k in range(len(stock_slots)):
        for r in range(B):
            acc[r] = 0.0
        for m in range(n):
            w = weights[m]
            for r in range(B):
                acc[r] += w * K[m, k, r]
        row = stock_slots[k]
        for r in range(B):
            S[row, r] = y0[k, r] + dt * acc[r]


@jit
def _blank(
    out: NDArray[np.float64],
    fslot: NDArray[np.int64],
    ftime: NDArray[np.float64],
    r0: int,
    B: int,
    start: float,
    save_dt: float,
) -> None:
    """A failed run's saved values after its failure time are NaN (as in the NumPy VM)."""
    for r in range(B):
        if fslot[r] < 0:
            continue
        for j in range(out.shape[1]):
            if start + save_dt * j > ftime[r] + 1e-9 * save_dt:
                for k in range(out.shape[0]):
                    out[k, j, r0 + r] = np.nan


def run(
    prog: Program,
    method: Tableau,
    params: NDArray[np.float64],
    seeds: NDArray[np.int64],
    grid: Grid,
    save_slots: NDArray[np.int64],
    block: int = BLOCK,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Simulate ``params.shape[1]`` runs in blocks of ``block``; same contract as
    :func:`vm_numpy.run`."""
    n = params.shape[1]
    start, dt, n_steps, save_every = grid.start, grid.dt, grid.n_steps, grid.save_every
    out = np.full((len(save_slots), n_steps // save_every + 1, n), np.nan)
    kernel: Any = _run  # or the scalar kernel (different code arguments)
    if n < SCALAR_BELOW:
        from flywheel_sim.engine.vm.scalar import run as kernel

        codes: tuple[NDArray[np.int64], ...] = (prog.init_code, prog.step_code)
    else:
        variants = stage_code(prog)
        init = registers.to_registers(prog.init_code, prog.n_slots)
        codes = (init, variants.first, variants.first_again, variants.later, variants.later_again)
    fail_slot = np.full(n, -1, np.int64)
    fail_time = np.full(n, np.nan)
    kernel(
        *codes,
        prog.consts,
        prog.n_slots,
        prog.max_stack,
        prog.param_slots,
        np.ascontiguousarray(params),
        rng.run_keys(seeds),
        prog.site_keys,
        prog.lookup_ptr,
        prog.lookup_x,
        prog.lookup_y,
        prog.lookup_kind,
        prog.stock_slots,
        prog.edge_stock,
        prog.edge_slot,
        prog.edge_sign,
        prog.nonneg_stock,
        prog.nonneg_ptr,
        prog.nonneg_slot,
        prog.nonneg_sign,
        prog.nonneg_passes,
        prog.prev_src,
        prog.prev_dst,
        prog.delay_src,
        prog.check_order,
        prog.init_check,
        method.a,
        method.b,
        method.c,
        start,
        dt,
        n_steps,
        save_every,
        save_slots,
        block,
        out,
        fail_slot,
        fail_time,
    )
    return out, fail_slot, fail_time
