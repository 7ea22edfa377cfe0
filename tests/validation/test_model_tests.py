"""The reviewer's model tests (flywheel_sim.validation): each test on small models with a known
answer, and the built-in models (amazon among them) that must pass."""

import json
from pathlib import Path

import pytest

import flywheel_sim as fs
from flywheel_sim.validation.report import TestReport
from flywheel_sim.validation.suite import test_model as run_tests


def report(body: str, tests: list[str], dt: float = 0.125, method: str = "rk4") -> TestReport:
    head = f"name: t\ntime: {{start: 0, stop: 10, dt: {dt}, units: year, method: {method}}}\n"
    return run_tests(fs.loads_model(head + body, file="t.yaml"), tests=tests)


@pytest.mark.parametrize(
    "name", ["exponential", "logistic", "bass", "sir", "delay", "seller", "rivals"]
)
def test_the_textbook_and_library_models_pass(name: str) -> None:
    result = run_tests(fs.load_model(name))
    assert result.ok, str(result)
    statuses = {r.test: r.status for r in result.results}
    assert statuses == {
        "units": "pass",
        "extreme conditions": "pass",
        "integration error": "pass",
        "reality checks": "pass",
        "loops": "note" if name in ("rivals", "seller") else "pass",
    }, str(result)


@pytest.fixture(scope="module")
def amazon_tests() -> TestReport:
    """Every model test of the flagship, run once for the tests below (it takes most of a
    minute: sweeps of every parameter to its extremes and runs at smaller steps)."""
    return run_tests(fs.load_model("amazon"))


def test_amazon_passes_every_test(amazon_tests: TestReport) -> None:
    """The rebuilt flagship: units consistent, no extreme run fails, converged at its dt and
    its reality checks (plausible internals, the flywheel carrying the growth) kept."""
    result = amazon_tests
    assert result.ok, str(result)
    statuses = {r.test: r.status for r in result.results}
    assert {k: v for k, v in statuses.items() if k != "loops"} == dict.fromkeys(
        ("units", "extreme conditions", "integration error", "reality checks"), "pass"
    ), str(result)


def test_a_parameter_at_zero_that_divides_fails_and_is_named() -> None:
    result = report(
        """
parameters:
  time_to_adjust: {default: 2, min: 0, max: 10, unit: year}
stocks:
  level: {initial: 1, inflows: [change], unit: widgets}
flows:
  change: {equation: (5 - level) / time_to_adjust, unit: widgets/year}
""",
        tests=["extreme conditions"],
    )
    extremes = result.result("extreme conditions")
    assert extremes.status == "fail"
    assert [f.case for f in extremes.findings] == ["time_to_adjust = 0 (min)"]
    assert extremes.findings[0].variable == "change"
    assert extremes.summary == "1 of 4 runs fail"  # baseline, min (0), max, level = 0


def test_declared_bounds_are_checked_with_numbers_and_variables() -> None:
    body = """
parameters:
  rate: {default: 0.1, min: 0, max: 1, unit: 1/year}
  members_rate: {default: 0.05, min: 0, max: 1, unit: 1/year}
stocks:
  customers: {initial: 10, inflows: [joining], unit: people}
  members: {initial: 1, inflows: [signing], unit: people, bounds: [0, customers]}
flows:
  joining: {equation: customers * rate, unit: people/year}
  signing: {equation: customers * members_rate * 10, unit: people/year}
auxiliaries:
  share: {equation: members / customers, unit: dimensionless, bounds: [0, 1]}
"""
    extremes = report(body, tests=["extreme conditions"]).result("extreme conditions")
    broken = {(f.case, f.variable) for f in extremes.findings}
    # members outgrow customers when members_rate * 10 exceeds rate: at the defaults already
    assert ("the model as it is", "members") in broken
    assert ("the model as it is", "share") in broken
    assert any("went above its bound customers" in f.what for f in extremes.findings)
    # a model that keeps its bounds breaks them only when customers are emptied at a stroke
    # (members cannot be more than customers, and then there are none: the test says so)
    kept = body.replace("customers * members_rate * 10", "(customers - members) * members_rate")
    kept = kept.replace("members / customers", '"SAFEDIV(members, customers)"')
    found = report(kept, tests=["extreme conditions"]).result("extreme conditions").findings
    assert {f.case for f in found} == {"customers = 0 at 5"}, found
    assert {f.variable for f in found} == {"members"}  # SAFEDIV keeps the share in [0, 1]


def test_a_non_negative_stock_cannot_fail_but_a_plain_one_can() -> None:
    body = """
parameters:
  outflow_rate: {default: 1, min: 0, max: 100, unit: widgets/year}
stocks:
  tank: {initial: 1, outflows: [draining], unit: widgets, bounds: [0, null]}
flows:
  draining: {equation: outflow_rate, unit: widgets/year}
"""
    assert not report(body, tests=["extreme conditions"]).ok  # drains below zero
    guarded = body.replace("bounds: [0, null]", "non_negative: true, bounds: [0, null]")
    assert report(guarded, tests=["extreme conditions"]).ok


def test_integration_error_finds_a_step_too_long_for_a_fast_drain() -> None:
    body = """
parameters:
  life: {default: 0.2, min: 0.1, max: 10, unit: year}
stocks:
  stuff: {initial: 100, inflows: [making], outflows: [decay], unit: widgets}
flows:
  making: {equation: "10", unit: widgets/year}
  decay: {equation: stuff / life, unit: widgets/year}
"""
    stiff = report(body, tests=["integration error"], method="euler")
    result = stiff.result("integration error")
    assert result.status == "fail"
    whats = " ".join(f.what for f in result.findings)
    assert "exceeds a quarter of the smallest time constant (0.2)" in whats
    assert result.details["time_constant_of"] == "stuff over its outflows"
    calm = report(body.replace("0.2, min", "5, min"), tests=["integration error"])
    assert calm.ok, str(calm)


