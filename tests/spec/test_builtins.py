"""Every builtin of the expression language, checked against hand-computed values.

Each test builds a small YAML model, simulates it and compares the result with a value
computed here by hand (``math``/``numpy``, closed-form solutions), never with another engine
run. Every test runs on both virtual machines through the ``opts`` fixture; the random-number
tests additionally check that the two backends produce bit-identical draws.

Layout:

1. helpers (building one-auxiliary models, evaluating them, analytic responses);
2. pure maths, operators, comparisons and logic;
3. the clock (TIME, DT, STARTTIME, STOPTIME) and the time-shaped inputs STEP, PULSE, RAMP;
4. stateful builtins: SMTH1/3/N, DELAY1/3/N, DELAY, TREND, FORCST, INIT, PREVIOUS;
5. lookups (graphical functions);
6. arrays: subscripts, per-element equations and reductions;
7. random functions: moments and distribution shape over many runs, reproducibility,
   identical draws on both backends, one draw per DT (also inside RK4 stages).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr
import yaml

import flywheel_sim as fs
from flywheel_sim import Model, Options

NUMPY, NUMBA = Options(backend="numpy"), Options(backend="numba")


@pytest.fixture(params=[NUMPY, NUMBA], ids=["numpy", "numba"])
def opts(request: pytest.FixtureRequest) -> Options:
    """The simulation options selecting one backend; every test runs on both."""
    option: Options = request.param
    return option


# -- helpers --------------------------------------------------------------------------------------


def time_spec(
    start: float = 0, stop: float = 4, dt: float = 1, method: str = "euler"
) -> dict[str, object]:
    return {"start": start, "stop": stop, "dt": dt, "method": method}


def one_aux(equation: str, **time: float | str) -> Model:
    """A model with one auxiliary ``y`` (YAML is generated, so equations need no quoting)."""
    doc = {
        "time": time_spec(**time),  # type: ignore[arg-type]
        "auxiliaries": {"y": {"equation": equation}},
    }
    return fs.loads_model(yaml.safe_dump(doc, sort_keys=False))


def run(model: Model | str, opts: Options, **kwargs: object) -> xr.Dataset:
    """Simulate a Model (or YAML text) with the backend of ``opts``."""
    if isinstance(model, str):
        model = fs.loads_model(model)
    return fs.simulate(model, options=opts, **kwargs)  # type: ignore[arg-type]


def evaluate(equation: str, opts: Options, **time: float | str) -> tuple[np.ndarray, np.ndarray]:
    """(times, values of ``y`` in run 0) for the one-auxiliary model ``y = equation``."""
    ds = run(one_aux(equation, **time), opts)
    return ds.time.values, ds["y"].values[0]


def erlang_cdf(n: int, x: np.ndarray) -> np.ndarray:
    """P(Erlang(n, rate 1) <= x): the unit step response of n first-order stages in series
    when ``x`` is time measured in stage times (x = n * s / tau)."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    term = np.ones_like(x)
    total = np.ones_like(x)
    for k in range(1, n):
        term = term * x / k
        total = total + term
    return 1.0 - np.exp(-x) * total


def step_response(n: int, height: float, t0: float, tau: float, t: np.ndarray) -> np.ndarray:
    """Exact response of an n-th order smooth or material delay (total time ``tau``) to a
    step of ``height`` at ``t0``, starting from equilibrium at 0."""
    s = np.maximum(t - t0, 0.0)
    return height * erlang_cdf(n, n * s / tau)


# -- 2. maths, operators, comparisons, logic ------------------------------------------------------

MATH_CASES = [
    ("ABS(-3.5)", 3.5),
    ("ABS(2)", 2.0),
    ("ABS(0)", 0.0),
    ("SQRT(2.25)", 1.5),
    ("SQRT(2)", math.sqrt(2)),
    ("EXP(1)", math.e),
    ("EXP(-2)", math.exp(-2)),
    ("LN(10)", math.log(10)),
    ("LN(EXP(2.5))", 2.5),
    ("LOG10(1000)", 3.0),
    ("LOG10(0.01)", -2.0),
    ("SIN(PI / 6)", 0.5),
    ("SIN(-1)", math.sin(-1)),
    ("COS(PI / 3)", 0.5),
    ("COS(2)", math.cos(2)),
    ("TAN(PI / 4)", 1.0),
    ("TAN(-0.3)", math.tan(-0.3)),
    ("ARCSIN(0.5)", math.pi / 6),
    ("ARCSIN(-1)", -math.pi / 2),
    ("ARCCOS(0.5)", math.pi / 3),
    ("ARCCOS(-1)", math.pi),
    ("ARCTAN(1)", math.pi / 4),
    ("ARCTAN(-10)", math.atan(-10)),
    # INT is floor, not truncation
    ("INT(2.7)", 2.0),
    ("INT(3)", 3.0),
    ("INT(-2.5)", -3.0),
    ("INT(-0.1)", -1.0),
    ("PI", math.pi),
    ("pi", math.pi),
    ("2 * PI", 2 * math.pi),
    # SAFEDIV: a/b, or c (default 0) when b = 0
    ("SAFEDIV(6, 4)", 1.5),
    ("SAFEDIV(6, 0)", 0.0),
    ("SAFEDIV(6, 0, -1)", -1.0),
    ("SAFEDIV(6, 4, -1)", 1.5),
    ("SAFEDIV(-3, 0, 7)", 7.0),
    # MIN/MAX with 1, 2 and more arguments
    ("MIN(5)", 5.0),
    ("MIN(3, 1)", 1.0),
    ("MIN(1, 3)", 1.0),
    ("MIN(3, -1, 2, 0.5)", -1.0),
    ("MAX(3, 7)", 7.0),
    ("MAX(7, 3)", 7.0),
    ("MAX(1, 9, 4, -2)", 9.0),
    ("MAX(-4, -2, -9)", -2.0),
    # aliases and case-insensitive names
    ("ASIN(1)", math.pi / 2),
    ("ACOS(1)", 0.0),
    ("ATAN(0)", 0.0),
    ("LOG(100)", 2.0),
    ("abs(-1) + Sqrt(16)", 5.0),
]

# MOD takes the sign of the divisor (like Python's %): a - b*INT(a/b)
MOD_CASES = [
    ("7 MOD 3", 7 % 3),
    ("-7 MOD 3", -7 % 3),  # unary minus binds tighter than MOD: (-7) MOD 3 = 2
    ("7 MOD -3", 7 % -3),
    ("-7 MOD -3", -7 % -3),
    ("7.5 MOD 2", 7.5 % 2),
    ("6 MOD 3", 0.0),
    ("2 + 7 MOD 3 * 2", 2 + (7 % 3) * 2),  # MOD has the precedence of * and /
    ("MOD(7, 3)", 7 % 3),  # the function form given in the builtin table
    ("MOD(-7, 3)", -7 % 3),
    ("MOD(7, -3)", 7 % -3),
    ("MOD(-7.5, 2)", -7.5 % 2),
]

OPERATOR_CASES = [
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("7 - 2 - 1", 4.0),  # left-associative
    ("8 / 4 / 2", 1.0),
    ("1 / 4", 0.25),
    ("2 ^ 10", 1024.0),
    ("2 ^ 3 ^ 2", 512.0),  # ^ groups right to left (XMILE 1.0): 2^(3^2)
    ("(2 ^ 3) ^ 2", 64.0),
    ("2 ^ -1 ^ 2", 0.5),  # 2^(-(1^2)), as pysimlin computes it
    ("-2 ^ 2", -4.0),  # ^ binds tighter than unary minus
    ("(-2) ^ 2", 4.0),
    ("-2 ^ 2 + 1", -3.0),
    ("2 * 3 ^ 2", 18.0),
    ("2 ^ -1", 0.5),
    ("4 ^ 0.5", 2.0),
    ("-(3 - 5)", 2.0),
    ("+3", 3.0),
    ("2 * -3", -6.0),
    ("10 - -2", 12.0),
    ("1.5e2 + .5", 150.5),
    ("2.5E-1", 0.25),
    ("3 {a comment} + 4", 7.0),
]

