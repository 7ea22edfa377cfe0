"""Parameter distributions and sampling designs for Monte Carlo sweeps.

A :class:`Distribution` maps uniform numbers in [0, 1) to parameter values through its
inverse CDF (scipy.special), so every design — plain Monte Carlo, Latin hypercube, Sobol'
sequences — is a matrix of uniforms transformed column by column. Kinds and their fields:

==========  ===========================================  ===============================
kind        fields                                        command line
==========  ===========================================  ===============================
uniform     low, high                                     ``uniform:LOW,HIGH``
normal      mean, sd (optional low, high: truncated)      ``normal:MEAN,SD[,LOW,HIGH]``
lognormal   median, sigma (of the log)                    ``lognormal:MEDIAN,SIGMA``
triangular  low, mode, high                               ``triangular:LOW,MODE,HIGH``
beta        a, b (optional low, high: scaled; 0..1)       ``beta:A,B[,LOW,HIGH]``
discrete    values (optional weights)                     ``discrete:V1,V2,...``
==========  ===========================================  ===============================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.engine.params import check_seed
from flywheel_sim.errors import ModelError

F = NDArray[np.float64]

FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required fields, optional fields)
    "uniform": (("low", "high"), ()),
    "normal": (("mean", "sd"), ("low", "high")),
    "lognormal": (("median", "sigma"), ()),
    "triangular": (("low", "mode", "high"), ()),
    "beta": (("a", "b"), ("low", "high")),
    "discrete": (("values",), ("weights",)),
}
MAX_SAMPLES = 10_000_000  # runs in one sweep or analysis: refused above, before allocating
DESIGN_BYTES = 40  # memory a design takes per run and varied parameter (measured, rounded up)
STORED_BYTES = 8  # store space per run, outcome variable and saved time, at least
Method = Literal["montecarlo", "lhs", "sobol"]
METHODS: tuple[Method, ...] = get_args(Method)


def method_named(name: str, *, what: str = "sampling method") -> Method:
    """``name`` as a sampling method; ModelError naming ``what`` was asked for otherwise (the
    command line says ``--method``)."""
    if name in METHODS:
        return name
    raise ModelError(f"unknown {what} '{name}'", hint=f"use {', '.join(METHODS)}")


def check_runs(runs: int, option: str, asked: int | None = None) -> None:
    """LimitError when a design of ``runs`` runs (``option`` set to ``asked``, default
    ``runs``) exceeds :data:`MAX_SAMPLES`, before anything is allocated: what it would need
    in memory and in the run store, and what to do instead."""
    if runs <= MAX_SAMPLES:
        return
    from flywheel_sim.errors import LimitError

    asked = runs if asked is None else asked
    what = f"{option} {asked:,}" + (f" ({runs:,} runs)" if asked != runs else "")
    raise LimitError(
        f"{what} is more than the {MAX_SAMPLES:,} runs one batch may have: its design alone "
        f"would need about {_size(runs * DESIGN_BYTES)} of memory per varied parameter, and "
        f"the run store at least {_size(runs * STORED_BYTES)} per outcome variable and saved "
        f"time — split it into several batches of at most {MAX_SAMPLES:,} runs (different "
        "--seed values)"
    )


def _size(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:,.0f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:,.0f} MB"


@dataclass(frozen=True, slots=True)
class SamplingSettings:
    """A sampling design: ``samples`` runs drawn by ``method`` from ``seed``. Its errors name
    the command-line options it mirrors (``--samples``)."""

    samples: int = 1000
    method: Method = "lhs"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ModelError(f"--samples must be at least 1, not {self.samples}")
        check_runs(self.samples, "--samples")
        method_named(self.method)
        check_seed(self.seed, "--seed")

    def draw(self, distributions: Mapping[str, Distribution]) -> dict[str, F]:
        """The design's values of every parameter (see :func:`sample`)."""
        return sample(distributions, self.samples, method=self.method, seed=self.seed)


