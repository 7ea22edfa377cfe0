"""The market's hot rules in numba (the ``fast`` extra): twins of ``market/rules/``.

The same five modules (``people``, ``sellers``, ``platform``, ``choice``, ``books``) and the
same function names and signatures as the NumPy reference, so ``market/step.py`` runs either;
each twin takes the same random draws and performs the same floating-point operations in the
same order, so both give the same bits (tests compare every output). Importing this package
imports numba; kernels compile once per machine and are cached on disk.
"""

from __future__ import annotations

from flywheel_sim.market.fast.books import census, money, tally
from flywheel_sim.market.fast.choice import fulfil, shop
from flywheel_sim.market.fast.people import adopt, churn_and_prime, learn, review
from flywheel_sim.market.fast.platform import offer_view, rank
from flywheel_sim.market.fast.sellers import (
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
