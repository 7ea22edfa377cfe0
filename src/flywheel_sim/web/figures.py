"""Plotly figures shared by the dashboard and the HTML report: variables over time against
history, loop dominance, scenario comparison, percentile fans, the calibration fit and the
leverage ranking. Each function takes plain data and returns a ``plotly.graph_objects.Figure``.

Observed yearly totals of a flow (net sales in a year) are drawn at mid-year against the
model's rate: the integral of a rate over a year is close to its value in the middle, so the
points sit where the curve should pass (a stock is drawn at the date it was measured).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.present.study import PALETTE, PERCENTILES
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.names import canonical

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go
    import xarray as xr

    from flywheel_sim.calibration import Calibration

F = NDArray[np.float64]
R_COLOUR, B_COLOUR = "#1b7837", "#b2182b"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12}


def _words(name: str) -> str:
    return name.replace("_", " ")


def _subplots(titles: Sequence[str], *, cols: int = 2) -> go.Figure:
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


def _finish(fig: go.Figure, title: str, rows: int, *, height: int = 260) -> go.Figure:
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
    from flywheel_sim.history import history_frame

    frame = history_frame(model)
    out = {}
    for item in model.history.series:
        data = frame[[model.history.time_column, item.column]].dropna()
        times = data[model.history.time_column].to_numpy(dtype=float)
        label = "observed (yearly total)" if item.aggregate == "annual_total" else "observed"
        shift = 0.5 if item.aggregate == "annual_total" else 0.0
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
    fig = _subplots([_words(v) + (f" ({units[v]})" if units.get(v) else "") for v in chosen])
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
    return _finish(fig, title or f"{model.name}: behaviour over time", rows)


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


def _top_loops(dominance: xr.Dataset, top: int, run: int = 0) -> list[str]:
    relative = np.abs(dominance["relative_score"].isel(run=run).values)  # (time, loop)
    peak = np.nan_to_num(relative).max(axis=0)
    named = [i for i, n in enumerate(dominance["loop_name"].values) if n]
    order = sorted(range(len(peak)), key=lambda i: -peak[i])
    chosen = order[:top] + [i for i in named if i not in order[:top]][: max(12 - top, 0)]
    return [str(dominance["loop"].values[i]) for i in chosen]


def loop_label(dominance: xr.Dataset, loop: str) -> str:
    item = dominance.sel(loop=loop)
    name = str(item["loop_name"].item())
    kind = str(item["loop_type"].item())
    if not name:
        chain = [_words(v) for v in str(item["loop_variables"].item()).split(" -> ")]
        name = " → ".join(chain[:3]) + (" → …" if len(chain) > 3 else "")
    return f"{loop} ({kind}) {_words(name)}"


def dominance_figure(
    dominance: xr.Dataset,
    *,
    loops: Sequence[str] | None = None,
    top: int = 6,
    at: float | None = None,
    title: str = "",
    run: int = 0,
) -> go.Figure:
    """Relative loop scores over time (positive: reinforcing, negative: balancing)."""
    import plotly.graph_objects as go

    chosen = list(loops) if loops is not None else _top_loops(dominance, top, run)
    fig = go.Figure()
    times = np.asarray(dominance["time"].values, dtype=float)
    for k, loop in enumerate(chosen):
        item = dominance.sel(loop=loop)
        values = np.asarray(item["relative_score"].isel(run=run).values, dtype=float)
        kind = str(item["loop_type"].item())
        dash = "solid" if kind == "R" else "dash"
        fig.add_trace(
            go.Scatter(
                x=times,
                y=values,
                mode="lines",
                name=loop_label(dominance, loop),
                line={"color": PALETTE[k % len(PALETTE)], "width": 2, "dash": dash},
            )
        )
    if at is not None:
        fig.add_vline(x=at, line={"color": "#555555", "width": 1, "dash": "dot"})
    fig.update_yaxes(title="relative loop score", tickformat=".0%", range=[-1.05, 1.05])
    return _finish(fig, title or "loop dominance (Loops That Matter)", 1, height=300)


def loop_figure(
    dominance: xr.Dataset,
    loops: Sequence[str],
    *,
    share: F | None,
    at: float | None,
    title: str,
) -> go.Figure:
    """One loop's dominance: its own relative score and, for a loop drawn in the diagram,
    the share of all loop activity that passes through its path (what the shading shows)."""
    import plotly.graph_objects as go

    fig = dominance_figure(dominance, loops=loops, at=at, title=title)
    if share is not None:
        fig.add_trace(
            go.Scatter(
                x=np.asarray(dominance["time"].values, dtype=float),
                y=share,
                mode="lines",
                name="share of loop activity through its path",
                line={"color": "#555555", "width": 3},
            )
        )
    fig.update_yaxes(range=[-1.05, 1.05])
    return fig


def compare_figure(
    series: Mapping[str, Mapping[str, tuple[F, F]]],
    *,
    units: Mapping[str, str] | None = None,
    title: str = "",
) -> go.Figure:
    """One panel per variable, one line per scenario: ``series[scenario][variable]``."""
    import plotly.graph_objects as go

    variables = list(next(iter(series.values()))) if series else []
    fig = _subplots(
        [_words(v) + (f" ({(units or {})[v]})" if (units or {}).get(v) else "") for v in variables]
    )
    cols = 2 if len(variables) > 1 else 1
    for s, (scenario, by_var) in enumerate(series.items()):
        for i, variable in enumerate(variables):
            times, values = by_var[variable]
            fig.add_trace(
                go.Scatter(
                    x=times,
                    y=values,
                    mode="lines",
                    name=scenario,
                    legendgroup=scenario,
                    showlegend=i == 0,
                    line={"color": PALETTE[s % len(PALETTE)]},
                ),
                row=i // cols + 1,
                col=i % cols + 1,
            )
    return _finish(fig, title or "scenarios compared", max(1, math.ceil(len(variables) / cols)))


def fan_figure(
    times: F,
    bands: Mapping[str, F],
    *,
    units: Mapping[str, str] | None = None,
    title: str = "",
) -> go.Figure:
    """Percentile fans: 5–95% and 25–75% bands and the median, one panel per variable
    (``bands[variable]`` is (5, times): the 5th, 25th, 50th, 75th, 95th percentiles)."""
    import plotly.graph_objects as go

    variables = list(bands)
    fig = _subplots(
        [_words(v) + (f" ({(units or {})[v]})" if (units or {}).get(v) else "") for v in variables]
    )
    cols = 2 if len(variables) > 1 else 1
    fills = (("5–95%", 0, 4, "rgba(27,79,138,0.18)"), ("25–75%", 1, 3, "rgba(27,79,138,0.38)"))
    # `meta` names each line's percentile for the CSV download (names are for the legend)
    for i, variable in enumerate(variables):
        where = {"row": i // cols + 1, "col": i % cols + 1}
        p = bands[variable]
        for label, lo, hi, colour in fills:
            fig.add_trace(
                go.Scatter(
                    x=times,
                    y=p[lo],
                    mode="lines",
                    line={"width": 0},
                    showlegend=False,
                    hoverinfo="skip",
                    legendgroup=label,
                    meta=f"p{PERCENTILES[lo]}",
                ),
                **where,
            )
            fig.add_trace(
                go.Scatter(
                    x=times,
                    y=p[hi],
                    mode="lines",
                    line={"width": 0},
                    fill="tonexty",
                    fillcolor=colour,
                    name=label,
                    legendgroup=label,
                    showlegend=i == 0,
                    meta=f"p{PERCENTILES[hi]}",
                ),
                **where,
            )
        fig.add_trace(
            go.Scatter(
                meta="p50",
                x=times,
                y=p[2],
                mode="lines",
                name="median",
                legendgroup="median",
                showlegend=i == 0,
                line={"color": PALETTE[0], "width": 2},
            ),
            **where,
        )
    return _finish(fig, title or "uncertainty", max(1, math.ceil(len(variables) / cols)))


def calibration_figure(fit: Calibration, *, units: Mapping[str, str] | None = None) -> go.Figure:
    """Fitted against observed per series, with the 95% prediction band (log scale for
    positive series) and a line at the end of the fitted period."""
    import plotly.graph_objects as go

    names = [s.variable for s in fit.series]
    fig = _subplots(
        [_words(v) + (f" ({(units or {})[v]})" if (units or {}).get(v) else "") for v in names]
    )
    cols = 2 if len(names) > 1 else 1
    for i, item in enumerate(fit.series):
        where = {"row": i // cols + 1, "col": i % cols + 1}
        band = fit.band.get(item.variable)
        first = i == 0
        if band is not None:
            fig.add_trace(
                go.Scatter(
                    x=band[0],
                    y=band[1],
                    mode="lines",
                    line={"width": 0},
                    showlegend=False,
                    hoverinfo="skip",
                ),
                **where,
            )
            fig.add_trace(
                go.Scatter(
                    x=band[0],
                    y=band[2],
                    mode="lines",
                    line={"width": 0},
                    fill="tonexty",
                    fillcolor="rgba(27,79,138,0.18)",
                    name="95% prediction band",
                    showlegend=first,
                ),
                **where,
            )
        times, fitted = fit.fitted[item.variable]
        fig.add_trace(
            go.Scatter(
                x=times,
                y=fitted,
                mode="lines",
                name="model (fitted)",
                showlegend=first,
                line={"color": PALETTE[0], "width": 2},
            ),
            **where,
        )
        fig.add_trace(
            go.Scatter(
                x=item.times,
                y=item.values,
                mode="markers",
                name="observed",
                showlegend=first,
                marker={"color": PALETTE[1], "size": 6},
            ),
            **where,
        )
        if (item.values > 0).all() and (np.asarray(fitted) > 0).all():
            fig.update_yaxes(type="log", **where)
        if fit.until is not None:
            fig.add_vline(x=fit.until, line={"color": "#555555", "dash": "dash"}, **where)
    return _finish(fig, "calibration: fitted against observed", max(1, math.ceil(len(names) / 2)))


def leverage_figure(frame: pd.DataFrame, *, outcome: str, top: int = 12) -> go.Figure:
    """The parameters with the largest elasticity of the outcome, as horizontal bars."""
    import plotly.graph_objects as go

    head = frame.dropna(subset=["elasticity"]).head(top).iloc[::-1]
    colours = [R_COLOUR if v > 0 else B_COLOUR for v in head["elasticity"]]
    fig = go.Figure(
        go.Bar(
            x=head["elasticity"],
            y=[_words(p) for p in head["parameter"]],
            orientation="h",
            marker={"color": colours},
            hovertemplate="%{y}: %{x:+.3f}<extra></extra>",
        )
    )
    fig.update_xaxes(title=f"elasticity of {_words(outcome)} (% change per 1% change)")
    fig = _finish(fig, f"leverage on {_words(outcome)}", 1, height=28 * len(head) + 60)
    fig.update_layout(hovermode="closest", margin={"l": 220})
    return fig


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
    return _finish(fig, "", 1, height=200)


def to_csv(result: xr.Dataset, variables: Sequence[str], run: int = 0) -> str:
    """The shown variables of one run as CSV text: a time column, one column per element."""
    import pandas as pd

    frame: dict[str, Any] = {"time": np.asarray(result["time"].values, dtype=float)}
    for variable in variables:
        if variable in result:
            for label, values in element_lines(result[variable], run):
                frame[f"{variable}[{label}]" if label else variable] = values
    return str(pd.DataFrame(frame).to_csv(index=False))
