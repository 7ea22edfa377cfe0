"""Vensim's GET DATA BETWEEN TIMES(datavar, time, mode): a data variable read at any time.

Vensim help, *Reference Guide > Functions > Data Functions > GET DATA BETWEEN TIMES*: the
value of a data variable at ``time``, "or :NA: if the time is before the first or after the
last data point"; ``mode`` 0 interpolates, 1 gives "the later time value (same as :LOOK
FORWARD:)", -1 "the earlier time value (same as :HOLD BACKWARD:)"; a variable that is not a
Data variable gives :NA:.

"The earlier time value" is read as Vensim's own output reads it (SDEverywhere's ``getdata``
test model ships Vensim's ``getdata.dat``): at a data point's own time, mode -1 gives the
point before it (the first point gives its own value); mode 1 gives the point's own value.

Each series (a data variable's element, read from a file by GET DATA or from a dataset) gets
four hidden lookups of time, named after its series (``x series[a1] between interpolate``
...): one per mode, and ``between range`` (1 from the first to the last point, 0 outside),
and the call becomes ``IF THEN ELSE(range(time) = 1, mode table(time), :NA:)``.
"""

from __future__ import annotations

import math
import re

import numpy as np

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.data_series import FloatArray, data_table
from flywheel_sim.io.mdl.expr import NA
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num, Unary, Var
from flywheel_sim.spec.model import GraphicalFunction
from flywheel_sim.spec.names import canonical

FUNC = "GET DATA BETWEEN TIMES"
MODES = {0.0: "interpolate", 1.0: "forward", -1.0: "backward"}
FIRST_ARG = re.compile(r"GET\s+DATA\s+BETWEEN\s+TIMES\s*\(\s*(\"[^\"]*\"|[^,\[(\"]+)", re.I)


def used_series(texts: list[str]) -> set[str]:
    """The canonical names of the variables GET DATA BETWEEN TIMES reads in ``texts``."""
    return {canonical(m.group(1).strip().strip('"')) for t in texts for m in FIRST_ARG.finditer(t)}


def between_tables(times: FloatArray, values: FloatArray) -> dict[str, GraphicalFunction]:
    """The four lookups of one series (its known points, increasing times, no NaN), by the
    suffix of their names."""
    t = np.asarray(times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    # mode -1: the y of the last point strictly before x; the first point's own at the first x
    earlier_xs = (t[0], *(math.nextafter(x, math.inf) for x in t[:-1]))
    earlier_ys = (v[0], *v[:-1])
    lo, hi = math.nextafter(t[0], -math.inf), math.nextafter(t[-1], math.inf)
    return {
        "between interpolate": data_table(t, v, "interpolate"),
        "between forward": data_table(t, v, "look forward"),
        "between backward": GraphicalFunction(
            tuple(float(x) for x in earlier_xs),
            tuple(float(y) for y in earlier_ys),
            "discrete",
        ),
        "between range": GraphicalFunction((lo, float(t[0]), hi), (0.0, 1.0, 0.0), "discrete"),
    }


def between_call(
    args: tuple[Expr, ...],
    series: dict[str, str],
    names: set[str],
    constants: dict[str, float] | None = None,
) -> Expr:
    """``GET DATA BETWEEN TIMES(x[s], time, mode)`` as a Vensim-level expression over the
    hidden lookups of ``x``'s series (``series``: data variable -> its series' name); the
    caller rewrites it into ours. A model variable that is not data gives :NA:."""
    if len(args) != 3:
        raise ModelError(f"{FUNC} takes 3 arguments (data variable, time, mode), not {len(args)}")
    data, time, mode_arg = args
    mode = _mode(mode_arg, constants or {})
    if not isinstance(data, Var):
        raise ModelError(f"{FUNC} reads a data variable: its first argument must be one")
    hidden = series.get(data.name)
    if hidden is None:
        if data.name in names:
            return Num(NA)  # Vensim: :NA: for a variable that is not a Data variable
        raise ModelError(
            f"{FUNC} of '{data.name}': only data read from files (GET DATA, data files) is "
            "supported so far",
            hint="read the series with GET XLS/DIRECT DATA or give it in a data file",
        )

    def table(suffix: str) -> Expr:
        if data.subscripts:
            return Call("LOOKUP", (Var(canonical(f"{hidden} {suffix}"), data.subscripts), time))
        return Call(canonical(f"{hidden} {suffix}"), (time,))

    inside = Binary("=", table("between range"), Num(1.0))
    return If(inside, table(f"between {MODES[mode]}"), Num(NA))


def _mode(arg: Expr, constants: dict[str, float]) -> float:
    value: float | None = None
    if isinstance(arg, Num):
        value = arg.value
    elif isinstance(arg, Var) and not arg.subscripts:
        value = constants.get(arg.name)
    elif isinstance(arg, Unary) and arg.op == "-":
        value = -_mode(arg.operand, constants)
    if value is None or value not in MODES:
        raise ModelError(
            f"{FUNC}'s mode must be 0 (interpolate), 1 (forward) or -1 (backward), given as a "
            "number or a constant",
            hint="write the mode as a number",
        )
    return value