COMPARISON_CASES = [
    ("1 = 1", 1.0),
    ("1 = 2", 0.0),
    ("1 == 1", 1.0),
    ("1 <> 2", 1.0),
    ("2 <> 2", 0.0),
    ("1 != 2", 1.0),
    ("1 < 2", 1.0),
    ("2 < 1", 0.0),
    ("2 < 2", 0.0),
    ("2 <= 2", 1.0),
    ("3 <= 2", 0.0),
    ("3 > 2", 1.0),
    ("2 > 3", 0.0),
    ("2 > 2", 0.0),
    ("2 >= 2", 1.0),
    ("1 >= 2", 0.0),
    ("1 + 1 = 2", 1.0),  # arithmetic binds tighter than comparison
    ("3 > 2 > 1", 0.0),  # left to right: (3 > 2) > 1 is 1 > 1
    ("1 < 2 = 1", 1.0),  # < binds tighter than =
    ("-0.5 < 0", 1.0),
]

LOGIC_CASES = [
    ("1 AND 1", 1.0),
    ("1 AND 0", 0.0),
    ("0 AND 0", 0.0),
    ("2 AND -3", 1.0),  # any non-zero is true; the result is 0 or 1
    ("0 OR 0", 0.0),
    ("0 OR 2", 1.0),
    ("1 OR 1", 1.0),
    ("NOT 0", 1.0),
    ("NOT 3", 0.0),
    ("NOT -2", 0.0),
    ("1 OR 0 AND 0", 1.0),  # AND binds tighter than OR
    ("(1 OR 0) AND 0", 0.0),
    ("NOT 0 AND 0", 0.0),  # NOT binds tighter than AND
    ("NOT (0 AND 0)", 1.0),
    ("1 < 2 AND 3 > 4", 0.0),
    ("1 < 2 OR 3 > 4", 1.0),
    ("1 and 0 or 1", 1.0),  # keywords are case-insensitive
    ("not 1", 0.0),
]

IF_CASES = [
    ("IF 1 THEN 2 ELSE 3", 2.0),
    ("IF 0 THEN 2 ELSE 3", 3.0),
    ("IF -0.5 THEN 2 ELSE 3", 2.0),
    ("IF 2 > 1 AND 0 THEN 10 ELSE 20", 20.0),
    ("IF 0 THEN 1 ELSE IF 1 THEN 2 ELSE 3", 2.0),
    ("IF 1 THEN IF 0 THEN 4 ELSE 5 ELSE 6", 5.0),
    ("1 + (IF 1 < 2 THEN 10 ELSE 20) * 2", 21.0),
    ("if 1 then 7 else 8", 7.0),
    ("IF_THEN_ELSE(1 < 2, 10, 20)", 10.0),
    ("IF_THEN_ELSE(0, 10, 20)", 20.0),
    ("IF_THEN_ELSE(3, 10, 20)", 10.0),
    ("IF_THEN_ELSE(0, 1, IF_THEN_ELSE(1, 2, 3))", 2.0),
    ("if_then_else(1, 4, 5)", 4.0),
]


def _constant_case(equation: str, expected: float, opts: Options) -> None:
    t, y = evaluate(equation, opts)
    assert len(t) == 5
    np.testing.assert_allclose(
        y, np.full_like(t, expected), rtol=1e-13, atol=1e-14, err_msg=equation
    )


@pytest.mark.parametrize(("equation", "expected"), MATH_CASES, ids=[c[0] for c in MATH_CASES])
def test_math_function(equation: str, expected: float, opts: Options) -> None:
    _constant_case(equation, expected, opts)


@pytest.mark.parametrize(("equation", "expected"), MOD_CASES, ids=[c[0] for c in MOD_CASES])
def test_mod(equation: str, expected: float, opts: Options) -> None:
    _constant_case(equation, expected, opts)


@pytest.mark.parametrize(
    ("equation", "expected"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES]
)
def test_arithmetic_operator(equation: str, expected: float, opts: Options) -> None:
    _constant_case(equation, expected, opts)


@pytest.mark.parametrize(
    ("equation", "expected"), COMPARISON_CASES, ids=[c[0] for c in COMPARISON_CASES]
)
def test_comparison(equation: str, expected: float, opts: Options) -> None:
    _constant_case(equation, expected, opts)


@pytest.mark.parametrize(("equation", "expected"), LOGIC_CASES, ids=[c[0] for c in LOGIC_CASES])
def test_logic(equation: str, expected: float, opts: Options) -> None:
    _constant_case(equation, expected, opts)


@pytest.mark.parametrize(("equation", "expected"), IF_CASES, ids=[c[0] for c in IF_CASES])
def test_if_then_else(equation: str, expected: float, opts: Options) -> None:
    _constant_case(equation, expected, opts)


VECTOR_FUNCTIONS: list[tuple[str, Callable[[np.ndarray], np.ndarray], tuple[float, float]]] = [
    ("ABS", np.abs, (-5.0, 5.0)),
    ("SQRT", np.sqrt, (0.0, 9.0)),
    ("EXP", np.exp, (-3.0, 3.0)),
    ("LN", np.log, (0.01, 50.0)),
    ("LOG10", np.log10, (0.01, 50.0)),
    ("SIN", np.sin, (-7.0, 7.0)),
    ("COS", np.cos, (-7.0, 7.0)),
    ("TAN", np.tan, (-1.5, 1.5)),
    ("ARCSIN", np.arcsin, (-1.0, 1.0)),
    ("ARCCOS", np.arccos, (-1.0, 1.0)),
    ("ARCTAN", np.arctan, (-20.0, 20.0)),
    ("INT", np.floor, (-4.3, 4.3)),
]


@pytest.mark.parametrize(
    ("name", "reference", "domain"), VECTOR_FUNCTIONS, ids=[f[0] for f in VECTOR_FUNCTIONS]
)
def test_math_function_over_many_runs(
    name: str,
    reference: Callable[[np.ndarray], np.ndarray],
    domain: tuple[float, float],
    opts: Options,
) -> None:
    """The same function of a parameter swept over 101 runs (one vectorised call)."""
    model = fs.loads_model(f"""
time: {{start: 0, stop: 1, dt: 1}}
parameters:
  x: 0
auxiliaries:
  y:
    equation: {name}(x)
""")
    x = np.linspace(*domain, 101)
    ds = run(model, opts, params={"x": x})
    np.testing.assert_allclose(ds["y"].values[:, 0], reference(x), rtol=1e-13, atol=1e-14)


def test_binary_operators_over_many_runs(opts: Options) -> None:
    a = np.array([-7.5, -7.0, -2.0, -0.5, 0.5, 2.0, 3.0, 7.0, 7.5])
    b = np.array([2.0, 3.0, -3.0, 4.0, -0.25, 2.0, 3.0, -2.5, 0.5])
    model = fs.loads_model("""
time: {start: 0, stop: 1, dt: 1}
parameters:
  a: 0
  b: 1
auxiliaries:
  plus: a + b
  minus: a - b
  times: a * b
  ratio: a / b
  modulo: a MOD b
  lowest: MIN(a, b)
  highest: MAX(a, b)
  less: a < b
  equal: a = b
  both: a > 0 AND b > 0
""")
    ds = run(model, opts, params={"a": a, "b": b})
    expected = {
        "plus": a + b,
        "minus": a - b,
        "times": a * b,
        "ratio": a / b,
        "modulo": np.mod(a, b),
        "lowest": np.minimum(a, b),
        "highest": np.maximum(a, b),
        "less": (a < b) * 1.0,
        "equal": (a == b) * 1.0,
        "both": ((a > 0) & (b > 0)) * 1.0,
    }
    for name, values in expected.items():
        np.testing.assert_allclose(ds[name].values[:, 0], values, rtol=1e-15, err_msg=name)


