"""Builtins with Vensim's documented semantics (DELAY_FIXED, SAMPLE_IF_TRUE, SAFE_TREND,
SAFE_FORECAST, ACTIVE_INITIAL, GAME), on small YAML models, against values computed by hand
from the equations of Vensim's reference manual (vensim.com/documentation, fn_*.html). Every
test runs on both virtual machines."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr
import yaml

import flywheel_sim as fs
from flywheel_sim import Options
from flywheel_sim.errors import ModelError

NUMPY, NUMBA = Options(backend="numpy"), Options(backend="numba")


@pytest.fixture(params=[NUMPY, NUMBA], ids=["numpy", "numba"])
def opts(request: pytest.FixtureRequest) -> Options:
    option: Options = request.param
    return option


def run(text: str, opts: Options) -> xr.Dataset:
    return fs.simulate(fs.loads_model(text), options=opts)


def evaluate(
    equation: str, opts: Options, stop: float = 4, dt: float = 1, method: str = "euler"
) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) of ``y = equation`` in a one-auxiliary model."""
    doc = {
        "time": {"start": 0, "stop": stop, "dt": dt, "method": method},
        "auxiliaries": {"y": {"equation": equation}},
    }
    ds = run(yaml.safe_dump(doc, sort_keys=False), opts)
    return ds.time.values, ds["y"].values[0]


# -- DELAY_FIXED ---------------------------------------------------------------------------------


def test_delay_fixed_rounds_the_delay_to_whole_steps(opts: Options) -> None:
    """Vensim's DELAY FIXED keeps one value per TIME STEP: a delay of 1.2 with DT 0.5 is
    2.4 steps, rounded to 2 (a delay of 1.0); the initial value until then."""
    t, y = evaluate("DELAY_FIXED(TIME * TIME, 1.2, -1)", opts, stop=4, dt=0.5)
    np.testing.assert_allclose(y, np.where(t >= 1, (t - 1) ** 2, -1.0), rtol=1e-13, atol=1e-13)


def test_delay_fixed_shorter_than_a_step_acts_as_one_step(opts: Options) -> None:
    """Vensim: "The minimum delay time is TIME STEP"; a delay of 0 or 0.1 delays by one DT."""
    for delay in ("0", "0.1"):
        t, y = evaluate(f"DELAY_FIXED(3 * TIME, {delay}, 7)", opts, stop=3, dt=0.5)
        np.testing.assert_allclose(y, np.where(t >= 0.5, 3 * (t - 0.5), 7.0), atol=1e-13)


def test_delay_fixed_of_a_constant_starts_at_its_initial_value(opts: Options) -> None:
    """DELAY FIXED(5, 2, 0): 0 until the delay has passed, then 5 (the same for DELAY)."""
    for equation in ("DELAY_FIXED(5, 2, 0)", "DELAY(5, 2, 0)"):
        t, y = evaluate(equation, opts, stop=4, dt=1)
        np.testing.assert_array_equal(y, np.where(t >= 2, 5.0, 0.0))


def test_delay_fixed_takes_the_delay_time_at_the_start(opts: Options) -> None:
    """Vensim: "The delay time can be an expression, but only its initial value is used"."""
    t, y = evaluate("DELAY_FIXED(TIME, 2 + TIME, 100)", opts, stop=6, dt=1)
    np.testing.assert_allclose(y, np.where(t >= 2, t - 2, 100.0), atol=1e-13)


# -- SAMPLE_IF_TRUE ------------------------------------------------------------------------------


def test_sample_if_true_holds_the_last_sample(opts: Options) -> None:
    """The input while the condition holds (t = 2, 2.5: 10t), then held; the initial value
    before the condition first holds."""
    t, y = evaluate("SAMPLE_IF_TRUE(TIME >= 2 AND TIME < 3, 10 * TIME, -1)", opts, stop=5, dt=0.5)
    expected = np.where(t < 2, -1.0, np.where(t < 3, 10 * t, 25.0))
    np.testing.assert_allclose(y, expected, rtol=1e-15)


