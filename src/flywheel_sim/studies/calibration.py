"""Calibration: fit chosen parameters to observed history, with honest uncertainty.

:func:`calibrate` fits parameters (inside their declared ranges) to one or more observed
series. Each series maps to a model variable with its aggregation: a yearly total of a flow
(revenue per year) is the integral of the flow over the year, a stock is sampled at the date
(:mod:`flywheel_sim.studies.history`). Residuals are on the log scale by default (growth data spans
orders of magnitude, and an error of 10% should weigh the same in 1997 as in 2024); series
with zero or negative values (operating income) use errors scaled by the series' typical
size instead. Other losses: ``relative`` ((model - data) / data), and robust Huber on the
same residuals.

The search is global then local: SciPy's differential evolution with ``vectorized=True``,
so each generation is one batched ``simulate`` call over the whole population, then a
bounded least-squares polish (at most ``polish`` steps) whose Jacobian is one batched call
of d + 1 runs. Uncertainty
comes from the Jacobian at the optimum (Wald intervals from s²(JᵀJ)⁻¹, with parameter
correlations; pairs correlated beyond 0.95 and directions the data cannot see are reported),
or from a residual bootstrap (refits on resampled residuals). The prediction band pushes the
covariance through the Jacobian of the predictions (the delta method) and adds the residual
noise.

Only observations in [``since``, ``until``] are fitted; with ``until`` the later ones are the
out-of-sample test (forecast MAPE).

Reality checks (:class:`RealityCheck`, after Vensim's feature of that name) keep behaviour the
data cannot show: "without the early push the flywheel does not take off", "closing the
marketplace costs at least a fifth of sales". Each candidate parameter set is also run with
the check's overrides; a violated bound adds a penalty residual (weighted, scaled by the
bound) to the fit, so the search and the polish both respect it. Checks do not count as
observations in the intervals.
"""

from __future__ import annotations

import math
import time as clock
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import ModelError, ParameterError
from flywheel_sim.spec.model import HistorySeries, Model
from flywheel_sim.spec.names import canonical

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

F = NDArray[np.float64]
LOSSES = ("log", "relative", "huber")
HUGE = 1e12  # the loss of a run that failed (NaN/inf)


@dataclass(frozen=True)
class Series:
    """One observed series: model variable, aggregation, times, values, weight."""

    variable: str
    aggregate: str  # see HistorySeries.aggregate
    times: F
    values: F
    weight: float = 1.0
    column: str = ""

    @property
    def signed(self) -> bool:
        """Zero or negative observations: log residuals are impossible."""
        return bool((self.values <= 0).any())

    @property
    def scale(self) -> float:
        """The typical size of a signed series (its median magnitude): errors are relative to
        |value| + scale, so values near zero do not dominate."""
        return float(np.median(np.abs(self.values))) or 1.0


@dataclass
class Calibration:
    """The result of :func:`calibrate`."""

    model: Model  # the model with the fitted values as its defaults
    parameters: pd.DataFrame  # parameter, value, low, high, sd, default, lower, upper
    metrics: dict[str, float]  # in sample
    forecast: dict[str, float]  # out of sample (empty without `until`)
    correlations: pd.DataFrame
    warnings: list[str]
    series: list[Series]
    fitted: dict[str, tuple[F, F]]  # variable -> (observation times, model values)
    band: dict[str, tuple[F, F, F]]  # variable -> (times, low, high), 95% prediction band
    loss: float
    evaluations: int
    seconds: float
    until: float | None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def values(self) -> dict[str, float]:
        return dict(zip(self.parameters["parameter"], self.parameters["value"], strict=True))


