"""Assembling VM output into the one result shape: an ``xarray.Dataset``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from flywheel_sim._types import F64, I64
from flywheel_sim.compile import Program
from flywheel_sim.engine.derived import derived
from flywheel_sim.engine.grid import Grid

if TYPE_CHECKING:
    import xarray as xr


@dataclass(frozen=True, slots=True)
class RunArrays:
    """What a batch of runs computed, before it becomes a Dataset.

    ``out`` is (saved slots, saved times, runs), the slots of the ``chosen`` variables in
    order; ``fail_slot`` is -1 for a run that finished, else the slot that went non-finite
    first, at ``fail_time``.
    """

    program: Program
    grid: Grid
    method: str  # the integration method's name
    matrix: F64  # (parameters, runs)
    seeds: I64
    chosen: list[int]  # indices into program.variables, in the order of out's slots
    out: F64
    fail_slot: I64
    fail_time: F64


@dataclass(frozen=True, slots=True)
class Layout:
    """What every result of one Program shares (:func:`layout`, computed once per Program)."""

    # per model variable: its key, the dims of its data, its element shape and its attrs
    data: tuple[tuple[str, tuple[str, ...], tuple[int, ...], dict[str, str]], ...]
    dims: tuple[tuple[str, tuple[str, ...]], ...]  # the model's dimensions and their members
    # per parameter coordinate: its name, its rows in the matrix, its model dims and shape
    params: tuple[tuple[str, I64, tuple[str, ...], tuple[int, ...]], ...]


def layout(program: Program) -> Layout:
    """The :class:`Layout` of ``program``'s results (cached: :func:`.derived.derived`)."""
    return derived(program, _layout)


def _layout(program: Program) -> Layout:
    data = tuple(
        (
            var.key,
            ("run", "time", *var.dims),
            tuple(len(c) for c in var.coords),
            {"units": var.unit, "description": var.description, "kind": var.kind, "name": var.name},
        )
        for var in program.variables
    )
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(program.param_keys):
        groups.setdefault(key.split("[")[0], []).append(i)
    params = []
    for var in program.variables:
        if var.kind not in ("parameter", "policy") or var.key not in groups:
            continue
        # a parameter that follows a policy is a time series; its coordinate is the base value
        name = var.key if var.kind == "parameter" else f"{var.key}@base"
        rows = np.array(groups[var.key], dtype=np.int64)
        params.append((name, rows, var.dims, tuple(len(c) for c in var.coords)))
    return Layout(data, program.dims, tuple(params))


def assemble(arrays: RunArrays) -> xr.Dataset:
    """Build the Dataset: one data variable per chosen model variable, runs and times as dims."""
    program, grid, matrix, out = arrays.program, arrays.grid, arrays.matrix, arrays.out
    shared = layout(program)
    data: dict[str, tuple[tuple[str, ...], F64, dict[str, str]]] = {}
    cursor = 0
    for index in arrays.chosen:
        key, dims, shape, attrs = shared.data[index]
        width = len(program.variables[index].slots)
        block = out[cursor : cursor + width]  # (elements, times, runs)
        cursor += width
        if not shape:
            data[key] = (dims, block[0].T, attrs)  # xarray copies attrs into each Variable
        else:
            arr = np.moveaxis(block.reshape(*shape, *block.shape[1:]), (-1, -2), (0, 1))
            data[key] = (dims, arr, attrs)
    coords: dict[str, object] = {
        "run": np.arange(matrix.shape[1]),
        "time": grid.times,
        "seed": ("run", arrays.seeds),
    }
    for dim, members in shared.dims:
        coords[dim] = list(members)
    for name, rows, dims, shape in shared.params:
        values = matrix[rows]  # a copy: the result shares no memory with the matrix
        if dims:
            coords[name] = (("run", *dims), np.moveaxis(values.reshape(*shape, -1), -1, 0))
        else:
            coords[name] = ("run", values[0])
    coords.update(_failures(program, arrays.fail_slot, arrays.fail_time))
    meta: dict[str, object] = {
        "model": program.name,
        "method": arrays.method,
        "dt": grid.dt,
        "time_units": program.time.units,
        "save_step": grid.dt * grid.save_every,
    }
    return build_dataset(data, coords, meta)


