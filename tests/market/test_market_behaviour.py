"""The market's statistics and its emergent flywheel.

Choices follow the logit probabilities of the documented utilities (both backends), ratings
centre on true quality, and the flywheel emerges in the same directions as the stock-and-flow
`amazon` model: opening to third-party sellers raises selection and customers against a
first-party-only platform, and cutting reinvestment slows growth.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from scipy import stats

from flywheel_sim.market import MarketParams, create, market_ensemble, step
from flywheel_sim.market.params import load_market_study
from flywheel_sim.market.rules.choice import draw, utilities
from flywheel_sim.market.rules.people import ratings
from flywheel_sim.market.rules.platform import delivery_days
from flywheel_sim.market.step import kernels

BACKENDS = [
    "numpy",
    pytest.param(
        "numba",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("numba") is None, reason="numba not installed"
        ),
    ),
]


def test_draws_follow_the_logit_probabilities() -> None:
    u = np.array([0.5, -0.2, 1.0, -np.inf, 0.0])
    n = 200_000
    rng = np.random.default_rng(1)
    choice, value = draw(np.tile(u, (n, 1)), rng.random(n))
    weight = np.exp(np.r_[0.0, u])  # the outside option first, utility 0
    expected = weight / weight.sum()
    observed = np.bincount(choice + 1, minlength=u.size + 1)
    assert observed[4] == 0  # the empty slot is never chosen
    keep = expected > 0
    assert stats.chisquare(observed[keep], expected[keep] * n).pvalue > 1e-4
    np.testing.assert_allclose(value, 1 - expected[0])


def _market(months: int, seed: int, backend: str = "numpy", **values: float):
    p = MarketParams.make({"marketplace_start": 0, "prime_start": 4, "fba_start": 4, **values})
    rng = np.random.default_rng(seed)
    state = create(p, 3000, 120, rng)
    state.backend = backend
    state.customers.active[:] = True
    for _ in range(months):
        state, _, _ = step(state, p, rng)
    return state, p, rng


@pytest.mark.parametrize("backend", BACKENDS)
def test_shoppers_choose_with_the_logit_probabilities_of_the_documented_utility(
    backend: str,
) -> None:
    state, p, rng = _market(12, seed=2, backend=backend)
    hot = kernels(state.backend)
    on_sale = hot.listed(state)
    view = hot.offer_view(state, p, True, True, on_sale)
    ranking = hot.rank(state, p, view, on_sale, True)
    days = delivery_days(state, p)
    trips = []
    for _ in range(16):  # many draws of the same month
        trips.append(hot.shop(state, p, view, ranking, days, rng))
    customer = np.concatenate([t.customer for t in trips])
    category = np.concatenate([t.category for t in trips])
    options = np.concatenate([t.options for t in trips])
    choice = np.concatenate([t.choice for t in trips])
    u = utilities(state, p, view, customer, category, options, days)
    # one option recomputed by hand from the formula in docs/models/market.md
    i, j = int(np.argmax(options[:, 0] >= 0)), 0
    o, who = options[i, j], customer[i]
    member = state.customers.prime[who]
    free = member and view.eligible[o]
    paid = state.offers.price[o] + (0.0 if free else p.shipping_fee)
    speed = (days[1] if member else days[0]) if view.platform[o] else view.days[o]
    by_hand = (
        p.platform_appeal
        + p.trust_weight * np.log1p(state.offers.reviews[o])
        - state.customers.price_sens[who] * np.log(paid / state.ref_price[category[i]])
        + state.customers.quality_sens[who] * (view.rating[o])
        - state.customers.speed_sens[who] * speed
    )
    assert u[i, j] == pytest.approx(by_hand, rel=1e-5)
    weight = np.exp(np.column_stack([np.zeros(len(u)), u]))
    prob = weight / weight.sum(axis=1, keepdims=True)
    expected = prob.sum(axis=0)
    observed = np.bincount(choice + 1, minlength=prob.shape[1])
    spread = np.sqrt((prob * (1 - prob)).sum(axis=0))
    z = (observed - expected) / np.maximum(spread, 1e-9)
    assert len(customer) > 20_000
    assert np.all(np.abs(z) < 4.5), z


def test_ratings_centre_on_true_quality() -> None:
    rng = np.random.default_rng(4)
    for quality in (2.5, 3.0, 3.5):
        stars = ratings(np.full(100_000, quality), 0.8, rng)
        assert stars.min() >= 1 and stars.max() <= 5
        assert abs(stars.mean() - quality) < 4 * 0.8 / np.sqrt(100_000) + 0.01
    state, _, _ = _market(36, seed=3, review_probability=0.5)
    o = state.offers
    many = (o.reviews >= 30) & (o.quality > 2.6) & (o.quality < 4.2)  # away from the clip
    mean = o.rating_sum[many] / o.reviews[many]
    assert many.sum() >= 20
    assert abs(np.mean(mean - o.quality[many])) < 0.05
    assert np.corrcoef(mean, o.quality[many])[0, 1] > 0.9


@pytest.fixture(scope="module")
def scenarios():
    study = load_market_study()
    chosen = [study.scenario(n) for n in ("reinvest", "first_party_only", "harvest")]
    return market_ensemble(chosen, [0, 1, 2], customers=6000, sellers=300, months=120)


def test_opening_to_sellers_raises_selection_and_customer_growth(scenarios) -> None:
    opened, closed = scenarios["reinvest"], scenarios["first_party_only"]
    assert np.all(closed.selection.values == closed.selection.values[0, 0])
    assert np.all(opened.selection.values[:, -1] > 1.4 * closed.selection.values[:, -1])
    assert np.all(closed.sellers.values == 0) and np.all(opened.sellers.values[:, -1] > 0)
    # in every run (seed) and on average: more customers once sellers have come, more orders
    later = slice(48, None)
    assert np.all(opened.customers.values[:, -1] > closed.customers.values[:, -1])
    more = opened.customers.values[:, later].mean(axis=1) / closed.customers.values[:, later].mean(
        axis=1
    )
    assert np.all(more > 1.0) and more.mean() > 1.15
    orders = opened.orders.values[:, 60:].mean(axis=1) / closed.orders.values[:, 60:].mean(axis=1)
    assert np.all(orders > 1.0) and orders.mean() > 1.3


def test_cutting_reinvestment_slows_the_flywheel(scenarios) -> None:
    reinvest, harvest = scenarios["reinvest"], scenarios["harvest"]
    np.testing.assert_array_equal(
        reinvest.customers.values[:, :36], harvest.customers.values[:, :36]
    )  # the same runs until the cut
    assert harvest.capacity.values[:, -1].mean() < 0.5 * reinvest.capacity.values[:, -1].mean()
    assert np.all(
        harvest.orders.values[:, 60:].mean(axis=1) < reinvest.orders.values[:, 60:].mean(axis=1)
    )
    later = slice(48, None)
    assert (
        harvest.customers.values[:, later].mean() < 0.9 * reinvest.customers.values[:, later].mean()
    )
    assert harvest.prime_members.values[:, -1].mean() < reinvest.prime_members.values[:, -1].mean()