# -- observations ----------------------------------------------------------------------------
def observations(
    model: Model,
    data: pd.DataFrame | None = None,
    series: Mapping[str, str] | None = None,
    *,
    time: str | None = None,
    weights: Mapping[str, float] | None = None,
    source: str = "data",
) -> list[Series]:
    """The observed series: by default the model's ``history`` section; or ``series``
    (variable -> column of ``data``), aggregated as the model's history declares for that
    variable, else yearly totals for flows and point values otherwise."""
    from flywheel_sim.studies.history import history_frame

    declared: dict[str, HistorySeries] = {}
    if model.history is not None:
        declared = {canonical(s.variable): s for s in model.history.series}
    if data is None:
        data = history_frame(model)
    time = time or (model.history.time_column if model.history else "time")
    mapping = dict(series) if series else {k: s.column for k, s in declared.items()}
    if not mapping:
        raise ModelError(f"say which columns to fit: model '{model.name}' declares no history")
    if time not in data.columns:
        raise ModelError(f"{source} has no time column '{time}'", hint=_columns(data))
    times_all = _times(data, time, source)
    out = []
    for variable, column in mapping.items():
        key = canonical(variable)
        try:
            element = model.element(key)
        except ModelError as exc:
            raise ModelError(f"{source}: {exc.message}", hint=exc.hint) from None
        if column not in data.columns:
            raise ModelError(f"{source} has no column '{column}'", hint=_columns(data))
        values = _numbers(data[column], column, source)
        keep = np.isfinite(values)
        if not keep.any():
            raise ModelError(f"{source}: column '{column}' has no values")
        if key in declared:
            aggregate = declared[key].aggregate
        else:
            aggregate = "annual_total" if element.kind == "flow" else "point"
        weight = float((weights or {}).get(key, 1.0))
        out.append(Series(key, aggregate, times_all[keep], values[keep], weight, column))
    return out


def _inside_run(model: Model, item: Series, source: str) -> None:
    """Every observation must lie inside the run (a yearly total needs its whole year)."""
    from flywheel_sim.studies.history import span

    length = span(item.aggregate)
    late = item.times + length > model.time.stop + 1e-9
    early = item.times < model.time.start - 1e-9
    if late.any() or early.any():
        t = float(item.times[late][0] if late.any() else item.times[early][0])
        raise ModelError(
            f"{source}: '{item.column or item.variable}' has an observation at {t:g}, outside "
            f"the run ({model.time.start:g} to {model.time.stop:g})",
            hint="leave it out, or extend the model's time.stop",
        )


def _numbers(raw: pd.Series, column: str, source: str) -> F:
    """A column as floats (empty cells are NaN: not observed); one-line error otherwise."""
    import pandas as pd

    values = pd.to_numeric(raw, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & raw.notna().to_numpy())
    if bad.size:
        k = int(bad[0])
        raise ModelError(
            f"{source}: column '{column}' line {k + 2} holds {raw.iloc[k]!r}, not a number"
        )
    return np.asarray(values.to_numpy(dtype=float), dtype=np.float64)


def _times(data: pd.DataFrame, column: str, source: str) -> F:
    times = _numbers(data[column], column, source)
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        raise ModelError(f"{source}: time column '{column}' is empty on line {int(bad[0]) + 2}")
    steps = np.diff(times)
    if (steps <= 0).any():
        k = int(np.flatnonzero(steps <= 0)[0])
        raise ModelError(f"{source}: times must increase ('{column}' line {k + 3})")
    if len(steps) > 1 and np.allclose(times, np.round(times)):
        gaps = np.flatnonzero(steps > 1.5 * steps.min())
        if gaps.size:
            k = int(gaps[0])
            raise ModelError(
                f"{source}: years {times[k]:g} and {times[k + 1]:g} are consecutive rows — "
                "the years between are missing",
                hint="add a row for every year (leave a value empty where it is unknown)",
            )
    return times


def _columns(data: pd.DataFrame) -> str:
    return "columns are " + ", ".join(map(str, data.columns))


