"""Customers shop: trips, consideration sets, and the multinomial logit choice.

A month's trips are one flat array (``np.repeat`` of each active customer's Poisson draw), so a
million customers' shopping is a few dozen array operations over (trips x options) matrices.
Two implementations consume the same uniforms: this NumPy one (the reference, always
available) and a numba kernel (``kernels.py``, the ``fast`` extra) that handles a trip at a
time without the (trips x options) temporaries; they perform the same float64 operations in the
same order, so they choose the same offers (up to last-bit differences of ``exp``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import F32, F64, I32, I64, MarketState


@dataclass
class Ranking:
    """The platform's search ranking: listed in-stock offers by category, best first."""

    ranked: I64  # offer ids, grouped by category, best first within each
    starts: I64  # per category: where its offers start in ``ranked``
    counts: I64  # per category: how many
    search: I32  # (categories, search_results): the top offers, -1 where fewer


@dataclass
class OfferView:
    """What shoppers see of every offer this month (indexed by offer id)."""

    log_price: F64  # log(price + shipping fee): what a shopper who pays shipping pays
    log_price_free: F64  # log(price): for a Prime member on a Prime-eligible offer
    rating: F64  # shown rating minus 3 (the neutral prior)
    trust: F64  # trust_weight * log(1 + reviews)
    eligible: NDArray[np.bool_]  # Prime-eligible: first-party or FBA (once Prime exists)
    platform: NDArray[np.bool_]  # fulfilled by the platform (first-party or FBA)
    days: F64  # a merchant-fulfilled offer's delivery days
    table: F64 | None = None  # (offers, 8): the numba backend's rows of the fields above


@dataclass
class Trips:
    """This month's shopping trips (one row per trip)."""

    customer: I64
    category: I64
    options: I32  # (trips, options): offer ids considered, -1 for an empty slot
    choice: I64  # index into options, -1 for the outside option (bought elsewhere / nothing)
    value: F64  # 1 - P(outside): how good the considered offers were for this shopper


def trip_counts(state: MarketState, p: MarketParams, rng: np.random.Generator) -> I64:
    """Trips of each active customer this month (Poisson; rises with satisfaction and Prime)."""
    if state.backend == "numba":
        from flywheel_sim.market import kernels_people

        who, rate = kernels_people.trip_rates(state, p)
        return np.repeat(who, rng.poisson(rate))
    c = state.customers
    who = np.flatnonzero(c.active)
    rate = p.base_trips * (1.0 + p.frequency_elasticity * c.satisfaction[who])
    rate = np.where(c.prime[who], rate * p.prime_trip_multiplier, rate)
    return np.repeat(who, rng.poisson(rate))


@dataclass
class Draws:
    """The uniforms one month's trips use, drawn up front from the run's Generator so that
    the NumPy and numba implementations consume the same random numbers."""

    category: F64  # (trips,)
    recommend: F64  # (trips, recommendations)
    choice: F64  # (trips,)


def categories_of(affinity: F32, customer: I64, u: F64) -> I64:
    """A category per trip, drawn from the customer's affinities (personalised pages)."""
    out = np.empty(customer.size, np.int64)
    n_cat = affinity.shape[1]
    step = 1 << 18
    for lo in range(0, customer.size, step):
        part = customer[lo : lo + step]
        cum = np.cumsum(affinity[part], axis=1, dtype=np.float64)
        target = u[lo : lo + step] * cum[:, -1]
        out[lo : lo + step] = np.minimum((cum <= target[:, None]).sum(axis=1), n_cat - 1)
    return out


def consider(ranking: Ranking, category: I64, k: int, u: F64) -> I32:
    """The offers each trip considers: the category's top ``k`` search results, then one
    offer per column of ``u`` drawn from all the category's in-stock offers."""
    r = u.shape[1]
    options = np.full((category.size, k + r), -1, np.int32)
    options[:, :k] = ranking.search[category]
    if r and ranking.ranked.size:
        count = ranking.counts[category]
        pick = ranking.starts[category][:, None] + (u * count[:, None]).astype(np.int64)
        pick = np.minimum(pick, ranking.ranked.size - 1)
        options[:, k:] = np.where(count[:, None] > 0, ranking.ranked[pick], -1)
    return options


def utilities(
    state: MarketState,
    p: MarketParams,
    view: OfferView,
    customer: I64,
    category: I64,
    options: I32,
    days: tuple[float, float],
) -> F64:
    """The systematic utility of each considered offer (-inf for an empty slot); the outside
    option has utility 0.

    ``U = appeal - position_cost * position + trust - a_i (log(price + shipping) - log ref_c)
    + b_i (rating - 3) - d_i days``; a Prime member pays no shipping on Prime-eligible offers
    and gets them in Prime days.
    """
    c = state.customers
    valid = options >= 0
    safe = np.where(valid, options, 0)
    member = c.prime[customer][:, None]
    free = member & view.eligible[safe]
    log_paid = np.where(free, view.log_price_free[safe], view.log_price[safe])
    log_ref = np.log(state.ref_price)[category][:, None]
    platform_days = np.where(member, days[1], days[0])
    delivery = np.where(view.platform[safe], platform_days, view.days[safe])
    position = np.arange(options.shape[1], dtype=np.float64) * p.position_cost
    u = (p.platform_appeal - position) + view.trust[safe]
    u = u - c.price_sens[customer].astype(np.float64)[:, None] * (log_paid - log_ref)
    u = u + c.quality_sens[customer].astype(np.float64)[:, None] * view.rating[safe]
    u = u - c.speed_sens[customer].astype(np.float64)[:, None] * delivery
    return np.where(valid, u, -np.inf)


def draw(u: F64, uniform: F64) -> tuple[I64, F64]:
    """Multinomial logit draws: for each row, -1 (the outside option, utility 0) or the index
    of the chosen column, with P(j) = exp(u_j) / (1 + sum_k exp(u_k)); and 1 - P(outside)."""
    weight = np.exp(np.minimum(u, 30.0))
    cum = np.cumsum(weight, axis=1)
    total = 1.0 + cum[:, -1]
    target = uniform * total
    # the outside option occupies [0, 1); option j occupies [1 + cum_{j-1}, 1 + cum_j)
    chosen = (1.0 + cum <= target[:, None]).sum(axis=1)
    choice = np.where(target < 1.0, -1, np.minimum(chosen, u.shape[1] - 1)).astype(np.int64)
    # never an empty slot (it has weight 0, so only float rounding at the top could pick it)
    picked = np.take_along_axis(u, np.maximum(choice, 0)[:, None], 1)[:, 0]
    choice[(choice >= 0) & ~np.isfinite(picked)] = -1
    return choice, cum[:, -1] / total


def shop(
    state: MarketState,
    p: MarketParams,
    view: OfferView,
    ranking: Ranking,
    days: tuple[float, float],
    rng: np.random.Generator,
    backend: str = "numpy",
) -> Trips:
    """Every active customer's trips this month and what each chose."""
    customer = trip_counts(state, p, rng)
    n, r = customer.size, int(p.recommendations)
    draws = Draws(rng.random(n), rng.random((n, r)), rng.random(n))
    k = int(p.search_results)
    if backend == "numba":
        from flywheel_sim.market.kernels import shop_kernel

        return shop_kernel(state, p, view, ranking, days, customer, draws)
    category = categories_of(state.customers.affinity, customer, draws.category)
    options = consider(ranking, category, k, draws.recommend)
    u = utilities(state, p, view, customer, category, options, days)
    choice, value = draw(u, draws.choice)
    return Trips(customer, category, options, choice, value)
