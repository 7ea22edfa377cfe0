"""The dashboard's core callbacks: choosing or uploading a model, the sliders, the chart of
the chosen variables, and the PNG/SVG/CSV downloads (done in the browser).

Every error a user can cause is shown in the page as one plain line; the server keeps serving.
Every run has the dashboard's time and size budget (:mod:`.budgets`); uploads belong to the
page's session (the ``session`` store: a random id, kept in a session cookie across reloads).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from flywheel_sim.errors import Cancelled, FlywheelError
from flywheel_sim.present.analyses import default_variables
from flywheel_sim.web.layout import model_options, sliders
from flywheel_sim.web.session import SUFFIXES

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.web.session import Entry, Registry

LOG = logging.getLogger("flywheel_sim.web")
SLIDERS = Input({"type": "param", "key": ALL}, "value")
SLIDER_IDS = State({"type": "param", "key": ALL}, "id")
PARAMS = State("params", "data")  # {"model": key, "values": the changed parameter values}
SESSION = State("session", "data")  # this page's random session id (its uploads)


def chosen(params: Mapping[str, Any] | None) -> tuple[str, dict[str, float]]:
    """The model key and changed parameter values of the ``params`` store."""
    if not params or not params.get("model"):
        raise PreventUpdate
    return str(params["model"]), {str(k): float(v) for k, v in params["values"].items()}


def positions(values: Sequence[float | None], ids: Sequence[Mapping[str, str]]) -> dict[str, float]:
    """Slider positions by parameter key (the pattern-matching inputs, zipped)."""
    return {i["key"]: float(v) for v, i in zip(values, ids, strict=False) if v is not None}


def run(entry: Entry, values: dict[str, float], variables: list[str] | None = None) -> xr.Dataset:
    """One simulation of the entry's model with the given parameter values, within the
    dashboard's live-run budget (Cancelled saying so when it is spent)."""
    from flywheel_sim.engine.simulate import simulate

    deadline = entry.budgets.run_deadline()
    try:
        return simulate(
            entry.program, values or None, variables=variables, options=entry.options(deadline)
        )
    except Cancelled:
        raise Cancelled(deadline.message()) from None


def receive(
    registry: Registry,
    contents: str | list[str] | None,
    filename: str | list[str] | None,
    session: str | None,
) -> tuple[Any, ...]:
    """What the upload callback answers: (model options, chosen model, error text, error
    hidden). An upload is one model file, or several files: one model and the data files it
    reads. A refused upload leaves the model as it was and says why in the error banner."""
    if not contents:
        raise PreventUpdate
    texts = contents if isinstance(contents, list) else [contents]
    names = filename if isinstance(filename, list) else [filename or "model.yaml"]
    names = [n or "model.yaml" for n in names][: len(texts)]
    names += ["data"] * (len(texts) - len(names))
    files = []
    for text, name in zip(texts, names, strict=True):
        try:
            files.append((name, base64.b64decode(text.partition(",")[2], validate=True)))
        except (binascii.Error, ValueError, AttributeError):
            return no_update, no_update, f"{name}: the upload arrived damaged", False
    models = (
        [f for f in files if Path(f[0]).suffix.lower() in SUFFIXES] if len(files) > 1 else files
    )
    if len(models) != 1:
        listed = ", ".join(names)[:200]
        return no_update, no_update, (
            f"could not load {listed}: an upload is one model file ({', '.join(SUFFIXES)}) "
            f"with the data files it reads, and this one has {len(models)}"
        ), False  # fmt: skip
    name, data = models[0]
    others = [f for f in files if f is not models[0]]
    try:
        entry = registry.upload(name, data, session=str(session or ""), files=others)
    except MemoryError:
        return no_update, no_update, f"could not load {name}: it needs too much memory", False
    except Exception as exc:
        return no_update, no_update, f"could not load {name}: {plain(exc)}", False
    return model_options(registry.uploads(str(session or ""))), entry.key, "", True


def plain(exc: BaseException) -> str:
    """What to tell the user about an exception: ours verbatim, anything else briefly."""
    if isinstance(exc, FlywheelError):
        return str(exc)
    LOG.exception("unexpected error in a dashboard callback")
    return f"something went wrong ({type(exc).__name__}); the details are in the server log"