def test_sample_if_true_samples_at_the_start_when_the_condition_holds(opts: Options) -> None:
    """At the start the condition is already true: the input (100), not the initial value."""
    t, y = evaluate("SAMPLE_IF_TRUE(TIME < 1, TIME + 100, 7)", opts, stop=3, dt=0.5)
    np.testing.assert_allclose(y, np.where(t < 1, t + 100, 100.5), rtol=1e-15)


def test_sample_if_true_may_read_its_own_previous_value(opts: Options) -> None:
    """Vensim's example "max workforce = SAMPLE IF TRUE(workforce > max workforce, workforce,
    workforce)": the variable on the right is its previous value; here the running maximum
    of a saw-tooth x."""
    ds = run(
        """
time: {start: 0, stop: 8, dt: 1}
auxiliaries:
  x: MODULO(TIME + 1, 4) * 2 - TIME / 4
  m: SAMPLE_IF_TRUE(x > m, x, x)
""",
        opts,
    )
    t = ds.time.values
    x = np.mod(t + 1, 4) * 2 - t / 4
    np.testing.assert_allclose(ds["m"].values[0], np.maximum.accumulate(x), rtol=1e-15)


# -- SAFE_TREND and SAFE_FORECAST ----------------------------------------------------------------


def _smooth(x: np.ndarray, avg: float, start: float, dt: float) -> np.ndarray:
    """Euler's first-order smooth of the sequence x: a[k+1] = a[k] + dt (x[k] - a[k]) / avg."""
    out = np.empty_like(x)
    out[0] = start
    for k in range(len(x) - 1):
        out[k + 1] = out[k] + dt * (x[k] - out[k]) / avg
    return out


def test_safe_trend_of_a_constant_from_an_initial_trend(opts: Options) -> None:
    """Vensim's TREND(10, 5, 0.1): the average starts at 10 / (1 + 0.1 * 5), so the trend
    starts at 0.1 and decays as the average catches up."""
    t, y = evaluate("SAFE_TREND(10, 5, 0.1)", opts, stop=6)
    avg = _smooth(np.full(t.shape, 10.0), 5, 10 / 1.5, 1)
    assert y[0] == pytest.approx(0.1, rel=1e-14)
    np.testing.assert_allclose(y, (10 - avg) / (5 * np.abs(avg)), rtol=1e-13)


def test_safe_trend_divides_by_the_absolute_average(opts: Options) -> None:
    """A negative input rising from -10 to -5 has a positive trend (Vensim divides by
    ABS(average); XMILE's TREND would give a negative one)."""
    t, y = evaluate("SAFE_TREND(-10 + STEP(5, 1), 4, 0)", opts, stop=5)
    x = np.where(t >= 1, -5.0, -10.0)
    avg = _smooth(x, 4, -10.0, 1)
    expected = (x - avg) / (4 * np.abs(avg))
    assert y[1] == pytest.approx(5 / 40, rel=1e-14)
    np.testing.assert_allclose(y, expected, rtol=1e-13)


def test_safe_trend_and_forecast_of_zero_are_zero(opts: Options) -> None:
    """Vensim's equations divide with ZIDZ: a zero average gives 0, not a failed run."""
    for equation in ("SAFE_TREND(0, 3, 0)", "SAFE_FORECAST(0 * TIME, 3, 5)"):
        _, y = evaluate(equation, opts)
        np.testing.assert_array_equal(y, 0.0)


def test_safe_forecast_of_exponential_growth(opts: Options) -> None:
    """Vensim's FORECAST = input * (1 + horizon * (input - AV) / (average time * AV)), AV a
    smooth of the input starting at the input (Euler, DT 0.5, by the recurrence)."""
    t, y = evaluate("SAFE_FORECAST(10 * EXP(0.1 * TIME), 2, 3)", opts, stop=5, dt=0.5)
    x = 10 * np.exp(0.1 * t)
    avg = _smooth(x, 2, 10.0, 0.5)
    np.testing.assert_allclose(y, x * (1 + 3 * (x - avg) / (2 * avg)), rtol=1e-13)
    assert y[0] == pytest.approx(10.0, rel=1e-15)


# -- ACTIVE_INITIAL ------------------------------------------------------------------------------

_CAPACITY = """
time: {{start: 0, stop: 5, dt: 1}}
stocks:
  capacity: {{initial: target, inflows: [adjust]}}
flows:
  adjust: (target - capacity) / 10
auxiliaries:
  target: {target}
"""


