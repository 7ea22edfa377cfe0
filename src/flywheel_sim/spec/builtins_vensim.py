"""The builtins that give Vensim's functions their documented semantics (Vensim's reference
manual), as rows of spec/builtins.py's table: (name, min_args, max_args, kind, signature,
doc). Their compilation: compile/stateful_vensim.py, compile/random_vensim.py,
compile/vectors.py and compile/emit.py (TRUNC, GAME)."""

from __future__ import annotations

VENSIM_ROWS: list[tuple[str, int, int | None, str, str, str]] = [
    (
        "TRUNC",
        1,
        1,
        "math",
        "TRUNC(x)",
        "x rounded toward zero (Vensim's INTEGER)",
    ),
    (
        "GAME",
        1,
        1,
        "math",
        "GAME(x)",
        "x (Vensim's gaming input: x outside a game)",
    ),
    (
        "TIME_BASE",
        2,
        2,
        "time",
        "TIME_BASE(start, slope)",
        "start + TIME * slope: another time scale (Vensim's TIME BASE)",
    ),
    (
        "PULSE_WINDOW",
        2,
        2,
        "time",
        "PULSE_WINDOW(start, width)",
        "1 from start for width (at least DT), else 0 (Vensim's PULSE)",
    ),
    (
        "PULSE_TRAIN",
        4,
        4,
        "time",
        "PULSE_TRAIN(start, width, interval, end)",
        "1 from start for width (at least DT), repeated every interval until end, else 0 "
        "(Vensim's PULSE TRAIN)",
    ),
    (
        "DELAY_FIXED",
        3,
        3,
        "stateful",
        "DELAY_FIXED(input, time, initial)",
        "pipeline delay by a whole number of DTs: time (taken at the start) rounded to the "
        "nearest multiple of DT, at least one DT; initial until then (Vensim's DELAY FIXED)",
    ),
    (
        "NPVE",
        4,
        4,
        "stateful",
        "NPVE(stream, rate, initial, factor)",
        "Vensim's NPVE: NPV with the stream valued at the end of each period (the discount "
        "factor starts at 1 / (1 + rate * DT))",
    ),
    (
        "DELAY_MATERIAL",
        4,
        4,
        "stateful",
        "DELAY_MATERIAL(input, time, initial, missing)",
        "Vensim's DELAY MATERIAL with a delay time constant in each run: DELAY_FIXED (missing "
        "is then never used); a delay time that varies is refused",
    ),
    (
        "DELAY_N",
        4,
        4,
        "stateful",
        "DELAY_N(input, time, initial, n)",
        "Vensim's DELAY N: n-th order material delay whose stage times travel with the "
        "material; n (a number) lowered to the steps in the delay time at the start if fewer",
    ),
    (
        "SMOOTH_N",
        4,
        4,
        "stateful",
        "SMOOTH_N(input, time, initial, n)",
        "Vensim's SMOOTH N: n-th order exponential smooth, n (a number, or constants known at "
        "the start) lowered to the steps in the smoothing time at the start if fewer",
    ),
    (
        "SAMPLE_IF_TRUE",
        3,
        3,
        "stateful",
        "SAMPLE_IF_TRUE(condition, input, initial)",
        "the input while the condition is non-zero, else the value it last had (initial at the "
        "start; Vensim's SAMPLE IF TRUE)",
    ),
    (
        "SAFE_TREND",
        3,
        3,
        "stateful",
        "SAFE_TREND(input, time, initial_trend)",
        "Vensim's TREND: (input - average) / (time * |average|), 0 when the average is 0, the "
        "average a first-order smooth starting at input / (1 + initial_trend * time)",
    ),
    (
        "SAFE_FORECAST",
        3,
        3,
        "stateful",
        "SAFE_FORECAST(input, time, horizon)",
        "Vensim's FORECAST: input * (1 + horizon * (input - average) / (time * average)), the "
        "ratio 0 when the average is 0, the average a first-order smooth starting at input",
    ),
    (
        "ACTIVE_INITIAL",
        2,
        2,
        "stateful",
        "ACTIVE_INITIAL(equation, initial)",
        "initial while the initial values are computed, the equation from the start time on "
        "(breaks a cycle among initial values; Vensim's ACTIVE INITIAL)",
    ),
    (
        "RANDOM_UNIFORM",
        2,
        3,
        "random",
        "RANDOM_UNIFORM(min, max[, stream])",
        "Vensim's RANDOM UNIFORM: a uniform draw each DT (stream: see RANDOM_NORMAL)",
    ),
    (
        "RANDOM_NORMAL",
        4,
        5,
        "random",
        "RANDOM_NORMAL(min, max, mean, sd[, stream])",
        "Vensim's RANDOM NORMAL: a normal draw each DT truncated to [min, max]; stream 0 (or "
        "none): the run's stream, another: a stream the same in every run",
    ),
    (
        "RANDOM_EXPONENTIAL",
        4,
        5,
        "random",
        "RANDOM_EXPONENTIAL(min, max, shift, stretch[, stream])",
        "Vensim's RANDOM EXPONENTIAL: shift + stretch * (an exponential of mean 1), truncated "
        "to [min, max]",
    ),
    (
        "RANDOM_POISSON",
        5,
        6,
        "random",
        "RANDOM_POISSON(min, max, mean, shift, stretch[, stream])",
        "Vensim's RANDOM POISSON: shift + stretch * (a Poisson count of the mean), truncated to"
        " [min, max]",
    ),
    (
        "RANDOM_TRIANGULAR",
        5,
        6,
        "random",
        "RANDOM_TRIANGULAR(min, max, start, peak, end[, stream])",
        "Vensim's RANDOM TRIANGULAR: a triangular draw on [start, end] peaking at peak, "
        "truncated to [min, max]",
    ),
    (
        "RANDOM_BETA",
        6,
        7,
        "random",
        "RANDOM_BETA(min, max, alpha, beta, shift, stretch[, stream])",
        "Vensim's RANDOM BETA: shift + stretch * (a beta draw of alpha and beta), truncated to "
        "[min, max]",
    ),
    (
        "RANDOM_BINOMIAL",
        6,
        7,
        "random",
        "RANDOM_BINOMIAL(min, max, p, n, shift, stretch[, stream])",
        "Vensim's RANDOM BINOMIAL: shift + stretch * (the successes in n trials of probability "
        "p; n a constant up to 100), truncated to [min, max]",
    ),
    (
        "RANDOM_NEGATIVE_BINOMIAL",
        6,
        7,
        "random",
        "RANDOM_NEGATIVE_BINOMIAL(min, max, p, n, shift, stretch[, stream])",
        "Vensim's RANDOM NEGATIVE BINOMIAL: shift + stretch * (the trials until the n-th "
        "success of probability p), truncated to [min, max]",
    ),
    (
        "RANDOM_WEIBULL",
        5,
        6,
        "random",
        "RANDOM_WEIBULL(min, max, shape, shift, stretch[, stream])",
        "Vensim's RANDOM WEIBULL: shift + stretch * (a Weibull draw of the shape (a constant) "
        "and mean 1), truncated to [min, max]",
    ),
    (
        "ELMCOUNT",
        1,
        1,
        "reduce",
        "ELMCOUNT(Dim)",
        "the number of elements of a dimension",
    ),
    (
        "ELEMENT_AT",
        2,
        2,
        "reduce",
        "ELEMENT_AT(x[*], k)",
        "the k-th element (1-based, row-major, whole part of k) of the whole array x; NaN, "
        "failing the run, outside it (Vensim's VECTOR ELM MAP)",
    ),
    (
        "VECTOR_RANK",
        2,
        2,
        "reduce",
        "VECTOR_RANK(x[*], direction)",
        "over a dimension: the rank of x's element at this element's position (1 = smallest if "
        "direction > 0, else largest; ties in order of position; Vensim's VECTOR RANK)",
    ),
    (
        "VECTOR_SORT_ORDER",
        2,
        2,
        "reduce",
        "VECTOR_SORT_ORDER(x[*], direction)",
        "over a dimension: the 0-based index of the element of x that sorts to this element's "
        "position (ascending if direction > 0; Vensim's VECTOR SORT ORDER)",
    ),
    (
        "VECTOR_SELECT",
        5,
        5,
        "reduce",
        "VECTOR_SELECT(selection[*], values[*], missing, action, error_action)",
        "Vensim's VECTOR SELECT: the values whose selection is non-zero aggregated by action "
        "(0-10), missing where none is; error_action 1-3: none / several selected fail the run",
    ),
    (
        "ALLOCATE_BY_PRIORITY",
        5,
        5,
        "reduce",
        "ALLOCATE_BY_PRIORITY(request[*], priority[*], size, width, supply)",
        "over a dimension: this element's share of the supply, allocated by priority with "
        "rectangular profiles width wide (Vensim's ALLOCATE BY PRIORITY)",
    ),
    (
        "INVERT_MATRIX",
        2,
        2,
        "reduce",
        "INVERT_MATRIX(matrix[*, *], n)",
        "over two dimensions of n elements: this element of the inverse of the n x n matrix "
        "(Gauss-Jordan with partial pivoting; NaN, failing the run, if it is singular; "
        "Vensim's INVERT MATRIX)",
    ),
    (
        "ALLOCATE_AVAILABLE",
        5,
        5,
        "reduce",
        "ALLOCATE_AVAILABLE(request[*], ptype[*], ppriority[*], pwidth[*], avail)",
        "over a dimension: this element's share of avail, allocated by priority profiles of "
        "type 1 rectangular, 2 triangular, 3 normal or 4 exponential centred on ppriority, "
        "pwidth wide (Vensim's ALLOCATE AVAILABLE)",
    ),
]
