"""numba twins of ``rules/sellers.py`` (the ``fast`` extra): what is listed, sellers' prices,
new sellers, restocking, settling up, FBA and the demand forecast.

Each does what its NumPy reference does in one pass over the offers or sellers, with the same
arithmetic in the same order (sums in NumPy's pairwise order, ``pairwise.py``, and per-owner
sums in the order ``np.bincount`` adds). Compiled once per machine and cached on disk.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from flywheel_sim.market.pairwise import total
from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import F64, I64, MarketState


@numba.njit(cache=True, nogil=True)
def _listed(seller, seller_active):  # type: ignore[no-untyped-def]
    on = np.empty(seller.size, np.bool_)
    for i in range(seller.size):
        on[i] = seller[i] < 0 or seller_active[seller[i]]
    return on


def listed(state: MarketState) -> np.ndarray:
    """``rules.sellers.listed``: the platform's own offers and those of active sellers."""
    return _listed(state.offers.seller, state.sellers.active)  # type: ignore[no-any-return]


class PriceBounds(NamedTuple):
    """What bounds a third-party price (``rules.sellers.price_bounds``): unit cost times
    ``low`` (or ``high``), plus the unit fee of its fulfilment (``fba_fee`` or
    ``merchant_fee``), grossed up by ``keep``, the share of the price the commission leaves."""

    fba_fee: float
    merchant_fee: float
    keep: float
    low: float
    high: float

    @classmethod
    def of(cls, p: MarketParams) -> PriceBounds:
        return cls(
            float(p.fba_fee),
            max(p.merchant_shipping_cost - p.shipping_fee, 0.0),
            max(1.0 - p.commission_rate, 1e-6),
            1 + p.min_markup,
            1 + p.max_markup,
        )


@numba.njit(cache=True, nogil=True)
def _reprice(offers, sellers, lead_price, first, up, down, adjustment, bounds):  # type: ignore[no-untyped-def]
    price, cost, category, seller = offers.price, offers.cost, offers.category, offers.seller
    demand, sold = offers.demand, offers.sold
    fba_fee, merchant_fee, keep, low, high = bounds
    for i in range(first, price.size):
        if not sellers.active[seller[i]]:
            continue
        target = price[i] * up if demand[i] > sold[i] else lead_price[category[i]] * down
        unit_fee = fba_fee if sellers.fba[seller[i]] else merchant_fee
        floor = (cost[i] * low + unit_fee) / keep
        ceiling = (cost[i] * high + unit_fee) / keep
        moved = price[i] + adjustment * (target - price[i])
        price[i] = min(max(moved, floor), ceiling)  # np.clip


def reprice(state: MarketState, p: MarketParams) -> None:
    """``rules.sellers.reprice`` in one pass over the third-party offers."""
    _reprice(
        state.offers,
        state.sellers,
        state.platform.lead_price,
        state.first_party,
        1.0 + p.undercut,
        1.0 - p.undercut,
        float(p.price_adjustment),
        PriceBounds.of(p),
    )


@numba.njit(cache=True, nogil=True)
def _open(joining, sellers, offers, lead_price, first, per_seller, stock, down, bounds):  # type: ignore[no-untyped-def]
    active, fba, losses, profit = sellers.active, sellers.fba, sellers.losses, sellers.profit
    reviews, rating_sum, inventory = offers.reviews, offers.rating_sum, offers.inventory
    forecast, sold, demand = offers.forecast, offers.sold, offers.demand
    price, cost, category = offers.price, offers.cost, offers.category
    _, merchant_fee, keep, low, high = bounds
    for s in joining:
        active[s] = True
        fba[s] = False
        losses[s] = 0
        profit[s] = 0.0
        for i in range(first + s * per_seller, first + (s + 1) * per_seller):
            reviews[i] = 0
            rating_sum[i] = 0.0
            inventory[i] = 0
            forecast[i] = stock
            sold[i] = 0
            demand[i] = 0
            floor = (cost[i] * low + merchant_fee) / keep  # a new seller does not use FBA
            ceiling = (cost[i] * high + merchant_fee) / keep
            price[i] = min(max(lead_price[category[i]] * down, floor), ceiling)


def open_sellers(state: MarketState, p: MarketParams, joining: I64) -> None:
    """``rules.sellers.open_sellers``: new sellers list their offers just under the leading
    price."""
    _open(
        joining,
        state.sellers,
        state.offers,
        state.platform.lead_price,
        state.first_party,
        state.per_seller,
        float(p.initial_stock),
        1.0 - p.undercut,
        PriceBounds.of(p),
    )