def test_active_initial_breaks_a_cycle_of_initial_values(opts: Options) -> None:
    """Vensim's example: Capacity = INTEG(adjust, target capacity) with target capacity =
    ACTIVE INITIAL(Capacity * 1.1, 100): capacity starts at 100, target is the active
    equation from the start time on (110 at t = 0), so capacity grows 1% per step."""
    ds = run(_CAPACITY.format(target="ACTIVE_INITIAL(capacity * 1.1, 100)"), opts)
    k = np.arange(6)
    np.testing.assert_allclose(ds["capacity"].values[0], 100 * 1.01**k, rtol=1e-13)
    np.testing.assert_allclose(ds["target"].values[0], 110 * 1.01**k, rtol=1e-13)


def test_without_active_initial_the_cycle_is_refused() -> None:
    with pytest.raises(ModelError, match="initial values depend on each other"):
        fs.compile_model(fs.loads_model(_CAPACITY.format(target="capacity * 1.1")))


def test_active_initial_of_a_constant_equation(opts: Options) -> None:
    """An equation that never changes is still the one used from the start time on."""
    ds = run(_CAPACITY.format(target="ACTIVE_INITIAL(50, 100)"), opts)
    cap = [100.0]
    for _ in range(5):
        cap.append(cap[-1] + (50 - cap[-1]) / 10)
    np.testing.assert_allclose(ds["capacity"].values[0], cap, rtol=1e-14)
    np.testing.assert_array_equal(ds["target"].values[0], 50.0)


# -- GAME ----------------------------------------------------------------------------------------


def test_time_base(opts: Options) -> None:
    """Vensim: TIME BASE(START, SLOPE) is START + Time * SLOPE."""
    t, y = evaluate("TIME_BASE(1970, 0.25)", opts, stop=8, dt=0.5)
    np.testing.assert_array_equal(y, 1970 + t * 0.25)


def test_trunc_rounds_toward_zero(opts: Options) -> None:
    """Vensim's INTEGER(x) truncates: -2.5 -> -2 (INT, the floor, gives -3)."""
    t, y = evaluate("TRUNC(1.25 * TIME - 2.5)", opts)
    np.testing.assert_array_equal(y, np.trunc(1.25 * t - 2.5))
    assert list(y) == [-2.0, -1.0, 0.0, 1.0, 2.0]


def test_pulse_window(opts: Options) -> None:
    """Vensim's PULSE(start, width): 1 from start for width; width 0 lasts one TIME STEP."""
    t, y = evaluate("PULSE_WINDOW(1, 1)", opts, stop=3, dt=0.25)
    np.testing.assert_array_equal(y, ((t >= 1) & (t < 2)).astype(float))
    t, y = evaluate("PULSE_WINDOW(1, 0)", opts, stop=3, dt=0.25)
    np.testing.assert_array_equal(y, (t == 1).astype(float))


def test_pulse_train(opts: Options) -> None:
    """Vensim's PULSE TRAIN(2, 1, 3, 9) with DT 0.5: 1 at 2, 2.5, 5, 5.5, 8, 8.5; a width
    below TIME STEP lasts one step; an interval below the width is 1 from start to end,
    end included (a pulse may start at end: Vensim's output of SDEverywhere's pulsetrain)."""
    t, y = evaluate("PULSE_TRAIN(2, 1, 3, 9)", opts, stop=12, dt=0.5)
    np.testing.assert_array_equal(t[y == 1], [2, 2.5, 5, 5.5, 8, 8.5])
    t, y = evaluate("PULSE_TRAIN(2, 0.1, 3, 9)", opts, stop=12, dt=0.5)
    np.testing.assert_array_equal(t[y == 1], [2, 5, 8])
    t, y = evaluate("PULSE_TRAIN(2, 2, 1, 4)", opts, stop=6, dt=0.5)
    np.testing.assert_array_equal(t[y == 1], [2, 2.5, 3, 3.5, 4])
    t, y = evaluate("PULSE_TRAIN(2, 1, 3, 8)", opts, stop=12, dt=0.5)
    np.testing.assert_array_equal(t[y == 1], [2, 2.5, 5, 5.5, 8])


