"""The agent-based market: conservation of money and units, reproducibility, both backends,
the Result shape the rest of the project relies on, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim.errors import ModelError, ParameterError
from flywheel_sim.market import (
    VARIABLES,
    MarketParams,
    MarketSettings,
    market_model,
    simulate_market,
)
from flywheel_sim.market.params import load_market_study

SMALL = {"customers": 3000, "sellers": 150, "months": 96}
# open everything early so that a short, small run exercises every rule
EARLY = {"marketplace_start": 6, "prime_start": 18, "fba_start": 24}


@pytest.fixture(scope="module")
def run() -> xr.Dataset:
    return simulate_market(EARLY, seed=11, **SMALL)


def test_money_is_conserved_every_month(run) -> None:
    spend = run.customer_spend.values
    parts = run.seller_revenue.values + run.platform_fees.values + run.first_party_sales.values
    assert np.all(spend > 0)
    np.testing.assert_allclose(spend, parts, rtol=1e-10)
    # gross merchandise sales are first- plus third-party sales; shares add up
    np.testing.assert_allclose(
        run.gross_merchandise_sales.values,
        run.first_party_sales.values + run.third_party_sales.values,
        rtol=1e-12,
    )
    assert run.third_party_sales.values[0, -1] > 0 and run.seller_revenue.values[0, -1] > 0


def test_units_are_conserved_every_month(run) -> None:
    bought, sold = run.units_bought.values[0], run.units_sold.values[0]
    np.testing.assert_array_equal(bought, sold)
    np.testing.assert_array_equal(bought, run.orders.values[0])
    inventory = run.inventory.values[0]
    start = MarketParams.make().first_party_offers * MarketParams.make().initial_stock
    previous = np.concatenate([[start], inventory[:-1]])
    flows = run.units_restocked.values[0] - sold - run.units_written_off.values[0]
    np.testing.assert_array_equal(inventory, previous + flows)
    assert run.stockouts.values.sum() > 0  # stock-outs happen, and are not counted as sales
    assert run.units_written_off.values.sum() > 0  # sellers left with stock


def test_every_rule_is_exercised(run) -> None:
    last = run.isel(run=0, time=-1)
    assert float(last.sellers) > 0 and float(run.seller_exit.sum()) > 0
    assert float(last.prime_members) > 0 and float(run.prime_leaving.sum()) > 0
    assert 0 < float(last.fba_share) <= 1
    assert float(run.churn.sum()) > 0 and float(run.acquisition.sum()) > 0
    assert float(last.reviews) > 0
    assert run.capacity.values[0, -1] > run.capacity.values[0, 0]
    shares = run.sales_share_by_position.values[0]
    np.testing.assert_allclose(shares[shares.sum(axis=1) > 0].sum(axis=1), 1.0)
    assert shares[-1, 0] > shares[-1, 3]  # the top result sells more than the fourth
    assert 0 < float(last.hhi) <= 1 and float(last.price_dispersion) > 0


def test_a_seed_reproduces_its_run_and_another_seed_differs() -> None:
    a = simulate_market(EARLY, seed=5, customers=1500, sellers=80, months=40)
    b = simulate_market(EARLY, seed=5, customers=1500, sellers=80, months=40)
    c = simulate_market(EARLY, seed=6, customers=1500, sellers=80, months=40)
    assert a.identical(b)
    assert not np.array_equal(a.orders.values, c.orders.values)
    assert int(a.seed.values[0]) == 5


def test_numba_and_numpy_backends_give_the_same_run() -> None:
    pytest.importorskip("numba")
    kw = {"seed": 3, "customers": 2000, "sellers": 100, "months": 60}
    fast = simulate_market(EARLY, backend="numba", **kw)
    reference = simulate_market(EARLY, backend="numpy", **kw)
    for name in fast.data_vars:  # every output, bit for bit
        np.testing.assert_array_equal(fast[name].values, reference[name].values, err_msg=name)
    assert fast.identical(reference)


def test_run_settings_are_one_frozen_object_checked_when_made() -> None:
    import dataclasses

    from flywheel_sim.market.run import run_market

    settings = MarketSettings(customers=800, sellers=40, months=12, backend="numpy")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.months = 3  # type: ignore[misc]
    by_object = run_market(EARLY, settings, seed=2)
    by_keywords = simulate_market(EARLY, seed=2, customers=800, sellers=40, months=12)
    assert by_object.identical(by_keywords)
    positions = int(MarketParams.make().search_results) + 1  # search results, recommendations
    assert by_object.sizes == {"run": 1, "time": 12, "position": positions}
    with pytest.raises(ParameterError, match="market backend 'gpu' must be auto, numba or numpy"):
        MarketSettings(backend="gpu")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="months must be a whole number of at least 1"):
        MarketSettings(months=0)
    with pytest.raises(ParameterError, match="sellers must be a whole number"):
        MarketSettings(sellers=2.5)  # type: ignore[arg-type]


def test_result_has_the_project_shape_and_amazon_names(run) -> None:
    amazon = {e.key for e in fs.load_model("amazon").elements}
    shared = {
        "customers",
        "prime_members",
        "sellers",
        "selection",
        "first_party_sales",
        "third_party_sales",
        "price_index",
        "delivery_days",
        "reviews",
        "operating_income",
        "net_sales",
        "third_party_share",
        "orders",
        "fba_share",
        "capacity",
        "traffic",
    }
    assert shared <= amazon  # the names mean the same things in both models
    for name in shared:
        assert run[name].dims == ("run", "time"), name
        assert run[name].attrs["units"], name
    assert run.time.values[0] == 1 and run.time.values[-1] == SMALL["months"]
    assert run.attrs["time_units"] == "month"
    assert not set(VARIABLES) & set(MarketParams.names())  # no output hides a parameter
    assert run.effective_reinvest_share.values[0, 0] == 0.8
    assert float(run.reinvest_share.values[0]) == 0.8  # the parameter, a run coordinate
    assert str(run.status.values[0]) == "ok"


def test_the_run_store_and_charts_take_a_market_result(run, tmp_path) -> None:
    from flywheel_sim.present.charts import plot_result

    store = fs.RunStore(tmp_path / "runs.duckdb")
    batch = store.save_result(market_model(), run, scenario="early")
    loaded = store.load(batch)
    np.testing.assert_array_equal(loaded.customers.values, run.customers.values)
    assert float(loaded.commission_rate.values[0]) == 0.15
    assert store.batch(batch).model_name == "market"
    path = plot_result(run, tmp_path / "market.png", ["customers", "selection", "hhi"])
    assert path.stat().st_size > 1000


def test_policies_move_parameters_month_by_month() -> None:
    ramp = fs.Ramp(to=0.0, start=10, end=20)
    r = simulate_market(
        EARLY, seed=1, customers=800, sellers=40, months=30, policies={"reinvest_share": ramp}
    )
    share = r.effective_reinvest_share.values[0]
    assert share[0] == 0.8 and share[15] == pytest.approx(0.4) and share[25] == 0.0
    assert "reinvest_share@base" in r.coords


def test_bad_input_is_one_clear_error() -> None:
    with pytest.raises(ParameterError, match="did you mean 'commission_rate'"):
        MarketParams.make({"comission_rate": 0.1})
    with pytest.raises(ParameterError, match=r"'commission_rate' = 2 is outside .*market.yaml:\d+"):
        MarketParams.make({"commission_rate": 2})
    with pytest.raises(ParameterError, match="quality_low"):
        MarketParams.make({"quality_low": 4.9, "quality_high": 3})
    with pytest.raises(ParameterError, match="customers must be a whole number"):
        simulate_market(customers=0)
    with pytest.raises(ModelError, match="cannot follow a policy"):
        simulate_market(customers=10, policies={"categories": fs.Step(to=3, at=2)})


def test_scenario_file_is_checked_against_the_declaration(tmp_path) -> None:
    study = load_market_study()
    assert {"reinvest", "first_party_only", "harvest", "no_prime", "no_fba"} <= set(study.scenarios)
    bad = tmp_path / "market.yaml"
    bad.write_text("scenarios:\n  x:\n    set: {comission_rate: 0.1}\n")
    with pytest.raises(ModelError, match=r"market.yaml:3.*did you mean 'commission_rate'"):
        load_market_study(bad)


def test_parameters_cite_a_seed_sentence_or_say_why() -> None:
    from conftest import cites_a_seed_or_says_why

    model = market_model()
    declared = [e.key for e in model.of_kind("parameter")]
    assert declared == list(MarketParams.names())
    for element in model.of_kind("parameter"):
        assert element.unit.strip(), element.name
        assert cites_a_seed_or_says_why(element.source), (element.name, element.source)


def test_every_rule_in_the_docs_quotes_its_seed_sentence_verbatim() -> None:
    import re
    from pathlib import Path

    from conftest import cites_a_seed_or_says_why

    text = (Path(__file__).resolve().parents[2] / "docs" / "models" / "market.md").read_text()
    rules = re.findall(r"^- \*\*([PCS]\d+)\.(.*?)(?=^- \*\*|^#|\Z)", text, re.S | re.M)
    assert len(rules) >= 20
    for name, body in rules:
        flat = " ".join(body.split())
        quotes = re.findall(r'Seed ([12]): "(.*?)"(?= Seed|\s*$|\.\s*$)', flat)
        assert quotes or "Assumption" in flat or "launched" in flat, name
        assert len(quotes) == flat.count("Seed "), name  # every citation is a checked quote
        for number, quote in quotes:
            assert cites_a_seed_or_says_why(f"Seed {number}: {quote}"), (name, quote)
