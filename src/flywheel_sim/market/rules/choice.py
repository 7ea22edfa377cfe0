"""Customers shop and buy: trips, consideration sets, the multinomial logit choice, and the
purchases stock permits.

A month's trips are one flat array (``np.repeat`` of each active customer's Poisson draw), so a
million customers' shopping is a few dozen array operations over (trips x options) matrices.
Two implementations consume the same uniforms: this NumPy one (the reference, always
available) and its numba twin (``fast/choice.py``, the ``fast`` extra) that handles a trip at a
time without the (trips x options) temporaries; they perform the same float64 operations in the
same order, so they choose the same offers.
"""

from __future__ import annotations

import numpy as np

from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import F32, F64, I32, I64, MarketState
from flywheel_sim.market.views import Draws, OfferView, Ranking, Sales, Trips


def trip_counts(state: MarketState, p: MarketParams, rng: np.random.Generator) -> I64:
    """Trips of each active customer this month (Poisson; rises with satisfaction and Prime)."""
    c = state.customers
    who = np.flatnonzero(c.active)
    rate = p.base_trips * (1.0 + p.frequency_elasticity * c.satisfaction[who])
    rate = np.where(c.prime[who], rate * p.prime_trip_multiplier, rate)
    return np.repeat(who, rng.poisson(rate))


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
) -> Trips:
    """Every active customer's trips this month and what each chose."""
    customer = trip_counts(state, p, rng)
    draws = Draws.take(rng, customer.size, int(p.recommendations))
    k = int(p.search_results)
    category = categories_of(state.customers.affinity, customer, draws.category)
    options = consider(ranking, category, k, draws.recommend)
    u = utilities(state, p, view, customer, category, options, days)
    choice, value = draw(u, draws.choice)
    return Trips(customer, category, options, choice, value)


def fulfil(state: MarketState, trips: Trips, penalty: float, rng: np.random.Generator) -> Sales:
    """Chosen offers are bought while stock lasts; when more shoppers want an offer than it
    has units, a random subset of them gets one (the rest meet a stock-out, and the trip's
    value is cut by ``penalty``)."""
    o = state.offers
    bought = np.flatnonzero(trips.choice >= 0)
    width = trips.options.shape[1]
    offer = trips.options.ravel()[bought * width + trips.choice[bought]].astype(np.int64)
    demand = np.bincount(offer, minlength=o.price.size)
    ok = np.ones(offer.size, bool)
    short = demand > o.inventory
    if short.any():
        # shoppers of a sold-out offer queue in random order: sort by offer + a uniform key
        subset = np.flatnonzero(short[offer])
        order = np.argsort(offer[subset] + rng.random(subset.size))
        grouped = offer[subset][order]
        first = np.ones(grouped.size, bool)
        first[1:] = grouped[1:] != grouped[:-1]
        place = np.arange(grouped.size)
        rank = place - np.maximum.accumulate(np.where(first, place, 0))
        ok[subset[order[rank >= o.inventory[grouped]]]] = False
    sold = np.bincount(offer[ok], minlength=o.price.size)
    o.inventory[:] -= sold
    o.sold[:] = sold
    o.demand[:] = demand
    trips.value[bought[~ok]] *= penalty
    rows = bought[ok]
    return Sales(
        customer=trips.customer[rows],
        offer=offer[ok],
        position=trips.choice[rows],
        stockouts=int((~ok).sum()),
    )
