"""The builtin functions of the expression language, with their XMILE arity and character.

``kind`` says how the compiler treats a call:

- ``math``: a pure function of its arguments;
- ``time``: depends on the simulation clock (TIME, STEP, PULSE, RAMP ...);
- ``random``: draws from the run's reproducible stream each DT (optional last arg: seed);
- ``stateful``: expanded into hidden stocks and flows (SMTH*, DELAY*, TREND, FORCST, NPV,
  SAFE_TREND, SAFE_FORECAST), an initial-value slot (INIT), a previous-value slot (PREVIOUS,
  SAMPLE_IF_TRUE), a history buffer (DELAY, DELAY_FIXED, HISTORY) or an auxiliary with its own
  initial equation (ACTIVE_INITIAL);
- ``reduce``: reduces arrayed arguments (SUM, MEAN, PROD, and MIN/MAX with one argument), or
  takes a whole array (RANK, SIZE, and Vensim's vector functions: compile/vectors.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from flywheel_sim.errors import ModelError, did_you_mean
from flywheel_sim.spec.builtins_vensim import VENSIM_ROWS


@dataclass(frozen=True, slots=True)
class Builtin:
    """A builtin function: its name, how many arguments it takes, its kind and its help."""

    name: str
    min_args: int
    max_args: int | None  # None: any number
    kind: str
    signature: str
    doc: str


_TABLE = [
    Builtin("ABS", 1, 1, "math", "ABS(x)", "absolute value"),
    Builtin("SQRT", 1, 1, "math", "SQRT(x)", "square root"),
    Builtin("EXP", 1, 1, "math", "EXP(x)", "e to the power x"),
    Builtin("LN", 1, 1, "math", "LN(x)", "natural logarithm"),
    Builtin("LOG10", 1, 1, "math", "LOG10(x)", "base-10 logarithm"),
    Builtin("SIN", 1, 1, "math", "SIN(x)", "sine (radians)"),
    Builtin("COS", 1, 1, "math", "COS(x)", "cosine (radians)"),
    Builtin("TAN", 1, 1, "math", "TAN(x)", "tangent (radians)"),
    Builtin("ARCSIN", 1, 1, "math", "ARCSIN(x)", "inverse sine"),
    Builtin("ARCCOS", 1, 1, "math", "ARCCOS(x)", "inverse cosine"),
    Builtin("ARCTAN", 1, 1, "math", "ARCTAN(x)", "inverse tangent"),
    Builtin("INT", 1, 1, "math", "INT(x)", "largest integer not above x (floor)"),
    Builtin("MOD", 2, 2, "math", "MOD(a, b)", "a - b*INT(a/b): the remainder, sign of b"),
    Builtin(
        "MODULO",
        2,
        2,
        "math",
        "MODULO(a, b)",
        "Vensim's remainder: a - b*(a/b truncated toward zero), the sign of a",
    ),
    Builtin("PI", 0, 0, "math", "PI", "3.14159..."),
    Builtin("INF", 0, 0, "math", "INF", "infinity"),
    Builtin("SAFEDIV", 2, 3, "math", "SAFEDIV(a, b[, c])", "a/b, or c (default 0) when b = 0"),
    Builtin("ZIDZ", 2, 2, "math", "ZIDZ(a, b)", "a/b, or 0 when b = 0 (Vensim)"),
    Builtin("XIDZ", 3, 3, "math", "XIDZ(a, b, x)", "a/b, or x when b = 0 (Vensim)"),
    Builtin("MIN", 1, None, "math", "MIN(a, b, ...) | MIN(x[*])", "smallest argument/element"),
    Builtin("MAX", 1, None, "math", "MAX(a, b, ...) | MAX(x[*])", "largest argument/element"),
    Builtin("IF_THEN_ELSE", 3, 3, "math", "IF_THEN_ELSE(c, a, b)", "a if c is non-zero else b"),
    Builtin("TIME", 0, 0, "time", "TIME", "the current simulation time"),
    Builtin("DT", 0, 0, "time", "DT", "the integration step"),
    Builtin("STARTTIME", 0, 0, "time", "STARTTIME", "the start time"),
    Builtin("STOPTIME", 0, 0, "time", "STOPTIME", "the stop time"),
    Builtin("STEP", 2, 2, "time", "STEP(height, start)", "0 before start, height from start"),
    Builtin(
        "PULSE",
        1,
        3,
        "time",
        "PULSE(volume[, first[, interval]])",
        "volume/DT for one DT at first (default start time), repeated every interval",
    ),
    Builtin(
        "RAMP",
        1,
        3,
        "time",
        "RAMP(slope[, start[, end]])",
        "0 before start (default the start time), then slope*(TIME-start), held after end",
    ),
    Builtin(
        "SMTH1", 2, 3, "stateful", "SMTH1(input, time[, initial])", "first-order exponential smooth"
    ),
    Builtin(
        "SMTH3", 2, 3, "stateful", "SMTH3(input, time[, initial])", "third-order exponential smooth"
    ),
    Builtin(
        "SMTHN",
        3,
        4,
        "stateful",
        "SMTHN(input, time, n[, initial])",
        "n-th order exponential smooth (n a constant integer)",
    ),
    Builtin(
        "DELAY1", 2, 3, "stateful", "DELAY1(input, time[, initial])", "first-order material delay"
    ),
    Builtin(
        "DELAY3", 2, 3, "stateful", "DELAY3(input, time[, initial])", "third-order material delay"
    ),
    Builtin(
        "DELAYN",
        3,
        4,
        "stateful",
        "DELAYN(input, time, n[, initial])",
        "n-th order material delay (n a constant integer)",
    ),
    Builtin(
        "DELAY",
        2,
        3,
        "stateful",
        "DELAY(input, time[, initial])",
        "pipeline delay: the input as it was `time` ago",
    ),
    Builtin(
        "TREND",
        2,
        3,
        "stateful",
        "TREND(input, time[, initial_trend])",
        "fractional rate of change of the input, averaged over time",
    ),
    Builtin(
        "FORCST",
        3,
        4,
        "stateful",
        "FORCST(input, time, horizon[, initial_trend])",
        "the input extrapolated horizon ahead along its trend",
    ),
    Builtin("INIT", 1, 1, "stateful", "INIT(x)", "the value of x at the start time"),
    Builtin(
        "HISTORY",
        2,
        2,
        "stateful",
        "HISTORY(x, t)",
        "the value x had at time t (a time already simulated; x's initial value before the start)",
    ),
    Builtin(
        "NPV",
        2,
        4,
        "stateful",
        "NPV(stream, rate[, initial[, factor]])",
        "net present value of the stream discounted at rate per time unit",
    ),
    Builtin(
        "PREVIOUS",
        1,
        2,
        "stateful",
        "PREVIOUS(x[, initial])",
        "the value of x one DT ago (initial, default x, at the start)",
    ),
    Builtin("RANDOM", 2, 3, "random", "RANDOM(min, max[, seed])", "uniform draw each DT"),
    Builtin("NORMAL", 2, 3, "random", "NORMAL(mean, sd[, seed])", "normal draw each DT"),
    Builtin(
        "LOGNORMAL",
        2,
        3,
        "random",
        "LOGNORMAL(mean, sd[, seed])",
        "log-normal draw each DT with the given mean and standard deviation",
    ),
    Builtin("EXPRND", 1, 2, "random", "EXPRND(mean[, seed])", "exponential draw each DT"),
    Builtin("POISSON", 1, 2, "random", "POISSON(mean[, seed])", "Poisson draw each DT"),
    Builtin("SUM", 1, 1, "reduce", "SUM(x[*])", "sum over a dimension"),
    Builtin("MEAN", 1, None, "reduce", "MEAN(x[*]) | MEAN(a, b, ...)", "mean"),
    Builtin("PROD", 1, 1, "reduce", "PROD(x[*])", "product over a dimension"),
    Builtin(
        "STDDEV",
        1,
        None,
        "reduce",
        "STDDEV(x[*])",
        "standard deviation of the elements (of the population: divided by their number)",
    ),
    Builtin("SIZE", 1, 1, "reduce", "SIZE(x[*])", "the number of elements"),
    Builtin(
        "RANK",
        2,
        3,
        "reduce",
        "RANK(x[*], k[, tiebreak[*]])",
        "the position of the k-th smallest element (ties: tiebreak, then position); 0 if none",
    ),
]

_TABLE += [Builtin(*row) for row in VENSIM_ROWS]  # Vensim's functions: spec/builtins_vensim.py
BUILTINS: dict[str, Builtin] = {b.name: b for b in _TABLE}
ALIASES = {
    "ARCSINE": "ARCSIN",
    "ASIN": "ARCSIN",
    "ACOS": "ARCCOS",
    "ATAN": "ARCTAN",
    "LOG": "LOG10",
    "SMOOTH": "SMTH1",
    "SMOOTH3": "SMTH3",
}
CONSTANT_NAMES = {
    "time": "TIME",
    "dt": "DT",
    "starttime": "STARTTIME",
    "stoptime": "STOPTIME",
    "pi": "PI",
    "inf": "INF",
}


def lookup_builtin(name: str, n_args: int) -> Builtin:
    """The builtin called ``name`` (upper case), checking its arity; ModelError otherwise."""
    builtin = BUILTINS.get(ALIASES.get(name, name))
    if builtin is None:
        hint = did_you_mean(name, list(BUILTINS))
        raise ModelError(f"unknown function '{name}'", hint=hint)
    too_few = n_args < builtin.min_args
    too_many = builtin.max_args is not None and n_args > builtin.max_args
    if too_few or too_many:
        if builtin.max_args is None:
            wanted = f"at least {builtin.min_args}"
        elif builtin.min_args == builtin.max_args:
            wanted = str(builtin.min_args)
        else:
            wanted = f"{builtin.min_args} to {builtin.max_args}"
        raise ModelError(
            f"{builtin.name} takes {wanted} argument(s) but was given {n_args}",
            hint=f"use {builtin.signature}",
        )
    return builtin
