"""A calibration as the command line and the dashboard ask for it: the scenario file's
``calibration:`` section (:class:`CalibrationSpec`) merged with the caller's choices
(:class:`FitChoices`) in one place, :func:`plan_fit`; the fit (:meth:`FitPlan.run`) and its
record in the run store (:func:`store_fit`).

A choice left unset (None, or empty) takes the scenario file's value, and without a scenario
file (or without that setting in it) the default of :class:`CalibrationSpec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.model import Model
from flywheel_sim.studies.calibration.fit import Calibration, SearchSettings, calibrate
from flywheel_sim.studies.calibration.intervals import Uncertainty
from flywheel_sim.studies.calibration.objective import Loss, RealityCheck

if TYPE_CHECKING:
    import pandas as pd

    from flywheel_sim.engine.simulate import Options
    from flywheel_sim.store.runstore import RunStore


@dataclass(frozen=True)
class CalibrationSpec:
    """How the model is fitted to its history by default (a scenario file's ``calibration:``):
    the parameters with their search ranges, the series' weights, the loss, the fitted period,
    the reality checks and the search's population, generations and seed."""

    fit: dict[str, tuple[float, float]]
    weights: dict[str, float] = field(default_factory=dict)
    loss: Loss = "log"
    since: float | None = None
    until: float | None = None
    checks: tuple[RealityCheck, ...] = ()
    popsize: int = 10
    maxiter: int = 200
    seed: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class FitChoices:
    """What the caller chose: the parameters to ``fit`` (names; none: the scenario file's),
    observed ``data`` and its ``series`` (variable -> column; none: the model's history),
    its ``time`` column, the fitted period, the ``loss``, ``weights`` and search ranges
    (``bounds``) that override the file's, values held ``fixed``, the search's ``popsize``,
    ``maxiter`` and ``seed``, the ``uncertainty`` method, whether the search ``start``\\ s from
    the current values, and the ``source`` named in errors about the data."""

    fit: tuple[str, ...] = ()
    data: pd.DataFrame | None = None
    series: Mapping[str, str] = field(default_factory=dict)
    time: str | None = None
    since: float | None = None
    until: float | None = None
    loss: Loss | None = None
    weights: Mapping[str, float] = field(default_factory=dict)
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    fixed: Mapping[str, float] = field(default_factory=dict)
    popsize: int | None = None
    maxiter: int | None = None
    seed: int | None = None
    uncertainty: Uncertainty = "wald"
    start: bool = True
    source: str = "data"


@dataclass(frozen=True, slots=True, eq=False)
class FitPlan:
    """Everything one :func:`calibrate` call needs, merged; :meth:`run` fits."""

    model: Model
    names: tuple[str, ...]
    data: pd.DataFrame | None
    series: Mapping[str, str] | None
    time: str | None
    since: float | None
    until: float | None
    loss: Loss
    weights: Mapping[str, float] | None
    bounds: Mapping[str, tuple[float, float]]
    fixed: Mapping[str, float]
    checks: tuple[RealityCheck, ...]
    search: SearchSettings
    uncertainty: Uncertainty
    source: str

    def run(self, options: Options | None = None) -> Calibration:
        """Fit; ``options`` (limits, a cancel check) apply to every run."""
        return calibrate(
            self.model,
            list(self.names),
            data=self.data,
            series=self.series,
            time=self.time,
            since=self.since,
            until=self.until,
            loss=self.loss,
            weights=self.weights,
            bounds=self.bounds,
            fixed=self.fixed,
            uncertainty=self.uncertainty,
            source=self.source,
            checks=self.checks,
            search=self.search,
            options=options,
        )


def plan_fit(model: Model, spec: CalibrationSpec | None, choices: FitChoices) -> FitPlan:
    """The fit the caller asked for, each setting the caller's choice, else the scenario
    file's (``spec``), else the default."""
    spec = spec or CalibrationSpec({})
    names = tuple(model.element(n).key for n in choices.fit) or tuple(spec.fit)
    if not names:
        raise ModelError(
            "say which parameters to fit: --fit name1,name2,...",
            hint="or declare them in the model's scenario file (calibration: fit:)",
        )
    ranges = {name: spec.fit[name] for name in names if name in spec.fit}
    ranges.update({model.element(k).key: v for k, v in choices.bounds.items()})
    weights = dict(spec.weights)
    weights.update({model.element(k).key: v for k, v in choices.weights.items()})
    return FitPlan(
        model=model,
        names=names,
        data=choices.data,
        series=dict(choices.series) or None,
        time=choices.time,
        since=spec.since if choices.since is None else choices.since,
        until=spec.until if choices.until is None else choices.until,
        loss=choices.loss or spec.loss,
        weights=weights or None,
        bounds=ranges,
        fixed=dict(choices.fixed),
        checks=spec.checks,
        search=SearchSettings(
            popsize=spec.popsize if choices.popsize is None else choices.popsize,
            maxiter=spec.maxiter if choices.maxiter is None else choices.maxiter,
            seed=spec.seed if choices.seed is None else choices.seed,
            start=choices.start,
        ),
        uncertainty=choices.uncertainty,
        source=choices.source,
    )


def store_fit(store: RunStore, fit: Calibration) -> int:
    """Keep the calibrated model's run in the run store, with the fit's settings, values and
    metrics; returns the batch id."""
    from flywheel_sim.engine.simulate import simulate

    settings = {
        **fit.settings,
        "fitted": fit.values,
        "metrics": fit.metrics,
        "forecast": fit.forecast,
    }
    return store.save_result(fit.model, simulate(fit.model), kind="calibration", settings=settings)
