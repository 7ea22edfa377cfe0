"""The month's books: who paid whom, the platform's income, and the census of the market.

Every fulfilled unit's payment is split once, here, so the money identity holds by
construction and is checked by the tests rather than assumed:
customer spend = seller revenue + platform fees + first-party sales, where a Prime member pays
no shipping on a Prime-eligible (platform-fulfilled) offer, shipping on a platform-fulfilled
offer goes to the platform and shipping on a merchant-fulfilled offer to its seller.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.market import platform as plat
from flywheel_sim.market.choice import OfferView, Trips
from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import I64, MarketState

F64 = NDArray[np.float64]


def _split(
    state: MarketState, p: MarketParams, view: OfferView, customer: I64, offer: I64
) -> dict[str, F64]:
    o = state.offers
    price = o.price[offer]
    member = state.customers.prime[customer]
    shipping = np.where(member & view.eligible[offer], 0.0, p.shipping_fee)
    own = offer < state.first_party
    by_platform = view.platform[offer]
    commission = np.where(own, 0.0, p.commission_rate * price)
    fba = np.where(by_platform & ~own, p.fba_fee, 0.0)
    platform_shipping = np.where(by_platform, shipping, 0.0)
    seller = np.where(own, 0.0, price - commission - fba + np.where(by_platform, 0.0, shipping))
    return {
        "price": price,
        "spend": price + shipping,
        "own": own.astype(float),
        "commission": commission,
        "fba": fba,
        "platform_shipping": platform_shipping,
        "seller": seller,
    }


def money(
    state: MarketState,
    p: MarketParams,
    view: OfferView,
    customer: I64,
    offer: I64,
    days: tuple[float, float],
) -> dict[str, float]:
    """The month's payments, and the delivery time of each unit (a Prime member gets a
    Prime-eligible offer in Prime days)."""
    parts = _split(state, p, view, customer, offer)
    member = state.customers.prime[customer]
    platform_days = np.where(member & view.eligible[offer], days[1], days[0])
    delivered = np.where(view.platform[offer], platform_days, view.days[offer])
    own = parts["own"] > 0
    first_party = float(parts["price"][own].sum())
    gms = float(parts["price"].sum())
    fees = parts["commission"] + parts["fba"] + parts["platform_shipping"]
    ratio = parts["price"] / state.ref_price[state.offers.category[offer]]
    return {
        "customer_spend": float(parts["spend"].sum()),
        "seller_revenue": float(parts["seller"].sum()),
        "platform_fees": float(fees.sum()),
        "first_party_sales": first_party,
        "third_party_sales": gms - first_party,
        "gross_merchandise_sales": gms,
        "third_party_share": (gms - first_party) / gms if gms > 0 else 0.0,
        "third_party_services": float(parts["commission"].sum() + parts["fba"].sum()),
        "shipping_revenue": float(parts["platform_shipping"].sum()),
        "cost_of_goods": float(state.offers.cost[offer][own].sum()),
        "orders": float(offer.size),
        "price_index": float(ratio.mean()) if ratio.size else float("nan"),
        "delivery_days": float(delivered.mean()) if offer.size else float("nan"),
    }


def seller_books(
    state: MarketState, p: MarketParams, view: OfferView, customer: I64, offer: I64
) -> tuple[F64, I64]:
    """Each seller's revenue this month and its merchant-fulfilled units."""
    parts = _split(state, p, view, customer, offer)
    k = state.sellers.active.size
    theirs = offer >= state.first_party
    owner = state.offers.seller[offer[theirs]]
    proceeds = np.bincount(owner, weights=parts["seller"][theirs], minlength=k)
    merchant = theirs & ~view.platform[offer]
    units = np.bincount(state.offers.seller[offer[merchant]], minlength=k)
    return proceeds, units


