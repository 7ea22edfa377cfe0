"""The amazon model on its shipped defaults: plausible internals, the flywheel carrying the
growth (switch-off tests), history reproduced, and the scenarios' directions.

All scenarios are plain parameter sets here, run together in one batched call.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim.io.datasets import load_dataset
from flywheel_sim.studies.history import compare

SCENARIOS = {
    "reinvest": {},
    "harvest": {"harvest_from": 2005.0},
    "no_marketplace": {"marketplace_start": 2100.0},
    "no_selection_link": {"selection_experience_link": 0.0},
    "no_prime": {"prime_start": 2100.0},
    "underinvest_capacity": {"capacity_investment_multiplier": 0.6},
    "no_push": {"push_size": 0.0},
}


@pytest.fixture(scope="module")
def model() -> fs.Model:
    return fs.load_model("amazon")


@pytest.fixture(scope="module")
def runs(model: fs.Model) -> dict[str, xr.Dataset]:
    """Every scenario in one simulate call; returned per scenario."""
    defaults = {p.key: float(p.default) for p in model.of_kind("parameter")}  # type: ignore[arg-type]
    names = list(SCENARIOS)
    columns = {
        key: np.array([SCENARIOS[s].get(key, value) for s in names])
        for key, value in defaults.items()
    }
    result = fs.simulate(model, columns)
    assert (result.status == "ok").all(), result.failed_variable.values
    return {name: result.isel(run=i) for i, name in enumerate(names)}


def at(data: xr.Dataset, name: str, year: float) -> float:
    return float(data[name].sel(time=year))


def yearly(data: xr.Dataset, name: str, year: int) -> float:
    """A flow's total over the year (as Amazon reports it)."""
    return float(data[name].sel(time=slice(year, year + 1)).integrate("time"))


def test_outputs_every_analysis_relies_on(runs: dict[str, xr.Dataset]) -> None:
    base = runs["reinvest"]
    for name in (
        "net_sales",
        "operating_income",
        "third_party_share",
        "customers",
        "prime_members",
        "sellers",
        "selection",
        "price_index",
        "customer_experience",
        "churn",
        "delivery_days",
    ):
        assert name in base, name
        assert np.isfinite(base[name].values).all(), name
    assert 0 < at(base, "third_party_share", 2024) < 1


def test_internals_stay_plausible(runs: dict[str, xr.Dataset]) -> None:
    """What the review found implausible, now bounded: prices against other retailers'
    within 0.8-1.05, experience on a 0-1 scale, yearly churn between a few percent and a half,
    capacity ahead of orders, a bounded share of wallet, Prime members among customers and
    customers among online shoppers."""
    base = runs["reinvest"]
    price = base.price_index.values
    assert price.min() >= 0.8 and price.max() <= 1.05
    experience = base.customer_experience.values
    assert experience.min() > 0 and experience.max() < 1
    churn = base.churn_rate.values
    assert churn.min() >= 0.03 and churn.max() <= 0.5
    utilisation = base.utilisation.sel(time=slice(1997, 2030)).values
    assert np.mean(utilisation < 1) > 0.9 and utilisation.max() < 1.2  # 1.17 in the 1998-99 surge
    assert base.wallet_share.values.max() < 0.7
    assert (base.prime_members <= base.customers + 1e-9).all()
    assert (base.customers <= base.online_shoppers + 1e-9).all()


def test_the_flywheel_carries_the_growth(runs: dict[str, xr.Dataset]) -> None:
    """Cutting the napkin's selection -> experience arm, or its seller arm (no marketplace),
    costs a large part of 2024's business (docs/models/amazon.md gives the figures)."""
    base = runs["reinvest"]
    cut = runs["no_selection_link"]
    assert at(cut, "customers", 2024) < 0.75 * at(base, "customers", 2024)
    assert at(cut, "net_sales", 2024) < 0.75 * at(base, "net_sales", 2024)
    closed = runs["no_marketplace"]
    assert at(closed, "net_sales", 2024) < 0.8 * at(base, "net_sales", 2024)
    assert at(closed, "selection", 2024) < 0.2 * at(base, "selection", 2024)


def test_history_is_reproduced(model: fs.Model, runs: dict[str, xr.Dataset]) -> None:
    """Net sales 1997-2024 within a 10% mean absolute percentage error; operating income with
    the reported sign from 2002 and within USD 2 billion through 2015."""
    base = runs["reinvest"]
    history = load_dataset("amazon_history").set_index("year")
    errors = [
        abs(yearly(base, "net_sales", y) / history.net_sales_usd_m[y] - 1)
        for y in range(1997, 2025)
    ]
    assert np.mean(errors) <= 0.10, np.mean(errors)
    income = history.operating_income_usd_m.dropna()
    for year, reported in income.items():
        modelled = yearly(base, "operating_income", int(year))
        if year >= 2002:
            assert np.sign(modelled) == np.sign(reported), (year, modelled, reported)
        if year <= 2015:
            assert abs(modelled - reported) <= 2000, (year, modelled, reported)
    table = compare(model, base.expand_dims("run"))
    assert isinstance(table, pd.DataFrame) and len(table) > 0


