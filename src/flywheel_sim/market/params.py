"""The market's parameters: declared (default, range, unit, source) in ``market.yaml``.

The declaration is a parameters-only :class:`~flywheel_sim.spec.model.Model`, so the market
shares the project's machinery for parameters: scenario files (``scenarios/market.yaml``,
checked against it with file and line), policies (``Step``, ``Ramp``, ``Table`` over months),
and the run store (which records the declaration's text as the model). :class:`MarketParams`
is the typed, range-checked value set one run uses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from flywheel_sim.errors import ModelError, ParameterError, did_you_mean
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.policy import Policy, Ramp, Step, Table

if TYPE_CHECKING:
    from flywheel_sim.studies.scenarios import Study


@cache
def market_model() -> Model:
    """The parameter declaration (``flywheel_sim/library/market.yaml``) as a Model."""
    from flywheel_sim.io.yaml.reader import loads_model

    text = (resources.files("flywheel_sim.library") / "market.yaml").read_text("utf-8")
    return loads_model(text, file="market.yaml", name="market")


@dataclass(frozen=True, slots=True)
class MarketParams:
    """One value for every market parameter (see market.yaml for units and sources)."""

    marketplace_start: float
    prime_start: float
    fba_start: float
    reinvest_share: float
    harvest_from: float
    harvest_share: float
    price_part: float
    categories: float
    first_party_categories: float
    first_party_offers: float
    reference_price: float
    quality_low: float
    quality_high: float
    cost_share: float
    initial_customer_share: float
    innovation_rate: float
    selection_reference: float
    selection_elasticity: float
    word_of_mouth: float
    base_trips: float
    frequency_elasticity: float
    prime_trip_multiplier: float
    price_sensitivity: float
    quality_sensitivity: float
    speed_sensitivity: float
    trust_weight: float
    position_cost: float
    platform_appeal: float
    search_results: float
    recommendations: float
    affinity_learning: float
    satisfaction_memory: float
    stockout_penalty: float
    churn_max: float
    churn_threshold: float
    review_probability: float
    rating_noise: float
    rating_prior: float
    prime_fee: float
    shipping_fee: float
    prime_review_months: float
    prime_speed_value: float
    prime_churn_reduction: float
    offers_per_seller: float
    seller_entry_rate: float
    traffic_elasticity: float
    sales_elasticity: float
    seller_fixed_cost: float
    exit_after: float
    price_adjustment: float
    undercut: float
    min_markup: float
    max_markup: float
    merchant_shipping_cost: float
    merchant_days_low: float
    merchant_days_high: float
    fba_review_months: float
    forecast_weight: float
    safety_stock: float
    initial_stock: float
    commission_rate: float
    fba_fee: float
    first_party_markup: float
    first_party_min_markup: float
    fulfilment_cost: float
    initial_capacity: float
    capacity_reference: float
    standard_days: float
    prime_days: float
    minimum_days: float
    density_elasticity: float
    strain_threshold: float
    strain_slope: float
    capital_per_capacity: float
    construction_months: float
    capacity_upkeep: float
    platform_fixed_cost: float
    rank_sales_weight: float
    rank_rating_weight: float
    rank_price_weight: float
    rank_prime_weight: float

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def make(cls, values: Mapping[str, float] | None = None) -> MarketParams:
        """The defaults of market.yaml with ``values`` on top; ParameterError names an
        unknown parameter or a value outside its declared range."""
        model = market_model()
        chosen: dict[str, float] = {}
        for element in model.of_kind("parameter"):
            assert isinstance(element.default, int | float)
            chosen[element.key] = float(element.default)
        for name, value in (values or {}).items():
            if name not in chosen:
                hint = did_you_mean(name, list(chosen))
                raise ParameterError(
                    f"the market has no parameter '{name}'"
                    + (f" — {hint}" if hint else " — see `flywheel market --help` or market.yaml")
                )
            chosen[name] = _checked(model, name, value)
        _check_consistent(chosen)
        return cls(**chosen)

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.names()}


def _checked(model: Model, name: str, value: float) -> float:
    element = model.element(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"market parameter '{name}' must be a finite number, not {value!r}")
    lo, hi = element.minimum, element.maximum
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ParameterError(
            f"market parameter '{name}' = {value:g} is outside its declared range "
            f"[{lo:g}, {hi:g}] (market.yaml:{element.line}) — pass a value in range"
        )
    return float(value)


def _check_consistent(values: Mapping[str, float]) -> None:
    pairs = (
        ("quality_low", "quality_high"),
        ("merchant_days_low", "merchant_days_high"),
        ("first_party_min_markup", "first_party_markup"),
        ("min_markup", "max_markup"),
        ("minimum_days", "prime_days"),
        ("prime_days", "standard_days"),
    )
    for low, high in pairs:
        if values[low] > values[high]:
            raise ParameterError(
                f"market parameter '{low}' = {values[low]:g} exceeds '{high}' = "
                f"{values[high]:g} — give {low} <= {high}"
            )
    if values["first_party_categories"] > values["categories"]:
        raise ParameterError(
            f"first_party_categories = {values['first_party_categories']:g} exceeds categories "
            f"= {values['categories']:g} — the platform covers at most every category"
        )


def policy_value(policy: Policy, base: float, month: float) -> float:
    """A time-varying parameter's value at ``month`` (the same paths the engine compiles)."""
    if isinstance(policy, Step):
        return policy.to if month >= policy.at else base
    if isinstance(policy, Ramp):
        if month < policy.start:
            return base
        if month >= policy.end:
            return policy.to
        return base + (policy.to - base) * (month - policy.start) / (policy.end - policy.start)
    assert isinstance(policy, Table)
    times, values = policy.times, policy.values
    if month < times[0]:
        return base
    if month >= times[-1]:
        return values[-1]
    k = max(i for i, t in enumerate(times) if t <= month)
    if policy.hold:
        return values[k]
    share = (month - times[k]) / (times[k + 1] - times[k])
    return values[k] + (values[k + 1] - values[k]) * share


def check_policies(policies: Mapping[str, Policy]) -> None:
    """Policies may only move parameters read every month (not the catalogue's size)."""
    for name in policies:
        if name not in MarketParams.names():
            raise ModelError(f"the market has no parameter '{name}' to put on a policy")
        if name in STRUCTURAL:
            raise ModelError(
                f"'{name}' fixes the catalogue or the population at the start and cannot "
                "follow a policy",
                hint="set it with --set or a scenario's set: instead",
            )


# Parameters read once, when the agents are created.
STRUCTURAL = frozenset(
    {
        "categories",
        "first_party_categories",
        "first_party_offers",
        "reference_price",
        "quality_low",
        "quality_high",
        "cost_share",
        "initial_customer_share",
        "price_sensitivity",
        "quality_sensitivity",
        "speed_sensitivity",
        "offers_per_seller",
        "merchant_days_low",
        "merchant_days_high",
        "initial_capacity",
        "search_results",
        "recommendations",
    }
)


def load_market_study(file: str | Path | None = None) -> Study:
    """The market's scenario file (the package's ``scenarios/market.yaml`` unless ``file``),
    checked against market.yaml: an unknown parameter is a one-line error with file and line."""
    from flywheel_sim.studies.scenarios import load_study

    if file is None:
        ref = resources.files("flywheel_sim.library") / "scenarios" / "market.yaml"
        file = Path(str(ref))
    study = load_study("market", market_model(), file=file)
    for scenario in study.scenarios.values():
        check_policies(dict(scenario.policies))
    return study