@dataclass(frozen=True)
class RealityCheck:
    """A behaviour the fitted model must keep: with parameters ``set``, ``outcome``
    (``variable@time`` or ``variable@end|max|min|mean``) stays ``below`` and/or ``above`` a
    bound — or, with ``relative``, its ratio to the same outcome of the unchanged run does;
    with ``versus``, its ratio to another outcome of the same run (``customers@2030`` versus
    ``customers@2024`` below 1.2: growth has slowed)."""

    name: str
    outcome: str
    set: Mapping[str, float] = field(default_factory=dict)
    below: float | None = None
    above: float | None = None
    relative: bool = False
    weight: float = 100.0
    versus: str | None = None

    def penalty(self, value: F) -> F:
        """Violation of each run's outcome (0 when the check holds), scaled by the bound."""
        out = np.zeros_like(value)
        with np.errstate(all="ignore"):
            if self.below is not None:
                scale = abs(self.below) or 1.0
                out += np.clip((value - self.below) / scale, 0.0, None)
            if self.above is not None:
                scale = abs(self.above) or 1.0
                out += np.clip((self.above - value) / scale, 0.0, None)
        return np.where(np.isfinite(out), out, math.sqrt(HUGE))

    def describe(self) -> str:
        bounds = []
        if self.above is not None:
            bounds.append(f">= {self.above:g}")
        if self.below is not None:
            bounds.append(f"<= {self.below:g}")
        what = self.outcome + (f" / {self.versus}" if self.versus else "")
        what += " / baseline" if self.relative else ""
        changes = ", ".join(f"{k}={v:g}" for k, v in self.set.items())
        return f"{self.name}: with {changes or 'the fitted values'}, {what} {' and '.join(bounds)}"


def checked(model: Model, checks: Sequence[RealityCheck]) -> list[RealityCheck]:
    """The checks with canonical names, validated against the model (one-line errors)."""
    from flywheel_sim.studies.outcomes import parse_outcome

    out = []
    for check in checks:
        if check.below is None and check.above is None:
            raise ModelError(f"reality check '{check.name}' needs a bound: below or above")
        if not check.weight > 0:
            raise ModelError(f"reality check '{check.name}': the weight must be > 0")
        try:
            parse_outcome(check.outcome, model)
            if check.versus is not None:
                parse_outcome(check.versus, model)
            changes = {_parameter(model, k): float(v) for k, v in check.set.items()}
        except ModelError as exc:
            raise ModelError(
                f"reality check '{check.name}': {exc.message}", hint=exc.hint
            ) from None
        out.append(
            RealityCheck(
                check.name,
                check.outcome,
                changes,
                check.below,
                check.above,
                check.relative,
                check.weight,
                check.versus,
            )
        )
    return out


