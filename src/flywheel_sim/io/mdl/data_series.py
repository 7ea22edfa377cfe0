"""A Vensim data series (a ``:=`` data variable's values at distinct times) as a lookup over time.

Vensim fixes a data variable's value between its time points by the keyword of its equation
(Vensim help, "Data Equations"; ``x :HOLD BACKWARD: := GET XLS DATA(...)``):

- ``:INTERPOLATE:`` (the default): linear between points;
- ``:HOLD BACKWARD:``: a point's value holds until the next point;
- ``:LOOK FORWARD:``: between two points, the next point's value (at a point, its own);
- ``:RAW:``: the value at a point, :NA: (:data:`NA`, −2¹⁰⁹) anywhere else.

A missing point (an empty cell, NaN from :func:`~flywheel_sim.io.mdl.data.read_data`) is
skipped: the first three interpolate or hold over it ("ignored or interpolated over", Vensim
help, ":NA:"); :RAW: data is :NA: there. Before the first point and after the last, the first
three hold the end values (as PySD does; the SDXorg test models stop at their last point);
:RAW: data is :NA: there too.

:func:`data_table` makes each as one of our lookups (:class:`~flywheel_sim.spec.model.
GraphicalFunction`) to call with TIME, exactly: ``discrete`` tables with points placed one
floating-point step after a data time (``numpy.nextafter``) give Vensim's value at and between
the points bit for bit. :func:`data_at` evaluates the same semantics directly, for checking.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from flywheel_sim.io.mdl.data_files import Where
from flywheel_sim.io.mdl.expr import NA  # Vensim's :NA: value (−2¹⁰⁹ ≈ −6.49e32)
from flywheel_sim.spec.model import GraphicalFunction

FloatArray = npt.NDArray[np.float64]
Method = Literal["interpolate", "hold backward", "look forward", "raw"]
METHODS: tuple[Method, ...] = ("interpolate", "hold backward", "look forward", "raw")


def data_method(keyword: str | None, *, where: Where | None = None) -> Method:
    """The method a data equation's keyword names: ``:HOLD BACKWARD:``, ``hold_backward`` or
    ``HOLD BACKWARD`` all give ``"hold backward"``; none gives ``"interpolate"``."""
    if keyword is None or not keyword.strip(" :"):
        return "interpolate"
    name = " ".join(keyword.strip().strip(":").replace("_", " ").lower().split())
    for method in METHODS:
        if name == method:
            return method
    where = where or Where(function="data equation")
    raise where.error(
        f"unknown data keyword '{keyword}'",
        "use :INTERPOLATE:, :HOLD BACKWARD:, :LOOK FORWARD: or :RAW:",
    )


def _after(x: FloatArray) -> FloatArray:
    return np.nextafter(x, np.inf)


def _points(
    times: FloatArray, values: FloatArray, method: Method, where: Where
) -> tuple[FloatArray, FloatArray]:
    """The series' known points (missing ones dropped, except for :RAW:)."""
    t = np.asarray(times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or v.shape != t.shape:
        raise ValueError(f"times {t.shape} and values {v.shape} must be two equal vectors")
    known = ~np.isnan(v)
    if not known.any():
        raise where.error(
            "the data series has no values (every cell is empty)",
            "fill the data cells, or check the first cell",
        )
    if method == "raw":
        return t, np.where(known, v, NA)
    return t[known], v[known]


def data_table(
    times: FloatArray, values: FloatArray, method: Method, *, where: Where | None = None
) -> GraphicalFunction:
    """One data series (``times`` (n,), ``values`` (n,), NaN where missing) as a lookup of
    TIME with Vensim's ``method``; see the module's description."""
    where = where or Where(function="data equation")
    t, v = _points(times, values, method, where)
    if method == "interpolate" or (len(t) == 1 and method != "raw"):
        return GraphicalFunction(tuple(t.tolist()), tuple(v.tolist()), "continuous")
    if method == "hold backward":
        return GraphicalFunction(tuple(t.tolist()), tuple(v.tolist()), "discrete")
    if method == "look forward":  # y_i at t_i, then y_(i+1) from just after t_i
        xs = np.empty(2 * len(t) - 1)
        ys = np.empty(2 * len(t) - 1)
        xs[0::2], ys[0::2] = t, v
        xs[1::2], ys[1::2] = _after(t[:-1]), v[1:]
        return GraphicalFunction(tuple(xs.tolist()), tuple(ys.tolist()), "discrete")
    # raw: :NA: before, between and after the points
    xs = np.empty(2 * len(t) + 1)
    ys = np.full(2 * len(t) + 1, NA)
    xs[0] = np.nextafter(t[0], -np.inf)
    xs[1::2], ys[1::2] = t, v
    xs[2::2] = _after(t)
    return GraphicalFunction(tuple(xs.tolist()), tuple(ys.tolist()), "discrete")


def data_at(
    times: FloatArray,
    values: FloatArray,
    at: npt.ArrayLike,
    method: Method,
    *,
    where: Where | None = None,
) -> FloatArray:
    """The series' value at each time of ``at`` by Vensim's ``method``, computed directly (not
    through a lookup): the reference :func:`data_table` is checked against."""
    where = where or Where(function="data equation")
    t, v = _points(times, values, method, where)
    x = np.asarray(at, dtype=np.float64)
    if method == "interpolate":
        return np.asarray(np.interp(x, t, v), dtype=np.float64)
    exact = np.searchsorted(t, x, side="left")
    hit = (exact < len(t)) & (t[np.minimum(exact, len(t) - 1)] == x)
    if method == "raw":
        return np.where(hit, v[np.minimum(exact, len(t) - 1)], NA)
    # hold backward: the last point at or before x; look forward: the first at or after x
    index = np.searchsorted(t, x, side="right") - 1 if method == "hold backward" else exact
    return np.asarray(v[np.clip(index, 0, len(t) - 1)], dtype=np.float64)


__all__ = ["METHODS", "NA", "Method", "data_at", "data_method", "data_table"]
