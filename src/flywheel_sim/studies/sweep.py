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
from flywheel_sim.spec.model import Model
from flywheel_sim.studies.batch import Plan
from flywheel_sim.studies.executors import ExecutorSettings
from flywheel_sim.studies.sampling import Distribution, SamplingSettings
from flywheel_sim.studies.sensitivity import Design, SensitivityMethod, sensitivity_method

if TYPE_CHECKING:
    from flywheel_sim.store.runstore import RunStore
    from flywheel_sim.studies.outcomes import Outcome
    from flywheel_sim.studies.scenarios import Study

F = NDArray[np.float64]


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
