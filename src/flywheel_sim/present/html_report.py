"""``flywheel report``: one self-contained HTML file about a model.

The file carries plotly.js inline and every chart as data, and the causal-loop diagram as
inline SVG, so it opens offline, can be mailed, and shows the same views as the dashboard:
the diagram coloured by loop dominance, behaviour against history, dominance over time, the
diagnostics, the scenarios, Monte Carlo bands, a calibration fit and the model's
documentation with the seed sentence behind every causal link.

A section that cannot be computed for a model (no history to fit, no scenario file, no named
loops) says why instead of failing the report. Sizes are capped by :class:`ReportOptions`
so the report builds in seconds; raise them for a more thorough one.
"""

from __future__ import annotations

import html
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flywheel_sim.errors import FlywheelError, ModelError
from flywheel_sim.io.models import load_model
from flywheel_sim.io.results import atomic_path
from flywheel_sim.present import analyses, figures, figures_study
from flywheel_sim.present.html_page import PAGE, documentation, key_figures, table
from flywheel_sim.studies.scenarios import load_study

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from flywheel_sim.spec.model import Model
    from flywheel_sim.studies.scenarios import Study


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What the report computes. The defaults keep it to seconds on a laptop."""

    at: float | None = None  # diagram coloured by dominance at this time (default: 60% in)
    samples: int = 200  # Monte Carlo runs
    fit: tuple[str, ...] | None = None  # parameters to calibrate (default: 3 uncertain ones)
    popsize: int = 6  # calibration population per parameter
    maxiter: int = 15  # calibration generations
    calibrate: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if not 10 <= self.samples <= 100_000:
            raise ModelError(f"report samples must be between 10 and 100000, not {self.samples}")
        if self.popsize < 2 or self.maxiter < 1:
            raise ModelError("report calibration needs popsize ≥ 2 and maxiter ≥ 1")


class _Builder:
    """Collects the report's sections; each failing section becomes a note, not a crash."""

    def __init__(self, progress: Callable[[str], None] | None) -> None:
        self.sections: list[tuple[str, str, str]] = []  # id, title, html
        self.progress = progress or (lambda _: None)
        self.timings: dict[str, float] = {}

    def add(self, key: str, title: str, make: Callable[[], str]) -> None:
        self.progress(title)
        start = time.perf_counter()
        try:
            body = make()
        except FlywheelError as exc:
            body = f'<p class="missing">Not available for this model: {html.escape(str(exc))}</p>'
        self.timings[key] = time.perf_counter() - start
        self.sections.append((key, title, body))


def _chart(fig: go.Figure) -> str:
    config = {"displaylogo": False, "toImageButtonOptions": {"format": "svg"}}
    return str(fig.to_html(full_html=False, include_plotlyjs=False, config=config))


def _diagram(model: Model, at: float) -> str:
    from flywheel_sim.loops import find_loops, search_dominance
    from flywheel_sim.present.diagram.draw import draw_diagram

    search = find_loops(model)
    dominance = search_dominance(model, search)
    with tempfile.TemporaryDirectory() as folder:
        path = draw_diagram(model, search, Path(folder) / "diagram.svg", dominance=dominance, at=at)
        svg = path.read_text(encoding="utf-8")
    svg = svg[svg.index("<svg") :]
    note = (
        f"Chips are shaded by the share of loop activity that passes through them at {at:g} "
        "(Loops That Matter); the core loop is the circle."
        if not model.layout
        else f"The model as its modeller drew it; each link is as wide as the share of loop "
        f"activity through it at {at:g} (Loops That Matter)."
    )
    return f'<div class="diagram">{svg}</div><p class="note">{html.escape(note)}</p>'


def _behaviour(model: Model, result: Any) -> str:
    fig = figures.variables_figure(model, result, analyses.default_variables(model, 8))
    return _chart(fig) + key_figures(model, result)


def _dominance(model: Model) -> str:
    from flywheel_sim.loops import dominance_periods, find_loops, search_dominance

    data = search_dominance(model, find_loops(model))
    merged: list[list[Any]] = []  # periods with the same strongest loop, joined
    for start, end, label in dominance_periods(data):
        first = label.split("+")[0] if label else ""
        if merged and merged[-1][2] == first:
            merged[-1][1] = end
        else:
            merged.append([start, end, first])
    rows = [
        (f"{start:g}–{end:g}", figures_study.loop_label(data, first) if first else "no loop active")
        for start, end, first in merged
    ]
    note = (
        "<p class='note'>Periods in which the same loop explains most of the behaviour (the "
        "first of the dominant loops; Loops That Matter).</p>"
    )
    chart = _chart(figures_study.dominance_figure(data))
    return chart + note + table(("period", "strongest loop"), rows[:40])


def _diagnostics(model: Model) -> str:
    from flywheel_sim.diagnostics import diagnose

    found = diagnose(model)
    cards = "".join(
        f'<div class="card"><h3>{html.escape(t)}</h3><div class="big">{html.escape(b)}</div>'
        f"<p>{html.escape(x)}</p></div>"
        for t, b, x in analyses.card_texts(found)
    )
    chart = ""
    if found.leverage is not None:
        chart = _chart(figures_study.leverage_figure(found.leverage, outcome=found.outcome))
    return f'<div class="cards">{cards}</div>{chart}'