@dataclass(frozen=True, slots=True)
class Distribution:
    """A parameter's uncertainty: ``kind`` and its fields (see the module docstring)."""

    kind: str
    fields: tuple[tuple[str, Any], ...]

    def __post_init__(self) -> None:
        if self.kind not in FIELDS:
            raise ModelError(
                f"unknown distribution '{self.kind}'", hint=f"use one of {', '.join(FIELDS)}"
            )
        required, optional = FIELDS[self.kind]
        given = dict(self.fields)
        missing = [f for f in required if f not in given]
        extra = [f for f in given if f not in required + optional]
        if missing or extra:
            raise ModelError(
                f"a {self.kind} distribution needs {', '.join(required)}"
                + (f" (optional: {', '.join(optional)})" if optional else "")
                + (f"; '{extra[0]}' is not one of its fields" if extra else "")
            )
        for name, value in given.items():
            if name in ("values", "weights"):
                if (
                    not isinstance(value, tuple)
                    or not value
                    or not all(_is_number(v) for v in value)
                ):
                    raise ModelError(f"discrete {name} must be a non-empty list of numbers")
            elif not _is_number(value):
                raise ModelError(f"{self.kind} {name} must be a finite number, not {value!r}")
        self._check(given)

    def _check(self, f: dict[str, Any]) -> None:
        kind = self.kind
        if kind == "uniform" and not f["low"] < f["high"]:
            raise ModelError("uniform low must be below high")
        if kind == "normal" and not f["sd"] > 0:
            raise ModelError("normal sd must be positive")
        if kind == "normal" and "low" in f and "high" in f and not f["low"] < f["high"]:
            raise ModelError("normal low must be below high")
        if kind == "lognormal" and not (f["median"] > 0 and f["sigma"] > 0):
            raise ModelError("lognormal median and sigma must be positive")
        if kind == "triangular" and not f["low"] <= f["mode"] <= f["high"] > f["low"]:
            raise ModelError("triangular needs low <= mode <= high, low < high")
        if kind == "beta" and not (f["a"] > 0 and f["b"] > 0):
            raise ModelError("beta a and b must be positive")
        if kind == "beta" and not f.get("low", 0.0) < f.get("high", 1.0):
            raise ModelError("beta low must be below high")
        if kind == "discrete" and "weights" in f:
            weights = f["weights"]
            if len(weights) != len(f["values"]) or min(weights) < 0 or sum(weights) <= 0:
                raise ModelError("discrete weights: one non-negative weight per value")

    def get(self, name: str, default: float | None = None) -> Any:
        return dict(self.fields).get(name, default)

    def ppf(self, u: F) -> F:
        """Values at the quantiles ``u`` (the inverse CDF). Computed from ``scipy.special``
        (importing ``scipy.stats`` takes ~0.6 s, a sweep's whole start-up); checked against
        ``scipy.stats`` in the tests."""
        from scipy import special

        f = dict(self.fields)
        u = np.clip(np.asarray(u, dtype=float), 0.0, np.nextafter(1.0, 0.0))
        if self.kind == "uniform":
            return np.asarray(f["low"] + u * (f["high"] - f["low"]), dtype=float)
        if self.kind == "normal":
            if "low" not in f:
                return np.asarray(special.ndtri(u) * f["sd"] + f["mean"], dtype=float)
            lo = (f["low"] - f["mean"]) / f["sd"]
            hi = (f["high"] - f["mean"]) / f["sd"]
            return np.asarray(_truncated_normal(u, lo, hi) * f["sd"] + f["mean"], dtype=float)
        if self.kind == "lognormal":
            return np.asarray(f["median"] * np.exp(f["sigma"] * special.ndtri(u)), dtype=float)
        if self.kind == "triangular":
            width = f["high"] - f["low"]
            c = (f["mode"] - f["low"]) / width
            x = np.where(u < c, np.sqrt(c * u), 1.0 - np.sqrt((1.0 - c) * (1.0 - u)))
            return np.asarray(x * width + f["low"], dtype=float)
        if self.kind == "beta":
            low, high = f.get("low", 0.0), f.get("high", 1.0)
            x = special.betaincinv(f["a"], f["b"], u)
            return np.asarray(x * (high - low) + low, dtype=float)
        values = np.asarray(f["values"], dtype=float)
        weights = np.asarray(f.get("weights", [1.0] * len(values)), dtype=float)
        edges = np.cumsum(weights) / weights.sum()
        return np.asarray(values[np.searchsorted(edges, u, side="right")], dtype=float)

    def bounds(self) -> tuple[float, float]:
        """The support, for range checks (infinite where unbounded)."""
        f = dict(self.fields)
        if self.kind in ("uniform", "triangular"):
            return float(f["low"]), float(f["high"])
        if self.kind == "normal":
            return float(f.get("low", -math.inf)), float(f.get("high", math.inf))
        if self.kind == "lognormal":
            return 0.0, math.inf
        if self.kind == "beta":
            return float(f.get("low", 0.0)), float(f.get("high", 1.0))
        return float(min(f["values"])), float(max(f["values"]))

    def describe(self) -> str:
        body = ", ".join(
            f"{k}={list(v) if isinstance(v, tuple) else f'{v:g}'}" for k, v in self.fields
        )
        return f"{self.kind}({body})"


