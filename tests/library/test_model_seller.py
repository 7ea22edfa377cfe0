"""The built-in `seller` model: a brand's own flywheel on Amazon, and its tipping point.

Everything runs on the default parameters; the push experiment varies the ad budget (and, once,
the campaign's duration), the stockout test the lead time.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim.spec.ast import names_in
from flywheel_sim.spec.names import canonical

ROOT = Path(__file__).resolve().parents[2]
BUDGETS = np.linspace(0.0, 4000.0, 257)  # $/week, a 15.625 $/week grid
LATE = 94.0  # organic sales must not fall over the last ten weeks once the flywheel turns


@pytest.fixture(scope="module")
def model() -> fs.Model:
    return fs.load_model("seller")


@pytest.fixture(scope="module")
def sweep(model: fs.Model) -> xr.Dataset:
    """ONE batched run over all ad budgets (the other parameters at their defaults)."""
    return fs.simulate(
        model,
        {"ad_budget": BUDGETS},
        variables=[
            "organic_sales",
            "organic_traffic",
            "paid_traffic",
            "sales",
            "demand",
            "cash",
            "inventory",
            "on_order",
        ],
    )


def took_off(result: xr.Dataset) -> np.ndarray:
    """Runs whose organic sales end far above the no-push run's and are still not falling."""
    end = result.organic_sales.sel(time=104.0).values
    late = result.organic_sales.sel(time=LATE).values
    return (end > 10 * end[0]) & (end >= late)


# -- structure -------------------------------------------------------------------------------


def test_loads_compiles_and_runs_in_weeks(model: fs.Model) -> None:
    assert "seller" in fs.builtin_models()
    assert model.name == "seller"
    assert model.time.units == "week"
    assert (model.time.start, model.time.stop) == (0, 104)
    program = fs.compile_model(model)
    assert {"inventory", "cash"} <= set(program.slot_keys)
    result = fs.simulate(model)
    assert result.sizes["time"] == 105
    assert np.all(result.status.values == "ok")
    assert {e.key for e in model.of_kind("stock")} >= {
        "reviews",
        "average_rating",
        "content_quality",
        "inventory",
        "cash",
    }


def _sign(model: fs.Model, source: str, target: str) -> str:
    """The declared polarity of the causal link source -> target ('' if there is none)."""
    element = model.element(target)
    if element.kind == "stock":
        if canonical(source) in {canonical(f) for f in element.inflows}:
            return "+"
        if canonical(source) in {canonical(f) for f in element.outflows}:
            return "-"
        return ""
    for link in element.links:
        if canonical(link.source) == canonical(source):
            return link.polarity
    return ""


def test_declared_loops_exist_are_closed_and_have_the_declared_polarity(
    model: fs.Model,
) -> None:
    loops = {loop.name: loop for loop in model.loops}
    required = {
        "reviews_conversion": "R",
        "rank_organic_traffic": "R",
        "content_seo": "R",
        "stockout": "B",
    }
    for name, polarity in required.items():
        assert loops[name].polarity == polarity, name
    assert {"reviews", "conversion_rate", "sales"} <= set(loops["reviews_conversion"].variables)
    assert {"sales_rank", "organic_traffic"} <= set(loops["rank_organic_traffic"].variables)
    # the cash caps bind only when cash runs short, never at the defaults: not named loops
    assert not {"ad_cash", "purchasing_cash"} & set(loops)
    for loop in model.loops:
        signs = []
        following = (*loop.variables[1:], loop.variables[0])
        for source, target in zip(loop.variables, following, strict=True):
            model.element(source)  # raises if the variable does not exist
            sign = _sign(model, source, target)
            assert sign, f"loop {loop.name}: no link {source} -> {target}"
            signs.append(sign)
        if "?" in signs:
            assert loop.polarity == "?", loop.name
        else:
            assert loop.polarity == ("B" if signs.count("-") % 2 else "R"), loop.name


def test_every_parameter_is_documented_and_sourced(model: fs.Model) -> None:
    for p in model.of_kind("parameter"):
        assert p.source.strip(), p.name
        assert p.description.strip() and p.unit.strip(), p.name
        assert p.minimum is not None and p.maximum is not None, p.name
        assert isinstance(p.default, int | float) and p.minimum <= p.default <= p.maximum


def test_every_input_is_a_declared_link_with_a_source(model: fs.Model) -> None:
    keys = {e.key for e in model.elements}
    for element in (*model.of_kind("flow"), *model.of_kind("aux")):
        used = {canonical(n) for n in names_in(fs.parse(element.equation))} & keys
        linked = {canonical(link.source) for link in element.links}
        assert used == linked, element.name
        for link in element.links:
            assert link.polarity in "+-?", (element.name, link.source)
            assert link.citation.strip(), (element.name, link.source)


def test_the_docs_cite_every_link_and_parameter(model: fs.Model) -> None:
    doc = (ROOT / "docs" / "models" / "seller.md").read_text()
    for element in model.elements:
        for link in element.links:
            row = f"| `{link.source}` | `{element.name}` | {link.polarity} |"
            assert row in doc, row
    for p in model.of_kind("parameter"):
        assert f"| `{p.name}` |" in doc, p.name


# -- the push experiment ---------------------------------------------------------------------


def test_without_a_push_sales_decay_to_a_low_level(sweep: xr.Dataset) -> None:
    none = sweep.isel(run=0)
    assert float(none.ad_budget) == 0.0
    organic = none.organic_sales.values
    assert organic[-1] < 0.5 * organic[0]
    assert organic[-1] < 1.0  # units a week: the listing is practically invisible
    assert float(none.paid_traffic.max()) == 0.0


