"""Loop dominance over time: Loops That Matter (Schoenberg, Davidsen & Eberlein 2020, with
the flow-to-stock correction of Schoenberg, Hayward & Eberlein 2023).

Link score of x -> z (z an auxiliary or flow): |Δ_x z / Δz| · sign(Δ_x z / Δx), where Δ_x z
re-evaluates z's compiled code with x at its current value and everything else at the
previous step (ceteris paribus); 0 when Δz or Δx is 0. Flow f -> stock S: σ·|Δf / Δnet|,
σ = +1 for an inflow and -1 for an outflow, net the stock's net flow — the corrected,
aggregation-invariant score. Links through the hidden structure of smooths and delays are
products along the hidden path (the chain rule), summed over parallel paths. A loop's score is
the product of its link scores; its relative score divides by the sum of the absolute scores
of all loops analysed. Scores are computed at every DT of every run of a batch.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.compile import Program, compile_model, ops
from flywheel_sim.engine.grid import time_grid
from flywheel_sim.engine.params import parameter_matrix, run_seeds
from flywheel_sim.errors import ModelError
from flywheel_sim.loops.find import Loop, find_loops
from flywheel_sim.loops.instances import instance_loops, instance_owner
from flywheel_sim.loops.polarity import owner, segments, trajectories
from flywheel_sim.spec.model import Model

if TYPE_CHECKING:
    import xarray as xr

F = NDArray[np.float64]
CHUNK = 32  # runs analysed together (every slot at every DT of each run is held)


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


def loop_dominance(
    model: Model,
    params: object = None,
    *,
    loops: list[Loop] | None = None,
    keep: int | None = None,
    max_loops: int = 20_000,
) -> xr.Dataset:
    """Loop scores and relative loop scores of ``model`` for every run, at its save times.

    Returns a Dataset with dims (run, time, loop): ``loop_score`` and ``relative_score``
    (normalised over *all* analysed loops); ``dominant`` (run, time) lists the loops that
    together explain at least half of the behaviour. ``params`` is a parameter mapping or
    DataFrame as for ``simulate``. Scores are computed at every DT; to bound memory the result
    keeps the named loops plus the ``keep`` strongest others (default: all loops for one run,
    50 for a batch), chosen by peak |relative score| in the first runs. In an arrayed model
    loops run element by element (:mod:`flywheel_sim.loops.instances`): each instance loop
    (``R2[entrant]``) is scored separately.
    """
    import xarray as xr

    program = compile_model(model)
    arrayed = any(e.dims for e in model.elements)
    if loops is None:
        search = find_loops(model, max_loops=max_loops, program=program)
        loops = list(search.loops)
        if arrayed:
            loops, _ = instance_loops(program, search, max_loops=max_loops)
    elif arrayed:
        nodes = {instance_owner(k) for k in program.slot_keys}
        missing = [v for loop in loops for v in loop.variables if v not in nodes]
        if missing:
            raise ModelError(
                f"'{missing[0]}' is not a variable instance of the arrayed model "
                f"'{model.name}': its loops run element by element",
                hint="pass loops from instance_loops(), or leave loops out",
            )
    matrix, n_runs = parameter_matrix(program, params, "error")
    keep = (len(loops) if n_runs == 1 else 50) if keep is None else keep
    every = time_grid(program, stop=None, dt=None, save_step=None).save_every
    chosen: list[int] | None = None
    parts: list[tuple[F, F]] = []
    times = np.zeros(0)
    for first in range(0, n_runs, CHUNK):  # bounded memory: every slot at every DT per chunk
        part = {key: matrix[i, first : first + CHUNK] for i, key in enumerate(program.param_keys)}
        states, all_times = trajectories(program, part, every_dt=True)
        links = model_link_scores(
            program, slot_link_scores(program, states, all_times), by_instance=arrayed
        )
        steps = np.arange(every - 1, states.shape[1] - 1, every)  # the save times after start
        links = {pair: value[steps] for pair, value in links.items()}
        shape = (len(steps), states.shape[2])
        zero = np.zeros(shape)
        scores = np.empty((len(loops), *shape))
        for i, loop in enumerate(loops):
            chain = list(loop.variables)
            product = scores[i]
            product[...] = 1.0
            for a, b in zip(chain, chain[1:] + chain[:1], strict=True):
                product *= links.get((a, b), zero)
        total = np.abs(scores).sum(axis=0)
        relative = np.divide(scores, total, out=np.zeros_like(scores), where=total > 0)
        if chosen is None:
            peak = np.abs(relative).max(axis=(1, 2))
            named = [i for i, loop in enumerate(loops) if loop.name]
            others = [i for i in np.argsort(-peak) if not loops[i].name][
                : max(keep - len(named), 0)
            ]
            chosen = (
                sorted(set(named) | {int(i) for i in others})
                if keep < len(loops)
                else (list(range(len(loops))))
            )
        parts.append((scores[chosen], relative[chosen]))
        times = all_times[1:][steps]
    assert chosen is not None
    kept = [loops[i] for i in chosen]
    scores = np.concatenate([p[0] for p in parts], axis=2)
    relative = np.concatenate([p[1] for p in parts], axis=2)
    dominant = _dominant(relative, [loop.id for loop in kept])
    return xr.Dataset(
        {
            "loop_score": (("run", "time", "loop"), scores.transpose(2, 1, 0)),
            "relative_score": (("run", "time", "loop"), relative.transpose(2, 1, 0)),
            "dominant": (("run", "time"), dominant.T),
        },
        coords={
            "run": np.arange(n_runs),
            "time": times,
            "loop": [loop.id for loop in kept],
            "loop_name": ("loop", [loop.name or "" for loop in kept]),
            "loop_type": ("loop", [loop.polarity for loop in kept]),
            "loop_variables": ("loop", [" -> ".join(loop.variables) for loop in kept]),
        },
        attrs={
            "model": model.name,
            "method": "Loops That Matter (2020, flow-to-stock 2023)",
            "loops_analysed": len(loops),
        },
    )


def _dominant(relative: F, ids: list[str]) -> NDArray[np.str_]:
    """The dominant loops at each (time, run): take the polarity whose loops carry the larger
    share of the behaviour, then the fewest of its loops (largest first) that explain at least
    half of it — as in Loops That Matter (and pysimlin's implementation)."""
    labels = np.empty(relative.shape[1:], dtype=object)
    for index in np.ndindex(*relative.shape[1:]):
        column = relative[(slice(None), *index)]
        positive = column.clip(min=0)
        negative = (-column).clip(min=0)
        if not column.any():
            labels[index] = ""
            continue
        group = positive if positive.sum() >= negative.sum() else negative
        order = np.argsort(-group)
        chosen, total = [], 0.0
        for k in order:
            if group[k] <= 0 or total >= 0.5:
                break
            chosen.append(ids[k])
            total += group[k]
        labels[index] = "+".join(chosen)
    return labels.astype(str)


def dominance_periods(data: xr.Dataset, *, run: int = 0) -> list[tuple[float, float, str]]:
    """Consecutive periods with the same dominant loop set: (start, end, loop ids)."""
    times = data["time"].values
    labels = data["dominant"].values[run]
    periods: list[tuple[float, float, str]] = []
    for t, label in zip(times, labels, strict=True):
        same = periods and sorted(periods[-1][2].split("+")) == sorted(str(label).split("+"))
        if same:
            periods[-1] = (periods[-1][0], float(t), label)
        else:
            periods.append((float(t), float(t), str(label)))
    return [p for p in periods if p[2]]


def loop_periods(data: xr.Dataset, *, run: int = 0) -> dict[str, list[tuple[float, float]]]:
    """For each loop id, the periods during which it is in the dominant set."""
    out: dict[str, list[tuple[float, float]]] = {}
    times = data["time"].values
    labels = data["dominant"].values[run]
    for loop in data["loop"].values:
        spans: list[tuple[float, float]] = []
        previous = None
        for t, label in zip(times, labels, strict=True):
            if loop in str(label).split("+"):
                if spans and previous is not None and spans[-1][1] == previous:
                    spans[-1] = (spans[-1][0], float(t))
                else:
                    spans.append((float(t), float(t)))
            previous = float(t)
        out[str(loop)] = spans
    return out
