"""Loops That Matter link scores (Schoenberg, Davidsen & Eberlein 2020, with the flow-to-stock
correction of Schoenberg, Hayward & Eberlein 2023), slot by slot and folded into the links of
model variables (or of variable instances in an arrayed model).

Link score of x -> z (z an auxiliary or flow): |Δ_x z / Δz| · sign(Δ_x z / Δx), where Δ_x z
re-evaluates z's compiled code with x at its current value and everything else at the
previous step (ceteris paribus); 0 when Δz or Δx is 0. Flow f -> stock S: σ·|Δf / Δnet|,
σ = +1 for an inflow and -1 for an outflow, net the stock's net flow — the corrected,
aggregation-invariant score. Links through the hidden structure of smooths and delays are
products along the hidden path (the chain rule), summed over parallel paths. Used by loop
dominance (:mod:`~flywheel_sim.loops.dominance`), the strongest-path search
(:mod:`~flywheel_sim.loops.strongest`) and the loop gain of the diagnostics.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.compile import Program, ops
from flywheel_sim.engine.params import run_seeds
from flywheel_sim.loops.polarity import instance_owner, owner, segments

F = NDArray[np.float64]


def _ratio(numerator: F, denominator: F) -> F:
    out = np.zeros_like(numerator)
    ok = (denominator != 0) & np.isfinite(numerator) & np.isfinite(denominator)
    np.divide(numerator, denominator, out=out, where=ok)
    return out


def slot_link_scores(program: Program, states: F, times: F) -> dict[tuple[int, int], F]:
    """Link score of every slot-level link at steps 1..T-1: arrays (T-1, runs)."""
    from flywheel_sim import rng
    from flywheel_sim.engine.vm import reference as vm_numpy

    n_slots, n_times, n_runs = states.shape
    prev = states[:, :-1].reshape(n_slots, -1).copy()
    cur = states[:, 1:].reshape(n_slots, -1)
    delta = cur - prev
    clock = vm_numpy.Clock(
        np.repeat(times[:-1], n_runs), program.time.dt, float(times[0]), float(times[-1]), 0
    )
    keys = rng.run_keys(run_seeds(0, prev.shape[1]))
    hist = np.zeros((len(program.delay_src), 0, prev.shape[1]))
    shape = (n_times - 1, n_runs)
    scores: dict[tuple[int, int], F] = {}
    with np.errstate(all="ignore"):
        for z, code in segments(program).items():
            reads = {
                int(code[pc + 1])
                for pc in range(0, len(code), 2)
                if code[pc] == ops.LOAD or code[pc] >= ops.FUSE_SLOT
            }
            for x in reads:
                if ops.DELAY in code[0::2]:
                    partial = delta[z]  # a pipeline: its input's change is its change
                else:  # ceteris paribus: swap x's row in, run z's code, restore both rows
                    saved_x, saved_z = prev[x].copy(), prev[z].copy()
                    prev[x] = cur[x]
                    vm_numpy.execute(code, program, prev, clock, keys, hist)
                    partial = prev[z] - saved_z
                    prev[z] = saved_z
                    prev[x] = saved_x
                magnitude = np.abs(_ratio(partial, delta[z]))
                sign = np.sign(_ratio(partial, delta[x]))
                score = np.where((delta[x] == 0) | (delta[z] == 0), 0.0, magnitude * sign)
                scores[(x, z)] = score.reshape(shape)
        flows_of: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for stock, flow, sign in zip(
            program.edge_stock, program.edge_slot, program.edge_sign, strict=True
        ):
            flows_of[int(stock)].append((int(flow), float(sign)))
        for stock, flows in flows_of.items():
            net = sum(direction * states[f] for f, direction in flows)
            d_net = np.diff(net, axis=0)
            for flow, direction in flows:
                d_flow = np.diff(states[flow], axis=0)
                scores[(flow, int(program.stock_slots[stock]))] = direction * np.abs(
                    _ratio(d_flow, d_net)
                )
        for src, dst in zip(program.prev_src, program.prev_dst, strict=True):
            scores[(int(src), int(dst))] = np.sign(np.diff(states[dst], axis=0)) * np.sign(
                np.diff(states[src], axis=0)
            )
    return scores


def model_link_scores(
    program: Program, scores: dict[tuple[int, int], F], *, by_instance: bool = False
) -> dict[tuple[str, str], F]:
    """Fold slot scores into model-level links: products along hidden paths, summed over
    parallel paths. A path through a hidden stock (the inside of a smooth or delay) is used
    only when no stock-free path exists: SMTH1(x) reaches its output only through its stock,
    while FORCST/TREND also use x directly and their averaging stock belongs to an internal
    loop of the builtin, not to the link x -> output. With ``by_instance`` the links are
    between variable instances (``x[a] -> y[a]``) instead of model variables."""
    keys = program.slot_keys
    name = instance_owner if by_instance else owner
    hidden = {i for i, k in enumerate(keys) if "#" in k}
    hidden_stocks = hidden & {int(s) for s in program.stock_slots}
    succ: dict[int, list[int]] = defaultdict(list)
    for x, z in scores:
        succ[x].append(z)
    direct: dict[tuple[str, str], F] = {}
    through_stock: dict[tuple[str, str], F] = {}
    for x in range(len(keys)):
        if x in hidden:
            continue
        stack: list[tuple[int, F | None, frozenset[int], bool]] = [(x, None, frozenset({x}), False)]
        while stack:
            node, acc, seen, via_stock = stack.pop()
            for z in succ.get(node, []):
                if z in seen:
                    continue
                link = scores[(node, z)]
                total = link if acc is None else acc * link
                if z in hidden:
                    stack.append((z, total, seen | {z}, via_stock or z in hidden_stocks))
                else:
                    pair = (name(keys[x]), name(keys[z]))
                    target = through_stock if via_stock else direct
                    target[pair] = target[pair] + total if pair in target else total
    return {**through_stock, **direct}