def test_game_is_its_argument(opts: Options) -> None:
    """Vensim's GAME(x): x whenever the model is not played as a game."""
    t, y = evaluate("GAME(2 * TIME + 1)", opts)
    np.testing.assert_array_equal(y, 2 * t + 1)


# -- Vensim's RANDOM functions -------------------------------------------------------------------
#
# Over 2,000 runs x 5 DTs: the empirical CDF at a few points against the truncated
# distribution's (5 binomial standard errors, a miss probability of 6e-7 per point; the seeds
# are fixed, so the tests are deterministic).

SEEDS = np.arange(2000)


def draws(equation: str, opts: Options, stop: float = 4) -> np.ndarray:
    doc = {
        "time": {"start": 0, "stop": stop, "dt": 1},
        "auxiliaries": {"y": {"equation": equation}},
    }
    model = fs.loads_model(yaml.safe_dump(doc, sort_keys=False))
    return np.asarray(fs.simulate(model, options=opts, seed=SEEDS)["y"].values)


def assert_cdf(sample: np.ndarray, cdf: Callable[[float], float], points: list[float]) -> None:
    n = sample.size
    for x in points:
        p = cdf(x)
        observed = np.count_nonzero(sample <= x) / n
        assert abs(observed - p) <= 5 * math.sqrt(p * (1 - p) / n) + 1e-12, (x, observed, p)


def phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def test_random_uniform(opts: Options) -> None:
    sample = draws("RANDOM_UNIFORM(2, 5, 0)", opts)
    assert sample.min() > 2 and sample.max() < 5
    assert_cdf(sample, lambda x: (x - 2) / 3, [2.5, 3.5, 4.5])


def test_random_normal_is_truncated(opts: Options) -> None:
    """RANDOM NORMAL(m, x, mean, sd, s): mean 10, sd 4 truncated to [8, 20] (p = 0.69):
    the CDF is (Phi(z) - Phi(-0.5)) / (Phi(2.5) - Phi(-0.5))."""
    sample = draws("RANDOM_NORMAL(8, 20, 10, 4, 0)", opts)
    assert sample.min() >= 8 and sample.max() <= 20
    lo, hi = phi(-0.5), phi(2.5)
    assert_cdf(sample, lambda x: (phi((x - 10) / 4) - lo) / (hi - lo), [8.5, 10, 12, 15, 18])


def test_random_normal_with_far_bounds_is_a_normal(opts: Options) -> None:
    sample = draws("RANDOM_NORMAL(-1e6, 1e6, 3, 2, 0)", opts)
    assert_cdf(sample, lambda x: phi((x - 3) / 2), [-1, 1, 3, 5, 7])


def test_random_exponential_is_shifted_stretched_and_truncated(opts: Options) -> None:
    """2 + 3E truncated to [5, 11]: E in [1, 3], CDF (e^-1 - e^-e) / (e^-1 - e^-3)."""
    sample = draws("RANDOM_EXPONENTIAL(5, 11, 2, 3, 0)", opts)
    assert sample.min() >= 5 and sample.max() <= 11

    def cdf(x: float) -> float:
        e = (x - 2) / 3
        return (math.exp(-1) - math.exp(-e)) / (math.exp(-1) - math.exp(-3))

    assert_cdf(sample, cdf, [5.5, 6.5, 8, 10])


def test_random_triangular_is_truncated(opts: Options) -> None:
    """Triangular on [0, 10] peaking at 2, truncated to [1, 6]."""
    sample = draws("RANDOM_TRIANGULAR(1, 6, 0, 2, 10, 0)", opts)
    assert sample.min() >= 1 and sample.max() <= 6

    def full(y: float) -> float:
        return y * y / 20 if y <= 2 else 1 - (10 - y) ** 2 / 80

    assert_cdf(sample, lambda x: (full(x) - full(1)) / (full(6) - full(1)), [1.5, 2, 3, 4.5])


def test_random_triangular_untruncated_mean(opts: Options) -> None:
    sample = draws("RANDOM_TRIANGULAR(0, 10, 0, 2, 10)", opts)
    assert abs(sample.mean() - 4.0) < 5 * math.sqrt((100 + 4 + 0 - 20 - 0 - 0) / 18 / sample.size)


