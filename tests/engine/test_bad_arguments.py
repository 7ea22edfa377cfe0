"""Random functions and seeds given huge or invalid values (issue 18 items 6 and 7): the right
value as a float, a failed run, or a one-line error — never an overflowed integer reported as
ok, never a traceback."""

from __future__ import annotations

import numpy as np
import pytest

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.engine.params import MAX_SEED, run_seeds

DRAWS = """\
name: draws
time: {start: 0, stop: 5, dt: 1}
auxiliaries:
  draw: {equation: "POISSON(mean)"}
  wait: {equation: "EXPRND(mean)"}
parameters:
  mean: {default: 1}
"""


@pytest.mark.parametrize("mean", [1e300, 1.7e308, 1e19, 9.3e18, 1e12])
def test_poisson_of_a_huge_mean_is_a_huge_count(mean: float, options: fs.Options) -> None:
    """POISSON(1e300) gave -9.2e18 with status ok on the numba VM (int64 overflow)."""
    result = fs.simulate(model_from(DRAWS), {"mean": mean}, options=options)
    draws = result["draw"].values[0]
    assert str(result["status"].values[0]) == "ok"
    assert np.all(np.isfinite(draws)) and np.all(draws == np.floor(draws))
    assert np.all(np.abs(draws - mean) <= 10 * np.sqrt(mean) + np.spacing(mean)), draws


def test_both_vms_draw_the_same_huge_counts() -> None:
    """Bit for bit where the rejection step is exact; above about 1e12 its log-likelihood
    test rounds (NumPy's gammaln and libm's lgamma may differ in the last bit), so the two
    VMs may accept different, equally plausible counts."""
    pytest.importorskip("numba")
    runs = {"mean": np.array([1e300, 1.7e308, 1e9, 45.0])}
    a = fs.simulate(model_from(DRAWS), runs, seed=3, options=fs.Options(backend="numpy"))
    b = fs.simulate(model_from(DRAWS), runs, seed=3, options=fs.Options(backend="numba"))
    assert np.array_equal(a["draw"].values, b["draw"].values, equal_nan=True)


@pytest.mark.parametrize("mean", [-1.0, -1e-300, -1e300])
def test_a_negative_mean_fails_the_run_where_it_is_drawn(mean: float, options: fs.Options) -> None:
    """A negative mean has no Poisson or exponential draw: the run fails (status, variable,
    time) rather than drawing 0 or a negative waiting time."""
    result = fs.simulate(model_from(DRAWS), {"mean": mean}, options=options)
    assert str(result["status"].values[0]) == "failed"
    assert str(result["failed_variable"].values[0]) in ("draw", "wait")
    assert float(result["failed_time"].values[0]) == 0.0


def test_a_zero_mean_draws_zero(options: fs.Options) -> None:
    result = fs.simulate(model_from(DRAWS), {"mean": 0.0}, options=options)
    assert str(result["status"].values[0]) == "ok"
    assert np.all(result["draw"].values == 0.0) and np.all(result["wait"].values == 0.0)


@pytest.mark.parametrize(
    "seed", [-1, 10**30, MAX_SEED + 1, 2**64, 10**5000, 1.5, "3"], ids=[str(i) for i in range(7)]
)
def test_a_seed_outside_0_to_2_63_is_refused_in_one_line(seed: object) -> None:
    """``--seed -1`` and huge seeds raised OverflowError from NumPy."""
    with pytest.raises(fs.ParameterError, match="seed") as caught:
        fs.simulate(model_from(DRAWS), seed=seed)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)
    with pytest.raises(fs.ParameterError, match=r"out of range|whole number|integer"):
        fs.simulate(model_from(DRAWS), {"mean": [1.0, 2.0]}, seed=[1, seed])  # type: ignore[list-item]


def test_the_seed_range_is_whole_numbers_from_0_to_2_63_minus_1() -> None:
    assert run_seeds(MAX_SEED, 1).dtype == np.int64
    assert run_seeds(0, 2).shape == (2,)
    assert run_seeds(42.0, 1).tolist() == run_seeds(42, 1).tolist()
    assert run_seeds([0, MAX_SEED], 2).tolist() == [0, MAX_SEED]
    assert run_seeds(np.array([5, 6], np.uint64), 2).tolist() == [5, 6]


def test_sweep_and_sensitivity_settings_refuse_such_seeds() -> None:
    from flywheel_sim.studies.sampling import SamplingSettings
    from flywheel_sim.studies.sweep import SensitivityOptions

    with pytest.raises(fs.ParameterError, match=r"--seed -1 is out of range"):
        SamplingSettings(10, "lhs", -1)
    with pytest.raises(fs.ParameterError, match=r"--seed 1000000000000000000000 is out of"):
        SensitivityOptions("sobol", 8, 10**21)


@pytest.mark.parametrize("seed", ["1e19", "9.3e18", "1e400", "-1e19"])
def test_a_random_function_seed_of_2_63_or_more_is_a_model_error(seed: str) -> None:
    """``RANDOM(0, 1, 1e19)`` raised OverflowError while compiling."""
    text = f"""\
    name: seeded
    time: {{start: 0, stop: 3, dt: 1}}
    auxiliaries:
      x: {{equation: "RANDOM(0, 1, {seed})"}}
    """
    with pytest.raises(
        fs.ModelError, match=r"(seed .* of RANDOM is out of range|too large|must be a number).*'x'"
    ):
        fs.compile_model(model_from(text))


def test_a_random_function_seed_below_2_63_names_its_stream(options: fs.Options) -> None:
    text = """\
    name: seeded
    time: {start: 0, stop: 3, dt: 1}
    auxiliaries:
      x: {equation: "RANDOM(0, 1, 9.2e18)"}
      y: {equation: "RANDOM(0, 1, 9.2e18)"}
    """
    result = fs.simulate(model_from(text), options=options)
    assert np.array_equal(result["x"].values, result["y"].values)
