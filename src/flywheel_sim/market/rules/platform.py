"""The platform: what shoppers see, the ranking, delivery times, and reinvest-or-harvest."""

from __future__ import annotations

import numpy as np

from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import MarketState
from flywheel_sim.market.views import OfferView, Ranking


def shown_rating(state: MarketState, p: MarketParams) -> np.ndarray:
    """The rating shown: the reviews' mean pulled toward 3 stars by ``rating_prior`` reviews."""
    o = state.offers
    return np.asarray((3.0 * p.rating_prior + o.rating_sum) / (p.rating_prior + o.reviews))


def offer_view(
    state: MarketState, p: MarketParams, prime_on: bool, fba_on: bool, on_sale: np.ndarray
) -> OfferView:
    o = state.offers
    first = np.zeros(o.price.size, bool)
    first[: state.first_party] = True
    fba = np.concatenate([[False], state.sellers.fba & fba_on])[o.seller + 1]
    platform = first | fba
    seller_days = np.concatenate([[0.0], state.sellers.days])[o.seller + 1]
    return OfferView(
        log_price=np.log(o.price + p.shipping_fee),
        log_price_free=np.log(o.price),
        rating=shown_rating(state, p) - 3.0,
        trust=p.trust_weight * np.log1p(o.reviews),
        eligible=platform & prime_on,
        platform=platform,
        days=seller_days.astype(np.float64),
    )


def rank(
    state: MarketState, p: MarketParams, view: OfferView, on_sale: np.ndarray, prime_on: bool
) -> Ranking:
    """Rank the in-stock listed offers of each category by the platform's score: shown rating,
    last month's sales, price against the category's reference, and Prime eligibility."""
    o = state.offers
    n_cat = state.ref_price.size
    ids = np.flatnonzero(on_sale & (o.inventory > 0))
    score = (
        p.rank_rating_weight * view.rating[ids]
        + p.rank_sales_weight * np.log1p(o.sold[ids])
        - p.rank_price_weight * np.log(o.price[ids] / state.ref_price[o.category[ids]])
        + (p.rank_prime_weight if prime_on else 0.0) * view.eligible[ids]
    )
    order = np.lexsort((ids, -score, o.category[ids]))
    ranked = ids[order].astype(np.int64)
    counts = np.bincount(o.category[ranked], minlength=n_cat).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    k = int(p.search_results)
    search = np.full((n_cat, k), -1, np.int32)
    for j in range(k):
        has = counts > j
        search[has, j] = ranked[starts[has] + j]
    lead = state.platform.lead_price
    top = search >= 0
    if top.any():
        prices = np.where(top, o.price[np.maximum(search, 0)], 0.0)
        n_top = top.sum(axis=1)
        covered = n_top > 0
        lead[covered] = prices[covered].sum(axis=1) / n_top[covered]
    return Ranking(ranked, starts, counts, search)


def delivery_days(state: MarketState, p: MarketParams) -> tuple[float, float]:
    """Platform delivery (non-member, member): denser networks (capacity per person) are
    faster; utilisation above the threshold last month slows them down."""
    pf = state.platform
    people = state.customers.active.size
    density = (max(pf.capacity / people, 1e-12) / p.capacity_reference) ** (-p.density_elasticity)
    strain = 1.0 + p.strain_slope * max(0.0, pf.utilisation - p.strain_threshold)
    standard = max(p.minimum_days, p.standard_days * density) * strain
    member = max(p.minimum_days, p.prime_days * density) * strain
    return standard, member


def first_party_prices(state: MarketState) -> None:
    o = state.offers
    o.price[: state.first_party] = o.cost[: state.first_party] * (1.0 + state.platform.markup)


def reinvest(
    state: MarketState, p: MarketParams, share: float, income: float, cogs: float
) -> float:
    """Put ``share`` of positive operating income back: ``price_part`` of it pays for lower
    first-party prices next month (a markup cut worth that sum at this month's volume), the
    rest buys capacity that opens after ``construction_months``. Returns the sum invested in
    capacity."""
    pf = state.platform
    budget = share * max(income, 0.0)
    cut = p.price_part * budget / cogs if cogs > 0 else 0.0
    pf.markup = max(p.first_party_min_markup, p.first_party_markup - cut)
    capital = budget * (1.0 - p.price_part)
    pf.pipeline[-1] += capital / p.capital_per_capacity
    pf.capacity += pf.pipeline[0]
    pf.pipeline[:-1] = pf.pipeline[1:].copy()
    pf.pipeline[-1] = 0.0
    return capital