def _tests(model: Model, study: Study) -> str:
    from flywheel_sim.present.validation import SHOWN
    from flywheel_sim.validation.suite import test_model

    report = test_model(model, study=study)
    verdict = (
        "passes every test" if report.ok else "fails: " + ", ".join(r.test for r in report.failed)
    )
    rows = [(r.test, r.status.upper(), r.summary) for r in report.results]
    findings = [
        (r.test, str(f)) for r in report.results if r.status != "pass" for f in r.findings[:SHOWN]
    ]
    note = (
        "<p class='note'>The reviewer's tests (Sterman, Business Dynamics ch. 21): units, "
        "extreme conditions, integration error, reality checks and loop sanity; "
        "<code>flywheel test</code> prints the same.</p>"
    )
    out = f"<p>{html.escape(model.name)} {html.escape(verdict)}.</p>{note}"
    out += table(("test", "result", "found"), rows)
    if findings:
        out += table(("test", "finding"), findings)
    return out


def _scenarios(model: Model, study: Study) -> str:
    if not study.scenarios:
        raise ModelError(f"model '{model.name}' has no scenario file with scenarios")
    names = ["baseline", *(n for n in study.scenarios if n != "baseline")]
    variables = analyses.outcome_variables(model, study)
    series = analyses.scenario_series(model, study, names, {}, variables)
    units = {v: model.element(v).unit for v in variables}
    fig = figures_study.compare_figure(series, units=units, title=f"{model.name}: scenarios")
    rows = [(n, study.scenario(n).description) for n in names]
    return table(("scenario", "what changes"), rows) + _chart(fig)


def _uncertainty(model: Model, study: Study, options: ReportOptions) -> str:
    from flywheel_sim.present.uncertainty import monte_carlo

    if not study.uncertainty:
        raise ModelError(f"model '{model.name}' declares no parameter uncertainty")
    variables = analyses.outcome_variables(model, study)
    times, bands, failed = monte_carlo(
        model, study.uncertainty, variables, samples=options.samples, fixed={}, seed=options.seed
    )
    units = {v: model.element(v).unit for v in variables}
    title = f"{model.name}: {options.samples} runs (Latin hypercube)"
    rows = [(n, d.describe()) for n, d in study.uncertainty.items()]
    note = f"<p class='note'>{failed} run(s) failed and are left out.</p>" if failed else ""
    fig = figures_study.fan_figure(times, bands, units=units, title=title)
    return _chart(fig) + note + table(("parameter", "distribution"), rows)


def _calibration(model: Model, study: Study, options: ReportOptions) -> str:
    if not options.calibrate:
        raise ModelError("calibration was switched off (--no-calibrate)")
    names = list(options.fit) if options.fit else analyses.fit_parameters(model, study)
    fit = analyses.quick_fit(
        model, names, fixed={}, popsize=options.popsize, maxiter=options.maxiter
    )
    line, rows = analyses.fit_summary(fit)
    units = {s.variable: model.element(s.variable).unit for s in fit.series}
    settings = (
        f"A quick fit (population {options.popsize} per parameter, at most {options.maxiter} "
        "generations); `flywheel calibrate` runs the full search."
    )
    warnings = "".join(f"<p class='warn'>{html.escape(w)}</p>" for w in fit.warnings)
    return (
        f"<p>{html.escape(line)}</p><p class='note'>{html.escape(settings)}</p>"
        + table(("parameter", "fitted", "95% interval", "default"), rows)
        + warnings
        + _chart(figures_study.calibration_figure(fit, units=units))
    )


def build_report(
    source: str | Path,
    options: ReportOptions | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> tuple[str, dict[str, float]]:
    """The report of a model (file or built-in name) as HTML text, and seconds per section."""
    from plotly.offline import get_plotlyjs

    from flywheel_sim.engine.simulate import simulate

    options = options or ReportOptions()
    model = load_model(source)
    study = load_study(source, model)
    result = simulate(model)
    span = model.time.stop - model.time.start
    at = options.at if options.at is not None else model.time.start + 0.6 * span
    build = _Builder(progress)
    build.add("diagram", "The flywheel", lambda: _diagram(model, at))
    build.add("behaviour", "Behaviour over time", lambda: _behaviour(model, result))
    build.add("dominance", "Loop dominance", lambda: _dominance(model))
    build.add("diagnostics", "Diagnostics", lambda: _diagnostics(model))
    build.add("tests", "Model tests", lambda: _tests(model, study))
    build.add("scenarios", "Scenarios", lambda: _scenarios(model, study))
    build.add("uncertainty", "Uncertainty", lambda: _uncertainty(model, study, options))
    build.add("calibration", "Calibration", lambda: _calibration(model, study, options))
    build.add("model", "The model", lambda: documentation(model))
    from flywheel_sim.version import __version__

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join(
        f'<section id="{key}"><h2>{html.escape(title)}</h2>{content}</section>'
        for key, title, content in build.sections
    )
    toc = "".join(f'<a href="#{k}">{html.escape(t)}</a>' for k, t, _ in build.sections)
    page = PAGE.substitute(
        title=html.escape(f"{model.name}: flywheel report"),
        plotly=get_plotlyjs(),
        description=html.escape(" ".join(model.description.split())),
        stamp=html.escape(f"flywheel-sim {__version__} · {stamp} · {model.file or model.name}"),
        toc=toc,
        body=body,
    )
    return page, build.timings


def write_report(
    source: str | Path,
    path: str | Path,
    options: ReportOptions | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the report of a model to ``path`` (atomically: a failed build leaves any old file)."""
    text, _ = build_report(source, options, progress=progress)
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o644)  # a report is for sharing (the temporary file starts private)
    return target


__all__ = ["ReportOptions", "build_report", "write_report"]
