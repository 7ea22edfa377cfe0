"""numba twins of ``rules/choice.py`` (the ``fast`` extra): shopping and buying.

The shopping kernel does what its NumPy reference does, trip by trip instead of as
(trips x options) matrices, from the same uniforms and in the same float64 operation order;
buying is a few passes around the same draw and sort of the queue for sold-out offers.
Compiled once per machine and cached on disk (``cache=True``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from numba import prange

from flywheel_sim.market.fast.platform import table_row
from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import F32, F64, I32, I64, B, MarketState
from flywheel_sim.market.views import Draws, OfferView, Ranking, Sales, Trips

CHUNK = 4096  # trips per parallel task


class Shoppers(NamedTuple):
    """The customers' arrays the shopping kernel reads (``state.customers``'s)."""

    affinity: F32
    prime: B
    price_sens: F32
    quality_sens: F32
    speed_sens: F32


class Terms(NamedTuple):
    """This month's constants of the utility: the platform's appeal, the cost per position
    in the consideration set, and platform delivery days for non-members and members."""

    appeal: float
    position_cost: float
    std_days: float
    prime_days: float


class Picks(NamedTuple):
    """What the shopping kernel writes, one row per trip (``Trips`` without the customer)."""

    category: I64
    options: I32
    choice: I64
    value: F64


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _shop_range(lo, hi, customer, draws, shoppers, ranking, log_ref, table, terms, picks):  # type: ignore[no-untyped-def]
    u_cat, u_rec, u_choice = draws
    affinity, prime, price_sens, quality_sens, speed_sens = shoppers
    ranked, starts, counts, search = ranking
    appeal, position_cost, std_days, prime_days = terms
    category, options, choice, value = picks
    n_cat = affinity.shape[1]
    k = search.shape[1]
    width = options.shape[1]
    weight = np.empty(width)
    # a customer's trips are consecutive and the affinities do not change while shopping, so
    # the running sums (float64, in category order) and the customer's traits are read once
    prefix = np.empty(n_cat)
    # a search result's weight exp(U) depends only on the customer and the category, so a
    # customer's later trip to a category reuses it (the same number, not a recomputation)
    cached = np.empty((n_cat, k))
    cached_for = np.full(n_cat, -1, np.int64)  # whose weights cached[c] holds
    last = -1
    member = False
    a = b = d = member_days = 0.0
    for i in range(lo, hi):
        who = customer[i]
        if who != last:
            last = who
            running = 0.0
            for c in range(n_cat):
                running += np.float64(affinity[who, c])
                prefix[c] = running
            member = prime[who]
            a = np.float64(price_sens[who])
            b = np.float64(quality_sens[who])
            d = np.float64(speed_sens[who])
            member_days = prime_days if member else std_days
        target = u_cat[i] * prefix[n_cat - 1]
        cat = 0
        for c in range(n_cat):
            cat += prefix[c] <= target  # counted without a branch
        cat = min(cat, n_cat - 1)
        category[i] = cat
        for j in range(k):
            options[i, j] = search[cat, j]
        count = counts[cat]
        for j in range(width - k):
            if count > 0 and ranked.size > 0:
                pick = starts[cat] + np.int64(u_rec[i, j] * count)
                options[i, k + j] = ranked[min(pick, ranked.size - 1)]
            else:
                options[i, k + j] = -1
        ref = log_ref[cat]
        cum = 0.0
        again = cached_for[cat] == who
        cached_for[cat] = who
        for j in range(width):
            o = options[i, j]
            if j < k and again:
                if o >= 0:
                    cum += cached[cat, j]
            elif o >= 0:
                row = table[o]  # one cache line: what a shopper sees of offer o
                free = member and row[4] > 0.5
                lp = row[1] if free else row[0]
                days = member_days if row[5] > 0.5 else row[6]
                u = (appeal - j * position_cost) + row[3]
                u = u - a * (lp - ref)
                u = u + b * row[2]
                u = u - d * days
                w = math.exp(min(u, 30.0))
                if j < k:
                    cached[cat, j] = w
                cum += w
            weight[j] = cum  # cumulative weight
        whole = 1.0 + cum
        goal = u_choice[i] * whole
        if goal < 1.0:
            choice[i] = -1
        else:
            chosen = 0
            for j in range(width):
                if 1.0 + weight[j] <= goal:
                    chosen += 1
            chosen = min(chosen, width - 1)
            # an empty slot adds no weight; rounding at the top can land there: skip it
            choice[i] = chosen if options[i, chosen] >= 0 else -1
        value[i] = cum / whole


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _shop_parallel(customer, draws, shoppers, ranking, log_ref, table, terms, picks):  # type: ignore[no-untyped-def]
    # a parallel loop hands its workers arrays and numbers, not tuples: the groups are taken
    # apart here and put together again for each chunk
    u_cat, u_rec, u_choice = draws
    affinity, prime, price_sens, quality_sens, speed_sens = shoppers
    ranked, starts, counts, search = ranking
    appeal, position_cost, std_days, prime_days = terms
    category, options, choice, value = picks
    n = customer.size
    for chunk in prange((n + CHUNK - 1) // CHUNK):
        _shop_range(
            chunk * CHUNK,
            min(n, (chunk + 1) * CHUNK),
            customer,
            (u_cat, u_rec, u_choice),
            (affinity, prime, price_sens, quality_sens, speed_sens),
            (ranked, starts, counts, search),
            log_ref,
            table,
            (appeal, position_cost, std_days, prime_days),
            (category, options, choice, value),
        )


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _shop_serial(*args):  # type: ignore[no-untyped-def]
    _shop_range(0, args[0].size, *args)


PARALLEL_FROM = 200_000  # trips; below this, starting threads costs more than it saves


@numba.njit(cache=True, nogil=True)
def _fill_table(table, log_price, log_price_free, rating, trust, eligible, platform, days):  # type: ignore[no-untyped-def]
    for o in range(table.shape[0]):
        table_row(table, o, log_price, log_price_free, rating, trust, eligible, platform, days)


def _offer_table(view: OfferView) -> np.ndarray:
    """The offer fields a shopper reads, one 64-byte row per offer: a trip's eight options
    cost eight cache lines instead of sixty-four (the columns are separate arrays in the
    view). The values are the view's, so the kernel computes exactly what NumPy does."""
    table = np.empty((view.log_price.size, 8))
    _fill_table(
        table,
        view.log_price,
        view.log_price_free,
        view.rating,
        view.trust,
        view.eligible,
        view.platform,
        view.days,
    )
    return table


