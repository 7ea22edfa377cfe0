"""Key figures and the history chart for models that declare a ``report:`` section."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.markup import escape
from rich.table import Table

from flywheel_sim.io.results import atomic_path
from flywheel_sim.present.charts import pyplot_for
from flywheel_sim.spec.model import HistorySeries, Model
from flywheel_sim.spec.names import canonical
from flywheel_sim.studies.history import history_frame, model_values, plot_time

if TYPE_CHECKING:
    import xarray as xr


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if value != 0 and abs(value) < 0.1:
        return f"{value:.3f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def _series(model: Model) -> dict[str, HistorySeries]:
    if model.history is None:
        return {}
    return {canonical(s.variable): s for s in model.history.series}


def key_figures(model: Model, result: xr.Dataset, *, run: int = 0) -> Table:
    """The report variables at the report times, with the observed values beneath."""
    assert model.report is not None
    times = np.array(model.report.times, dtype=float)
    table = Table(title=escape(f"{model.name}: key figures (run {run})"))
    table.add_column("variable", no_wrap=True)
    table.add_column("unit", overflow="fold", max_width=14)
    for t in times:
        table.add_column(f"{t:g}", justify="right")
    observed = history_frame(model) if model.history is not None else None
    series = _series(model)
    notes: dict[str, list[str]] = {}
    for name in model.report.variables:
        key = canonical(name)
        if key not in result:
            continue
        data = result[key]
        unit = str(data.attrs.get("units", ""))
        item = series.get(key)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if item is not None and item.aggregate != "point":
                # the figure comparable with the observed one (a yearly total, a yearly mean,
                # the year's end); the plain value where the run does not cover the year
                totals = model_values(result, item, times)[run]
                points = model_values(result, HistorySeries(key, item.column), times)[run]
                values = np.where(np.isfinite(totals), totals, points)
                notes.setdefault(item.aggregate, []).append(key)
            else:
                extra = [d for d in data.dims if d not in ("run", "time")]
                summed = data.sum(extra) if extra else data
                values = np.interp(
                    times, summed.time.values, summed.values[run], left=np.nan, right=np.nan
                )
        table.add_row(escape(key), escape(unit), *(_fmt(float(v)) for v in values))
        if item is not None and observed is not None:
            time_column = model.history.time_column if model.history else "year"
            lookup = dict(zip(observed[time_column], observed[item.column], strict=True))
            table.add_row(
                "  observed",
                "",
                *(_fmt(float(lookup.get(t, math.nan))) for t in times),
                style="dim",
            )
    meaning = {
        "annual_total": "yearly totals (the rate integrated over the year)",
        "annual_mean": "yearly means",
        "year_end": "at the end of the year",
    }
    if notes:
        table.caption = "; ".join(
            f"{', '.join(keys)}: {meaning[kind]}" for kind, keys in notes.items()
        )
    return table


def history_chart(model: Model, result: xr.Dataset, path: str | Path, *, run: int = 0) -> Path:
    """The report's chart variables over time, with historical data as points."""
    assert model.report is not None
    target = Path(path)
    plt = pyplot_for(target)
    names = [
        canonical(n)
        for n in (model.report.chart or model.report.variables)
        if canonical(n) in result
    ]
    cols = min(3, len(names)) or 1
    rows = math.ceil(len(names) / cols) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.0 * rows), squeeze=False)
    observed = history_frame(model) if model.history is not None else None
    series = _series(model)
    for ax, name in zip(axes.flat, names, strict=False):
        data = result[name].isel(run=run)
        extra = [d for d in data.dims if d != "time"]
        if extra:
            data = data.sum(extra)
        ax.plot(data.time.values, data.values, lw=1.6, label="model")
        item = series.get(name)
        if item is not None and observed is not None and model.history is not None:
            points = observed[[model.history.time_column, item.column]].dropna()
            offset = plot_time(item.aggregate)
            ax.plot(
                points.iloc[:, 0] + offset,
                points.iloc[:, 1],
                "o",
                ms=3,
                color="black",
                label="history",
            )
            positive = (points.iloc[:, 1] > 0).all() and (data.values > 0).all()
            if positive:
                ax.set_yscale("log")
            ax.legend(fontsize=7)
        unit = result[name].attrs.get("units", "")
        ax.set_title(f"{name}" + (f" ({unit})" if unit else ""), fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(f"{model.name}: model run against history", fontsize=10)
    fig.tight_layout()
    if not target.parent.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=target.suffix[1:].lower() or "png", dpi=110)
    plt.close(fig)
    return target
