"""The fit: a global search, a local polish, and the :class:`Calibration` it returns.

:func:`calibrate` fits parameters (inside their declared ranges) to one or more observed
series (:mod:`.observations`), minimising the loss of :mod:`.objective`. The search is global
then local: SciPy's differential evolution with ``vectorized=True``, so each generation is one
batched ``simulate`` call over the whole population, then a bounded least-squares polish (at
most ``polish`` steps) whose Jacobian is one batched call of d + 1 runs. The search's settings
are a :class:`SearchSettings`. Uncertainty is :mod:`.intervals`'.

Only observations in [``since``, ``until``] are fitted; with ``until`` the later ones are the
out-of-sample test (forecast MAPE).
"""

from __future__ import annotations

import math
import time as clock
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.engine.params import check_seed
from flywheel_sim.errors import ModelError, ParameterError
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.names import canonical
from flywheel_sim.studies.calibration.intervals import (
    Uncertainty,
    bootstrap_intervals,
    covariance,
    prediction_band,
    uncertainty_named,
)
from flywheel_sim.studies.calibration.objective import (
    HUGE,
    Loss,
    Objective,
    RealityCheck,
    checked,
    fitted_parameter,
    jacobian,
    loss_named,
)
from flywheel_sim.studies.calibration.observations import Series, inside_run, observations

if TYPE_CHECKING:
    import pandas as pd

    from flywheel_sim.engine.simulate import Options

F = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """How the search runs: differential evolution's population per parameter (``popsize``),
    its generations at most (``maxiter``), tolerance (``tol``) and ``seed`` (also the
    bootstrap's), the least-squares polish's steps at most (``polish``), and whether the
    search starts from the model's current values as well as its spread of points
    (``start``; False searches from scratch)."""

    popsize: int = 12
    maxiter: int = 150
    tol: float = 1e-6
    seed: int = 0
    polish: int = 60
    start: bool = True

    def __post_init__(self) -> None:
        # SciPy seeds its search with NumPy's legacy generator: 32 bits
        if check_seed(self.seed, "--seed") >= 2**32:
            raise ParameterError(
                f"--seed {self.seed} is out of range for a calibration — use a whole number "
                "from 0 to 4294967295 (2^32 - 1)"
            )


