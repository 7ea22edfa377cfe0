"""The market's rules in NumPy: the reference implementation, always available.

Five modules, one per actor or stage of the month: ``people`` (joining, reviews, learning,
churn and Prime), ``sellers`` (entry, prices, stock, settling up, FBA), ``platform`` (what
shoppers see, the ranking, delivery times, reinvestment), ``choice`` (trips, the logit choice,
buying) and ``books`` (the tally, the money, the census). ``market/fast/`` holds the numba twins
of the hot rules under the same module and function names; the names below are those rules,
the ones ``market/step.py`` takes from whichever implementation a run uses.
"""

from __future__ import annotations

from flywheel_sim.market.rules.books import census, money, tally
from flywheel_sim.market.rules.choice import fulfil, shop
from flywheel_sim.market.rules.people import adopt, churn_and_prime, learn, review
from flywheel_sim.market.rules.platform import offer_view, rank
from flywheel_sim.market.rules.sellers import (
    choose_fba,
    listed,
    open_sellers,
    reprice,
    restock,
    settle,
    update_forecast,
)

__all__ = [
    "adopt",
    "census",
    "choose_fba",
    "churn_and_prime",
    "fulfil",
    "learn",
    "listed",
    "money",
    "offer_view",
    "open_sellers",
    "rank",
    "reprice",
    "restock",
    "review",
    "settle",
    "shop",
    "tally",
    "update_forecast",
]
