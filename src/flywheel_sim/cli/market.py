"""``flywheel market``: run the agent-based marketplace (docs/models/market.md).

Registered on the app by :mod:`flywheel_sim.cli.app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer

from flywheel_sim.cli.common import (
    console,
    default_chart,
    number,
    parse_policies,
    parse_sets,
    progress,
)
from flywheel_sim.errors import ParameterError

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.studies.scenarios import Scenario

# what the summary table and the chart show
SUMMARY = (
    "customers",
    "prime_members",
    "sellers",
    "selection",
    "orders",
    "net_sales",
    "operating_income",
    "third_party_share",
    "price_index",
    "delivery_days",
    "hhi",
    "price_dispersion",
)
CHART = (
    "customers",
    "prime_members",
    "sellers",
    "selection",
    "orders",
    "operating_income",
    "capacity",
    "delivery_days",
    "price_index",
    "third_party_share",
    "hhi",
    "price_dispersion",
)


def market(
    customers: Annotated[int, typer.Option(help="People in the population.")] = 10_000,
    sellers: Annotated[int, typer.Option(help="Potential third-party sellers.")] = 1_000,
    months: Annotated[int, typer.Option(help="Months to simulate.")] = 120,
    seed: Annotated[int, typer.Option(help="Seed of the first run.")] = 0,
    runs: Annotated[int, typer.Option(help="Runs per scenario (seeds SEED, SEED+1, ...).")] = 1,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", "-s", help="A scenario of the scenario file (repeatable)."),
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Parameter value, name=value (repeatable).")
    ] = None,
    policy: Annotated[
        list[str] | None,
        typer.Option(help="A parameter over months, NAME=step:TO@AT or ramp:TO@START-END."),
    ] = None,
    scenarios: Annotated[
        Path | None, typer.Option(help="Scenario file (default: the package's market.yaml).")
    ] = None,
    executor: Annotated[str, typer.Option(help="Where runs execute: local, processes, dask.")] = (
        "local"
    ),
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    backend: Annotated[str, typer.Option(help="auto, numba or numpy.")] = "auto",
    plot: Annotated[Path | None, typer.Option(help="Chart (.png/.svg/.pdf).")] = None,
    keep: Annotated[
        bool, typer.Option("--store/--no-store", help="Keep the runs in the run store.")
    ] = True,
    store_path: Annotated[
        Path | None, typer.Option("--store-path", help="Run store file (default: $FLYWHEEL_STORE).")
    ] = None,
) -> None:
    """Run the agent-based marketplace: customers, sellers and the platform month by month.
    Prints key figures at the end (mean over runs), draws a chart and stores the runs."""
    from flywheel_sim.market.params import MarketParams, load_market_study
    from flywheel_sim.market.run import market_ensemble, resolve_backend

    if runs < 1:
        raise ParameterError(f"--runs must be at least 1, not {runs}")
    resolve_backend(backend)
    study = load_market_study(scenarios)
    chosen = [study.scenario(name) for name in (scenario or ["reinvest"])]
    extra = parse_sets(set_ or [])
    policies = parse_policies(policy or [])
    chosen = [_with(item, extra, policies) for item in chosen]
    for item in chosen:
        MarketParams.make(dict(item.values))
    seeds = list(range(seed, seed + runs))
    label = f"market: {len(chosen)} scenario(s) x {runs} run(s)"
    if executor == "local" and len(chosen) * runs == 1:
        results = _single(chosen[0], seed, customers, sellers, months, backend, label)
    else:
        from flywheel_sim.studies.executors import make_executor

        with make_executor(executor, workers=workers) as runner, progress(label) as update:
            results = market_ensemble(
                chosen,
                seeds,
                customers=customers,
                sellers=sellers,
                months=months,
                executor=runner,
                progress=update,
                backend=backend,
            )
    console.print(_summary(results, customers, sellers, months, runs))
    for item in chosen:
        if item.description:
            console.print(f"  [bold]{item.name}[/]: {item.description}")
    target = plot or default_chart("market", "-".join(r.name for r in chosen))
    console.print(f"drew {_chart(results, target)}")
    if keep:
        from flywheel_sim.market.params import market_model
        from flywheel_sim.store.runstore import RunStore

        store = RunStore(store_path)
        settings = {
            "customers": customers,
            "sellers": sellers,
            "months": months,
            "runs": runs,
            "sets": set_ or [],
            "policies": policy or [],
        }
        for name, result in results.items():
            batch = store.save_result(
                market_model(), result, kind="market", scenario=name, settings=settings
            )
            console.print(f"stored {name} as batch {batch} in {store.path}")


def _with(item: Scenario, values: dict[str, float], policies: dict[str, Any]) -> Scenario:
    from dataclasses import replace

    if not values and not policies:
        return item
    merged = {**dict(item.values), **values}
    moved = {**dict(item.policies), **policies}
    return replace(item, values=tuple(merged.items()), policies=tuple(moved.items()))


def _single(
    item: Scenario, seed: int, customers: int, sellers: int, months: int, backend: str, label: str
) -> dict[str, xr.Dataset]:
    from flywheel_sim.market.run import simulate_market

    with progress(label) as update:
        result = simulate_market(
            dict(item.values),
            customers=customers,
            sellers=sellers,
            months=months,
            seed=seed,
            policies=dict(item.policies),
            progress=update,
            backend=backend,
        )
    result.attrs["scenario"] = item.name
    return {item.name: result}


def _summary(
    results: dict[str, xr.Dataset], customers: int, sellers: int, months: int, runs: int
) -> Any:
    from rich.table import Table

    names = list(results)
    title = f"market: {customers:,} people, {sellers:,} potential sellers, month {months}"
    if runs > 1:
        title += f" (mean ± sd of {runs} runs)"
    table = Table(title=title)
    table.add_column("variable")
    table.add_column("unit")
    for name in names:
        table.add_column(name, justify="right")
    first = results[names[0]]
    for variable in (*SUMMARY, "top_result_share"):
        cells = []
        for name in names:
            values = _final(results[name], variable)
            cell = number(float(values.mean()))
            if runs > 1:
                cell += f" ± {number(float(values.std(ddof=1)))}"
            base = float(_final(first, variable).mean())
            if name != names[0] and base != 0 and np.isfinite(base):
                cell += f" ({float(values.mean()) / base - 1:+.0%})"
            cells.append(cell)
        unit = "dimensionless" if variable == "top_result_share" else first[variable].attrs["units"]
        table.add_row(variable, unit, *cells)
    return table


def _final(result: xr.Dataset, variable: str) -> np.ndarray:
    if variable == "top_result_share":
        return np.asarray(result["sales_share_by_position"].values[:, -1, 0])
    return np.asarray(result[variable].values[:, -1])


def _chart(results: dict[str, xr.Dataset], target: Path) -> Path:
    from flywheel_sim.present.study import compare_chart

    series = {
        name: {
            v: (np.asarray(r["time"].values, float), np.asarray(r[v].values.mean(axis=0)))
            for v in CHART
        }
        for name, r in results.items()
    }
    first = next(iter(results.values()))
    units = {v: str(first[v].attrs["units"]) for v in CHART}
    runs = first.sizes["run"]
    title = "market: " + " vs ".join(results) + (f" (mean of {runs} runs)" if runs > 1 else "")
    return compare_chart(series, target, title=title, units=units)