def register(app: Dash, registry: Registry) -> None:
    """Attach the core callbacks to ``app``."""

    @app.callback(
        Output("model", "options"),
        Output("model", "value"),
        Output("error", "children", allow_duplicate=True),
        Output("error", "hidden", allow_duplicate=True),
        Input("upload", "contents"),
        State("upload", "filename"),
        SESSION,
        prevent_initial_call=True,
    )
    def upload(
        contents: str | list[str] | None, filename: str | list[str] | None, session: str | None
    ) -> Any:
        return receive(registry, contents, filename, session)

    @app.callback(
        Output("sliders", "children"),
        Output("variables", "options"),
        Output("variables", "value"),
        Output("model-info", "children"),
        Output("error", "children"),
        Output("error", "hidden"),
        Input("model", "value"),
    )
    def choose(key: str) -> tuple[Any, ...]:
        try:
            entry = registry.get(key)
        except Exception as exc:
            return [], [], [], "", plain(exc), False
        options = [
            {"label": f"{v.name} ({v.kind})", "value": v.key}
            for v in entry.program.variables
            if v.kind != "lookup"
        ]
        model = entry.model
        first = model.description.strip().split(". ")[0].rstrip(".") if model.description else ""
        info = f"{model.name}: {first}. " if first else f"{model.name}. "
        count = len(entry.sliders)
        info += f"{count} parameter{'s' if count != 1 else ''} · "
        info += f"{model.time.start:g}–{model.time.stop:g}"
        return sliders(entry), options, default_variables(entry.model), info, "", True

    @app.callback(
        Output("chart", "figure"),
        Output("run-status", "children"),
        Output("chart-shows", "data"),
        Output("params", "data"),
        SLIDERS,
        Input("variables", "value"),
        SLIDER_IDS,
        State("model", "value"),
        State("chart-shows", "data"),
    )
    def redraw(
        values: list[float], variables: list[str], ids: list[Any], key: str, shows: Any
    ) -> Any:
        if not variables:
            raise PreventUpdate
        try:
            entry = registry.get(key)
            params = entry.values(positions(values, ids))
            result = run(entry, params)
            chosen = tuple(v for v in variables if v in result)
            chart = entry.chart(chosen)
        except Exception as exc:
            return no_update, plain(exc), no_update, no_update
        status = str(result["status"].values[0])
        note = f"{len(params)} parameter(s) changed from the defaults" if params else "defaults"
        if status != "ok":
            where = result["failed_variable"].values[0], float(result["failed_time"].values[0])
            note += f" — the run failed: {where[0]} is not finite at t = {where[1]:g}"
        now = [key, *chosen]
        state = {"model": key, "values": params}
        if shows == now:  # the chart already shows these panels: send only the new values
            return chart.patch(result), note, no_update, state
        return chart.render(result), note, now, state

    @app.callback(
        Output({"type": "param", "key": ALL}, "value"),
        Input("param-reset", "n_clicks"),
        SLIDER_IDS,
        State("model", "value"),
        prevent_initial_call=True,
    )
    def reset(_: int, ids: list[Any], key: str) -> list[float]:
        entry = registry.get(key)
        specs = {s.key: s for s in entry.sliders}
        return [specs[i["key"]].to_position(specs[i["key"]].default) for i in ids]

    for tab in ("loops", "scenarios"):  # their views follow the sliders only while open
        app.clientside_callback(  # type: ignore[no-untyped-call]
            f"(params, tab) => tab === '{tab}' ? params : window.dash_clientside.no_update",
            Output(f"{tab}-params", "data"),
            Input("params", "data"),
            Input("tabs", "value"),
        )
    app.clientside_callback(  # type: ignore[no-untyped-call]
        ClientsideFunction("flywheel", "sliderValue"),
        Output({"type": "param-value", "key": MATCH}, "children"),
        Input({"type": "param", "key": MATCH}, "value"),
        State({"type": "param", "key": MATCH}, "className"),
    )
    app.clientside_callback(  # type: ignore[no-untyped-call]
        ClientsideFunction("flywheel", "filterSliders"),
        Output({"type": "param-box", "key": ALL}, "style"),
        Input("param-filter", "value"),
        State({"type": "param-box", "key": ALL}, "id"),
    )
    app.clientside_callback(  # type: ignore[no-untyped-call]
        ClientsideFunction("flywheel", "downloadImage"),
        Output("image-sink", "children"),
        Input({"type": "png", "graph": ALL}, "n_clicks"),
        Input({"type": "svg", "graph": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(  # type: ignore[no-untyped-call]
        ClientsideFunction("flywheel", "downloadCsv"),
        Output("download", "data"),
        Input({"type": "csv", "graph": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
