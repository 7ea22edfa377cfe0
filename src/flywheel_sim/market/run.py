"""Running the market: one seeded run, or an ensemble of seeds x scenarios on an executor.

:class:`MarketSettings` holds what every run of a call shares (the population, the months,
the backend); the public functions take its fields as keyword arguments. A run's output is the
project's one result shape, an ``xarray.Dataset`` with dims ``run``,
``time`` (months 1..M, each the end of a month), the aggregate variables named as in the
``amazon`` model where it has them, parameter values and seeds as run coordinates, and
``sales_share_by_position`` over the extra dim ``position``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.engine.params import check_seed
from flywheel_sim.errors import ParameterError
from flywheel_sim.market.params import MarketParams, check_policies, policy_value
from flywheel_sim.market.state import BackendChoice, create
from flywheel_sim.market.step import resolve_backend, step
from flywheel_sim.spec.policy import Policy

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.studies.executors import Executor
    from flywheel_sim.studies.scenarios import Scenario

# name: (unit, description) — the names shared with `amazon` mean the same thing there
VARIABLES: dict[str, tuple[str, str]] = {
    "customers": ("people", "active customers at the end of the month"),
    "prime_members": ("people", "Prime members"),
    "prime_share": ("dimensionless", "Prime members per customer"),
    "sellers": ("sellers", "active third-party sellers"),
    "fba_share": ("dimensionless", "share of active sellers using FBA"),
    "selection": ("offers", "listed offers (first- and third-party)"),
    "first_party_selection": ("offers", "the platform's own offers"),
    "third_party_selection": ("offers", "offers of active sellers"),
    "prime_eligible_selection": ("offers", "offers fulfilled by the platform once Prime exists"),
    "reviews": ("reviews", "reviews on listed offers"),
    "mean_rating": ("stars", "mean shown rating of listed offers"),
    "orders": ("units/month", "units bought (one unit per order)"),
    "traffic": ("trips/month", "shopping trips"),
    "acquisition": ("people/month", "new customers"),
    "churn": ("people/month", "customers who left"),
    "prime_joining": ("people/month", "customers who joined Prime"),
    "prime_leaving": ("people/month", "members who left Prime (or the platform)"),
    "seller_entry": ("sellers/month", "sellers who joined"),
    "seller_exit": ("sellers/month", "sellers who left after sustained losses"),
    "satisfaction": ("dimensionless", "mean satisfaction of customers (0..1)"),
    "gross_merchandise_sales": ("USD/month", "value of units sold, at item prices"),
    "first_party_sales": ("USD/month", "the platform's own retail sales"),
    "third_party_sales": ("USD/month", "sellers' sales at item prices"),
    "third_party_share": ("dimensionless", "third-party share of gross merchandise sales"),
    "third_party_services": ("USD/month", "commissions and FBA fees"),
    "shipping_revenue": ("USD/month", "shipping fees paid to the platform"),
    "prime_fees": ("USD/month", "Prime membership fees"),
    "net_sales": ("USD/month", "first-party sales + seller services + shipping + Prime fees"),
    "cost_of_goods": ("USD/month", "unit cost of first-party units sold"),
    "fulfilment_costs": ("USD/month", "cost of the units the platform fulfilled"),
    "gross_profit": ("USD/month", "platform takings less cost of goods, fulfilment and upkeep"),
    "operating_income": ("USD/month", "platform profit: gross profit less overheads"),
    "capacity_investment": ("USD/month", "reinvested profit spent on capacity"),
    "effective_reinvest_share": ("dimensionless", "the reinvestment share in force this month"),
    "capacity": ("units/month", "fulfilment capacity"),
    "utilisation": ("dimensionless", "platform-fulfilled units / capacity"),
    "price_index": ("dimensionless", "mean price paid relative to the category reference"),
    "delivery_days": ("day", "mean delivery time of the units sold"),
    "platform_delivery_days": ("day", "platform delivery for non-members"),
    "prime_delivery_days": ("day", "platform delivery for Prime members"),
    "customer_spend": ("USD/month", "what customers paid for units and shipping"),
    "seller_revenue": ("USD/month", "what sellers received after commission and FBA fees"),
    "platform_fees": ("USD/month", "commissions, FBA fees and shipping paid to the platform"),
    "stock_purchases": ("USD/month", "what sellers and the platform paid to restock"),
    "units_bought": ("units/month", "units customers received"),
    "units_sold": ("units/month", "units that left stock"),
    "units_restocked": ("units/month", "units ordered into stock"),
    "units_written_off": ("units/month", "stock of sellers who left"),
    "inventory": ("units", "units in stock at the end of the month"),
    "stockouts": ("units/month", "purchases refused because the offer ran out"),
    "hhi": (
        "dimensionless",
        "Herfindahl-Hirschman index of sales value by seller (platform = one)",
    ),
    "price_dispersion": (
        "dimensionless",
        "std of log(price / category reference), in-stock offers",
    ),
    "sales_lift": ("dimensionless", "observed lift of units per platform-fulfilled offer"),
}

Progress = Callable[[int, int], None]
Arrays = tuple[dict[str, NDArray[np.float64]], NDArray[np.float64]]  # one run, as a worker sends it


@dataclass(frozen=True, slots=True)
class MarketSettings:
    """The size of a market run and the implementation that runs it, checked when made:
    ``customers`` people, ``sellers`` potential sellers, ``months`` months, and ``backend``
    "numpy" (the reference), "numba" (the ``fast`` extra's kernels) or "auto" (numba when
    installed)."""

    customers: int = 10_000
    sellers: int = 1_000
    months: int = 120
    backend: BackendChoice = "auto"

    def __post_init__(self) -> None:
        for label, value, low in (
            ("customers", self.customers, 1),
            ("sellers", self.sellers, 0),
            ("months", self.months, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise ParameterError(
                    f"{label} must be a whole number of at least {low}, not {value!r}"
                )
        resolve_backend(self.backend)


def simulate_market(
    params: Mapping[str, float] | None = None,
    *,
    customers: int = 10_000,
    sellers: int = 1_000,
    months: int = 120,
    seed: int = 0,
    policies: Mapping[str, Policy] | None = None,
    progress: Progress | None = None,
    backend: BackendChoice = "auto",
) -> xr.Dataset:
    """One run of the agent-based market → Result (dims run, time). Every random draw comes
    from ``numpy.random.default_rng(seed)``, so a seed reproduces its run exactly.

    ``customers``, ``sellers``, ``months`` and ``backend``: see :class:`MarketSettings`."""
    settings = MarketSettings(customers, sellers, months, backend)
    return run_market(params, settings, seed=seed, policies=policies, progress=progress)


def run_market(
    params: Mapping[str, float] | None,
    settings: MarketSettings,
    *,
    seed: int = 0,
    policies: Mapping[str, Policy] | None = None,
    progress: Progress | None = None,
) -> xr.Dataset:
    """:func:`simulate_market` with its settings as one object."""
    arrays = run_arrays(params, settings, seed=seed, policies=policies, progress=progress)
    return assemble([arrays], [seed], MarketParams.make(params), policies or {}, settings)


def run_arrays(
    params: Mapping[str, float] | None,
    settings: MarketSettings,
    *,
    seed: int,
    policies: Mapping[str, Policy] | None = None,
    progress: Progress | None = None,
) -> Arrays:
    """The run as plain arrays (variable -> (months,), and (months, positions)): what an
    executor's worker sends back."""
    base = MarketParams.make(params)
    chosen = dict(policies or {})
    check_policies(chosen)
    rng = np.random.default_rng(check_seed(seed))  # 0..2^63-1, as the engine's seeds
    state = create(base, settings.customers, settings.sellers, rng)
    state.backend = resolve_backend(settings.backend)
    months = settings.months
    rows: list[list[float]] = []
    positions = np.zeros((months, int(base.search_results) + 1))
    for t in range(months):
        p = base
        if chosen:
            # Python floats, as MarketParams.make gives: NumPy and the kernels then compute
            # float32 rules alike (a NumPy float64 scalar would promote float32 arrays)
            p = replace(
                base, **{k: float(policy_value(v, getattr(base, k), t)) for k, v in chosen.items()}
            )
        state, out, by_position = step(state, p, rng)
        rows.append([out[name] for name in VARIABLES])
        positions[t] = by_position
        if progress is not None:
            progress(t + 1, months)
    table = np.array(rows, dtype=np.float64).T
    return {name: table[i].copy() for i, name in enumerate(VARIABLES)}, positions


