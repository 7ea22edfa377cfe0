"""Vensim's RANDOM BETA, WEIBULL, BINOMIAL and NEGATIVE BINOMIAL (compile/random_shapes.py):
their moments over many runs, their truncation to [min, max] and their streams. The
distributions are those of Vensim's reference ("RANDOM Number Functions"); the moments are
the textbook ones. Over 2,000 runs x 5 DTs with fixed seeds (deterministic): means within 5
standard errors, variances within 5 standard errors of the variance (from the fourth
moment, bounded generously), CDFs as in test_vensim_functions.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

import flywheel_sim as fs
from flywheel_sim import Options
from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl import loads_mdl

SEEDS = np.arange(2000)
NUMPY, NUMBA = Options(backend="numpy"), Options(backend="numba")


def draws(equation: str, options: Options, seeds: np.ndarray = SEEDS) -> np.ndarray:
    doc = {
        "time": {"start": 0, "stop": 4, "dt": 1},
        "auxiliaries": {"y": {"equation": equation}},
    }
    model = fs.loads_model(yaml.safe_dump(doc, sort_keys=False))
    return np.asarray(fs.simulate(model, options=options, seed=seeds)["y"].values)


def assert_moments(sample: np.ndarray, mean: float, var: float, kurtosis: float = 9) -> None:
    """Mean within 5 standard errors; variance within 5 standard errors of the sample
    variance (its variance about (kurtosis - 1) var^2 / n, kurtosis bounded above)."""
    n = sample.size
    assert abs(sample.mean() - mean) <= 5 * math.sqrt(var / n), (sample.mean(), mean)
    assert abs(sample.var() - var) <= 5 * var * math.sqrt((kurtosis - 1) / n), (sample.var(), var)


def assert_cdf(sample: np.ndarray, cdf: object, points: list[float]) -> None:
    assert callable(cdf)
    n = sample.size
    for x in points:
        p = cdf(x)
        observed = np.count_nonzero(sample <= x) / n
        assert abs(observed - p) <= 5 * math.sqrt(p * (1 - p) / n) + 1e-12, (x, observed, p)


def test_random_beta_moments(options: Options) -> None:
    """Beta(2, 3): mean 2/5, variance 6 / (25 * 6); Beta(0.5, 0.5) (shapes below 1): mean
    1/2, variance 1/8; stretched by 4 and shifted by 1."""
    assert_moments(draws("RANDOM_BETA(0, 1, 2, 3, 0, 1, 0)", options), 0.4, 0.04)
    sample = draws("RANDOM_BETA(-10, 10, 0.5, 0.5, 1, 4, 0)", options)
    assert sample.min() >= 1 and sample.max() <= 5
    assert_moments(sample, 1 + 4 * 0.5, 16 / 8)


def test_random_beta_is_truncated(options: Options) -> None:
    """Beta(2, 3) truncated to [0.2, 0.6]: its CDF x^2 (6 - 8x + 3x^2), renormalised."""
    sample = draws("RANDOM_BETA(0.2, 0.6, 2, 3, 0, 1, 0)", options)
    assert sample.min() >= 0.2 and sample.max() <= 0.6

    def full(x: float) -> float:
        return x * x * (6 - 8 * x + 3 * x * x)

    cdf = lambda x: (full(x) - full(0.2)) / (full(0.6) - full(0.2))  # noqa: E731
    assert_cdf(sample, cdf, [0.25, 0.35, 0.45, 0.55])


def test_random_weibull_has_mean_1(options: Options) -> None:
    """ "WEIBULL with shape S starting at 0 with mean 1": shape 2, scale 1 / Gamma(1.5);
    variance Gamma(2) / Gamma(1.5)^2 - 1."""
    sample = draws("RANDOM_WEIBULL(0, 100, 2, 0, 1, 0)", options)
    assert_moments(sample, 1.0, 1 / math.gamma(1.5) ** 2 - 1)


def test_random_weibull_is_truncated(options: Options) -> None:
    """Shape 0.5 (scale 1/2), shifted by 1 and stretched by 2, truncated to [2, 4]."""
    sample = draws("RANDOM_WEIBULL(2, 4, 0.5, 1, 2, 0)", options)
    assert sample.min() >= 2 and sample.max() <= 4

    def full(y: float) -> float:
        return 1 - math.exp(-math.sqrt(max((y - 1) / 2, 0) / 0.5))

    cdf = lambda x: (full(x) - full(2)) / (full(4) - full(2))  # noqa: E731
    assert_cdf(sample, cdf, [2.2, 2.6, 3.2, 3.8])


def test_random_binomial(options: Options) -> None:
    """10 trials of 0.3: mean 3, variance 2.1; stretched by 2, truncated to [2, 10]: 1 to 5
    successes, in proportion to their probabilities."""
    assert_moments(draws("RANDOM_BINOMIAL(0, 10, 0.3, 10, 0, 1, 0)", options), 3, 2.1)
    sample = draws("RANDOM_BINOMIAL(2, 10, 0.3, 10, 0, 2, 0)", options)
    assert set(np.unique(sample)) <= {2.0, 4.0, 6.0, 8.0, 10.0}
    pmf = {k: math.comb(10, k) * 0.3**k * 0.7 ** (10 - k) for k in range(1, 6)}
    total = sum(pmf.values())
    assert_cdf(sample, lambda x: sum(p for k, p in pmf.items() if 2 * k <= x) / total, [2, 4, 6])


def test_random_negative_binomial(options: Options) -> None:
    """The trials until the 3rd success of 0.4: at least 3, mean 3 / 0.4, variance
    3 * 0.6 / 0.4^2."""
    sample = draws("RANDOM_NEGATIVE_BINOMIAL(0, 1e9, 0.4, 3, 0, 1, 0)", options)
    assert sample.min() >= 3 and np.all(sample == np.round(sample))
    assert_moments(sample, 7.5, 11.25, kurtosis=12)


def test_same_stream_same_draws_and_both_backends_agree() -> None:
    """A non-zero stream ID draws the same numbers in every run; both VMs draw the same
    (the normal draws of the beta's gammas may differ in the last bit)."""
    for equation in (
        "RANDOM_BETA(0, 1, 2, 3, 0, 1, 7)",
        "RANDOM_WEIBULL(0, 10, 1.5, 0, 1, 7)",
        "RANDOM_BINOMIAL(0, 10, 0.5, 10, 0, 1, 7)",
        "RANDOM_NEGATIVE_BINOMIAL(0, 100, 0.5, 2, 0, 1, 7)",
    ):
        a = draws(equation, NUMPY, np.arange(3))
        np.testing.assert_array_equal(a[0], a[1])
        np.testing.assert_allclose(draws(equation, NUMBA, np.arange(3)), a, rtol=1e-12)


def test_invalid_parameters_fail_the_run() -> None:
    for equation in (
        "RANDOM_BETA(0, 1, -1, 3, 0, 1, 0)",
        "RANDOM_BINOMIAL(0, 10, 1.5, 10, 0, 1, 0)",
        "RANDOM_NEGATIVE_BINOMIAL(0, 100, 0, 2, 0, 1, 0)",
    ):
        doc = f"time: {{start: 0, stop: 2, dt: 1}}\nauxiliaries:\n  y: {equation}\n"
        assert fs.simulate(fs.loads_model(doc))["status"].values[0] == "failed", equation


@pytest.mark.parametrize(
    ("equation", "what"),
    [
        ("RANDOM_BINOMIAL(0, 10, 0.5, 101, 0, 1, 0)", "must be a whole number from 0 to 100"),
        ("RANDOM_BINOMIAL(0, 10, 0.5, TIME, 0, 1, 0)", "trials of RANDOM BINOMIAL must be"),
        ("RANDOM_WEIBULL(0, 10, 0, 0, 1, 0)", "shape \\(0\\) must be above 0"),
    ],
)
def test_refused_parameters(equation: str, what: str) -> None:
    doc = f"time: {{start: 0, stop: 2, dt: 1}}\nauxiliaries:\n  y: {equation}\n"
    with pytest.raises(ModelError, match=what):
        fs.compile_model(fs.loads_model(doc))


def test_a_weibull_shape_changed_by_a_run_fails_the_run() -> None:
    doc = (
        "time: {start: 0, stop: 2, dt: 1}\nparameters:\n  k: {default: 2}\n"
        "auxiliaries:\n  y: RANDOM_WEIBULL(0, 10, k, 0, 1, 0)\n"
    )
    model = fs.loads_model(doc)
    assert fs.simulate(model)["status"].values[0] == "ok"
    assert fs.simulate(model, params={"k": 3})["status"].values[0] == "failed"


def test_read_from_mdl_and_random_gamma_refused() -> None:
    """The .mdl reader's rows (io/mdl/functions.py); RANDOM GAMMA's scale is not documented."""
    control = "INITIAL TIME = 0 ~ ~ |\nFINAL TIME = 2 ~ ~ |\nTIME STEP = 1 ~ ~ |\n"
    text = (
        "{UTF-8}\nb = RANDOM BETA(0, 1, 2, 2, 0, 1, 0) ~ ~ |\n"
        "w = RANDOM WEIBULL(0, 9, 2, 0, 1, 0) ~ ~ |\n"
        "n = RANDOM BINOMIAL(0, 9, 0.5, 4, 0, 1, s) ~ ~ |\ns = 3 ~ ~ |\n"
        "g = RANDOM NEGATIVE BINOMIAL(0, 99, 0.5, 2, 0, 1, 0) ~ ~ |\n" + control
    )
    result = fs.simulate(loads_mdl(text, file="t.mdl"))
    assert result["status"].values[0] == "ok"
    gamma = "{UTF-8}\nx = RANDOM GAMMA(0, 9, 2, 0, 1, 0) ~ ~ |\n" + control
    with pytest.raises(ModelError, match="whether its scale is 1 or 1/O"):
        loads_mdl(gamma, file="t.mdl")
