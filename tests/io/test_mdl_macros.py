"""Vensim macros in .mdl files (io/mdl/macros.py). Small models written here, expected values
worked out by hand from Vensim's reference pages on macros ("Macros", "Defining Macros",
"Using Macros": each call its own copy of the macro's variables, extra outputs after ':', names
local to the macro but ``name$``, no subscripts inside a macro, a call's variables taking the
subscripts of the left side). The SDXorg cases (macro_expression, macro_stock,
macro_cross_reference ...) run in test_mdl_conformance.py. Every simulation runs on both VMs."""

from __future__ import annotations

import pytest
from test_mdl_reader import mdl, run, start, values

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.mdl import loads_mdl

MACROS = mdl(
    """:MACRO: SCALE(input, factor)
SCALE = input * inner
\t~\tinput
\t~\tthe output, named like the macro
\t|
inner = factor + 1 ~ ~ |
:END OF MACRO:
:MACRO: ACC(input)
ACC = INTEG(input, 1) ~ ~ |
:END OF MACRO:
x = SCALE(2, 3) + SCALE(1, 0) ~ ~ |
y = ACC(SCALE(1, 1)) ~ ~ |
"""
)


def test_macros_expand_at_each_call(options: fs.Options) -> None:
    """Each call has its own copy of the macro's variables (a stock in a macro is a stock per
    call); the macro's variable of its own name is the result. Hand-written."""
    result = run(MACROS, options)
    assert list(values(result, "x")) == [2 * 4 + 1 * 1] * 5
    assert list(values(result, "y")) == [1, 3, 5, 7, 9]  # 1 + 2 per step
    model = loads_mdl(MACROS)
    assert sum(1 for e in model.elements if e.kind == "stock") == 1


# Vensim's "Using Macros" example (add3 with the outputs minval, maxval), and an output that
# is a stock; the header continues over two lines, as Vensim writes long headers.
OUTPUTS = mdl(
    """:MACRO: ADD3(val1, val2, val3 : minval,\\
\t\tmaxval)
ADD3 = val1 + val2 + val3 ~ val1 ~ |
minval = MIN(val1, MIN(val2, val3)) ~ val1 ~ |
maxval = MAX(val1, MAX(val2, val3)) ~ val1 ~ |
:END OF MACRO:
:MACRO: ACCUM(in : total)
ACCUM = in * 2 ~ ~ |
total = INTEG(in, 10) ~ ~ |
:END OF MACRO:
total reserve = ADD3(7, lakes, 5 : min reserve, max reserve) ~ m*m*m ~ |
lakes = 2 ~ ~ |
is water low flag = IF THEN ELSE(min reserve < 3, 1, 0) ~ ~ |
spread = max reserve - min reserve ~ ~ |
y = ACCUM(3 : running) ~ ~ |
plain = ADD3(1, 2, 3) ~ ~ |
"""
)


def test_extra_outputs_are_named_by_the_caller(options: fs.Options) -> None:
    """``NAME(a, b : o1, o2)``: o1, o2 are model variables holding the macro's outputs."""
    result = run(OUTPUTS, options)
    assert start(result, "total_reserve") == [14]
    assert (start(result, "min_reserve"), start(result, "max_reserve")) == ([2], [7])
    assert start(result, "is_water_low_flag") == [1]
    assert start(result, "spread") == [5]
    assert start(result, "y") == [6]
    assert list(values(result, "running")) == [10, 13, 16, 19, 22]  # a stock: 10 + 3 per step
    assert start(result, "plain") == [6]  # outputs left unnamed: only the result
    assert loads_mdl(OUTPUTS).element("running").kind == "stock"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("(7, lakes, 5 : min reserve, max reserve)", "(7, 2, 5 : min reserve)"), "2 outputs"),
        (("plain = ADD3(1, 2, 3)", "plain = MAX(1, 2 : o)"), "'MAX' is not a macro"),
        (("lakes = 2", "lakes = 2 ~~|\nrunning = 1"), "'running' is defined twice"),
        (("maxval = MAX", "other = MAX"), "must define its output 'maxval'"),
        (("5 : min reserve,", "5 : min reserve[a],"), "a name without subscripts"),
    ],
)
def test_extra_outputs_refused_when_they_do_not_fit(change: tuple[str, str], message: str) -> None:
    with pytest.raises(ModelError, match=message) as caught:
        loads_mdl(OUTPUTS.replace(*change), file="o.mdl")
    assert "o.mdl" in str(caught.value) and "\n" not in str(caught.value)


