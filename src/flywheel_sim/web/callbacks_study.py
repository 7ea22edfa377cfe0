"""The dashboard's analysis tabs: the causal-loop diagram and loop dominance, scenario
comparison, Monte Carlo fans, the calibration fit and the flywheel diagnostics.

Monte Carlo, calibration and diagnostics run as background jobs (:mod:`.jobs`); the page
polls their progress. The other views are computed when their tab is open.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from dash import Dash, Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from flywheel_sim.errors import Cancelled, ModelError
from flywheel_sim.present import figures, figures_study
from flywheel_sim.present.analyses import outcome_variables, scenario_series
from flywheel_sim.present.diagram import cytoscape as diagram
from flywheel_sim.present.uncertainty import monte_carlo
from flywheel_sim.web.callbacks import PARAMS, chosen, plain
from flywheel_sim.web.jobs import Jobs, Work

if TYPE_CHECKING:
    from flywheel_sim.engine.simulate import Options
    from flywheel_sim.web.jobs import Progress
    from flywheel_sim.web.session import Entry, Registry


def diagram_elements(entry: Entry) -> tuple[list[dict[str, Any]], Any]:
    """The diagram's elements and layout (None when the model names no loops: then the causal
    graph, at the modeller's positions when the model has a layout)."""
    try:
        layout = entry.layout
    except ModelError:
        drawn = entry.model.layout
        positions = drawn.positions() if drawn else None
        return diagram.graph_elements(entry.search, positions), None
    return diagram.layout_elements(layout, entry.search), layout


def loop_options(entry: Entry, dominance: Any) -> list[dict[str, str]]:
    named = [loop for loop in entry.search.loops if loop.name]
    options = [{"label": f"{lp.id} ({lp.polarity}) {lp.name}", "value": lp.id} for lp in named]
    top = figures_study.top_loops(dominance, 8)
    seen = {o["value"] for o in options}
    options += [
        {"label": figures_study.loop_label(dominance, t), "value": t} for t in top if t not in seen
    ]
    return options


def loop_view(entry: Entry, dominance: Any, loop_id: str, at: float | None) -> Any:
    """The diagram's stylesheet with a loop highlighted, and its dominance curve: a model
    loop's every instance in an arrayed model (R2 → R2[a], R2[b]), or one instance loop."""
    ids = [str(x) for x in dominance["loop"].values if loop_id in (str(x), str(x).split("[")[0])]
    loop = diagram.loop_of(entry.search, loop_id)
    title = f"dominance of {loop_id}" + (f" ({loop.name})" if loop and loop.name else "")
    _, layout = diagram_elements(entry)
    share = diagram.path_share(dominance, layout, loop_id) if layout is not None else None
    fig = figures_study.loop_figure(dominance, ids, share=share, at=at, title=title)
    return diagram.stylesheet(loop), fig


