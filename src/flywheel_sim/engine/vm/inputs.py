"""What the numba kernels read and write, as a few named tuples built from a Program.

A kernel takes its model, run and time data in groups rather than as forty loose arrays:
:class:`Tables` (what instructions read besides the slots), :class:`Flows` (how flows move
stocks), :class:`Layout` (which slots hold what), :class:`Steps` (the time grid and the
integrator's tableau), :class:`Runs` (parameter values and random keys per run) and
:class:`Outputs` (what the kernel writes). Named tuples are numba types, so the kernels read
their fields as they read any local; the functions below pack them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from flywheel_sim import rng
from flywheel_sim._types import F64, I64, U64
from flywheel_sim.compile import registers
from flywheel_sim.compile.program import Program
from flywheel_sim.compile.stages import stage_code
from flywheel_sim.engine.grid import Grid
from flywheel_sim.engine.integrators import Tableau


class Tables(NamedTuple):
    """What instructions read besides the slots."""

    consts: F64  # the constant pool (CONST operands)
    site_keys: U64  # the stream key of each random call site
    # ANDed with the run's key: 0 where the call has a seed argument (the same sequence in
    # every run, XMILE 1.0 §3.5.2), all ones elsewhere (each run its own stream)
    site_run_mask: U64
    lookup_ptr: I64  # table k is lookup_x/_y[lookup_ptr[k]:lookup_ptr[k + 1]]
    lookup_x: F64
    lookup_y: F64
    lookup_kind: I64  # ops.LK_*: interpolate, extrapolate or discrete


class Flows(NamedTuple):
    """How flows move stocks: the (stock, flow slot, sign) edges, and for each non-negative
    stock its edges in the order their outflow is limited."""

    stock_slots: I64
    edge_stock: I64  # index into stock_slots
    edge_slot: I64
    edge_sign: F64
    nonneg_stock: I64  # index into stock_slots
    nonneg_ptr: I64  # stock j's edges are nonneg_slot/_sign[nonneg_ptr[j]:nonneg_ptr[j + 1]]
    nonneg_slot: I64
    nonneg_sign: F64
    nonneg_passes: int


class Layout(NamedTuple):
    """Which slots hold what, and the kernel's working sizes."""

    n_slots: int
    max_stack: int
    param_slots: I64  # slot of each row of the parameter matrix
    prev_src: I64  # PREVIOUS: copied from prev_src to prev_dst after each step
    prev_dst: I64
    delay_src: I64  # DELAY: the slot each history buffer records
    check_order: I64  # slots checked for a non-finite value, in evaluation order
    init_order: I64  # the same for the initial values
    save_slots: I64  # the slots saved, in the order of the output's rows


class Steps(NamedTuple):
    """The time grid and the explicit Runge-Kutta tableau that steps along it."""

    start: float
    dt: float
    stop: float
    n_steps: int
    save_every: int
    a: F64  # (stages, stages), strictly lower triangular
    b: F64  # weights
    c: F64  # stage times as fractions of dt
    zero_step: int  # after this step, the stocks a run's ``Runs.zero`` marks are set to 0


class Runs(NamedTuple):
    """Per-run inputs."""

    params: F64  # (parameters, runs)
    keys: U64  # each run's random-stream key
    zero: NDArray[np.bool_]  # (stocks, runs): set to zero after ``Steps.zero_step``


class Outputs(NamedTuple):
    """What the kernels write: saved values (slots, saved times, runs), NaN after a run's
    failure, and each run's first non-finite slot (-1 if none) and its time."""

    out: F64
    fail_slot: I64
    fail_time: F64


class BlockState(NamedTuple):
    """What the block kernel carries from one chunk of steps to the next (a long run is
    computed in chunks so that Python can cancel or interrupt it in between): each block's
    registers and delay histories, the time it last evaluated (stage skipping) and whether
    any of its runs failed."""

    R: F64  # (blocks, slots + stack, block size)
    hist: F64  # (blocks, delay buffers, steps + 1, block size)
    t_last: F64  # (blocks,): NaN before the first evaluation
    failed: NDArray[np.bool_]  # (blocks,)


