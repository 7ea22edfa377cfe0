"""Sellers: entry where the traffic is, competitive prices, stock, FBA, exit after losses."""

from __future__ import annotations

import numpy as np

from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import F64, I64, MarketState


def listed(state: MarketState) -> np.ndarray:
    """Which offers are on sale: the platform's own, and those of active sellers."""
    o = state.offers
    seller_on = np.concatenate([[True], state.sellers.active])
    return np.asarray(seller_on[o.seller + 1])


def entrants(state: MarketState, p: MarketParams, rng: np.random.Generator) -> I64:
    """The potential sellers who join this month: each with a chance that rises with traffic
    per potential customer and with the margin sellers earned last month relative to their
    fixed costs (they open with :func:`open_sellers`)."""
    s, pf = state.sellers, state.platform
    idle = np.flatnonzero(~s.active)
    if idle.size == 0:
        return idle
    people = state.customers.active.size
    traffic = max(pf.traffic / (people * p.base_trips), 1e-9)
    if np.any(s.active) and p.seller_fixed_cost > 0:
        earning = max(pf.sales_per_seller_margin / p.seller_fixed_cost, 1e-9)
    else:
        earning = 1.0  # a new marketplace: no track record yet
    chance = min(
        1.0,
        p.seller_entry_rate * traffic**p.traffic_elasticity * earning**p.sales_elasticity,
    )
    joining: I64 = idle[rng.random(idle.size) < chance]
    return joining


def open_sellers(state: MarketState, p: MarketParams, joining: I64) -> None:
    """New sellers list their offers, with no reviews or stock yet, just under the category's
    leading price."""
    s, o = state.sellers, state.offers
    s.active[joining] = True
    s.fba[joining] = False
    s.losses[joining] = 0
    s.profit[joining] = 0.0
    ids = state.first_party + joining[:, None] * state.per_seller + np.arange(state.per_seller)
    ids = ids.ravel()
    o.reviews[ids] = 0
    o.rating_sum[ids] = 0.0
    o.inventory[ids] = 0
    o.forecast[ids] = p.initial_stock
    o.sold[ids] = 0
    o.demand[ids] = 0
    floor, ceiling = price_bounds(state, p, ids)
    target = state.platform.lead_price[o.category[ids]] * (1.0 - p.undercut)
    o.price[ids] = np.clip(target, floor, ceiling)


def price_bounds(state: MarketState, p: MarketParams, ids: I64) -> tuple[F64, F64]:
    """Lowest and highest price of each third-party offer: unit cost plus the fees of its
    fulfilment, marked up by min_markup / max_markup, grossed up for the commission."""
    o, s = state.offers, state.sellers
    fba = s.fba[o.seller[ids]]
    unit_fee = np.where(fba, p.fba_fee, max(p.merchant_shipping_cost - p.shipping_fee, 0.0))
    keep = 1.0 - p.commission_rate
    floor = (o.cost[ids] * (1 + p.min_markup) + unit_fee) / max(keep, 1e-6)
    ceiling = (o.cost[ids] * (1 + p.max_markup) + unit_fee) / max(keep, 1e-6)
    return floor, ceiling


def reprice(state: MarketState, p: MarketParams) -> None:
    """Competitive adjustment: close part of the gap to just under the category's leading
    price, or raise the price after a stock-out; always within the seller's margin."""
    o = state.offers
    ids = np.flatnonzero(listed(state)[state.first_party :]) + state.first_party
    if ids.size == 0:
        return
    short = o.demand[ids] > o.sold[ids]
    target = np.where(
        short,
        o.price[ids] * (1.0 + p.undercut),
        state.platform.lead_price[o.category[ids]] * (1.0 - p.undercut),
    )
    floor, ceiling = price_bounds(state, p, ids)
    moved = o.price[ids] + p.price_adjustment * (target - o.price[ids])
    o.price[ids] = np.clip(moved, floor, ceiling)


def restock(state: MarketState, p: MarketParams, on_sale: np.ndarray) -> tuple[int, float, float]:
    """Order up to the forecast plus safety stock (arrives at once); returns units bought,
    and what sellers and the platform paid for them."""
    o = state.offers
    target = np.ceil(o.forecast * (1.0 + p.safety_stock)).astype(np.int64)
    order = np.where(on_sale, np.maximum(target - o.inventory, 0), 0)
    o.inventory[:] += order
    paid = order * o.cost
    first = state.first_party
    return int(order.sum()), float(paid[first:].sum()), float(paid[:first].sum())


def settle(
    state: MarketState, p: MarketParams, proceeds: F64, units: F64, merchant_units: F64
) -> tuple[int, float]:
    """Each active seller's month: profit, the loss streak, and exit after ``exit_after``
    losing months (their stock is written off). Returns (exits, units written off)."""
    s, o = state.sellers, state.offers
    k = s.active.size
    owner = o.seller[state.first_party :]
    cost = np.bincount(owner, weights=(o.cost * units)[state.first_party :], minlength=k)
    shipping = p.merchant_shipping_cost * merchant_units
    profit = proceeds - cost - shipping - p.seller_fixed_cost
    s.profit[:] = np.where(s.active, profit, 0.0)
    s.losses[:] = np.where(s.active & (profit < 0), s.losses + 1, 0)
    leaving = s.active & (s.losses >= p.exit_after)
    s.active[leaving] = False
    s.fba[leaving] = False
    gone = np.concatenate([np.zeros(state.first_party, bool), np.repeat(leaving, state.per_seller)])
    written_off = int(o.inventory[gone].sum())
    o.inventory[gone] = 0
    active = s.active.sum()
    margin = proceeds - cost - shipping
    state.platform.sales_per_seller_margin = float(margin[s.active].sum() / active) if active else 0
    return int(leaving.sum()), written_off


def choose_fba(state: MarketState, p: MarketParams, rng: np.random.Generator) -> None:
    """Sellers reconsider FBA now and then: FBA if the observed sales lift of Prime-eligible
    offers, applied to the margin left after the FBA fee, beats the merchant-fulfilled margin."""
    s, o = state.sellers, state.offers
    review = s.active & (rng.random(s.active.size) < 1.0 / p.fba_review_months)
    who = np.flatnonzero(review)
    if who.size == 0:
        return
    ids = state.first_party + who[:, None] * state.per_seller + np.arange(state.per_seller)
    price = o.price[ids].mean(axis=1)
    cost = o.cost[ids].mean(axis=1)
    keep = price * (1 - p.commission_rate) - cost
    with_fba = (1.0 + state.platform.lift) * (keep - p.fba_fee)
    merchant = keep + p.shipping_fee - p.merchant_shipping_cost
    s.fba[who] = with_fba > merchant


def update_forecast(state: MarketState, p: MarketParams) -> None:
    """Exponential smoothing of units asked for (sales plus stock-outs)."""
    o = state.offers
    o.forecast[:] += p.forecast_weight * (o.demand - o.forecast)
