"""Monte Carlo sweeps and sensitivity analyses as batches: the plan of runs a study asks for,
run chunk by chunk through an executor into the run store (``flywheel sweep`` and
``flywheel sensitivity``).

:func:`sweep_plan` samples the uncertain parameters (:class:`SweepOptions`),
:func:`sensitivity_plan` lays out a Sobol' or Morris design (:class:`SensitivityOptions`);
both vary the parameters around a scenario of the study. :func:`run_batch` runs a plan on
the executor its :class:`~flywheel_sim.studies.executors.ExecutorSettings` name, and
:func:`interrupted_note` says how to resume one stopped by Ctrl-C.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.engine.params import check_seed
from flywheel_sim.errors import ModelError
from flywheel_sim.spec.model import Model
from flywheel_sim.studies.batch import Plan
from flywheel_sim.studies.executors import ExecutorSettings
from flywheel_sim.studies.sampling import Distribution, SamplingSettings, check_runs
from flywheel_sim.studies.sensitivity import Design, SensitivityMethod, sensitivity_method

if TYPE_CHECKING:
    from flywheel_sim.store.runstore import Failures, RunStore
    from flywheel_sim.studies.outcomes import Outcome
    from flywheel_sim.studies.scenarios import Study

F = NDArray[np.float64]

MAX_FAILED = 0.1  # default --max-failed: the share of failed runs a sweep accepts
FAILED_EXIT = 3  # the exit code of a sweep or analysis with more failed runs than that
CONCENTRATED = 0.5  # a parameter's failures "concentrate" in at most this share of its range


@dataclass(frozen=True, slots=True)
class SweepOptions:
    """A Monte Carlo sweep: its ``sampling`` design, the ``scenario`` it varies around (none:
    the model as it is), the ``save_step`` and a ``note`` stored with the batch."""

    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    scenario: str | None = None
    save_step: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class SensitivityOptions:
    """A global sensitivity analysis: ``method`` (sobol or morris), base ``samples``, the
    ``seed`` of the design and of the bootstrap, and the ``scenario`` it varies around."""

    method: SensitivityMethod = "sobol"
    samples: int = 512
    seed: int = 0
    scenario: str | None = None

    def __post_init__(self) -> None:
        sensitivity_method(self.method)
        check_seed(self.seed, "--seed")


def sweep_plan(
    model: Model,
    study: Study,
    outcomes: Sequence[Outcome],
    distributions: Mapping[str, Distribution],
    options: SweepOptions,
) -> Plan:
    """The runs of a sweep: ``options.sampling`` drawn from ``distributions``, saving the
    outcomes' variables."""
    applied, fixed = study.around(model, options.scenario, distributions)
    names = tuple(distributions)
    sampling = options.sampling
    drawn = sampling.draw(distributions)
    return Plan(
        kind="sweep",
        model=applied,
        names=names,
        values=np.column_stack([drawn[n] for n in names]),
        variables=tuple(dict.fromkeys(o.variable for o in outcomes)),
        seed=sampling.seed,
        save_step=options.save_step,
        fixed=fixed,
        scenario=options.scenario or "",
        settings={
            "samples": sampling.samples,
            "method": sampling.method,
            "seed": sampling.seed,
            "distributions": {n: distributions[n].describe() for n in names},
            "outcomes": [o.label for o in outcomes],
        },
        note=options.note,
    )


def sensitivity_plan(
    model: Model,
    study: Study,
    outcome: Outcome,
    distributions: Mapping[str, Distribution],
    options: SensitivityOptions,
) -> tuple[Plan, Design]:
    """The runs of a sensitivity analysis of ``outcome``, and the design to analyse them by."""
    from flywheel_sim.studies.sensitivity import design, values

    d = len(distributions)
    check_runs(
        options.samples * (d + 2 if options.method == "sobol" else d + 1),
        "--samples",
        options.samples,
    )
    applied, fixed = study.around(model, options.scenario, distributions)
    layout = design(distributions, method=options.method, n=options.samples, seed=options.seed)
    mapped = values(layout, distributions)
    names = tuple(distributions)
    plan = Plan(
        kind="sensitivity",
        model=applied,
        names=names,
        values=np.column_stack([mapped[n] for n in names]),
        variables=(outcome.variable,),
        seed=options.seed,
        fixed=fixed,
        scenario=options.scenario or "",
        settings={
            "method": options.method,
            "samples": options.samples,
            "seed": options.seed,
            "outcome": outcome.label,
            "distributions": {n: distributions[n].describe() for n in names},
        },
    )
    return plan, layout


