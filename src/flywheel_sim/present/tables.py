"""Readable terminal tables (rich) for results and models."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from rich.markup import escape
from rich.table import Table

from flywheel_sim.spec.model import Element, Model

if TYPE_CHECKING:
    import xarray as xr


def number(value: float) -> str:
    """Readable at a glance: 761,424 / 223.2 / 0.0312."""
    if not np.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:,.4g}" if abs(value) >= 1000 else f"{value:.4g}"


def summary_table(result: xr.Dataset) -> Table:
    """Initial, final (means over runs), min and max of each variable, one row per element of
    an arrayed variable."""
    runs = result.sizes.get("run", 1)
    title = f"{result.attrs.get('model', 'model')}: {runs} run(s), {result.attrs.get('method')}"
    title += f", t = {float(result.time[0]):g}..{float(result.time[-1]):g}"
    table = Table(title=escape(title))
    for column in ("variable", "unit", "initial", "final", "min", "max"):
        table.add_column(column, justify="left" if column in ("variable", "unit") else "right")
    for name, data in result.data_vars.items():
        extra = [d for d in data.dims if d not in ("run", "time")]
        rows = [(escape(str(name)), data)]
        if extra:  # one row per element of an arrayed variable (never an average over them)
            stacked = data.stack(element=extra)
            rows = [
                (escape(f"{name}[{_label(stacked.element.values[i])}]"), stacked.isel(element=i))
                for i in range(stacked.sizes["element"])
            ]
        for label, values in rows:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN after a failure
                table.add_row(*_row(label, values))
    return table


def _label(element: object) -> str:
    return ",".join(map(str, element)) if isinstance(element, tuple) else str(element)


def _row(name: str, data: xr.DataArray) -> list[str]:
    values = data.values
    first = data.isel(time=0).values
    last = data.isel(time=-1).values
    return [
        name,
        escape(str(data.attrs.get("units", ""))),
        _fmt(float(np.nanmean(first))),
        _fmt(float(np.nanmean(last))),
        _fmt(float(np.nanmin(values))),
        _fmt(float(np.nanmax(values))),
    ]


def _equation(element: Element) -> str:
    if element.kind == "parameter":
        return str(
            element.default if not isinstance(element.default, tuple) else dict(element.default)
        )
    if element.kind == "lookup" and element.lookup is not None:
        return f"{len(element.lookup.xs)} points ({element.lookup.kind})"
    text = element.equation
    if element.element_equations:
        text += "  " + "; ".join(f"[{k}] {v}" for k, v in element.element_equations)
    if element.kind == "stock":
        flows = " ".join(
            [*(f"+{f}" for f in element.inflows), *(f"-{f}" for f in element.outflows)]
        )
        text = f"init {text}; {flows}".strip()
    return text


def model_tables(model: Model) -> list[Table]:
    """Variables (with equations and sources), parameters and declared loops of a model."""
    variables = Table(title=escape(f"{model.name}: variables"))
    for column in ("name", "kind", "dims", "equation", "unit", "source"):
        variables.add_column(column, overflow="fold")
    for e in model.elements:
        if e.kind == "parameter":
            continue
        cells: tuple[str, ...] = (e.name, e.kind, ",".join(e.dims), _equation(e), e.unit, e.source)
        variables.add_row(*map(escape, cells))
    params = Table(title=escape(f"{model.name}: parameters"))
    for column in ("name", "default", "min", "max", "unit", "description", "source"):
        params.add_column(column, overflow="fold")
    for e in model.of_kind("parameter"):
        row: tuple[str, ...] = (
            e.name,
            _equation(e),
            "" if e.minimum is None else f"{e.minimum:g}",
            "" if e.maximum is None else f"{e.maximum:g}",
            e.unit,
            e.description,
            e.source,
        )
        params.add_row(*map(escape, row))
    tables = [variables, params]
    if model.loops:
        loops = Table(title=escape(f"{model.name}: declared loops"))
        for column in ("loop", "polarity", "variables", "description"):
            loops.add_column(column, overflow="fold")
        for loop in model.loops:
            shown: tuple[str, ...] = (
                loop.name,
                loop.polarity,
                " -> ".join(loop.variables),
                loop.description,
            )
            loops.add_row(*map(escape, shown))
        tables.append(loops)
    return tables
