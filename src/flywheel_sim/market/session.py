"""The ``flywheel market`` workflow: the scenarios of a scenario file with a call's values and
policies on top, run once or as an ensemble of seeds on an executor.

:func:`market_scenarios` picks and merges the scenarios (checking every value before a run
starts); a :class:`MarketPlan` says what runs where; :func:`run_plan` runs it. Showing and
storing the results is ``present/market.py``'s and the command's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from flywheel_sim.errors import ParameterError
from flywheel_sim.market.params import MarketParams, load_market_study
from flywheel_sim.market.run import MarketSettings, Progress, run_ensemble, run_market
from flywheel_sim.spec.policy import Policy

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.studies.scenarios import Scenario


def market_scenarios(
    names: Sequence[str],
    values: Mapping[str, float],
    policies: Mapping[str, Policy],
    file: Path | None = None,
) -> tuple[Scenario, ...]:
    """The named scenarios of the scenario file (the package's ``scenarios/market.yaml``
    unless ``file``), each with ``values`` and ``policies`` on top of its own; every one is
    checked against the declaration here, before any run."""
    study = load_market_study(file)
    chosen = tuple(_with(study.scenario(name), values, policies) for name in names)
    for item in chosen:
        MarketParams.make(dict(item.values))
    return chosen


def _with(item: Scenario, values: Mapping[str, float], policies: Mapping[str, Policy]) -> Scenario:
    if not values and not policies:
        return item
    merged = {**dict(item.values), **values}
    moved = {**dict(item.policies), **policies}
    return replace(item, values=tuple(merged.items()), policies=tuple(moved.items()))


@dataclass(frozen=True, slots=True)
class MarketPlan:
    """Every scenario with ``runs`` seeds from ``seed`` on, of the given size, run locally or
    on an executor (``local``, ``processes``, ``dask``; ``workers`` processes)."""

    scenarios: tuple[Scenario, ...]
    settings: MarketSettings
    seed: int = 0
    runs: int = 1
    executor: str = "local"
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.runs < 1:
            raise ParameterError(f"--runs must be at least 1, not {self.runs}")

    @property
    def seeds(self) -> list[int]:
        return list(range(self.seed, self.seed + self.runs))

    @property
    def label(self) -> str:
        """What a progress bar says."""
        return f"market: {len(self.scenarios)} scenario(s) x {self.runs} run(s)"


def run_plan(plan: MarketPlan, progress: Progress | None = None) -> dict[str, xr.Dataset]:
    """A Result per scenario whose runs are the seeds. One local run reports its months to
    ``progress``; an ensemble reports its finished runs."""
    if plan.executor == "local" and len(plan.scenarios) * plan.runs == 1:
        item = plan.scenarios[0]
        result = run_market(
            dict(item.values),
            plan.settings,
            seed=plan.seed,
            policies=dict(item.policies),
            progress=progress,
        )
        result.attrs["scenario"] = item.name
        return {item.name: result}
    from flywheel_sim.studies.executors import make_executor

    with make_executor(plan.executor, workers=plan.workers) as runner:
        return run_ensemble(
            plan.scenarios, plan.seeds, plan.settings, executor=runner, progress=progress
        )
