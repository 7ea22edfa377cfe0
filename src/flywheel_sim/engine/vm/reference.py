"""The NumPy virtual machine: runs a Program for N runs at once, vectorised over runs.

Always available; the reference for the numba VM (:mod:`flywheel_sim.engine.vm.compiled`),
which must agree with it. Values live in a (slots, runs) array, so every instruction is one
NumPy call over all runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flywheel_sim import rng
from flywheel_sim._types import F64, I64, U64
from flywheel_sim.compile import ops
from flywheel_sim.compile.program import Program
from flywheel_sim.engine.cancel import stop_if_cancelled
from flywheel_sim.engine.grid import Grid
from flywheel_sim.engine.integrators import Tableau
from flywheel_sim.engine.vm import levels


@dataclass
class Clock:
    t: float | F64  # an array when columns are different times (loop analysis)
    dt: float
    start: float
    stop: float
    step: int


@dataclass
class Batch:
    """Outputs of a batch: saved values and the first failure of each run."""

    out: F64  # (saved slots, saved times, runs)
    fail_slot: I64  # -1 where the run finished
    fail_time: F64


def _truth(x: F64 | float) -> F64:
    return np.asarray(x != 0.0, dtype=np.float64)


def lookup(prog: Program, table: int, x: F64) -> F64:
    lo, hi = prog.lookup_ptr[table], prog.lookup_ptr[table + 1]
    xs, ys = prog.lookup_x[lo:hi], prog.lookup_y[lo:hi]
    kind = prog.lookup_kind[table]
    x = np.asarray(x, dtype=np.float64)
    if kind == ops.LK_DISCRETE:
        idx = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 1)
        return np.asarray(ys[idx], dtype=np.float64)
    y = np.interp(x, xs, ys)
    if kind == ops.LK_EXTRAPOLATE and len(xs) > 1:
        left = ys[0] + (x - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0])
        right = ys[-1] + (x - xs[-1]) * (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        y = np.where(x < xs[0], left, np.where(x > xs[-1], right, y))
    return np.asarray(y, dtype=np.float64)


def _poisson(keys: U64, site: np.uint64, step: int, lam: F64) -> F64:
    """Poisson draws (the numba VM's :func:`~flywheel_sim.engine.vm.jitops.poisson`): NaN for
    a negative or NaN mean, so that the run fails rather than draws from nothing."""
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), keys.shape)
    invalid = ~(lam >= 0.0)
    lam = np.where(invalid, 0.0, lam)
    out = np.zeros(keys.shape)
    small = lam < 30.0
    if small.any():
        u = rng.uniform(keys, site, step, 0)
        p = np.exp(-lam)
        cdf = p.copy()
        k = np.zeros(keys.shape)
        active = small & (u > cdf) & (lam > 0)
        while active.any():
            k = np.where(active, k + 1, k)
            p = np.where(active, p * lam / np.maximum(k, 1), p)
            cdf = np.where(active, cdf + p, cdf)
            active = active & (u > cdf) & (k < 1000)
        out = np.where(small, np.where(lam > 0, k, 0.0), out)
    big = ~small
    if big.any():
        out = np.where(big, _ptrs(keys, site, step, np.where(big, lam, 30.0)), out)
    return np.where(invalid, np.nan, out)


def _ptrs(keys: U64, site: np.uint64, step: int, lam: F64) -> F64:
    """Hörmann's transformed rejection (PTRS) for large means, vectorised with masks."""
    from scipy.special import gammaln

    slam, loglam = np.sqrt(lam), np.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    result = np.full(lam.shape, np.nan)
    pending = np.ones(lam.shape, dtype=bool)
    for j in range(1000):
        if not pending.any():
            break
        u = rng.uniform(keys, site, step, 2 * j) - 0.5
        v = rng.uniform(keys, site, step, 2 * j + 1)
        us = 0.5 - np.abs(u)
        k = np.floor((2 * a / us + b) * u + lam + 0.43)
        quick = (us >= 0.07) & (v <= vr)
        valid = (k >= 0) & ~((us < 0.013) & (v > us))
        lhs = np.log(v) + np.log(invalpha) - np.log(a / (us * us) + b)
        rhs = -lam + k * loglam - gammaln(np.maximum(k, 0) + 1)
        accept = pending & (quick | (valid & (lhs <= rhs)))
        result = np.where(accept, k, result)
        pending &= ~accept
    return result


def _random(op: int, prog: Program, site: int, keys: U64, step: int, args: list[F64]) -> F64:
    skey = prog.site_keys[site]
    if prog.site_seed[site] >= 0:  # a seed argument: the same sequence in every run
        keys = np.zeros_like(keys)
    if op == ops.RANDOM:
        lo, hi = args
        return np.asarray(lo + (hi - lo) * rng.uniform(keys, skey, step, 0))
    if op == ops.EXPRND:
        draw = -args[0] * np.log(rng.uniform(keys, skey, step, 0))
        return np.asarray(np.where(args[0] < 0.0, np.nan, draw))  # a negative mean: fails
    if op == ops.POISSON:
        return _poisson(keys, skey, step, args[0])
    u1, u2 = rng.uniform(keys, skey, step, 0), rng.uniform(keys, skey, step, 1)
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)
    mean, sd = args
    if op == ops.NORMAL:
        return np.asarray(mean + sd * z)
    sigma2 = np.log1p((sd * sd) / (mean * mean))
    return np.asarray(np.exp(np.log(mean) - 0.5 * sigma2 + np.sqrt(sigma2) * z))