def test_a_big_push_keeps_organic_sales_up_after_the_ads_stop(sweep: xr.Dataset) -> None:
    big = sweep.isel(run=int(np.searchsorted(BUDGETS, 1500.0)))
    assert float(big.ad_budget) == 1500.0  # the default
    assert np.all(big.paid_traffic.sel(time=slice(17, None)).values == 0)  # ads ran 4..16
    no_push = float(sweep.organic_sales.isel(run=0, time=-1))
    end = float(big.organic_sales.sel(time=104))
    assert end > 100 * no_push
    assert end >= float(big.organic_sales.sel(time=LATE))  # still not decaying
    assert end > 2 * float(big.organic_sales.sel(time=16))  # grew on its own after the ads
    assert float(big.organic_traffic.sel(time=104)) > 50 * float(
        sweep.organic_traffic.isel(run=0, time=-1)
    )


def test_a_too_small_push_decays_back_to_the_no_push_level(sweep: xr.Dataset) -> None:
    small = sweep.isel(run=int(np.searchsorted(BUDGETS, 343.75)))
    big = sweep.isel(run=int(np.searchsorted(BUDGETS, 1500.0)))
    no_push = float(sweep.organic_sales.isel(run=0, time=-1))
    end = float(small.organic_sales.sel(time=104))
    assert end < 0.5 * float(small.organic_sales.sel(time=16))  # fell after the ads stopped
    assert end - no_push < 0.01 * (float(big.organic_sales.sel(time=104)) - no_push)


def test_the_critical_push_found_by_bisection_lies_inside_the_range(sweep: xr.Dataset) -> None:
    up = took_off(sweep)
    assert not up[0] and up[-1]
    assert np.all(np.diff(up.astype(int)) >= 0), "the outcome must be monotone in the budget"
    lo, hi = 0, len(BUDGETS) - 1  # invariant: up[lo] is False, up[hi] is True
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if up[mid]:
            hi = mid
        else:
            lo = mid
    critical = (BUDGETS[lo], BUDGETS[hi])
    assert BUDGETS[0] < critical[0] < critical[1] < BUDGETS[-1]
    assert critical == (687.5, 703.125)  # the figure reported in docs/models/seller.md
    # a genuine tipping point: the two sides of it end up worlds apart
    end = sweep.organic_sales.sel(time=104).values
    assert end[hi] > 100 * end[lo]


def test_the_push_is_budget_times_duration(model: fs.Model) -> None:
    result = fs.simulate(
        model, {"ad_budget": [1500.0, 1500.0], "ad_duration": [4.0, 12.0]}, stop=104
    )
    end = result.organic_sales.sel(time=104).values
    assert end[0] < 2.0 < 100 < end[1]
    # the documented 4-week threshold: 1,859-1,875 $/week, about what 12 weeks cost in all
    short = fs.simulate(model, {"ad_budget": [0.0, 1859.375, 1875.0], "ad_duration": 4.0})
    assert took_off(short).tolist() == [False, False, True]


# -- cash and inventory ----------------------------------------------------------------------


def test_cash_inventory_and_supply_line_never_go_negative(
    model: fs.Model, sweep: xr.Dataset
) -> None:
    extreme = fs.simulate(
        model,
        {
            "ad_budget": [50000.0, 50000.0, 1500.0],
            "initial_cash": [1000.0, 0.0, 60000.0],
            "initial_inventory": [0.0, 800.0, 0.0],
            "lead_time": [52.0, 8.0, 0.5],
        },
    )
    for result in (sweep, extreme):
        assert np.all(result.status.values == "ok")
        for name in ("cash", "inventory", "on_order"):
            assert float(result[name].min()) >= 0.0, name
    assert float(extreme.cash.isel(run=0).min()) < 1000.0  # the cash limit did bite


def test_stockouts_cut_sales_and_hurt_the_rank(model: fs.Model) -> None:
    result = fs.simulate(model, {"lead_time": [2.0, 20.0]})
    short, long = result.isel(run=0), result.isel(run=1)
    lost_short = float(short.lost_sales.sum())
    lost_long = float(long.lost_sales.sum())
    assert lost_long > 10 * lost_short
    assert float(long.sales.sum()) < 0.7 * float(short.sales.sum())
    # during the stockout sales fall well short of demand ...
    assert float((long.sales / long.demand).min()) < 0.5
    # ... and the lost velocity leaves the listing ranked worse
    assert float(long.sales_rank.sel(time=30)) > 2 * float(short.sales_rank.sel(time=30))
    assert np.all(result.sales.values <= result.demand.values + 1e-9)


def test_conversion_responds_to_price_fba_and_reviews(model: fs.Model) -> None:
    result = fs.simulate(
        model,
        {"price": [25.0, 30.0, 25.0], "use_fba": [1.0, 1.0, 0.0], "ad_budget": [0.0] * 3},
        stop=1,
    )
    conv = result.conversion_rate.isel(time=0).values
    assert conv[1] < conv[0] and conv[2] < conv[0]
    assert conv[0] / conv[2] == pytest.approx(1.25)  # the Prime badge uplift
    assert conv[0] / conv[1] == pytest.approx((30 / 25) ** 2)  # price elasticity 2
    grown = fs.simulate(model).isel(run=0)
    assert float(grown.conversion_rate.sel(time=104)) > 3 * float(grown.conversion_rate.sel(time=0))
    assert float(grown.average_rating.sel(time=104)) == pytest.approx(4.5, abs=0.02)
    assert math.isclose(float(grown.reviews.sel(time=0)), 0.0)
