"""Which equations a Runge-Kutta stage can leave out, without changing any result.

The step code recomputes every auxiliary and flow at every stage. Two kinds of equation need
not run at every stage:

- **Clock equations** depend only on the time, parameters and other clock equations (no
  stock, no random draw, no delay, no ``PREVIOUS``): the launch switches, the logistic market
  size, inflation ... Evaluated at the time it had at the previous evaluation, such an
  equation gives the value its slot already holds, bit for bit. In classic RK4 the second and
  third stages share a time, and the first stage of a step has the time of the previous
  step's last stage, so half of the evaluations can skip them. (The kernel compares the two
  times exactly; equal floating-point times, not equal nominal ones.) A clock equation whose
  value the non-negative-stock rule may clip (a flow of a non-negative stock) is not skipped,
  since its slot no longer holds what the equation computed.
- **Report equations** feed no flow: their values matter only where they are saved and
  checked for NaN, which is after the first stage. Stages after the first leave them out.

A skipped equation's slot keeps the value computed at an earlier evaluation where the
same inputs gave the same value, so skipping changes nothing but the work done.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from flywheel_sim._types import I64
from flywheel_sim.compile import ops
from flywheel_sim.compile.program import Program
from flywheel_sim.compile.registers import to_registers

_STATEFUL = frozenset((ops.RANDOM, ops.NORMAL, ops.LOGNORMAL, ops.EXPRND, ops.POISSON, ops.DELAY))


@dataclass(frozen=True)
class StageCode:
    """Three-address step code for the four kinds of evaluation (see the module docstring)."""

    first: I64  # the first stage, at a new time: everything
    first_again: I64  # the first stage at the previous evaluation's time
    later: I64  # a later stage at a new time: no report equations
    later_again: I64  # a later stage at the previous time: no clock either


def _equations(code: I64) -> list[list[tuple[int, int]]] | None:
    """The step code cut into equations (each ends with the STORE that empties the stack);
    None if the code does not have that shape."""
    equations: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    depth = 0
    for pc in range(0, len(code), 2):
        op, arg = int(code[pc]), int(code[pc + 1])
        current.append((op, arg))
        if op < ops.FUSE_CONST:  # a fused op replaces the top of the stack
            depth += (0 if op == ops.STORE else 1) - ops.pops(op, arg)
        if op == ops.STORE and depth == 0:
            equations.append(current)
            current = []
    return None if current else equations


def _reads(equation: list[tuple[int, int]]) -> set[int]:
    return {arg for op, arg in equation if op == ops.LOAD or op >= ops.FUSE_SLOT}


def stage_code(program: Program) -> StageCode:
    """The step code's variants for ``program`` (cached per step code)."""
    return _stage_code(
        program.step_code.tobytes(),
        program.n_slots,
        np.concatenate([program.stock_slots, program.prev_dst]).tobytes(),
        program.edge_slot.tobytes(),
        program.nonneg_slot.tobytes(),
    )


@lru_cache(maxsize=64)
def _stage_code(
    raw: bytes, n_slots: int, moving_raw: bytes, edges_raw: bytes, clipped_raw: bytes
) -> StageCode:
    code = np.frombuffer(raw, dtype=np.int64)
    full = to_registers(code, n_slots)
    equations = _equations(code)
    if equations is None:
        return StageCode(full, full, full, full)
    moving = set(np.frombuffer(moving_raw, dtype=np.int64).tolist())
    clipped = set(np.frombuffer(clipped_raw, dtype=np.int64).tolist())
    written = {eq[-1][1] for eq in equations}
    clock: set[int] = set()
    for eq in equations:
        if eq[-1][1] in clipped or any(op in _STATEFUL for op, _ in eq):
            continue
        if all(s in clock or (s not in written and s not in moving) for s in _reads(eq)):
            clock.add(eq[-1][1])
    live = set(np.frombuffer(edges_raw, dtype=np.int64).tolist())
    for eq in reversed(equations):
        if eq[-1][1] in live:
            live |= _reads(eq)

    def keep(test: set[int] | None, skip: set[int]) -> I64:
        kept = [
            pair
            for eq in equations
            if (test is None or eq[-1][1] in test) and eq[-1][1] not in skip
            for pair in eq
        ]
        return to_registers(np.array(kept, dtype=np.int64).reshape(-1), n_slots)

    skip_clock = clock & live  # report equations that are clock ones still run at stage 1
    return StageCode(
        first=full,
        first_again=keep(None, skip_clock),
        later=keep(live, set()),
        later_again=keep(live, skip_clock),
    )