# -- 3. the clock and time-shaped inputs ----------------------------------------------------------


def test_time(opts: Options) -> None:
    t, y = evaluate("TIME", opts, start=2, stop=4, dt=0.25)
    np.testing.assert_allclose(t, 2 + 0.25 * np.arange(9))
    np.testing.assert_allclose(y, t, rtol=1e-15)


def test_time_in_an_expression(opts: Options) -> None:
    t, y = evaluate("time * time - 3", opts, start=-1, stop=3, dt=0.5)
    np.testing.assert_allclose(y, t**2 - 3, rtol=1e-14)


def test_dt(opts: Options) -> None:
    _, y = evaluate("DT", opts, stop=2, dt=0.125)
    np.testing.assert_allclose(y, 0.125)
    # simulate(dt=...) overrides the model's dt, and DT follows it
    ds = run(one_aux("DT", stop=2, dt=0.125), opts, dt=0.5)
    np.testing.assert_allclose(ds["y"].values[0], 0.5)
    assert ds.sizes["time"] == 5


def test_starttime_and_stoptime(opts: Options) -> None:
    _, start = evaluate("STARTTIME", opts, start=3, stop=7, dt=0.5)
    _, stop = evaluate("STOPTIME", opts, start=3, stop=7, dt=0.5)
    np.testing.assert_allclose(start, 3.0)
    np.testing.assert_allclose(stop, 7.0)
    # simulate(stop=...) changes the stop time the model sees
    ds = run(one_aux("STOPTIME - STARTTIME", start=3, stop=7, dt=0.5), opts, stop=10)
    np.testing.assert_allclose(ds["y"].values[0], 7.0)


def test_clock_inside_rk4_stages(opts: Options) -> None:
    """RK4 evaluates flows at t, t + DT/2 and t + DT, and Simpson's rule is exact for
    polynomials up to degree 3: inflow 3 TIME^2 gives exactly t^3; DT stays DT."""
    ds = run(
        """
time: {start: 0, stop: 3, dt: 0.5, method: rk4}
stocks:
  cube: {initial: 0, inflows: [f]}
  steps: {initial: 0, inflows: [g]}
flows:
  f: 3 * TIME ^ 2
  g: DT
""",
        opts,
    )
    t = ds.time.values
    np.testing.assert_allclose(ds["cube"].values[0], t**3, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ds["steps"].values[0], t * 0.5, rtol=1e-13)


def test_step(opts: Options) -> None:
    t, y = evaluate("STEP(5, 2)", opts, stop=4, dt=0.5)
    np.testing.assert_array_equal(y, np.where(t >= 2, 5.0, 0.0))
    t, y = evaluate("STEP(-3, 0)", opts, stop=2, dt=0.5)
    np.testing.assert_array_equal(y, np.full_like(t, -3.0))
    t, y = evaluate("STEP(1, 10)", opts, stop=4)  # never reached
    np.testing.assert_array_equal(y, np.zeros_like(t))


def test_step_integrated_by_a_stock(opts: Options) -> None:
    """Euler: stock(t) = 5 * (t - 2) for t >= 2, exactly (the flow is 0 before, 5 from 2)."""
    ds = run(
        """
time: {start: 0, stop: 6, dt: 0.25}
stocks:
  s: {initial: 0, inflows: [f]}
flows:
  f: STEP(5, 2)
""",
        opts,
    )
    t = ds.time.values
    np.testing.assert_allclose(ds["s"].values[0], 5 * np.maximum(t - 2, 0), atol=1e-12)


def test_pulse_single(opts: Options) -> None:
    """PULSE(volume, first): volume/DT during the one DT starting at ``first``."""
    t, y = evaluate("PULSE(10, 2)", opts, stop=4, dt=0.5)
    np.testing.assert_array_equal(y, np.where(np.isclose(t, 2), 20.0, 0.0))
    t, y = evaluate("PULSE(10, 2, 0)", opts, stop=6, dt=0.5)  # interval 0: a single pulse
    np.testing.assert_array_equal(y, np.where(np.isclose(t, 2), 20.0, 0.0))


def test_pulse_default_first_is_the_start_time(opts: Options) -> None:
    t, y = evaluate("PULSE(3)", opts, start=1, stop=3, dt=0.25)
    np.testing.assert_array_equal(y, np.where(np.isclose(t, 1), 12.0, 0.0))


def test_pulse_train(opts: Options) -> None:
    t, y = evaluate("PULSE(10, 1, 1.5)", opts, stop=7, dt=0.5)
    on = np.isin(np.round(t, 9), [1.0, 2.5, 4.0, 5.5, 7.0])
    np.testing.assert_array_equal(y, np.where(on, 20.0, 0.0))


def test_pulse_train_integrates_to_its_volume(opts: Options) -> None:
    """Euler: each pulse adds exactly ``volume`` to a stock over the DT that follows it."""
    ds = run(
        """
time: {start: 0, stop: 10, dt: 0.25}
stocks:
  s: {initial: 0, inflows: [f]}
flows:
  f: PULSE(4, 2, 3)
""",
        opts,
    )
    t = ds.time.values
    pulses = np.array([2.0, 5.0, 8.0])
    expected = 4.0 * (pulses[None, :] < t[:, None] - 1e-9).sum(axis=1)
    np.testing.assert_allclose(ds["s"].values[0], expected, atol=1e-12)
    # RK4 too delivers the whole volume of every pulse
    ds = run(
        """
time: {start: 0, stop: 10, dt: 0.25, method: rk4}
stocks:
  s: {initial: 0, inflows: [f]}
flows:
  f: PULSE(4, 2, 3)
""",
        opts,
    )
    assert ds["s"].values[0, -1] == pytest.approx(12.0, abs=1e-12)


def test_ramp(opts: Options) -> None:
    t, y = evaluate("RAMP(2, 1)", opts, stop=4, dt=0.5)
    np.testing.assert_allclose(y, np.where(t > 1, 2 * (t - 1), 0.0), atol=1e-15)
    t, y = evaluate("RAMP(-1, 0)", opts, stop=3, dt=0.5)
    np.testing.assert_allclose(y, -t, atol=1e-15)


def test_ramp_with_end(opts: Options) -> None:
    """RAMP(slope, start, end): held at slope * (end - start) after ``end``."""
    t, y = evaluate("RAMP(2, 1, 3)", opts, stop=5, dt=0.5)
    np.testing.assert_allclose(y, 2 * (np.clip(t, 1, 3) - 1), atol=1e-15)


# -- 4. stateful builtins -------------------------------------------------------------------------
#
# Smooths and material delays are integrated with RK4. When the input is a constant from the
# start (the "initial" argument sets the state away from it), the solution is smooth and RK4's
# global error is O((dt / stage time)^4): with dt = 1/16 and stage times >= 0.8 it stays below
# 1e-6 for a height of 10 (measured: 2e-9 for one stage of 4, 8e-7 for five stages of 0.8), so
# an absolute tolerance of 1e-5 leaves a tenfold margin.
#
# With a STEP at a grid time t0 the input is discontinuous: the RK4 step that ends at t0
# evaluates its last stage (weight 1/6) at t0, where the step is already on. That injects
# height * dt/6 of input one step early, i.e. shifts the response by about dt/6; since the
# impulse response density of an n-stage chain is at most 1/tau for n <= 5, the error is
# bounded by height * dt / (6 tau) plus the O(dt^4) part (measured: exactly that bound for
# order 1, 0.8 of it for order 3). The tolerance used is twice the bound.

