"""numba twins of ``rules/platform.py`` (the ``fast`` extra): what shoppers see of the offers
and the platform's ranking.

Each does what its NumPy reference does in one pass, with the same arithmetic in the same
order; logarithms stay NumPy's (its vectorised ``log`` may differ from the C library's in the
last bit), so the callers take them in NumPy. The ranking sorts by category, then score (best
first), then offer id — the order ``np.lexsort`` gives, which is unique because ids are.
"""

from __future__ import annotations

import numba
import numpy as np

from flywheel_sim.market.pairwise import total
from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import MarketState
from flywheel_sim.market.views import OfferView, Ranking


@numba.njit(cache=True, nogil=True, inline="always")
def table_row(table, o, log_price, log_price_free, rating, trust, eligible, platform, days):  # type: ignore[no-untyped-def]
    """Row ``o`` of the shopping kernel's offer table (``fast.choice``): the fields a
    shopper reads, packed into one 64-byte row."""
    table[o, 0] = log_price[o]
    table[o, 1] = log_price_free[o]
    table[o, 2] = rating[o]
    table[o, 3] = trust[o]
    table[o, 4] = 1.0 if eligible[o] else 0.0
    table[o, 5] = 1.0 if platform[o] else 0.0
    table[o, 6] = days[o]
    table[o, 7] = 0.0


@numba.njit(cache=True, nogil=True)
def _view(  # type: ignore[no-untyped-def]
    offers,
    sellers,
    log_price,
    log_price_free,
    log_reviews,
    first,
    fba_on,
    prime_on,
    prior,
    trust_weight,
):
    seller, rating_sum, reviews = offers.seller, offers.rating_sum, offers.reviews
    seller_fba, seller_days = sellers.fba, sellers.days
    n = seller.size
    platform = np.empty(n, np.bool_)
    eligible = np.empty(n, np.bool_)
    days = np.empty(n)
    rating = np.empty(n)
    trust = np.empty(n)
    table = np.empty((n, 8))  # the shopping kernel's rows (``fast.choice``)
    for i in range(n):
        own = seller[i] < 0
        platform[i] = i < first or (not own and fba_on and seller_fba[seller[i]])
        eligible[i] = platform[i] and prime_on
        days[i] = 0.0 if own else np.float64(seller_days[seller[i]])
        rating[i] = (3.0 * prior + rating_sum[i]) / (prior + reviews[i]) - 3.0
        trust[i] = trust_weight * log_reviews[i]
        table_row(table, i, log_price, log_price_free, rating, trust, eligible, platform, days)
    return platform, eligible, days, rating, trust, table


def offer_view(
    state: MarketState, p: MarketParams, prime_on: bool, fba_on: bool, on_sale: np.ndarray
) -> OfferView:
    """``rules.platform.offer_view``: the logarithms in NumPy, the rest (and the shopping kernel's
    table of the same values) in one pass."""
    o, s = state.offers, state.sellers
    log_price = np.log(o.price + p.shipping_fee)
    log_price_free = np.log(o.price)
    platform, eligible, days, rating, trust, table = _view(
        o,
        s,
        log_price,
        log_price_free,
        np.log1p(o.reviews),
        state.first_party,
        bool(fba_on),
        bool(prime_on),
        float(p.rating_prior),
        float(p.trust_weight),
    )
    return OfferView(
        log_price=log_price,
        log_price_free=log_price_free,
        rating=rating,
        trust=trust,
        eligible=eligible,
        platform=platform,
        days=days,
        table=table,
    )


@numba.njit(cache=True, nogil=True)
def _in_stock(on_sale, inventory, sold, price, category, ref_price):  # type: ignore[no-untyped-def]
    """The listed offers in stock, and the two arguments of the score's logarithms."""
    ids = np.empty(on_sale.size, np.int64)
    n = 0
    for i in range(on_sale.size):
        if on_sale[i] and inventory[i] > 0:
            ids[n] = i
            n += 1
    units = np.empty(n)
    relative = np.empty(n)
    for j in range(n):
        i = ids[j]
        units[j] = sold[i]
        relative[j] = price[i] / ref_price[category[i]]
    return ids[:n], units, relative


@numba.njit(cache=True, nogil=True)
def _rank(  # type: ignore[no-untyped-def]
    ids, log_sales, log_price, rating, eligible, weights, category, price, lead_price, n_cat, k
):
    counts = np.zeros(n_cat, np.int64)
    for i in ids:
        counts[category[i]] += 1
    starts = np.zeros(n_cat, np.int64)
    for c in range(1, n_cat):
        starts[c] = starts[c - 1] + counts[c - 1]
    # by category, keeping id order (ids ascend); then each category by score, best first,
    # with a stable sort so that equal scores keep id order: np.lexsort's order
    ranked = np.empty(ids.size, np.int64)
    key = np.empty(ids.size)
    fill = starts.copy()
    for j in range(ids.size):
        i = ids[j]
        score = weights[0] * rating[i] + weights[1] * log_sales[j] - weights[2] * log_price[j]
        score = score + weights[3] * (1.0 if eligible[i] else 0.0)
        c = category[i]
        ranked[fill[c]] = i
        key[fill[c]] = -score
        fill[c] += 1
    for c in range(n_cat):
        lo, hi = starts[c], starts[c] + counts[c]
        order = np.argsort(key[lo:hi], kind="mergesort")
        ranked[lo:hi] = ranked[lo:hi][order]
    search = np.full((n_cat, k), -1, np.int32)
    top = np.zeros(k)
    for c in range(n_cat):
        shown = min(counts[c], k)
        for j in range(k):
            top[j] = 0.0
        for j in range(shown):
            search[c, j] = ranked[starts[c] + j]
            top[j] = price[ranked[starts[c] + j]]
        if shown:  # the leading price: the mean price of the top results
            lead_price[c] = total(top, 0, k) / shown
    return ranked, starts, counts, search


def rank(
    state: MarketState, p: MarketParams, view: OfferView, on_sale: np.ndarray, prime_on: bool
) -> Ranking:
    """``rules.platform.rank``: the score's logarithms in NumPy, the rest in two passes."""
    o = state.offers
    ids, units, relative = _in_stock(
        on_sale, o.inventory, o.sold, o.price, o.category, state.ref_price
    )
    weights = np.array(
        [
            p.rank_rating_weight,
            p.rank_sales_weight,
            p.rank_price_weight,
            p.rank_prime_weight if prime_on else 0.0,
        ]
    )
    return Ranking(
        *_rank(
            ids,
            np.log1p(units),
            np.log(relative),
            view.rating,
            view.eligible,
            weights,
            o.category,
            o.price,
            state.platform.lead_price,
            state.ref_price.size,
            int(p.search_results),
        )
    )
