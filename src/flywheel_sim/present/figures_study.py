"""Plotly figures of the analyses, shared by the dashboard and the report: loop dominance,
one loop's curve, scenarios compared, percentile fans, the calibration fit and the leverage
ranking."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from flywheel_sim.present.figures import B_COLOUR, R_COLOUR, F, finish, subplots, words
from flywheel_sim.present.study import PALETTE, PERCENTILES

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go
    import xarray as xr

    from flywheel_sim.studies.calibration import Calibration


def top_loops(dominance: xr.Dataset, top: int, run: int = 0) -> list[str]:
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
        chain = [words(v) for v in str(item["loop_variables"].item()).split(" -> ")]
        name = " → ".join(chain[:3]) + (" → …" if len(chain) > 3 else "")
    return f"{loop} ({kind}) {words(name)}"


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

    chosen = list(loops) if loops is not None else top_loops(dominance, top, run)
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
    return finish(fig, title or "loop dominance (Loops That Matter)", 1, height=300)


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
    fig = subplots(
        [words(v) + (f" ({(units or {})[v]})" if (units or {}).get(v) else "") for v in variables]
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
    return finish(fig, title or "scenarios compared", max(1, math.ceil(len(variables) / cols)))


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
    fig = subplots(
        [words(v) + (f" ({(units or {})[v]})" if (units or {}).get(v) else "") for v in variables]
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
    return finish(fig, title or "uncertainty", max(1, math.ceil(len(variables) / cols)))


def calibration_figure(fit: Calibration, *, units: Mapping[str, str] | None = None) -> go.Figure:
    """Fitted against observed per series, with the 95% prediction band (log scale for
    positive series) and a line at the end of the fitted period."""
    import plotly.graph_objects as go

    names = [s.variable for s in fit.series]
    fig = subplots(
        [words(v) + (f" ({(units or {})[v]})" if (units or {}).get(v) else "") for v in names]
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
    return finish(fig, "calibration: fitted against observed", max(1, math.ceil(len(names) / 2)))


def leverage_figure(frame: pd.DataFrame, *, outcome: str, top: int = 12) -> go.Figure:
    """The parameters with the largest elasticity of the outcome, as horizontal bars."""
    import plotly.graph_objects as go

    head = frame.dropna(subset=["elasticity"]).head(top).iloc[::-1]
    colours = [R_COLOUR if v > 0 else B_COLOUR for v in head["elasticity"]]
    fig = go.Figure(
        go.Bar(
            x=head["elasticity"],
            y=[words(p) for p in head["parameter"]],
            orientation="h",
            marker={"color": colours},
            hovertemplate="%{y}: %{x:+.3f}<extra></extra>",
        )
    )
    fig.update_xaxes(title=f"elasticity of {words(outcome)} (% change per 1% change)")
    fig = finish(fig, f"leverage on {words(outcome)}", 1, height=28 * len(head) + 60)
    fig.update_layout(hovermode="closest", margin={"l": 220})
    return fig
