"""The dashboard page: a model bar (pick or upload), parameter sliders on the left and tabs
for behaviour, loops, scenarios, uncertainty, calibration and diagnostics.

Pure functions building Dash components; the callbacks live in :mod:`.callbacks`.
"""

from __future__ import annotations

from typing import Any, cast

import dash_cytoscape as cyto
from dash import dcc, html

from flywheel_sim.io.models import builtin_models
from flywheel_sim.present.analyses import fmt
from flywheel_sim.present.diagram.cytoscape import stylesheet
from flywheel_sim.web.session import MAX_UPLOAD_BYTES, SUFFIXES, Entry, SliderSpec
from flywheel_sim.web.upload_files import DATA_SUFFIXES

GRAPH_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def slider(spec: SliderSpec) -> html.Div:
    lo, hi = spec.bounds
    note = " (range assumed: the model declares none)" if spec.assumed else ""
    return html.Div(
        [
            html.Div(
                [
                    html.Span(spec.label.replace("_", " "), className="param-name"),
                    html.Span(
                        fmt(spec.default),
                        id={"type": "param-value", "key": spec.key},
                        className="param-value",
                    ),
                ],
                className="param-head",
                title=f"{spec.description} [{spec.unit}] range {fmt(spec.low)}–{fmt(spec.high)}"
                + (", log scale" if spec.log else "")
                + note,
            ),
            dcc.Slider(
                id={"type": "param", "key": spec.key},
                min=lo,
                max=hi,
                step=spec.step,
                value=spec.to_position(spec.default),
                marks=None,
                allow_direct_input=False,
                updatemode="mouseup",
                className="log" if spec.log else "linear",
            ),
        ],
        className="param",
        id={"type": "param-box", "key": spec.key},
        **cast(Any, {"data-name": spec.label.lower()}),
    )


def sliders(entry: Entry) -> list[html.Div]:
    return [slider(s) for s in entry.sliders]


def model_options(uploads: list[Entry]) -> list[dict[str, str]]:
    return [{"label": n, "value": n} for n in builtin_models()] + [
        {"label": e.label, "value": e.key} for e in uploads
    ]


def chart(graph_id: str, *, csv: bool = True, **graph: Any) -> html.Div:
    """A graph with PNG, SVG (drawn in the browser by plotly.js) and CSV download buttons."""
    buttons = [
        html.Button("PNG", id={"type": "png", "graph": graph_id}, className="small"),
        html.Button("SVG", id={"type": "svg", "graph": graph_id}, className="small"),
    ]
    if csv:
        buttons.append(html.Button("CSV", id={"type": "csv", "graph": graph_id}, className="small"))
    return html.Div(
        [
            html.Div(buttons, className="downloads"),
            dcc.Graph(id=graph_id, config=cast(Any, GRAPH_CONFIG), **graph),
        ],
        className="chart",
    )


def _progress(prefix: str) -> list[Any]:
    return [
        html.Div(html.Div(className="bar-fill", id=f"{prefix}-bar"), className="bar"),
        html.Div(
            [
                html.Div(id=f"{prefix}-status", className="status"),
                html.Button("Stop", id=f"{prefix}-stop", className="small"),
            ],
            className="row",
        ),
        dcc.Interval(id=f"{prefix}-poll", interval=300, disabled=True),
        dcc.Store(id=f"{prefix}-job"),
    ]


def _number(label: str, id_: str, value: int, low: int, high: int) -> html.Label:
    return html.Label(
        [label, dcc.Input(id=id_, type="number", value=value, min=low, max=high, step=1)],
        className="inline",
    )


