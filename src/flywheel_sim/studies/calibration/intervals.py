"""How sure a fit is: parameter intervals and the prediction band.

Uncertainty comes from the Jacobian at the optimum (Wald intervals from s²(JᵀJ)⁻¹, with
parameter correlations; pairs correlated beyond 0.95 and directions the data cannot see are
reported), or from a residual bootstrap (refits on resampled residuals). The prediction band
pushes the covariance through the Jacobian of the predictions (the delta method) and adds the
residual noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import ParameterError
from flywheel_sim.studies.calibration.objective import Loss, Objective, jacobian
from flywheel_sim.studies.calibration.observations import Series

if TYPE_CHECKING:
    import pandas as pd

F = NDArray[np.float64]
Uncertainty = Literal["wald", "bootstrap"]
UNCERTAINTIES: tuple[Uncertainty, ...] = get_args(Uncertainty)


def uncertainty_named(name: str) -> Uncertainty:
    """``name`` as a way to compute intervals (ParameterError otherwise)."""
    if name not in UNCERTAINTIES:
        raise ParameterError(f"unknown uncertainty '{name}' — use wald or bootstrap")
    return name


def covariance(
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


def bootstrap_intervals(
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
    base = objective.residuals(x[None, :], stop)[0]
    fits = []
    for _ in range(reps):
        noise = rng.choice(r, size=r.size, replace=True)

        def shifted(z: F, noise: F = noise) -> F:
            row = objective.residuals((lows + z * span)[None, :], stop)[0]
            # residuals against data y* = model(x̂) - e*: res(z) - res(x̂) + e*
            shift = np.pad(noise, (0, row.size - noise.size))  # checks get no noise
            return np.where(np.isfinite(row), row - base + shift, 1e6)

        def jac(z: F) -> F:
            return jacobian(objective, lows + z * span, span, lows, highs, stop) * span

        fit = least_squares(shifted, (x - lows) / span, jac=jac, bounds=(0.0, 1.0), max_nfev=20)
        fits.append(lows + fit.x * span)
    sample = np.array(fits)
    lower, upper = np.percentile(sample, [2.5, 97.5], axis=0)
    return lower, upper, sample.std(axis=0, ddof=1)


def prediction_band(
    objective: Objective,
    every: list[Series],
    x: F,
    cov: F,
    noise: Mapping[str, float],
    lows: F,
    highs: F,
    loss: Loss,
) -> dict[str, tuple[F, F, F]]:
    """95% prediction band at every observation time by linear propagation (the delta
    method, as the Wald intervals): the parameters' covariance pushed through the Jacobian of
    the predictions (one batched call of d + 1 runs), plus each series' own residual noise
    (a series fitted worse gets a wider band than a well-fitted one). Directions the
    data cannot see leave the predictions unchanged to first order, so they do not blow the
    band up the way sampling them across their whole range would."""
    everything = Objective(
        objective.model, objective.names, every, loss, objective.fixed, options=objective.options
    )
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
