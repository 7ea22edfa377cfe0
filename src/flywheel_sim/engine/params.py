"""The parameter matrix of a batch: one column of parameter values per run, checked against
the declared ranges, and one random-stream seed per run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from flywheel_sim._types import F64, I64
from flywheel_sim.compile import Program
from flywheel_sim.engine.derived import derived
from flywheel_sim.errors import ParameterError, did_you_mean
from flywheel_sim.spec.names import canonical

if TYPE_CHECKING:
    import pandas as pd

ParamValues = Mapping[str, float | Sequence[float] | F64]
OutOfRange = Literal["error", "clip"]  # reject values outside [min, max], or clip them
OUT_OF_RANGE: tuple[OutOfRange, ...] = get_args(OutOfRange)


def parameter_matrix(
    program: Program, params: ParamValues | pd.DataFrame | None, out_of_range: OutOfRange
) -> tuple[F64, int]:
    """Resolve ``params`` into a (parameters, runs) matrix of values and the number of runs."""
    columns = named_columns(params)
    n = 1
    for name, values in columns.items():
        if values.ndim > 1:
            raise ParameterError(f"parameter '{name}' must be a scalar or a 1-D array")
        if values.size != 1:
            if n not in (1, values.size):
                raise ParameterError(
                    f"parameter '{name}' has {values.size} values but another "
                    f"has {n}; give every array the same length"
                )
            n = values.size
    matrix = np.repeat(program.param_default[:, None], n, axis=1)
    groups = derived(program, parameter_rows)
    for name, values in columns.items():
        key = canonical(name)
        if key not in groups:
            hint = did_you_mean(key, list(groups)) or (
                "parameters: " + ", ".join(sorted(groups)[:12])
            )
            raise ParameterError(f"unknown parameter '{name}' in model '{program.name}' — {hint}")
        for index in groups[key]:
            matrix[index] = values if values.size != 1 else values.reshape(())
    check_ranges(program, matrix, out_of_range)
    return matrix, n


def named_columns(params: Any) -> dict[str, F64]:
    """``params`` (a mapping or a DataFrame) as name -> float array."""
    if params is None:
        return {}
    if hasattr(params, "columns") and hasattr(params, "to_numpy"):
        return {str(c): as_float(params[c].to_numpy(), str(c)) for c in params.columns}
    if not isinstance(params, Mapping):
        raise ParameterError("params must be a mapping of names to values or a DataFrame")
    return {str(k): as_float(v, str(k)) for k, v in params.items()}


def as_float(value: Any, name: str) -> F64:
    """``value`` as a float array; ParameterError if it is not numeric or not finite."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter '{name}' must be numeric, not {value!r}") from None
    if not np.isfinite(arr).all():
        raise ParameterError(f"parameter '{name}' has a non-finite value")
    return arr


def parameter_rows(program: Program) -> dict[str, list[int]]:
    """Parameter key -> its rows in the matrix (a subscripted parameter's base name -> all)."""
    groups: dict[str, list[int]] = {}
    for index, key in enumerate(program.param_keys):
        groups.setdefault(key, []).append(index)
        base = key.split("[")[0]
        if base != key:
            groups.setdefault(base, []).append(index)
    return groups


def check_ranges(program: Program, matrix: F64, mode: OutOfRange) -> None:
    """Clip ``matrix`` into the declared ranges in place, or raise for the first value out."""
    lo = np.where(np.isnan(program.param_min), -np.inf, program.param_min)[:, None]
    hi = np.where(np.isnan(program.param_max), np.inf, program.param_max)[:, None]
    if mode == "clip":
        np.clip(matrix, lo, hi, out=matrix)
        return
    bad = (matrix < lo) | (matrix > hi)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise ParameterError(
            f"parameter '{program.param_keys[row]}' = {matrix[row, col]:g} (run {col}) is "
            f"outside its declared range [{lo[row, 0]:g}, {hi[row, 0]:g}] — pass a value in "
            "range, or ask for clipping (options=Options(out_of_range='clip'), CLI --clip)"
        )


MAX_SEED = 2**63 - 1  # seeds are stored as signed 64-bit integers


def run_seeds(seed: int | Sequence[int] | I64 | None, n: int) -> I64:
    """One seed per run: one integer derives a stream per run; an array gives each run its own.
    A seed is a whole number from 0 to 2^63 - 1 (:data:`MAX_SEED`); ParameterError otherwise."""
    if seed is None:
        seed = 0
    arr = np.asarray(seed)
    if arr.ndim == 0:
        number = check_seed(arr.item())
        return _stream_seeds(number, n).copy() if n <= 1024 else _derive_seeds(number, n)
    if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == object):
        raise ParameterError("seed must be an integer or a 1-D array of integers")
    if n != 1 and arr.size != n:
        raise ParameterError(f"{arr.size} seeds given for {n} runs")
    if arr.dtype != object and arr.size and arr.min() >= 0 and arr.max() <= MAX_SEED:
        return arr.astype(np.int64)
    return np.array([check_seed(v) for v in arr.tolist()], dtype=np.int64)


def _derive_seeds(seed: int, n: int) -> I64:
    """The seeds of ``n`` runs derived from one seed (a stream per run)."""
    from flywheel_sim import rng

    base = np.array([seed], dtype=np.uint64)
    derived = rng.mix(base + np.arange(n, dtype=np.uint64) * rng.GOLDEN)
    return (derived >> np.uint64(1)).astype(np.int64)


@lru_cache(maxsize=64)
def _stream_seeds(seed: int, n: int) -> I64:
    """:func:`_derive_seeds` of a few runs, kept (read-only) for the next call: one run's
    seeds are a fifth of ``simulate``'s own work besides the VM."""
    seeds = _derive_seeds(seed, n)
    seeds.flags.writeable = False
    return seeds


def check_seed(value: object, what: str = "seed") -> int:
    """``value`` as a seed: a whole number from 0 to 2^63 - 1, else ParameterError."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)  # 42.0 is 42
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(f"{what} {value!r} must be a whole number")
    number = int(value)
    if not 0 <= number <= MAX_SEED:
        shown = str(number) if number.bit_length() <= 128 else f"of {number.bit_length()} bits"
        raise ParameterError(
            f"{what} {shown} is out of range — use a whole number from 0 to {MAX_SEED} (2^63 - 1)"
        )
    return number
