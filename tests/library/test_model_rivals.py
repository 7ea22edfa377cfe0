"""Tests for the built-in model ``rivals``: the flywheel as a barrier to entry.

Two platforms with equal structure and equal behavioural parameters; the entrant opens
``entrant_delay`` years after the incumbent. The tests check the model's bookkeeping (loops,
links, sources), its symmetry, and the two claims of docs/models/rivals.md: with an equal
launch push the late entrant stays far behind, and catching up takes a push several times the
incumbent's — more the later it enters.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim.spec.ast import names_in

CLOCK = {"time", "dt", "starttime", "stoptime", "pi"}
SEEDS = Path(__file__).resolve().parents[2] / "docs" / "seeds"
TOP_RATIO = 50.0  # push[entrant] / push[incumbent] at the parameter's maximum (the whole market)


@pytest.fixture(scope="module")
def model() -> fs.Model:
    return fs.load_model("rivals")


def final(model: fs.Model, params: dict[str, Any]) -> xr.Dataset:
    """Customers and sellers at the horizon, dims (run, platform)."""
    return fs.simulate(model, params, variables=["customers", "sellers"]).isel(time=-1)


def push_of(model: fs.Model, platform: str) -> float:
    default = model.element("push").default
    assert isinstance(default, tuple)
    return dict(default)[platform]


def catch_up_ratios(
    model: fs.Model, delays: list[float], rounds: int = 4, points: int = 16
) -> np.ndarray:
    """Smallest push[entrant] / push[incumbent] with which the entrant has at least the
    incumbent's customers at the horizon, for each delay (inf if no push within range does).

    Bisection with many points per round: each round is ONE batched simulate call over all
    delays times ``points - 1`` push values, and narrows each bracket ``points``-fold.
    """
    base = push_of(model, "incumbent")
    n = len(delays)

    def caught_up(delay: np.ndarray, ratio: np.ndarray) -> np.ndarray:
        end = final(model, {"entrant_delay": delay, "push[entrant]": ratio * base})
        return np.asarray(end.customers.sel(platform="entrant") >= end.customers[:, 0])

    low, high = np.zeros(n), np.full(n, TOP_RATIO)
    reachable = caught_up(np.asarray(delays, dtype=float), high)
    for _ in range(rounds):
        grid = low[:, None] + (high - low)[:, None] * np.linspace(0, 1, points + 1)[1:-1]
        ok = caught_up(np.repeat(delays, points - 1).astype(float), grid.ravel()).reshape(n, -1)
        for i in range(n):
            first = int(np.argmax(ok[i])) if ok[i].any() else points - 1
            high[i] = grid[i, first] if ok[i].any() else high[i]
            low[i] = grid[i, first - 1] if first > 0 else low[i]
    return np.where(reachable, high, np.inf)


@pytest.fixture(scope="module")
def ratios(model: fs.Model) -> dict[float, float]:
    delays = [1.0, 3.0, 5.0, 7.0]
    found = dict(zip(delays, catch_up_ratios(model, delays).tolist(), strict=True))
    print("catch-up push ratio (entrant / incumbent) by entrant delay:", found)
    return found


# -- structure -------------------------------------------------------------------------------


def test_loads_and_compiles(model: fs.Model) -> None:
    assert model.name == "rivals"
    assert "rivals" in fs.builtin_models()
    assert model.dimension("platform").elements == ("incumbent", "entrant")
    assert model.time.units == "year"
    assert model.time.stop - model.time.start == 30
    program = fs.compile_model(model)
    assert {"customers[incumbent]", "customers[entrant]"} <= set(program.slot_keys)
    for name in ("customers", "sellers", "cumulative_orders"):
        assert model.element(name).kind == "stock"
        assert model.element(name).dims == ("platform",)


def edge_polarity(model: fs.Model, source: str, target: str) -> int:
    """The declared sign of the link source -> target (a flow into or out of a stock counts)."""
    element = model.element(target)
    if element.kind == "stock":
        if source in element.inflows:
            return 1
        assert source in element.outflows, f"{source} is not a flow of stock {target}"
        return -1
    links = {link.source: link.polarity for link in element.links}
    assert links.get(source) in ("+", "-"), f"no signed link {source} -> {target}"
    return 1 if links[source] == "+" else -1


def test_declared_loops_exist_close_and_have_their_polarity(model: fs.Model) -> None:
    loops = {loop.name: loop for loop in model.loops}
    expected = {
        "virtuous_cycle": "R",
        "lower_cost": "R",
        "saturation": "B",
        "seller_competition": "B",
    }
    for name, polarity in expected.items():
        assert loops[name].polarity == polarity
    for loop in model.loops:
        sign = 1
        variables = list(loop.variables)
        for source, target in zip(variables, variables[1:] + variables[:1], strict=True):
            model.element(source)  # exists
            sign *= edge_polarity(model, source, target)
        assert {1: "R", -1: "B"}[sign] == loop.polarity, loop.name


def is_cited(text: str, seeds: str) -> bool:
    if text.startswith("assumption: ") and len(text) > len("assumption: ") + 10:
        return True
    return " ".join(text.split()) in seeds


@pytest.fixture(scope="module")
def seed_text() -> str:
    assert sorted(p.name for p in SEEDS.glob("*.txt")) == [
        "seed1_mohammed_2023.txt",
        "seed2_faist_2024.txt",
    ]
    return " ".join(" ".join(p.read_text("utf-8").split()) for p in sorted(SEEDS.glob("*.txt")))


def test_every_parameter_is_documented(model: fs.Model, seed_text: str) -> None:
    parameters = model.of_kind("parameter")
    assert len(parameters) >= 20
    for p in parameters:
        assert p.minimum is not None and p.maximum is not None, p.name
        assert p.unit and p.description, p.name
        assert p.source and is_cited(p.source, seed_text), p.name
    assert model.element("push").dims == ("platform",)
    assert model.element("entrant_delay").default == 5


def test_every_flow_and_auxiliary_cites_each_input(model: fs.Model, seed_text: str) -> None:
    for element in (*model.of_kind("flow"), *model.of_kind("aux")):
        equations = [element.equation, *(text for _, text in element.element_equations)]
        inputs = set().union(*(names_in(fs.parse(text)) for text in equations)) - CLOCK
        links = {link.source: link for link in element.links}
        assert set(links) == inputs, element.name
        for link in links.values():
            assert link.polarity in ("+", "-", "?"), (element.name, link.source)
            assert is_cited(link.citation, seed_text), (element.name, link.source)


# -- behaviour -------------------------------------------------------------------------------


def test_entrant_has_no_offer_before_it_opens(model: fs.Model) -> None:
    result = fs.simulate(model, {"entrant_delay": 5.0})
    before = result.sel(time=slice(None, 4.9), platform="entrant")
    for name in ("customers", "sellers", "customer_experience", "share"):
        assert float(abs(before[name]).max()) == 0.0, name
    assert float(result.customers.sel(time=6.0, platform="entrant").max()) > 1e6


def test_shoppers_are_conserved(model: fs.Model) -> None:
    result = fs.simulate(model, {"push[entrant]": [2e6, 4e7]})
    moved = result.customers_won.sum("platform") - result.customers_lost.sum("platform")
    assert float(abs(moved).max()) < 1e-6 * float(result.customers_won.max())
    total = result.customers.sum("platform")
    np.testing.assert_allclose(total, result.total_customers, rtol=1e-12)
    np.testing.assert_allclose(total + result.potential_shoppers, 1e8, rtol=1e-9)
    assert float(result.sellers.max()) <= 2e6


def test_equal_push_late_entrant_stays_far_behind(model: fs.Model) -> None:
    assert push_of(model, "entrant") == push_of(model, "incumbent")
    end = final(model, {})
    customers, sellers = end.customers[0].values, end.sellers[0].values
    print("equal push, delay 5: customers", customers, "sellers", sellers)
    assert customers[1] < 0.2 * customers[0]
    assert sellers[1] < 0.25 * sellers[0]
    assert customers[1] / customers.sum() < 0.15


def test_no_delay_and_equal_push_is_symmetric(model: fs.Model) -> None:
    result = fs.simulate(model, {"entrant_delay": 0.0})
    for name in ("customers", "sellers", "price", "market_share"):
        incumbent = result[name].sel(platform="incumbent").values
        entrant = result[name].sel(platform="entrant").values
        np.testing.assert_allclose(entrant, incumbent, rtol=1e-9, err_msg=name)
    assert float(result.market_share.isel(run=0, time=-1, platform=1)) == pytest.approx(0.5)
    assert float(result.customers.isel(run=0, time=-1).sum()) > 0.5e8


def test_catching_up_takes_several_times_the_incumbents_push(
    model: fs.Model, ratios: dict[float, float]
) -> None:
    ratio = ratios[5.0]
    print(f"catch-up push ratio at the default delay of 5 years: {ratio:.2f}")
    assert math.isfinite(ratio)
    assert ratio > 2
    base = push_of(model, "incumbent")
    end = final(model, {"push[entrant]": [ratio * base, 0.98 * ratio * base]})
    entrant, incumbent = end.customers[:, 1].values, end.customers[:, 0].values
    assert entrant[0] >= incumbent[0]  # the found push catches up ...
    assert entrant[1] < incumbent[1]  # ... and 2% less does not


def test_a_later_entrant_needs_a_bigger_push(ratios: dict[float, float]) -> None:
    delays = sorted(ratios)
    values = [ratios[d] for d in delays]
    assert all(b > a for a, b in itertools.pairwise(values)), ratios
    assert values[0] > 1