def assemble(
    runs: Sequence[Arrays],
    seeds: Sequence[int],
    params: MarketParams,
    policies: Mapping[str, Policy],
    settings: MarketSettings,
    *,
    scenario: str = "",
) -> xr.Dataset:
    """Stack runs (same parameters, different seeds) into one Result."""
    from flywheel_sim.engine.result import build_dataset

    months = next(iter(runs[0][0].values())).size
    data: dict[str, tuple[tuple[str, ...], NDArray[np.float64], dict[str, str]]] = {}
    for name, (unit, description) in VARIABLES.items():
        values = np.stack([np.asarray(r[0][name], float) for r in runs])
        data[name] = (("run", "time"), values, _attrs(name, unit, description))
    shares = np.stack([r[1] for r in runs])
    k = shares.shape[-1] - 1
    data["sales_share_by_position"] = (
        ("run", "time", "position"),
        shares,
        _attrs(
            "sales_share_by_position",
            "dimensionless",
            "share of units sold at each position: search results 1..K, then recommendations",
        ),
    )
    n = len(seeds)
    coords: dict[str, object] = {
        "run": np.arange(n),
        "time": np.arange(1, months + 1, dtype=float),
        "position": [str(i + 1) for i in range(k)] + ["recommended"],
        "seed": ("run", np.asarray(seeds, np.int64)),
        "status": ("run", np.full(n, "ok")),
        "failed_variable": ("run", np.full(n, "")),
        "failed_time": ("run", np.full(n, np.nan)),
    }
    for name, value in params.as_dict().items():
        coords[f"{name}@base" if name in policies else name] = ("run", np.full(n, value))
    attrs: dict[str, object] = {
        "model": "market",
        "method": "agent-based",
        "dt": 1.0,
        "time_units": "month",
        "save_step": 1.0,
        "customers": settings.customers,
        "sellers": settings.sellers,
        "scenario": scenario,
    }
    return build_dataset(data, coords, attrs)


