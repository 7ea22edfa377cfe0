"""One month of the market: ``step(state, params, rng) -> (state, aggregates)``.

The order within a month: events, seller entry, prices, restocking, ranking, customers join,
shop and buy (stock permitting), reviews, satisfaction, churn and Prime, sellers settle and
exit or switch to FBA, the platform books the month and reinvests. The state's arrays are
updated in place (copying a million customers' arrays every month would cost more than the
rules), and the month's aggregates are returned as plain numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.market import books, people
from flywheel_sim.market import platform as plat
from flywheel_sim.market import sellers as sell
from flywheel_sim.market.choice import Trips, shop
from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import I64, MarketState


@dataclass
class Sales:
    """This month's fulfilled purchases (one row per unit)."""

    customer: I64
    offer: I64
    position: I64  # slot in the consideration set (search results first, then recommendations)
    stockouts: int  # purchases refused because the offer ran out


def step(
    state: MarketState, p: MarketParams, rng: np.random.Generator
) -> tuple[MarketState, dict[str, float], NDArray[np.float64]]:
    """Advance one month; returns the state, the month's aggregates and the share of units
    sold at each consideration-set position (search results 1..K, then recommendations)."""
    t = state.month
    c, o, s, pf = state.customers, state.offers, state.sellers, state.platform
    market_open, prime_on, fba_on = t >= p.marketplace_start, t >= p.prime_start, t >= p.fba_start
    share = p.harvest_share if t >= p.harvest_from else p.reinvest_share
    if not prime_on:
        c.prime[:] = False
    if not fba_on:
        s.fba[:] = False
    out: dict[str, float] = {}
    out["prime_fees"] = float(c.prime.sum()) * p.prime_fee
    out["seller_entry"] = sell.enter(state, p, rng) if market_open else 0
    on_sale = sell.listed(state)
    plat.first_party_prices(state)
    sell.reprice(state, p)
    restocked, seller_paid, platform_paid = sell.restock(state, p, on_sale)
    view = plat.offer_view(state, p, prime_on, fba_on, on_sale)
    ranking = plat.rank(state, p, view, on_sale, prime_on)
    days = plat.delivery_days(state, p)
    out["acquisition"] = people.adopt(state, p, on_sale, rng)
    trips = shop(state, p, view, ranking, days, rng, state.backend)
    stocked = int(o.inventory.sum())
    sales = _fulfil(state, trips, p.stockout_penalty, rng)
    sold = books.tally(state, sales.customer, sales.offer)
    month, proceeds, merchant_units = books.money(state, p, view, sold, days)
    out.update(month)
    out.update(units_restocked=restocked, stock_purchases=seller_paid + platform_paid)
    out["units_sold"] = stocked - int(o.inventory.sum())
    people.review(state, p, sales.offer, rng)
    people.learn(state, p, trips, sales.customer, sales.offer, view)
    out.update(people.churn_and_prime(state, p, prime_on, rng))
    exits, written_off = sell.settle(state, p, proceeds, sold.units, merchant_units)
    out.update(seller_exit=exits, units_written_off=written_off)
    if fba_on:
        sell.choose_fba(state, p, rng)
    sell.update_forecast(state, p)
    out.update(books.platform_books(state, p, view, sold, out, share))
    pf.traffic = float(trips.customer.size)
    out.update(books.census(state, p, view, on_sale, trips, sold, days))
    out["stockouts"] = sales.stockouts
    k = int(p.search_results)
    by_position = np.bincount(np.minimum(sales.position, k), minlength=k + 1).astype(float)
    by_position /= max(by_position.sum(), 1.0)
    state.month = t + 1
    return state, out, by_position


def _fulfil(state: MarketState, trips: Trips, penalty: float, rng: np.random.Generator) -> Sales:
    """Chosen offers are bought while stock lasts; when more shoppers want an offer than it
    has units, a random subset of them gets one (the rest meet a stock-out)."""
    if state.backend == "numba":
        from flywheel_sim.market.kernels import fulfil

        return Sales(*fulfil(state, trips, penalty, rng))
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
    o.inventory -= sold
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
