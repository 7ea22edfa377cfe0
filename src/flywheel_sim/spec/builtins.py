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


@dataclass(frozen=True, slots=True)
class Builtin:
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
    Builtin("TRUNC", 1, 1, "math", "TRUNC(x)", "x rounded toward zero (Vensim's INTEGER)"),
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
    Builtin("GAME", 1, 1, "math", "GAME(x)", "x (Vensim's gaming input: x outside a game)"),
    Builtin("TIME", 0, 0, "time", "TIME", "the current simulation time"),
    Builtin("DT", 0, 0, "time", "DT", "the integration step"),
    Builtin("STARTTIME", 0, 0, "time", "STARTTIME", "the start time"),
    Builtin("STOPTIME", 0, 0, "time", "STOPTIME", "the stop time"),
    Builtin(
        "TIME_BASE",
        2,
        2,
        "time",
        "TIME_BASE(start, slope)",
        "start + TIME * slope: another time scale (Vensim's TIME BASE)",
    ),
    Builtin(
        "PULSE_WINDOW",
        2,
        2,
        "time",
        "PULSE_WINDOW(start, width)",
        "1 from start for width (at least DT), else 0 (Vensim's PULSE)",
    ),
    Builtin(
        "PULSE_TRAIN",
        4,
        4,
        "time",
        "PULSE_TRAIN(start, width, interval, end)",
        "1 from start for width (at least DT), repeated every interval until end, else 0 "
        "(Vensim's PULSE TRAIN)",
    ),
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
    Builtin(
        "DELAY_FIXED",
        3,
        3,
        "stateful",
        "DELAY_FIXED(input, time, initial)",
        "pipeline delay by a whole number of DTs: time (taken at the start) rounded to the "
        "nearest multiple of DT, at least one DT; initial until then (Vensim's DELAY FIXED)",
    ),
    Builtin(
        "DELAY_N",
        4,
        4,
        "stateful",
        "DELAY_N(input, time, initial, n)",
        "Vensim's DELAY N: n-th order material delay whose stage times travel with the material; "
        "n (a number) lowered to the steps in the delay time at the start if fewer",
    ),
    Builtin(
        "SMOOTH_N",
        4,
        4,
        "stateful",
        "SMOOTH_N(input, time, initial, n)",
        "Vensim's SMOOTH N: n-th order exponential smooth, n (a number, or constants known at "
        "the start) lowered to the steps in the smoothing time at the start if fewer",
    ),
    Builtin(
        "SAMPLE_IF_TRUE",
        3,
        3,
        "stateful",
        "SAMPLE_IF_TRUE(condition, input, initial)",
        "the input while the condition is non-zero, else the value it last had (initial at the "
        "start; Vensim's SAMPLE IF TRUE)",
    ),
    Builtin(
        "SAFE_TREND",
        3,
        3,
        "stateful",
        "SAFE_TREND(input, time, initial_trend)",
        "Vensim's TREND: (input - average) / (time * |average|), 0 when the average is 0, "
        "the average a first-order smooth starting at input / (1 + initial_trend * time)",
    ),
    Builtin(
        "SAFE_FORECAST",
        3,
        3,
        "stateful",
        "SAFE_FORECAST(input, time, horizon)",
        "Vensim's FORECAST: input * (1 + horizon * (input - average) / (time * average)), the "
        "ratio 0 when the average is 0, the average a first-order smooth starting at input",
    ),
    Builtin(
        "ACTIVE_INITIAL",
        2,
        2,
        "stateful",
        "ACTIVE_INITIAL(equation, initial)",
        "initial while the initial values are computed, the equation from the start time on "
        "(breaks a cycle among initial values; Vensim's ACTIVE INITIAL)",
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
    Builtin(
        "RANDOM_UNIFORM",
        2,
        3,
        "random",
        "RANDOM_UNIFORM(min, max[, stream])",
        "Vensim's RANDOM UNIFORM: a uniform draw each DT (stream: see RANDOM_NORMAL)",
    ),
    Builtin(
        "RANDOM_NORMAL",
        4,
        5,
        "random",
        "RANDOM_NORMAL(min, max, mean, sd[, stream])",
        "Vensim's RANDOM NORMAL: a normal draw each DT truncated to [min, max]; stream 0 (or "
        "none): the run's stream, another: a stream the same in every run",
    ),
    Builtin(
        "RANDOM_EXPONENTIAL",
        4,
        5,
        "random",
        "RANDOM_EXPONENTIAL(min, max, shift, stretch[, stream])",
        "Vensim's RANDOM EXPONENTIAL: shift + stretch * (an exponential of mean 1), truncated "
        "to [min, max]",
    ),
    Builtin(
        "RANDOM_POISSON",
        5,
        6,
        "random",
        "RANDOM_POISSON(min, max, mean, shift, stretch[, stream])",
        "Vensim's RANDOM POISSON: shift + stretch * (a Poisson count of the mean), truncated "
        "to [min, max]",
    ),
    Builtin(
        "RANDOM_TRIANGULAR",
        5,
        6,
        "random",
        "RANDOM_TRIANGULAR(min, max, start, peak, end[, stream])",
        "Vensim's RANDOM TRIANGULAR: a triangular draw on [start, end] peaking at peak, "
        "truncated to [min, max]",
    ),
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
    Builtin("ELMCOUNT", 1, 1, "reduce", "ELMCOUNT(Dim)", "the number of elements of a dimension"),
    Builtin(
        "ELEMENT_AT",
        2,
        2,
        "reduce",
        "ELEMENT_AT(x[*], k)",
        "the k-th element (1-based, row-major, whole part of k) of the whole array x; NaN, "
        "failing the run, outside it (Vensim's VECTOR ELM MAP)",
    ),
    Builtin(
        "VECTOR_RANK",
        2,
        2,
        "reduce",
        "VECTOR_RANK(x[*], direction)",
        "over a dimension: the rank of x's element at this element's position (1 = smallest "
        "if direction > 0, else largest; ties in order of position; Vensim's VECTOR RANK)",
    ),
    Builtin(
        "VECTOR_SORT_ORDER",
        2,
        2,
        "reduce",
        "VECTOR_SORT_ORDER(x[*], direction)",
        "over a dimension: the 0-based index of the element of x that sorts to this element's "
        "position (ascending if direction > 0; Vensim's VECTOR SORT ORDER)",
    ),
    Builtin(
        "VECTOR_SELECT",
        5,
        5,
        "reduce",
        "VECTOR_SELECT(selection[*], values[*], missing, action, error_action)",
        "Vensim's VECTOR SELECT: the values whose selection is non-zero aggregated by action "
        "(0-10), missing where none is; error_action 1-3: none / several selected fail the run",
    ),
    Builtin(
        "ALLOCATE_BY_PRIORITY",
        5,
        5,
        "reduce",
        "ALLOCATE_BY_PRIORITY(request[*], priority[*], size, width, supply)",
        "over a dimension: this element's share of the supply, allocated by priority with "
        "rectangular profiles width wide (Vensim's ALLOCATE BY PRIORITY)",
    ),
    Builtin(
        "RANK",
        2,
        3,
        "reduce",
        "RANK(x[*], k[, tiebreak[*]])",
        "the position of the k-th smallest element (ties: tiebreak, then position); 0 if none",
    ),
]

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
