"""The numba VM for small batches: one run per loop iteration, scalar slots.

The block VM (:mod:`flywheel_sim.engine.vm.block`) spends its time in loops over a block of runs,
which is what large ensembles need; for a handful of runs those loops are pure overhead, so
``run`` below executes the same postfix code one run at a time with scalar operations. The
arithmetic is performed in the same order as in the block VM, so both give bit-identical
results (tested).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from flywheel_sim.compile import ops
from flywheel_sim.engine.vm.block import _delay, _lookup, _random, _select_pulse, jit
from flywheel_sim.engine.vm.vecpow import pow1

inline_jit = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")

_CONST, _LOAD, _STORE = ops.CONST, ops.LOAD, ops.STORE
_FUSE_CONST, _FUSE_SLOT = ops.FUSE_CONST, ops.FUSE_SLOT


@jit
def _apply(op: int, a: float, b: float) -> float:
    """A binary op on two scalars, exactly as vm_numba._binary does it per run."""
    if op == ops.MUL:
        return a * b
    if op == ops.ADD:
        return a + b
    if op == ops.SUB:
        return a - b
    if op == ops.DIV:
        return a / b
    if op == ops.POW:
        return pow1(a, b)
    if op == ops.MIN:
        return a if (a <= b or a != a) else b
    if op == ops.MAX:
        return a if (a >= b or a != a) else b
    if op == ops.MOD:
        return np.mod(a, b)
    if op == ops.EQ:
        return 1.0 if a == b else 0.0
    if op == ops.NE:
        return 1.0 if a != b else 0.0
    if op == ops.LT:
        return 1.0 if a < b else 0.0
    if op == ops.LE:
        return 1.0 if a <= b else 0.0
    if op == ops.GT:
        return 1.0 if a > b else 0.0
    if op == ops.GE:
        return 1.0 if a >= b else 0.0
    if op == ops.AND:
        return 1.0 if (a != 0.0 and b != 0.0) else 0.0
    return 1.0 if (a != 0.0 or b != 0.0) else 0.0


@jit
def _unary(op: int, v: float) -> float:
    if op == ops.ABS:
        return abs(v)
    if op == ops.SQRT:
        return np.sqrt(v)
    if op == ops.EXP:
        return np.exp(v)
    if op == ops.LN:
        return np.log(v)
    if op == ops.LOG10:
        return np.log10(v)
    if op == ops.SIN:
        return np.sin(v)
    if op == ops.COS:
        return np.cos(v)
    if op == ops.TAN:
        return np.tan(v)
    if op == ops.ASIN:
        return np.arcsin(v)
    if op == ops.ACOS:
        return np.arccos(v)
    if op == ops.ATAN:
        return np.arctan(v)
    if op == ops.INT:
        return np.floor(v)
    if op == ops.NEG:
        return -v
    return 1.0 if v == 0.0 else 0.0


@inline_jit
def _exec(code: NDArray[np.int64], consts: NDArray[np.float64], S: NDArray[np.float64],
          st: NDArray[np.float64], t: float, dt: float, start: float, stop: float,
          step: int, key: np.uint64, site_keys: NDArray[np.uint64],
          lk_ptr: NDArray[np.int64], lk_x: NDArray[np.float64], lk_y: NDArray[np.float64],
          lk_kind: NDArray[np.int64], hist: NDArray[np.float64]) -> None:  # fmt: skip
    sp = 0
    eps = 1e-6 * dt
    for pc in range(0, len(code), 2):
        op = code[pc]
        arg = code[pc + 1]
        if op == _LOAD:
            st[sp] = S[arg]
            sp += 1
        elif op == _STORE:
            sp -= 1
            S[arg] = st[sp]
        elif op >= _FUSE_SLOT:
            st[sp - 1] = _apply(op - _FUSE_SLOT, st[sp - 1], S[arg])
        elif op >= _FUSE_CONST:
            st[sp - 1] = _apply(op - _FUSE_CONST, st[sp - 1], consts[arg])
        elif op == _CONST:
            st[sp] = consts[arg]
            sp += 1
        elif ops.ADD <= op <= ops.POW or ops.EQ <= op <= ops.OR or ops.MOD <= op <= ops.MAX:
            sp -= 1
            st[sp - 1] = _apply(op, st[sp - 1], st[sp])
        elif op == ops.NEG or op == ops.NOT or ops.ABS <= op <= ops.INT:
            st[sp - 1] = _unary(op, st[sp - 1])
        elif ops.TIME <= op <= ops.STOP:
            st[sp] = (
                t
                if op == ops.TIME
                else (dt if op == ops.DT else (start if op == ops.START else stop))
            )
            sp += 1
        elif op == ops.SELECT:
            sp -= 2
            st[sp - 1] = st[sp] if st[sp - 1] != 0.0 else st[sp + 1]
        elif op == ops.LOOKUP:
            lo, hi = lk_ptr[arg], lk_ptr[arg + 1]
            st[sp - 1] = _lookup(st[sp - 1], lk_x[lo:hi], lk_y[lo:hi], lk_kind[arg])
        elif op == ops.STEP:
            sp -= 1
            st[sp - 1] = st[sp - 1] if t >= st[sp] - eps else 0.0
        elif op == ops.RAMP:
            sp -= 2
            slope, begin, end = st[sp - 1], st[sp], st[sp + 1]
            st[sp - 1] = slope * (min(t, end) - begin) if t > begin else 0.0
        elif op == ops.PULSE:
            sp -= 2
            st[sp - 1] = _select_pulse(t, dt, st[sp - 1], st[sp], st[sp + 1])
        elif op == ops.SAFEDIV:
            sp -= 2
            a, b, c = st[sp - 1], st[sp], st[sp + 1]
            st[sp - 1] = c if b == 0.0 else a / b
        elif op == ops.RANDOM or op == ops.NORMAL or op == ops.LOGNORMAL:
            sp -= 1
            st[sp - 1] = _random(op, key, site_keys[arg], step, st[sp - 1], st[sp])
        elif op == ops.EXPRND or op == ops.POISSON:
            st[sp - 1] = _random(op, key, site_keys[arg], step, st[sp - 1], 0.0)
        elif op == ops.DELAY:
            sp -= 1
            st[sp - 1] = _delay(hist, arg, t, start, dt, step, st[sp - 1], st[sp])


@inline_jit
def _derivatives(S: NDArray[np.float64], K: NDArray[np.float64], stage: int, dt: float,
                 stock_slots: NDArray[np.int64], edge_stock: NDArray[np.int64],
                 edge_slot: NDArray[np.int64], edge_sign: NDArray[np.float64],
                 nonneg_stock: NDArray[np.int64], nonneg_ptr: NDArray[np.int64],
                 nonneg_slot: NDArray[np.int64], nonneg_sign: NDArray[np.float64],
                 nonneg_passes: int) -> None:  # fmt: skip
    for _ in range(nonneg_passes):
        cut = False
        for j in range(len(nonneg_stock)):
            inflow = 0.0
            for q in range(nonneg_ptr[j], nonneg_ptr[j + 1]):
                into = nonneg_sign[q] * S[nonneg_slot[q]]
                if into > 0.0:
                    inflow += into
            available = max(S[stock_slots[nonneg_stock[j]]], 0.0) / dt + inflow
            for q in range(nonneg_ptr[j], nonneg_ptr[j + 1]):
                into = nonneg_sign[q] * S[nonneg_slot[q]]
                if into < 0.0:
                    taken = min(-into, max(available, 0.0))
                    if taken != -into:
                        cut = True
                    S[nonneg_slot[q]] = -nonneg_sign[q] * taken
                    available -= taken
        if not cut:
            break
    for k in range(K.shape[1]):
        K[stage, k] = 0.0
    for e in range(len(edge_stock)):
        K[stage, edge_stock[e]] += edge_sign[e] * S[edge_slot[e]]


@inline_jit
def _first_bad(S: NDArray[np.float64], order: NDArray[np.int64]) -> int:
    for k in range(len(order)):
        if not math.isfinite(S[order[k]]):
            return order[k]
    return -1


@numba.njit(cache=True, parallel=False, error_model="numpy")
def run(code_init: NDArray[np.int64], code_step: NDArray[np.int64],
        consts: NDArray[np.float64], n_slots: int, max_stack: int,
        param_slots: NDArray[np.int64], params: NDArray[np.float64],
        keys: NDArray[np.uint64], site_keys: NDArray[np.uint64],
        lk_ptr: NDArray[np.int64], lk_x: NDArray[np.float64], lk_y: NDArray[np.float64],
        lk_kind: NDArray[np.int64], stock_slots: NDArray[np.int64],
        edge_stock: NDArray[np.int64], edge_slot: NDArray[np.int64],
        edge_sign: NDArray[np.float64], nonneg_stock: NDArray[np.int64],
        nonneg_ptr: NDArray[np.int64], nonneg_slot: NDArray[np.int64],
        nonneg_sign: NDArray[np.float64], nonneg_passes: int,
        prev_src: NDArray[np.int64], prev_dst: NDArray[np.int64],
        delay_src: NDArray[np.int64], check_order: NDArray[np.int64],
        init_order: NDArray[np.int64], a: NDArray[np.float64], b: NDArray[np.float64],
        c: NDArray[np.float64], start: float, dt: float, n_steps: int, save_every: int,
        save_slots: NDArray[np.int64], block: int, out: NDArray[np.float64],
        fail_slot: NDArray[np.int64], fail_time: NDArray[np.float64]) -> None:  # fmt: skip
    """Same signature and results as vm_numba._run (``block`` is ignored)."""
    n = params.shape[1]
    stages = len(b)
    n_stocks = len(stock_slots)
    stop = start + n_steps * dt
    for r in range(n):
        S = np.zeros(n_slots)
        st = np.empty(max_stack + 1)
        hist = np.zeros((len(delay_src), n_steps + 1))
        hist_all = hist[:, :]  # one view for models without DELAY (no per-step slicing)
        has_delay = len(delay_src) > 0
        y0 = np.empty(n_stocks)
        K = np.empty((stages, n_stocks))
        pending = np.empty(len(prev_src))
        for p in range(len(param_slots)):
            S[param_slots[p]] = params[p, r]
        key = keys[r]
        _exec(
            code_init,
            consts,
            S,
            st,
            start,
            dt,
            start,
            stop,
            0,
            key,
            site_keys,
            lk_ptr,
            lk_x,
            lk_y,
            lk_kind,
            hist[:, :0],
        )
        bad = _first_bad(S, init_order)
        if bad >= 0:
            fail_slot[r] = bad
            fail_time[r] = start
        last = n_steps
        for step in range(n_steps + 1):
            t = start + step * dt
            _exec(
                code_step,
                consts,
                S,
                st,
                t,
                dt,
                start,
                stop,
                step,
                key,
                site_keys,
                lk_ptr,
                lk_x,
                lk_y,
                lk_kind,
                hist[:, :step] if has_delay else hist_all,
            )
            _derivatives(
                S,
                K,
                0,
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
            )
            if fail_slot[r] < 0:
                bad = _first_bad(S, check_order)
                if bad >= 0:
                    fail_slot[r] = bad
                    fail_time[r] = t
            if step % save_every == 0:
                j = step // save_every
                for k in range(len(save_slots)):
                    out[k, j, r] = S[save_slots[k]]
            if fail_slot[r] >= 0:
                last = step
                break
            if step == n_steps:
                break
            for d in range(len(delay_src)):
                hist[d, step] = S[delay_src[d]]
            for q in range(len(prev_src)):
                pending[q] = S[prev_src[q]]
            if stages == 1:
                for k in range(n_stocks):
                    S[stock_slots[k]] += dt * K[0, k]
            else:
                for k in range(n_stocks):
                    y0[k] = S[stock_slots[k]]
                for i in range(1, stages):
                    for k in range(n_stocks):
                        acc = 0.0
                        for m in range(i):
                            acc += a[i, m] * K[m, k]
                        S[stock_slots[k]] = y0[k] + dt * acc
                    _exec(
                        code_step,
                        consts,
                        S,
                        st,
                        t + c[i] * dt,
                        dt,
                        start,
                        stop,
                        step,
                        key,
                        site_keys,
                        lk_ptr,
                        lk_x,
                        lk_y,
                        lk_kind,
                        hist[:, : step + 1] if has_delay else hist_all,
                    )
                    _derivatives(
                        S,
                        K,
                        i,
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
                    )
                for k in range(n_stocks):
                    acc = 0.0
                    for m in range(stages):
                        acc += b[m] * K[m, k]
                    S[stock_slots[k]] = y0[k] + dt * acc
                for k in range(len(nonneg_stock)):
                    slot = stock_slots[nonneg_stock[k]]
                    S[slot] = max(S[slot], 0.0)
            for q in range(len(prev_dst)):
                S[prev_dst[q]] = pending[q]
        if last < n_steps:
            for j in range(out.shape[1]):
                if j * save_every > last:
                    for k in range(len(save_slots)):
                        out[k, j, r] = np.nan