def _truncated_normal(u: F, lo: float, hi: float) -> F:
    """Quantiles of the standard normal truncated to [lo, hi]: the normal quantile of the
    truncated share of probability, taken from the nearer tail (where the CDF keeps its
    digits). A truncation to a sliver of far tail (mass below 1e-10) goes to scipy.stats,
    whose truncnorm is built for it."""
    from scipy import special

    if lo >= 0.0:  # upper tail: through the survival function
        top, bottom = special.ndtr(-lo), special.ndtr(-hi)
        mass = top - bottom
        x = -special.ndtri(top - u * mass) if mass > 1e-10 else None
    else:
        bottom, top = special.ndtr(lo), special.ndtr(hi)
        mass = top - bottom
        x = special.ndtri(bottom + u * mass) if mass > 1e-10 else None
    if x is None:
        from scipy import stats

        x = stats.truncnorm(lo, hi).ppf(u)
    clipped: F = np.clip(np.asarray(x, dtype=float), lo, hi)
    return clipped


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def distribution_from_mapping(raw: Any, where: str) -> Distribution:
    """``{dist: uniform, low: 0.1, high: 0.3}`` (as in a scenario file's ``uncertainty:``)."""
    if not isinstance(raw, Mapping) or "dist" not in raw:
        raise ModelError(
            f"{where}: a distribution is a mapping with dist: and its fields",
            hint="e.g. {dist: uniform, low: 0.1, high: 0.3}",
        )
    fields = tuple(
        (str(k), tuple(v) if isinstance(v, list) else v) for k, v in raw.items() if k != "dist"
    )
    try:
        return Distribution(str(raw["dist"]), fields)
    except ModelError as exc:
        raise ModelError(f"{where}: {exc.message}", hint=exc.hint) from None


def parse_distribution(text: str) -> Distribution:
    """``uniform:0.1,0.3`` and the other command-line forms in the module docstring."""
    kind, _, body = text.partition(":")
    kind = kind.strip().lower()
    usage = "write e.g. uniform:0.1,0.3, normal:1,0.2, triangular:0,1,3 or discrete:1,2,4"
    if kind not in FIELDS or not body:
        raise ModelError(f"cannot read distribution '{text}'", hint=usage)
    try:
        numbers = [float(x) for x in body.split(",")]
    except ValueError:
        raise ModelError(f"cannot read distribution '{text}'", hint=usage) from None
    if kind == "discrete":
        return Distribution(kind, (("values", tuple(numbers)),))
    required, optional = FIELDS[kind]
    names = required + optional
    if not len(required) <= len(numbers) <= len(names) or len(numbers) == len(required) + 1:
        raise ModelError(
            f"distribution '{text}' needs {', '.join(required)}"
            + (f" (and optionally {', '.join(optional)})" if optional else ""),
            hint=usage,
        )
    return Distribution(kind, tuple(zip(names, numbers, strict=False)))


def uniforms(method: Method | str, n: int, d: int, seed: int) -> F:
    """An (n, d) design of numbers in [0, 1): ``montecarlo`` (independent), ``lhs`` (Latin
    hypercube: every one of n equal strata of each dimension sampled once) or ``sobol``
    (scrambled Sobol' sequence, best with n a power of two). Deterministic in ``seed``.

    The Latin hypercube is drawn here (a random stratum order per dimension and a uniform
    point inside each stratum, as scipy's ``LatinHypercube`` does), not with scipy.stats.qmc:
    importing scipy.stats takes ~0.6 s, which was a fifth of a short sweep."""
    if n < 1 or d < 1:
        raise ModelError("a sampling design needs at least one sample and one parameter")
    method = method_named(method)
    if method == "montecarlo":
        return np.random.default_rng(seed).random((n, d))
    if method == "lhs":
        rng = np.random.default_rng(seed)
        strata = np.column_stack([rng.permutation(n) for _ in range(d)])
        return np.asarray((strata + rng.random((n, d))) / n, dtype=float)
    import warnings

    from scipy.stats import qmc

    with warnings.catch_warnings():  # scipy warns when n is not a power of two
        warnings.simplefilter("ignore", UserWarning)
        return np.asarray(qmc.Sobol(d=d, scramble=True, seed=seed).random(n), dtype=float)


def sample(
    distributions: Mapping[str, Distribution],
    n: int,
    *,
    method: Method | str = "lhs",
    seed: int = 0,
) -> dict[str, F]:
    """``n`` samples of every parameter: a mapping ready for ``simulate``."""
    names = list(distributions)
    design = uniforms(method, n, len(names), seed)
    return {name: distributions[name].ppf(design[:, j]) for j, name in enumerate(names)}
