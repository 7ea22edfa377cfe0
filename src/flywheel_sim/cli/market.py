"""``flywheel market``: run the agent-based marketplace (docs/models/market.md).

Registered on the app by :mod:`flywheel_sim.cli.app`; the workflow is
:mod:`flywheel_sim.market.session`, the table and chart :mod:`flywheel_sim.present.market`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from flywheel_sim.cli.common import console, default_chart, parse_policies, parse_sets, progress

if TYPE_CHECKING:
    import xarray as xr

Names = list[str] | None


def market(
    customers: Annotated[int, typer.Option(help="People in the population.")] = 10_000,
    sellers: Annotated[int, typer.Option(help="Potential third-party sellers.")] = 1_000,
    months: Annotated[int, typer.Option(help="Months to simulate.")] = 120,
    seed: Annotated[int, typer.Option(help="Seed of the first run.")] = 0,
    runs: Annotated[int, typer.Option(help="Runs per scenario (seeds SEED, SEED+1, ...).")] = 1,
    scenario: Annotated[
        Names,
        typer.Option("--scenario", "-s", help="A scenario of the scenario file (repeatable)."),
    ] = None,
    set_: Annotated[
        Names, typer.Option("--set", help="Parameter value, name=value (repeatable).")
    ] = None,
    policy: Annotated[
        Names, typer.Option(help="A parameter over months, NAME=step:TO@AT or ramp:TO@START-END.")
    ] = None,
    scenarios: Annotated[
        Path | None, typer.Option(help="Scenario file (default: the package's market.yaml).")
    ] = None,
    executor: Annotated[
        str, typer.Option(help="Where runs execute: local, processes, dask.")
    ] = "local",
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
    from flywheel_sim.market.run import MarketSettings
    from flywheel_sim.market.session import MarketPlan, market_scenarios, run_plan
    from flywheel_sim.market.step import backend_choice
    from flywheel_sim.present.market import market_chart, market_summary

    values, moved = parse_sets(set_ or []), parse_policies(policy or [])
    chosen = market_scenarios(scenario or ["reinvest"], values, moved, scenarios)
    size = MarketSettings(customers, sellers, months, backend_choice(backend))
    plan = MarketPlan(chosen, size, seed, runs, executor, workers)
    with progress(plan.label) as update:
        results = run_plan(plan, update)
    for part in market_summary(results, plan):
        console.print(part)
    target = plot or default_chart("market", "-".join(item.name for item in chosen))
    console.print(f"drew {escape(str(market_chart(results, target)))}")
    if keep:
        record = {"customers": customers, "sellers": sellers, "months": months, "runs": runs}
        store(results, store_path, {**record, "sets": set_ or [], "policies": policy or []})


def store(results: Mapping[str, xr.Dataset], path: Path | None, settings: dict[str, Any]) -> None:
    """Each scenario's runs as one batch of the run store, with the command's settings."""
    from flywheel_sim.market.params import market_model
    from flywheel_sim.store.runstore import RunStore

    runs = RunStore(path)
    for name, result in results.items():
        batch = runs.save_result(
            market_model(), result, kind="market", scenario=name, settings=settings
        )
        console.print(f"stored {escape(name)} as batch {batch} in {escape(str(runs.path))}")
