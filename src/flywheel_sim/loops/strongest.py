"""The strongest-path loop search (Eberlein & Schoenberg 2020, "Finding the loops that
matter"), for models with too many loops to enumerate.

At sampled times of a simulation, every link's Loops That Matter score is known. From each
stock, a depth-first search follows outgoing links strongest first, multiplying |link score|
along the path, and abandons a path when a stronger one has already reached the same variable
at this time; returning to the start closes a loop. The loops found at any sampled time are
the ones that can matter; weak loops the exhaustive search would list are skipped.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from flywheel_sim.compile import Program
from flywheel_sim.engine.simulate import Options
from flywheel_sim.loops.cycles import rotate
from flywheel_sim.loops.polarity import trajectories
from flywheel_sim.loops.scores import model_link_scores, slot_link_scores
from flywheel_sim.spec.model import Model

MAX_DEPTH = 60


def strongest_loops(
    model: Model,
    program: Program,
    params: object = None,
    samples: int = 60,
    *,
    options: Options | None = None,
) -> tuple[list[list[str]], int]:
    """Loops found by the strongest-path search at up to ``samples`` times of one run;
    returns the loops (variables in causal order) and the number of times searched."""
    states, times = trajectories(program, params, every_dt=True, options=options)
    scores = model_link_scores(program, slot_link_scores(program, states[:, :, :1], times))
    steps = np.unique(np.linspace(1, len(times) - 2, min(samples, len(times) - 2)).astype(int))
    successors: dict[str, list[str]] = defaultdict(list)
    for a, b in scores:
        if a != b:
            successors[a].append(b)
    stocks = [e.key for e in model.of_kind("stock")]
    found: set[tuple[str, ...]] = set()
    for step in steps:
        strength = {pair: abs(float(value[step, 0])) for pair, value in scores.items()}
        ordered = {a: sorted(bs, key=lambda b: -strength[(a, b)]) for a, bs in successors.items()}
        for start in stocks:
            best: dict[str, float] = defaultdict(float)
            stack: list[tuple[str, float, list[str]]] = [(start, 1.0, [start])]
            while stack:
                node, score, path = stack.pop()
                for nxt in reversed(ordered.get(node, [])):  # strongest explored first
                    value = score * strength[(node, nxt)]
                    if value == 0.0:
                        continue
                    if nxt == start:
                        found.add(rotate(path))
                        continue
                    if nxt in path or value <= best[nxt] or len(path) >= MAX_DEPTH:
                        continue
                    best[nxt] = value
                    stack.append((nxt, value, [*path, nxt]))
    return [list(loop) for loop in sorted(found)], len(steps)