RK4 = {"method": "rk4", "dt": 1 / 16}


def _smooth_tolerance(height: float, dt: float, tau: float) -> float:
    return 2 * height * dt / (6 * tau) + 1e-9


@pytest.mark.parametrize(
    ("function", "n"), [("SMTH1", 1), ("DELAY1", 1), ("SMTH3", 3), ("DELAY3", 3)]
)
def test_smooth_and_delay_step_response(function: str, n: int, opts: Options) -> None:
    """Response to STEP(10, 2): h (1 - exp(-(t-t0)/tau)) for order 1, the Erlang-3 CDF
    h (1 - exp(-3s/tau) (1 + 3s/tau + (3s/tau)^2 / 2)) for order 3."""
    tau, h, t0 = 4.0, 10.0, 2.0
    t, y = evaluate(f"{function}(STEP({h}, {t0}), {tau})", opts, stop=30, **RK4)
    expected = step_response(n, h, t0, tau, t)
    if n == 1:
        np.testing.assert_allclose(
            expected, h * np.where(t >= t0, 1 - np.exp(-(t - t0) / tau), 0.0), atol=1e-12
        )
    else:
        x = 3 * np.maximum(t - t0, 0) / tau
        np.testing.assert_allclose(expected, h * (1 - np.exp(-x) * (1 + x + x**2 / 2)), atol=1e-12)
    np.testing.assert_allclose(y, expected, rtol=0, atol=_smooth_tolerance(h, RK4["dt"], tau))
    assert np.all(y[t < t0] == 0.0)
    assert y[-1] == pytest.approx(h, rel=1e-3)


@pytest.mark.parametrize(
    ("equation", "n"),
    [
        ("SMTH1(10, 4, 0)", 1),
        ("SMTH3(10, 4, 0)", 3),
        ("SMTHN(10, 4, 1, 0)", 1),
        ("SMTHN(10, 4, 3, 0)", 3),
        ("SMTHN(10, 4, 5, 0)", 5),
        ("DELAY1(10, 4, 0)", 1),
        ("DELAY3(10, 4, 0)", 3),
        ("DELAYN(10, 4, 2, 0)", 2),
        ("DELAYN(10, 4, 5, 0)", 5),
        ("SMOOTH(10, 4, 0)", 1),
        ("SMOOTH3(10, 4, 0)", 3),  # aliases of SMTH1 and SMTH3
    ],
)
def test_smooth_and_delay_from_initial_value(equation: str, n: int, opts: Options) -> None:
    """A constant input of 10 from an initial state of 0 is a step at t0 = 0 that lies on no
    integration step: the Erlang-n CDF, to RK4 accuracy."""
    t, y = evaluate(equation, opts, stop=24, **RK4)
    np.testing.assert_allclose(y, step_response(n, 10.0, 0.0, 4.0, t), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("function", "n"), [("SMTH1", 1), ("SMTH3", 3), ("DELAY1", 1), ("DELAY3", 3)]
)
def test_smooth_and_delay_drain_from_initial_value(function: str, n: int, opts: Options) -> None:
    """Input 0, initial 5: the state starts in equilibrium at 5 and decays as
    5 * (1 - Erlang-n CDF); a material delay starts with 5 * tau in transit."""
    t, y = evaluate(f"{function}(0, 6, 5)", opts, stop=30, **RK4)
    np.testing.assert_allclose(y, 5.0 - step_response(n, 5.0, 0.0, 6.0, t), rtol=0, atol=1e-6)
    assert y[0] == pytest.approx(5.0, abs=1e-12)


@pytest.mark.parametrize("function", ["SMTH1", "SMTH3", "DELAY1", "DELAY3"])
def test_smooth_and_delay_default_initial_is_the_input(function: str, opts: Options) -> None:
    """Without an initial value the state starts in equilibrium with the input."""
    t, y = evaluate(f"{function}(7 + 0 * TIME, 3)", opts, stop=10, **RK4)
    np.testing.assert_allclose(y, np.full_like(t, 7.0), rtol=1e-12)


@pytest.mark.parametrize(("function", "args"), [("SMTHN", "4, 0"), ("DELAYN", "4, 0")])
def test_nth_order_step_response(function: str, args: str, opts: Options) -> None:
    tau, h, t0 = 6.0, 3.0, 1.0
    t, y = evaluate(f"{function}(STEP({h}, {t0}), {tau}, {args})", opts, stop=30, **RK4)
    np.testing.assert_allclose(
        y, step_response(4, h, t0, tau, t), rtol=0, atol=_smooth_tolerance(h, RK4["dt"], tau)
    )


def test_smth1_of_a_ramp_lags_by_the_smoothing_time(opts: Options) -> None:
    """dy/dt = (t - y)/T with y(0) = 0 has y = t - T + T exp(-t/T)."""
    t, y = evaluate("SMTH1(TIME, 2, 0)", opts, stop=20, **RK4)
    np.testing.assert_allclose(y, t - 2 + 2 * np.exp(-t / 2), rtol=0, atol=1e-6)


def test_material_delay_conserves_material(opts: Options) -> None:
    """What went into a DELAY3 and has not come out is what it holds: with a pulse of 12 in
    and a long run, everything comes out (the outflow integrates to 12)."""
    ds = run(
        """
time: {start: 0, stop: 60, dt: 0.0625, method: rk4}
stocks:
  delivered: {initial: 0, inflows: [arriving]}
flows:
  arriving: DELAY3(PULSE(12, 1), 5)
""",
        opts,
    )
    assert ds["delivered"].values[0, -1] == pytest.approx(12.0, rel=1e-6)


def test_delay_pipeline(opts: Options) -> None:
    """DELAY(input, d): the input as it was d ago; before start + d, the input's initial value."""
    t, y = evaluate("DELAY(TIME + 10, 2)", opts, stop=6, dt=0.5)
    np.testing.assert_allclose(y, np.where(t >= 2, t - 2 + 10, 10.0), rtol=1e-15)


def test_delay_pipeline_with_initial(opts: Options) -> None:
    t, y = evaluate("DELAY(TIME * TIME, 1.5, -1)", opts, stop=6, dt=0.5)
    np.testing.assert_allclose(y, np.where(t >= 1.5, (t - 1.5) ** 2, -1.0), rtol=1e-14)


def test_delay_pipeline_between_grid_points(opts: Options) -> None:
    """A delay that is not a multiple of DT interpolates linearly: exact for a linear input."""
    t, y = evaluate("DELAY(3 * TIME, 0.75, 100)", opts, stop=6, dt=0.5)
    np.testing.assert_allclose(y, np.where(t >= 0.75, 3 * (t - 0.75), 100.0), rtol=1e-14)


def test_delay_pipeline_of_a_stock(opts: Options) -> None:
    """A stock s = 1 + 3t delayed by 2: 1 + 3(t - 2) from t = 2, s(0) = 1 before."""
    ds = run(
        """
time: {start: 0, stop: 8, dt: 0.5}
stocks:
  s: {initial: 1, inflows: [f]}
flows:
  f: 3
auxiliaries:
  late: DELAY(s, 2)
""",
        opts,
    )
    t = ds.time.values
    np.testing.assert_allclose(
        ds["late"].values[0], np.where(t >= 2, 1 + 3 * (t - 2), 1.0), rtol=1e-14
    )


