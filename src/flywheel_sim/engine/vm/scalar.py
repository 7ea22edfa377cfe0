"""The numba VM's scalar kernel, for small batches: one run per loop iteration, scalar slots.

The block kernel (:mod:`flywheel_sim.engine.vm.block`) spends its time in loops over a block of
runs, which is what large ensembles need; for a handful of runs those loops are pure overhead,
so :func:`run` executes the postfix code one run at a time. Every operation is the compiled
function of :mod:`flywheel_sim.engine.vm.jitops` the block kernel also calls, in the same
order, so both give bit-identical results (tested).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from flywheel_sim._types import F64, I64
from flywheel_sim.compile import ops
from flywheel_sim.engine.vm import jitlevels, jitops
from flywheel_sim.engine.vm.inputs import (
    Flows,
    Layout,
    Outputs,
    PostfixCode,
    Runs,
    ScalarState,
    Steps,
    Tables,
)
from flywheel_sim.engine.vm.jitops import inline_jit

_CONST, _LOAD, _STORE = ops.CONST, ops.LOAD, ops.STORE
_FUSE_CONST, _FUSE_SLOT = ops.FUSE_CONST, ops.FUSE_SLOT


@inline_jit
def _exec(
    code: I64,
    tables: Tables,
    S: F64,
    st: F64,
    t: float,
    step: int,
    steps: Steps,
    key: np.uint64,
    hist: F64,
) -> None:
    """Run postfix ``code`` for one run at time ``t``: slots ``S``, stack ``st``."""
    consts, dt, start, stop = tables.consts, steps.dt, steps.start, steps.stop
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
            st[sp - 1] = jitops.apply(op - _FUSE_SLOT, st[sp - 1], S[arg])
        elif op >= _FUSE_CONST:
            st[sp - 1] = jitops.apply(op - _FUSE_CONST, st[sp - 1], consts[arg])
        elif op == _CONST:
            st[sp] = consts[arg]
            sp += 1
        elif ops.ADD <= op <= ops.POW or ops.EQ <= op <= ops.OR or ops.MOD <= op <= ops.MAX:
            sp -= 1
            st[sp - 1] = jitops.apply(op, st[sp - 1], st[sp])
        elif op == ops.NEG or op == ops.NOT or ops.ABS <= op <= ops.INT:
            st[sp - 1] = jitops.function(op, st[sp - 1])
        elif ops.TIME <= op <= ops.STOP:
            st[sp] = jitops.clock(op, t, dt, start, stop)
            sp += 1
        elif op == ops.SELECT:
            sp -= 2
            st[sp - 1] = st[sp] if st[sp - 1] != 0.0 else st[sp + 1]
        elif op == ops.LOOKUP:
            lo, hi = tables.lookup_ptr[arg], tables.lookup_ptr[arg + 1]
            xs, ys = tables.lookup_x[lo:hi], tables.lookup_y[lo:hi]
            st[sp - 1] = jitops.lookup(st[sp - 1], xs, ys, tables.lookup_kind[arg])
        elif op == ops.STEP:
            sp -= 1
            st[sp - 1] = jitops.step_input(t, eps, st[sp - 1], st[sp])
        elif op == ops.RAMP:
            sp -= 2
            st[sp - 1] = jitops.ramp(t, st[sp - 1], st[sp], st[sp + 1])
        elif op == ops.PULSE:
            sp -= 2
            st[sp - 1] = jitops.select_pulse(t, dt, st[sp - 1], st[sp], st[sp + 1])
        elif op == ops.SAFEDIV:
            sp -= 2
            st[sp - 1] = jitops.safe_div(st[sp - 1], st[sp], st[sp + 1])
        elif op == ops.RANDOM or op == ops.NORMAL or op == ops.LOGNORMAL:
            sp -= 1
            skey, mask = tables.site_keys[arg], tables.site_run_mask[arg]
            st[sp - 1] = jitops.random(op, key & mask, skey, step, st[sp - 1], st[sp])
        elif op == ops.EXPRND or op == ops.POISSON:
            skey, mask = tables.site_keys[arg], tables.site_run_mask[arg]
            st[sp - 1] = jitops.random(op, key & mask, skey, step, st[sp - 1], 0.0)
        elif op == ops.DELAY:
            sp -= 1
            st[sp - 1] = jitops.delay(hist, arg, t, start, dt, step, st[sp - 1], st[sp])
        elif op == ops.HISTORY:
            sp -= 1
            st[sp - 1] = jitops.history(hist, arg, start, dt, st[sp - 1], st[sp])
        elif op == ops.AVAILABLE or op == ops.PRIORITY:
            base = sp - (4 * arg + 3 if op == ops.AVAILABLE else 2 * arg + 4)
            st[base] = jitlevels.level(op, st[base:sp], arg)
            sp = base + 1


@inline_jit
def _derivatives(S: F64, K: F64, stage: int, dt: float, flows: Flows) -> None:
    """K[stage] = net flow of each stock, after limiting what flows out of non-negative
    stocks (the block kernel's limits, for one run)."""
    stock_slots, nonneg_stock, nonneg_ptr = flows.stock_slots, flows.nonneg_stock, flows.nonneg_ptr
    nonneg_slot, nonneg_sign = flows.nonneg_slot, flows.nonneg_sign
    for _ in range(flows.nonneg_passes):
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
    edge_stock, edge_slot, edge_sign = flows.edge_stock, flows.edge_slot, flows.edge_sign
    for e in range(len(edge_stock)):
        K[stage, edge_stock[e]] += edge_sign[e] * S[edge_slot[e]]


@inline_jit
def _first_bad(S: F64, order: I64) -> int:
    for k in range(len(order)):
        if not math.isfinite(S[order[k]]):
            return order[k]
    return -1


@numba.njit(cache=True, parallel=False, nogil=True, error_model="numpy")
def run(
    code: PostfixCode,
    tables: Tables,
    flows: Flows,
    layout: Layout,
    steps: Steps,
    runs: Runs,
    outputs: Outputs,
    state: ScalarState,
    lo: int,
    hi: int,
) -> None:
    """Simulate steps ``lo`` to ``hi - 1`` of every run of ``runs``, one run at a time,
    writing ``outputs`` (the block kernel's contract); ``state`` carries each run from one
    chunk of steps to the next, so any split of the steps gives the same bits."""
    params, keys = runs.params, runs.keys
    out, fail_slot, fail_time = outputs.out, outputs.fail_slot, outputs.fail_time
    param_slots, save_slots = layout.param_slots, layout.save_slots
    prev_src, prev_dst, delay_src = layout.prev_src, layout.prev_dst, layout.delay_src
    stock_slots, nonneg_stock = flows.stock_slots, flows.nonneg_stock
    start, dt, n_steps, save_every = steps.start, steps.dt, steps.n_steps, steps.save_every
    a, b, c = steps.a, steps.b, steps.c
    n = params.shape[1]
    stages = len(b)
    n_stocks = len(stock_slots)
    for r in range(n):
        if lo > 0 and fail_slot[r] >= 0:
            continue  # stopped at its failure in an earlier chunk
        S = state.S[r]
        st = np.empty(layout.max_stack + 1)
        hist = state.hist[r]
        hist_all = hist[:, :]  # one view for models without DELAY (no per-step slicing)
        has_delay = len(delay_src) > 0
        y0 = np.empty(n_stocks)
        K = np.empty((stages, n_stocks))
        pending = np.empty(len(prev_src))
        key = keys[r]
        if lo == 0:
            for p in range(len(param_slots)):
                S[param_slots[p]] = params[p, r]
            _exec(code.init, tables, S, st, start, 0, steps, key, hist[:, :0])
            bad = _first_bad(S, layout.init_order)
            if bad >= 0:
                fail_slot[r] = bad
                fail_time[r] = start
        for step in range(lo, hi):
            t = start + step * dt
            recorded = hist[:, :step] if has_delay else hist_all
            _exec(code.step, tables, S, st, t, step, steps, key, recorded)
            _derivatives(S, K, 0, dt, flows)
            if fail_slot[r] < 0:
                bad = _first_bad(S, layout.check_order)
                if bad >= 0:
                    fail_slot[r] = bad
                    fail_time[r] = t
            if step % save_every == 0:
                j = step // save_every
                for k in range(len(save_slots)):
                    out[k, j, r] = S[save_slots[k]]
            if fail_slot[r] >= 0:
                state.last[r] = step
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
                    recorded = hist[:, : step + 1] if has_delay else hist_all
                    _exec(code.step, tables, S, st, t + c[i] * dt, step, steps, key, recorded)
                    _derivatives(S, K, i, dt, flows)
                for k in range(n_stocks):
                    acc = 0.0
                    for m in range(stages):
                        acc += b[m] * K[m, k]
                    S[stock_slots[k]] = y0[k] + dt * acc
                for k in range(len(nonneg_stock)):
                    slot = stock_slots[nonneg_stock[k]]
                    S[slot] = max(S[slot], 0.0)
            if step + 1 == steps.zero_step:
                for k in range(n_stocks):
                    if runs.zero[k, r]:
                        S[stock_slots[k]] = 0.0
            for q in range(len(prev_dst)):
                S[prev_dst[q]] = pending[q]
    if hi <= n_steps:
        return
    for r in range(n):
        last = state.last[r]
        if last < n_steps:
            for j in range(out.shape[1]):
                if j * save_every > last:
                    for k in range(len(save_slots)):
                        out[k, j, r] = np.nan
