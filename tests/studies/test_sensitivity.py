"""Sensitivity analysis: Sobol' indices against the Ishigami function's and a linear model's
analytic values, Morris elementary effects of a linear model (exact), the quantile mapping of
non-uniform inputs, designs, errors and tornado charts."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.present.study import tornado_chart
from flywheel_sim.studies.sampling import Distribution, parse_distribution
from flywheel_sim.studies.sensitivity import analyse, design, sensitivity, values

pytest.importorskip("SALib")

DATA = Path(__file__).parents[1] / "data"
PI = Distribution("uniform", (("low", -math.pi), ("high", math.pi)))
UNIT = parse_distribution("uniform:0,1")
COEFFICIENTS = {"x1": 1.0, "x2": 2.0, "x3": 3.0}

LINEAR = """
    name: linear
    time: {start: 0, stop: 1, dt: 1}
    parameters:
      x1: 0
      x2: 0
      x3: 0
    auxiliaries:
      y: {equation: 1 * x1 + 2 * x2 + 3 * x3}
"""


@pytest.fixture(scope="module")
def ishigami() -> fs.Model:
    return fs.load_model(DATA / "ishigami.yaml")


@pytest.fixture(scope="module")
def linear() -> fs.Model:
    return model_from(LINEAR, file="linear.yaml")


def by_name(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("parameter").loc[["x1", "x2", "x3"]]


def test_ishigami_model_is_the_ishigami_function(ishigami: fs.Model) -> None:
    rng = np.random.default_rng(1)
    x = {name: rng.uniform(-math.pi, math.pi, 50) for name in ("x1", "x2", "x3")}
    result = fs.simulate(ishigami, x, variables=["y"])
    expected = np.sin(x["x1"]) + 7 * np.sin(x["x2"]) ** 2 + 0.1 * x["x3"] ** 4 * np.sin(x["x1"])
    np.testing.assert_allclose(result["y"].values[:, -1], expected, rtol=1e-12, atol=1e-12)


def test_ishigami_sobol_indices_match_the_analytic_values(ishigami: fs.Model) -> None:
    a, b = 7.0, 0.1
    variance = a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    vt3 = 8 * b**2 * math.pi**8 / 225
    s1 = np.array([v1, v2, 0.0]) / variance  # x3 acts only through its interaction with x1
    st = np.array([v1 + vt3, v2, vt3]) / variance
    frame = sensitivity(ishigami, {"x1": PI, "x2": PI, "x3": PI}, "y@end", n=4096)
    got = by_name(frame)
    # the 95% bootstrap half-widths at n = 4096 are 0.01-0.05; the estimates (scrambled
    # Sobol' points) lie far closer, so 0.02 absolute is a real check, and each analytic value
    # must fall inside its reported interval
    np.testing.assert_allclose(got["S1"], s1, atol=0.02)
    np.testing.assert_allclose(got["ST"], st, atol=0.02)
    assert (np.abs(got["S1"] - s1) <= got["S1_conf"]).all()
    assert (np.abs(got["ST"] - st) <= got["ST_conf"]).all()
    assert list(frame["parameter"]) == ["x1", "x2", "x3"]  # sorted by ST, largest first


def test_linear_sobol_indices_are_squared_coefficient_shares(linear: fs.Model) -> None:
    c = np.array(list(COEFFICIENTS.values()))
    expected = c**2 / np.sum(c**2)
    got = by_name(sensitivity(linear, dict.fromkeys(COEFFICIENTS, UNIT), "y", n=2048))
    np.testing.assert_allclose(got["S1"], expected, atol=0.02)
    np.testing.assert_allclose(got["ST"], expected, atol=0.02)


def test_normal_input_is_mapped_through_its_quantiles(linear: fs.Model) -> None:
    # Var(c x) = c^2 sd^2 for x ~ N(mean, sd); c^2 / 12 for x ~ U(0, 1)
    sd = 0.5
    distributions = dict.fromkeys(COEFFICIENTS, UNIT) | {"x2": parse_distribution(f"normal:5,{sd}")}
    parts = np.array([1.0**2 / 12, 2.0**2 * sd**2, 3.0**2 / 12])
    got = by_name(sensitivity(linear, distributions, "y", n=2048))
    np.testing.assert_allclose(got["S1"], parts / parts.sum(), atol=0.02)
    np.testing.assert_allclose(got["ST"], parts / parts.sum(), atol=0.02)
    # the runs themselves follow the distribution
    plan = design(distributions, n=2048)
    x2 = values(plan, distributions)["x2"]
    assert abs(x2.mean() - 5) < 0.01 and abs(x2.std() - sd) < 0.01


def test_morris_elementary_effects_of_a_linear_model_are_exact(linear: fs.Model) -> None:
    frame = sensitivity(linear, dict.fromkeys(COEFFICIENTS, UNIT), "y", method="morris", n=20)
    assert list(frame["parameter"]) == ["x3", "x2", "x1"]
    got = by_name(frame)
    c = np.array(list(COEFFICIENTS.values()))
    # uniform on [0, 1]: classic Morris on the parameter's range, mu* = c * (high - low)
    np.testing.assert_allclose(got["mu_star"], c, rtol=1e-9)
    np.testing.assert_allclose(got["mu"], c, rtol=1e-9)
    np.testing.assert_allclose(got["sigma"], 0.0, atol=1e-9)


def test_morris_steps_are_equal_steps_of_probability(linear: fs.Model) -> None:
    # levels 4: quantiles 1/8, 3/8, 5/8, 7/8 (stratum centres); every step is 1/2 in
    # probability, so for x2 ~ N(5, 0.5) an effect is 2 * (x(5/8) - x(1/8)) / (1/2)
    normal = parse_distribution("normal:5,0.5")
    distributions = dict.fromkeys(COEFFICIENTS, UNIT) | {"x2": normal}
    got = by_name(sensitivity(linear, distributions, "y", method="morris", n=20))
    step = 0.5 * (stats.norm.ppf(5 / 8) - stats.norm.ppf(1 / 8))
    assert got.loc["x2", "mu_star"] == pytest.approx(2 * step / 0.5, rel=1e-9)
    assert got.loc["x3", "mu_star"] == pytest.approx(3.0, rel=1e-9)


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_same_seed_same_frame(linear: fs.Model, method: str) -> None:
    distributions = {"x1": UNIT, "x2": parse_distribution("triangular:0,1,3"), "x3": UNIT}
    first = sensitivity(linear, distributions, "y", method=method, n=64, seed=3)
    again = sensitivity(linear, distributions, "y", method=method, n=64, seed=3)
    pd.testing.assert_frame_equal(first, again)
    other = design(distributions, method=method, n=64, seed=4)
    assert not np.array_equal(design(distributions, method=method, n=64, seed=3).unit, other.unit)


@pytest.mark.parametrize(
    ("method", "n", "d", "runs"),
    [("sobol", 8, 3, 8 * (3 + 2)), ("sobol", 16, 1, 16 * 3), ("morris", 10, 3, 10 * 4)],
)
def test_design_sizes(method: str, n: int, d: int, runs: int) -> None:
    distributions = {f"p{i}": UNIT for i in range(d)}
    plan = design(distributions, method=method, n=n)
    assert plan.method == method and plan.names == tuple(distributions)
    assert plan.unit.shape == (runs, d) and plan.runs == runs
    assert ((plan.unit >= 0) & (plan.unit <= 1)).all()
    mapped = values(plan, distributions)
    assert set(mapped) == set(distributions)
    np.testing.assert_allclose(mapped["p0"], plan.unit[:, 0], rtol=0, atol=1e-15)


@pytest.mark.parametrize("levels", [4, 6])
def test_morris_levels(levels: int) -> None:
    # bounded inputs: SALib's grid k / (levels - 1); unbounded ones: stratum centres
    # (k + 0.5) / levels, so they stay finite
    normal = parse_distribution("normal:0,1")
    plan = design({"a": UNIT, "b": normal}, method="morris", n=30, levels=levels)
    assert plan.levels == levels
    k = np.arange(levels)
    assert np.isin(np.round(plan.unit[:, 0], 12), np.round(k / (levels - 1), 12)).all()
    assert np.isin(np.round(plan.unit[:, 1], 12), np.round((k + 0.5) / levels, 12)).all()
    assert plan.steps == pytest.approx([levels / (2 * (levels - 1)), 0.5])
    assert np.isfinite(values(plan, {"a": UNIT, "b": normal})["b"]).all()


def test_morris_sees_every_ishigami_input(ishigami: fs.Model) -> None:
    # x2 enters as sin(x2)^2, period pi: a trajectory step of exactly half the range would
    # alias its effect to zero; on the classic grid it is the second largest
    frame = sensitivity(ishigami, {"x1": PI, "x2": PI, "x3": PI}, "y", method="morris", n=100)
    assert (frame["mu_star"] > 1).all()
    assert list(frame["parameter"])[1] == "x2"  # ranked by mu_star


def test_non_finite_outcomes_are_counted() -> None:
    plan = design({"a": UNIT, "b": UNIT}, n=8)
    y = np.ones(plan.runs)
    y[[2, 5, 9]] = [np.nan, np.inf, np.nan]
    with pytest.raises(fs.ParameterError, match=r"3 of 32 runs gave a non-finite outcome"):
        analyse(plan, y)


def test_failing_runs_of_a_model_are_reported() -> None:
    model = model_from(
        """
        name: root
        time: {start: 0, stop: 1, dt: 1}
        parameters: {x1: 0, x2: 0}
        auxiliaries:
          y: {equation: SQRT(x1) + x2}
        """
    )
    distributions = {"x1": parse_distribution("uniform:-1,1"), "x2": UNIT}
    negative = int((values(design(distributions, n=8), distributions)["x1"] < 0).sum())
    assert negative > 0
    with pytest.raises(fs.ParameterError, match=rf"^{negative} of 32 runs .* need every run"):
        sensitivity(model, distributions, "y", n=8)


def test_errors_say_what_to_do() -> None:
    with pytest.raises(fs.ModelError, match="unknown sensitivity method 'fast' — use sobol or"):
        design({"a": UNIT}, method="fast")
    with pytest.raises(fs.ModelError, match="even number of levels"):
        design({"a": UNIT}, method="morris", levels=5)
    with pytest.raises(fs.ModelError, match="at least one uncertain parameter"):
        design({})
    plan = design({"a": UNIT, "b": UNIT}, n=4)
    with pytest.raises(fs.ModelError, match="no distribution for design parameter 'b'"):
        values(plan, {"a": UNIT})
    with pytest.raises(fs.ParameterError, match="16 runs but 3 outcomes"):
        analyse(plan, np.ones(3))
    with pytest.raises(fs.ParameterError, match="is 2 in every run"):
        analyse(plan, np.full(plan.runs, 2.0))


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_tornado_chart_writes_png_and_svg(linear: fs.Model, tmp_path: Path, method: str) -> None:
    frame = sensitivity(linear, dict.fromkeys(COEFFICIENTS, UNIT), "y", method=method, n=64)
    png = tornado_chart(frame, tmp_path / "t.png", title=f"linear: {method}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tornado_chart(frame, tmp_path / "t.svg", title=f"linear: {method}").read_text()
    assert "<svg" in svg and "x3" in svg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.png", "t.svg"]  # no temp files
    with pytest.raises(fs.OutputError, match="use one of"):
        tornado_chart(frame, tmp_path / "t.gif", title="x")
    with pytest.raises(fs.OutputError, match="the frame analyse"):
        tornado_chart(frame.drop(columns=["ST", "mu_star"], errors="ignore"), png, title="x")
