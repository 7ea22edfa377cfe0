"""The objective of a fit: residuals, the loss, and the penalties of reality checks.

Residuals are on the log scale by default (growth data spans orders of magnitude, and an
error of 10% should weigh the same in 1997 as in 2024); series with zero or negative values
(operating income) use errors scaled by the series' typical size instead. Other losses:
``relative`` ((model - data) / data), and robust Huber on the same residuals.

Reality checks (:class:`RealityCheck`, after Vensim's feature of that name) keep behaviour the
data cannot show: "without the early push the flywheel does not take off", "closing the
marketplace costs at least a fifth of sales". Each candidate parameter set is also run with
the check's overrides; a violated bound adds a penalty residual (weighted, scaled by the
bound) to the fit, so the search and the polish both respect it. Checks do not count as
observations in the intervals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import ModelError, ParameterError
from flywheel_sim.spec.model import Model
from flywheel_sim.studies.calibration.observations import Series

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.engine.simulate import Options

F = NDArray[np.float64]
Loss = Literal["log", "relative", "huber"]
LOSSES: tuple[Loss, ...] = get_args(Loss)
HUGE = 1e12  # the loss of a run that failed (NaN/inf)


def loss_named(name: str, *, where: str = "") -> Loss:
    """``name`` as a loss, or an error: a ParameterError for an argument, a ModelError at
    ``where`` (file:line) for a scenario file's setting."""
    if name in LOSSES:
        return name
    if where:
        raise ModelError(f"{where}: unknown loss '{name}'", hint=" | ".join(LOSSES))
    raise ParameterError(f"unknown loss '{name}' — use {', '.join(LOSSES)}")


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
            changes = {fitted_parameter(model, k): float(v) for k, v in check.set.items()}
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


def fitted_parameter(model: Model, name: str) -> str:
    """The key of ``name``, a scalar parameter of ``model`` (ParameterError otherwise)."""
    element = model.element(name)
    if element.kind != "parameter" or not isinstance(element.default, int | float):
        raise ParameterError(f"'{name}' is not a scalar parameter of model '{model.name}'")
    return element.key


class Objective:
    """Residuals of many parameter sets at once: one ``simulate`` call per batch."""

    def __init__(
        self,
        model: Model,
        names: Sequence[str],
        series: Sequence[Series],
        loss: Loss | str,
        fixed: Mapping[str, float] | None = None,
        checks: Sequence[RealityCheck] = (),
        options: Options | None = None,
    ) -> None:
        from flywheel_sim.studies.outcomes import parse_outcome

        self.options = options  # simulation options of every run (limits, a cancel check)
        self.model = model
        self.names = list(names)
        self.series = list(series)
        self.loss = loss_named(loss)
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
        from flywheel_sim.engine.simulate import Options, simulate

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
            options=self.options or Options(),
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
        for check, value in zip(self.checks, self.check_values(x, base), strict=True):
            blocks.append(math.sqrt(check.weight) * check.penalty(value)[:, None])
        return np.concatenate(blocks, axis=1)

    def check_values(self, x: F, base: xr.Dataset | None = None) -> list[F]:
        """What each reality check measures, for every parameter set in the rows of ``x``:
        its outcome (over its ``versus`` outcome, over the unchanged run's when ``relative``),
        in the run with the check's changes. ``base`` is the unchanged runs, if already made."""
        if base is None:
            base = self.simulate(x)
        values = []
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
            values.append(np.asarray(value, dtype=np.float64))
        return values

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


def residual(model: F, item: Series, loss: Loss) -> F:
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


def jacobian(objective: Objective, x: F, span: F, lows: F, highs: F, stop: float) -> F:
    """Forward differences of the residuals: one batched call of d + 1 runs."""
    d = len(x)
    steps = 1e-4 * span
    points = np.tile(x, (d + 1, 1))
    for j in range(d):  # step inwards at an upper bound
        steps[j] = -steps[j] if x[j] + steps[j] > highs[j] else steps[j]
        points[j + 1, j] += steps[j]
    r = objective.residuals(points, stop)
    r = np.where(np.isfinite(r), r, 0.0)
    return np.asarray(((r[1:] - r[0]) / steps[:, None]).T, dtype=np.float64)