def test_delay_pipeline_inside_rk4_stages(opts: Options) -> None:
    """RK4 stages at t + DT/2 and t + DT must see the input as it was ``d`` before *those*
    times. With d = DT all of it is already known (the stage at t + DT needs the input at t).
    DELAY(TIME, 1) = max(0, t - 1) is piecewise linear with its kink on the grid, so RK4
    integrates it exactly: the stock is (t - 1)^2 / 2 from t = 1."""
    ds = run(
        """
time: {start: 0, stop: 4, dt: 1, method: rk4}
stocks:
  s: {initial: 0, inflows: [f]}
flows:
  f: DELAY(TIME, 1)
""",
        opts,
    )
    t = ds.time.values
    np.testing.assert_allclose(ds["f"].values[0], np.maximum(t - 1, 0), atol=1e-15)
    np.testing.assert_allclose(ds["s"].values[0], np.maximum(t - 1, 0) ** 2 / 2, atol=1e-12)


def test_delay_time_is_fixed_at_its_initial_value(opts: Options) -> None:
    """XMILE 1.0 §3.5.3 ("for the requested fixed time") and Stella's help (a variable delay
    duration is used at its initial value): DELAY(TIME, 1 + TIME) lags by 1 throughout."""
    t, y = evaluate("DELAY(TIME, 1 + TIME, -1)", opts, stop=4, dt=0.5)
    np.testing.assert_array_equal(y, np.where(t >= 1, t - 1, -1))


def test_history(opts: Options) -> None:
    """HISTORY(x, t): x at time t, interpolated between steps; x's initial value at or
    before the start (by hand: x = TIME^2 + 1)."""
    ds = run(
        """
time: {start: 0, stop: 3, dt: 0.5}
auxiliaries:
  x: TIME * TIME + 1
  y: HISTORY(x, TIME - 0.75)
""",
        opts,
    )
    t = ds.time.values
    lo, hi = np.floor((t - 0.75) / 0.5) * 0.5, np.ceil((t - 0.75) / 0.5) * 0.5
    expected = np.where(t - 0.75 <= 0, 1, (lo**2 + hi**2) / 2 + 1)
    np.testing.assert_allclose(ds["y"].values[0], expected)


def test_history_of_the_current_time_fails_the_run(opts: Options) -> None:
    """HISTORY(x, TIME) would need x before it is computed: the run fails, naming y."""
    ds = run(one_aux("HISTORY(TIME + 1, TIME)"), opts)
    assert str(ds["status"].values[0]) == "failed"
    assert str(ds["failed_variable"].values[0]) == "y"


def test_npv_of_a_constant_stream(opts: Options) -> None:
    """NPV(100, 0.2) with DT 1 (Vensim's equations): df_k = 1.2^-k, and the value at step k is
    sum_{i<k} 100*df_i + 100*df_k, by hand."""
    _, y = evaluate("NPV(100, 0.2)", opts, stop=4, dt=1)
    df = 1.2 ** -np.arange(5)
    np.testing.assert_allclose(y, np.cumsum(100 * df))


def test_npv_initial_value_and_factor(opts: Options) -> None:
    _, y = evaluate("NPV(0, 0.2, 30, 0.5)", opts, stop=2, dt=1)
    np.testing.assert_allclose(y, 15.0)


@pytest.mark.parametrize(
    ("equation", "expected"),
    [
        ("INF", math.inf),  # not stored (it would fail the run): compared below
        ("MIN(3, INF)", 3.0),
        ("-INF < -1E308", 1.0),
        ("ZIDZ(3, 0)", 0.0),
        ("ZIDZ(3, 2)", 1.5),
        ("XIDZ(3, 0, 7)", 7.0),
        ("XIDZ(3, 2, 7)", 1.5),
        ("MODULO(-7, 4)", -3.0),  # Vensim: the sign of the dividend
        ("MODULO(7, -4)", 3.0),
        ("MODULO(7.5, 2)", 1.5),
        ("7 // 2", 3.0),
        ("-7 // 2", -4.0),  # the floor: -7 = (-4)*2 + (-7 MOD 2)
        ("7 // 2 * 2 + 7 MOD 2", 7.0),
        ("2 + 9 // 2 ^ 2 {a // comment}", 4.0),  # // binds like /, below ^
        ("7.5 // 0.5", 15.0),
    ],
)
def test_infinity_vensim_division_and_integer_division(
    equation: str, expected: float, opts: Options
) -> None:
    if equation == "INF":
        equation, expected = "IF INF > 1E308 THEN 1 ELSE 0", 1.0
    _, y = evaluate(equation, opts, stop=1)
    np.testing.assert_array_equal(y, expected)


G, T_AVG = 0.1, 5.0


def _trend_exact(t: np.ndarray, g: float, avg: float) -> np.ndarray:
    """TREND(exp(g t), avg) with initial trend 0: the average A solves A' = (e^{gt} - A)/avg,
    A(0) = 1, so A = e^{gt}/(1 + g avg) + (1 - 1/(1 + g avg)) e^{-t/avg}, and
    TREND = (e^{gt} - A) / (A avg), which tends to g."""
    e = np.exp(g * t)
    k = 1 + g * avg
    average = e / k + (1 - 1 / k) * np.exp(-t / avg)
    return (e - average) / (average * avg)


def test_trend_of_exponential_growth_from_equilibrium(opts: Options) -> None:
    """With initial trend g the average starts on its steady state exp(gt)/(1+gT), so the
    trend equals g at every time (to RK4 accuracy)."""
    _, y = evaluate(f"TREND(EXP({G} * TIME), {T_AVG}, {G})", opts, stop=40, **RK4)
    np.testing.assert_allclose(y, G, rtol=1e-7)


def test_trend_of_exponential_growth_converges_to_the_growth_rate(opts: Options) -> None:
    t, y = evaluate(f"TREND(EXP({G} * TIME), {T_AVG})", opts, stop=60, **RK4)
    assert y[0] == 0.0  # the default initial trend
    np.testing.assert_allclose(y, _trend_exact(t, G, T_AVG), rtol=1e-6, atol=1e-9)
    assert y[-1] == pytest.approx(G, rel=1e-4)  # exp(-60/5) transient left


def test_trend_of_a_constant_is_zero(opts: Options) -> None:
    _, y = evaluate("TREND(4 + 0 * TIME, 3)", opts, stop=10, **RK4)
    np.testing.assert_allclose(y, 0.0, atol=1e-15)


def test_forcst_of_exponential_growth(opts: Options) -> None:
    """FORCST(x, T, H, g) = x (1 + TREND H): from equilibrium, exp(gt)(1 + gH)."""
    t, y = evaluate(f"FORCST(EXP({G} * TIME), {T_AVG}, 3, {G})", opts, stop=30, **RK4)
    np.testing.assert_allclose(y, np.exp(G * t) * (1 + G * 3), rtol=1e-7)


def test_forcst_with_default_initial_trend(opts: Options) -> None:
    t, y = evaluate(f"FORCST(EXP({G} * TIME), {T_AVG}, 2)", opts, stop=30, **RK4)
    np.testing.assert_allclose(y, np.exp(G * t) * (1 + _trend_exact(t, G, T_AVG) * 2), rtol=1e-6)
    assert y[0] == pytest.approx(1.0, rel=1e-15)  # initial trend 0: the input itself


def test_init_of_an_expression(opts: Options) -> None:
    t, y = evaluate("INIT(TIME + 5)", opts, start=2, stop=6, dt=0.5)
    np.testing.assert_allclose(y, np.full_like(t, 7.0))


