"""Global sensitivity analysis: which uncertain parameters drive an outcome (SALib).

Three pure steps, with the simulation between them left to the caller (one batched
``simulate`` for a small problem, a sweep driver running chunks for a large one)::

    d = design(distributions, method="sobol", n=1024)    # points in the unit cube
    params = values(d, distributions)                     # parameter values to simulate
    y = outcome.of(simulate(model, params))                # one number per run, in order
    frame = analyse(d, y)                                  # one row per parameter

:func:`sensitivity` does all four for a small model;
:func:`flywheel_sim.present.study.tornado_chart` draws the frame.

**Methods.** ``sobol``: Saltelli's sampling scheme on a scrambled Sobol' sequence and
SALib's estimators (Saltelli et al. 2010), ``n * (d + 2)`` runs for ``d`` parameters, giving
first-order indices ``S1`` (the share of the outcome's variance a parameter explains alone) and
total indices ``ST`` (its share including every interaction); ``ST - S1`` is what it does
through interactions. ``morris``: ``n`` one-at-a-time trajectories on a grid of ``levels``
levels (Morris 1991, Campolongo et al. 2007), ``n * (d + 1)`` runs, giving ``mu_star`` (mean
absolute elementary effect: importance), ``mu`` (signed mean: direction) and ``sigma``
(spread: non-linearity or interaction) — cheap screening, for ranking rather than
apportioning variance. ``*_conf`` columns are bootstrap half-widths of the confidence interval.

**Non-uniform inputs.** SALib samples the unit cube; each column is mapped through its
parameter's inverse CDF (:meth:`Distribution.ppf`). If ``U`` is uniform on [0, 1) then
``F⁻¹(U)`` has distribution ``F``, and independent columns stay independent, so the mapped
points are a sample of the joint input distribution. Sobol' indices are defined with respect
to that distribution (they split the variance of ``f(X)`` for ``X ~ F``), and the estimators
rely only on the A, B and mixed matrices sharing coordinates column by column, which a
column-wise mapping preserves; so a normal or lognormal input is handled as correctly as a
uniform one.

For Morris a step in the cube is a step in probability, and effects are reported per unit of
quantile: the outcome's change across the whole distribution at the observed rate. A bounded
input uses SALib's grid ``k / (levels - 1)`` as its quantiles, so a uniform input on [low,
high] gives exactly classic Morris on [low, high] (a linear ``c * x`` has ``mu_star = c *
(high - low)``). An unbounded input (normal, lognormal) cannot: quantiles 0 and 1 are its
infinite ends; its levels are the centres ``(k + 0.5) / levels`` of equal-probability strata
instead, with trajectory steps of exactly 1/2 in probability, and its effects are rescaled to
the same per-quantile unit, so parameters of both kinds are compared per equal slice of their
uncertainty.
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import ModelError, ParameterError
from flywheel_sim.studies.outcomes import Outcome, parse_outcome
from flywheel_sim.studies.sampling import Distribution

if TYPE_CHECKING:
    import pandas as pd

    from flywheel_sim.spec.model import Model

F = NDArray[np.float64]
SensitivityMethod = Literal["sobol", "morris"]
SENSITIVITY_METHODS: tuple[SensitivityMethod, ...] = get_args(SensitivityMethod)
SOBOL_COLUMNS = ("parameter", "S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("parameter", "mu", "mu_star", "mu_star_conf", "sigma")


@dataclass(frozen=True, slots=True, eq=False)
class Design:
    """A sensitivity design: ``unit`` is an (n_runs, d) array of points in the unit cube, one
    column per name in ``names``. Morris only: ``levels`` of its grid, and ``steps``, each
    column's trajectory step in probability (to express effects per unit of quantile)."""

    method: SensitivityMethod
    names: tuple[str, ...]
    unit: F
    levels: int = 4
    steps: tuple[float, ...] = ()

    @property
    def runs(self) -> int:
        return int(self.unit.shape[0])


def _problem(names: tuple[str, ...]) -> dict[str, Any]:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def _salib(part: str) -> Any:
    """``SALib.sample`` / ``SALib.analyze`` (imported on first use; an optional extra)."""
    try:
        return importlib.import_module(f"SALib.{part}")
    except ImportError:
        raise ModelError(
            "sensitivity analysis needs SALib", hint="pip install 'flywheel-sim[sensitivity]'"
        ) from None


def sensitivity_method(name: str) -> SensitivityMethod:
    """``name`` as a sensitivity method; ModelError otherwise."""
    if name in SENSITIVITY_METHODS:
        return name
    raise ModelError(
        f"unknown sensitivity method '{name}'",
        hint=f"use {' or '.join(SENSITIVITY_METHODS)}",
    )