def _attrs(name: str, unit: str, description: str) -> dict[str, str]:
    return {"units": unit, "description": description, "kind": "aggregate", "name": name}


def ensemble_task(
    values: Mapping[str, float],
    policies: Mapping[str, Policy],
    seed: int,
    *,
    settings: MarketSettings,
) -> Arrays:
    """One run of an ensemble, in a worker: the arguments an executor sends."""
    return run_arrays(values, settings, seed=seed, policies=policies)


def market_ensemble(
    scenarios: Sequence[Scenario],
    seeds: Sequence[int],
    *,
    customers: int = 10_000,
    sellers: int = 1_000,
    months: int = 120,
    executor: Executor | None = None,
    progress: Progress | None = None,
    backend: BackendChoice = "auto",
) -> dict[str, xr.Dataset]:
    """Every scenario with every seed, run through an executor (local by default): a Result
    per scenario whose runs are the seeds. Runs are independent and seeded by the caller, so
    any executor gives the same numbers. ``customers``, ``sellers``, ``months`` and
    ``backend``: see :class:`MarketSettings`."""
    settings = MarketSettings(customers, sellers, months, backend)
    return run_ensemble(scenarios, seeds, settings, executor=executor, progress=progress)


def run_ensemble(
    scenarios: Sequence[Scenario],
    seeds: Sequence[int],
    settings: MarketSettings,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> dict[str, xr.Dataset]:
    """:func:`market_ensemble` with its settings as one object."""
    from flywheel_sim.studies.executors import make_executor

    runner = executor or make_executor("local")
    tasks: list[tuple[Any, ...]] = []
    for scenario in scenarios:
        policies = dict(scenario.policies)
        check_policies(policies)
        MarketParams.make(dict(scenario.values))  # fail before any run starts
        tasks += [(dict(scenario.values), policies, int(s)) for s in seeds]
    done: dict[int, Arrays] = {}
    shared = {"settings": settings}
    for i, arrays in runner.map_unordered(ensemble_task, tasks, shared=shared):
        done[i] = arrays
        if progress is not None:
            progress(len(done), len(tasks))
    out: dict[str, xr.Dataset] = {}
    for j, scenario in enumerate(scenarios):
        first = j * len(seeds)
        runs = [done[first + i] for i in range(len(seeds))]
        params = MarketParams.make(dict(scenario.values))
        out[scenario.name] = assemble(
            runs, list(seeds), params, dict(scenario.policies), settings, scenario=scenario.name
        )
    return out