def test_init_of_a_stock_and_of_an_auxiliary(opts: Options) -> None:
    ds = run(
        """
time: {start: 1, stop: 5, dt: 0.25}
stocks:
  s: {initial: 3, inflows: [f]}
flows:
  f: 2
auxiliaries:
  x: TIME * TIME
  s0: INIT(s)
  x0: INIT(x)
  c: INIT(9)
""",
        opts,
    )
    t = ds.time.values
    np.testing.assert_allclose(ds["s"].values[0], 3 + 2 * (t - 1), rtol=1e-14)
    np.testing.assert_allclose(ds["s0"].values[0], 3.0)
    np.testing.assert_allclose(ds["x0"].values[0], 1.0)
    np.testing.assert_allclose(ds["c"].values[0], 9.0)


def test_previous_with_initial(opts: Options) -> None:
    t, y = evaluate("PREVIOUS(TIME * TIME, -1)", opts, stop=4, dt=0.5)
    np.testing.assert_allclose(y, np.where(t > 0, (t - 0.5) ** 2, -1.0), rtol=1e-15)


def test_previous_default_initial_is_the_value_itself(opts: Options) -> None:
    t, y = evaluate("PREVIOUS(TIME + 3)", opts, start=1, stop=4, dt=0.5)
    np.testing.assert_allclose(y, np.where(t > 1, t - 0.5 + 3, 4.0), rtol=1e-15)


def test_previous_of_a_stock_under_rk4(opts: Options) -> None:
    """PREVIOUS is one DT ago, not one RK4 stage ago: s = 2t, PREVIOUS(s) = 2(t - dt)."""
    ds = run(
        """
time: {start: 0, stop: 3, dt: 0.25, method: rk4}
stocks:
  s: {initial: 0, inflows: [f]}
flows:
  f: 2
auxiliaries:
  before: PREVIOUS(s)
""",
        opts,
    )
    t = ds.time.values
    np.testing.assert_allclose(ds["before"].values[0], 2 * np.maximum(t - 0.25, 0), atol=1e-14)


def test_previous_breaks_an_algebraic_loop(opts: Options) -> None:
    """y = PREVIOUS(y, 1) + 1 counts: y_k = k + 2."""
    t, y = evaluate("PREVIOUS(y, 1) + 1", opts, stop=5, dt=1)
    np.testing.assert_allclose(y, np.arange(len(t)) + 2.0)


# -- 5. lookups -----------------------------------------------------------------------------------

POINTS = [(0.0, 0.0), (1.0, 10.0), (3.0, 30.0), (4.0, 20.0)]


def _lookup_model(interpolation: str, extrapolation: str) -> str:
    points = ", ".join(f"[{x}, {y}]" for x, y in POINTS)
    return f"""
time: {{start: -2, stop: 6, dt: 0.25}}
lookups:
  table:
    points: [{points}]
    interpolation: {interpolation}
    extrapolation: {extrapolation}
auxiliaries:
  y: table(TIME)
  doubled: 2 * table(TIME / 2 + 0.5)
"""


def _piecewise_linear(x: np.ndarray) -> np.ndarray:
    """The table by hand: 10x on [0, 1], 10x on [1, 3], 30 - 10(x - 3) on [3, 4]."""
    return np.where(x <= 3, 10 * x, 30 - 10 * (x - 3))


def test_lookup_linear_clamped(opts: Options) -> None:
    ds = run(_lookup_model("linear", "clamp"), opts)
    t = ds.time.values
    np.testing.assert_allclose(ds["y"].values[0], _piecewise_linear(np.clip(t, 0, 4)), atol=1e-12)
    x = t / 2 + 0.5
    np.testing.assert_allclose(
        ds["doubled"].values[0], 2 * _piecewise_linear(np.clip(x, 0, 4)), atol=1e-12
    )


def test_lookup_linear_extrapolated(opts: Options) -> None:
    """Linear extrapolation continues the first and last segments (slopes 10 and -10)."""
    ds = run(_lookup_model("linear", "linear"), opts)
    t = ds.time.values
    expected = np.where(t < 0, 10 * t, _piecewise_linear(t))
    np.testing.assert_allclose(ds["y"].values[0], expected, atol=1e-12)
    assert ds["y"].values[0, 0] == pytest.approx(-20.0)  # x = -2
    assert ds["y"].values[0, -1] == pytest.approx(0.0)  # x = 6: 20 - 10 * 2


def test_lookup_discrete(opts: Options) -> None:
    """Discrete: each y holds from its x up to the next x; clamped at both ends."""
    ds = run(_lookup_model("discrete", "clamp"), opts)
    t = ds.time.values
    expected = np.select([t < 1, t < 3, t < 4], [0.0, 10.0, 30.0], 20.0)
    np.testing.assert_array_equal(ds["y"].values[0], expected)


def test_lookup_attached_to_an_auxiliary(opts: Options) -> None:
    """An auxiliary with a ``lookup:`` block is lookup(equation); xs/ys form of the points."""
    ds = run(
        """
time: {start: 0, stop: 4, dt: 0.5}
auxiliaries:
  effect:
    equation: TIME * 2
    lookup:
      xs: [0, 2, 4, 8]
      ys: [1, 0.5, 0.25, 0]
""",
        opts,
    )
    x = ds.time.values * 2
    expected = np.interp(x, [0, 2, 4, 8], [1, 0.5, 0.25, 0])
    np.testing.assert_allclose(ds["effect"].values[0], expected, atol=1e-15)
    np.testing.assert_allclose(ds["effect"].values[0][[0, 2, 4, 6, 8]], [1, 0.5, 0.25, 0.125, 0])


# -- 6. arrays ------------------------------------------------------------------------------------

ARRAYS = """
time: {start: 0, stop: 2, dt: 1}
dimensions:
  region: [north, south, east]
  size: [small, big]
parameters:
  x: {dims: [region], default: {north: 2, south: 3, east: 5}}
auxiliaries:
  total: SUM(x[*])
  average: MEAN(x[*])
  product: PROD(x[*])
  lowest: MIN(x[*])
  highest: MAX(x[*])
  lowest_with_scalar: MIN(x[*], 1)
  highest_with_scalar: MAX(4, x[*])
  mean_of_arguments: MEAN(1, 2, 6)
  by_name: x[south]
  by_position: x[3]
  doubled:
    dims: [region]
    equation: x * 2
  explicit:
    dims: [region]
    equation: x[region] + TIME
  per_element:
    dims: [region]
    equation: x + 100
    elements:
      east: x * 10
      north: -1
  grid:
    dims: [region, size]
    equation: x * 10
    elements:
      "north,big": 1000
  column_sum: SUM(grid[*, big])
  row_sum: SUM(grid[north, *])
  grid_total: SUM(grid[*, *])
  grid_position: grid[2, 1]
"""


def test_reductions(opts: Options) -> None:
    ds = run(ARRAYS, opts)
    x = np.array([2.0, 3.0, 5.0])
    expected = {
        "total": x.sum(),
        "average": x.mean(),
        "product": x.prod(),
        "lowest": x.min(),
        "highest": x.max(),
        "lowest_with_scalar": 1.0,
        "highest_with_scalar": 5.0,
        "mean_of_arguments": 3.0,
    }
    for name, value in expected.items():
        np.testing.assert_allclose(ds[name].values[0], value, rtol=1e-15, err_msg=name)


def test_subscripts_by_name_and_position(opts: Options) -> None:
    ds = run(ARRAYS, opts)
    np.testing.assert_allclose(ds["by_name"].values[0], 3.0)
    np.testing.assert_allclose(ds["by_position"].values[0], 5.0)  # 1-based: east
    np.testing.assert_allclose(ds["grid_position"].values[0], 30.0)  # [south, small]