# -- the objective ---------------------------------------------------------------------------
class Objective:
    """Residuals of many parameter sets at once: one ``simulate`` call per batch."""

    def __init__(
        self,
        model: Model,
        names: Sequence[str],
        series: Sequence[Series],
        loss: str,
        fixed: Mapping[str, float] | None = None,
        checks: Sequence[RealityCheck] = (),
    ) -> None:
        from flywheel_sim.studies.outcomes import parse_outcome

        if loss not in LOSSES:
            raise ParameterError(f"unknown loss '{loss}' — use {', '.join(LOSSES)}")
        self.model = model
        self.names = list(names)
        self.series = list(series)
        self.loss = loss
        self.fixed = dict(fixed or {})
        self.checks = list(checks)
        self.outcomes = [parse_outcome(c.outcome, model) for c in self.checks]
        self.versus = [parse_outcome(c.versus, model) if c.versus else None for c in self.checks]
        self.variables = list(
            dict.fromkeys(
                [
                    *(s.variable for s in self.series),
                    *(o.variable for o in self.outcomes),
                    *(o.variable for o in self.versus if o is not None),
                ]
            )
        )
        self.n_data = sum(s.values.size for s in self.series)
        self.evaluations = 0

    def simulate(
        self, x: F, *, stop: float | None = None, changes: Mapping[str, float] | None = None
    ) -> xr.Dataset:
        """Runs for the parameter sets in the rows of ``x`` (sets, d), with ``changes``."""
        from flywheel_sim.engine.simulate import simulate

        params: dict[str, Any] = dict(self.fixed)
        for j, name in enumerate(self.names):
            params[name] = x[:, j]
        params.update(changes or {})
        self.evaluations += x.shape[0]
        return simulate(
            self.model,
            params,
            variables=self.variables,
            save_step=self.model.time.dt,
            stop=stop,
        )

    def predictions(self, result: xr.Dataset) -> list[F]:
        """Model values at each series' observations: one (sets, observations) per series."""
        from flywheel_sim.studies.history import aggregated

        out = []
        for item in self.series:
            data = result[item.variable]
            extra = [d for d in data.dims if d not in ("run", "time")]
            if extra:
                data = data.sum(extra)
            out.append(aggregated(data, item.aggregate, item.times))
        return out

    def residuals(self, x: F, stop: float | None = None) -> F:
        """Weighted residuals (sets, observations then checks); NaN where a run failed.
        Without checks the runs may ``stop`` after the last observation (faster)."""
        base = self.simulate(x, stop=None if self.checks else stop)
        blocks = [
            math.sqrt(item.weight) * residual(model, item, self.loss)
            for item, model in zip(self.series, self.predictions(base), strict=True)
        ]
        for check, outcome, versus in zip(self.checks, self.outcomes, self.versus, strict=True):
            run = self.simulate(x, changes=check.set) if check.set else base
            value = outcome.of(run)
            with np.errstate(all="ignore"):
                if versus is not None:
                    value = value / versus.of(run)
                if check.relative:
                    base_value = outcome.of(base)
                    if versus is not None:
                        base_value = base_value / versus.of(base)
                    value = value / base_value
            blocks.append(math.sqrt(check.weight) * check.penalty(value)[:, None])
        return np.concatenate(blocks, axis=1)

    def violations(self, x: F) -> list[str]:
        """The checks a parameter set (d,) breaks, described."""
        r = self.residuals(x[None, :])[0, self.n_data :]
        return [c.describe() for c, v in zip(self.checks, r, strict=True) if v > 1e-9]

    def cost(self, r: F) -> F:
        """Loss of each row of residuals (half the sum of squares, or Huber)."""
        if self.loss == "huber":
            a = np.abs(r)
            per = np.where(a <= 1.0, 0.5 * a * a, a - 0.5)
        else:
            per = 0.5 * r * r
        total = per.sum(axis=1)
        return np.asarray(np.where(np.isfinite(total), total, HUGE), dtype=np.float64)


def residual(model: F, item: Series, loss: str) -> F:
    """One series' residuals for model values (sets, observations)."""
    with np.errstate(all="ignore"):
        if item.signed:  # zero or negative data: relative errors, softened near zero
            return (model - item.values) / (np.abs(item.values) + item.scale)
        if loss == "relative":
            return (model - item.values) / item.values
        r = np.log(np.maximum(model, 1e-300)) - np.log(item.values)
        if loss == "huber":
            return r / 0.1  # Huber threshold at a 10% (log) error
        return r


