"""``flywheel check`` (units, --strict) and ``flywheel test`` (the model tests) from the
command line: the lines people read, the JSON CI reads, and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

BAD_UNITS = """name: ride
time: {start: 0, stop: 10, dt: 0.25, units: year}
parameters:
  trips: {default: 5, unit: trips}
  wait: {default: 2, unit: week}
stocks:
  drivers: {initial: 10, unit: drivers}
auxiliaries:
  silly: {equation: "trips + drivers", unit: trips}
  smooth: {equation: "SMTH1(trips, wait)", unit: trips}
"""


def test_check_lists_unit_errors_and_strict_makes_them_fatal(tmp_path: Path) -> None:
    model = tmp_path / "ride.yaml"
    model.write_text(BAD_UNITS)
    done = run_cli("check", str(model))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1] == "units: 2 inconsistencies in 3 equations"  # the stock's initial value too
    assert any(
        f"{model}:9: silly: the two sides of '+' differ: 'trips' is trip, 'drivers' is driver"
        in line
        for line in lines
    ), lines
    assert any("smooth: SMTH1 needs a time in year, and 'wait' is week" in x for x in lines)
    strict = run_cli("check", str(model), "--strict")
    assert strict.returncode == 1
    assert strict.stderr.strip().startswith("error: 2 unit inconsistencies in 'ride'")
    assert "Traceback" not in strict.stderr
    clean = run_cli("check", "sir", "--strict")
    assert clean.returncode == 0 and "units: consistent (5 equations)" in clean.stdout


def test_flywheel_test_passes_a_textbook_model_and_writes_json() -> None:
    done = run_cli("test", "logistic")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "model tests of logistic: passed" in done.stdout
    data = json.loads(run_cli("test", "logistic", "--json").stdout)
    assert data["ok"] is True
    assert {r["test"]: r["status"] for r in data["results"]} == {
        "units": "pass",
        "extreme conditions": "pass",
        "integration error": "pass",
        "reality checks": "pass",
        "loops": "pass",
    }


def test_flywheel_test_fails_with_exit_1_and_names_the_cases(tmp_path: Path) -> None:
    model = tmp_path / "fragile.yaml"
    model.write_text(
        "name: fragile\ntime: {start: 0, stop: 10, dt: 0.125, units: year, method: rk4}\n"
        "parameters:\n  adjust: {default: 2, min: 0, max: 10, unit: year}\n"
        "stocks:\n  level: {initial: 1, inflows: [change], unit: widgets}\n"
        "flows:\n  change: {equation: (5 - level) / adjust, unit: widgets/year}\n"
    )
    done = run_cli("test", str(model), "--only", "extreme conditions")
    assert done.returncode == 1
    assert "model tests of fragile: FAILED" in done.stdout
    assert "adjust = 0 (min): a value became NaN or infinite (change at 0)" in done.stdout
    unknown = run_cli("test", str(model), "--only", "unitz")
    assert unknown.returncode == 1
    assert "unknown model test 'unitz'" in unknown.stderr and "Traceback" not in unknown.stderr