def test_integration_error_finds_a_step_that_is_not_converged() -> None:
    body = """
parameters:
  r: {default: 0.3, min: 0, max: 1, unit: 1/year}
stocks:
  x: {initial: 1, inflows: [growth], unit: widgets}
flows:
  growth: {equation: x * r, unit: widgets/year}
"""
    euler = report(body, tests=["integration error"], dt=0.5, method="euler")
    result = euler.result("integration error")
    assert result.status == "fail"
    assert result.details["changes"]["x"] > 0.01
    assert report(body, tests=["integration error"]).ok


def test_unit_errors_fail_the_units_test() -> None:
    result = report(
        """
parameters:
  a: {default: 1, unit: trips}
  b: {default: 1, unit: drivers}
auxiliaries:
  c: {equation: a + b, unit: trips}
""",
        tests=["units"],
    )
    assert not result.ok
    assert "the two sides of '+' differ" in result.results[0].findings[0].what


def test_the_report_serialises_and_prints() -> None:
    result = run_tests(fs.load_model("sir"))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["model"] == "sir" and data["ok"] is True
    assert [r["test"] for r in data["results"]] == [
        "units",
        "extreme conditions",
        "integration error",
        "reality checks",
        "loops",
    ]
    assert str(result).startswith("model tests of sir: passed")
    assert "<table>" in result._repr_html_()
    assert repr(result).startswith("TestReport('sir': 5 passed, 0 failed")


def test_an_unknown_test_name_is_a_clear_error() -> None:
    with pytest.raises(fs.ModelError, match="unknown model test 'unit'"):
        run_tests(fs.load_model("sir"), tests=["unit"])


def test_loop_sanity_reports_but_never_fails() -> None:
    body = """
parameters:
  r: {default: 0.3, min: 0, max: 1, unit: 1/year}
  k: {default: 100, min: 1, max: 1000, unit: widgets}
stocks:
  x: {initial: 1, inflows: [growth], unit: widgets}
flows:
  growth: {equation: x * r * (1 - x / k), unit: widgets/year}
loops:
  growth_loop: {variables: [x, growth], polarity: B}
  ghost: {variables: [x, k], polarity: R}
"""
    result = report(body, tests=["loops"]).result("loops")
    assert result.status == "note"
    whats = {(f.case, f.what) for f in result.findings}
    assert ("ghost", "named loop not found in the equations") in whats
    assert ("growth_loop", "declared B but its link signs make it ?") not in whats
    assert any(f.case == "growth_loop" and "declared B" in f.what for f in result.findings), whats


def test_amazon_names_loops_that_carry_the_behaviour(amazon_tests: TestReport) -> None:
    result = amazon_tests.result("loops")
    quiet = {f.case for f in result.findings if "never dominates" in f.what}
    missing = {f.case for f in result.findings if "not found" in f.what}
    assert not missing, missing
    for core in ("virtuous_cycle", "word_of_mouth", "fba_delivery", "logistics_reinvestment"):
        assert core not in quiet, (core, result.findings)


def test_each_stock_is_forced_to_zero_mid_run() -> None:
    body = """
parameters:
  rate: {default: 0.1, min: 0, max: 1, unit: 1/year}
stocks:
  customers: {initial: 10, inflows: [joining], unit: people}
  orders: {initial: 0, inflows: [ordering], unit: orders}
flows:
  joining: {equation: customers * rate, unit: people/year}
  ordering: {equation: orders_per_customer * customers, unit: orders/year}
auxiliaries:
  orders_per_customer: {equation: "1 + orders / customers / 1000", unit: orders/(person*year)}
"""
    extremes = report(body, tests=["extreme conditions"]).result("extreme conditions")
    assert [f.case for f in extremes.findings] == ["customers = 0 at 5"], extremes.findings
    assert extremes.findings[0].variable == "orders_per_customer"
    assert extremes.runs == 1 + 2 + 2  # the model, rate at 0 and 1, each stock at zero
    guarded = body.replace("orders / customers / 1000", "SAFEDIV(orders, customers) / 1000")
    assert report(guarded, tests=["extreme conditions"]).ok


def test_reality_checks_of_the_scenario_file_are_tested(tmp_path: Path) -> None:
    model_file = tmp_path / "grow.yaml"
    model_file.write_text(
        "name: grow\ntime: {start: 0, stop: 10, dt: 0.125, units: year, method: rk4}\n"
        "parameters:\n  r: {default: 0.2, min: 0, max: 1, unit: 1/year}\n"
        "stocks:\n  x: {initial: 1, inflows: [growth], unit: widgets}\n"
        "flows:\n  growth: {equation: x * r, unit: widgets/year}\n"
    )
    (tmp_path / "grow.scenarios.yaml").write_text(
        "calibration:\n"
        "  fit: {r: [0, 1]}\n"
        "  checks:\n"
        "    grows: {outcome: x@10, above: 5}\n"
        "    no_growth_without_r: {set: {r: 0}, outcome: x@10, below: 1.01}\n"
        "    doubles_fast: {outcome: x@2, above: 2}\n"
    )
    result = run_tests(fs.load_model(model_file), tests=["reality checks"]).result("reality checks")
    assert result.status == "fail"
    assert result.summary == "1 of 3 checks broken"
    assert [f.case for f in result.findings] == ["doubles_fast"]
    assert "the run gives 1.492" in result.findings[0].what
