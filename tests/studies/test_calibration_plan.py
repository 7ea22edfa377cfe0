"""plan_fit: the scenario file's calibration defaults merged with the caller's choices (the
command line and the dashboard's quick fit), and SearchSettings as calibrate's search keywords."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import model_from
from flywheel_sim.errors import ModelError, ParameterError
from flywheel_sim.studies.calibration import Calibration, SearchSettings, calibrate
from flywheel_sim.studies.calibration.objective import RealityCheck
from flywheel_sim.studies.calibration.plan import CalibrationSpec, FitChoices, plan_fit

LINE = """
    name: line
    time: {start: 2000, stop: 2010, dt: 0.25, units: year, method: euler}
    parameters:
      a: {default: 1, min: 0, max: 100}
      b: {default: 1, min: 0, max: 100}
    stocks:
      total: {initial: 0, inflows: [inflow]}
    flows:
      inflow: {equation: a + b * (TIME - 2000)}
"""
YEARS = np.arange(2001.0, 2010.0)


def line_data() -> pd.DataFrame:
    t = YEARS - 2000.0
    return pd.DataFrame({"year": YEARS, "total": 3.0 * t + 0.75 * t * t})


def same_fit(one: Calibration, other: Calibration) -> None:
    """Bit for bit: the fitted values, intervals, loss and runs."""
    for column in ("value", "lower", "upper", "sd"):
        assert np.array_equal(one.parameters[column], other.parameters[column]), column
    assert one.loss == other.loss
    assert one.evaluations == other.evaluations
    assert one.settings == other.settings


def test_the_scenario_files_settings_fill_what_the_caller_left_unset() -> None:
    model = model_from(LINE)
    check = RealityCheck("small", "total@2005", below=1e6)
    spec = CalibrationSpec(
        {"a": (0.5, 50.0), "b": (0.1, 20.0)},
        weights={"total": 2.0},
        loss="relative",
        since=2001.0,
        until=2008.0,
        checks=(check,),
        popsize=5,
        maxiter=3,
        seed=4,
    )
    plan = plan_fit(model, spec, FitChoices())
    assert plan.names == ("a", "b")
    assert plan.bounds == {"a": (0.5, 50.0), "b": (0.1, 20.0)}
    assert plan.weights == {"total": 2.0}
    assert (plan.loss, plan.since, plan.until, plan.checks) == (
        "relative",
        2001.0,
        2008.0,
        (check,),
    )
    assert plan.search == SearchSettings(popsize=5, maxiter=3, seed=4)
    assert plan.series is None and plan.data is None and plan.source == "data"


def test_the_callers_choices_win_over_the_scenario_file() -> None:
    model = model_from(LINE)
    spec = CalibrationSpec({"a": (0.5, 50.0), "b": (0.1, 20.0)}, weights={"total": 2.0})
    choices = FitChoices(
        fit=("B",),
        series={"total": "total"},
        since=2002.0,
        until=2006.0,
        loss="huber",
        weights={"TOTAL": 3.0},
        bounds={"B": (1.0, 9.0)},
        popsize=6,
        maxiter=7,
        seed=8,
        uncertainty="bootstrap",
        start=False,
        source="points.csv",
    )
    plan = plan_fit(model, spec, choices)
    assert plan.names == ("b",)
    assert plan.bounds == {"b": (1.0, 9.0)}
    assert plan.weights == {"total": 3.0}
    assert (plan.loss, plan.since, plan.until) == ("huber", 2002.0, 2006.0)
    assert plan.search == SearchSettings(popsize=6, maxiter=7, seed=8, start=False)
    assert (plan.uncertainty, plan.source, plan.series) == (
        "bootstrap",
        "points.csv",
        {"total": "total"},
    )


def test_without_a_scenario_file_the_defaults_are_calibration_spec_s() -> None:
    plan = plan_fit(model_from(LINE), None, FitChoices(fit=("a",)))
    default = CalibrationSpec({})
    assert plan.search == SearchSettings(default.popsize, maxiter=default.maxiter, seed=0)
    assert (plan.loss, plan.weights, plan.bounds, plan.checks) == ("log", None, {}, ())


def test_nothing_to_fit_is_an_error() -> None:
    with pytest.raises(ModelError, match="say which parameters to fit: --fit"):
        plan_fit(model_from(LINE), None, FitChoices())


def test_a_planned_fit_is_the_calibrate_call_it_stands_for() -> None:
    """The dashboard's quick fit went from calibrate(...) to plan_fit(...).run(): same result."""
    model = model_from(LINE)
    data = line_data()
    options = {"data": data, "series": {"total": "total"}, "time": "year"}
    direct = calibrate(model, ["a", "b"], popsize=4, maxiter=3, fixed={}, **options)  # type: ignore[arg-type]
    choices = FitChoices(fit=("a", "b"), popsize=4, maxiter=3, **options)  # type: ignore[arg-type]
    same_fit(plan_fit(model, None, choices).run(), direct)
    spec = CalibrationSpec({"a": (0.5, 50.0), "b": (0.1, 20.0)}, loss="huber", since=2001.0)
    planned = plan_fit(model, spec, FitChoices(**options)).run()  # type: ignore[arg-type]
    bounds = {"a": (0.5, 50.0), "b": (0.1, 20.0)}
    by_hand = calibrate(
        model, ["a", "b"], bounds=bounds, loss="huber", since=2001.0, popsize=10, maxiter=200,
        **options,  # type: ignore[arg-type]
    )  # fmt: skip
    same_fit(planned, by_hand)


def test_search_settings_are_the_search_keywords() -> None:
    model = model_from(LINE)
    options = {"data": line_data(), "series": {"total": "total"}, "time": "year"}
    keywords = calibrate(model, ["a", "b"], popsize=4, maxiter=3, seed=2, start=False, **options)  # type: ignore[arg-type]
    search = SearchSettings(popsize=4, maxiter=3, seed=2, start=False)
    same_fit(calibrate(model, ["a", "b"], search=search, **options), keywords)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"search= or as keywords, not both \(popsize\)"):
        calibrate(model, ["a", "b"], search=search, popsize=5, **options)  # type: ignore[arg-type]
