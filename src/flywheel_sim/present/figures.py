"""Plotly figures shared by the dashboard and the HTML report: variables over time against
history (and :class:`LiveChart`, which redraws them run by run), the shared look of every
figure, and an empty chart that says why. The analyses' figures are in
:mod:`.figures_study`. Each function takes plain data and returns a Plotly figure.

Observed yearly totals of a flow (net sales in a year) are drawn at mid-year against the
model's rate: the integral of a rate over a year is close to its value in the middle, so the
points sit where the curve should pass (a stock is drawn at the date it was measured).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.present.study import PALETTE
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.names import canonical

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import xarray as xr


F = NDArray[np.float64]
R_COLOUR, B_COLOUR = "#1b7837", "#b2182b"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12}


def words(name: str) -> str:
    return name.replace("_", " ")


def subplots(titles: Sequence[str], *, cols: int = 2) -> go.Figure:
    from plotly.subplots import make_subplots

    rows = max(1, math.ceil(len(titles) / cols))
    cols = min(cols, max(len(titles), 1))
    return make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=list(titles),
        vertical_spacing=min(0.12, 0.5 / rows),
        horizontal_spacing=0.08,
    )


def finish(fig: go.Figure, title: str, rows: int, *, height: int = 260) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        height=max(320, 70 + height * rows),
        margin={"l": 60, "r": 20, "t": 70, "b": 40},
        font=FONT,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.08 if rows > 1 else -0.18, "x": 0},
        hovermode="x unified",
    )
    return fig


def element_lines(data: xr.DataArray, run: int = 0) -> list[tuple[str, F]]:
    """One (label, values over time) per element of a variable (one for a scalar)."""
    extra = [d for d in data.dims if d not in ("run", "time")]
    row = data.isel(run=run)
    if not extra:
        return [("", np.asarray(row.values, dtype=float))]
    stacked = row.stack(element=extra).transpose("element", "time")
    labels = [",".join(str(v) for v in np.atleast_1d(i)) for i in stacked["element"].values]
    return list(zip(labels, np.asarray(stacked.values, dtype=float), strict=True))


def observed_points(model: Model) -> dict[str, tuple[F, F, str]]:
    """Each observed series by model variable: (times to draw at, values, what they are)."""
    if model.history is None:
        return {}
    from flywheel_sim.studies.history import LABELS, history_frame, plot_time

    frame = history_frame(model)
    out = {}
    for item in model.history.series:
        data = frame[[model.history.time_column, item.column]].dropna()
        times = data[model.history.time_column].to_numpy(dtype=float)
        kind = LABELS.get(item.aggregate)
        label = f"observed ({kind})" if kind else "observed"
        shift = plot_time(item.aggregate)
        out[canonical(item.variable)] = (times + shift, data[item.column].to_numpy(float), label)
    return out


def variables_figure(
    model: Model,
    result: xr.Dataset,
    variables: Sequence[str],
    *,
    title: str = "",
    reference: xr.Dataset | None = None,
) -> go.Figure:
    """One panel per variable: the run as a line, observed history as points, and (dotted)
    the ``reference`` run — the model with its defaults — when given."""
    import plotly.graph_objects as go

    observed = observed_points(model)
    units = {e.key: e.unit for e in model.elements}
    chosen = [v for v in variables if v in result]
    fig = subplots([words(v) + (f" ({units[v]})" if units.get(v) else "") for v in chosen])
    times = np.asarray(result["time"].values, dtype=float)
    cols = 2 if len(chosen) > 1 else 1
    shown: set[str] = set()
    for i, variable in enumerate(chosen):
        row, col = i // cols + 1, i % cols + 1
        first = i == 0
        if reference is not None and variable in reference:
            for label, values in element_lines(reference[variable]):
                fig.add_trace(
                    go.Scatter(
                        x=times,
                        y=values,
                        name="defaults",
                        legendgroup="defaults",
                        showlegend=first and not label,
                        mode="lines",
                        line={"color": "#999999", "dash": "dot", "width": 1.5},
                        hoverinfo="skip",
                    ),
                    row=row,
                    col=col,
                )
        for k, (label, values) in enumerate(element_lines(result[variable])):
            fig.add_trace(
                go.Scatter(
                    x=times,
                    y=values,
                    name=label or "model",
                    legendgroup=label or "model",
                    showlegend=first,
                    mode="lines",
                    line={"color": PALETTE[k % len(PALETTE)], "width": 2},
                    meta=[variable, k],  # LiveChart replaces these values run by run
                ),
                row=row,
                col=col,
            )
        if variable in observed:
            when, values, label = observed[variable]
            fig.add_trace(
                go.Scatter(
                    x=when,
                    y=values,
                    name=label,
                    legendgroup=label,
                    mode="markers",
                    showlegend=label not in shown,
                    marker={"color": PALETTE[1], "size": 6},
                ),
                row=row,
                col=col,
            )
            shown.add(label)
            model_values = np.asarray(result[variable].values, dtype=float)
            if (
                (values > 0).all()
                and (model_values > 0).all()
                and values.max() > 100 * values.min()
            ):
                fig.update_yaxes(type="log", row=row, col=col)
    rows = max(1, math.ceil(len(chosen) / cols))
    fig = finish(fig, title or f"{model.name}: behaviour over time", rows)
    fig.update_layout(uirevision=model.name)  # zoom and hidden series survive a slider move
    return fig


class LiveChart:
    """The variables chart of one model and list of variables, built once with the default
    run; each new run only replaces the values of the run's lines. Plotly's figure validation
    costs ~50 ms for nine panels, more than the simulation, so a slider skips it."""

    def __init__(self, model: Model, reference: xr.Dataset, variables: Sequence[str]) -> None:
        fig = variables_figure(model, reference, variables, reference=reference)
        self.figure: dict[str, Any] = fig.to_plotly_json()
        self.slots = [
            (i, str(trace["meta"][0]), int(trace["meta"][1]))
            for i, trace in enumerate(self.figure["data"])
            if trace.get("meta")
        ]

    def render(self, result: xr.Dataset) -> dict[str, Any]:
        """The whole figure for this run."""
        data = list(self.figure["data"])
        for i, variable, k in self.slots:
            data[i] = {**data[i], "y": element_lines(result[variable])[k][1]}
        return {"data": data, "layout": self.figure["layout"]}

    def patch(self, result: xr.Dataset) -> Any:
        """Only the run's values, for a page that already shows this chart (the browser
        redraws sooner when it receives a few arrays instead of the whole figure)."""
        from dash import Patch

        update = Patch()
        for i, variable, k in self.slots:
            update["data"][i]["y"] = element_lines(result[variable])[k][1].tolist()
        return update


def empty(message: str) -> go.Figure:
    """A blank chart that says why it is blank."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(
        text=message,
        showarrow=False,
        font={"size": 14, "color": "#555555"},
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return finish(fig, "", 1, height=200)