def test_arrayed_equations(opts: Options) -> None:
    ds = run(ARRAYS, opts)
    assert ds["doubled"].dims == ("run", "time", "region")
    assert list(ds.region.values) == ["north", "south", "east"]
    x = np.array([2.0, 3.0, 5.0])
    np.testing.assert_allclose(ds["doubled"].values[0], np.tile(2 * x, (3, 1)))
    t = ds.time.values
    np.testing.assert_allclose(ds["explicit"].values[0], x[None, :] + t[:, None])
    np.testing.assert_allclose(ds["per_element"].sel(region="south").values[0], 103.0)
    np.testing.assert_allclose(ds["per_element"].sel(region="east").values[0], 50.0)
    np.testing.assert_allclose(ds["per_element"].sel(region="north").values[0], -1.0)


def test_two_dimensional_reductions(opts: Options) -> None:
    ds = run(ARRAYS, opts)
    grid = np.array([[20.0, 1000.0], [30.0, 30.0], [50.0, 50.0]])  # (region, size)
    assert ds["grid"].dims == ("run", "time", "region", "size")
    np.testing.assert_allclose(ds["grid"].values[0, 0], grid)
    np.testing.assert_allclose(ds["column_sum"].values[0], grid[:, 1].sum())
    np.testing.assert_allclose(ds["row_sum"].values[0], grid[0].sum())
    np.testing.assert_allclose(ds["grid_total"].values[0], grid.sum())


def test_arrayed_stock_with_reduction(opts: Options) -> None:
    """Per-element stocks fed by per-element flows; the reduction sees them every DT."""
    ds = run(
        """
time: {start: 0, stop: 4, dt: 0.5}
dimensions:
  shop: 3
parameters:
  rate: {dims: [shop], default: {"1": 1, "2": 2, "3": 4}}
stocks:
  stock: {dims: [shop], initial: 10, inflows: [flow]}
flows:
  flow: {dims: [shop], equation: rate}
auxiliaries:
  everything: SUM(stock[*])
  second: stock[2]
""",
        opts,
    )
    t = ds.time.values
    np.testing.assert_allclose(ds["everything"].values[0], 30 + 7 * t, rtol=1e-14)
    np.testing.assert_allclose(ds["second"].values[0], 10 + 2 * t, rtol=1e-14)


# -- 7. random functions --------------------------------------------------------------------------
#
# Moments: with n independent draws, the sample mean has standard error sqrt(var/n) and the
# sample variance sqrt((mu4 - var^2)/n) (mu4 the 4th central moment); we allow 5 standard
# errors (a two-sided miss probability of 6e-7 per check). The seeds are fixed, so the tests
# are deterministic. Distribution shape: at a few points the empirical CDF is a binomial
# proportion with standard error sqrt(p(1-p)/n); again 5 standard errors.

N_RUNS = 4000
SEEDS = np.arange(N_RUNS)


def draws(
    equation: str,
    opts: Options,
    *,
    stop: float = 4,
    seeds: np.ndarray = SEEDS,
    method: str = "euler",
) -> np.ndarray:
    """The values of ``y`` as (runs, times): one draw per run and per DT."""
    ds = run(one_aux(equation, stop=stop, method=method), opts, seed=seeds)
    return np.asarray(ds["y"].values)


def assert_moments(sample: np.ndarray, mean: float, var: float, mu4: float) -> None:
    n = sample.size
    se_mean = math.sqrt(var / n)
    se_var = math.sqrt((mu4 - var * var) / n)
    assert abs(sample.mean() - mean) <= 5 * se_mean, (sample.mean(), mean, se_mean)
    assert abs(sample.var(ddof=1) - var) <= 5 * se_var, (sample.var(ddof=1), var, se_var)


def assert_cdf(sample: np.ndarray, cdf: Callable[[float], float], points: list[float]) -> None:
    n = sample.size
    for x in points:
        p = cdf(x)
        observed = np.count_nonzero(sample <= x) / n
        assert abs(observed - p) <= 5 * math.sqrt(p * (1 - p) / n) + 1e-12, (x, observed, p)


def normal_cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def test_random_uniform(opts: Options) -> None:
    lo, hi = 2.0, 5.0
    sample = draws(f"RANDOM({lo}, {hi})", opts)
    assert sample.min() > lo and sample.max() < hi
    width = hi - lo
    assert_moments(sample, (lo + hi) / 2, width**2 / 12, width**4 / 80)
    assert_cdf(sample, lambda x: (x - lo) / width, [2.3, 3.0, 3.5, 4.5, 4.9])


def test_normal(opts: Options) -> None:
    mean, sd = 10.0, 2.0
    sample = draws(f"NORMAL({mean}, {sd})", opts)
    assert_moments(sample, mean, sd**2, 3 * sd**4)
    assert_cdf(sample, lambda x: normal_cdf((x - mean) / sd), [5.0, 7.0, 9.0, 10.0, 12.5, 15.0])


def test_lognormal_has_the_given_mean_and_sd(opts: Options) -> None:
    """LOGNORMAL(m, s): m and s are the mean and sd of the log-normal itself, so
    log X ~ N(mu, sigma^2) with sigma^2 = ln(1 + s^2/m^2), mu = ln m - sigma^2 / 2."""
    m, s = 2.0, 1.0
    sample = draws(f"LOGNORMAL({m}, {s})", opts)
    assert sample.min() > 0
    sigma2 = math.log(1 + s * s / (m * m))
    mu = math.log(m) - sigma2 / 2
    raw = [math.exp(k * mu + k * k * sigma2 / 2) for k in range(5)]  # E[X^k]
    mu4 = raw[4] - 4 * raw[3] * raw[1] + 6 * raw[2] * raw[1] ** 2 - 3 * raw[1] ** 4
    assert raw[1] == pytest.approx(m) and raw[2] - raw[1] ** 2 == pytest.approx(s * s)
    assert_moments(sample, m, s * s, mu4)
    logs = np.log(sample)
    assert_moments(logs, mu, sigma2, 3 * sigma2**2)
    assert_cdf(
        sample,
        lambda x: normal_cdf((math.log(x) - mu) / math.sqrt(sigma2)),
        [0.8, 1.5, 2.0, 3.0, 4.5],
    )


def test_exprnd(opts: Options) -> None:
    mean = 3.0
    sample = draws(f"EXPRND({mean})", opts)
    assert sample.min() > 0
    assert_moments(sample, mean, mean**2, 9 * mean**4)
    assert_cdf(sample, lambda x: 1 - math.exp(-x / mean), [0.1, 1.0, 3.0, 6.0, 12.0])


def _poisson_pmf(k: int, lam: float) -> float:
    return math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1))


@pytest.mark.parametrize("lam", [0.5, 4.0, 12.5, 29.5, 30.0, 50.0, 400.0])
def test_poisson(lam: float, opts: Options) -> None:
    """Small means (< 30, inversion) and large means (>= 30, PTRS rejection)."""
    sample = draws(f"POISSON({lam})", opts)
    assert np.all(sample == np.floor(sample)) and sample.min() >= 0
    assert_moments(sample, lam, lam, lam * (1 + 3 * lam))
    # the frequency of each likely count, against the pmf (binomial standard error)
    n = sample.size
    for k in range(int(lam - 3 * math.sqrt(lam)), int(lam + 3 * math.sqrt(lam)) + 1):
        if k < 0:
            continue
        p = _poisson_pmf(k, lam)
        observed = np.count_nonzero(sample == k) / n
        assert abs(observed - p) <= 5 * math.sqrt(p * (1 - p) / n), (k, observed, p)


def test_poisson_of_zero_mean_is_zero(opts: Options) -> None:
    np.testing.assert_array_equal(draws("POISSON(0)", opts, seeds=SEEDS[:50]), 0.0)


