"""Loop dominance over time: Loops That Matter (Schoenberg, Davidsen & Eberlein 2020, with
the flow-to-stock correction of Schoenberg, Hayward & Eberlein 2023).

Link scores come from :mod:`~flywheel_sim.loops.scores`. A loop's score is
the product of its link scores; its relative score divides by the sum of the absolute scores
of all loops analysed. Scores are computed at every DT of every run of a batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.compile import Program, compile_model
from flywheel_sim.engine.grid import time_grid
from flywheel_sim.engine.params import parameter_matrix
from flywheel_sim.errors import ModelError
from flywheel_sim.loops.find import MAX_LOOPS, Loop, LoopSearch, find_loops
from flywheel_sim.loops.instances import instance_loops
from flywheel_sim.loops.polarity import instance_owner, trajectories
from flywheel_sim.loops.scores import model_link_scores, slot_link_scores
from flywheel_sim.spec.model import Model

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.engine.simulate import Options

F = NDArray[np.float64]
CHUNK = 32  # runs analysed together (every slot at every DT of each run is held)


def loop_dominance(
    model: Model,
    params: object = None,
    *,
    loops: list[Loop] | None = None,
    keep: int | None = None,
    max_loops: int = MAX_LOOPS,
    options: Options | None = None,
) -> xr.Dataset:
    """Loop scores and relative loop scores of ``model`` for every run, at its save times.

    Returns a Dataset with dims (run, time, loop): ``loop_score`` and ``relative_score``
    (normalised over *all* analysed loops); ``dominant`` (run, time) lists the loops that
    together explain at least half of the behaviour. ``params`` is a parameter mapping or
    DataFrame as for ``simulate``. Scores are computed at every DT; to bound memory the result
    keeps the named loops plus the ``keep`` strongest others (default: all loops for one run,
    50 for a batch), chosen by peak |relative score| in the first runs. In an arrayed model
    loops run element by element (:mod:`flywheel_sim.loops.instances`): each instance loop
    (``R2[entrant]``) is scored separately. ``options`` (limits, a cancel check) apply to
    the runs behind the scores.
    """
    program = compile_model(model)
    if loops is None:
        search = find_loops(model, max_loops=max_loops, program=program, options=options)
        loops = analysed_loops(model, search, program=program, max_loops=max_loops, options=options)
    elif is_arrayed(model):
        nodes = {instance_owner(k) for k in program.slot_keys}
        missing = [v for loop in loops for v in loop.variables if v not in nodes]
        if missing:
            raise ModelError(
                f"'{missing[0]}' is not a variable instance of the arrayed model "
                f"'{model.name}': its loops run element by element",
                hint="pass loops from instance_loops(), or leave loops out",
            )
    return _scored(model, program, params, loops, keep, options)


def search_dominance(
    model: Model,
    search: LoopSearch,
    params: object = None,
    *,
    program: Program | None = None,
    options: Options | None = None,
) -> xr.Dataset:
    """Loop dominance of the loops ``search`` found (:func:`loop_dominance` without searching
    again): its loops themselves, or in an arrayed model every instance of them — the rule
    the CLI, the dashboard, the report and the diagnostics all follow. ``options`` (limits,
    a cancel check) apply to the runs behind the scores."""
    program = program or compile_model(model)
    loops = analysed_loops(model, search, program=program, options=options)
    return _scored(model, program, params, loops, None, options)


def is_arrayed(model: Model) -> bool:
    """Whether any variable has dimensions: the model's loops then run element by element."""
    return any(e.dims for e in model.elements)


def analysed_loops(
    model: Model,
    search: LoopSearch,
    *,
    program: Program | None = None,
    max_loops: int = MAX_LOOPS,
    options: Options | None = None,
) -> list[Loop]:
    """The loops whose dominance is scored: those of ``search``, or in an arrayed model each
    instance (:func:`~flywheel_sim.loops.instances.instance_loops`) of the model's loops —
    of all of them: a search bounded by length (or by another count than ``max_loops``) is
    done again without the bound, since the instance graph has every loop."""
    if not is_arrayed(model):
        return list(search.loops)
    program = program or compile_model(model)
    if search.max_length is not None or search.max_loops != max_loops:
        search = find_loops(model, max_loops=max_loops, program=program, options=options)
    loops, _ = instance_loops(program, search, max_loops=max_loops, options=options)
    return loops


def _scored(
    model: Model,
    program: Program,
    params: object,
    loops: list[Loop],
    keep: int | None,
    options: Options | None = None,
) -> xr.Dataset:
    import xarray as xr

    arrayed = is_arrayed(model)
    matrix, n_runs = parameter_matrix(program, params, "error")
    keep = (len(loops) if n_runs == 1 else 50) if keep is None else keep
    every = time_grid(program, stop=None, dt=None, save_step=None).save_every
    chosen: list[int] | None = None
    parts: list[tuple[F, F]] = []
    times = np.zeros(0)
    for first in range(0, n_runs, CHUNK):  # bounded memory: every slot at every DT per chunk
        part = {key: matrix[i, first : first + CHUNK] for i, key in enumerate(program.param_keys)}
        states, all_times = trajectories(program, part, every_dt=True, options=options)
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
