"""Batches of runs, chunked through an executor and written to the run store as they finish.

A :class:`Plan` is everything a batch needs: the model (with its scenario's policies), fixed
parameter values, the values of the varied parameters for every run, a base seed (each run's
seed is derived from it and the run's global index, so results do not depend on chunking or
on the executor), the variables to save and the save step. :func:`run_plan` splits it
into chunks of about 1,000 runs, sends them to an executor (:mod:`flywheel_sim.studies.executors`)
and writes each finished chunk to the store in its own transaction. Ctrl-C stops cleanly:
finished chunks stay, the batch is marked ``interrupted``, and running the same command with
``--resume`` finishes only the missing chunks (the plan's fingerprint must match).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import FlywheelError, OutputError
from flywheel_sim.limits import DEFAULT as DEFAULT_LIMITS
from flywheel_sim.limits import Limits
from flywheel_sim.spec.model import Model
from flywheel_sim.store.lock import StoreFailure
from flywheel_sim.studies.executors import CHUNK

if TYPE_CHECKING:
    from flywheel_sim.engine.simulate import Options
    from flywheel_sim.store.runstore import RunStore
    from flywheel_sim.studies.executors import Executor

F = NDArray[np.float64]


@dataclass(frozen=True)
class Plan:
    """A batch of runs of one model."""

    kind: str  # run, compare, sweep, sensitivity
    model: Model
    names: tuple[str, ...]  # varied parameters
    values: F  # (runs, len(names))
    variables: tuple[str, ...]
    seed: int = 0
    save_step: float | None = None
    fixed: Mapping[str, float] = field(default_factory=dict)
    scenario: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    limits: Limits = DEFAULT_LIMITS  # each chunk's size limits (not part of the fingerprint)

    @property
    def n_runs(self) -> int:
        return int(self.values.shape[0])

    @property
    def seeds(self) -> NDArray[np.int64]:
        return seeds_for(self.seed, self.n_runs)

    def fingerprint(self) -> str:
        """Identifies the batch for ``--resume``: model text, policies, settings."""
        digest = hashlib.sha256()
        digest.update((self.model.text or repr(self.model)).encode())
        digest.update(repr(sorted(self.model.policies.items())).encode())
        digest.update(json.dumps(dict(self.settings), sort_keys=True, default=str).encode())
        digest.update(json.dumps(sorted(self.fixed.items())).encode())
        digest.update(f"{self.seed}:{self.n_runs}:{self.save_step}:{self.variables}".encode())
        digest.update(np.ascontiguousarray(self.values).tobytes())
        return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ChunkOutput:
    """What one chunk computed: per run its ``status`` and, for a failed run, the variable
    that went non-finite first and when (``failed_variable``: "" and ``failed_time``: NaN for
    a run that finished); ``series`` maps each variable to (runs, times) at ``times``."""

    status: list[str]
    series: dict[str, F]
    times: F
    failed_variable: list[str]
    failed_time: F


def run_chunk(
    model: Model,
    names: Sequence[str],
    values: F,
    fixed: Mapping[str, float],
    seeds: NDArray[np.int64],
    variables: Sequence[str],
    save_step: float | None,
    limits: Limits = DEFAULT_LIMITS,
    *,
    options: Options | None = None,
) -> ChunkOutput:
    """Run one chunk of runs; ``options`` (limits, a cancel check) for the run, else
    ``Options(limits=limits)``.

    Exactly what ``simulate(model, params, seed=seeds, variables=..., save_step=...)`` computes
    (the same checks and the same VM call), minus building an ``xarray.Dataset`` that would be
    taken apart again at once: a chunk needs only the saved arrays, and building a Dataset
    costs about as much as writing the chunk to the store.
    """
    from flywheel_sim.compile import compile_model
    from flywheel_sim.engine.grid import time_grid
    from flywheel_sim.engine.integrators import tableau
    from flywheel_sim.engine.params import parameter_matrix, run_seeds
    from flywheel_sim.engine.simulate import Options, execute, select_slots

    params: dict[str, Any] = dict(fixed)
    for j, name in enumerate(names):
        params[name] = values[:, j]
    if not names:
        params = {k: np.full(len(seeds), v) for k, v in fixed.items()}
    options = options or Options(limits=limits)
    program = compile_model(model, options.limits)
    matrix, n = parameter_matrix(program, params, "error")
    per_run = run_seeds(seeds, n)
    if per_run.size != n:
        matrix = np.repeat(matrix, per_run.size, axis=1)
    grid = time_grid(program, stop=None, dt=None, save_step=save_step, limits=options.limits)
    chosen = select_slots(program, list(variables))
    if len(chosen) != len(variables):  # a parameter asked for: only the Dataset has it
        return _simulate_chunk_dataset(model, params, seeds, variables, save_step, options)
    slots = [program.variables[i].slots for i in chosen]
    save_slots = np.array([s for group in slots for s in group], np.int64)
    table = tableau(program.time.method)
    out, fail_slot, fail_time = execute(program, table, matrix, per_run, grid, save_slots, options)
    series: dict[str, F] = {}
    cursor = 0
    for variable, index, group in zip(variables, chosen, slots, strict=True):
        block = out[cursor : cursor + len(group)]  # (elements, times, runs)
        cursor += len(group)
        var = program.variables[index]
        if not var.dims:
            series[variable] = block[0].T
        else:  # (runs, times, *dims), as the Dataset would hold it
            shape = tuple(len(c) for c in var.coords)
            series[variable] = np.moveaxis(
                block.reshape(*shape, *block.shape[1:]), (-1, -2), (0, 1)
            )
    status = ["failed" if s >= 0 else "ok" for s in fail_slot]
    failed_variable = [program.label(int(s)) if s >= 0 else "" for s in fail_slot]
    failed_time = np.where(np.asarray(fail_slot) >= 0, np.asarray(fail_time, dtype=float), np.nan)
    return ChunkOutput(status, series, grid.times, failed_variable, failed_time)


def _simulate_chunk_dataset(
    model: Model,
    params: Mapping[str, Any],
    seeds: NDArray[np.int64],
    variables: Sequence[str],
    save_step: float | None,
    options: Options | None = None,
) -> ChunkOutput:
    from flywheel_sim.engine.simulate import Options, simulate

    result = simulate(
        model,
        params,
        variables=list(variables),
        save_step=save_step,
        seed=seeds,
        options=options or Options(),
    )
    series = {v: np.asarray(result[v].values, dtype=float) for v in variables}
    status = [str(s) for s in result["status"].values]
    failed = np.array([s != "ok" for s in status], dtype=bool)
    return ChunkOutput(
        status,
        series,
        np.asarray(result["time"].values, dtype=float),
        [str(v) for v in result["failed_variable"].values],
        np.where(failed, np.asarray(result["failed_time"].values, dtype=float), np.nan),
    )


def _task(
    index: int,
    first: int,
    values: F,
    seeds: NDArray[np.int64],
    *,
    model: Model,
    names: Sequence[str],
    fixed: Mapping[str, float],
    variables: Sequence[str],
    save_step: float | None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[int, int, NDArray[np.int64], F, ChunkOutput]:
    out = run_chunk(model, names, values, fixed, seeds, variables, save_step, limits)
    return index, first, seeds, values, out


def run_plan(
    plan: Plan,
    store: RunStore,
    *,
    executor: Executor | None = None,
    chunk: int = CHUNK,
    resume: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Run ``plan`` chunk by chunk and store it; returns the batch id. With ``resume`` (a
    batch id) only the chunks missing from that batch are run."""
    from flywheel_sim.compile import compile_model
    from flywheel_sim.engine.grid import time_grid
    from flywheel_sim.store.runstore import Chunk, NewBatch
    from flywheel_sim.studies.executors import make_executor

    grid = time_grid(
        compile_model(plan.model), stop=None, dt=None, save_step=plan.save_step, limits=plan.limits
    )
    settings = {**plan.settings, "fingerprint": plan.fingerprint(), "chunk": chunk}
    parameters = tuple(plan.fixed) + plan.names
    if resume is None:
        batch = store.begin(
            NewBatch(
                kind=plan.kind,
                model=plan.model,
                scenario=plan.scenario,
                seed=plan.seed,
                n_runs=plan.n_runs,
                settings=settings,
                times=grid.times,
                variables=plan.variables,
                parameters=parameters,
                note=plan.note,
            )
        )
        done: set[int] = set()
    else:
        batch = resume
        stored = store.batch(resume)
        if stored.settings.get("fingerprint") != settings["fingerprint"]:
            raise FlywheelError(
                f"batch {resume} is a different {stored.kind} (model, scenario or settings "
                "differ) — run the same command as before to resume it"
            )
        chunk = int(stored.settings.get("chunk", chunk))
        done = store.done_chunks(resume)
    starts = list(range(0, plan.n_runs, chunk))
    todo = [(i, s) for i, s in enumerate(starts) if i not in done]
    finished = sum(min(chunk, plan.n_runs - starts[i]) for i in done if i < len(starts))
    if progress is not None:
        progress(finished, plan.n_runs)
    fixed_values = np.array([plan.fixed[k] for k in plan.fixed], dtype=float)
    owned = executor is None
    runner = make_executor("local") if executor is None else executor
    all_seeds = plan.seeds
    tasks = [(i, s, plan.values[s : s + chunk], all_seeds[s : s + chunk]) for i, s in todo]
    shared = {
        "model": plan.model,
        "names": plan.names,
        "fixed": dict(plan.fixed),
        "variables": plan.variables,
        "save_step": plan.save_step,
        "limits": plan.limits,
    }
    status = "done"
    try:
        for _, (index, first, seeds, values, out) in runner.map_unordered(
            _task, tasks, shared=shared
        ):
            params = np.hstack([np.tile(fixed_values, (len(seeds), 1)), values])
            runs = Chunk(
                first, params, seeds, out.status, out.series, out.times, plan.scenario,
                out.failed_variable, out.failed_time,
            )  # fmt: skip
            try:
                store.write_chunk(batch, index, runs)
            except StoreFailure as exc:
                raise kept(exc, plan, batch, finished) from None
            finished += len(seeds)
            if progress is not None:
                progress(finished, plan.n_runs)
    except BaseException:
        status = "interrupted"
        raise
    finally:
        if owned:
            runner.close()
        try:
            store.finish(batch, status)
        except OutputError as exc:
            if status == "done" and isinstance(exc, StoreFailure):
                raise kept(exc, plan, batch, finished) from None  # every run is stored
            if status == "done":
                raise
            # else the error on its way out already says what was kept
    return batch


def kept(failure: StoreFailure, plan: Plan, batch: int, finished: int) -> OutputError:
    """The one line for a sweep whose store failed (a full disk): what failed, that the
    runs written before are kept, and how to finish the batch."""
    return OutputError(
        f"{failure.what}; the {finished} of {plan.n_runs} runs finished before are kept in "
        f"batch {batch} — {failure.hint}, then run the same command with --resume {batch} "
        "to finish it"
    )


def seeds_for(seed: int, n: int) -> NDArray[np.int64]:
    """One seed per run, derived from the base seed and the run's index in the batch exactly
    as ``simulate(..., seed=seed)`` derives them, so a chunked batch equals one call."""
    from flywheel_sim.engine.params import run_seeds

    return run_seeds(int(seed), n)