def run_batch(
    plan: Plan,
    store: RunStore,
    executor: ExecutorSettings,
    *,
    resume: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Run ``plan`` on the executor ``executor`` names, storing every chunk as it finishes
    (``resume``: finish that interrupted batch); returns the batch id."""
    from flywheel_sim.studies.batch import run_plan

    runner = executor.make()
    try:
        return run_plan(
            plan, store, executor=runner, chunk=executor.chunk, resume=resume, progress=progress
        )
    finally:
        runner.close()


def interrupted_note(store: RunStore, resume: int | None, total: int, what: str) -> str:
    """What an interrupted batch kept, and how to finish it."""
    last = store.batches(limit=1)
    batch_id = int(last["id"].iloc[0]) if resume is None else resume
    written = store.batch(batch_id).runs_written
    return (
        f"interrupted: {written} of {total} runs of the {what} are stored in batch "
        f"{batch_id}; run the same command with --resume {batch_id} to finish"
    )


def sweep_results(
    store: RunStore, batch: int, outcomes: Sequence[Outcome], percents: Sequence[float]
) -> tuple[F, dict[str, F], dict[str, F]]:
    """A stored sweep's saved times, its outcomes (label -> one value per run) and the
    percentiles ``percents`` of each outcome variable over the runs (variable ->
    (percents, times)); computed in the database, so memory does not grow with runs x times."""
    variables = list(dict.fromkeys(o.variable for o in outcomes))
    times = np.asarray(store.batch(batch).times, dtype=float)
    return times, store.outcomes(batch, outcomes), store.percentiles(batch, variables, percents)


def max_failed_share(text: str) -> float:
    """``--max-failed`` as a share of the runs: a fraction (``0.1``) or a percentage
    (``10%``), from 0 to 1."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 1:  # NaN too
        raise ModelError(
            f"--max-failed '{text}' must be a share of the runs from 0 to 1 (0.1) "
            "or a percentage from 0% to 100% (10%)"
        )
    return value


def failure_lines(failures: Failures) -> list[str]:
    """A batch's failed runs in a few lines: how many, which variables went non-finite
    first (most often first, with the earliest time), when, and the parameters whose
    failures concentrate in part of their sampled range."""
    if not failures.failed:
        return []
    named = [
        f"{v} ({n} runs, from t={t:g})" if v else f"not recorded ({n} runs)"
        for v, n, t in failures.variables
    ]
    lines = [
        f"{failures.failed} of {failures.runs} runs failed ({failures.share:.1%}); "
        f"first non-finite value in {', '.join(named)}"
        + (
            f"; earliest at t={failures.first_time:g}, median t={failures.median_time:g}"
            if np.isfinite(failures.first_time)
            else ""
        )
    ]
    narrow = []
    for name, ((low, high), (f_low, f_high)) in failures.regions.items():
        if high > low and (f_high - f_low) / (high - low) <= CONCENTRATED:
            narrow.append(((f_high - f_low) / (high - low), name, low, high, f_low, f_high))
    for _, name, low, high, f_low, f_high in sorted(narrow)[:3]:
        lines.append(
            f"  failures concentrate where {name} is {f_low:.4g}..{f_high:.4g} "
            f"(80% of the failed runs; sampled {low:.4g}..{high:.4g})"
        )
    if not narrow and failures.regions:
        lines.append("  failures are spread over the sampled range of every parameter")
    return lines


def too_many_failed(failures: Failures, max_failed: float, batch: int) -> str | None:
    """The one-line error when more than ``max_failed`` of the batch's runs failed (else
    None): the share, where the runs are, and what to do."""
    if failures.share <= max_failed:
        return None
    return (
        f"{failures.failed} of {failures.runs} runs failed ({failures.share:.1%}, more than "
        f"--max-failed {max_failed * 100:g}%); their outcomes would be misleading, so none are "
        f"summarised — the runs are kept in batch {batch} (flywheel runs export {batch} FILE); "
        "narrow the distributions, fix the model, or raise --max-failed"
    )