def platform_books(
    state: MarketState,
    p: MarketParams,
    view: OfferView,
    customer: I64,
    offer: I64,
    month: dict[str, float],
    share: float,
) -> dict[str, float]:
    """Fulfilment load and cost, operating income, and the reinvestment of it."""
    pf = state.platform
    people = state.customers.active.size
    fulfilled = float(view.platform[offer].sum())
    pf.utilisation = fulfilled / pf.capacity if pf.capacity > 0 else float("inf")
    strain = 1.0 + p.strain_slope * max(0.0, pf.utilisation - p.strain_threshold)
    fulfilment = p.fulfilment_cost * fulfilled * strain
    upkeep = p.capacity_upkeep * pf.capacity
    income = (
        month["first_party_sales"]
        - month["cost_of_goods"]
        + month["third_party_services"]
        + month["shipping_revenue"]
        + month["prime_fees"]
        - fulfilment
        - upkeep
        - p.platform_fixed_cost * people
    )
    capacity = pf.capacity
    invested = plat.reinvest(state, p, share, income, month["cost_of_goods"])
    return {
        "net_sales": month["first_party_sales"]
        + month["third_party_services"]
        + month["shipping_revenue"]
        + month["prime_fees"],
        "fulfilment_costs": fulfilment,
        "operating_income": income,
        "capacity_investment": invested,
        "capacity": capacity,
        "utilisation": pf.utilisation,
        "reinvest_share": share,
    }


def census(
    state: MarketState,
    p: MarketParams,
    view: OfferView,
    on_sale: np.ndarray,
    trips: Trips,
    offer: I64,
    days: tuple[float, float],
) -> dict[str, float]:
    """Stocks and distributional measures at the end of the month."""
    c, o, s = state.customers, state.offers, state.sellers
    first = state.first_party
    listed_now = sell_listed(state)
    # HHI over sales value, the platform's own retail counted as one seller
    value = np.bincount(o.seller[offer] + 1, weights=o.price[offer], minlength=s.active.size + 1)
    total = value.sum()
    hhi = float(((value / total) ** 2).sum()) if total > 0 else float("nan")
    stocked = np.flatnonzero(on_sale & (o.inventory > 0))
    log_rel = np.log(o.price[stocked] / state.ref_price[o.category[stocked]])
    active_sellers = int(s.active.sum())
    _observe_lift(state, view, on_sale)
    return {
        "customers": float(c.active.sum()),
        "prime_members": float(c.prime.sum()),
        "prime_share": float(c.prime.sum() / max(c.active.sum(), 1)),
        "satisfaction": float(c.satisfaction[c.active].mean()) if c.active.any() else 0.0,
        "traffic": float(trips.customer.size),
        "sellers": float(active_sellers),
        "fba_share": float(s.fba[s.active].mean()) if active_sellers else 0.0,
        "selection": float(listed_now.sum()),
        "first_party_selection": float(first),
        "third_party_selection": float(listed_now[first:].sum()),
        "prime_eligible_selection": float((listed_now & view.eligible).sum()),
        "reviews": float(o.reviews[listed_now].sum()),
        "mean_rating": float(plat.shown_rating(state, p)[listed_now].mean()),
        "platform_delivery_days": days[0],
        "prime_delivery_days": days[1],
        "inventory": float(o.inventory.sum()),
        "units_bought": float(offer.size),
        "hhi": hhi,
        "price_dispersion": float(log_rel.std()) if log_rel.size > 1 else 0.0,
        "sales_lift": state.platform.lift,
    }


def _observe_lift(state: MarketState, view: OfferView, on_sale: np.ndarray) -> None:
    """What sellers can see: units sold per platform-fulfilled offer against units per
    merchant-fulfilled offer (exponentially smoothed), the lift FBA is judged by."""
    o = state.offers
    fast = on_sale & view.platform
    slow = on_sale & ~view.platform
    if fast.any() and slow.any():
        per_slow = o.sold[slow].mean()
        if per_slow > 0:
            seen = o.sold[fast].mean() / per_slow - 1.0
            state.platform.lift += 0.5 * (seen - state.platform.lift)


def sell_listed(state: MarketState) -> np.ndarray:
    seller_on = np.concatenate([[True], state.sellers.active])
    return np.asarray(seller_on[state.offers.seller + 1])