def _history(hist: F64, buffer: int, clock: Clock, when: F64, initial: F64) -> F64:
    """HISTORY, as :func:`flywheel_sim.engine.vm.jitops.history` computes it for one run."""
    runs = hist.shape[2]
    latest = hist.shape[1] - 1
    pos = (when - clock.start) / clock.dt * np.ones(runs)
    early = when <= clock.start + 1e-9 * clock.dt
    unknown = ~(pos <= latest + 1e-6)
    if latest < 0:
        return np.where(early, initial, math.nan) * np.ones(runs)
    pos = np.minimum(np.where(early | unknown, 0.0, pos), float(latest))
    i = np.floor(pos).astype(np.int64)
    j = np.minimum(i + 1, latest)
    frac = pos - i
    rows = np.arange(runs)
    value = hist[buffer, i, rows] * (1.0 - frac) + hist[buffer, j, rows] * frac
    return np.where(early, initial, np.where(unknown, math.nan, value))


def _delay(hist: F64, buffer: int, clock: Clock, delay: F64, initial: F64) -> F64:
    target = clock.t - delay
    pos = (target - clock.start) / clock.dt
    latest = hist.shape[1] - 1  # rows recorded so far (callers pass the recorded prefix)
    if latest < 0:
        return np.asarray(initial, dtype=np.float64) * np.ones(hist.shape[2])
    pos = np.clip(pos, 0.0, float(latest))
    i = np.floor(pos).astype(np.int64)
    j = np.minimum(i + 1, latest)
    frac = pos - i
    runs = np.arange(hist.shape[2])
    value = hist[buffer, i, runs] * (1 - frac) + hist[buffer, j, runs] * frac
    before = target < clock.start - 1e-9 * clock.dt
    return np.where(before, initial, value)


_UNARY = {
    ops.ABS: np.abs,
    ops.SQRT: np.sqrt,
    ops.EXP: np.exp,
    ops.LN: np.log,
    ops.LOG10: np.log10,
    ops.SIN: np.sin,
    ops.COS: np.cos,
    ops.TAN: np.tan,
    ops.ASIN: np.arcsin,
    ops.ACOS: np.arccos,
    ops.ATAN: np.arctan,
    ops.INT: np.floor,
}
_BINARY = {
    ops.ADD: np.add,
    ops.SUB: np.subtract,
    ops.MUL: np.multiply,
    ops.DIV: np.divide,
    ops.POW: np.power,
    ops.MIN: np.minimum,
    ops.MAX: np.maximum,
    ops.MOD: np.mod,
}
_COMPARE = {
    ops.EQ: np.equal,
    ops.NE: np.not_equal,
    ops.LT: np.less,
    ops.LE: np.less_equal,
    ops.GT: np.greater,
    ops.GE: np.greater_equal,
}


def _apply_binary(op: int, stack: list[F64 | float]) -> None:
    b = stack.pop()
    a = stack.pop()
    if op in _BINARY:
        stack.append(_BINARY[op](a, b))
    elif op in _COMPARE:
        stack.append(np.asarray(_COMPARE[op](a, b), dtype=np.float64))
    else:
        ta, tb = _truth(a), _truth(b)
        stack.append(ta * tb if op == ops.AND else np.maximum(ta, tb))


