"""Time-varying policies: a parameter follows a step, a ramp or a table from its base value."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.io.paths import read_text
from flywheel_sim.spec.policy import (
    Ramp,
    Step,
    Table,
    parse_policy,
    policy_from_mapping,
    series_from_csv,
)

# a stock that integrates the parameter: its slope is the policy, its value the policy's area
INTEGRATOR = """
name: integrator
time: {start: 0, stop: 10, dt: 0.25, save_step: 0.25}
parameters:
  rate: {default: 2, min: -10, max: 10}
stocks:
  area: {initial: 0, inflows: [inflow]}
flows:
  inflow: {equation: rate}
"""


def path_of(policy: fs.Policy, backend: str = "numpy", **params: object) -> np.ndarray:
    model = model_from(INTEGRATOR).with_policies({"rate": policy})
    result = fs.simulate(model, params, options=fs.Options(backend=backend))
    return np.asarray(result["rate"].values[0])


TIMES = np.arange(0, 10.001, 0.25)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_step_ramp_and_table_follow_their_paths(backend: str) -> None:
    assert np.array_equal(path_of(Step(to=-1, at=4), backend), np.where(TIMES >= 4, -1.0, 2.0))
    ramp = np.clip(2 + (5 - 2) * (TIMES - 2) / (6 - 2), None, None)
    ramp = np.where(TIMES < 2, 2.0, np.where(TIMES >= 6, 5.0, ramp))
    assert np.allclose(path_of(Ramp(to=5, start=2, end=6), backend), ramp, atol=1e-12)
    table = Table((3.0, 5.0, 7.0), (1.0, 3.0, 0.0))
    expected = np.where(TIMES < 3, 2.0, np.interp(TIMES, table.times, table.values))
    assert np.allclose(path_of(table, backend), expected, atol=1e-12)
    held = Table((3.0, 5.0, 7.0), (1.0, 3.0, 0.0), hold=True)
    steps = np.where(TIMES < 3, 2.0, np.where(TIMES < 5, 1.0, np.where(TIMES < 7, 3.0, 0.0)))
    assert np.array_equal(path_of(held, backend), steps)


def test_the_stock_integrates_the_policy() -> None:
    """2 per time unit until 4, then nothing. Euler's steps land exactly on 4; the last step
    before 4 of Heun and RK4 evaluates a stage at t = 4 (already 0), as in Stella and Vensim."""
    model = model_from(INTEGRATOR).with_policies({"rate": Step(to=0, at=4)})
    expected = {"euler": 8.0, "heun": 7.5 + 0.25 * (2 + 0) / 2, "rk4": 7.5 + 0.25 * 10 / 6}
    for method in fs.METHODS:
        result = fs.simulate(model, method=method)
        assert float(result["area"][0, -1]) == pytest.approx(expected[method], abs=1e-12)


def test_the_base_is_still_a_parameter_set_per_run() -> None:
    model = model_from(INTEGRATOR).with_policies({"rate": Ramp(to=0, start=0, end=10)})
    result = fs.simulate(model, {"rate": [1.0, 4.0]})
    assert list(result["rate@base"].values) == [1.0, 4.0]
    assert np.allclose(result["rate"].values[:, 0], [1.0, 4.0])
    assert np.allclose(result["rate"].values[:, -1], 0.0)
    # area under a ramp from b to 0 over 10 (Euler, left sums): b * 10 / 2 + b * dt / 2
    assert np.allclose(result["area"].values[:, -1], [5.125, 20.5])
    with pytest.raises(fs.ParameterError, match=r"'rate' = 50 .* outside its declared range"):
        fs.simulate(model, {"rate": 50.0})  # the base keeps its declared range


def test_policies_do_not_change_the_model_or_its_loops() -> None:
    model = fs.load_model("amazon")
    stopped = model.with_policies({"reinvest_share": Step(to=0, at=2010)})
    assert model.element("reinvest_share").policy is None
    assert stopped.policies == {"reinvest_share": Step(to=0, at=2010)}
    assert stopped.with_policies({"reinvest_share": None}).policies == {}
    assert len(fs.find_loops(stopped).loops) == len(fs.find_loops(model).loops)
    before, after = fs.simulate(model), fs.simulate(stopped)
    early = before["time"] < 2010
    assert np.array_equal(before["net_sales"][:, early], after["net_sales"][:, early])
    # the policy acts: without reinvestment after 2010 the wheel ends clearly smaller
    assert float(after["net_sales"][0, -1]) < 0.9 * float(before["net_sales"][0, -1])


def test_policies_apply_to_every_element_of_an_arrayed_parameter() -> None:
    model = model_from(
        """
        name: arrays
        time: {start: 0, stop: 4, dt: 1}
        dimensions: {firm: [a, b]}
        parameters:
          push: {dims: [firm], default: {a: 1, b: 2}}
        stocks:
          x: {dims: [firm], initial: 0, inflows: [gain]}
        flows:
          gain: {dims: [firm], equation: push}
        """
    ).with_policies({"push": Step(to=0, at=2)})
    result = fs.simulate(model)
    assert result["push"].dims == ("run", "time", "firm")
    assert result["push"].values[0].tolist() == [[1, 2], [1, 2], [0, 0], [0, 0], [0, 0]]
    assert result["x"].values[0, -1].tolist() == [2, 4]


def test_only_parameters_take_policies() -> None:
    model = model_from(INTEGRATOR)
    with pytest.raises(fs.ModelError, match="only change a parameter, and 'area' is a stock"):
        model.with_policies({"area": Step(0, 1)})
    with pytest.raises(fs.ModelError, match=r"no variable 'rat'.*did you mean 'rate'"):
        model.with_policies({"rat": Step(0, 1)})


def test_policy_values_are_checked() -> None:
    with pytest.raises(fs.ModelError, match="ramp ends"):
        Ramp(to=0, start=5, end=5)
    with pytest.raises(fs.ModelError, match="'at' must be finite"):
        Step(to=0, at=math.inf)
    with pytest.raises(fs.ModelError, match="must be a number"):
        Step(to=True, at=1)  # type: ignore[arg-type]
    with pytest.raises(fs.ModelError, match="times must increase"):
        Table((1.0, 1.0), (0.0, 1.0))
    with pytest.raises(fs.ModelError, match="2 times but 1 values"):
        Table((1.0, 2.0), (0.0,))
    with pytest.raises(fs.ModelError, match="at least one point"):
        Table((), ())


def test_policies_from_yaml_mappings(tmp_path: Path) -> None:
    where = "s.yaml:3"
    assert policy_from_mapping({"step": {"to": 0.2, "at": 2005}}, where=where) == Step(0.2, 2005)
    assert policy_from_mapping(
        {"ramp": {"to": 0, "start": 2000, "end": 2005}}, where=where
    ) == Ramp(0, 2000, 2005)
    table = policy_from_mapping({"table": [[2000, 1], [2010, 0.8]], "hold": True}, where=where)
    assert table == Table((2000.0, 2010.0), (1.0, 0.8), hold=True)
    data = tmp_path / "prices.csv"
    data.write_text("year,price,other\n2000,1.0,\n2001,0.9,5\n2002,0.8,\n")
    series = policy_from_mapping(
        {"series": {"file": "prices.csv", "time": "year", "column": "price"}},
        where=where,
        read=lambda name: read_text(name, tmp_path, what="data series"),
    )
    assert isinstance(series, Table) and series.values == (1.0, 0.9, 0.8)
    assert series.source == "prices.csv:price"
    assert series_from_csv(data, time="year", column="other").times == (2001.0,)
    for raw, message in [
        ("step", "must be a mapping"),
        ({"step": {"to": 1}}, "exactly the keys to, at"),
        ({"step": {"to": 1, "at": 2}, "ramp": {}}, "exactly one of"),
        ({"jump": {}}, "exactly one of"),
        ({"table": [[1, 2, 3]]}, "list of \\[time, value\\] pairs"),
        ({"table": [[1, "x"]]}, "must be numbers"),
        ({"step": {"to": 1, "at": 2}, "hold": "yes"}, "'hold' must be true or false"),
        (
            {"series": {"file": "none.csv", "time": "t", "column": "c"}},
            "'none.csv' is not a file in the model's folder",
        ),
        ({"series": {"file": "prices.csv", "time": "year", "column": "cost"}}, "no column"),
    ]:
        with pytest.raises(fs.ModelError, match=f"^{where}: .*{message}"):
            policy_from_mapping(
                raw, where=where, read=lambda name: read_text(name, tmp_path, what="data series")
            )
    bad = tmp_path / "bad.csv"
    bad.write_text("year,price\n2000,1\n2001,cheap\n")
    with pytest.raises(fs.ModelError, match=r"bad.csv:3: '2001', 'cheap' is not a number"):
        series_from_csv(bad, time="year", column="price")


def test_policies_from_the_command_line() -> None:
    assert parse_policy("step:0.2@2005") == Step(0.2, 2005)
    assert parse_policy("ramp:0@2000-2005") == Ramp(0, 2000, 2005)
    assert parse_policy("table:2000=1,2010=0.8!") == Table((2000.0, 2010.0), (1.0, 0.8), True)
    for text in ("step:0.2", "ramp:1@5", "cliff:1@2", "table:2000"):
        with pytest.raises(fs.ModelError, match=f"cannot read policy '{text}'"):
            parse_policy(text)


def test_describe() -> None:
    assert Step(0, 2010).describe() == "step to 0 at 2010"
    assert Ramp(1, 2, 3).describe() == "ramp to 1 from 2 to 3"
    assert Table((1.0, 2.0), (0.0, 1.0), source="a.csv:x").describe() == (
        "table of 2 points from a.csv:x (linear), 1..2"
    )
