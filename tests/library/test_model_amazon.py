"""The amazon model's behaviour on its shipped defaults (the issue's four demonstrations).

All scenarios are plain parameter sets here, run together in one batched call.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim.studies.history import compare

SCENARIOS = {
    "reinvest": {},
    "harvest": {"harvest_from": 2005.0},
    "no_marketplace": {"marketplace_start": 2100.0},
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
        "delivery_days",
    ):
        assert name in base, name
        assert np.isfinite(base[name].values).all(), name
    assert 0 < at(base, "third_party_share", 2024) < 1


def test_customers_follow_an_s_shape(runs: dict[str, xr.Dataset]) -> None:
    """Slow start, acceleration, then slowing toward saturation; growth peaks after the
    marketplace (2000) and Prime (2005) start."""
    customers = runs["reinvest"].customers.sel(time=slice(2001.5, 2030))  # after the push
    growth = np.gradient(customers.values, customers.time.values)
    assert (growth > 0).all()
    peak = float(customers.time.values[np.argmax(growth)])
    assert 2005 < peak < 2022, peak
    assert growth[-1] < 0.4 * growth.max()  # slowing toward saturation by 2030
    early = float(runs["reinvest"].customers.sel(time=2001))
    assert early < 0.25 * float(customers.sel(time=2030))


def test_net_sales_follow_history_within_a_factor_of_two(
    model: fs.Model, runs: dict[str, xr.Dataset]
) -> None:
    base = runs["reinvest"].expand_dims(run=[0])
    table = compare(model, base)
    sales = table[(table.variable == "net_sales") & table.time.between(2000, 2024)]
    assert len(sales) == 25
    assert sales.ratio.between(0.5, 2.0).all(), sales[["time", "ratio"]].to_string()


def test_harvesting_ends_smaller_than_reinvesting(runs: dict[str, xr.Dataset]) -> None:
    reinvest, harvest = runs["reinvest"], runs["harvest"]
    assert at(harvest, "net_sales", 2024) < 0.9 * at(reinvest, "net_sales", 2024)
    assert at(harvest, "customers", 2024) < 0.95 * at(reinvest, "customers", 2024)
    assert at(harvest, "price_index", 2010) > at(reinvest, "price_index", 2010)
    # harvesting takes profit sooner
    assert at(harvest, "operating_income", 2008) > at(reinvest, "operating_income", 2008)


def test_no_marketplace_ends_with_smaller_selection_and_sales(runs: dict[str, xr.Dataset]) -> None:
    base, closed = runs["reinvest"], runs["no_marketplace"]
    assert at(closed, "sellers", 2024) == 0
    assert at(closed, "selection", 2024) < 0.5 * at(base, "selection", 2024)
    assert at(closed, "net_sales", 2024) < 0.8 * at(base, "net_sales", 2024)


def test_no_prime_means_lower_retention(runs: dict[str, xr.Dataset]) -> None:
    base, none = runs["reinvest"], runs["no_prime"]
    assert at(none, "prime_members", 2024) == 0

    def churn_rate(data: xr.Dataset) -> float:
        window = data.sel(time=slice(2010, 2024))
        return float((window.churn / window.customers).mean())

    assert churn_rate(none) > 1.1 * churn_rate(base)
    assert at(none, "customers", 2024) < at(base, "customers", 2024)


def test_underinvesting_in_capacity_slows_delivery_and_growth(runs: dict[str, xr.Dataset]) -> None:
    base, under = runs["reinvest"], runs["underinvest_capacity"]
    gap = (under.delivery_days - base.delivery_days).sel(time=slice(2000, 2030))
    assert float(gap.max()) > 0.5  # a visible dip in delivery speed (days slower)
    assert float(under.utilisation.sel(time=slice(2000, 2030)).max()) > 1.0
    assert at(under, "net_sales", 2024) < at(base, "net_sales", 2024)


def test_the_early_push_decides_whether_the_flywheel_takes_off(runs: dict[str, xr.Dataset]) -> None:
    assert at(runs["no_push"], "customers", 2030) < 5  # million: it never turns
    assert at(runs["reinvest"], "customers", 2030) > 100


def test_flywheel_run_amazon_prints_key_figures_and_draws_the_chart(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flywheel_sim.cli", "run", "amazon"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for year in ("2000", "2010", "2020", "2024", "2030"):
        assert year in done.stdout
    assert "observed" in done.stdout and "key figures" in done.stdout
    chart = tmp_path / "out" / "amazon.png"
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_aws_cash_funds_a_denser_network(model: fs.Model) -> None:
    result = fs.simulate(model, {"aws_start": [2006.0, 2100.0]}).sel(time=2024)
    with_aws, without = result.isel(run=0), result.isel(run=1)
    assert float(with_aws.capacity_coverage) > float(without.capacity_coverage)
    assert float(with_aws.delivery_days) < float(without.delivery_days)


def test_key_figures_compare_like_with_like(model: fs.Model, runs: dict[str, xr.Dataset]) -> None:
    """Customers are reported at the year's end and the third-party share as a yearly mean, so
    the key-figure row for 2000 is the model's value at 2001 (and the mean over 2000)."""
    from rich.console import Console

    from flywheel_sim.present.report import key_figures

    base = runs["reinvest"].expand_dims("run")
    console = Console(width=200, record=True)
    console.print(key_figures(model, base))
    text = console.export_text()
    end_2000 = at(runs["reinvest"], "customers", 2001)
    row = next(line for line in text.splitlines() if line.startswith("│ customers"))
    assert f"{end_2000:.2f}" in row
    assert "customers, prime_members: at the end of the year" in text
    assert "third_party_share: yearly means" in text
    share = runs["reinvest"].third_party_share.sel(time=slice(2000, 2001))
    mean_2000 = float(share.integrate("time"))  # over one year: the mean
    assert mean_2000 > 10 * float(share.isel(time=0))  # so the mean and the point differ
    row = next(line for line in text.splitlines() if line.startswith("│ third_party_share"))
    assert row.split("│")[3].strip() == f"{mean_2000:.3f}"