def execute(code: I64, prog: Program, S: F64, clock: Clock, keys: U64, hist: F64) -> None:
    """Run postfix ``code`` over the slot matrix ``S`` (slots, runs) in place."""
    stack: list[F64 | float] = []
    eps = 1e-6 * clock.dt
    t = clock.t
    for pc in range(0, len(code), 2):
        op, arg = int(code[pc]), int(code[pc + 1])
        if op == ops.LOAD:
            stack.append(S[arg])
        elif op == ops.CONST:
            stack.append(float(prog.consts[arg]))
        elif op == ops.STORE:
            S[arg] = stack.pop()
        elif op >= ops.FUSE_CONST:
            fused = op - ops.FUSE_SLOT if op >= ops.FUSE_SLOT else op - ops.FUSE_CONST
            stack.append(S[arg] if op >= ops.FUSE_SLOT else float(prog.consts[arg]))
            _apply_binary(fused, stack)
        elif op in _BINARY or op in _COMPARE or op == ops.AND or op == ops.OR:
            _apply_binary(op, stack)
        elif op in _UNARY:
            stack.append(_UNARY[op](stack.pop()))
        elif op == ops.NEG:
            stack.append(-stack.pop())
        elif op == ops.NOT:
            stack.append(1.0 - _truth(stack.pop()))
        elif op == ops.SELECT:
            other, then, cond = stack.pop(), stack.pop(), stack.pop()
            stack.append(np.where(np.asarray(cond) != 0.0, then, other))
        elif op == ops.TIME:
            stack.append(t)
        elif op == ops.DT:
            stack.append(clock.dt)
        elif op == ops.START:
            stack.append(clock.start)
        elif op == ops.STOP:
            stack.append(clock.stop)
        elif op == ops.LOOKUP:
            stack.append(lookup(prog, arg, np.asarray(stack.pop())))
        elif op == ops.STEP:
            start, height = stack.pop(), stack.pop()
            stack.append(np.where(t >= np.asarray(start) - eps, height, 0.0))
        elif op == ops.RAMP:
            end, start, slope = stack.pop(), stack.pop(), stack.pop()
            ramp = np.asarray(slope) * (np.minimum(t, end) - np.asarray(start))
            stack.append(np.where(t > np.asarray(start), ramp, 0.0))
        elif op == ops.PULSE:
            interval, first, volume = (
                np.asarray(v) for v in (stack.pop(), stack.pop(), stack.pop())
            )
            since = t - first
            periods = np.where(
                interval > 0, np.floor((since + eps) / np.where(interval > 0, interval, 1.0)), 0.0
            )
            offset = since - periods * interval
            on = (since >= -eps) & (offset < clock.dt - eps) & (offset >= -eps)
            stack.append(np.where(on, volume / clock.dt, 0.0))
        elif op == ops.SAFEDIV:
            c, b, a = (np.asarray(v) for v in (stack.pop(), stack.pop(), stack.pop()))
            safe = np.where(b == 0.0, 1.0, b)
            stack.append(np.where(b == 0.0, c, a / safe))
        elif op in (ops.RANDOM, ops.NORMAL, ops.LOGNORMAL):
            second = np.asarray(stack.pop(), float)
            first = np.asarray(stack.pop(), float)
            stack.append(_random(op, prog, arg, keys, clock.step, [first, second]))
        elif op in (ops.EXPRND, ops.POISSON):
            stack.append(_random(op, prog, arg, keys, clock.step, [np.asarray(stack.pop(), float)]))
        elif op == ops.DELAY:
            initial, delay = stack.pop(), stack.pop()
            stack.append(_delay(hist, arg, clock, np.asarray(delay), np.asarray(initial)))
        elif op == ops.HISTORY:
            initial, when = stack.pop(), stack.pop()
            stack.append(_history(hist, arg, clock, np.asarray(when), np.asarray(initial)))
        elif op in (ops.AVAILABLE, ops.PRIORITY):  # an allocation's level (vm/levels.py)
            values = stack[len(stack) - ops.pops(op, arg) :]
            del stack[len(stack) - len(values) :]
            stack.append(levels.level(op, values, arg, S.shape[1]))
        else:  # pragma: no cover - the compiler emits only known ops
            raise AssertionError(f"unknown opcode {op}")


def _derivatives(prog: Program, S: F64, dt: float) -> F64:
    _limit_outflows(prog, S, dt)
    D = np.zeros((len(prog.stock_slots), S.shape[1]))
    for stock, slot, sign in zip(prog.edge_stock, prog.edge_slot, prog.edge_sign, strict=True):
        D[stock] += sign * S[slot]
    return D


