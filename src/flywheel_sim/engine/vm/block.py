"""The numba VM's block kernel: blocks of runs in parallel, one instruction over a block at
a time.

For 10 runs or more (:mod:`flywheel_sim.engine.vm.compiled` picks the kernel), :func:`run`
runs blocks of 256 runs in parallel (``prange``, one block per core at a time); each
instruction is a loop over the block's runs, which the compiler vectorises, and powers go
eight runs at a time through glibc's vector ``pow`` (:mod:`flywheel_sim.engine.vm.vecpow`). It
runs the three-address form of the code (:mod:`flywheel_sim.compile.registers`, arithmetic in
:mod:`flywheel_sim.engine.vm.rows`) and lets Runge-Kutta stages skip equations whose value
cannot have changed (:mod:`flywheel_sim.compile.stages`). Every other operation is one of
:mod:`flywheel_sim.engine.vm.jitops`, per run, as in the scalar kernel
(:mod:`flywheel_sim.engine.vm.scalar`), so the two agree bit for bit.

The kernel is compiled once per machine and cached on disk (``cache=True``); models are data
for it (:mod:`flywheel_sim.engine.vm.inputs`), so a new model costs no JIT time.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange
from numpy.typing import NDArray

from flywheel_sim._types import F64, I64, U64
from flywheel_sim.compile import ops, registers
from flywheel_sim.engine.vm import jitlevels, jitops
from flywheel_sim.engine.vm import rows as vm_rows
from flywheel_sim.engine.vm.inputs import (
    BlockCode,
    BlockState,
    Flows,
    Layout,
    Outputs,
    Runs,
    Steps,
    Tables,
)
from flywheel_sim.engine.vm.jitops import jit

_SELECT, _MAX, _NEG, _NOT, _MOVE = ops.SELECT, ops.MAX, ops.NEG, ops.NOT, registers.MOVE
_ROW, _CONST_VALUE = registers.ROW, registers.CONST
BLOCK = 256  # runs per block


@jit
def _special(
    op: int,
    arg: int,
    st: F64,
    sp: int,
    B: int,
    t: float,
    step: int,
    steps: Steps,
    keys: U64,
    tables: Tables,
    hist: F64,
) -> int:
    """The less frequent ops, on the stack rows ``st`` (pointer ``sp``); returns the new
    stack pointer."""
    dt = steps.dt
    eps = 1e-6 * dt
    if op == ops.LOOKUP:
        lo, hi = tables.lookup_ptr[arg], tables.lookup_ptr[arg + 1]
        xs, ys, kind = tables.lookup_x[lo:hi], tables.lookup_y[lo:hi], tables.lookup_kind[arg]
        for r in range(B):
            st[sp - 1, r] = jitops.lookup(st[sp - 1, r], xs, ys, kind)
        return sp
    if op == _SELECT:
        for r in range(B):
            st[sp - 3, r] = st[sp - 2, r] if st[sp - 3, r] != 0.0 else st[sp - 1, r]
        return sp - 2
    if op == ops.STEP:
        for r in range(B):
            st[sp - 2, r] = jitops.step_input(t, eps, st[sp - 2, r], st[sp - 1, r])
        return sp - 1
    if op == ops.RAMP:
        for r in range(B):
            st[sp - 3, r] = jitops.ramp(t, st[sp - 3, r], st[sp - 2, r], st[sp - 1, r])
        return sp - 2
    if op == ops.PULSE:
        for r in range(B):
            st[sp - 3, r] = jitops.select_pulse(t, dt, st[sp - 3, r], st[sp - 2, r], st[sp - 1, r])
        return sp - 2
    if op == ops.SAFEDIV:
        for r in range(B):
            st[sp - 3, r] = jitops.safe_div(st[sp - 3, r], st[sp - 2, r], st[sp - 1, r])
        return sp - 2
    if op == ops.RANDOM or op == ops.NORMAL or op == ops.LOGNORMAL:
        skey, mask = tables.site_keys[arg], tables.site_run_mask[arg]
        for r in range(B):
            st[sp - 2, r] = jitops.random(
                op, keys[r] & mask, skey, step, st[sp - 2, r], st[sp - 1, r]
            )
        return sp - 1
    if op == ops.EXPRND or op == ops.POISSON:
        skey, mask = tables.site_keys[arg], tables.site_run_mask[arg]
        for r in range(B):
            st[sp - 1, r] = jitops.random(op, keys[r] & mask, skey, step, st[sp - 1, r], 0.0)
        return sp
    if op == ops.AVAILABLE or op == ops.PRIORITY:
        base = sp - (4 * arg + 3 if op == ops.AVAILABLE else 2 * arg + 4)
        values = np.empty(sp - base)
        for r in range(B):
            for j in range(sp - base):
                values[j] = st[base + j, r]
            st[base, r] = jitlevels.level(op, values, arg)
        return base + 1
    start = steps.start
    if op == ops.HISTORY:
        for r in range(B):
            st[sp - 2, r] = jitops.history(
                hist[:, :, r], arg, start, dt, st[sp - 2, r], st[sp - 1, r]
            )
        return sp - 1
    # DELAY
    for r in range(B):
        st[sp - 2, r] = jitops.delay(
            hist[:, :, r], arg, t, start, dt, step, st[sp - 2, r], st[sp - 1, r]
        )
    return sp - 1


@jit
def _exec(
    code: I64,
    tables: Tables,
    R: F64,
    n_slots: int,
    B: int,
    t: float,
    step: int,
    steps: Steps,
    keys: U64,
    hist: F64,
) -> None:
    """Run three-address ``code`` (:mod:`flywheel_sim.compile.registers`) for a block of B
    runs at time ``t``; R holds the slots (rows ``0..n_slots``) and then the stack."""
    consts, dt, start, stop = tables.consts, steps.dt, steps.start, steps.stop
    for k in range(code.shape[0]):
        op, o, ak, a, bk, b = code[k, 0], code[k, 1], code[k, 2], code[k, 3], code[k, 4], code[k, 5]
        if op <= _MAX and op != _NEG and op != _NOT and op != _SELECT:  # binary
            if ak == _ROW and bk == _ROW:
                if o == a:
                    vm_rows.rows(op, R, a, a, b, B)  # R[a] = R[a] <op> R[b]
                else:
                    vm_rows.rows(op, R, o, a, b, B)
            elif ak == _ROW:
                c = consts[b] if bk == _CONST_VALUE else jitops.clock(b, t, dt, start, stop)
                vm_rows.row_value(op, R, o, a, c, B)
            else:
                c = consts[a] if ak == _CONST_VALUE else jitops.clock(a, t, dt, start, stop)
                if bk == _ROW:
                    vm_rows.value_row(op, R, o, c, b, B)
                else:
                    d = consts[b] if bk == _CONST_VALUE else jitops.clock(b, t, dt, start, stop)
                    vm_rows.fill(R, o, jitops.apply(op, c, d), B)
        elif op == _MOVE or op == _NEG or op == _NOT or ops.ABS <= op <= ops.INT:  # noqa: SIM109
            if ak == _ROW:
                if op == _MOVE:
                    vm_rows.move(R, o, a, B)
                else:
                    vm_rows.unary(op, R, o, a, B)
            else:
                c = consts[a] if ak == _CONST_VALUE else jitops.clock(a, t, dt, start, stop)
                vm_rows.fill(R, o, c if op == _MOVE else jitops.function(op, c), B)
        else:  # the stack-machine ops, on the stack rows (o is the stack pointer)
            _special(op, a, R[n_slots:], o, B, t, step, steps, keys, tables, hist)


@jit
def _derivatives(S: F64, D: F64, B: int, dt: float, flows: Flows, work: F64) -> None:
    """D (stocks, B) = net flow of each stock, after limiting what flows out of non-negative
    stocks (outflows, and inflows gone negative: inflows first, then outflows, as listed),
    again while a pass cuts a flow in some run of the block and passes remain.

    ``work`` is (2, >= B) scratch. Each loop runs over the block's runs innermost (so it
    vectorises); per run the additions and limits happen in the same order as a loop over
    runs outermost would do them.
    """
    stock_slots, edge_stock, edge_slot, edge_sign = (
        flows.stock_slots,
        flows.edge_stock,
        flows.edge_slot,
        flows.edge_sign,
    )
    nonneg_stock, nonneg_ptr, nonneg_slot, nonneg_sign = (
        flows.nonneg_stock,
        flows.nonneg_ptr,
        flows.nonneg_slot,
        flows.nonneg_sign,
    )
    inflow = work[0]
    available = work[1]
    for _ in range(flows.nonneg_passes):
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
    S: F64,
    order: I64,
    B: int,
    t: float,
    fail_slot: I64,
    fail_time: F64,
    acc: F64,
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
def run(
    code: BlockCode,
    tables: Tables,
    flows: Flows,
    layout: Layout,
    steps: Steps,
    runs: Runs,
    outputs: Outputs,
    block: int,
    state: BlockState,
    lo: int,
    hi: int,
) -> None:
    """Simulate steps ``lo`` to ``hi - 1`` of every run of ``runs`` in blocks of ``block``
    runs, writing ``outputs``; ``state`` carries each block from one chunk of steps to the
    next (the initial values are computed when ``lo`` is 0, failed runs blanked when ``hi``
    passes the last step), so any split of the steps gives the same bits as one call."""
    params, keys = runs.params, runs.keys
    out, fail_slot, fail_time = outputs.out, outputs.fail_slot, outputs.fail_time
    n_slots, param_slots, save_slots = layout.n_slots, layout.param_slots, layout.save_slots
    prev_src, prev_dst, delay_src = layout.prev_src, layout.prev_dst, layout.delay_src
    stock_slots, nonneg_stock = flows.stock_slots, flows.nonneg_stock
    start, dt, n_steps, save_every = steps.start, steps.dt, steps.n_steps, steps.save_every
    a, b, c = steps.a, steps.b, steps.c
    n = params.shape[1]
    stages = len(b)
    n_stocks = len(stock_slots)
    n_blocks = (n + block - 1) // block
    for blk in prange(n_blocks):
        r0 = blk * block
        B = min(block, n - r0)
        R = state.R[blk]  # registers: slots, then the stack
        S = R[:n_slots]
        hist = state.hist[blk]
        y0 = np.empty((n_stocks, B))
        K = np.empty((stages, n_stocks, B))
        pending = np.empty((len(prev_src), B))
        fslot = fail_slot[r0 : r0 + B]
        ftime = fail_time[r0 : r0 + B]
        bkeys = keys[r0 : r0 + B]
        scratch = np.empty(B)
        work = np.empty((2, B))
        if lo == 0:
            for p in range(len(param_slots)):
                for r in range(B):
                    S[param_slots[p], r] = params[p, r0 + r]
            _exec(code.init, tables, R, n_slots, B, start, 0, steps, bkeys, hist[:, :0])
            state.failed[blk] = _check(S, layout.init_order, B, start, fslot, ftime, scratch)
        any_failed = state.failed[blk]
        t_last = state.t_last[blk]  # the time of the last evaluation (compiler.stages: skipping)
        for step in range(lo, hi):
            t = start + step * dt
            first = code.first_again if t == t_last else code.first
            _exec(first, tables, R, n_slots, B, t, step, steps, bkeys, hist[:, :step])
            t_last = t
            _derivatives(S, K[0], B, dt, flows, work)
            if _check(S, layout.check_order, B, t, fslot, ftime, scratch):
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
                if step + 1 == steps.zero_step:
                    _zero(S, stock_slots, runs.zero, r0, B)
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
                later = code.later_again if t_stage == t_last else code.later
                _exec(
                    later, tables, R, n_slots, B, t_stage, step, steps, bkeys, hist[:, : step + 1]
                )
                t_last = t_stage
                _derivatives(S, K[i], B, dt, flows, work)
            _combine(S, stock_slots, y0, K, b, stages, dt, B, work[0])
            if stages > 1:
                for k in range(len(nonneg_stock)):
                    row = stock_slots[nonneg_stock[k]]
                    for r in range(B):
                        S[row, r] = max(S[row, r], 0.0)
            if step + 1 == steps.zero_step:
                _zero(S, stock_slots, runs.zero, r0, B)
            for q in range(len(prev_dst)):
                for r in range(B):
                    S[prev_dst[q], r] = pending[q, r]
        state.t_last[blk] = t_last
        state.failed[blk] = any_failed
        if any_failed and hi > n_steps:
            _blank(out, fslot, ftime, r0, B, start, dt * save_every)


@jit
def _zero(S: F64, stock_slots: I64, zero: NDArray[np.bool_], r0: int, B: int) -> None:
    """Set the stocks each run of the block marks in ``zero`` to zero (the model tests)."""
    for k in range(len(stock_slots)):
        for r in range(B):
            if zero[k, r0 + r]:
                S[stock_slots[k], r] = 0.0


@jit
def _combine(
    S: F64,
    stock_slots: I64,
    y0: F64,
    K: F64,
    weights: F64,
    n: int,
    dt: float,
    B: int,
    acc: F64,
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
    out: F64,
    fslot: I64,
    ftime: F64,
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