@numba.njit(cache=True, nogil=True)
def _trip_rates(active, prime, satisfaction, base, elasticity, multiplier):  # type: ignore[no-untyped-def]
    n = 0
    for i in range(active.size):
        n += active[i]
    who = np.empty(n, np.int64)
    rate = np.empty(n, np.float32)
    j = 0
    for i in range(active.size):
        if active[i]:
            r = base * (np.float32(1.0) + elasticity * satisfaction[i])
            who[j] = i
            rate[j] = r * multiplier if prime[i] else r
            j += 1
    return who, rate


def trip_counts(state: MarketState, p: MarketParams, rng: np.random.Generator) -> I64:
    """``rules.choice.trip_counts``: the active customers and their Poisson trip rates
    (float32, as NumPy computes them) in one pass, then the same Poisson draw."""
    c = state.customers
    who, rate = _trip_rates(
        c.active,
        c.prime,
        c.satisfaction,
        np.float32(p.base_trips),
        np.float32(p.frequency_elasticity),
        np.float32(p.prime_trip_multiplier),
    )
    return np.repeat(who, rng.poisson(rate))


def shop(
    state: MarketState,
    p: MarketParams,
    view: OfferView,
    ranking: Ranking,
    days: tuple[float, float],
    rng: np.random.Generator,
) -> Trips:
    """``rules.choice.shop``: the same trips and uniforms, each trip's choice in one pass."""
    customer = trip_counts(state, p, rng)
    draws = Draws.take(rng, customer.size, int(p.recommendations))
    c = state.customers
    n = customer.size
    width = int(p.search_results) + int(p.recommendations)
    picks = Picks(
        np.empty(n, np.int64), np.empty((n, width), np.int32), np.empty(n, np.int64), np.empty(n)
    )
    kernel = _shop_parallel if n >= PARALLEL_FROM else _shop_serial
    kernel(
        customer,
        draws,
        Shoppers(c.affinity, c.prime, c.price_sens, c.quality_sens, c.speed_sens),
        ranking,
        np.log(state.ref_price),
        view.table if view.table is not None else _offer_table(view),
        Terms(float(p.platform_appeal), float(p.position_cost), float(days[0]), float(days[1])),
        picks,
    )
    return Trips(customer, *picks)


