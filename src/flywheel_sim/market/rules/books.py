"""The month's books: who paid whom, the platform's income, and the census of the market.

Every fulfilled unit's payment is split once, here, so the money identity holds by
construction and is checked by the tests rather than assumed:
customer spend = seller revenue + platform fees + first-party sales, where a Prime member pays
no shipping on a Prime-eligible (platform-fulfilled) offer, shipping on a platform-fulfilled
offer goes to the platform and shipping on a merchant-fulfilled offer to its seller.
"""

from __future__ import annotations

import numpy as np

from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.rules import platform as plat
from flywheel_sim.market.rules.sellers import listed
from flywheel_sim.market.state import F64, I64, MarketState
from flywheel_sim.market.views import OfferView, Tally, Trips


def tally(state: MarketState, customer: I64, offer: I64) -> Tally:
    """Units sold per offer, and units bought by Prime members."""
    n = state.offers.price.size
    units = np.bincount(offer, minlength=n).astype(np.float64)
    members = np.bincount(offer[state.customers.prime[customer]], minlength=n)
    return Tally(units, members.astype(np.float64))


def _split(state: MarketState, p: MarketParams, view: OfferView, sold: Tally) -> dict[str, F64]:
    """Each offer's takings this month, split between its seller and the platform."""
    o = state.offers
    own = np.zeros(o.price.size, bool)
    own[: state.first_party] = True
    free = np.where(view.eligible, sold.member_units, 0.0)  # units shipped free to members
    shipping = p.shipping_fee * (sold.units - free)
    sales = o.price * sold.units
    commission = np.where(own, 0.0, p.commission_rate * sales)
    fba = np.where(view.platform & ~own, p.fba_fee * sold.units, 0.0)
    platform_shipping = np.where(view.platform, shipping, 0.0)
    seller = np.where(own, 0.0, sales - commission - fba + np.where(view.platform, 0.0, shipping))
    return {
        "sales": sales,
        "spend": sales + shipping,
        "own": own,
        "commission": commission,
        "fba": fba,
        "platform_shipping": platform_shipping,
        "seller": seller,
        "free": free,
    }


def money(
    state: MarketState,
    p: MarketParams,
    view: OfferView,
    sold: Tally,
    days: tuple[float, float],
) -> tuple[dict[str, float], F64, F64]:
    """The month's payments and delivery times (a Prime member gets a Prime-eligible offer in
    Prime days); and each seller's revenue and merchant-fulfilled units."""
    o = state.offers
    parts = _split(state, p, view, sold)
    own = parts["own"]
    first_party = float(parts["sales"][own].sum())
    gms = float(parts["sales"].sum())
    fees = parts["commission"] + parts["fba"] + parts["platform_shipping"]
    units = float(sold.units.sum())
    platform_days = parts["free"] * days[1] + (sold.units - parts["free"]) * days[0]
    delivered = np.where(view.platform, platform_days, sold.units * view.days)
    relative = sold.units * o.price / state.ref_price[o.category]
    out = {
        "customer_spend": float(parts["spend"].sum()),
        "seller_revenue": float(parts["seller"].sum()),
        "platform_fees": float(fees.sum()),
        "first_party_sales": first_party,
        "third_party_sales": gms - first_party,
        "gross_merchandise_sales": gms,
        "third_party_share": (gms - first_party) / gms if gms > 0 else 0.0,
        "third_party_services": float(parts["commission"].sum() + parts["fba"].sum()),
        "shipping_revenue": float(parts["platform_shipping"].sum()),
        "cost_of_goods": float((o.cost * sold.units)[own].sum()),
        "orders": units,
        "price_index": float(relative.sum()) / units if units else float("nan"),
        "delivery_days": float(delivered.sum()) / units if units else float("nan"),
    }
    k = state.sellers.active.size
    first = state.first_party
    owner = o.seller[first:]
    proceeds = np.bincount(owner, weights=parts["seller"][first:], minlength=k)
    merchant = np.where(view.platform, 0.0, sold.units)[first:]
    merchant_units = np.bincount(owner, weights=merchant, minlength=k).astype(np.float64)
    return out, proceeds.astype(np.float64), merchant_units


def platform_books(
    state: MarketState,
    p: MarketParams,
    view: OfferView,
    sold: Tally,
    month: dict[str, float],
    share: float,
) -> dict[str, float]:
    """Fulfilment load and cost, operating income, and the reinvestment of it."""
    pf = state.platform
    people = state.customers.active.size
    fulfilled = float(sold.units[view.platform].sum())
    pf.utilisation = fulfilled / pf.capacity if pf.capacity > 0 else float("inf")
    strain = 1.0 + p.strain_slope * max(0.0, pf.utilisation - p.strain_threshold)
    fulfilment = p.fulfilment_cost * fulfilled * strain
    upkeep = p.capacity_upkeep * pf.capacity
    gross = (
        month["first_party_sales"]
        - month["cost_of_goods"]
        + month["third_party_services"]
        + month["shipping_revenue"]
        + month["prime_fees"]
        - fulfilment
        - upkeep
    )
    income = gross - p.platform_fixed_cost * people
    capacity = pf.capacity
    invested = plat.reinvest(state, p, share, gross, month["cost_of_goods"])
    return {
        "net_sales": month["first_party_sales"]
        + month["third_party_services"]
        + month["shipping_revenue"]
        + month["prime_fees"],
        "fulfilment_costs": fulfilment,
        "gross_profit": gross,
        "operating_income": income,
        "capacity_investment": invested,
        "capacity": capacity,
        "utilisation": pf.utilisation,
        "effective_reinvest_share": share,
    }


def census(
    state: MarketState,
    p: MarketParams,
    view: OfferView,
    on_sale: np.ndarray,
    trips: Trips,
    sold: Tally,
    days: tuple[float, float],
) -> dict[str, float]:
    """Stocks and distributional measures at the end of the month."""
    c, o, s = state.customers, state.offers, state.sellers
    first = state.first_party
    listed_now = listed(state)
    # HHI over sales value, the platform's own retail counted as one seller
    value = np.bincount(o.seller + 1, weights=o.price * sold.units, minlength=s.active.size + 1)
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
        "units_bought": float(sold.units.sum()),
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
