"""Flywheel diagnostics on models whose answers are known."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.diagnostics import (
    Questions,
    coasting,
    critical_push,
    diagnose,
    leverage,
    takeoff,
    weakest_link,
)

ALLEE = Path(__file__).parent / "data" / "allee.yaml"
COAST = Path(__file__).parent / "data" / "coast.yaml"


def test_critical_push_finds_the_tipping_point() -> None:
    result = critical_push(fs.load_model(ALLEE), push="push", stock="x", ratio=5)
    assert result.low < 19 <= result.high  # x0 = 1 + push must pass the threshold 20
    assert result.high - result.low <= result.tolerance
    assert result.value == pytest.approx(19, abs=result.tolerance)


def test_critical_push_reports_when_there_is_no_tipping_point() -> None:
    model = fs.load_model(ALLEE)
    with pytest.raises(fs.ModelError, match="no push up to 10 makes 'x' end"):
        critical_push(model, push="push", stock="x", high=10)
    with pytest.raises(fs.ModelError, match="already takes off with push = 50"):
        critical_push(model, push="push", stock="x", low=50)
    with pytest.raises(fs.ParameterError, match="not a scalar parameter"):
        critical_push(model, push="x", stock="x")


def test_diagnose_says_why_there_is_no_critical_push_and_answers_the_rest() -> None:
    """A wheel no push size starts (every start falls back to a capacity of 1) gets a note, not an
    error."""
    model = fs.load_model(ALLEE)
    found = diagnose(
        model, {"threshold": 1, "capacity": 1}, questions=Questions(push="push", stock="x")
    )
    assert found.push is None
    assert found.push_note is not None and "no push up to 100 makes 'x' end" in found.push_note
    assert found.leverage is not None  # the other questions are still answered


def test_leverage_matches_the_exact_elasticities() -> None:
    model = fs.load_model("exponential")  # Euler: x(T) = x0 (1 + r dt)^(T/dt)
    frame = leverage(model, outcome="stock")
    r, dt, horizon = 0.1, model.time.dt, 20.0
    values = dict(zip(frame.parameter, frame.elasticity, strict=True))
    assert values["growth_rate"] == pytest.approx(horizon * r / (1 + r * dt), rel=1e-4)
    assert values["initial_value"] == pytest.approx(1.0, rel=1e-9)
    assert list(frame.parameter) == ["growth_rate", "initial_value"]  # ranked


def test_leverage_leaves_out_dates() -> None:
    frame = leverage(fs.load_model("amazon"), outcome="net_sales", at=2024)
    assert "prime_start" not in set(frame.parameter)
    assert "push_duration" in set(frame.parameter)


def test_takeoff() -> None:
    assert takeoff(fs.load_model("logistic"), stock="population").time == 0.5
    amazon = takeoff(fs.load_model("amazon"), stock="customers")
    # reinforcing loops take over once the marketplace turns the napkin (2000-2005)
    assert amazon.time is not None and 2000 <= amazon.time <= 2005
    draining = model_from(
        """
        name: drain
        time: {start: 0, stop: 10, dt: 0.25}
        stocks:
          s: {initial: 10, outflows: [out]}
        flows:
          out: {equation: s / 3}
        """
    )
    assert takeoff(draining, stock="s").time is None


def test_diagnostics_section_names_must_exist() -> None:
    with pytest.raises(fs.ModelError, match="diagnostics names 'customrs'"):
        model_from(
            """
            name: d
            time: {start: 0, stop: 2, dt: 1}
            diagnostics: {stock: customrs}
            stocks:
              customers: {initial: 1}
            """
        )


def test_flywheel_diagnose_amazon() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flywheel_sim.cli", "diagnose", "amazon"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "take-off" in done.stdout and "critical push (push_size)" in done.stdout
    assert "leverage" in done.stdout and "rival_experience" in done.stdout
    assert "coasting (net_sales): if push_size, reinvest_share and" in done.stdout


# -- coasting ---------------------------------------------------------------------------------
def test_coasting_halves_growth_after_tau_ln2() -> None:
    """Momentum decays as exp(-(t-T)/tau) once investment stops, so customer growth halves
    tau*ln(2) after T (Euler with dt = 1/64: the discrete half-life, within a step)."""
    model = fs.load_model(COAST)
    found = coasting(model, at=20, stop=["investment"], variable="customers")
    dt = model.time.dt
    discrete = math.log(0.5) / math.log(1 - dt / 4) * dt
    assert found.growth == pytest.approx(10.0)
    assert found.half_time == pytest.approx(discrete, abs=dt)
    assert found.half_time == pytest.approx(4 * math.log(2), abs=0.01)
    assert found.baseline_half_time is None  # with investment going on, growth never halves
    # the customers lost are the momentum's remaining coast: 10*40 - (10*20 + 10*tau)
    assert found.retained == pytest.approx((200 + 10 * 4) / 400, rel=0.01)
    longer = coasting(model, at=20, stop=["investment"], variable="customers", params={"tau": 8})
    assert longer.half_time == pytest.approx(8 * math.log(2), abs=0.02)


def test_coasting_to_a_value_other_than_zero() -> None:
    model = fs.load_model(COAST)
    found = coasting(model, at=20, stop={"investment": 5}, variable="customers")
    # momentum falls from 10 towards 5: growth reaches half exactly never (asymptote)
    assert found.half_time is None


def test_coasting_errors_are_one_line() -> None:
    model = fs.load_model(COAST)
    with pytest.raises(fs.ParameterError, match="outside the run"):
        coasting(model, at=50, stop=["investment"], variable="customers")
    with pytest.raises(fs.ParameterError, match="at least one"):
        coasting(model, at=20, stop=[], variable="customers")
    with pytest.raises(fs.ModelError, match=r"only change a parameter.*'momentum' is a stock"):
        coasting(model, at=20, stop=["momentum"], variable="customers")
    with pytest.raises(fs.ModelError, match=r"no variable 'investmnt'.*did you mean"):
        coasting(model, at=20, stop=["investmnt"], variable="customers")
    with pytest.raises(fs.ModelError, match="'momentum' is not growing at 20"):
        coasting(model, at=20, stop=["investment"], variable="momentum")


def test_coasting_on_amazon_loses_most_of_the_wheel() -> None:
    model = fs.load_model("amazon")
    spec = model.diagnostics
    assert spec is not None and spec.coast_at == 2010
    found = coasting(model, at=2010, stop=dict(spec.stop), variable="net_sales")
    # calibrated to history, the market (and AWS, exogenous here) still grows after 2010, so
    # sales keep rising by at least half their 2010 pace (no half-time within the horizon),
    # but the wheel without reinvestment ends at a fraction of the reinvesting one
    assert found.half_time is None
    assert 0 < found.retained < 0.6
    orders = coasting(model, at=2010, stop=dict(spec.stop), variable="orders")
    assert 0 < orders.retained < found.retained  # the retail wheel loses most


def test_diagnostics_coast_section_is_checked() -> None:
    base = """
            name: d
            time: {start: 0, stop: 2, dt: 1}
            parameters:
              p: {default: 1}
            stocks:
              s: {initial: 1}
            """
    spec = model_from(base + "diagnostics: {coast: {at: 1, stop: {p: 0.5}}}").diagnostics
    assert spec is not None and spec.stop == (("p", 0.5),) and spec.coast_at == 1
    with pytest.raises(fs.ModelError, match="coast stops 's', which is a stock"):
        model_from(base + "diagnostics: {coast: {at: 1, stop: [s]}}")
    with pytest.raises(fs.ModelError, match="coast names 'q'"):
        model_from(base + "diagnostics: {coast: {stop: [q]}}")
    with pytest.raises(fs.ModelError, match="coast needs stop"):
        model_from(base + "diagnostics: {coast: {at: 1}}")
    with pytest.raises(fs.ModelError, match="must list parameter names"):
        model_from(base + "diagnostics: {coast: {stop: 3}}")


def test_flywheel_diagnose_coasting_options() -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flywheel_sim.cli", "diagnose", str(COAST), *args],
            capture_output=True,
            text=True,
            timeout=300,
        )

    done = cli()
    assert done.returncode == 0, done.stderr
    assert "if investment stops at 20, growth halves after 2.77 year" in done.stdout
    done = cli("--coast-at", "10", "--stop", "investment=0")
    assert "stops at 10, growth halves after 2.77 year" in done.stdout
    done = cli("--stop", "investment=lots")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: --stop investment=lots")


def test_weakest_link_ranks_the_links_of_the_core_loop() -> None:
    model = model_from(
        """
        name: wheel
        time: {start: 0, stop: 20, dt: 0.05, save_step: 0.5, method: rk4}
        parameters:
          a: {default: 0.5, min: 0, max: 5}
          b: {default: 1, min: 0, max: 5}
          c: {default: 0.01, min: 0, max: 1}
        stocks:
          x: {initial: 1, inflows: [spin], outflows: [friction]}
        flows:
          spin: {equation: a * y}
          friction: {equation: c * x * x}
        auxiliaries:
          y: {equation: b * x}
        loops:
          wheel: {variables: [x, y, spin], polarity: R}
          drag: {variables: [x, friction], polarity: B}
        """
    )
    frame = weakest_link(model)
    assert frame.attrs["loop"] == "wheel"
    values = dict(zip(frame.link, frame.elasticity, strict=True))
    # a and b multiply the same loop gain: strengthening either link helps the same
    assert values["x -> y"] == pytest.approx(values["y -> spin"], rel=1e-6)
    assert values["x -> y"] > 0
    assert math.isnan(values["spin -> x"])  # a flow into a stock has no strength parameter
    assert list(frame.link)[-1] == "spin -> x"


def test_weakest_link_of_amazon() -> None:
    frame = weakest_link(fs.load_model("amazon"))
    assert frame.attrs["loop"] == "virtuous_cycle" and len(frame) == 20
    assert frame.elasticity.iloc[0] > 0


# -- all together -----------------------------------------------------------------------------
def test_diagnose_answers_the_declared_questions_and_the_ones_given() -> None:
    model = fs.load_model(COAST)
    seen: list[tuple[int, int]] = []
    found = diagnose(model, progress=lambda done, total: seen.append((done, total)))
    assert found.asked.stock == "customers" and found.outcome == "customers"
    assert found.asked.stop == (("investment", 0.0),) and found.asked.coast_at == 20
    assert found.coasting == coasting(model, at=20, stop=["investment"], variable="customers")
    assert found.takeoff == takeoff(model, stock="customers")
    assert found.push is None and found.weakest_link is None
    assert found.leverage is not None
    assert found.leverage.equals(leverage(model, outcome="customers"))
    assert seen == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    # given questions win over the declared ones; parameters apply to every answer
    asked = Questions(coast_at=10, stop=(("investment", 0.0),), at=15)
    later = diagnose(model, {"tau": 8}, questions=asked)
    assert later.asked.coast_at == 10 and later.asked.at == 15
    assert later.coasting == coasting(
        model, at=10, stop=["investment"], variable="customers", params={"tau": 8}
    )
    assert later.leverage is not None
    assert later.leverage.equals(leverage(model, outcome="customers", at=15, params={"tau": 8}))
    with pytest.raises(fs.ModelError, match="declares no diagnostics"):
        diagnose(fs.load_model("logistic"))


def test_diagnose_asks_for_the_weakest_link_only_when_told() -> None:
    model = model_from(
        """
        name: wheel
        time: {start: 0, stop: 20, dt: 0.05, save_step: 0.5, method: rk4}
        parameters:
          a: {default: 0.5, min: 0, max: 5}
          b: {default: 1, min: 0, max: 5}
          c: {default: 0.01, min: 0, max: 1}
        stocks:
          x: {initial: 1, inflows: [spin], outflows: [friction]}
        flows:
          spin: {equation: a * y}
          friction: {equation: c * x * x}
        auxiliaries:
          y: {equation: b * x}
        loops:
          wheel: {variables: [x, y, spin], polarity: R}
        """
    )
    seen: list[tuple[int, int]] = []
    asked = Questions(stock="x", weakest_link=True)
    found = diagnose(model, questions=asked, progress=lambda d, t: seen.append((d, t)))
    assert found.weakest_link is not None and found.weakest_link.equals(weakest_link(model))
    assert seen[-1] == (5, 5)
    assert diagnose(model, questions=Questions(stock="x")).weakest_link is None
