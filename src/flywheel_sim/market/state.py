"""The market's state: struct-of-arrays agents and the platform's few numbers.

Customers, offers and sellers are each a set of equal-length NumPy arrays (index = agent), so
every rule is a handful of array operations over all agents at once. Offers ``0 .. F-1`` are
the platform's own (first party); seller ``s`` owns offers ``F + s*k .. F + (s+1)*k - 1``
(``k`` offers per seller). ``create`` draws every agent's fixed traits from the one Generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.market.params import MarketParams

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
I32 = NDArray[np.int32]
B = NDArray[np.bool_]

# the two implementations of the hot rules: market/rules/ (NumPy, the reference) and
# market/fast/ (numba, the ``fast`` extra); market/step.py checks the choice and picks one
Backend = Literal["numpy", "numba"]
BackendChoice = Literal["auto", "numpy", "numba"]  # "auto": numba when it is installed


class Customers(NamedTuple):
    """The population (customers and potential customers), one entry per person.

    Customers, offers and sellers are named tuples of arrays: the rules update the arrays in
    place (``o.inventory[:] -= sold``; a field cannot be rebound), and a numba kernel takes a
    whole group as one argument."""

    active: B  # a customer of the platform now
    prime: B  # a Prime member now
    price_sens: F32  # utility per log(price)
    quality_sens: F32  # utility per star of shown rating
    speed_sens: F32  # utility lost per day of delivery
    satisfaction: F32  # 0..1, exponential memory of how good shopping was
    eligible_orders: F32  # exponential memory of Prime-eligible orders per month
    affinity: F32  # (people, categories): category preferences, rows sum to 1


class Offers(NamedTuple):
    """Every offer that can be listed: the platform's own and each potential seller's."""

    category: I32
    seller: I32  # -1 for the platform's own offers
    quality: F32  # true quality, stars
    cost: F64  # unit cost, USD
    price: F64
    rating_sum: F64  # sum of review ratings
    reviews: I64  # number of reviews
    inventory: I64  # units in stock
    forecast: F64  # demand forecast, units/month
    sold: I64  # units sold last month
    demand: I64  # units asked for last month (sold + stock-outs)


class Sellers(NamedTuple):
    """Potential third-party sellers (active or not)."""

    active: B
    fba: B  # uses Fulfilment by Amazon
    losses: I64  # consecutive months with a loss
    days: F32  # own delivery time (merchant-fulfilled), days
    category: I32
    profit: F64  # last month's profit, USD


@dataclass
class Platform:
    """The platform's scalars and its capacity pipeline."""

    capacity: float  # units/month it can fulfil
    pipeline: F64  # capacity arriving in 0, 1, ... months
    markup: float  # first-party markup over unit cost now
    utilisation: float = 0.0  # platform-fulfilled units / capacity, last month
    traffic: float = 0.0  # trips last month
    lift: float = 0.0  # observed sales lift of Prime-eligible offers (units per offer)
    sales_per_seller_margin: float = 0.0  # last month's mean seller gross margin, USD
    lead_price: F64 = field(default_factory=lambda: np.zeros(0))  # per category


@dataclass
class MarketState:
    """Everything one run carries from month to month."""

    month: int
    customers: Customers
    offers: Offers
    sellers: Sellers
    platform: Platform
    ref_price: F64  # market reference price per category
    first_party: int  # number of first-party offers (the first ones)
    per_seller: int  # offers per seller
    backend: Backend = "numpy"  # which implementation of the hot rules runs


def create(p: MarketParams, customers: int, sellers: int, rng: np.random.Generator) -> MarketState:
    """The market at launch: the population, the platform's catalogue, the potential sellers."""
    n, k = customers, sellers
    n_cat = int(p.categories)
    ref_price = p.reference_price * np.exp(0.5 * rng.standard_normal(n_cat))
    sens = (p.price_sensitivity, p.quality_sensitivity, p.speed_sensitivity)
    # lognormal traits with the stated means (sigma 0.4)
    traits = [(m * np.exp(0.4 * rng.standard_normal(n) - 0.08)).astype(np.float32) for m in sens]
    affinity = rng.gamma(1.0, size=(n, n_cat)).astype(np.float32)
    affinity /= affinity.sum(axis=1, keepdims=True)
    active = rng.random(n) < p.initial_customer_share
    people = Customers(
        active=active,
        prime=np.zeros(n, bool),
        price_sens=traits[0],
        quality_sens=traits[1],
        speed_sens=traits[2],
        satisfaction=np.full(n, 0.5, np.float32),
        eligible_orders=np.zeros(n, np.float32),
        affinity=affinity,
    )
    first, per = int(p.first_party_offers), int(p.offers_per_seller)
    seller_cat = rng.integers(0, n_cat, k).astype(np.int32)
    category = np.concatenate(
        [
            rng.integers(0, int(p.first_party_categories), first).astype(np.int32),
            np.repeat(seller_cat, per),
        ]
    )
    total = first + k * per
    quality = rng.uniform(p.quality_low, p.quality_high, total).astype(np.float32)
    noise = np.exp(0.15 * rng.standard_normal(total))
    cost = ref_price[category] * p.cost_share * (quality / 3.5) * noise
    offers = Offers(
        category=category,
        seller=np.concatenate([np.full(first, -1, np.int32), np.repeat(np.arange(k), per)]).astype(
            np.int32
        ),
        quality=quality,
        cost=cost,
        price=cost * (1 + p.first_party_markup),
        rating_sum=np.zeros(total),
        reviews=np.zeros(total, np.int64),
        inventory=np.zeros(total, np.int64),
        forecast=np.zeros(total),
        sold=np.zeros(total, np.int64),
        demand=np.zeros(total, np.int64),
    )
    offers.inventory[:first] = int(p.initial_stock)
    offers.forecast[:first] = p.initial_stock
    merchants = Sellers(
        active=np.zeros(k, bool),
        fba=np.zeros(k, bool),
        losses=np.zeros(k, np.int64),
        days=rng.uniform(p.merchant_days_low, p.merchant_days_high, k).astype(np.float32),
        category=seller_cat,
        profit=np.zeros(k),
    )
    capacity = p.initial_capacity * n
    platform = Platform(
        capacity=capacity,
        pipeline=np.zeros(int(p.construction_months) + 1),
        markup=p.first_party_markup,
        lead_price=ref_price.copy(),
    )
    return MarketState(0, people, offers, merchants, platform, ref_price, first, per)