# -- fitting ---------------------------------------------------------------------------------
def calibrate(
    model: Model,
    params: Sequence[str],
    *,
    data: pd.DataFrame | None = None,
    series: Mapping[str, str] | None = None,
    time: str | None = None,
    weights: Mapping[str, float] | None = None,
    since: float | None = None,
    until: float | None = None,
    loss: str = "log",
    bounds: Mapping[str, tuple[float, float]] | None = None,
    fixed: Mapping[str, float] | None = None,
    popsize: int = 12,
    maxiter: int = 150,
    tol: float = 1e-6,
    seed: int = 0,
    uncertainty: str = "wald",
    bootstrap: int = 50,
    source: str = "data",
    checks: Sequence[RealityCheck] = (),
    polish: int = 60,
    start: bool = True,
) -> Calibration:
    """Fit ``params`` of ``model`` to observed series; see the module docstring.

    With ``start`` (the default) the search starts from the model's current values as well
    as its spread of points, as Vensim's optimiser does: the fit is never worse than where
    it started, and repeating a fit whose result became the defaults returns it again
    (differential evolution's path otherwise turns on the last bits of every run). Pass
    ``start=False`` for a search from scratch, e.g. when the defaults were fitted to data
    the fit must not see (an out-of-sample test)."""
    from scipy.optimize import differential_evolution, least_squares

    started = clock.perf_counter()
    if uncertainty not in ("wald", "bootstrap"):
        raise ParameterError(f"unknown uncertainty '{uncertainty}' — use wald or bootstrap")
    if loss not in LOSSES:
        raise ParameterError(f"unknown loss '{loss}' — use {', '.join(LOSSES)}")
    names = [_parameter(model, p) for p in params]
    if not names:
        raise ParameterError("say which parameters to fit")
    for key in bounds or {}:
        if canonical(key) not in names:
            raise ParameterError(f"bounds are given for '{key}', which is not being fitted")
    lows, highs = _bounds(model, names, {canonical(k): v for k, v in (bounds or {}).items()})
    every = observations(model, data, series, time=time, weights=weights, source=source)
    for item in every:
        _inside_run(model, item, source)
    fit_series = [_window(s, since, until) for s in every]
    fit_series = [s for s in fit_series if s.values.size]
    if not fit_series:
        raise ModelError(f"no observations up to {until:g} to fit" if until else "no observations")
    n_obs = sum(s.values.size for s in fit_series)
    if n_obs <= len(names):
        raise ModelError(
            f"{n_obs} observations cannot determine {len(names)} parameters",
            hint="fit fewer parameters or give more data",
        )
    stop = min(model.time.stop, max(s.times.max() for s in fit_series) + 1.0)
    objective = Objective(model, names, fit_series, loss, fixed, checked(model, checks))
    span = highs - lows

    def population_cost(x_t: F) -> F:  # (d, S) from differential evolution
        x = np.atleast_2d(x_t.T)
        return objective.cost(_residuals_stop(objective, x, stop))

    current = np.array([float(model.element(n).default) for n in names])  # type: ignore[arg-type]
    found = differential_evolution(
        population_cost,
        list(zip(lows, highs, strict=True)),
        vectorized=True,
        updating="deferred",
        popsize=popsize,
        maxiter=maxiter,
        tol=tol,
        seed=seed,
        polish=False,
        init="sobol",
        x0=np.clip(current, lows, highs) if start else None,
    )
    best = np.clip(found.x, lows, highs)

    def one(z: F) -> F:
        row = _residuals_stop(objective, (lows + z * span)[None, :], stop)[0]
        return np.where(np.isfinite(row), row, math.sqrt(HUGE))

    def jacobian(z: F) -> F:
        return _jacobian(objective, lows + z * span, span, lows, highs, stop) * span

    robust = {"loss": "huber", "f_scale": 1.0} if loss == "huber" else {}
    z0 = (best - lows) / span
    polished = least_squares(
        one,
        z0,
        jac=jacobian,
        bounds=(0.0, 1.0),
        method="trf",
        x_scale=1.0,
        max_nfev=polish,
        **robust,
    )
    before = float(objective.cost(one(z0)[None, :])[0])
    after = float(objective.cost(one(polished.x)[None, :])[0])
    z = polished.x if after <= before else z0
    x = lows + z * span
    r_all = one(z)
    n = objective.n_data
    r = r_all[:n]  # the checks are constraints, not observations
    jac = _jacobian(objective, x, span, lows, highs, stop)[:n]
    dof = max(r.size - len(names), 1)
    s2 = float(r @ r) / dof
    warnings: list[str] = [f"reality check broken — {text}" for text in objective.violations(x)]
    cov, corr, blind = _covariance(jac, s2, names, warnings)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    sd[blind] = np.inf  # the data cannot see these: their interval is the whole range
    lower, upper = np.clip(x - 1.96 * sd, lows, highs), np.clip(x + 1.96 * sd, lows, highs)
    if uncertainty == "bootstrap":
        lower, upper, sd = _bootstrap(objective, x, r, lows, highs, stop, bootstrap, seed)
    for j, name in enumerate(names):
        if min(x[j] - lows[j], highs[j] - x[j]) <= 1e-6 * span[j]:
            warnings.append(f"{name} ends at a bound of its range ({x[j]:g}): widen it?")
    calibrated = _with_defaults(model, {**(fixed or {}), **dict(zip(names, x, strict=True))})
    final = Objective(calibrated, [], every, loss, fixed)
    result = final.simulate(np.zeros((1, 0)))
    fitted = {
        s.variable: (s.times, pred[0])
        for s, pred in zip(every, final.predictions(result), strict=True)
    }
    metrics = _metrics(every, fitted, since, until, inclusive=True)
    forecast = _metrics(every, fitted, until, None) if until is not None else {}
    noise: dict[str, float] = {}  # each series' own residual spread (unweighted)
    offset = 0
    for item in objective.series:
        block = r[offset : offset + item.values.size] / math.sqrt(item.weight or 1.0)
        offset += item.values.size
        noise[item.variable] = float(np.sqrt(np.mean(block * block))) if block.size else 0.0
    band = _band(objective, every, x, cov, noise, lows, highs, loss)
    frame = _parameter_frame(model, names, x, lows, highs, sd, lower, upper)
    return Calibration(
        model=calibrated,
        parameters=frame,
        metrics=metrics,
        forecast=forecast,
        correlations=corr,
        warnings=warnings,
        series=every,
        fitted=fitted,
        band=band,
        loss=float(objective.cost(r_all[None, :])[0]),
        evaluations=objective.evaluations,
        seconds=clock.perf_counter() - started,
        until=until,
        settings={
            "parameters": names,
            "loss": loss,
            "since": since,
            "until": until,
            "popsize": popsize,
            "maxiter": maxiter,
            "seed": seed,
            "start": start,
            "uncertainty": uncertainty,
            "series": {s.variable: s.column for s in every},
            "checks": [c.describe() for c in objective.checks],
        },
    )