class ScalarState(NamedTuple):
    """What the scalar kernel carries from one chunk of steps to the next: each run's slots
    and delay histories, and the step where it stopped (``n_steps`` unless it failed)."""

    S: F64  # (runs, slots)
    hist: F64  # (runs, delay buffers, steps + 1)
    last: I64  # (runs,)


class BlockCode(NamedTuple):
    """The block kernel's three-address code (:mod:`flywheel_sim.compile.registers`): the
    initial values, then the stage variants of :func:`flywheel_sim.compile.stages.stage_code`."""

    init: I64
    first: I64
    first_again: I64
    later: I64
    later_again: I64


class PostfixCode(NamedTuple):
    """The scalar kernel's postfix code: the initial values and one evaluation."""

    init: I64
    step: I64


def tables(prog: Program) -> Tables:
    return Tables(
        prog.consts,
        prog.site_keys,
        np.where(prog.site_seed >= 0, np.uint64(0), np.uint64(0xFFFFFFFFFFFFFFFF)).astype(
            np.uint64
        ),
        prog.lookup_ptr,
        prog.lookup_x,
        prog.lookup_y,
        prog.lookup_kind,
    )


def flows(prog: Program) -> Flows:
    return Flows(
        prog.stock_slots,
        prog.edge_stock,
        prog.edge_slot,
        prog.edge_sign,
        prog.nonneg_stock,
        prog.nonneg_ptr,
        prog.nonneg_slot,
        prog.nonneg_sign,
        int(prog.nonneg_passes),
    )


def layout(prog: Program, save_slots: I64) -> Layout:
    return Layout(
        int(prog.n_slots),
        int(prog.max_stack),
        prog.param_slots,
        prog.prev_src,
        prog.prev_dst,
        prog.delay_src,
        prog.check_order,
        prog.init_check,
        save_slots,
    )


def steps(grid: Grid, method: Tableau, zero_step: int = -1) -> Steps:
    return Steps(
        float(grid.start),
        float(grid.dt),
        float(grid.stop),
        int(grid.n_steps),
        int(grid.save_every),
        method.a,
        method.b,
        method.c,
        int(zero_step),
    )


def runs(params: F64, seeds: I64, n_stocks: int, zero: NDArray[np.bool_] | None = None) -> Runs:
    """Per-run inputs; ``zero`` (stocks, runs) marks stocks forced to zero (none by default)."""
    mask = np.zeros((n_stocks, params.shape[1]), dtype=np.bool_) if zero is None else zero
    return Runs(np.ascontiguousarray(params), rng.run_keys(seeds), np.ascontiguousarray(mask))


def outputs(n_saved_slots: int, n_saved_times: int, n_runs: int) -> Outputs:
    """Outputs before a run: values NaN, no failure."""
    return Outputs(
        np.full((n_saved_slots, n_saved_times, n_runs), np.nan),
        np.full(n_runs, -1, np.int64),
        np.full(n_runs, np.nan),
    )


def block_code(prog: Program) -> BlockCode:
    variants = stage_code(prog)
    init = registers.to_registers(prog.init_code, prog.n_slots)
    return BlockCode(
        init, variants.first, variants.first_again, variants.later, variants.later_again
    )


def postfix_code(prog: Program) -> PostfixCode:
    return PostfixCode(prog.init_code, prog.step_code)


def block_state(layout: Layout, n_delays: int, n_steps: int, n_runs: int, block: int) -> BlockState:
    """The block kernel's state before the first chunk (zeroed registers and histories)."""
    n_blocks = (n_runs + block - 1) // block
    rows = layout.n_slots + layout.max_stack + 1
    width = min(block, n_runs)  # a block's runs are columns 0..B-1 (B <= width)
    return BlockState(
        np.zeros((n_blocks, rows, width)),
        np.zeros((n_blocks, n_delays, n_steps + 1, width)),
        np.full(n_blocks, np.nan),
        np.zeros(n_blocks, dtype=np.bool_),
    )


def scalar_state(layout: Layout, n_delays: int, n_steps: int, n_runs: int) -> ScalarState:
    """The scalar kernel's state before the first chunk."""
    return ScalarState(
        np.zeros((n_runs, layout.n_slots)),
        np.zeros((n_runs, n_delays, n_steps + 1)),
        np.full(n_runs, n_steps, np.int64),
    )
