"""The records the month's rules hand one another: what shoppers see of the offers, the
platform's ranking, the trips, the uniforms they use, the purchases and the sales tally.

Both implementations of the rules (``rules/`` in NumPy, ``fast/`` in numba) take and return
these same records, so the step reads the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from flywheel_sim.market.state import F64, I32, I64, B


class Ranking(NamedTuple):
    """The platform's search ranking: listed in-stock offers by category, best first (a named
    tuple, so the numba shopping kernel takes it as one argument)."""

    ranked: I64  # offer ids, grouped by category, best first within each
    starts: I64  # per category: where its offers start in ``ranked``
    counts: I64  # per category: how many
    search: I32  # (categories, search_results): the top offers, -1 where fewer


@dataclass
class OfferView:
    """What shoppers see of every offer this month (indexed by offer id)."""

    log_price: F64  # log(price + shipping fee): what a shopper who pays shipping pays
    log_price_free: F64  # log(price): for a Prime member on a Prime-eligible offer
    rating: F64  # shown rating minus 3 (the neutral prior)
    trust: F64  # trust_weight * log(1 + reviews)
    eligible: B  # Prime-eligible: first-party or FBA (once Prime exists)
    platform: B  # fulfilled by the platform (first-party or FBA)
    days: F64  # a merchant-fulfilled offer's delivery days
    table: F64 | None = None  # (offers, 8): the numba shopping kernel's rows of the fields above


class Draws(NamedTuple):
    """The uniforms one month's trips use, drawn up front from the run's Generator so that
    the NumPy and numba implementations consume the same random numbers (a named tuple, so
    the numba shopping kernel takes it as one argument)."""

    category: F64  # (trips,)
    recommend: F64  # (trips, recommendations)
    choice: F64  # (trips,)

    @classmethod
    def take(cls, rng: np.random.Generator, trips: int, recommendations: int) -> Draws:
        """The month's uniforms, in the order both implementations read them."""
        return cls(rng.random(trips), rng.random((trips, recommendations)), rng.random(trips))


@dataclass
class Trips:
    """This month's shopping trips (one row per trip)."""

    customer: I64
    category: I64
    options: I32  # (trips, options): offer ids considered, -1 for an empty slot
    choice: I64  # index into options, -1 for the outside option (bought elsewhere / nothing)
    value: F64  # 1 - P(outside): how good the considered offers were for this shopper


@dataclass
class Sales:
    """This month's fulfilled purchases (one row per unit)."""

    customer: I64
    offer: I64
    position: I64  # slot in the consideration set (search results first, then recommendations)
    stockouts: int  # purchases refused because the offer ran out


@dataclass
class Tally:
    """The month's sales per offer: units, and units bought by Prime members."""

    units: F64
    member_units: F64