def _residuals_stop(objective: Objective, x: F, stop: float) -> F:
    """Residuals of runs that stop after the last fitted observation (faster)."""
    return objective.residuals(x, stop)


def _jacobian(objective: Objective, x: F, span: F, lows: F, highs: F, stop: float) -> F:
    """Forward differences of the residuals: one batched call of d + 1 runs."""
    d = len(x)
    steps = 1e-4 * span
    points = np.tile(x, (d + 1, 1))
    for j in range(d):  # step inwards at an upper bound
        steps[j] = -steps[j] if x[j] + steps[j] > highs[j] else steps[j]
        points[j + 1, j] += steps[j]
    r = _residuals_stop(objective, points, stop)
    r = np.where(np.isfinite(r), r, 0.0)
    return np.asarray(((r[1:] - r[0]) / steps[:, None]).T, dtype=np.float64)


def _covariance(
    jac: F, s2: float, names: list[str], warnings: list[str]
) -> tuple[F, pd.DataFrame, list[int]]:
    """Wald covariance s²(JᵀJ)⁻¹, correlations, and the parameters the data cannot see
    (those in a direction that leaves the fit unchanged: the Jacobian's null space)."""
    import pandas as pd

    jtj = jac.T @ jac
    _, singular, vt = np.linalg.svd(jac, full_matrices=False)
    blind: list[int] = []
    if singular.size and singular[0] > 0:
        for k in np.flatnonzero(singular <= 1e-7 * singular[0]):
            weak = np.abs(vt[k])
            involved = [int(i) for i in np.flatnonzero(weak > 0.1 * weak.max())]
            blind += [i for i in involved if i not in blind]
            warnings.append(
                "the data cannot tell apart "
                + " and ".join(names[i] for i in involved)
                + " (a direction of parameter space leaves the fit unchanged): their "
                "intervals are the whole search range"
            )
    cov = np.asarray(np.linalg.pinv(jtj) * s2, dtype=np.float64)
    sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    corr = cov / np.outer(sd, sd)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if abs(corr[i, j]) > 0.95:
                warnings.append(
                    f"{names[i]} and {names[j]} are strongly correlated ({corr[i, j]:+.2f}): "
                    "the data fix a combination of them, not each"
                )
    return cov, pd.DataFrame(corr, index=names, columns=names), blind


