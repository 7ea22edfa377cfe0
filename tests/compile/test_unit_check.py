"""Dimensional analysis of models (flywheel_sim.compile.units.check_units).

The first cases are the ones a new user met (``trips + drivers`` and the like passing
``flywheel check``); the rest follow the rules in the module's notes, one small model each."""

from pathlib import Path

import pytest

import flywheel_sim as fs
from flywheel_sim.compile.units import check_units

HEAD = "name: u\ntime: {start: 0, stop: 10, dt: 0.25, units: year}\n"


def issues(body: str) -> list[str]:
    model = fs.loads_model(HEAD + body, file="u.yaml")
    return [str(i) for i in check_units(model).issues]


def test_the_errors_a_new_user_met_are_reported_one_line_each() -> None:
    found = issues(
        """
parameters:
  trips: {default: 5, unit: trips}
  minutes: {default: 3, unit: minutes}
  rate: {default: 0.1, unit: 1/year}
stocks:
  drivers: {initial: 10, unit: drivers, inflows: [hiring]}
  people: {initial: 100, unit: people}
flows:
  hiring: {equation: people * rate, unit: people/year}
auxiliaries:
  a: {equation: trips + drivers, unit: trips}
  b: {equation: minutes + people, unit: minutes}
"""
    )
    assert len(found) == 3, found
    assert any(
        "drivers: flow 'hiring' is person/year but the stock needs driver/year" in f for f in found
    )
    assert any(
        "u.yaml:14: a: the two sides of '+' differ: 'trips' is trip, 'drivers' is driver" in f
        for f in found
    )
    assert any(
        "b: the two sides of '+' differ" in f and "minute" in f and "person" in f for f in found
    )
    assert all("\n" not in f for f in found)


def test_a_consistent_model_has_no_issue_and_numbers_are_wildcards() -> None:
    assert (
        issues(
            """
parameters:
  rate: {default: 0.1, unit: 1/year}
  wait: {default: 2, unit: year}
stocks:
  people: {initial: 100, unit: people, inflows: [births]}
flows:
  births: {equation: "people * rate * 2 + 5", unit: people/year}
auxiliaries:
  smooth: {equation: "SMTH1(people, wait) + 1", unit: people}
  growth: {equation: "TREND(people, wait)", unit: 1/year}
  root: {equation: "SQRT(people * people)", unit: people}
  share: {equation: "MIN(1, people / INIT(people))", unit: dimensionless}
"""
        )
        == []
    )


def test_builtin_signatures_are_checked() -> None:
    found = issues(
        """
parameters:
  wait: {default: 2, unit: week}
  x: {default: 2, unit: people}
auxiliaries:
  s: {equation: "SMTH1(x, wait)", unit: people}
  e: {equation: "EXP(x)", unit: dimensionless}
  p: {equation: "x ^ x", unit: people}
  st: {equation: "STEP(x, wait)", unit: people}
"""
    )
    assert any("s: SMTH1 needs a time in year, and 'wait' is week" in f for f in found), found
    assert any("e: EXP of 'x', which is person" in f for f in found), found
    assert any("p: the exponent of '^' has units person" in f for f in found), found
    assert any("st: STEP needs a time in year" in f for f in found), found


def test_lookup_inputs_are_checked_against_their_declared_input_unit() -> None:
    found = issues(
        """
parameters:
  price: {default: 1, unit: USD}
  share: {default: 0.5, unit: dimensionless}
lookups:
  demand: {points: [[0, 1], [1, 0]], unit: people, input_unit: USD}
auxiliaries:
  ok: {equation: demand(price), unit: people}
  wrong: {equation: demand(share), unit: people}
  inline: {equation: share, unit: people, lookup: {points: [[0, 0], [1, 1]], input_unit: USD}}
"""
    )
    assert len(found) == 2, found
    assert any("wrong: demand takes USD and is given 'share', which is 1" in f for f in found)
    assert any("inline: the lookup of inline takes USD" in f for f in found)


def test_scales_must_match_and_say_by_how_much() -> None:
    found = issues(
        """
parameters:
  a: {default: 1, unit: thousand sellers}
  b: {default: 1, unit: sellers}
auxiliaries:
  c: {equation: a + b, unit: sellers}
"""
    )
    assert len(found) == 1
    assert "thousand seller" in found[0] and "factor of 1000" in found[0]


