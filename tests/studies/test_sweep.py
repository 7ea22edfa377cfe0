"""Sweeps and sensitivity analyses as plans of runs: sampled around a scenario of the study,
the varied parameters taken out of the scenario's fixed values, the settings recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import flywheel_sim as fs
from flywheel_sim.errors import ModelError
from flywheel_sim.store.runstore import RunStore
from flywheel_sim.studies.compare import chosen_scenarios, compare_scenarios
from flywheel_sim.studies.sampling import SamplingSettings, sample
from flywheel_sim.studies.scenarios import loads_study
from flywheel_sim.studies.sweep import (
    SensitivityOptions,
    SweepOptions,
    sensitivity_plan,
    sweep_plan,
)

STUDY = """
outcomes: [population@end]
scenarios:
  fast: {set: {growth_rate: 0.9, capacity: 800}}
uncertainty:
  growth_rate: {dist: uniform, low: 0.2, high: 0.6}
"""


def test_a_sweep_varies_its_parameters_around_the_scenario() -> None:
    model = fs.load_model("logistic")
    study = loads_study(STUDY, model)
    outcomes = study.chosen_outcomes(None, model)
    spread = study.distributions_for(None, model)
    options = SweepOptions(SamplingSettings(16, "lhs", 5), scenario="fast", note="n")
    plan = sweep_plan(model, study, outcomes, spread, options)
    assert plan.names == ("growth_rate",) and plan.fixed == {"capacity": 800.0}
    drawn = sample(spread, 16, method="lhs", seed=5)["growth_rate"]
    assert np.array_equal(plan.values[:, 0], drawn)
    assert (plan.kind, plan.seed, plan.scenario, plan.note) == ("sweep", 5, "fast", "n")
    assert plan.variables == ("population",)
    assert plan.settings["method"] == "lhs" and plan.settings["samples"] == 16


def test_a_dist_option_adds_or_replaces_a_distribution() -> None:
    model = fs.load_model("logistic")
    study = loads_study(STUDY, model)
    spread = study.distributions_for(["capacity=uniform:500,900"], model)
    assert list(spread) == ["growth_rate", "capacity"]
    with pytest.raises(ModelError, match="--dist 'capacity' must look like name=uniform"):
        study.distributions_for(["capacity"], model)
    with pytest.raises(ModelError, match="no parameter distributions for 'logistic'"):
        loads_study("outcomes: [population@end]\n", model).distributions_for(None, model)


def test_a_sensitivity_plan_runs_its_design() -> None:
    model = fs.load_model("logistic")
    study = loads_study(STUDY, model)
    outcome = study.chosen_outcomes(None, model)[0]
    spread = study.distributions_for(["capacity=uniform:500,900"], model)
    options = SensitivityOptions("morris", samples=4, seed=1)
    plan, layout = sensitivity_plan(model, study, outcome, spread, options)
    assert layout.method == "morris" and plan.n_runs == layout.runs == 4 * 3
    assert plan.fixed == {} and plan.settings["outcome"] == "population@end"


def test_compared_scenarios_are_run_and_stored(tmp_path: Path) -> None:
    model = fs.load_model("logistic")
    study = loads_study(STUDY, model)
    chosen = chosen_scenarios(study, ["baseline", "fast"], model)
    store = RunStore(tmp_path / "runs.duckdb")
    done = compare_scenarios(model, chosen, study.chosen_outcomes(None, model), store)
    assert done.names == ["baseline", "fast"]
    fast = fs.simulate(model, {"growth_rate": 0.9, "capacity": 800.0})
    assert done.values["fast"] == [float(fast["population"].values[0, -1])]
    assert store.batch(done.batch).kind == "compare"
    assert store.batch(done.batch).runs_written == 2
    with pytest.raises(ModelError, match="no scenarios to compare for 'logistic'"):
        chosen_scenarios(loads_study("outcomes: [population@end]\n", model), None, model)
