"""numba twins of ``rules/books.py`` (the ``fast`` extra): the sales tally, the month's money
and the census.

Each does what its NumPy reference does in one pass over the offers or sellers instead of
dozens of small array operations. To give the same bits, a sum NumPy takes with
``ndarray.sum`` / ``mean`` is taken here with NumPy's own summation order (``pairwise.py``),
per-owner sums in the order ``np.bincount`` adds, and every elementwise expression in NumPy's
operation order; a test compares every output of the two backends.
"""

from __future__ import annotations

import numba
import numpy as np

from flywheel_sim.market.fast.people import active_satisfaction
from flywheel_sim.market.pairwise import spread, total
from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import F64, I64, MarketState
from flywheel_sim.market.views import OfferView, Tally, Trips


@numba.njit(cache=True, nogil=True)
def _tally(offer, customer, prime, n):  # type: ignore[no-untyped-def]
    units = np.zeros(n)
    members = np.zeros(n)
    for i in range(offer.size):
        units[offer[i]] += 1.0
        if prime[customer[i]]:
            members[offer[i]] += 1.0
    return units, members


def tally(state: MarketState, customer: I64, offer: I64) -> Tally:
    """``rules.books.tally`` in one pass: units sold per offer, and units bought by Prime
    members."""
    return Tally(*_tally(offer, customer, state.customers.prime, state.offers.price.size))


@numba.njit(cache=True, nogil=True)
def _money(  # type: ignore[no-untyped-def]
    offers,
    units,
    member_units,
    eligible,
    platform,
    seller_days,
    ref_price,
    first,
    n_sellers,
    rates,
    days,
):
    price, cost, category, seller = offers.price, offers.cost, offers.category, offers.seller
    shipping_fee, commission_rate, fba_fee = rates
    n = price.size
    sales, spend, commission = np.empty(n), np.empty(n), np.empty(n)
    fba, shipped, to_seller = np.empty(n), np.empty(n), np.empty(n)
    fees, delivered, relative = np.empty(n), np.empty(n), np.empty(n)
    goods = np.empty(first)
    proceeds, merchant = np.zeros(n_sellers), np.zeros(n_sellers)
    for i in range(n):
        own = i < first
        u = units[i]
        free = member_units[i] if eligible[i] else 0.0  # shipped free to members
        shipping = shipping_fee * (u - free)
        sales[i] = price[i] * u
        spend[i] = sales[i] + shipping
        commission[i] = 0.0 if own else commission_rate * sales[i]
        fba[i] = fba_fee * u if platform[i] and not own else 0.0
        shipped[i] = shipping if platform[i] else 0.0
        own_shipping = 0.0 if platform[i] else shipping
        to_seller[i] = 0.0 if own else sales[i] - commission[i] - fba[i] + own_shipping
        fees[i] = commission[i] + fba[i] + shipped[i]
        at_platform = free * days[1] + (u - free) * days[0]
        delivered[i] = at_platform if platform[i] else u * seller_days[i]
        relative[i] = u * price[i] / ref_price[category[i]]
        if own:
            goods[i] = cost[i] * u
        else:
            proceeds[seller[i]] += to_seller[i]
            merchant[seller[i]] += 0.0 if platform[i] else u
    sums = np.array(
        [
            total(spend, 0, n),
            total(to_seller, 0, n),
            total(fees, 0, n),
            total(sales, 0, first),
            total(sales, 0, n),
            total(commission, 0, n) + total(fba, 0, n),
            total(shipped, 0, n),
            total(goods, 0, first),
            total(units, 0, n),
            total(relative, 0, n),
            total(delivered, 0, n),
        ]
    )
    return sums, proceeds, merchant


def money(
    state: MarketState,
    p: MarketParams,
    view: OfferView,
    sold: Tally,
    days: tuple[float, float],
) -> tuple[dict[str, float], F64, F64]:
    """``rules.books.money`` in one pass over the offers."""
    sums, proceeds, merchant = _money(
        state.offers,
        sold.units,
        sold.member_units,
        view.eligible,
        view.platform,
        view.days,
        state.ref_price,
        state.first_party,
        state.sellers.active.size,
        (float(p.shipping_fee), float(p.commission_rate), float(p.fba_fee)),  # rates
        np.array(days, np.float64),
    )
    spend, seller, fees, first_party, gms, services, shipping, goods, n, relative, delivered = (
        sums.tolist()
    )
    out = {
        "customer_spend": spend,
        "seller_revenue": seller,
        "platform_fees": fees,
        "first_party_sales": first_party,
        "third_party_sales": gms - first_party,
        "gross_merchandise_sales": gms,
        "third_party_share": (gms - first_party) / gms if gms > 0 else 0.0,
        "third_party_services": services,
        "shipping_revenue": shipping,
        "cost_of_goods": goods,
        "orders": n,
        "price_index": relative / n if n else float("nan"),
        "delivery_days": delivered / n if n else float("nan"),
    }
    return out, proceeds, merchant


