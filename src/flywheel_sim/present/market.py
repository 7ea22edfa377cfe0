"""The agent-based market's results shown: the summary table of ``flywheel market`` (the last
month, mean over runs, each scenario against the first) and its chart (one panel per key
variable, one line per scenario)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from rich.console import RenderableType
from rich.markup import escape
from rich.table import Table

from flywheel_sim.present.tables import number

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.market.session import MarketPlan

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


def market_summary(results: Mapping[str, xr.Dataset], plan: MarketPlan) -> list[RenderableType]:
    """The table of last-month figures (mean, and ± sd over several runs; later scenarios
    also as a change on the first), then a line per scenario that has a description."""
    settings, runs = plan.settings, plan.runs
    names = list(results)
    title = (
        f"market: {settings.customers:,} people, {settings.sellers:,} potential sellers, "
        f"month {settings.months}"
    )
    if runs > 1:
        title += f" (mean ± sd of {runs} runs)"
    table = Table(title=escape(title))
    table.add_column("variable")
    table.add_column("unit")
    for name in names:
        table.add_column(escape(name), justify="right")
    first = results[names[0]]
    for variable in (*SUMMARY, "top_result_share"):
        cells = []
        for name in names:
            values = final(results[name], variable)
            cell = number(float(values.mean()))
            if runs > 1:
                cell += f" ± {number(float(values.std(ddof=1)))}"
            base = float(final(first, variable).mean())
            if name != names[0] and base != 0 and np.isfinite(base):
                cell += f" ({float(values.mean()) / base - 1:+.0%})"
            cells.append(cell)
        unit = "dimensionless" if variable == "top_result_share" else first[variable].attrs["units"]
        table.add_row(variable, unit, *cells)
    lines = [
        f"  [bold]{escape(s.name)}[/]: {escape(s.description)}"
        for s in plan.scenarios
        if s.description
    ]
    return [table, *lines]


def final(result: xr.Dataset, variable: str) -> NDArray[np.float64]:
    """A variable's last month, one value per run; ``top_result_share`` is the share of units
    sold at the first search result."""
    if variable == "top_result_share":
        return np.asarray(result["sales_share_by_position"].values[:, -1, 0], float)
    return np.asarray(result[variable].values[:, -1], float)


def market_chart(results: Mapping[str, xr.Dataset], target: Path) -> Path:
    """The key variables over the months, the mean over runs, one line per scenario."""
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
