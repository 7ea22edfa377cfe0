"""The calibration and diagnostics tabs: both run as background jobs with progress.

Calibration calls the public :func:`flywheel_sim.calibrate` with a small population and few
generations by default (the page can raise both), with the sliders' values for every parameter
that is not fitted. Diagnostics are the model's declared questions (its ``diagnostics:``
section): take-off, the critical push, coasting and the leverage ranking, shown as cards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dash import Dash, Input, Output, State, html

from flywheel_sim.diagnostics import Diagnosis, diagnose
from flywheel_sim.present import figures, figures_study
from flywheel_sim.present.analyses import (
    card_texts,
    check_fit,
    fit_parameters,
    fit_summary,
    quick_fit,
)
from flywheel_sim.web.callbacks import PARAMS, chosen
from flywheel_sim.web.jobs import Jobs, Progress, Work

if TYPE_CHECKING:
    from flywheel_sim.engine.simulate import Options
    from flywheel_sim.studies.calibration import Calibration
    from flywheel_sim.web.session import Registry


def calibration_summary(fit: Calibration) -> html.Div:
    """Fitted values with their 95% intervals, the fit metrics and any warnings."""
    line, rows = fit_summary(fit)
    head = html.Tr([html.Th(t) for t in ("parameter", "fitted", "95% interval", "was")])
    body = [html.Tr([html.Td(c) for c in row]) for row in rows]
    warnings = [html.P(w, className="warn") for w in fit.warnings]
    table = html.Table([html.Thead(head), html.Tbody(body)], className="simple")
    return html.Div([html.P(line), table, *warnings])


def cards(found: Diagnosis) -> list[html.Div]:
    """The diagnostics as readable cards."""
    return [
        html.Div([html.H3(title), html.Div(big, className="big"), html.P(text)], className="card")
        for title, big, text in card_texts(found)
    ]


def register_fit(
    app: Dash, registry: Registry, jobs: Jobs, job_callbacks: Callable[..., None]
) -> None:
    @app.callback(
        Output("cal-params", "options"),
        Output("cal-params", "value"),
        Input("model", "value"),
    )
    def options(key: str) -> tuple[Any, ...]:
        try:
            entry = registry.get(key)
        except Exception:
            return [], []
        names = [s.key for s in entry.sliders if "[" not in s.key]
        chosen = fit_parameters(entry.model, entry.study)
        return [{"label": n.replace("_", " "), "value": n} for n in names], chosen

    def fit(names: list[str], popsize: int | None, maxiter: int | None, params: Any) -> Work:
        key, fixed = chosen(params)
        entry = registry.get(key)
        pop, gens = max(2, min(int(popsize or 6), 40)), max(1, min(int(maxiter or 15), 500))
        check_fit(entry.model, names or [])  # say what is missing before starting a job

        def work(progress: Progress, options: Options) -> Any:
            result = quick_fit(
                entry.model, names, fixed=fixed, popsize=pop, maxiter=gens, options=options
            )
            units = {s.variable: entry.model.element(s.variable).unit for s in result.series}
            return figures_study.calibration_figure(result, units=units), calibration_summary(
                result
            )

        return work

    job_callbacks(
        app,
        jobs,
        "cal",
        fit,
        [
            State("cal-params", "value"),
            State("cal-popsize", "value"),
            State("cal-maxiter", "value"),
            PARAMS,
        ],
        lambda result: result,
        [Output("cal-chart", "figure"), Output("cal-summary", "children")],
    )

    def start(params: Any) -> Work:
        key, values = chosen(params)
        model = registry.get(key).model
        return lambda progress, options: diagnose(model, values, progress=progress, options=options)

    def show(found: Diagnosis) -> tuple[Any, ...]:
        chart = (
            figures_study.leverage_figure(found.leverage, outcome=found.outcome)
            if found.leverage is not None
            else figures.empty("no leverage outcome declared")
        )
        return cards(found), chart

    job_callbacks(
        app,
        jobs,
        "dx",
        start,
        [PARAMS],
        show,
        [Output("dx-cards", "children"), Output("leverage-chart", "figure")],
    )