def test_random_poisson_is_shifted_stretched_and_truncated(opts: Options) -> None:
    """1 + 2P, P Poisson of mean 3, truncated to [3, 9]: P in {1, 2, 3, 4}."""
    sample = draws("RANDOM_POISSON(3, 9, 3, 1, 2, 0)", opts)
    assert set(np.unique(sample)) <= {3.0, 5.0, 7.0, 9.0}
    pmf = {k: math.exp(-3) * 3**k / math.factorial(k) for k in (1, 2, 3, 4)}
    total = sum(pmf.values())
    cdf = 0.0
    for k in (1, 2, 3):
        cdf += pmf[k] / total
        observed = np.count_nonzero(sample <= 1 + 2 * k) / sample.size
        assert abs(observed - cdf) <= 5 * math.sqrt(cdf * (1 - cdf) / sample.size)


def test_random_stream_ids(opts: Options) -> None:
    """Stream 0: the run's stream (runs differ); another ID: the same draws in every run;
    two calls sharing an ID are not identical."""
    doc = """
time: {start: 0, stop: 3, dt: 1}
auxiliaries:
  a: RANDOM_UNIFORM(0, 1, 0)
  b: RANDOM_UNIFORM(0, 1, 7)
  c: RANDOM_UNIFORM(0, 1, 7)
"""
    ds = fs.simulate(fs.loads_model(doc), options=opts, seed=np.arange(3))
    a, b, c = (ds[k].values for k in "abc")
    assert not np.array_equal(a[0], a[1])
    np.testing.assert_array_equal(b[0], b[1])
    assert not np.array_equal(b, c)


def test_random_functions_agree_on_both_backends() -> None:
    for equation in (
        "RANDOM_UNIFORM(0, 1, 3)",
        "RANDOM_EXPONENTIAL(0, 100, 0, 1, 0)",
        "RANDOM_TRIANGULAR(0, 10, 0, 3, 10, 0)",
        "RANDOM_POISSON(0, 10, 2, 0, 1, 0)",
    ):
        np.testing.assert_array_equal(draws(equation, NUMPY), draws(equation, NUMBA))


def test_random_normal_stream_must_be_the_same_at_every_time() -> None:
    """Vensim's reference ("Stream ID"): a number, a constant or an INITIAL expression."""
    fs.compile_model(
        fs.loads_model(
            "time: {start: 0, stop: 1, dt: 1}\nauxiliaries:\n"
            "  s: 3\n  y: RANDOM_NORMAL(0, 1, 0, 1, s + INIT(TIME))\n"
        )
    )
    with pytest.raises(ModelError, match="stream ID must be a number, a constant or"):
        fs.compile_model(
            fs.loads_model(
                "time: {start: 0, stop: 1, dt: 1}\nauxiliaries:\n"
                "  s: 3\n  y: RANDOM_NORMAL(0, 1, 0, 1, s + TIME)\n"
            )
        )


# -- against Vensim's own output -----------------------------------------------------------------
#
# Slices of the output Vensim produced for models of the SDXorg/test-models collection (MIT),
# the models written out in our language: tests/delay_fixed, tests/trend, tests/forecast,
# tests/sample_if_true and tests/active_initial_circular.


def test_delay_fixed_as_vensim_runs_it(opts: Options) -> None:
    """test_delay_fixed.mdl (DT 1): delays 0.5, 1.5 and 3.7 act as 1, 2 and 4 steps; a
    delay 2 + 2 SIN(Time) is taken at the start (2), Time/2 (0 at the start) as one step."""
    ds = run(
        """
time: {start: 0, stop: 6, dt: 1}
auxiliaries:
  sq: TIME^2
  df05: DELAY_FIXED(sq, 0.5, -10)
  df15: DELAY_FIXED(sq, 1.5, 20)
  df37: DELAY_FIXED(sq, 3.7, 4)
  dst: DELAY_FIXED(sq, 2 + 2*SIN(TIME), 7)
  dt2: DELAY_FIXED(sq, TIME/2, 4)
""",
        opts,
    )
    vensim = {
        "df05": [-10, 0, 1, 4, 9, 16, 25],
        "df15": [20, 20, 0, 1, 4, 9, 16],
        "df37": [4, 4, 4, 4, 0, 1, 4],
        "dst": [7, 7, 0, 1, 4, 9, 16],
        "dt2": [4, 0, 1, 4, 9, 16, 25],
    }
    for name, expected in vensim.items():
        np.testing.assert_allclose(ds[name].values[0], expected, atol=1e-12, err_msg=name)