def _limit_outflows(prog: Program, S: F64, dt: float) -> None:
    """Non-negative stocks: what flows out (outflows, inflows gone negative) takes at most what
    the stock holds plus what flows in during DT; inflows first, then outflows, as listed.
    Repeated while a pass cuts a flow and passes remain (a flow may join two such stocks)."""
    for _ in range(prog.nonneg_passes):
        cut = False
        for j, stock in enumerate(prog.nonneg_stock):
            edges = range(prog.nonneg_ptr[j], prog.nonneg_ptr[j + 1])
            inflow = np.zeros(S.shape[1])
            for q in edges:
                into = prog.nonneg_sign[q] * S[prog.nonneg_slot[q]]  # > 0: material flows in
                inflow += np.where(into > 0.0, into, 0.0)
            available = np.maximum(S[prog.stock_slots[stock]], 0.0) / dt + inflow
            for q in edges:
                slot, sign = prog.nonneg_slot[q], prog.nonneg_sign[q]
                into = sign * S[slot]
                leaving = into < 0.0
                taken = np.minimum(-into, np.maximum(available, 0.0))
                cut = cut or bool(np.any(leaving & (taken != -into)))
                S[slot] = np.where(leaving, -sign * taken, S[slot])
                available = available - np.where(leaving, taken, 0.0)
        if not cut:
            break


def _check(prog: Program, S: F64, order: I64, t: float, batch: Batch) -> None:
    if np.isfinite(S).all():
        return
    for slot in order:
        bad = ~np.isfinite(S[slot]) & (batch.fail_slot < 0)
        if bad.any():
            batch.fail_slot[bad] = slot
            batch.fail_time[bad] = t


@dataclass(frozen=True, slots=True)
class Zeroing:
    """Stocks forced to zero once during a run (the model tests' "what if this stock were
    empty?"): after the step that reaches step number ``step``, every stock row where ``mask``
    (stock rows of ``Program.stock_slots``, runs) is True is set to 0 and the run goes on."""

    step: int
    mask: NDArray[np.bool_]


def run(
    prog: Program,
    method: Tableau,
    params: F64,
    seeds: I64,
    grid: Grid,
    save_slots: I64,
    zeroing: Zeroing | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Batch:
    """Simulate ``params.shape[1]`` runs; ``params`` is (parameters, runs). Before each step
    after the first, ``cancel`` is asked whether to stop (Cancelled)."""
    n = params.shape[1]
    start, stop, dt, n_steps, save_every = (
        grid.start,
        grid.stop,
        grid.dt,
        grid.n_steps,
        grid.save_every,
    )
    S = np.zeros((prog.n_slots, n))
    S[prog.param_slots] = params
    keys = rng.run_keys(seeds)
    hist = np.zeros((len(prog.delay_src), n_steps + 1 if len(prog.delay_src) else 0, n))
    n_save = n_steps // save_every + 1
    batch = Batch(
        np.full((len(save_slots), n_save, n), np.nan), np.full(n, -1, np.int64), np.full(n, np.nan)
    )
    stocks = prog.stock_slots
    with np.errstate(all="ignore"):
        clock = Clock(start, dt, start, stop, 0)
        execute(prog.init_code, prog, S, clock, keys, hist[:, :0])
        _check(prog, S, prog.init_check, start, batch)
        for step in range(n_steps + 1):
            t = start + step * dt
            if step:
                stop_if_cancelled(cancel, t, stop)
            clock = Clock(t, dt, start, stop, step)
            execute(prog.step_code, prog, S, clock, keys, hist[:, :step])
            K0 = _derivatives(prog, S, dt)
            _check(prog, S, prog.check_order, t, batch)
            if step % save_every == 0:
                batch.out[:, step // save_every] = S[save_slots]
            if len(prog.delay_src):
                hist[:, step] = S[prog.delay_src]
            pending = S[prog.prev_src].copy()
            if step == n_steps:
                break
            y0 = S[stocks].copy()
            K = [K0]
            for i in range(1, method.stages):
                S[stocks] = y0 + dt * sum(method.a[i, j] * K[j] for j in range(i))
                execute(
                    prog.step_code,
                    prog,
                    S,
                    Clock(t + method.c[i] * dt, dt, start, stop, step),
                    keys,
                    hist[:, : step + 1],
                )
                K.append(_derivatives(prog, S, dt))
            S[stocks] = y0 + dt * sum(method.b[i] * K[i] for i in range(method.stages))
            if method.stages > 1 and len(prog.nonneg_stock):
                rows = stocks[prog.nonneg_stock]
                S[rows] = np.maximum(S[rows], 0.0)
            if zeroing is not None and step + 1 == zeroing.step:
                S[stocks] = np.where(zeroing.mask, 0.0, S[stocks])
            S[prog.prev_dst] = pending
    _blank_after_failure(batch, start, dt * save_every)
    return batch


def _blank_after_failure(batch: Batch, start: float, save_dt: float) -> None:
    """A failed run's saved values after its failure time are NaN (as the numba VM stops)."""
    times = start + save_dt * np.arange(batch.out.shape[1])
    for r in np.flatnonzero(batch.fail_slot >= 0):
        batch.out[:, times > batch.fail_time[r] + 1e-9 * save_dt, r] = np.nan
