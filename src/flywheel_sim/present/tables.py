"""Readable terminal tables (rich) for results and models."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Hashable, Iterator, Sequence
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


MAX_ELEMENT_ROWS = 12  # rows for one arrayed variable in the summary table
MAX_SUMMARY_ROWS = 200  # rows in the whole summary table


def summary_table(
    result: xr.Dataset, *, per_variable: int = MAX_ELEMENT_ROWS, rows: int = MAX_SUMMARY_ROWS
) -> Table:
    """Initial, final (means over runs), min and max of each variable, one row per element of
    an arrayed variable (never an average over them).

    A terminal table is for reading: an arrayed variable shows its first ``per_variable``
    elements and a row counting the rest, and the table stops after ``rows`` rows with a row
    counting the variables left out (a model with a million-element array used to print a
    million rows, for minutes). ``--out`` writes every value."""
    runs = result.sizes.get("run", 1)
    title = f"{result.attrs.get('model', 'model')}: {runs} run(s), {result.attrs.get('method')}"
    title += f", t = {float(result.time[0]):g}..{float(result.time[-1]):g}"
    table = Table(title=escape(title))
    for column in ("variable", "unit", "initial", "final", "min", "max"):
        table.add_column(column, justify="left" if column in ("variable", "unit") else "right")
    names = list(result.data_vars)
    shown = 0
    for position, name in enumerate(names):
        if shown >= rows:
            rest = len(names) - position
            table.add_row(f"… {rest:,} more variable{'s' if rest != 1 else ''} (--out writes all)")
            break
        data = result[name]
        unit = escape(str(data.attrs.get("units", "")))
        extra = [d for d in data.dims if d not in ("run", "time")]
        if not extra:
            table.add_row(
                escape(str(name)), unit, *_stats(data.transpose("time", ...).values[None, ...])
            )
            shown += 1
            continue
        # elements first, then time and runs: (elements, time[, run]) without a copy per row
        values = data.transpose(*extra, "time", ...).values
        count = int(np.prod(values.shape[: len(extra)]))
        values = values.reshape(count, *values.shape[len(extra) :])
        labels = [_label(e) for e in itertools.islice(_elements(data, extra), per_variable)]
        for i, label in enumerate(labels):
            table.add_row(escape(f"{name}[{label}]"), unit, *_stats(values[i : i + 1]))
        shown += len(labels)
        if count > len(labels):
            more = count - len(labels)
            table.add_row(
                escape(f"{name}[…]"), "", f"{more:,} more element{'s' if more != 1 else ''}"
            )
            shown += 1
    return table


def _elements(data: xr.DataArray, dims: Sequence[Hashable]) -> Iterator[object]:
    """The element labels of ``dims`` in C order, one at a time (a tuple when several)."""
    coords = [data[d].values.tolist() for d in dims]
    if len(coords) == 1:
        return iter(coords[0])
    return itertools.product(*coords)


def _label(element: object) -> str:
    return ",".join(map(str, element)) if isinstance(element, tuple) else str(element)


def _stats(values: np.ndarray) -> list[str]:
    """initial, final (means over runs), min and max of (1, time[, run]) values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN after a failure
        first = values[0, 0]
        last = values[0, -1]
        return [
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