def register_loops(app: Dash, registry: Registry) -> None:
    @app.callback(
        Output("diagram-time", "min"),
        Output("diagram-time", "max"),
        Output("diagram-time", "value"),
        Output("diagram-time", "marks"),
        Input("model", "value"),
    )
    def times(key: str) -> tuple[Any, ...]:
        try:
            time = registry.get(key).model.time
        except Exception:
            raise PreventUpdate from None
        span = time.stop - time.start
        step = next(
            s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, math.inf) if span / s <= 10
        )
        first = math.ceil(time.start / step) * step if math.isfinite(step) else time.start
        marks = {float(t): f"{t:g}" for t in np.arange(first, time.stop + 1e-9, step)}
        return time.start, time.stop, time.start + 0.6 * span, marks

    @app.callback(
        Output("diagram", "elements"),
        Output("dominant-note", "children"),
        Output("dominance-chart", "figure"),
        Output("loop-pick", "options"),
        Input("loops-params", "data"),
        Input("diagram-time", "value"),
        State("tabs", "value"),
    )
    def loops(params: Any, at: float, tab: str) -> Any:
        if tab != "loops" or at is None:
            raise PreventUpdate
        key, values = chosen(params)
        try:
            entry = registry.get(key)
            dominance = entry.dominance(values)
            elements, layout = diagram_elements(entry)
            elements = diagram.coloured(elements, layout, dominance, at)
            from flywheel_sim.present.diagram.text import dominant_note

            note = dominant_note(dominance, at)
            if layout is None:
                note += " · the model names no loops, so its whole causal graph is drawn"
            chart = figures_study.dominance_figure(dominance, at=at)
            return elements, note, chart, loop_options(entry, dominance)
        except Exception as exc:
            return [], plain(exc), no_update, []

    @app.callback(
        Output("loop-pick", "value"),
        Input("diagram", "tapNodeData"),
        prevent_initial_call=True,
    )
    def tap(node: dict[str, Any] | None) -> str:
        if not node or not node.get("loop"):
            raise PreventUpdate
        return str(node["loop"])

    @app.callback(
        Output("diagram", "stylesheet"),
        Output("loop-curve", "figure"),
        Input("loop-pick", "value"),
        Input("diagram", "elements"),
        PARAMS,
        State("diagram-time", "value"),
    )
    def pick(loop_id: str | None, _: Any, params: Any, at: float) -> Any:
        if not loop_id:
            return diagram.stylesheet(), figures.empty("click a loop to see its dominance curve")
        key, values = chosen(params)
        try:
            entry = registry.get(key)
            dominance = entry.dominance(values)
        except Exception as exc:
            return diagram.stylesheet(), figures.empty(plain(exc))
        return loop_view(entry, dominance, loop_id, at)


def register_scenarios(app: Dash, registry: Registry) -> None:
    @app.callback(
        Output("scenario-pick", "options"),
        Output("scenario-pick", "value"),
        Input("model", "value"),
    )
    def options(key: str) -> tuple[Any, ...]:
        try:
            study = registry.get(key).study
        except Exception:
            raise PreventUpdate from None
        names = ["baseline", *(n for n in study.scenarios if n != "baseline")]
        changing = [n for n, sc in study.scenarios.items() if sc.values or sc.policies]
        picked = ["baseline", *changing[:2]]
        return [{"label": n, "value": n} for n in names], picked

    @app.callback(
        Output("compare-chart", "figure"),
        Output("scenario-notes", "children"),
        Input("scenarios-params", "data"),
        Input("scenario-pick", "value"),
        State("tabs", "value"),
    )
    def compare(params: Any, names: list[str], tab: str) -> Any:
        if tab != "scenarios" or not names:
            raise PreventUpdate
        key, values = chosen(params)
        try:
            entry = registry.get(key)
            return compare_scenarios(entry, names, values)
        except Exception as exc:
            return no_update, plain(exc)


def compare_scenarios(entry: Entry, names: list[str], base: dict[str, float]) -> Any:
    """The chosen scenarios run on top of ``base`` values: (figure, notes)."""
    variables = outcome_variables(entry.model, entry.study)
    deadline = entry.budgets.run_deadline("the scenario runs")
    try:
        series = scenario_series(
            entry.model, entry.study, names, base, variables, entry.options(deadline)
        )
    except Cancelled:
        raise Cancelled(deadline.message()) from None
    notes = [
        html.Li([html.B(name), f": {entry.study.scenario(name).description}"]) for name in names
    ]
    units = {v: entry.model.element(v).unit for v in variables}
    fig = figures_study.compare_figure(series, units=units, title=f"{entry.model.name}: scenarios")
    text = "Every scenario starts from the sliders' values."
    return fig, [html.P(text), html.Ul(notes)]


