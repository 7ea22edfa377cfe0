"""What a model asks of the analyses beyond its equations: the historical data to compare with
(:class:`History`), the figures to report (:class:`Report`) and the flywheel diagnostics'
settings (:class:`DiagnosticsSpec`). Fields of :class:`~flywheel_sim.spec.model.Model`, kept
here so that loading and compiling a model that has none of them does not build these classes
(each frozen dataclass costs about a millisecond to create at import); still importable from
:mod:`flywheel_sim.spec.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Aggregate = Literal["annual_total", "annual_mean", "point", "year_end"]
AGGREGATES: tuple[str, ...] = ("annual_total", "annual_mean", "point", "year_end")


@dataclass(frozen=True, slots=True)
class HistorySeries:
    """An observed series: model ``variable`` against data ``column``.

    ``aggregate`` says how to compare: ``annual_total`` integrates a flow over each year
    (revenue per year is the integral of the revenue rate), ``annual_mean`` averages a level
    over the year (a share of the year's sales), ``point`` samples the variable at the start
    of the year and ``year_end`` at its end (a count reported "at year end").
    """

    variable: str
    column: str
    aggregate: Aggregate = "point"


@dataclass(frozen=True, slots=True)
class History:
    """Where a model's historical data lives: shipped data sets or CSV files beside the model
    (several are joined on the time column)."""

    data: tuple[str, ...]
    time_column: str
    series: tuple[HistorySeries, ...]
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """Key figures to show after a run: these variables at these times."""

    times: tuple[float, ...]
    variables: tuple[str, ...]
    chart: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class DiagnosticsSpec:
    """What the flywheel diagnostics look at: the push parameter, the stock that should grow,
    the outcome (at a time) whose leverage matters, and for coasting the push and investment
    parameters (with the value each takes when stopped) and when they stop."""

    push: str | None = None
    stock: str | None = None
    outcome: str | None = None
    at: float | None = None
    line: int | None = None
    coast_at: float | None = None  # when the pushes and investments stop, for coasting
    stop: tuple[tuple[str, float], ...] = ()  # each push/investment parameter, stopped value
