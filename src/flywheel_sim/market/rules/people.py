"""Customers: joining, reviews, what they learn from shopping, churn and Prime."""

from __future__ import annotations

import numpy as np

from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import I64, MarketState
from flywheel_sim.market.views import OfferView, Trips


def adopt(
    state: MarketState, p: MarketParams, on_sale: np.ndarray, rng: np.random.Generator
) -> float:
    """Non-customers try the platform: unprompted (more so with a wider selection) or through
    word of mouth from satisfied customers (their summed satisfaction per person)."""
    c = state.customers
    selection = float(on_sale.sum())
    satisfied = float(c.satisfaction[c.active].sum()) / c.active.size
    hazard = (
        p.innovation_rate * (selection / p.selection_reference) ** p.selection_elasticity
        + p.word_of_mouth * satisfied
    )
    idle = np.flatnonzero(~c.active)
    new = idle[rng.random(idle.size) < -np.expm1(-hazard)]
    c.active[new] = True
    c.satisfaction[new] = 0.5
    c.eligible_orders[new] = 0.0
    return float(new.size)


def ratings(quality: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """A review's rating: the offer's true quality plus normal noise, clipped to 1..5 stars."""
    return np.asarray(np.clip(quality + noise * rng.standard_normal(quality.size), 1.0, 5.0))


def review(state: MarketState, p: MarketParams, offer: I64, rng: np.random.Generator) -> None:
    """Some purchases are reviewed; each review adds its rating to the offer."""
    o = state.offers
    written = offer[rng.random(offer.size) < p.review_probability]
    stars = ratings(o.quality[written].astype(np.float64), p.rating_noise, rng)
    o.rating_sum[:] += np.bincount(written, weights=stars, minlength=o.price.size)
    o.reviews[:] += np.bincount(written, minlength=o.price.size)


def learn(
    state: MarketState,
    p: MarketParams,
    trips: Trips,
    customer: I64,
    offer: I64,
    view: OfferView,
) -> None:
    """Satisfaction moves toward the month's mean trip value (1 - P(outside), cut by the
    stock-out penalty); each buyer's category affinities move ``affinity_learning`` of the
    way toward the month's purchases by category; the memory of platform-fulfilled (Prime-
    eligible) orders is updated."""
    c = state.customers
    n = c.active.size
    trips_of = np.bincount(trips.customer, minlength=n)
    value = np.bincount(trips.customer, weights=trips.value, minlength=n)
    shopped = trips_of > 0
    m = np.float32(p.satisfaction_memory)
    mean = (value[shopped] / trips_of[shopped]).astype(np.float32)
    c.satisfaction[shopped] = (1 - m) * c.satisfaction[shopped] + m * mean
    if customer.size and p.affinity_learning > 0:
        _move_affinities(
            state, customer, state.offers.category[offer].astype(np.int64), p.affinity_learning
        )
    eligible = np.bincount(customer[view.platform[offer]], minlength=n).astype(np.float32)
    active = c.active
    c.eligible_orders[active] = (1 - m) * c.eligible_orders[active] + m * eligible[active]


def churn_and_prime(
    state: MarketState, p: MarketParams, prime_on: bool, rng: np.random.Generator
) -> dict[str, float]:
    """Dissatisfied customers leave (Prime members less often); customers reconsider Prime now
    and then, joining when the shipping they would save, plus the value of faster delivery
    to them, exceeds the fee, and leaving when it does not."""
    c = state.customers
    hazard = p.churn_max * np.maximum(0.0, 1.0 - c.satisfaction / p.churn_threshold)
    hazard = np.where(c.prime, hazard * (1.0 - p.prime_churn_reduction), hazard)
    leaving = c.active & (rng.random(c.active.size) < hazard)
    c.active[leaving] = False
    lapsed = int((leaving & c.prime).sum())
    c.prime[leaving] = False
    joined = left = 0
    if prime_on:
        review = c.active & (rng.random(c.active.size) < 1.0 / p.prime_review_months)
        who = np.flatnonzero(review)
        speed = c.speed_sens[who] / np.float32(max(p.speed_sensitivity, 1e-9))
        value = c.eligible_orders[who] * p.shipping_fee * (1.0 + p.prime_speed_value * speed)
        want = value > p.prime_fee
        joined = int((want & ~c.prime[who]).sum())
        left = int((~want & c.prime[who]).sum())
        c.prime[who] = want
    return {
        "churn": float(leaving.sum()),
        "prime_joining": float(joined),
        "prime_leaving": float(left + lapsed),
    }


def _move_affinities(state: MarketState, customer: I64, category: I64, rate: float) -> None:
    """``customer`` is sorted (trips are generated customer by customer)."""
    c = state.customers
    n_cat = c.affinity.shape[1]
    new = np.empty(customer.size, bool)
    new[:1] = True
    new[1:] = customer[1:] != customer[:-1]
    buyers = customer[new]
    group = np.cumsum(new) - 1
    counts = np.bincount(group * n_cat + category, minlength=buyers.size * n_cat)
    mix = counts.reshape(buyers.size, n_cat).astype(np.float64)
    mix /= mix.sum(axis=1, keepdims=True)
    moved = (1.0 - rate) * c.affinity[buyers].astype(np.float64) + rate * mix
    c.affinity[buyers] = moved.astype(np.float32)
