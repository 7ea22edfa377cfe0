"""One month of the market: ``step(state, params, rng) -> (state, aggregates, by_position)``.

The order within a month: events, seller entry, prices, restocking, ranking, customers join,
shop and buy (stock permitting), reviews, satisfaction, churn and Prime, sellers settle and
exit or switch to FBA, the platform books the month and reinvests. The state's arrays are
updated in place (copying a million customers' arrays every month would cost more than the
rules), and the month's aggregates are returned as plain numbers.

The hot rules have two implementations under the same names: ``market/rules/`` (NumPy, the
reference) and ``market/fast/`` (numba). :func:`kernels` picks one for the state's backend,
here and nowhere else; the rules without a hot loop are the reference's own, whatever the
backend (``sell``, ``plat`` and ``books`` below).
"""

from __future__ import annotations

from typing import Protocol, cast

import numpy as np

from flywheel_sim.errors import ParameterError
from flywheel_sim.market import rules
from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.rules import books
from flywheel_sim.market.rules import platform as plat
from flywheel_sim.market.rules import sellers as sell
from flywheel_sim.market.state import F64, I64, B, Backend, BackendChoice, MarketState
from flywheel_sim.market.views import OfferView, Ranking, Sales, Tally, Trips


class Kernels(Protocol):
    """The hot rules, as ``market/rules/`` and ``market/fast/`` both export them."""

    def listed(self, state: MarketState) -> B: ...
    def open_sellers(self, state: MarketState, p: MarketParams, joining: I64) -> None: ...
    def reprice(self, state: MarketState, p: MarketParams) -> None: ...
    def restock(
        self, state: MarketState, p: MarketParams, on_sale: B
    ) -> tuple[int, float, float]: ...
    def offer_view(
        self, state: MarketState, p: MarketParams, prime_on: bool, fba_on: bool, on_sale: B
    ) -> OfferView: ...
    def rank(
        self, state: MarketState, p: MarketParams, view: OfferView, on_sale: B, prime_on: bool
    ) -> Ranking: ...
    def adopt(
        self, state: MarketState, p: MarketParams, on_sale: B, rng: np.random.Generator
    ) -> float: ...
    def shop(
        self,
        state: MarketState,
        p: MarketParams,
        view: OfferView,
        ranking: Ranking,
        days: tuple[float, float],
        rng: np.random.Generator,
    ) -> Trips: ...
    def fulfil(
        self, state: MarketState, trips: Trips, penalty: float, rng: np.random.Generator
    ) -> Sales: ...
    def tally(self, state: MarketState, customer: I64, offer: I64) -> Tally: ...
    def money(
        self,
        state: MarketState,
        p: MarketParams,
        view: OfferView,
        sold: Tally,
        days: tuple[float, float],
    ) -> tuple[dict[str, float], F64, F64]: ...
    def review(
        self, state: MarketState, p: MarketParams, offer: I64, rng: np.random.Generator
    ) -> None: ...
    def learn(
        self,
        state: MarketState,
        p: MarketParams,
        trips: Trips,
        customer: I64,
        offer: I64,
        view: OfferView,
    ) -> None: ...
    def churn_and_prime(
        self, state: MarketState, p: MarketParams, prime_on: bool, rng: np.random.Generator
    ) -> dict[str, float]: ...
    def settle(
        self, state: MarketState, p: MarketParams, proceeds: F64, units: F64, merchant_units: F64
    ) -> tuple[int, float]: ...
    def choose_fba(self, state: MarketState, p: MarketParams, rng: np.random.Generator) -> None: ...
    def update_forecast(self, state: MarketState, p: MarketParams) -> None: ...
    def census(
        self,
        state: MarketState,
        p: MarketParams,
        view: OfferView,
        on_sale: B,
        trips: Trips,
        sold: Tally,
        days: tuple[float, float],
    ) -> dict[str, float]: ...


def backend_choice(name: str) -> BackendChoice:
    """``name`` checked: "auto", "numpy" or "numba" (the one place a backend's name is)."""
    if name not in ("auto", "numpy", "numba"):
        raise ParameterError(f"market backend '{name}' must be auto, numba or numpy")
    return cast(BackendChoice, name)


def resolve_backend(name: str) -> Backend:
    """The backend a run uses: "numpy", "numba", or for "auto" numba when it is installed."""
    if backend_choice(name) == "numpy":
        return "numpy"
    try:
        import numba  # noqa: F401
    except ImportError:
        if name == "numba":
            raise ParameterError(
                "the numba backend needs the fast extra: pip install 'flywheel-sim[fast]'"
            ) from None
        return "numpy"
    return "numba"


def kernels(backend: Backend) -> Kernels:
    """The hot rules of a backend: ``market/fast/`` for numba, else ``market/rules/``."""
    if backend == "numba":
        from flywheel_sim.market import fast

        return fast
    return rules


def step(
    state: MarketState, p: MarketParams, rng: np.random.Generator
) -> tuple[MarketState, dict[str, float], F64]:
    """Advance one month; returns the state, the month's aggregates and the share of units
    sold at each consideration-set position (search results 1..K, then recommendations)."""
    hot = kernels(state.backend)
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
    out["seller_entry"] = 0
    if market_open:
        joining = sell.entrants(state, p, rng)
        if joining.size:
            hot.open_sellers(state, p, joining)
        out["seller_entry"] = int(joining.size)
    on_sale = hot.listed(state)
    plat.first_party_prices(state)
    hot.reprice(state, p)
    restocked, seller_paid, platform_paid = hot.restock(state, p, on_sale)
    view = hot.offer_view(state, p, prime_on, fba_on, on_sale)
    ranking = hot.rank(state, p, view, on_sale, prime_on)
    days = plat.delivery_days(state, p)
    out["acquisition"] = hot.adopt(state, p, on_sale, rng)
    trips = hot.shop(state, p, view, ranking, days, rng)
    stocked = int(o.inventory.sum())
    sales = hot.fulfil(state, trips, p.stockout_penalty, rng)
    sold = hot.tally(state, sales.customer, sales.offer)
    month, proceeds, merchant_units = hot.money(state, p, view, sold, days)
    out.update(month)
    out.update(units_restocked=restocked, stock_purchases=seller_paid + platform_paid)
    out["units_sold"] = stocked - int(o.inventory.sum())
    hot.review(state, p, sales.offer, rng)
    hot.learn(state, p, trips, sales.customer, sales.offer, view)
    out.update(hot.churn_and_prime(state, p, prime_on, rng))
    exits, written_off = hot.settle(state, p, proceeds, sold.units, merchant_units)
    out.update(seller_exit=exits, units_written_off=written_off)
    if fba_on:
        hot.choose_fba(state, p, rng)
    hot.update_forecast(state, p)
    out.update(books.platform_books(state, p, view, sold, out, share))
    pf.traffic = float(trips.customer.size)
    out.update(hot.census(state, p, view, on_sale, trips, sold, days))
    out["stockouts"] = sales.stockouts
    k = int(p.search_results)
    by_position = np.bincount(np.minimum(sales.position, k), minlength=k + 1).astype(float)
    by_position /= max(by_position.sum(), 1.0)
    state.month = t + 1
    return state, out, by_position