ARRAYED = mdl(
    """:MACRO: ACC(input)
ACC = INTEG(input, 1) ~ ~ |
:END OF MACRO:
:MACRO: SCALE(v, k)
SCALE = v * k ~ ~ |
:END OF MACRO:
:MACRO: SPLIT(v : half)
SPLIT = v * 2 ~ ~ |
half = v / 2 ~ ~ |
:END OF MACRO:
D: a, b, c ~ ~ |
x[D] = 1, 2, 3 ~ ~ |
k = 10 ~ ~ |
y[D] = ACC(x[D]) ~ ~ |
g[D] = SCALE(x[D], k) ~ ~ |
p[a] = ACC(1) ~ ~ |
p[b] = ACC(2) ~ ~ |
p[c] = 0 ~ ~ |
q[D] :EXCEPT: [b] = ACC(x[D]) ~ ~ |
q[b] = 7 ~ ~ |
w[D] = SPLIT(x[D] : h) ~ ~ |
z[D] = h[D] * 10 ~ ~ |
"""
)


def test_a_call_over_subscripts_is_a_copy_per_element(options: fs.Options) -> None:
    """Vensim's "Macros" page: the variables a call makes take the subscripts of the equation's
    left side, so a stock in the macro is one stock per element; an argument without subscripts
    is the same for every element."""
    result = run(ARRAYED, options)
    final = {name: [float(v) for v in values(result, name)[-1]] for name in ("y", "p", "q")}
    assert final == {"y": [5, 9, 13], "p": [5, 9, 0], "q": [5, 7, 13]}  # 1 + x * 4
    assert start(result, "g") == [10, 20, 30]
    assert (start(result, "w"), start(result, "h"), start(result, "z")) == (
        [2, 4, 6],
        [0.5, 1, 1.5],
        [5, 10, 15],
    )
    stocks = [e for e in loads_mdl(ARRAYED).elements if e.kind == "stock"]
    assert sorted(len(e.dims) for e in stocks) == [0, 0, 1, 1]  # y's and q's over D; p's two


NAMES = mdl(
    """:MACRO: LAG(v)
LAG = INTEG((v - LAG) / TIME STEP$, v) ~ ~ |
:END OF MACRO:
:MACRO: CLOCK(t0)
CLOCK = Time - t0 + offset$ + 0 * Time$ ~ ~ |
:END OF MACRO:
lagged = LAG(Time) ~ ~ |
c = CLOCK(1) ~ ~ |
offset = 100 ~ ~ |
""",
    stop=2,
    dt=0.5,
)


def test_dollar_names_reach_the_model(options: fs.Options) -> None:
    """Vensim's "Defining Macros": a macro's names are its own, except ``name$``, the model's
    (unsubscripted) variable, as ``TIME STEP$``; Time is the simulation's time."""
    result = run(NAMES, options)
    assert list(values(result, "lagged")) == [0, 0, 0.5, 1, 1.5]  # one step (0.5) behind
    assert list(values(result, "c")) == [99, 99.5, 100, 100.5, 101]


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        ("M = population", "'population' in macro 'm' is neither a parameter nor a variable", 4),
        ("M = TIME STEP", "write 'time_step\\$' for the model's variable", 4),
        ("M = v[a]", "subscripts inside macro 'm'", 4),
        ("M[D] = v", "a subscripted variable inside macro 'm'", 4),
        ("M = v ~~|\nv = 1", "defines its parameter 'v'", 5),
        ("N = v", "must define its own name", 3),
    ],
)
def test_macro_bodies_refused_in_one_line(body: str, message: str, line: int) -> None:
    text = f"population = 1 ~~|\n:MACRO: M(v)\n{body} ~~|\n:END OF MACRO:\nx = M(1) ~~|\n"
    with pytest.raises(ModelError, match=message) as caught:
        loads_mdl(mdl(text), file="b.mdl")
    assert (caught.value.file, caught.value.line) == ("b.mdl", line)
    assert "\n" not in str(caught.value)


def test_subscripted_parameters_are_refused() -> None:
    """Vensim's "Defining Macros": the arguments cannot be subscripted."""
    text = mdl("D: a ~~|\n:MACRO: M(v[D])\nM = 1 ~~|\n:END OF MACRO:\nx = 1 ~~|\n")
    with pytest.raises(ModelError, match="subscripted parameters"):
        loads_mdl(text)


NESTED = mdl(
    """:MACRO: MINMAX(a, b : lo)
MINMAX = MAX(a, b) ~ ~ |
lo = MIN(a, b) ~ ~ |
:END OF MACRO:
:MACRO: SPAN(a, b)
SPAN = MINMAX(a, b : low) - low ~ ~ |
:END OF MACRO:
:MACRO: DIFF(v)
DIFF = v - v ~ ~ |
:END OF MACRO:
r = SPAN(3, 8) ~ ~ |
r2 = SPAN(10, 1) ~ ~ |
n = DIFF(RANDOM UNIFORM(0, 1, 7)) ~ ~ |
"""
)


def test_macros_calling_macros_with_outputs_and_arguments_computed_once(
    options: fs.Options,
) -> None:
    """An output named in a macro's equation is a name of that macro (one per call); an
    argument that is an expression is computed once per call (``v - v`` is 0 even for a
    random draw). Hand-written."""
    result = run(NESTED, options)
    assert (start(result, "r"), start(result, "r2")) == ([5], [9])
    assert list(values(result, "n")) == [0] * 5