def test_trend_as_vensim_runs_it(opts: Options) -> None:
    """test_trend.mdl: TREND(1 + 0.5 SIN(2 pi t / 20), 6, 0); Vensim's output to 4 digits."""
    _, y = evaluate("SAFE_TREND(1 + 0.5*SIN(2*3.14159*TIME/20), 6, 0)", opts, stop=11)
    vensim = [0, 0.02575, 0.04357, 0.05201, 0.05171, 0.04442, 0.03214, 0.01668, -0.00053]
    vensim += [-0.01835, -0.0358, -0.05191]
    np.testing.assert_allclose(y, vensim, atol=6e-6)


def test_forecast_as_vensim_runs_it(opts: Options) -> None:
    """test_forecast.mdl (DT 0.5, saved every 1): FORECAST of a DELAY FIXED ramp."""
    ds = run(
        """
time: {start: 0, stop: 71, dt: 0.5, save_step: 1}
auxiliaries:
  r: 10 + RAMP(1, 10, 60) + STEP(1, 70)*(1 - STEP(1, 90)) + STEP(2*SIN(6.28*TIME/20), 100)
  r_delayed: DELAY_FIXED(r, 10, r)
  r_forecast: SAFE_FORECAST(r_delayed, 5, 10)
""",
        opts,
    )
    vensim = [61.1084, 62.0848, 63.0621, 64.0403, 65.0193, 65.9991, 66.9796, 67.9609]
    vensim += [68.9429, 69.9255, 70.9088, 68.6861]
    np.testing.assert_allclose(ds["r_forecast"].values[0, 60:72], vensim, rtol=2e-6)


def test_sample_if_true_as_vensim_runs_it(opts: Options) -> None:
    """test_sample_if_true.mdl: "sample simple" and "sample 111[C,E]"."""
    ds = run(
        """
time: {start: 0, stop: 11, dt: 1}
auxiliaries:
  osc: SIN(EXP(0.5*TIME))
  seconds: TIME*60
  simple: SAMPLE_IF_TRUE(osc < 0, seconds, 100)
  ce: SAMPLE_IF_TRUE(osc*2 - 1 < 0, -seconds, 50)
""",
        opts,
    )
    simple = [100, 100, 100, 180, 180, 300, 300, 300, 480, 480, 600, 660]
    ce = [50, 50, -120, -180, -180, -300, -300, -300, -480, -480, -600, -660]
    np.testing.assert_allclose(ds["simple"].values[0], simple, rtol=1e-12)
    np.testing.assert_allclose(ds["ce"].values[0], ce, rtol=1e-12)


def test_active_initial_as_vensim_runs_it(opts: Options) -> None:
    """test_active_initial_circular.mdl: a smooth initialised from an ACTIVE INITIAL that
    reads the smooth."""
    ds = run(
        """
time: {start: 0, stop: 7, dt: 1}
auxiliaries:
  aiv: ACTIVE_INITIAL(sv + TIME*SIN(TIME), 1)
  sv: SMTH1(aiv, 0.5)
""",
        opts,
    )
    vensim = [1, 1.84147, 4.50154, 6.74349, 4.13964, -3.68219, -10.1533, -7.23089]
    np.testing.assert_allclose(ds["aiv"].values[0], vensim, rtol=2e-6)


def test_delay_n_as_vensim_runs_it(opts: Options) -> None:
    """test_delays.mdl: DELAY N(Input, Delay Time, 6, 2) with the delay time rising from 4 to
    6 at t = 15: the second stage uses the delay time of the step before (Vensim's output)."""
    ds = run(
        """
time: {start: 0, stop: 20, dt: 1}
auxiliaries:
  delay_time: 4 + STEP(2, 15)
  input: -1 + STEP(5, 5)
  out: DELAY_N(input, delay_time, 6, 2)
""",
        opts,
    )
    vensim = [3.90875, 3.94971, 2.20442, 2.50596, 2.80598, 3.07199]
    np.testing.assert_allclose(ds["out"].values[0, 14:20], vensim, rtol=2e-6)