def _job_callbacks(
    app: Dash,
    jobs: Jobs,
    prefix: str,
    start: Callable[..., Work],
    states: list[State],
    render: Callable[[Any], tuple[Any, ...]],
    outputs: list[Output],
) -> None:
    """Start a job on the button, poll it, then render its result into ``outputs``."""
    blank = tuple(no_update for _ in outputs)

    @app.callback(
        Output(f"{prefix}-job", "data"),
        Output(f"{prefix}-poll", "disabled"),
        Output(f"{prefix}-status", "children"),
        Input(f"{prefix}-run", "n_clicks"),
        *states,
        prevent_initial_call=True,
    )
    def begin(_: int, *args: Any) -> tuple[Any, ...]:
        try:
            job = jobs.start(prefix, start(*args))
        except PreventUpdate:
            raise
        except Exception as exc:
            return no_update, True, plain(exc)
        return job.id, False, "started…"

    @app.callback(
        Output(f"{prefix}-status", "children", allow_duplicate=True),
        Input(f"{prefix}-stop", "n_clicks"),
        State(f"{prefix}-job", "data"),
        prevent_initial_call=True,
    )
    def stop(_: int, job_id: str | None) -> Any:
        return "stopping…" if jobs.cancel(job_id) else no_update

    @app.callback(
        Output(f"{prefix}-bar", "style"),
        Output(f"{prefix}-status", "children", allow_duplicate=True),
        Output(f"{prefix}-poll", "disabled", allow_duplicate=True),
        *outputs,
        Input(f"{prefix}-poll", "n_intervals"),
        State(f"{prefix}-job", "data"),
        prevent_initial_call=True,
    )
    def poll(_: int, job_id: str | None) -> tuple[Any, ...]:
        job = jobs.get(job_id)
        if job is None:
            return {"width": "0%"}, "", True, *blank
        if not job.finished:
            share = f"{job.fraction:.0%}" if job.total else "running"
            text = f"{share} · {job.elapsed:.1f} s" + (
                f" · {job.done} of {job.total}" if job.total else ""
            )
            width = f"{100 * job.fraction:.0f}%" if job.total else "100%"
            return {"width": width, "opacity": 1 if job.total else 0.35}, text, False, *blank
        if job.error is not None:
            return {"width": "0%"}, job.error, True, *blank
        try:
            shown = render(job.result)
        except Exception as exc:
            return {"width": "0%"}, plain(exc), True, *blank
        return {"width": "100%"}, f"done in {job.elapsed:.1f} s", True, *shown


def register_jobs(app: Dash, registry: Registry, jobs: Jobs) -> None:
    def monte(n: int | None, params: Any) -> Any:
        key, fixed = chosen(params)
        entry = registry.get(key)
        if not entry.study.uncertainty:
            raise ModelError(
                f"model '{entry.model.name}' declares no parameter uncertainty",
                hint="add an uncertainty: section to its scenario file (docs/model-format.md)",
            )
        samples = int(n or 200)
        if not 10 <= samples <= 5000:
            raise ModelError(f"runs must be between 10 and 5000, not {samples}")
        variables = outcome_variables(entry.model, entry.study)

        def work(progress: Progress, options: Options) -> Any:
            times, bands, failed = monte_carlo(
                entry.model,
                entry.study.uncertainty,
                variables,
                samples=samples,
                fixed=fixed,
                progress=progress,
                options=options,
            )
            units = {v: entry.model.element(v).unit for v in variables}
            title = f"{entry.model.name}: {samples} runs (Latin hypercube)"
            return figures_study.fan_figure(times, bands, units=units, title=title), failed

        return work

    def show_fan(result: Any) -> tuple[Any, ...]:
        fig, failed = result
        return fig, (f"{failed} run(s) failed and are left out" if failed else "")

    _job_callbacks(
        app,
        jobs,
        "mc",
        monte,
        [State("mc-samples", "value"), PARAMS],
        show_fan,
        [Output("fan-chart", "figure"), Output("mc-notes", "children")],
    )
    from flywheel_sim.web.callbacks_fit import register_fit

    register_fit(app, registry, jobs, _job_callbacks)
