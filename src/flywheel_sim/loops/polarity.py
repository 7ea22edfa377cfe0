"""Link polarity measured from simulated trajectories (the sign of the partial effect).

For every slot-level dependency x -> z of the compiled model, z's own code is re-evaluated at
each saved state with x nudged up; the sign of the change in z, over the whole run (and every
run of a batch), is the link's measured polarity: '+' or '-' when it never changes sign, '?'
when it does (the sign depends on the state), '0' when z never responded. Chains through the
hidden structure of smooths and delays are multiplied out, so each model-level link gets one
polarity. Declared polarities the equations contradict are reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.compile import Program, compile_model, ops
from flywheel_sim.engine.grid import time_grid
from flywheel_sim.engine.integrators import tableau
from flywheel_sim.engine.params import parameter_matrix, run_seeds
from flywheel_sim.engine.simulate import Options, execute
from flywheel_sim.spec.model import Model

if TYPE_CHECKING:
    import networkx as nx

NUDGE = 1e-6


@dataclass(frozen=True)
class Contradiction:
    """A declared link polarity the equations contradict."""

    source: str
    target: str
    declared: str
    measured: str

    def __str__(self) -> str:
        return (
            f"link {self.source} -> {self.target} is declared '{self.declared}' but the "
            f"equations give '{self.measured}'"
        )


def owner(key: str) -> str:
    """The model variable a slot belongs to (``x[a]`` -> ``x``; ``x#stage3`` -> ``x``)."""
    return key.split("#")[0].split("[")[0]


def instance_owner(key: str) -> str:
    """The variable instance a slot belongs to (``price[entrant]#stage3`` ->
    ``price[entrant]``)."""
    return key.split("#")[0]


def segments(program: Program) -> dict[int, NDArray[np.int64]]:
    """The code that computes each slot (its last assignment in step code, else init code)."""
    out: dict[int, NDArray[np.int64]] = {}
    for code in (program.init_code, program.step_code):
        start = 0
        for pc in range(0, len(code), 2):
            if code[pc] == ops.STORE:
                out[int(code[pc + 1])] = code[start : pc + 2]
                start = pc + 2
    return out


def _reads(segment: NDArray[np.int64]) -> set[int]:
    slots = set()
    for pc in range(0, len(segment), 2):
        op, arg = int(segment[pc]), int(segment[pc + 1])
        if op == ops.LOAD or op >= ops.FUSE_SLOT:
            slots.add(arg)
    return slots


def trajectories(
    program: Program,
    params: object = None,
    *,
    every_dt: bool = False,
    options: Options | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Every slot at every saved time (or every DT): (slots, times, runs), and the times;
    ``options`` (limits, a cancel check) for the run."""
    matrix, n = parameter_matrix(program, params, "error")
    save = program.time.dt if every_dt else None
    grid = time_grid(program, stop=None, dt=None, save_step=save)
    out, _, _ = execute(
        program,
        tableau(program.time.method),
        matrix,
        run_seeds(0, n),
        grid,
        np.arange(program.n_slots, dtype=np.int64),
        options or Options(),
    )
    return out, grid.times


def _sign(delta: NDArray[np.float64]) -> str:
    finite = delta[np.isfinite(delta)]
    scale = np.max(np.abs(finite), initial=0.0)
    if scale == 0.0:
        return "0"
    significant = finite[np.abs(finite) > 1e-9 * scale]
    if (significant > 0).all():
        return "+"
    if (significant < 0).all():
        return "-"
    return "?"


def slot_polarities(
    program: Program, states: NDArray[np.float64], times: NDArray[np.float64]
) -> dict[tuple[int, int], str]:
    """Measured sign of every slot-level link (x, z) over ``states`` (slots, times, runs)."""
    from flywheel_sim import rng
    from flywheel_sim.engine.vm import reference as vm_numpy

    n_slots, n_times, n_runs = states.shape
    base = states.reshape(n_slots, n_times * n_runs).copy()
    t = np.repeat(times, n_runs)
    clock = vm_numpy.Clock(t, program.time.dt, float(times[0]), float(times[-1]), 0)
    keys = rng.run_keys(run_seeds(0, base.shape[1]))
    hist = np.zeros((len(program.delay_src), 0, base.shape[1]))
    out: dict[tuple[int, int], str] = {}
    with np.errstate(all="ignore"):
        for z, code in segments(program).items():
            if ops.DELAY in code[0::2]:
                continue  # reads history; its input -> output sign is structural ('+')
            for x in _reads(code):
                S = base.copy()
                vm_numpy.execute(code, program, S, clock, keys, hist)
                before = S[z].copy()
                step = NUDGE * np.maximum(np.abs(base[x]), 1e-6)
                S = base.copy()
                S[x] = base[x] + step
                vm_numpy.execute(code, program, S, clock, keys, hist)
                out[(x, z)] = _sign(S[z] - before)
    for stock, flow, sign in zip(
        program.edge_stock, program.edge_slot, program.edge_sign, strict=True
    ):
        out[(int(flow), int(program.stock_slots[stock]))] = "+" if sign > 0 else "-"
    for src, dst in zip(program.prev_src, program.prev_dst, strict=True):
        out[(int(src), int(dst))] = "+"
    for src in program.delay_src:
        for z, code in segments(program).items():
            if ops.DELAY in code[0::2]:
                out[(int(src), z)] = "+"
    return out


def _combine(signs: list[str]) -> str:
    effective = {s for s in signs if s != "0"}
    if not effective:
        return "0"
    return effective.pop() if len(effective) == 1 else "?"


def _multiply(a: str, b: str) -> str:
    if "0" in (a, b):
        return "0"
    if "?" in (a, b):
        return "?"
    return "+" if a == b else "-"


def model_polarities(
    program: Program, slot_signs: dict[tuple[int, int], str], *, by_instance: bool = False
) -> dict[tuple[str, str], str]:
    """Fold slot-level signs into model-level links (or, ``by_instance``, links between
    variable instances ``x[a] -> y[a]``), multiplying through hidden slots."""
    keys = program.slot_keys
    name = (lambda key: key.split("#")[0]) if by_instance else owner
    hidden = {i for i, k in enumerate(keys) if "#" in k}
    succ: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for (x, z), sign in slot_signs.items():
        succ[x].append((z, sign))
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for x in range(len(keys)):
        if x in hidden:
            continue
        stack: list[tuple[int, str, frozenset[int]]] = [(x, "+", frozenset({x}))]
        while stack:  # simple paths through hidden slots only
            node, sign, seen = stack.pop()
            for z, s in succ.get(node, []):
                if z in seen:
                    continue
                total = _multiply(sign, s)
                if z in hidden:
                    stack.append((z, total, seen | {z}))
                else:
                    found[(name(keys[x]), name(keys[z]))].append(total)
    return {link: _combine(signs) for link, signs in found.items()}


def measure_polarity(
    model: Model | Program, params: object = None, *, options: Options | None = None
) -> dict[tuple[str, str], str]:
    """Measured polarity of every model-level causal link, from a simulation of ``model``."""
    program = model if isinstance(model, Program) else compile_model(model)
    states, times = trajectories(program, params, options=options)
    return model_polarities(program, slot_polarities(program, states, times))


def annotate(graph: nx.DiGraph, measured: dict[tuple[str, str], str]) -> list[Contradiction]:
    """Store ``measured`` (and the ``polarity`` to use: declared if given, else measured) on
    the graph's edges; return the declared polarities the equations contradict."""
    contradictions = []
    for source, target, data in graph.edges(data=True):
        sign = measured.get((source, target), "?")
        data["measured"] = sign
        declared = data.get("declared")
        data["polarity"] = declared if declared in ("+", "-") else sign
        if declared in ("+", "-") and sign in ("+", "-") and sign != declared:
            contradictions.append(Contradiction(source, target, declared, sign))
    return contradictions


def slot_gains(
    program: Program, states: NDArray[np.float64], times: NDArray[np.float64]
) -> dict[tuple[int, int], NDArray[np.float64]]:
    """The partial derivative dz/dx of every slot-level link at every saved state:
    arrays (times, runs). Flow -> stock links are +1 / -1 (integration)."""
    from flywheel_sim import rng
    from flywheel_sim.engine.vm import reference as vm_numpy

    n_slots, n_times, n_runs = states.shape
    base = states.reshape(n_slots, n_times * n_runs).copy()
    clock = vm_numpy.Clock(
        np.repeat(times, n_runs), program.time.dt, float(times[0]), float(times[-1]), 0
    )
    keys = rng.run_keys(run_seeds(0, base.shape[1]))
    hist = np.zeros((len(program.delay_src), 0, base.shape[1]))
    out: dict[tuple[int, int], NDArray[np.float64]] = {}
    with np.errstate(all="ignore"):
        for z, code in segments(program).items():
            if ops.DELAY in code[0::2]:
                continue
            for x in _reads(code):
                step = NUDGE * np.maximum(np.abs(base[x]), 1e-6)
                saved_x, saved_z = base[x].copy(), base[z].copy()
                base[x] = saved_x + step
                vm_numpy.execute(code, program, base, clock, keys, hist)
                gain = (base[z] - saved_z) / step
                base[z], base[x] = saved_z, saved_x
                out[(x, z)] = gain.reshape(n_times, n_runs)
    ones = np.ones((n_times, n_runs))
    for stock, flow, sign in zip(
        program.edge_stock, program.edge_slot, program.edge_sign, strict=True
    ):
        out[(int(flow), int(program.stock_slots[stock]))] = sign * ones
    return out
