"""Comparing a run with the historical data a model declares (its ``history:`` section).

A yearly total of a flow (revenue per year) is the integral of the flow over that year, not
its value at the year's start; a yearly mean averages a level over the year; a stock is
sampled at the date, or at the year's end for counts reported "at year end". ``compare`` applies
the aggregation each series declares and returns a tidy table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import ModelError
from flywheel_sim.io.datasets import datasets, load_dataset
from flywheel_sim.io.paths import read_csv
from flywheel_sim.spec.model import Aggregate, History, HistorySeries, Model
from flywheel_sim.spec.names import canonical

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr


def history_frame(model: Model) -> pd.DataFrame:
    """The model's historical data (its ``history.data``) as one DataFrame: several data sets
    are joined on the time column (outer join, sorted by time)."""
    spec = _spec(model)
    frame = None
    for name in spec.data:
        part = _load(model, spec, name)
        if spec.time_column not in part.columns:
            raise ModelError(
                f"history data '{name}' has no time column '{spec.time_column}'",
                file=model.file,
                line=spec.line,
            )
        if frame is None:
            frame = part
        else:
            shared = (set(frame.columns) & set(part.columns)) - {spec.time_column}
            if shared:
                raise ModelError(
                    f"history data '{name}' repeats column '{sorted(shared)[0]}'",
                    file=model.file,
                    line=spec.line,
                    hint="each column may come from one data set only",
                )
            frame = frame.merge(part, on=spec.time_column, how="outer")
    assert frame is not None
    frame = frame.sort_values(spec.time_column, ignore_index=True)
    missing = [s.column for s in spec.series if s.column not in frame.columns]
    if missing:
        raise ModelError(
            f"history data '{', '.join(spec.data)}' has no column '{missing[0]}'",
            file=model.file,
            line=spec.line,
        )
    return frame


def _load(model: Model, spec: History, name: str) -> pd.DataFrame:
    if name in datasets():
        return load_dataset(name)
    root = Path(model.file).parent if model.file else None
    return read_csv(name, root, what="history data", file=model.file, line=spec.line)


def _spec(model: Model) -> History:
    if model.history is None:
        raise ModelError(
            f"model '{model.name}' declares no history",
            file=model.file,
            hint="add a history: section (docs/model-format.md)",
        )
    return model.history


def annual_totals(series: xr.DataArray, years: NDArray[np.float64]) -> NDArray[np.float64]:
    """The integral of a rate over [year, year + 1] for each year: shape (runs, years).

    Uses the trapezoid rule on the saved times; NaN where the run does not cover the year.
    """
    time = series["time"].values
    values = series.transpose("run", "time").values
    out = np.full((values.shape[0], len(years)), np.nan)
    for j, year in enumerate(years):
        inside = (time >= year - 1e-9) & (time <= year + 1 + 1e-9)
        if time[0] > year + 1e-9 or time[-1] < year + 1 - 1e-9 or inside.sum() < 2:
            continue
        out[:, j] = np.trapezoid(values[:, inside], time[inside], axis=1)
    return out


def aggregated(
    series: xr.DataArray, aggregate: Aggregate, times: NDArray[np.float64]
) -> NDArray[np.float64]:
    """A variable (dims run, time) aggregated for comparison with observations at ``times``
    (see HistorySeries): shape (runs, times), NaN where the run does not cover them."""
    if aggregate == "annual_total":
        return annual_totals(series, times)
    if aggregate == "annual_mean":
        return annual_totals(series, times)  # the integral over one year is its mean
    if aggregate == "year_end":
        return point_values(series, times + 1.0)
    return point_values(series, times)


OFFSETS: dict[Aggregate, float] = {"annual_total": 0.5, "annual_mean": 0.5, "year_end": 1.0}
LABELS: dict[Aggregate, str] = {
    "annual_total": "yearly total",
    "annual_mean": "yearly mean",
    "year_end": "year end",
}


def plot_time(aggregate: Aggregate) -> float:
    """Where an observation of year t belongs on a time axis: mid-year for a yearly total or
    mean, the year's end for a year-end count, t itself for a point value."""
    return OFFSETS.get(aggregate, 0.0)


def span(aggregate: Aggregate) -> float:
    """How far past its date an observation reaches (a yearly total needs its whole year)."""
    return 0.0 if aggregate == "point" else 1.0


def point_values(series: xr.DataArray, times: NDArray[np.float64]) -> NDArray[np.float64]:
    """The series at each time (linear interpolation between saves): shape (runs, times)."""
    time = series["time"].values
    values = series.transpose("run", "time").values
    return np.stack([np.interp(times, time, row, left=np.nan, right=np.nan) for row in values])


def model_values(
    result: xr.Dataset, item: HistorySeries, times: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The model's counterpart of one observed series, aggregated as it declares."""
    key = canonical(item.variable)
    if key not in result:
        raise ModelError(
            f"the result has no variable '{item.variable}' (history series)",
            hint="simulate without restricting variables, or include it",
        )
    data = result[key]
    extra = [d for d in data.dims if d not in ("run", "time")]
    if extra:
        data = data.sum(extra)
    return aggregated(data, item.aggregate, times)


def compare(model: Model, result: xr.Dataset, *, run: int = 0) -> pd.DataFrame:
    """Observed against simulated, one row per (series, time) with data: columns ``time``,
    ``variable``, ``observed``, ``model`` and ``ratio`` (model / observed)."""
    import pandas as pd

    spec = _spec(model)
    frame = history_frame(model)
    rows = []
    for item in spec.series:
        data = frame[[spec.time_column, item.column]].dropna()
        times = data[spec.time_column].to_numpy(dtype=float)
        simulated = model_values(result, item, times)[run]
        for t, obs, sim in zip(times, data[item.column].to_numpy(float), simulated, strict=True):
            rows.append(
                {
                    "time": t,
                    "variable": canonical(item.variable),
                    "observed": obs,
                    "model": sim,
                    "ratio": sim / obs if obs else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=["time", "variable", "observed", "model", "ratio"])