def test_net_sales_are_converged_at_the_shipped_dt(model: fs.Model) -> None:
    shipped = fs.simulate(model).isel(run=0)
    finer = fs.simulate(model, dt=model.time.dt / 4).isel(run=0)
    for year in (2000, 2010, 2024):
        a, b = yearly(shipped, "net_sales", year), yearly(finer, "net_sales", year)
        assert abs(a / b - 1) < 0.01, (year, a, b)


def test_customers_follow_an_s_shape(runs: dict[str, xr.Dataset]) -> None:
    """Slow start, acceleration, then slowing as the online market saturates."""
    customers = runs["reinvest"].customers.sel(time=slice(2001, 2030))
    growth = np.gradient(customers.values, customers.time.values)
    assert (growth > 0).all()
    relative = growth / customers.values
    assert relative[-1] < 0.5 * relative.max()  # fractional growth falls away


def test_harvesting_earns_more_now_and_less_later(runs: dict[str, xr.Dataset]) -> None:
    base, harvest = runs["reinvest"], runs["harvest"]
    assert yearly(harvest, "operating_income", 2006) > yearly(base, "operating_income", 2006)
    assert at(harvest, "customers", 2024) < at(base, "customers", 2024)
    assert at(harvest, "price_index", 2015) > at(base, "price_index", 2015)
    assert at(harvest, "delivery_network", 2015) < at(base, "delivery_network", 2015)


def test_no_prime_means_lower_retention_and_sales(runs: dict[str, xr.Dataset]) -> None:
    base, no_prime = runs["reinvest"], runs["no_prime"]
    assert at(no_prime, "prime_members", 2024) == 0
    retention = lambda d: at(d, "churn", 2020) / at(d, "customers", 2020)  # noqa: E731
    assert retention(no_prime) > retention(base)
    assert at(no_prime, "net_sales", 2024) < at(base, "net_sales", 2024)


def test_underinvesting_in_capacity_slows_delivery(runs: dict[str, xr.Dataset]) -> None:
    base, under = runs["reinvest"], runs["underinvest_capacity"]
    assert at(under, "utilisation", 2015) > at(base, "utilisation", 2015)
    assert at(under, "delivery_days", 2015) > at(base, "delivery_days", 2015)
    assert at(under, "customers", 2024) < at(base, "customers", 2024)


def test_the_early_push_brings_the_flywheel_forward(runs: dict[str, xr.Dataset]) -> None:
    base, no_push = runs["reinvest"], runs["no_push"]
    assert at(no_push, "customers", 2001) < 0.8 * at(base, "customers", 2001)
    assert yearly(no_push, "operating_income", 1999) > yearly(base, "operating_income", 1999)


def test_flywheel_run_amazon_prints_key_figures_and_draws_the_chart(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flywheel_sim.cli", "run", "amazon"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for year in ("2000", "2010", "2020", "2024", "2030"):
        assert year in done.stdout
    assert "observed" in done.stdout and "key figures" in done.stdout
    chart = tmp_path / "out" / "amazon.png"
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_key_figures_compare_like_with_like(model: fs.Model, runs: dict[str, xr.Dataset]) -> None:
    """Customers are reported at the year's end and the third-party share as a yearly mean, so
    the key-figure row for 2000 is the model's value at 2001 (and the mean over 2000)."""
    from rich.console import Console

    from flywheel_sim.present.report import key_figures

    base = runs["reinvest"].expand_dims("run")
    console = Console(width=200, record=True)
    console.print(key_figures(model, base))
    text = console.export_text()
    words = " ".join(text.split())  # the notes wrap at the table's width
    end_2000 = at(runs["reinvest"], "customers", 2001)
    row = next(line for line in text.splitlines() if line.startswith("│ customers"))
    assert f"{end_2000:.2f}" in row
    assert "customers, prime_members, sellers: at the end of the year" in words
    assert "third_party_share: yearly means" in words
    share = runs["reinvest"].third_party_share.sel(time=slice(2000, 2001))
    mean_2000 = float(share.integrate("time"))  # over one year: the mean
    assert mean_2000 > 3 * float(share.isel(time=0))  # so the mean and the point differ
    row = next(line for line in text.splitlines() if line.startswith("│ third_party_share"))
    assert row.split("│")[3].strip() == f"{mean_2000:.3f}"
