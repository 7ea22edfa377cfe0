"""Checks every test applies to every run it makes: a run that went non-finite, a
non-negative stock below zero, a declared bound broken (``bounds: [low, high]`` on a
variable, each end a number or another variable's name)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flywheel_sim.spec.names import canonical
from flywheel_sim.validation.report import Finding

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.spec.model import Model

TOLERANCE = 1e-9  # relative: a bound is broken by more than rounding


def run_findings(model: Model, result: xr.Dataset, labels: list[str]) -> list[list[Finding]]:
    """For each run of ``result`` (labelled ``labels[run]``), what went wrong in it."""
    found: list[list[Finding]] = [[] for _ in labels]
    times = result["time"].to_numpy()
    status = result["status"].to_numpy()
    for run, label in enumerate(labels):
        if status[run] != "ok":
            variable = str(result["failed_variable"].to_numpy()[run])
            when = float(result["failed_time"].to_numpy()[run])
            found[run].append(Finding(label, "a value became NaN or infinite", variable, when))
    for element in model.elements:
        if element.key not in result.data_vars and element.name not in result.data_vars:
            continue
        name = element.name if element.name in result.data_vars else element.key
        values = _runs_by_time(result[name])
        if element.kind == "stock" and element.non_negative:
            _below(found, labels, times, values, np.zeros_like(values), name, "went negative")
        if element.bounds is None:
            continue
        low, high = element.bounds
        if low is not None:
            limit = _limit(model, result, low, values)
            if limit is not None:
                _below(found, labels, times, values, limit, name, f"went below its bound {low}")
        if high is not None:
            limit = _limit(model, result, high, values)
            if limit is not None:
                _below(found, labels, times, -values, -limit, name, f"went above its bound {high}")
    return found


def _runs_by_time(array: xr.DataArray) -> np.ndarray:
    """(run, time, elements...) values as (run, time, k) with the element axes flattened."""
    values = array.variable.transpose("run", "time", ...).to_numpy()  # no coordinates: fast
    return values.reshape(values.shape[0], values.shape[1], -1)


def _limit(
    model: Model, result: xr.Dataset, end: float | str, values: np.ndarray
) -> np.ndarray | None:
    if not isinstance(end, str):
        return np.full_like(values, float(end))
    other = model.element(end)
    name = other.name if other.name in result.data_vars else canonical(end)
    if name not in result.data_vars:
        return None
    limit = _runs_by_time(result[name])
    if limit.shape[2] == 1 and values.shape[2] > 1:
        limit = np.repeat(limit, values.shape[2], axis=2)
    return limit if limit.shape == values.shape else None


def _below(
    found: list[list[Finding]],
    labels: list[str],
    times: np.ndarray,
    values: np.ndarray,
    limit: np.ndarray,
    name: str,
    what: str,
) -> None:
    """Record, per run, the first time ``values`` fall below ``limit`` by more than rounding."""
    with np.errstate(invalid="ignore"):
        slack = TOLERANCE * np.maximum(np.abs(limit), 1.0)
        bad = (values < limit - slack) & np.isfinite(values) & np.isfinite(limit)
    for run in np.flatnonzero(bad.any(axis=(1, 2))):
        step = int(np.flatnonzero(bad[run].any(axis=1))[0])
        worst = float(np.nanmin(values[run] - limit[run]))
        found[run].append(
            Finding(labels[run], f"{what} (by {abs(worst):.3g})", name, float(times[step]))
        )