def _bootstrap(
    objective: Objective,
    x: F,
    r: F,
    lows: F,
    highs: F,
    stop: float,
    reps: int,
    seed: int,
) -> tuple[F, F, F]:
    """Residual bootstrap: refit (locally, from the optimum) on data with resampled residuals."""
    from scipy.optimize import least_squares

    rng = np.random.default_rng(seed)
    span = highs - lows
    base = _residuals_stop(objective, x[None, :], stop)[0]
    fits = []
    for _ in range(reps):
        noise = rng.choice(r, size=r.size, replace=True)

        def shifted(z: F, noise: F = noise) -> F:
            row = _residuals_stop(objective, (lows + z * span)[None, :], stop)[0]
            # residuals against data y* = model(x̂) - e*: res(z) - res(x̂) + e*
            shift = np.pad(noise, (0, row.size - noise.size))  # checks get no noise
            return np.where(np.isfinite(row), row - base + shift, 1e6)

        def jac(z: F) -> F:
            return _jacobian(objective, lows + z * span, span, lows, highs, stop) * span

        fit = least_squares(shifted, (x - lows) / span, jac=jac, bounds=(0.0, 1.0), max_nfev=20)
        fits.append(lows + fit.x * span)
    sample = np.array(fits)
    lower, upper = np.percentile(sample, [2.5, 97.5], axis=0)
    return lower, upper, sample.std(axis=0, ddof=1)


def _band(
    objective: Objective,
    every: list[Series],
    x: F,
    cov: F,
    noise: Mapping[str, float],
    lows: F,
    highs: F,
    loss: str,
) -> dict[str, tuple[F, F, F]]:
    """95% prediction band at every observation time by linear propagation (the delta
    method, as the Wald intervals): the parameters' covariance pushed through the Jacobian of
    the predictions (one batched call of d + 1 runs), plus each series' own residual noise
    (a series fitted worse gets a wider band than a well-fitted one). Directions the
    data cannot see leave the predictions unchanged to first order, so they do not blow the
    band up the way sampling them across their whole range would."""
    everything = Objective(objective.model, objective.names, every, loss, objective.fixed)
    d = len(x)
    span = highs - lows
    steps = 1e-4 * span
    points = np.tile(x, (d + 1, 1))
    for j in range(d):  # step inwards at an upper bound
        steps[j] = -steps[j] if x[j] + steps[j] > highs[j] else steps[j]
        points[j + 1, j] += steps[j]
    predictions = everything.predictions(everything.simulate(points))
    band = {}
    for item, pred in zip(every, predictions, strict=True):
        huber = loss == "huber" and not item.signed  # undo the Huber scaling of log errors
        sigma = noise.get(item.variable, 0.0) * (0.1 if huber else 1.0)
        centre = pred[0]
        with np.errstate(all="ignore"):
            if item.signed or loss == "relative":
                grad = (pred[1:] - centre) / steps[:, None]  # (d, observations)
            else:
                grad = (np.log(pred[1:]) - np.log(centre)) / steps[:, None]
            grad = np.where(np.isfinite(grad), grad, 0.0)
            spread = np.sqrt(np.clip(np.einsum("io,ij,jo->o", grad, cov, grad), 0, None))
            if item.signed:
                half = 1.96 * np.hypot(spread, sigma * item.scale)
                low, high = centre - half, centre + half
            elif loss == "relative":
                half = 1.96 * np.hypot(spread / np.abs(centre), sigma)
                low, high = centre * (1 - half), centre * (1 + half)
            else:
                half = 1.96 * np.hypot(spread, sigma)
                low, high = centre * np.exp(-half), centre * np.exp(half)
        band[item.variable] = (item.times, low, high)
    return band


