"""numba twins of ``rules/people.py`` (the ``fast`` extra): joining, reviews, what a month of
shopping teaches the customers, churn and Prime.

Each does what its NumPy reference does in one pass over the people instead of a dozen array
operations, from the same uniforms (drawn by the caller, in the reference's order) and with the
same arithmetic: float32 where NumPy computes in float32 (a Python float meeting a float32
array is cast to float32 first, NEP 50), float64 elsewhere, and sums in the order
``np.bincount`` adds. Compiled once per machine and cached on disk.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from flywheel_sim.market.pairwise import total32
from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import I64, MarketState
from flywheel_sim.market.views import OfferView, Trips


@numba.njit(cache=True, nogil=True)
def _learn_affinity(affinity, customer, offer, offer_category, rate):  # type: ignore[no-untyped-def]
    n_cat = affinity.shape[1]
    counts = np.zeros(n_cat)
    start = 0
    while start < customer.size:
        who = customer[start]
        stop = start
        while stop < customer.size and customer[stop] == who:
            counts[offer_category[offer[stop]]] += 1.0
            stop += 1
        total = 0.0
        for c in range(n_cat):
            total += counts[c]
        for c in range(n_cat):
            mix = counts[c] / total
            affinity[who, c] = np.float32((1.0 - rate) * np.float64(affinity[who, c]) + rate * mix)
            counts[c] = 0.0
        start = stop


@numba.njit(cache=True, nogil=True)
def _learn(  # type: ignore[no-untyped-def]
    customers, trip_customer, trip_value, customer, offer, offer_category, offer_platform, m, rate
):
    satisfaction, eligible_orders = customers.satisfaction, customers.eligible_orders
    active, affinity = customers.active, customers.affinity
    n = satisfaction.size
    trips = np.zeros(n, np.int64)
    value = np.zeros(n)
    eligible = np.zeros(n, np.int64)
    for i in range(trip_customer.size):  # what np.bincount does, in the same order
        trips[trip_customer[i]] += 1
        value[trip_customer[i]] += trip_value[i]
    for i in range(customer.size):
        if offer_platform[offer[i]]:
            eligible[customer[i]] += 1
    keep = np.float32(1.0) - m  # float32 throughout, as NumPy computes it
    for who in range(n):
        if trips[who] > 0:
            mean = np.float32(value[who] / trips[who])
            satisfaction[who] = keep * satisfaction[who] + m * mean
    if customer.size and rate > 0:
        _learn_affinity(affinity, customer, offer, offer_category, rate)
    for who in range(n):
        if active[who]:
            eligible_orders[who] = keep * eligible_orders[who] + m * np.float32(eligible[who])


def learn(
    state: MarketState, p: MarketParams, trips: Trips, customer: I64, offer: I64, view: OfferView
) -> None:
    """``rules.people.learn`` in one pass: satisfaction, affinities (``customer`` sorted, as
    trips are generated customer by customer) and the memory of Prime-eligible orders."""
    _learn(
        state.customers,
        trips.customer,
        trips.value,
        customer,
        offer,
        state.offers.category,
        view.platform,
        np.float32(p.satisfaction_memory),
        float(p.affinity_learning),
    )


class Loyalty(NamedTuple):
    """The churn and Prime rules' constants, in the precision NumPy computes them in
    (``rules.people.churn_and_prime``): float32 beside the float32 traits."""

    churn_max: np.float32
    churn_threshold: np.float32
    member_factor: np.float32  # a member's churn hazard relative to a non-member's
    review_chance: float  # a customer reconsiders Prime this month
    speed_scale: np.float32  # the mean speed sensitivity
    shipping_fee: np.float32
    speed_value: np.float32
    prime_fee: np.float32

    @classmethod
    def of(cls, p: MarketParams) -> Loyalty:
        return cls(
            np.float32(p.churn_max),
            np.float32(p.churn_threshold),
            np.float32(1.0 - p.prime_churn_reduction),
            float(1.0 / p.prime_review_months),
            np.float32(max(p.speed_sensitivity, 1e-9)),
            np.float32(p.shipping_fee),
            np.float32(p.prime_speed_value),
            np.float32(p.prime_fee),
        )


@numba.njit(cache=True, nogil=True)
def _churn_and_prime(customers, u_churn, u_review, loyalty):  # type: ignore[no-untyped-def]
    active, prime, satisfaction = customers.active, customers.prime, customers.satisfaction
    eligible_orders, speed_sens = customers.eligible_orders, customers.speed_sens
    churn_max, churn_threshold, member_factor, review_chance = (
        loyalty.churn_max,
        loyalty.churn_threshold,
        loyalty.member_factor,
        loyalty.review_chance,
    )
    speed_scale, shipping_fee, speed_value, prime_fee = (
        loyalty.speed_scale,
        loyalty.shipping_fee,
        loyalty.speed_value,
        loyalty.prime_fee,
    )
    churned = lapsed = joined = left = 0
    for i in range(active.size):
        hazard = churn_max * max(
            np.float32(0.0), np.float32(1.0) - satisfaction[i] / churn_threshold
        )
        if prime[i]:
            hazard = hazard * member_factor
        if active[i] and u_churn[i] < np.float64(hazard):
            active[i] = False
            churned += 1
            if prime[i]:
                lapsed += 1
                prime[i] = False
    for i in range(u_review.size):  # empty before Prime exists
        if active[i] and u_review[i] < review_chance:
            speed = speed_sens[i] / speed_scale
            value = eligible_orders[i] * shipping_fee * (np.float32(1.0) + speed_value * speed)
            want = value > prime_fee
            joined += want and not prime[i]
            left += prime[i] and not want
            prime[i] = want
    return churned, lapsed, joined, left


def churn_and_prime(
    state: MarketState, p: MarketParams, prime_on: bool, rng: np.random.Generator
) -> dict[str, float]:
    """``rules.people.churn_and_prime`` in one pass, from the same two arrays of uniforms."""
    c = state.customers
    n = c.active.size
    u_churn = rng.random(n)
    u_review = rng.random(n) if prime_on else np.empty(0)
    churned, lapsed, joined, left = _churn_and_prime(c, u_churn, u_review, Loyalty.of(p))
    return {
        "churn": float(churned),
        "prime_joining": float(joined),
        "prime_leaving": float(left + lapsed),
    }


@numba.njit(cache=True, nogil=True)
def active_satisfaction(active, satisfaction):  # type: ignore[no-untyped-def]
    """The number of customers and ``satisfaction[active].sum()`` (float32, NumPy's order)."""
    happy = np.empty(active.size, np.float32)
    n = 0
    for i in range(active.size):
        if active[i]:
            happy[n] = satisfaction[i]
            n += 1
    return n, total32(happy, 0, n)


@numba.njit(cache=True, nogil=True)
def _join(active, satisfaction, eligible_orders, u, chance):  # type: ignore[no-untyped-def]
    j = joined = 0
    for i in range(active.size):
        if not active[i]:
            if u[j] < chance:
                active[i] = True
                satisfaction[i] = 0.5
                eligible_orders[i] = 0.0
                joined += 1
            j += 1
    return joined


def adopt(
    state: MarketState, p: MarketParams, on_sale: np.ndarray, rng: np.random.Generator
) -> float:
    """``rules.people.adopt``: the summed satisfaction and the joining in one pass each."""
    c = state.customers
    customers, satisfaction = active_satisfaction(c.active, c.satisfaction)
    selection = float(np.count_nonzero(on_sale))
    satisfied = float(satisfaction) / c.active.size
    hazard = (
        p.innovation_rate * (selection / p.selection_reference) ** p.selection_elasticity
        + p.word_of_mouth * satisfied
    )
    u = rng.random(c.active.size - customers)
    return float(_join(c.active, c.satisfaction, c.eligible_orders, u, -np.expm1(-hazard)))


@numba.njit(cache=True, nogil=True)
def _review(written, z, quality, noise, rating_sum, reviews):  # type: ignore[no-untyped-def]
    stars = np.zeros(rating_sum.size)  # np.bincount's sums, then added
    for j in range(written.size):
        o = written[j]
        stars[o] += min(max(np.float64(quality[o]) + noise * z[j], 1.0), 5.0)
        reviews[o] += 1
    for o in range(rating_sum.size):
        rating_sum[o] += stars[o]


def review(state: MarketState, p: MarketParams, offer: I64, rng: np.random.Generator) -> None:
    """``rules.people.review``: the same draws, the ratings added in one pass."""
    o = state.offers
    written = offer[rng.random(offer.size) < p.review_probability]
    z = rng.standard_normal(written.size)
    _review(written, z, o.quality, float(p.rating_noise), o.rating_sum, o.reviews)
