"""The numba VM: runs a Program for N runs in compiled loops, with the NumPy VM's contract
(:func:`flywheel_sim.engine.vm.reference.run`).

It packs the Program into the kernels' inputs (:mod:`flywheel_sim.engine.vm.inputs`) and picks
a kernel by batch size: :mod:`flywheel_sim.engine.vm.block` (three-address code, blocks of runs
in parallel) for ``SCALAR_BELOW`` runs or more, :mod:`flywheel_sim.engine.vm.scalar` (postfix
code, one run at a time) below. Both agree bit for bit. Needs the ``fast`` extra (numba); tests
check it agrees with the NumPy VM on every builtin and every built-in model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flywheel_sim._types import F64, I64
from flywheel_sim.compile.program import Program
from flywheel_sim.engine.grid import Grid
from flywheel_sim.engine.integrators import Tableau
from flywheel_sim.engine.vm import block as block_kernel
from flywheel_sim.engine.vm import inputs, scalar

if TYPE_CHECKING:
    from flywheel_sim.engine.vm.reference import Zeroing

SCALAR_BELOW = 32  # fewer runs than this: the scalar kernel is faster


def run(
    prog: Program,
    method: Tableau,
    params: F64,
    seeds: I64,
    grid: Grid,
    save_slots: I64,
    block: int = block_kernel.BLOCK,
    zeroing: Zeroing | None = None,
) -> inputs.Outputs:
    """Simulate ``params.shape[1]`` runs (the block kernel in blocks of ``block`` runs);
    returns saved values (slots, times, runs) and per-run failures. ``zeroing`` forces
    stocks to zero during the run, as the reference VM does."""
    n = params.shape[1]
    outputs = inputs.outputs(len(save_slots), grid.n_saved, n)
    model = (inputs.tables(prog), inputs.flows(prog), inputs.layout(prog, save_slots))
    steps = inputs.steps(grid, method, -1 if zeroing is None else zeroing.step)
    mask = None if zeroing is None else zeroing.mask
    runs = inputs.runs(params, seeds, len(prog.stock_slots), mask)
    if n < SCALAR_BELOW:
        scalar.run(inputs.postfix_code(prog), *model, steps, runs, outputs)
    else:
        block_kernel.run(inputs.block_code(prog), *model, steps, runs, outputs, block)
    return outputs