def search_settings(search: SearchSettings | None, **keywords: Any) -> SearchSettings:
    """The search settings of a :func:`calibrate` call: ``search``, or its keywords (``popsize``,
    ``maxiter``, ``tol``, ``seed``, ``polish``, ``start``) — not both."""
    chosen = SearchSettings(**keywords)
    if search is None:
        return chosen
    default = SearchSettings()
    changed = [
        f.name
        for f in fields(SearchSettings)
        if getattr(chosen, f.name) != getattr(default, f.name)
    ]
    if changed:
        raise ParameterError(
            f"give the search settings as search= or as keywords, not both ({changed[0]})"
        )
    return search


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
    loss: Loss | str = "log",
    bounds: Mapping[str, tuple[float, float]] | None = None,
    fixed: Mapping[str, float] | None = None,
    popsize: int = 12,
    maxiter: int = 150,
    tol: float = 1e-6,
    seed: int = 0,
    uncertainty: Uncertainty | str = "wald",
    bootstrap: int = 50,
    source: str = "data",
    checks: Sequence[RealityCheck] = (),
    polish: int = 60,
    start: bool = True,
    search: SearchSettings | None = None,
    options: Options | None = None,
) -> Calibration:
    """Fit ``params`` of ``model`` to observed series; see the package's docstring.

    The search's settings are ``search`` (a :class:`SearchSettings`) or, equally, its
    keywords ``popsize``, ``maxiter``, ``tol``, ``seed``, ``polish`` and ``start``.
    With ``start`` (the default) the search starts from the model's current values as well
    as its spread of points, as Vensim's optimiser does: the fit is never worse than where
    it started, and repeating a fit whose result became the defaults returns it again
    (differential evolution's path otherwise turns on the last bits of every run). Pass
    ``start=False`` for a search from scratch, e.g. when the defaults were fitted to data
    the fit must not see (an out-of-sample test). ``uncertainty`` is ``wald`` or
    ``bootstrap`` (``bootstrap`` refits). ``options`` (limits, a cancel check) apply to
    every run of the fit."""
    from scipy.optimize import differential_evolution, least_squares

    started = clock.perf_counter()
    search = search_settings(
        search, popsize=popsize, maxiter=maxiter, tol=tol, seed=seed, polish=polish, start=start
    )
    intervals = uncertainty_named(uncertainty)
    fit_loss = loss_named(loss)
    names = [fitted_parameter(model, p) for p in params]
    if not names:
        raise ParameterError("say which parameters to fit")
    for key in bounds or {}:
        if canonical(key) not in names:
            raise ParameterError(f"bounds are given for '{key}', which is not being fitted")
    lows, highs = search_ranges(model, names, {canonical(k): v for k, v in (bounds or {}).items()})
    every = observations(model, data, series, time=time, weights=weights, source=source)
    for item in every:
        inside_run(model, item, source)
    fit_series = [s.window(since, until) for s in every]
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
    objective = Objective(
        model, names, fit_series, fit_loss, fixed, checked(model, checks), options=options
    )
    span = highs - lows

    def population_cost(x_t: F) -> F:  # (d, S) from differential evolution
        x = np.atleast_2d(x_t.T)
        return objective.cost(objective.residuals(x, stop))

    current = np.array([float(model.element(n).default) for n in names])  # type: ignore[arg-type]
    found = differential_evolution(
        population_cost,
        list(zip(lows, highs, strict=True)),
        vectorized=True,
        updating="deferred",
        popsize=search.popsize,
        maxiter=search.maxiter,
        tol=search.tol,
        seed=search.seed,
        polish=False,
        init="sobol",
        x0=np.clip(current, lows, highs) if search.start else None,
    )
    best = np.clip(found.x, lows, highs)

    def one(z: F) -> F:
        row = objective.residuals((lows + z * span)[None, :], stop)[0]
        return np.where(np.isfinite(row), row, math.sqrt(HUGE))

    def scaled_jacobian(z: F) -> F:
        return jacobian(objective, lows + z * span, span, lows, highs, stop) * span

    robust = {"loss": "huber", "f_scale": 1.0} if fit_loss == "huber" else {}
    z0 = (best - lows) / span
    polished = least_squares(
        one,
        z0,
        jac=scaled_jacobian,
        bounds=(0.0, 1.0),
        method="trf",
        x_scale=1.0,
        max_nfev=search.polish,
        **robust,
    )
    before = float(objective.cost(one(z0)[None, :])[0])
    after = float(objective.cost(one(polished.x)[None, :])[0])
    z = polished.x if after <= before else z0
    x = lows + z * span
    r_all = one(z)
    n = objective.n_data
    r = r_all[:n]  # the checks are constraints, not observations
    jac = jacobian(objective, x, span, lows, highs, stop)[:n]
    dof = max(r.size - len(names), 1)
    s2 = float(r @ r) / dof
    warnings: list[str] = [f"reality check broken — {text}" for text in objective.violations(x)]
    cov, corr, blind = covariance(jac, s2, names, warnings)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    sd[blind] = np.inf  # the data cannot see these: their interval is the whole range
    lower, upper = np.clip(x - 1.96 * sd, lows, highs), np.clip(x + 1.96 * sd, lows, highs)
    if intervals == "bootstrap":
        lower, upper, sd = bootstrap_intervals(
            objective, x, r, lows, highs, stop, bootstrap, search.seed
        )
    for j, name in enumerate(names):
        if min(x[j] - lows[j], highs[j] - x[j]) <= 1e-6 * span[j]:
            warnings.append(f"{name} ends at a bound of its range ({x[j]:g}): widen it?")
    calibrated = with_defaults(model, {**(fixed or {}), **dict(zip(names, x, strict=True))})
    final = Objective(calibrated, [], every, fit_loss, fixed, options=options)
    result = final.simulate(np.zeros((1, 0)))
    fitted = {
        s.variable: (s.times, pred[0])
        for s, pred in zip(every, final.predictions(result), strict=True)
    }
    metrics = fit_metrics(every, fitted, since, until, inclusive=True)
    forecast = fit_metrics(every, fitted, until, None) if until is not None else {}
    noise: dict[str, float] = {}  # each series' own residual spread (unweighted)
    offset = 0
    for item in objective.series:
        block = r[offset : offset + item.values.size] / math.sqrt(item.weight or 1.0)
        offset += item.values.size
        noise[item.variable] = float(np.sqrt(np.mean(block * block))) if block.size else 0.0
    band = prediction_band(objective, every, x, cov, noise, lows, highs, fit_loss)
    frame = parameter_frame(model, names, x, lows, highs, sd, lower, upper)
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
            "loss": fit_loss,
            "since": since,
            "until": until,
            "popsize": search.popsize,
            "maxiter": search.maxiter,
            "seed": search.seed,
            "start": search.start,
            "uncertainty": intervals,
            "series": {s.variable: s.column for s in every},
            "checks": [c.describe() for c in objective.checks],
        },
    )


def fit_metrics(
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


def search_ranges(
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


def with_defaults(model: Model, values: Mapping[str, float]) -> Model:
    from dataclasses import replace

    elements = tuple(
        replace(e, default=float(values[e.key])) if e.key in values else e for e in model.elements
    )
    return replace(model, elements=elements)


def parameter_frame(
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
