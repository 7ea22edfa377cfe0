"""Flywheel diagnostics on models whose answers are known."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.diagnostics import critical_push, leverage, takeoff, weakest_link

ALLEE = Path(__file__).parent / "data" / "allee.yaml"


def test_critical_push_finds_the_tipping_point() -> None:
    result = critical_push(fs.load_model(ALLEE), push="push", stock="x", ratio=5)
    assert result.low < 19 <= result.high  # x0 = 1 + push must pass the threshold 20
    assert result.high - result.low <= result.tolerance
    assert result.value == pytest.approx(19, abs=result.tolerance)


def test_critical_push_reports_when_there_is_no_tipping_point() -> None:
    model = fs.load_model(ALLEE)
    with pytest.raises(fs.ModelError, match="does not take off even with push = 10"):
        critical_push(model, push="push", stock="x", high=10)
    with pytest.raises(fs.ModelError, match="already takes off with push = 50"):
        critical_push(model, push="push", stock="x", low=50)
    with pytest.raises(fs.ParameterError, match="not a scalar parameter"):
        critical_push(model, push="x", stock="x")


def test_leverage_matches_the_exact_elasticities() -> None:
    model = fs.load_model("exponential")  # Euler: x(T) = x0 (1 + r dt)^(T/dt)
    frame = leverage(model, outcome="stock")
    r, dt, horizon = 0.1, 0.25, 20.0
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
    assert amazon.time is not None and 1996 <= amazon.time <= 2001
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
    assert "leverage" in done.stdout and "price_elasticity" in done.stdout


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
    assert frame.attrs["loop"] == "virtuous_cycle" and len(frame) == 13
    assert frame.elasticity.iloc[0] > 0
