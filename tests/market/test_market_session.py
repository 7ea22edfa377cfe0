"""The ``flywheel market`` workflow in the library: scenarios picked and merged, the plan
checked, one run or an ensemble."""

from __future__ import annotations

import pytest

import flywheel_sim as fs
from flywheel_sim.errors import ModelError, ParameterError
from flywheel_sim.market import MarketSettings
from flywheel_sim.market.session import MarketPlan, market_scenarios, run_plan

SMALL = MarketSettings(customers=500, sellers=25, months=10, backend="numpy")


def test_scenarios_get_the_calls_values_and_policies_on_top() -> None:
    ramp = fs.Ramp(to=0.1, start=2, end=6)
    reinvest, harvest = market_scenarios(
        ["reinvest", "harvest"], {"commission_rate": 0.2}, {"reinvest_share": ramp}
    )
    assert (reinvest.name, harvest.name) == ("reinvest", "harvest")
    for item in (reinvest, harvest):
        assert dict(item.values)["commission_rate"] == 0.2
        assert dict(item.policies) == {"reinvest_share": ramp}
    plain = market_scenarios(["harvest"], {}, {})[0]
    assert plain == fs.load_market_study().scenario("harvest")  # nothing on top: unchanged
    assert "commission_rate" not in dict(plain.values)


def test_bad_scenarios_fail_before_any_run() -> None:
    with pytest.raises(ParameterError, match="did you mean 'commission_rate'"):
        market_scenarios(["reinvest"], {"comission_rate": 0.1}, {})
    with pytest.raises(ParameterError, match="outside its declared range"):
        market_scenarios(["reinvest"], {"commission_rate": 2.0}, {})
    with pytest.raises(ModelError, match="did you mean 'harvest'"):
        market_scenarios(["harvets"], {}, {})
    with pytest.raises(ParameterError, match="--runs must be at least 1, not 0"):
        MarketPlan((), SMALL, runs=0)


def test_one_run_and_an_ensemble_give_the_same_result() -> None:
    chosen = market_scenarios(["reinvest"], {"marketplace_start": 3}, {})
    plan = MarketPlan(chosen, SMALL, seed=4)
    assert plan.seeds == [4] and plan.label == "market: 1 scenario(s) x 1 run(s)"
    months: list[int] = []
    single = run_plan(plan, lambda done, total: months.append(done))
    assert months == list(range(1, 11))  # one run reports its months
    pooled = MarketPlan(chosen, SMALL, seed=4, executor="processes", workers=1)
    runs: list[int] = []
    ensemble = run_plan(pooled, lambda done, total: runs.append(done))
    assert runs == [1]  # an ensemble reports its runs
    assert single["reinvest"].identical(ensemble["reinvest"])
    assert single["reinvest"].attrs["scenario"] == "reinvest"
    two = run_plan(MarketPlan(chosen, SMALL, seed=4, runs=2))
    assert list(two["reinvest"].seed.values) == [4, 5]
    assert two["reinvest"].isel(run=0).customers.identical(single["reinvest"].isel(run=0).customers)