def _metrics(
    every: list[Series],
    fitted: dict[str, tuple[F, F]],
    after: float | None,
    until: float | None,
    *,
    inclusive: bool = False,
) -> dict[str, float]:
    """Fit metrics of the first (main) series over (after, until] (or [after, until] when
    ``inclusive``): MAPE, RMSE of log errors, worst year."""
    item = every[0]
    times, model = fitted[item.variable]
    keep = np.ones(times.size, bool)
    if after is not None:
        keep &= (times >= after) if inclusive else (times > after)
    if until is not None:
        keep &= times <= until
    if not keep.any():
        return {}
    obs, sim = item.values[keep], model[keep]
    error = (sim - obs) / np.abs(obs)
    worst = int(np.nanargmax(np.abs(error)))
    out = {
        "mape": float(np.nanmean(np.abs(error))),
        "worst_error": float(error[worst]),
        "worst_time": float(times[keep][worst]),
        "observations": float(keep.sum()),
    }
    if not item.signed:
        out["rmse_log"] = float(np.sqrt(np.nanmean((np.log(sim) - np.log(obs)) ** 2)))
    return out


def _parameter(model: Model, name: str) -> str:
    element = model.element(name)
    if element.kind != "parameter" or not isinstance(element.default, int | float):
        raise ParameterError(f"'{name}' is not a scalar parameter of model '{model.name}'")
    return element.key


def _bounds(
    model: Model, names: list[str], given: Mapping[str, tuple[float, float]]
) -> tuple[F, F]:
    lows, highs = [], []
    for name in names:
        element = model.element(name)
        low, high = given.get(name, (element.minimum, element.maximum))
        if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
            raise ParameterError(
                f"'{name}' needs a finite range to be fitted — declare min and max in the "
                "model, or pass bounds"
            )
        if not low < high:
            raise ParameterError(f"'{name}': the range [{low:g}, {high:g}] is empty")
        declared_low = -math.inf if element.minimum is None else element.minimum
        declared_high = math.inf if element.maximum is None else element.maximum
        if low < declared_low or high > declared_high:
            raise ParameterError(
                f"'{name}': the search range [{low:g}, {high:g}] leaves its declared range "
                f"[{declared_low:g}, {declared_high:g}] — fit inside it (or widen it in the model)"
            )
        lows.append(float(low))
        highs.append(float(high))
    return np.array(lows), np.array(highs)


def _window(item: Series, since: float | None, until: float | None) -> Series:
    keep = np.ones(item.times.size, bool)
    if since is not None:
        keep &= item.times >= since
    if until is not None:
        keep &= item.times <= until
    return Series(
        item.variable, item.aggregate, item.times[keep], item.values[keep], item.weight, item.column
    )


def _with_defaults(model: Model, values: Mapping[str, float]) -> Model:
    from dataclasses import replace

    elements = tuple(
        replace(e, default=float(values[e.key])) if e.key in values else e for e in model.elements
    )
    return replace(model, elements=elements)


def _parameter_frame(
    model: Model,
    names: list[str],
    x: F,
    lows: F,
    highs: F,
    sd: F,
    lower: F,
    upper: F,
) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "parameter": names,
            "value": x,
            "lower": lower,
            "upper": upper,
            "sd": sd,
            "default": [float(model.element(n).default) for n in names],  # type: ignore[arg-type]
            "low": lows,
            "high": highs,
        }
    )