@numba.njit(cache=True, nogil=True)
def _orders(options, choice, inventory):  # type: ignore[no-untyped-def]
    """The trips that chose an offer, the offer each chose, the demand per offer, and the
    orders (indices into those) for offers asked for more than they have in stock."""
    bought = np.empty(choice.size, np.int64)
    offer = np.empty(choice.size, np.int64)
    demand = np.zeros(inventory.size, np.int64)
    n = 0
    for i in range(choice.size):
        if choice[i] >= 0:
            o = options[i, choice[i]]
            bought[n] = i
            offer[n] = o
            demand[o] += 1
            n += 1
    short = np.empty(inventory.size, np.bool_)
    any_short = False
    for o in range(inventory.size):
        short[o] = demand[o] > inventory[o]
        any_short |= short[o]
    subset = np.empty(n, np.int64)
    m = 0
    for j in range(n):
        if short[offer[j]]:
            subset[m] = j
            m += 1
    return bought[:n], offer[:n], demand, any_short, subset[:m]


@numba.njit(cache=True, nogil=True)
def _refuse(offer, subset, order, inventory, ok):  # type: ignore[no-untyped-def]
    """Shoppers of a sold-out offer queue in ``order``; those past its stock are refused."""
    head = 0
    for i in range(order.size):
        o = offer[subset[order[i]]]
        if i == 0 or o != offer[subset[order[i - 1]]]:
            head = i
        if i - head >= inventory[o]:
            ok[subset[order[i]]] = False


@numba.njit(cache=True, nogil=True)
def _deliver(  # type: ignore[no-untyped-def]
    bought, offer, ok, demand, inventory, sold, last_demand, trip_customer, choice, value, penalty
):
    n = 0
    for i in range(ok.size):
        n += ok[i]
    customer = np.empty(n, np.int64)
    got = np.empty(n, np.int64)
    position = np.empty(n, np.int64)
    sold[:] = 0
    j = 0
    for i in range(ok.size):
        if ok[i]:
            sold[offer[i]] += 1
            customer[j] = trip_customer[bought[i]]
            got[j] = offer[i]
            position[j] = choice[bought[i]]
            j += 1
        else:
            value[bought[i]] *= penalty
    for o in range(sold.size):
        inventory[o] -= sold[o]
        last_demand[o] = demand[o]
    return customer, got, position, ok.size - n


def fulfil(state: MarketState, trips: Trips, penalty: float, rng: np.random.Generator) -> Sales:
    """``rules.choice.fulfil`` in three passes around the same draw and sort of the queue: the
    buyers, their offers, their positions, and the number of stock-outs."""
    o = state.offers
    bought, offer, demand, short, subset = _orders(trips.options, trips.choice, o.inventory)
    ok = np.ones(offer.size, bool)
    if short:  # NumPy's (vectorised) argsort: faster here than numba's, and its own ties
        order = np.argsort(offer[subset] + rng.random(subset.size))
        _refuse(offer, subset, order, o.inventory, ok)
    customer, got, position, stockouts = _deliver(
        bought,
        offer,
        ok,
        demand,
        o.inventory,
        o.sold,
        o.demand,
        trips.customer,
        trips.choice,
        trips.value,
        float(penalty),
    )
    return Sales(customer, got, position, int(stockouts))
