"""The numba VM: runs a Program for N runs in compiled loops, with the NumPy VM's contract
(:func:`flywheel_sim.engine.vm.reference.run`).

It packs the Program into the kernels' inputs (:mod:`flywheel_sim.engine.vm.inputs`) and picks
a kernel by batch size: :mod:`flywheel_sim.engine.vm.block` (three-address code, blocks of runs
in parallel) for ``SCALAR_BELOW`` runs or more, :mod:`flywheel_sim.engine.vm.scalar` (postfix
code, one run at a time) below. Both agree bit for bit. Long runs go in chunks of steps, so
that a run can be cancelled and Ctrl-C stops it (:mod:`flywheel_sim.engine.cancel`). Needs
the ``fast`` extra (numba); tests check it agrees with the NumPy VM on every builtin and
every built-in model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flywheel_sim._types import F64, I64
from flywheel_sim.compile.program import Program
from flywheel_sim.engine.cancel import stop_if_cancelled
from flywheel_sim.engine.grid import Grid
from flywheel_sim.engine.integrators import Tableau
from flywheel_sim.engine.vm import block as block_kernel
from flywheel_sim.engine.vm import inputs, scalar

if TYPE_CHECKING:
    from flywheel_sim.engine.vm.reference import Zeroing

# fewer runs than this: the scalar kernel is faster (on SIR the two cross between 8 and 16
# runs; at 32, as before, 31 runs took 19 ms and 32 runs 6 ms)
SCALAR_BELOW = 10
CHUNK_SECONDS = 0.1  # a long run is computed in chunks of steps of about this long
FIRST_CHUNK_WORK = 1 << 20  # instructions × runs in the first chunk, before it is timed


def run(
    prog: Program,
    method: Tableau,
    params: F64,
    seeds: I64,
    grid: Grid,
    save_slots: I64,
    block: int = block_kernel.BLOCK,
    zeroing: Zeroing | None = None,
    cancel: Callable[[], bool] | None = None,
    chunk: int | None = None,
) -> inputs.Outputs:
    """Simulate ``params.shape[1]`` runs (the block kernel in blocks of ``block`` runs);
    returns saved values (slots, times, runs) and per-run failures. ``zeroing`` forces
    stocks to zero during the run, as the reference VM does.

    The steps are computed in chunks (``chunk`` steps each, or sized to take about
    ``CHUNK_SECONDS``); between chunks ``cancel`` is asked whether to stop (Cancelled) and
    Python gets to raise a pending KeyboardInterrupt. Chunking changes no bit."""
    n = params.shape[1]
    outputs = inputs.outputs(len(save_slots), grid.n_saved, n)
    model = (inputs.tables(prog), inputs.flows(prog), inputs.layout(prog, save_slots))
    steps = inputs.steps(grid, method, -1 if zeroing is None else zeroing.step)
    mask = None if zeroing is None else zeroing.mask
    runs = inputs.runs(params, seeds, len(prog.stock_slots), mask)
    n_delays = len(prog.delay_src)
    kernel: Callable[[int, int], None]
    if n < SCALAR_BELOW:
        postfix = inputs.postfix_code(prog)
        scalar_state = inputs.scalar_state(model[2], n_delays, grid.n_steps, n)
        per_step = len(postfix.step) // 2

        def kernel(lo: int, hi: int) -> None:
            scalar.run(postfix, *model, steps, runs, outputs, scalar_state, lo, hi)
    else:
        code = inputs.block_code(prog)
        block_state = inputs.block_state(model[2], n_delays, grid.n_steps, n, block)
        per_step = len(code.first) + (method.stages - 1) * len(code.later)

        def kernel(lo: int, hi: int) -> None:
            block_kernel.run(code, *model, steps, runs, outputs, block, block_state, lo, hi)

    total = grid.n_steps + 1
    size = chunk or max(1, FIRST_CHUNK_WORK // max(1, n * (per_step + len(prog.stock_slots))))
    lo = 0
    while lo < total:
        hi = min(total, lo + size)
        began = time.perf_counter()
        kernel(lo, hi)
        if chunk is None:
            took = time.perf_counter() - began
            size = max(1, min(8 * size, int((hi - lo) * CHUNK_SECONDS / max(took, 1e-6))))
        lo = hi
        if lo < total:
            stop_if_cancelled(cancel, grid.start + lo * grid.dt, grid.stop)
    return outputs