def design(
    distributions: Mapping[str, Distribution],
    *,
    method: SensitivityMethod | str = "sobol",
    n: int = 1024,
    seed: int = 0,
    levels: int = 4,
) -> Design:
    """The unit-cube points to run: Sobol' (Saltelli, ``n * (d + 2)`` rows; ``n`` best a power
    of two) or Morris (``n`` trajectories on ``levels`` levels, ``n * (d + 1)`` rows).
    Deterministic in ``seed``."""
    method = sensitivity_method(method)
    names = tuple(distributions)
    if not names:
        raise ModelError("a sensitivity analysis needs at least one uncertain parameter")
    if n < 2:
        raise ModelError(f"a sensitivity design needs n >= 2 base samples, not {n}")
    problem = _problem(names)
    if method == "sobol":
        with warnings.catch_warnings():  # scipy warns when n is not a power of two
            warnings.simplefilter("ignore", UserWarning)
            unit = _salib("sample.sobol").sample(problem, n, calc_second_order=False, seed=seed)
        return Design(method, names, np.asarray(unit, dtype=float))
    if levels < 2 or levels % 2:
        raise ModelError(f"Morris needs an even number of levels (2, 4, 6 ...), not {levels}")
    grid = _salib("sample.morris").sample(problem, n, num_levels=levels, seed=seed)
    unit = np.asarray(grid, dtype=float)
    steps = []
    for j, name in enumerate(names):
        if all(map(math.isfinite, distributions[name].bounds())):
            steps.append(levels / (2 * (levels - 1)))  # SALib's step on its grid
        else:  # grid k / (levels - 1) -> stratum centres (k + 0.5) / levels; step 1/2
            unit[:, j] = (unit[:, j] * (levels - 1) + 0.5) / levels
            steps.append(0.5)
    return Design(method, names, unit, levels, tuple(steps))


def values(design: Design, distributions: Mapping[str, Distribution]) -> dict[str, F]:
    """The parameter values of every run: each column of ``design.unit`` through its
    distribution's inverse CDF. A mapping ready for ``simulate``."""
    missing = [name for name in design.names if name not in distributions]
    if missing:
        raise ModelError(f"no distribution for design parameter '{missing[0]}'")
    return {name: distributions[name].ppf(design.unit[:, j]) for j, name in enumerate(design.names)}


def _check_outcomes(design: Design, y: F) -> F:
    y = np.asarray(y, dtype=float).reshape(-1)
    if y.size != design.runs:
        raise ParameterError(
            f"the design has {design.runs} runs but {y.size} outcomes were given; "
            "pass one outcome per run, in design order"
        )
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ParameterError(
            f"{bad.size} of {y.size} runs gave a non-finite outcome (first: run {bad[0]}); "
            f"{design.method} estimators need every run — narrow the distributions or fix "
            "the model where it fails"
        )
    return y


def analyse(design: Design, y: F, *, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Sensitivity indices from one outcome per run (``y``, shape (n_runs,), design order).

    Sobol': columns parameter, S1, S1_conf, ST, ST_conf, sorted by ST. Morris: parameter, mu,
    mu_star, mu_star_conf, sigma, sorted by mu_star. ``*_conf`` is the half-width of the
    bootstrap ``confidence`` interval."""
    import pandas as pd

    sensitivity_method(design.method)
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be between 0 and 1, not {confidence}")
    y = _check_outcomes(design, y)
    problem = _problem(design.names)
    if design.method == "sobol":
        if np.ptp(y) == 0:
            raise ParameterError(
                f"the outcome is {y[0]:g} in every run, so it has no variance to apportion; "
                "choose an outcome the parameters affect"
            )
        si = _salib("analyze.sobol").analyze(
            problem, y, calc_second_order=False, conf_level=confidence, seed=seed
        )
        key, columns = "ST", SOBOL_COLUMNS
    else:
        si = _salib("analyze.morris").analyze(
            problem, design.unit, y, conf_level=confidence, num_levels=design.levels, seed=seed
        )
        key, columns = "mu_star", MORRIS_COLUMNS
    scale = np.ones(len(design.names))
    if design.method == "morris":  # SALib divides by its grid step; use each column's own
        grid_step = design.levels / (2 * (design.levels - 1))
        scale = grid_step / np.asarray(design.steps or [grid_step] * len(design.names))
    data: dict[str, Any] = {"parameter": list(design.names)}
    data.update({c: np.asarray(si[c], dtype=float) * scale for c in columns[1:]})
    frame = pd.DataFrame(data, columns=list(columns))
    frame = frame.sort_values(key, ascending=False, kind="stable").reset_index(drop=True)
    frame.attrs.update(method=design.method, confidence=confidence)
    return frame


def sensitivity(
    model: Model,
    distributions: Mapping[str, Distribution],
    outcome: Outcome | str,
    *,
    method: SensitivityMethod | str = "sobol",
    n: int = 1024,
    seed: int = 0,
) -> pd.DataFrame:
    """Design, simulate every run in one batched call, and analyse ``outcome``
    (``variable@time`` or an :class:`Outcome`). For problems small enough to run at once."""
    from flywheel_sim.engine.simulate import simulate

    chosen = parse_outcome(outcome, model) if isinstance(outcome, str) else outcome
    plan = design(distributions, method=method, n=n, seed=seed)
    result = simulate(model, values(plan, distributions), variables=[chosen.variable])
    return analyse(plan, chosen.of(result), seed=seed)
