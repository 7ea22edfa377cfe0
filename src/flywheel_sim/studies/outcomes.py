"""Outcomes: the numbers a study compares, written ``variable@when``.

``when`` is a time (``net_sales@2024``), ``end`` (the last saved time, the default when ``@``
is left out), or a statistic over the run: ``max``, ``min``, ``mean``. Outcomes are what
``compare`` tabulates, ``sweep`` summarises and ``sensitivity`` explains.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import ModelError, did_you_mean
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.names import canonical

if TYPE_CHECKING:
    import xarray as xr

STATISTICS = ("end", "max", "min", "mean")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One outcome: a scalar variable at a time (``at``) or a statistic over the run."""

    variable: str
    at: float | None = None
    statistic: str = "end"

    @property
    def label(self) -> str:
        when = f"{self.at:g}" if self.at is not None else self.statistic
        return f"{self.variable}@{when}"

    def extract(
        self, series: NDArray[np.float64], times: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """The outcome of every run from a (runs, times) array saved at ``times``."""
        if self.at is not None:
            k = int(np.argmin(np.abs(times - self.at)))
            return np.asarray(series[:, k], dtype=float)
        if self.statistic == "end":
            return np.asarray(series[:, -1], dtype=float)
        if self.statistic == "max":
            return np.asarray(np.nanmax(series, axis=1), dtype=np.float64)
        if self.statistic == "min":
            return np.asarray(np.nanmin(series, axis=1), dtype=np.float64)
        return np.asarray(np.nanmean(series, axis=1), dtype=np.float64)

    def of(self, result: xr.Dataset) -> NDArray[np.float64]:
        """The outcome of every run of a ``simulate`` result."""
        data = result[self.variable]
        return self.extract(np.asarray(data.values, dtype=float), result["time"].values)


def parse_outcome(text: str, model: Model) -> Outcome:
    """``variable@2024``, ``variable@end|max|min|mean`` or ``variable``; checked against the
    model (a scalar variable, a time inside the run)."""
    name, sep, when = text.strip().partition("@")
    key = canonical(name)
    keys = [e.key for e in model.elements if e.kind not in ("lookup",)]
    if key not in keys:
        raise ModelError(
            f"outcome '{text}': model '{model.name}' has no variable '{name}'",
            hint=did_you_mean(key, keys) or "write variable@time, e.g. net_sales@2024",
        )
    if model.element(key).dims:
        raise ModelError(
            f"outcome '{text}': '{name}' is arrayed",
            hint="choose a scalar variable (or add a SUM auxiliary to the model)",
        )
    when = when.strip().lower()
    if not sep or when in STATISTICS:
        return Outcome(key, None, when or "end")
    try:
        at = float(when)
    except ValueError:
        raise ModelError(
            f"outcome '{text}': '{when}' is not a time",
            hint="write variable@2024, or @end, @max, @min, @mean",
        ) from None
    if not model.time.start <= at <= model.time.stop:
        raise ModelError(
            f"outcome '{text}': {at:g} is outside the run "
            f"({model.time.start:g} to {model.time.stop:g})"
        )
    return Outcome(key, at)


def parse_outcomes(texts: Iterable[str], model: Model) -> list[Outcome]:
    out: list[Outcome] = []
    for text in texts:
        for part in text.split(","):
            if part.strip():
                out.append(parse_outcome(part, model))
    if not out:
        raise ModelError("no outcomes given", hint="e.g. --outcome net_sales@2024")
    return out