def test_a_conversion_written_as_a_number_is_reported() -> None:
    found = issues(
        """
parameters:
  sales: {default: 1, unit: USD million/year}
  sellers: {default: 1, unit: thousand sellers}
auxiliaries:
  per_seller: {equation: sales * 1000 / sellers, unit: thousand USD/(seller*year)}
"""
    )
    assert len(found) == 1 and "with the number 1000" in found[0], found


def test_model_unit_definitions_are_used() -> None:
    body = """
parameters:
  n: {default: 1, unit: customers}
auxiliaries:
  m: {equation: n * 2, unit: people}
"""
    assert len(issues(body)) == 1
    assert issues("units: {customer: person}\n" + body) == []


def test_undeclared_variables_are_counted_not_reported() -> None:
    model = fs.loads_model(
        HEAD + "parameters:\n  a: {default: 1}\n  b: {default: 1, unit: x}\n"
        "auxiliaries:\n  c: {equation: a + b, unit: x}\n"
    )
    report = check_units(model)
    assert report.issues == () and report.undeclared == ("a",)


def test_xmile_model_units_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "u.xmile"
    path.write_text(
        '<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">'
        "<header><name>u</name></header>"
        '<sim_specs time_units="Months"><start>0</start><stop>10</stop><dt>1</dt></sim_specs>'
        '<model_units><unit name="Customers"><eqn>People</eqn><alias>Cust</alias></unit>'
        "</model_units><model><variables>"
        '<stock name="pop"><eqn>100</eqn><inflow>births</inflow><units>Customers</units></stock>'
        '<flow name="births"><eqn>pop * rate</eqn><units>Cust/Month</units></flow>'
        '<aux name="rate"><eqn>0.1</eqn><units>1/Months</units></aux>'
        '<aux name="bad"><eqn>pop + rate</eqn><units>People</units></aux>'
        "</variables></model></xmile>"
    )
    model = fs.load_model(path)
    found = [str(i) for i in check_units(model).issues]
    assert len(found) == 1 and "bad: the two sides of '+' differ" in found[0], found
    # written back, the definitions survive both formats
    again = fs.load_model(fs.save_xmile(model, tmp_path / "again.xmile"))
    assert again.units == model.units
    yaml_again = fs.load_model(fs.save_yaml(model, tmp_path / "again.yaml"))
    assert yaml_again.units == model.units


@pytest.mark.parametrize("name", fs.builtin_models())
def test_every_builtin_model_is_unit_consistent(name: str) -> None:
    report = check_units(fs.load_model(name))
    assert [str(i) for i in report.issues] == []
    assert report.undeclared == ()


def test_a_published_model_with_a_unit_slip_is_caught() -> None:
    """SDXorg/test-models' SIR sample (tests/xmile, MIT licence) runs in 'Time' but gives the
    infectious period in days: the recovery flow's units do not match what it declares."""
    path = Path(__file__).resolve().parents[1] / "xmile" / "samples__SIR__SIR" / "SIR.xmile"
    report = check_units(fs.load_model(path))
    assert [i.variable for i in report.issues] == ["recovering"]
    assert "person/day but the variable declares person/time" in report.issues[0].message


def test_vensim_builtins_are_checked() -> None:
    """DELAY_FIXED and SAFE_FORECAST take times; SAMPLE_IF_TRUE's and ACTIVE_INITIAL's values
    share a unit; SAFE_TREND is per time; GAME is its argument."""
    found = issues(
        """
parameters:
  wait: {default: 2, unit: week}
  x: {default: 2, unit: people}
  cash: {default: 2, unit: USD}
auxiliaries:
  d: {equation: "DELAY_FIXED(x, wait, x)", unit: people}
  f: {equation: "SAFE_FORECAST(x, 1, wait)", unit: people}
  s: {equation: "SAMPLE_IF_TRUE(x > 1, x, cash)", unit: people}
  a: {equation: "ACTIVE_INITIAL(x, cash)", unit: people}
  ok_trend: {equation: "SAFE_TREND(x, 1, 0)", unit: 1/year}
  ok_game: {equation: "GAME(x)", unit: people}
"""
    )
    assert any("d: DELAY_FIXED needs a time in year, and 'wait' is week" in f for f in found)
    assert any("f: SAFE_FORECAST needs a time in year" in f for f in found), found
    assert any("s: SAMPLE_IF_TRUE's input and initial value differ" in f for f in found), found
    assert any("a: the arguments of ACTIVE_INITIAL differ" in f for f in found), found
    assert not any("ok_" in f for f in found), found