def _failures(program: Program, fail_slot: I64, fail_time: F64) -> dict[str, object]:
    """The ``status``, ``failed_variable`` and ``failed_time`` coordinates on ``run``."""
    failed = fail_slot >= 0
    if failed.any():
        labels = np.array([program.label(int(s)) if s >= 0 else "" for s in fail_slot], dtype=str)
    else:
        labels = np.full(len(fail_slot), "", dtype="<U1")  # what np.array(["", ...]) gives
    return {
        "status": ("run", np.where(failed, "failed", "ok")),
        "failed_variable": ("run", labels),
        "failed_time": ("run", fail_time),
    }


DIRECT = True  # use xarray's direct constructor (tests switch it off to compare)


@lru_cache(maxsize=64)
def _index(name: str, raw: bytes, dtype: str) -> tuple[Any, Any]:
    """An (immutable) index and index variable, reused across results with the same axis.

    Built as xarray's own constructor builds them (``PandasIndex.create_variables``) but from
    a ``pandas.Index`` we make: handed a NumPy array, xarray first asks whether it is a dask
    array, and asking imports dask (~0.3 s, and SciPy with it) when dask is installed."""
    import pandas as pd
    import xarray as xr

    values = np.frombuffer(raw, dtype=dtype).copy()
    values.flags.writeable = False
    index = xr.indexes.PandasIndex(pd.Index(values, name=name), name, coord_dtype=values.dtype)
    return index, index.create_variables()[name]


def _variable(dims: tuple[str, ...], values: Any, attrs: dict[str, str] | None = None) -> Any:
    """``xr.Variable(dims, values, attrs)``; a plain NumPy array of numbers or strings skips
    the conversions xarray would make (there are none to make for those: see
    ``xarray.core.variable.as_compatible_data``) through the ``fastpath`` argument."""
    import xarray as xr

    fast = type(values) is np.ndarray and values.dtype.kind in "biufcU"
    return xr.Variable(dims, values, attrs, fastpath=fast)


def build_dataset(
    data: dict[str, tuple[tuple[str, ...], F64, dict[str, str]]],
    coords: dict[str, object],
    attrs: dict[str, object],
) -> xr.Dataset:
    """``xr.Dataset(data, coords=coords, attrs=attrs)``, built without its merge machinery.

    Our variables are aligned by construction, so the general constructor's alignment and
    merging (~0.5 ms, more than a whole simulation of a small model) is wasted. We build the
    variables and indexes ourselves and use xarray's direct constructor; if a future xarray
    changes that private entry point we fall back to the public constructor (a test checks
    both give identical Datasets).
    """
    import xarray as xr

    try:
        if not DIRECT:
            raise AttributeError("direct construction disabled")
        variables: dict[str, xr.Variable] = {}
        indexes = {}
        dims: dict[str, int] = {}
        shapes: list[tuple[tuple[str, ...], tuple[int, ...]]] = []
        for name, value in coords.items():
            if isinstance(value, tuple):
                values = np.asarray(value[1])
                dim_names = (value[0],) if isinstance(value[0], str) else tuple(value[0])
                variables[name] = _variable(dim_names, values)
                shapes.append((dim_names, values.shape))
            else:
                values = np.asarray(value)
                index, variable = _index(name, values.tobytes(), values.dtype.str)
                indexes[name] = index
                variables[name] = variable
                dims[name] = len(values)
        for name, (var_dims, values, var_attrs) in data.items():
            variables[name] = _variable(var_dims, values, var_attrs)
            shapes.append((var_dims, values.shape))
        for var_dims, shape in shapes:
            if len(var_dims) != len(shape):
                raise ValueError(f"dimensions {var_dims} do not match the shape {shape}")
            for dim, size in zip(var_dims, shape, strict=True):
                if dims.setdefault(dim, size) != size:
                    raise ValueError(f"inconsistent size of {dim}")
        construct = xr.Dataset._construct_direct
        return construct(variables, set(coords), dims, dict(attrs), indexes=indexes)
    except (AttributeError, TypeError, ValueError):
        return xr.Dataset(data, coords=coords, attrs=attrs)