def test_random_arguments_can_vary(opts: Options) -> None:
    """Arguments are evaluated each DT: RANDOM(TIME, TIME + 1) lies in [t, t + 1]."""
    ds = run(one_aux("RANDOM(TIME, TIME + 1)", stop=6), opts, seed=SEEDS[:200])
    y, t = ds["y"].values, ds.time.values
    assert np.all((y > t) & (y < t + 1))


def test_init_of_a_random_draw_is_held(opts: Options) -> None:
    """INIT(RANDOM(0, 1)) is drawn once per run and held; runs differ."""
    ds = run(one_aux("INIT(RANDOM(0, 1))", stop=10), opts, seed=SEEDS[:500])
    y = ds["y"].values
    np.testing.assert_array_equal(y, np.repeat(y[:, :1], y.shape[1], axis=1))
    assert len(np.unique(y[:, 0])) == 500
    assert_moments(y[:, 0], 0.5, 1 / 12, 1 / 80)


def test_random_value_at_the_start_is_the_one_initial_values_see(opts: Options) -> None:
    """A random auxiliary has one value at the start time: a stock initialised from it, INIT
    of it and PREVIOUS of it (whose default initial value is the value itself) all equal the
    value reported for it at the start time."""
    ds = run(
        """
time: {start: 0, stop: 3, dt: 1}
stocks:
  s: {initial: y}
auxiliaries:
  y: RANDOM(0, 1)
  first: INIT(y)
  before: PREVIOUS(y)
""",
        opts,
        seed=SEEDS[:20],
    )
    y0 = ds["y"].values[:, 0]
    np.testing.assert_array_equal(ds["s"].values[:, 0], y0)
    np.testing.assert_array_equal(ds["first"].values[:, 0], y0)
    np.testing.assert_array_equal(ds["before"].values[:, 0], y0)
    # and afterwards PREVIOUS is the value one DT ago
    np.testing.assert_array_equal(ds["before"].values[:, 1:], ds["y"].values[:, :-1])


def test_random_in_an_arrayed_equation_draws_per_element(opts: Options) -> None:
    ds = run(
        """
time: {start: 0, stop: 2, dt: 1}
dimensions:
  k: 4
auxiliaries:
  y:
    dims: [k]
    equation: RANDOM(0, 1)
""",
        opts,
        seed=SEEDS[:100],
    )
    y = ds["y"].values  # (run, time, k)
    for r in range(y.shape[0]):
        assert len(np.unique(y[r])) == y[r].size


RANDOM_EQUATIONS = [
    "RANDOM(0, 1)",
    "NORMAL(0, 1)",
    "LOGNORMAL(1, 0.5)",
    "EXPRND(2)",
    "POISSON(3)",
    "POISSON(45)",
    "RANDOM(0, 1, 17)",
    "NORMAL(5, 2, 3)",
]


@pytest.mark.parametrize("equation", RANDOM_EQUATIONS)
def test_random_same_seed_reproduces_exactly(equation: str, opts: Options) -> None:
    first = draws(equation, opts, seeds=SEEDS[:300])
    second = draws(equation, opts, seeds=SEEDS[:300])
    np.testing.assert_array_equal(first, second)
    # one scalar seed (each run derives its own stream) reproduces too
    a = run(one_aux(equation), opts, seed=42, params=None)["y"].values
    b = run(one_aux(equation), opts, seed=42)["y"].values
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("equation", RANDOM_EQUATIONS)
def test_random_different_seeds_differ(equation: str, opts: Options) -> None:
    sample = draws(equation, opts, seeds=np.array([1, 2, 3, 1000]), stop=20)
    if equation in ("RANDOM(0, 1, 17)", "NORMAL(5, 2, 3)"):
        # a seed argument: "the sequence of numbers will always be identical" (XMILE 1.0
        # §3.5.2), whatever the run's seed
        for row in sample[1:]:
            np.testing.assert_array_equal(row, sample[0])
        return
    for i in range(len(sample)):
        for j in range(i + 1, len(sample)):
            assert not np.array_equal(sample[i], sample[j])
    # seed 1 again gives run 0 again
    again = draws(equation, opts, seeds=np.array([1]), stop=20)
    np.testing.assert_array_equal(again[0], sample[0])


@pytest.mark.parametrize("equation", RANDOM_EQUATIONS)
def test_random_backends_draw_identical_values(equation: str) -> None:
    a = draws(equation, NUMPY, seeds=SEEDS[:500], stop=10)
    b = draws(equation, NUMBA, seeds=SEEDS[:500], stop=10)
    if equation.startswith(("RANDOM", "POISSON")):
        np.testing.assert_array_equal(a, b)  # pure integer hashing and arithmetic
    else:
        # the same uniforms go through log/exp/cos, which NumPy's SIMD loops and the libm
        # that numba calls may round differently in the last bit (1 ulp)
        np.testing.assert_allclose(a, b, rtol=4e-16 * 8, atol=1e-300)


@pytest.mark.parametrize(
    "equation", ["RANDOM(0, 1)", "NORMAL(0, 1)", "LOGNORMAL(1, 0.5)", "EXPRND(2)"]
)
def test_random_new_value_each_dt(equation: str, opts: Options) -> None:
    """Continuous draws: every DT of every run has its own value, and consecutive values are
    uncorrelated (|r| < 5/sqrt(n))."""
    sample = draws(equation, opts, seeds=SEEDS[:500], stop=20)
    for row in sample:
        assert len(np.unique(row)) == len(row)
    x, y = sample[:, :-1].ravel(), sample[:, 1:].ravel()
    assert abs(np.corrcoef(x, y)[0, 1]) < 5 / math.sqrt(x.size)


def test_random_call_sites_are_independent(opts: Options) -> None:
    ds = run(
        """
time: {start: 0, stop: 4, dt: 1}
auxiliaries:
  a: RANDOM(0, 1)
  b: RANDOM(0, 1)
""",
        opts,
        seed=SEEDS,
    )
    a, b = ds["a"].values.ravel(), ds["b"].values.ravel()
    assert not np.array_equal(a, b)
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / math.sqrt(a.size)


def test_explicit_seed_names_its_own_stream(opts: Options) -> None:
    """RANDOM(0, 1, 7) draws the same values whatever other random calls the model has,
    while RANDOM(0, 1, 8) is another stream."""
    alone = run(one_aux("RANDOM(0, 1, 7)"), opts, seed=SEEDS[:100])["y"].values
    ds = run(
        """
time: {start: 0, stop: 4, dt: 1}
auxiliaries:
  noise: NORMAL(0, 1)
  other: RANDOM(0, 1, 8)
  y: RANDOM(0, 1, 7)
""",
        opts,
        seed=SEEDS[:100],
    )
    np.testing.assert_array_equal(ds["y"].values, alone)
    assert not np.array_equal(ds["other"].values, alone)


@pytest.mark.parametrize(
    "equation", ["RANDOM(0, 1)", "NORMAL(0, 1)", "EXPRND(1)", "POISSON(2)", "POISSON(40)"]
)
def test_random_constant_within_a_dt_under_rk4(equation: str, opts: Options) -> None:
    """A stock integrating a random flow with RK4 changes by exactly DT * (the flow's value
    at the start of the step): all four stages see the same draw."""
    ds = run(
        f"""
time: {{start: 0, stop: 5, dt: 0.25, method: rk4}}
stocks:
  s: {{initial: 0, inflows: [f]}}
flows:
  f: {equation}
""",
        opts,
        seed=SEEDS[:200],
    )
    s, f = ds["s"].values, ds["f"].values
    np.testing.assert_allclose(np.diff(s, axis=1), 0.25 * f[:, :-1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s[:, -1], 0.25 * f[:, :-1].sum(axis=1), rtol=1e-9)
