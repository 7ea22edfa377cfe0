"""The studies' settings: string options are typed names checked by one function each
(losses, uncertainty methods, sampling and sensitivity methods, executors), and the small
frozen settings objects check their numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from flywheel_sim.errors import FlywheelError, ModelError, ParameterError
from flywheel_sim.studies.calibration.intervals import UNCERTAINTIES, uncertainty_named
from flywheel_sim.studies.calibration.objective import LOSSES, loss_named
from flywheel_sim.studies.executors import NAMES, ExecutorSettings, executor_named
from flywheel_sim.studies.sampling import (
    METHODS,
    SamplingSettings,
    method_named,
    parse_distribution,
    sample,
)
from flywheel_sim.studies.sensitivity import SENSITIVITY_METHODS, sensitivity_method
from flywheel_sim.studies.sweep import SensitivityOptions, SweepOptions


def test_every_name_is_accepted_as_itself() -> None:
    assert LOSSES == ("log", "relative", "huber")
    assert UNCERTAINTIES == ("wald", "bootstrap")
    assert METHODS == ("montecarlo", "lhs", "sobol")
    assert SENSITIVITY_METHODS == ("sobol", "morris")
    assert NAMES == ("local", "processes", "dask")
    for names, check in (
        (LOSSES, loss_named),
        (UNCERTAINTIES, uncertainty_named),
        (METHODS, method_named),
        (SENSITIVITY_METHODS, sensitivity_method),
        (NAMES, executor_named),
    ):
        assert [check(n) for n in names] == list(names)


def test_unknown_names_are_one_line_errors_that_list_the_choices() -> None:
    with pytest.raises(ParameterError, match=r"^unknown loss 'l1' — use log, relative, huber$"):
        loss_named("l1")
    with pytest.raises(ModelError, match=r"^s\.yaml:3: unknown loss 'l2' — log \| relative"):
        loss_named("l2", where="s.yaml:3")
    with pytest.raises(ParameterError, match="unknown uncertainty 'jackknife' — use wald or"):
        uncertainty_named("jackknife")
    with pytest.raises(ModelError, match=r"^unknown sampling method 'grid' — use montecarlo"):
        method_named("grid")
    with pytest.raises(ModelError, match=r"^unknown --method 'grid' — use montecarlo, lhs, sobol"):
        method_named("grid", what="--method")
    with pytest.raises(ModelError, match="unknown sensitivity method 'fast' — use sobol or"):
        sensitivity_method("fast")
    with pytest.raises(FlywheelError, match="unknown executor 'ray' — use one of: local, proc"):
        executor_named("ray")


def test_settings_are_frozen_and_check_their_numbers() -> None:
    with pytest.raises(ModelError, match="--samples must be at least 1, not 0"):
        SamplingSettings(samples=0)
    with pytest.raises(ModelError, match="unknown sampling method 'grid'"):
        SamplingSettings(method="grid")  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="--chunk must be at least 1, not 0"):
        ExecutorSettings(chunk=0)
    with pytest.raises(FlywheelError, match="unknown executor 'ray'"):
        ExecutorSettings(name="ray")  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="unknown sensitivity method 'fast'"):
        SensitivityOptions(method="fast")  # type: ignore[arg-type]
    for settings in (SamplingSettings(), ExecutorSettings(), SweepOptions(), SensitivityOptions()):
        first = dataclasses.fields(settings)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(settings, first, None)


def test_a_sampling_design_draws_what_sample_draws() -> None:
    spread = {"x": parse_distribution("uniform:0,1"), "y": parse_distribution("normal:1,0.2")}
    settings = SamplingSettings(samples=64, method="sobol", seed=3)
    drawn = settings.draw(spread)
    expected = sample(spread, 64, method="sobol", seed=3)
    assert list(drawn) == ["x", "y"]
    for name in spread:
        assert np.array_equal(drawn[name], expected[name])


def test_executor_settings_make_the_named_executor() -> None:
    with ExecutorSettings().make() as local:
        assert local.name == "local"
    with pytest.raises(FlywheelError, match="the local executor runs tasks one at a time"):
        ExecutorSettings(workers=2).make()