def test_delay_n_order_is_lowered_to_the_steps_in_the_delay(opts: Options) -> None:
    """test_pipeline_delays.mdl (DT 0.5): DELAY N(Input, 1.25, 6, 3) has 2.5 steps, so Vensim
    runs it as a second-order delay; DELAY N(Input, 1.5, 6, 3) keeps its order."""
    ds = run(
        """
time: {start: 0, stop: 6, dt: 0.5}
auxiliaries:
  input: -1 + STEP(5, 5)
  third: DELAY_N(input, 1.25, 6, 3)
  second: DELAY_N(input, 1.25, 6, 2)
  kept: DELAY_N(input, 1.5, 6, 3)
""",
        opts,
    )
    vensim = [6, 6, 1.52, -0.272, -0.8096, -0.95296, -0.9888, -0.997402, -0.999409]
    vensim += [-0.999867, -0.999971, -0.999994, 2.2]
    np.testing.assert_allclose(ds["third"].values[0], vensim, rtol=1e-5)
    np.testing.assert_allclose(ds["second"].values[0], vensim, rtol=1e-5)
    kept = [6, 6, 6] + [-1] * 9 + [-1]
    np.testing.assert_allclose(ds["kept"].values[0], kept, rtol=1e-12)


def test_smooth_n_with_an_order_given_by_an_expression(opts: Options) -> None:
    """test_smooth.mdl (DT 0.25): SMOOTH N(Input, 2 + STEP(2, 10), 5, 2 + STEP(1, 10)): the
    order is the expression's value at the start (2); Vensim's output every 0.5."""
    ds = run(
        """
time: {start: 0, stop: 12.5, dt: 0.25, save_step: 0.5}
auxiliaries:
  input: -1 + STEP(5, 5)
  adjustment: 2 + STEP(2, 10)
  variable_order: 2 + STEP(1, 10)
  out: SMOOTH_N(input, adjustment, 5, variable_order)
""",
        opts,
    )
    vensim = [3.6851, 3.80415, 3.8793, 3.90413, 3.92396, 3.93975, 3.95232, 3.96231]
    np.testing.assert_allclose(ds["out"].values[0, 18:26], vensim, rtol=2e-5)


def test_delay_n_with_an_order_given_by_an_expression(opts: Options) -> None:
    """test_delays.mdl: DELAY N(Input, Delay Time, 6, 2 + STEP(1, 10)) is of order 2."""
    ds = run(
        """
time: {start: 0, stop: 19, dt: 1}
parameters:
  base_order: {default: 2}
auxiliaries:
  delay_time: 4 + STEP(2, 15)
  input: -1 + STEP(5, 5)
  order_variable: base_order + STEP(1, 10)
  out: DELAY_N(input, delay_time, 6, order_variable)
""",
        opts,
    )
    vensim = [1.74609, 2.57422, 3.1377, 3.49414, 3.70972, 3.83618, 3.90875, 3.94971]
    vensim += [2.20442, 2.50596, 2.80598, 3.07199]
    np.testing.assert_allclose(ds["out"].values[0, 8:20], vensim, rtol=5e-6)
    assert ds["status"].values[0] == "ok"


def test_an_order_that_differs_in_a_run_fails_the_run() -> None:
    """The stages are built for the order at the start with default parameters; a run whose
    parameters give another order fails naming the variable instead of misleading."""
    model = fs.loads_model(
        """
time: {start: 0, stop: 4, dt: 1}
parameters:
  n: {default: 2}
auxiliaries:
  out: DELAY_N(1, 3, 1, n)
"""
    )
    ok = fs.simulate(model)
    assert ok["status"].values[0] == "ok"
    changed = fs.simulate(model, params={"n": 3})
    assert changed["status"].values[0] == "failed"


def test_an_order_that_is_not_known_at_the_start_is_refused() -> None:
    model = fs.loads_model(
        """
time: {start: 0, stop: 4, dt: 1}
stocks:
  s: {initial: 2}
auxiliaries:
  out: SMOOTH_N(1, 3, 1, s)
"""
    )
    with pytest.raises(ModelError, match="the order of SMOOTH_N must be a number"):
        fs.compile_model(model)
