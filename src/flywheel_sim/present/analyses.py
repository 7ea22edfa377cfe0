"""The analyses the dashboard and the report show, as plain data (no Dash, no HTML): which
variables to chart, scenario runs, the words of the diagnostics' cards
(:func:`flywheel_sim.diagnostics.diagnose` computes them) and a quick calibration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.model import Model

if TYPE_CHECKING:
    from flywheel_sim.diagnostics import Diagnosis
    from flywheel_sim.engine.simulate import Options
    from flywheel_sim.studies.calibration import Calibration
    from flywheel_sim.studies.scenarios import Study

F = NDArray[np.float64]


def fmt(value: float) -> str:
    """A short, readable number."""
    if value == 0:
        return "0"
    if not np.isfinite(value):
        return "–"
    if abs(value) >= 1e5 or abs(value) < 1e-3:  # 2e+6, 1.5e-4 (as the page's sliders show)
        mantissa, exponent = f"{value:.2e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent):+d}"
    return f"{value:.4g}"


def default_variables(model: Model, limit: int = 6) -> list[str]:
    """Variables with history first, then the model's report chart (or its stocks)."""
    found = [s.variable for s in model.history.series] if model.history else []
    if model.report is not None:
        found += list(model.report.chart or model.report.variables)
    found += [e.key for e in model.of_kind("stock")]
    keys = {e.key for e in model.elements if e.kind not in ("lookup",)}
    return [v for v in dict.fromkeys(found) if v in keys][:limit]


def outcome_variables(model: Model, study: Study) -> list[str]:
    """The variables of the scenario file's outcomes (else the default chart variables)."""
    from flywheel_sim.studies.outcomes import parse_outcome

    found = [parse_outcome(o, model).variable for o in study.outcomes]
    return list(dict.fromkeys(found or default_variables(model)))[:6]


def scenario_series(
    model: Model,
    study: Study,
    names: list[str],
    base: dict[str, float],
    variables: list[str],
    options: Options | None = None,
) -> dict[str, dict[str, tuple[F, F]]]:
    """Each chosen scenario run on top of ``base`` values: scenario → variable → (t, y);
    ``options`` (limits, a cancel check) apply to every run."""
    from flywheel_sim.engine.simulate import Options, simulate

    out: dict[str, dict[str, tuple[F, F]]] = {}
    for name in names:
        applied, values = study.scenario(name).apply(model)
        result = simulate(
            applied, {**base, **values} or None, variables=variables, options=options or Options()
        )
        times = np.asarray(result["time"].values, dtype=float)
        out[name] = {}
        for variable in variables:
            data = result[variable]
            extra = [d for d in data.dims if d not in ("run", "time")]
            summed = data.sum(extra) if extra else data
            out[name][variable] = (times, np.asarray(summed.values[0], dtype=float))
    return out


def _words(name: str) -> str:
    return name.replace("_", " ")


def card_texts(found: Diagnosis) -> list[tuple[str, str, str]]:
    """Each diagnostic as (title, headline, explanation)."""
    out = []
    if found.takeoff is not None:
        when = found.takeoff.time
        out.append(
            (
                f"Take-off ({_words(found.takeoff.stock)})",
                f"{when:g}" if when is not None else "never",
                "when reinforcing loops first dominate and the stock grows faster and faster"
                if when is not None
                else "reinforcing loops never dominate with growth accelerating",
            )
        )
    if found.push is not None:
        push = found.push
        said = f"; now {fmt(found.push_default)}" if found.push_default is not None else ""
        out.append(
            (
                f"Critical push ({_words(push.parameter)})",
                fmt(push.value),
                f"the smallest push that makes {_words(push.stock)} take off (between "
                f"{fmt(push.low)} and {fmt(push.high)}){said}",
            )
        )
    if found.push_note is not None and found.asked.push is not None:
        out.append((f"Critical push ({_words(found.asked.push)})", "none", found.push_note))
    if found.coasting is not None:
        coast = found.coasting
        stopped = ", ".join(_words(n) for n, _ in coast.stopped)
        half = f"{coast.half_time:.3g} {found.units}" if coast.half_time is not None else "never"
        out.append(
            (
                f"Coasting from {coast.at:g}",
                f"growth halves after {half}",
                f"if {stopped} stop at {coast.at:g}; at the end {_words(coast.variable)} keeps "
                f"{coast.retained:.0%} of its value",
            )
        )
    if found.leverage is not None and len(found.leverage):
        top = found.leverage.iloc[0]
        out.append(
            (
                "Highest leverage",
                _words(str(top.parameter)),
                f"a 1% change moves {_words(found.outcome)} by {top.elasticity:+.2f}%",
            )
        )
    return out


def fit_parameters(model: Model, study: Study, limit: int = 3) -> list[str]:
    """Parameters to fit by default: the first uncertain ones of the scenario file."""
    scalars = {e.key for e in model.of_kind("parameter") if not e.dims}
    return [n for n in study.uncertainty if n in scalars][:limit]


def quick_fit(
    model: Model,
    names: list[str],
    *,
    fixed: dict[str, float],
    popsize: int,
    maxiter: int,
    options: Options | None = None,
) -> Calibration:
    """A small calibration to the model's history (few generations, so it takes seconds);
    ``options`` (limits, a cancel check) apply to every run."""
    from flywheel_sim.studies.calibration.plan import FitChoices, plan_fit

    check_fit(model, names)
    rest = {k: v for k, v in fixed.items() if k not in names}
    choices = FitChoices(fit=tuple(names), fixed=rest, popsize=popsize, maxiter=maxiter)
    return plan_fit(model, None, choices).run(options)


def check_fit(model: Model, names: list[str]) -> None:
    """ModelError unless the model has history and parameters to fit were chosen."""
    if model.history is None:
        raise ModelError(
            f"model '{model.name}' declares no history to fit",
            hint="add a history: section (docs/model-format.md)",
        )
    if not names:
        raise ModelError("choose the parameters to fit")


def fit_summary(fit: Calibration) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The fit's headline and its parameter rows (name, fitted, 95% interval, default)."""
    metrics: dict[str, Any] = fit.metrics
    line = (
        f"in sample: {metrics.get('mape', float('nan')):.1%} mean absolute percentage error "
        f"over {int(metrics.get('observations', 0))} observations; {fit.evaluations} runs in "
        f"{fit.seconds:.1f} s"
    )
    rows = [
        (_words(r.parameter), fmt(r.value), f"{fmt(r.lower)} – {fmt(r.upper)}", fmt(r.default))
        for r in fit.parameters.itertuples()
    ]
    return line, rows
