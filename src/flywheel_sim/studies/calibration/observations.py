"""The observed series a calibration fits, and where each may be compared with the model.

Each series maps to a model variable with its aggregation: a yearly total of a flow (revenue
per year) is the integral of the flow over the year, a stock is sampled at the date
(:mod:`flywheel_sim.studies.history`). Every problem with the data is a one-line error that
names the column and the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.model import Aggregate, HistorySeries, Model
from flywheel_sim.spec.names import canonical

if TYPE_CHECKING:
    import pandas as pd

F = NDArray[np.float64]


@dataclass(frozen=True)
class Series:
    """One observed series: model variable, aggregation, times, values, weight."""

    variable: str
    aggregate: Aggregate
    times: F
    values: F
    weight: float = 1.0
    column: str = ""

    @property
    def signed(self) -> bool:
        """Zero or negative observations: log residuals are impossible."""
        return bool((self.values <= 0).any())

    @property
    def scale(self) -> float:
        """The typical size of a signed series (its median magnitude): errors are relative to
        |value| + scale, so values near zero do not dominate."""
        return float(np.median(np.abs(self.values))) or 1.0

    def window(self, since: float | None, until: float | None) -> Series:
        """The observations in [``since``, ``until``] (either end may be open)."""
        keep = np.ones(self.times.size, bool)
        if since is not None:
            keep &= self.times >= since
        if until is not None:
            keep &= self.times <= until
        return Series(
            self.variable,
            self.aggregate,
            self.times[keep],
            self.values[keep],
            self.weight,
            self.column,
        )


def observations(
    model: Model,
    data: pd.DataFrame | None = None,
    series: Mapping[str, str] | None = None,
    *,
    time: str | None = None,
    weights: Mapping[str, float] | None = None,
    source: str = "data",
) -> list[Series]:
    """The observed series: by default the model's ``history`` section; or ``series``
    (variable -> column of ``data``), aggregated as the model's history declares for that
    variable, else yearly totals for flows and point values otherwise."""
    from flywheel_sim.studies.history import history_frame

    declared: dict[str, HistorySeries] = {}
    if model.history is not None:
        declared = {canonical(s.variable): s for s in model.history.series}
    if data is None:
        data = history_frame(model)
    time = time or (model.history.time_column if model.history else "time")
    mapping = dict(series) if series else {k: s.column for k, s in declared.items()}
    if not mapping:
        raise ModelError(f"say which columns to fit: model '{model.name}' declares no history")
    if time not in data.columns:
        raise ModelError(f"{source} has no time column '{time}'", hint=columns_of(data))
    times_all = increasing_times(data, time, source)
    out = []
    for variable, column in mapping.items():
        key = canonical(variable)
        try:
            element = model.element(key)
        except ModelError as exc:
            raise ModelError(f"{source}: {exc.message}", hint=exc.hint) from None
        if column not in data.columns:
            raise ModelError(f"{source} has no column '{column}'", hint=columns_of(data))
        values = numbers(data[column], column, source)
        keep = np.isfinite(values)
        if not keep.any():
            raise ModelError(f"{source}: column '{column}' has no values")
        aggregate: Aggregate
        if key in declared:
            aggregate = declared[key].aggregate
        else:
            aggregate = "annual_total" if element.kind == "flow" else "point"
        weight = float((weights or {}).get(key, 1.0))
        out.append(Series(key, aggregate, times_all[keep], values[keep], weight, column))
    return out


def read_observations(path: Path) -> pd.DataFrame:
    """A CSV file of observations; ModelError (one line) if it cannot be read."""
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from None


def inside_run(model: Model, item: Series, source: str) -> None:
    """Every observation must lie inside the run (a yearly total needs its whole year)."""
    from flywheel_sim.studies.history import span

    length = span(item.aggregate)
    late = item.times + length > model.time.stop + 1e-9
    early = item.times < model.time.start - 1e-9
    if late.any() or early.any():
        t = float(item.times[late][0] if late.any() else item.times[early][0])
        raise ModelError(
            f"{source}: '{item.column or item.variable}' has an observation at {t:g}, outside "
            f"the run ({model.time.start:g} to {model.time.stop:g})",
            hint="leave it out, or extend the model's time.stop",
        )


def numbers(raw: pd.Series, column: str, source: str) -> F:
    """A column as floats (empty cells are NaN: not observed); one-line error otherwise."""
    import pandas as pd

    values = pd.to_numeric(raw, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & raw.notna().to_numpy())
    if bad.size:
        k = int(bad[0])
        raise ModelError(
            f"{source}: column '{column}' line {k + 2} holds {raw.iloc[k]!r}, not a number"
        )
    return np.asarray(values.to_numpy(dtype=float), dtype=np.float64)


def increasing_times(data: pd.DataFrame, column: str, source: str) -> F:
    """The time column: every cell filled, increasing, and (for years) no year left out."""
    times = numbers(data[column], column, source)
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        raise ModelError(f"{source}: time column '{column}' is empty on line {int(bad[0]) + 2}")
    steps = np.diff(times)
    if (steps <= 0).any():
        k = int(np.flatnonzero(steps <= 0)[0])
        raise ModelError(f"{source}: times must increase ('{column}' line {k + 3})")
    if len(steps) > 1 and np.allclose(times, np.round(times)):
        gaps = np.flatnonzero(steps > 1.5 * steps.min())
        if gaps.size:
            k = int(gaps[0])
            raise ModelError(
                f"{source}: years {times[k]:g} and {times[k + 1]:g} are consecutive rows — "
                "the years between are missing",
                hint="add a row for every year (leave a value empty where it is unknown)",
            )
    return times


def columns_of(data: pd.DataFrame) -> str:
    return "columns are " + ", ".join(map(str, data.columns))