def tabs() -> dcc.Tabs:
    behaviour = dcc.Tab(
        label="Behaviour",
        value="behaviour",
        children=[
            html.Div(
                [
                    html.Label("Variables"),
                    dcc.Dropdown(id="variables", multi=True, placeholder="variables to chart"),
                ],
                className="row",
            ),
            html.Div(id="run-status", className="status"),
            dcc.Store(id="chart-shows"),
            chart("chart"),
        ],
    )
    loops = dcc.Tab(
        label="Loops",
        value="loops",
        children=[
            html.Div(
                [
                    html.Label("Time"),
                    html.Div(
                        dcc.Slider(id="diagram-time", step=None, marks=None), className="grow"
                    ),
                ],
                className="row",
            ),
            html.Div(id="dominant-note", className="note"),
            cyto.Cytoscape(
                id="diagram",
                elements=[],
                layout={"name": "preset", "fit": True},
                stylesheet=stylesheet(),
                style={"width": "100%", "height": "680px"},
                minZoom=0.2,
                maxZoom=3,
                autoungrabify=True,
            ),
            html.Div(
                [
                    html.Label("Loop"),
                    dcc.Dropdown(
                        id="loop-pick", clearable=True, placeholder="click a loop in the diagram"
                    ),
                ],
                className="row",
            ),
            chart("loop-curve"),
            chart("dominance-chart"),
        ],
    )
    scenarios = dcc.Tab(
        label="Scenarios",
        value="scenarios",
        children=[
            html.Div(
                [
                    html.Label("Scenarios"),
                    dcc.Checklist(id="scenario-pick", inline=True, className="checks"),
                ],
                className="row",
            ),
            html.Div(id="scenario-notes", className="note"),
            chart("compare-chart"),
        ],
    )
    uncertainty = dcc.Tab(
        label="Uncertainty",
        value="uncertainty",
        children=[
            html.Div(
                [
                    _number("Runs", "mc-samples", 200, 10, 5000),
                    html.Button("Run Monte Carlo", id="mc-run", className="primary"),
                ],
                className="row",
            ),
            html.Div(id="mc-notes", className="note"),
            *_progress("mc"),
            chart("fan-chart"),
        ],
    )
    calibration = dcc.Tab(
        label="Calibration",
        value="calibration",
        children=[
            html.Div(
                [
                    html.Label("Fit"),
                    dcc.Dropdown(id="cal-params", multi=True, className="time-slider"),
                ],
                className="row",
            ),
            html.Div(
                [
                    _number("Population", "cal-popsize", 6, 2, 40),
                    _number("Generations", "cal-maxiter", 15, 1, 500),
                    html.Button("Fit to history", id="cal-run", className="primary"),
                ],
                className="row",
            ),
            *_progress("cal"),
            html.Div(id="cal-summary"),
            chart("cal-chart", csv=False),
        ],
    )
    diagnostics = dcc.Tab(
        label="Diagnostics",
        value="diagnostics",
        children=[
            html.Div(html.Button("Diagnose", id="dx-run", className="primary"), className="row"),
            *_progress("dx"),
            html.Div(id="dx-cards", className="cards"),
            chart("leverage-chart", csv=False),
        ],
    )
    return dcc.Tabs(
        id="tabs",
        value="behaviour",
        children=[behaviour, loops, scenarios, uncertainty, calibration, diagnostics],
    )


def page(model: str, uploads: list[Entry], session: str = "") -> html.Div:
    """The page for one visit: ``session`` is the visit's random id, which its uploads carry
    (a reload starts a new session, with only the built-in models and the served files)."""
    upload = dcc.Upload(
        id="upload",
        children=html.Div(
            [
                "Upload a model: drop files or ",
                html.A("choose them"),
                " (YAML, XMILE or Vensim .mdl, with the data files it reads; ≤ 1 MB each)",
            ]
        ),
        className="upload",
        max_size=4 * MAX_UPLOAD_BYTES,  # larger files reach the server's one-line refusal
        accept=",".join((*SUFFIXES, *DATA_SUFFIXES)),
        multiple=True,  # a model and its data files together
    )
    header = html.Header(
        [
            html.H1("flywheel-sim"),
            html.Div(
                dcc.Dropdown(
                    id="model", options=model_options(uploads), value=model, clearable=False
                ),
                className="model-pick",
            ),
            upload,
            html.Div(id="model-info", className="model-info"),
        ]
    )
    side = html.Aside(
        [
            html.Div(
                [
                    dcc.Input(
                        id="param-filter",
                        type="search",
                        placeholder="filter parameters",
                        debounce=False,
                    ),
                    html.Button("Reset", id="param-reset", className="small"),
                ],
                className="side-head",
            ),
            html.Div(id="sliders", className="sliders"),
        ]
    )
    return html.Div(
        [
            header,
            html.Div(id="error", className="error", role="alert", hidden=True),
            html.Main([side, html.Section(tabs(), className="content")]),
            dcc.Download(id="download"),
            dcc.Store(id="session", data=session),
            dcc.Store(id="params"),
            dcc.Store(id="loops-params"),
            dcc.Store(id="scenarios-params"),
            html.Div(id="image-sink", hidden=True),
        ]
    )