@numba.njit(cache=True, nogil=True)
def _hhi(price, units, seller, k):  # type: ignore[no-untyped-def]
    """Herfindahl-Hirschman index of sales value by seller, the platform's own retail first."""
    value = np.zeros(k + 1)
    for i in range(price.size):
        value[seller[i] + 1] += price[i] * units[i]
    whole = total(value, 0, k + 1)
    if not whole > 0:
        return np.nan
    share = np.empty(k + 1)
    for j in range(k + 1):
        x = value[j] / whole
        share[j] = x * x
    return total(share, 0, k + 1)


@numba.njit(cache=True, nogil=True)
def _offers(offers, seller_active, eligible, platform, on_sale, ref_price, first, prior):  # type: ignore[no-untyped-def]
    price, sold, inventory, category = offers.price, offers.sold, offers.inventory, offers.category
    reviews, rating_sum, seller = offers.reviews, offers.rating_sum, offers.seller
    n = price.size
    listed = third = eligible_listed = reviewed = stock = in_stock = 0
    fast = slow = fast_units = slow_units = 0
    shown = np.empty(n)
    ratio = np.empty(n)  # price / category reference of listed offers in stock
    for i in range(n):
        if i < first or seller_active[seller[i]]:  # listed now (after this month's exits)
            shown[listed] = (3.0 * prior + rating_sum[i]) / (prior + reviews[i])
            listed += 1
            third += i >= first
            eligible_listed += eligible[i]
            reviewed += reviews[i]
        stock += inventory[i]
        if on_sale[i] and inventory[i] > 0:
            ratio[in_stock] = price[i] / ref_price[category[i]]
            in_stock += 1
        if on_sale[i]:  # what sellers see of the lift: listed at the start of the month
            if platform[i]:
                fast += 1
                fast_units += sold[i]
            else:
                slow += 1
                slow_units += sold[i]
    rating = total(shown, 0, listed) / listed if listed else np.nan
    counts = np.array([listed, third, eligible_listed, reviewed, stock])
    return counts, np.array([fast, slow, fast_units, slow_units]), rating, ratio[:in_stock]


def census(
    state: MarketState,
    p: MarketParams,
    view: OfferView,
    on_sale: np.ndarray,
    trips: Trips,
    sold: Tally,
    days: tuple[float, float],
) -> dict[str, float]:
    """``rules.books.census`` in one pass over each population (the log-price spread stays NumPy's:
    its ``log`` is vectorised and may differ from the C library's in the last bit)."""
    c, o, s, pf = state.customers, state.offers, state.sellers, state.platform
    counts, lift, rating, ratio = _offers(
        o,
        s.active,
        view.eligible,
        view.platform,
        on_sale,
        state.ref_price,
        state.first_party,
        float(p.rating_prior),
    )
    selection, third, eligible, reviews, stock = counts.tolist()
    fast, slow, fast_units, slow_units = lift.tolist()
    customers, happy = active_satisfaction(c.active, c.satisfaction)
    satisfaction = float(np.float32(happy / customers)) if customers else 0.0  # np.mean's
    members = int(np.count_nonzero(c.prime))
    sellers = int(np.count_nonzero(s.active))
    fba = int(np.count_nonzero(s.fba & s.active))
    units = sold.units
    hhi = float(_hhi(o.price, units, o.seller, s.active.size))
    if fast and slow and slow_units > 0:  # the lift sellers judge FBA by, smoothed
        seen = (fast_units / fast) / (slow_units / slow) - 1.0
        pf.lift += 0.5 * (seen - pf.lift)
    log_rel = np.log(ratio)
    return {
        "customers": float(customers),
        "prime_members": float(members),
        "prime_share": members / max(customers, 1),
        "satisfaction": satisfaction,
        "traffic": float(trips.customer.size),
        "sellers": float(sellers),
        "fba_share": fba / sellers if sellers else 0.0,
        "selection": float(selection),
        "first_party_selection": float(state.first_party),
        "third_party_selection": float(third),
        "prime_eligible_selection": float(eligible),
        "reviews": float(reviews),
        "mean_rating": float(rating),
        "platform_delivery_days": days[0],
        "prime_delivery_days": days[1],
        "inventory": float(stock),
        "units_bought": float(total(units, 0, units.size)),
        "hhi": hhi,
        "price_dispersion": float(spread(log_rel)) if log_rel.size > 1 else 0.0,
        "sales_lift": pf.lift,
    }