@numba.njit(cache=True, nogil=True)
def _choose_fba(sellers, offers, u, chance, first, per_seller, keep_rate, lift, fees):  # type: ignore[no-untyped-def]
    active, fba, price, cost = sellers.active, sellers.fba, offers.price, offers.cost
    fba_fee, shipping_fee, merchant_shipping = fees
    for s in range(active.size):
        if active[s] and u[s] < chance:
            lo = first + s * per_seller
            mean_price = total(price, lo, per_seller) / per_seller
            mean_cost = total(cost, lo, per_seller) / per_seller
            keep = mean_price * keep_rate - mean_cost
            merchant = keep + shipping_fee - merchant_shipping
            fba[s] = (1.0 + lift) * (keep - fba_fee) > merchant


def choose_fba(state: MarketState, p: MarketParams, rng: np.random.Generator) -> None:
    """``rules.sellers.choose_fba`` in one pass, from the same uniforms."""
    s = state.sellers
    _choose_fba(
        s,
        state.offers,
        rng.random(s.active.size),
        1.0 / p.fba_review_months,
        state.first_party,
        state.per_seller,
        1 - p.commission_rate,
        float(state.platform.lift),
        (float(p.fba_fee), float(p.shipping_fee), float(p.merchant_shipping_cost)),  # fees
    )


@numba.njit(cache=True, nogil=True)
def _restock(forecast, inventory, cost, on_sale, first, cover):  # type: ignore[no-untyped-def]
    n = forecast.size
    paid = np.empty(n)
    units = 0
    for i in range(n):
        order = 0
        if on_sale[i]:
            order = max(np.int64(np.ceil(forecast[i] * cover)) - inventory[i], 0)
        inventory[i] += order
        units += order
        paid[i] = order * cost[i]
    return units, total(paid, first, n - first), total(paid, 0, first)


def restock(state: MarketState, p: MarketParams, on_sale: np.ndarray) -> tuple[int, float, float]:
    """``rules.sellers.restock`` in one pass."""
    o = state.offers
    units, sellers, platform = _restock(
        o.forecast, o.inventory, o.cost, on_sale, state.first_party, 1.0 + p.safety_stock
    )
    return int(units), float(sellers), float(platform)


@numba.njit(cache=True, nogil=True)
def _settle(  # type: ignore[no-untyped-def]
    sellers, offers, units, proceeds, merchant_units, first, per_seller, costs, exit_after
):
    active, fba, losses, profit = sellers.active, sellers.fba, sellers.losses, sellers.profit
    seller, offer_cost, inventory = offers.seller, offers.cost, offers.inventory
    shipping_cost, fixed_cost = costs
    k = active.size
    cost = np.zeros(k)
    for i in range(first, offer_cost.size):  # np.bincount's order: offer by offer
        cost[seller[i]] += offer_cost[i] * units[i]
    margin = np.empty(k)
    exits = written_off = kept = 0
    for s in range(k):
        margin[s] = proceeds[s] - cost[s] - shipping_cost * merchant_units[s]
        month = margin[s] - fixed_cost
        profit[s] = month if active[s] else 0.0
        losses[s] = losses[s] + 1 if active[s] and month < 0 else 0
        if active[s] and losses[s] >= exit_after:
            active[s] = False
            fba[s] = False
            exits += 1
            for i in range(first + s * per_seller, first + (s + 1) * per_seller):
                written_off += inventory[i]
                inventory[i] = 0
        if active[s]:
            margin[kept] = margin[s]  # the active sellers' margins, in order
            kept += 1
    mean = total(margin, 0, kept) / kept if kept else 0.0
    return exits, written_off, mean


def settle(
    state: MarketState, p: MarketParams, proceeds: F64, units: F64, merchant_units: F64
) -> tuple[int, float]:
    """``rules.sellers.settle`` in one pass over the sellers."""
    exits, written_off, mean = _settle(
        state.sellers,
        state.offers,
        units,
        proceeds,
        merchant_units,
        state.first_party,
        state.per_seller,
        (float(p.merchant_shipping_cost), float(p.seller_fixed_cost)),  # per unit, per month
        float(p.exit_after),
    )
    state.platform.sales_per_seller_margin = float(mean)
    return int(exits), int(written_off)


@numba.njit(cache=True, nogil=True)
def _forecast(forecast, demand, weight):  # type: ignore[no-untyped-def]
    for i in range(forecast.size):
        forecast[i] += weight * (demand[i] - forecast[i])


def update_forecast(state: MarketState, p: MarketParams) -> None:
    """``rules.sellers.update_forecast`` in one pass."""
    _forecast(state.offers.forecast, state.offers.demand, float(p.forecast_weight))
