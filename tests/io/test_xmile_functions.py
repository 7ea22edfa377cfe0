"""XMILE builtins as Stella and other tools write them: SELF, INF, HISTORY, PREVIOUS, INIT,
the delays and smooths with their optional arguments, TREND, FORCST, NPV, ZIDZ/XIDZ, MODULO,
Stella's ``//``, PULSE/STEP/RAMP and the random functions' seed.

Small models written here; each test says where its case comes from and where the expected
values come from (by hand, or pysimlin run on the same file when it is installed). Every
simulation runs on both VMs (the ``options`` fixture), and the VMs must agree bit for bit.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.xmile import loads_xmile

HEAD = '<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">'


def xmile(variables: str, *, stop: float = 6, dt: float = 0.5, method: str = "Euler") -> str:
    """A one-model XMILE file (with the header fields pysimlin requires)."""
    return (
        f"{HEAD}<header><name>t</name><vendor>test</vendor><product version='1'>test</product>"
        f'</header><sim_specs method="{method}"><start>0</start><stop>{stop}</stop>'
        f"<dt>{dt}</dt></sim_specs><model><variables>{variables}</variables></model></xmile>"
    )


def aux(name: str, equation: str) -> str:
    return f'<aux name="{name}"><eqn>{equation}</eqn></aux>'


def run(text: str, options: fs.Options) -> xr.Dataset:
    return fs.simulate(loads_xmile(text, file="t.xmile"), options=options)


def values(result: xr.Dataset, name: str) -> np.ndarray:
    return np.asarray(result[name].isel(run=0), dtype=float)


# -- against pysimlin -----------------------------------------------------------------------------
AGREED = xmile(
    aux("count", "PREVIOUS(SELF, 0) + 1")  # XMILE 1.0 §3.5.6: PREVIOUS(SELF, 0)
    + aux("capped", "MIN(TIME, INF) + (IF INF &gt; 1E300 THEN 1 ELSE 0)")  # §3.5.1 INF
    + aux("input", "1 + TIME")
    + aux("tr", "TREND(input, 2, 0.1)")  # §3.5.3, with the initial trend
    + aux("p", "PULSE(DT, 3, 2)")  # as xmutil writes Vensim's PULSE (test-models inputs)
    + aux("r", "RAMP(2, 1)")  # §3.5.4
    + aux("r3", "RAMP(2, 1, 3)")  # Vensim's and Stella's optional end
    + aux("s", "STEP(6, 3)")
    + aux("sm", "SMTH1(input, 2, 5)")
    + aux("sm3", "SMTH3(input, 2)")
    + aux("d1", "DELAY1(input, 2, 4)")
    + aux("d3", "DELAY3(input, 3, 2)")
    + aux("first", "INIT(input) + INIT(d3)")
    + aux("m", "-7 MOD 4")
)


def with_dimension_d(text: str) -> str:
    """The model with a dimension D of two elements, a and b."""
    return text.replace(
        "<model>",
        '<dimensions><dim name="D"><elem name="a"/><elem name="b"/></dim></dimensions><model>',
    )


def test_functions_agree_with_pysimlin(tmp_path: Path, options: fs.Options) -> None:
    """Expected values: pysimlin (an independent engine) on the same file, every saved time."""
    simlin = pytest.importorskip("simlin")
    path = tmp_path / "functions.xmile"
    path.write_text(AGREED)
    theirs = simlin.load(str(path)).run().results
    ours = run(AGREED, options)
    for name in ("count", "capped", "tr", "p", "r", "r3", "s", "sm", "sm3", "d1", "d3"):
        np.testing.assert_allclose(
            values(ours, name), np.asarray(theirs[name], dtype=float), rtol=1e-9, atol=1e-12
        )
    np.testing.assert_allclose(values(ours, "first"), 1 + 2)  # INIT(input), INIT(d3) = 2
    assert set(values(ours, "m")) == {1.0}  # floored: the sign of the divisor (§3.3.1)


def test_functions_by_hand(options: fs.Options) -> None:
    """The same functions, values worked out by hand (dt = 0.5, times 0, 0.5, ..., 6)."""
    result = run(AGREED, options)
    t = np.arange(13) * 0.5
    np.testing.assert_array_equal(values(result, "count"), np.arange(1, 14))
    np.testing.assert_array_equal(values(result, "capped"), t + 1)
    # PULSE(DT, 3, 2): DT/DT = 1 during one DT at 3, 5 (then 7, beyond the stop)
    np.testing.assert_array_equal(values(result, "p"), np.isin(t, [3, 5]).astype(float))
    np.testing.assert_array_equal(values(result, "r"), np.where(t > 1, 2 * (t - 1), 0))
    np.testing.assert_array_equal(values(result, "r3"), 2 * (np.clip(t, 1, 3) - 1))
    np.testing.assert_array_equal(values(result, "s"), np.where(t >= 3, 6, 0))


def test_self_in_an_arrayed_variable(options: fs.Options) -> None:
    """SELF in an apply-to-all equation is each element itself (XMILE 1.0 §3.5.6)."""
    text = xmile(
        '<aux name="step"><dimensions><dim name="D"/></dimensions><eqn>1, 10</eqn></aux>'
        '<aux name="total"><dimensions><dim name="D"/></dimensions>'
        "<eqn>PREVIOUS(SELF, 0) + step</eqn></aux>",
        stop=3,
        dt=1,
    )
    text = with_dimension_d(text)
    result = run(text, options)
    total = np.asarray(result["total"].isel(run=0), dtype=float)
    np.testing.assert_array_equal(total[:, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(total[:, 1], [10, 20, 30, 40])


def test_self_outside_previous_is_refused() -> None:
    """XMILE 1.0 §3.5.6: SELF is valid only within PREVIOUS (and SIZE)."""
    with pytest.raises(ModelError) as info:
        loads_xmile(xmile(aux("x", "SELF + 1")), file="t.xmile")
    message = str(info.value)
    assert "SELF is only valid inside PREVIOUS" in message and "'x'" in message
    assert "t.xmile" in message
    with pytest.raises(ModelError, match=r"PREVIOUS\(SELF\) needs an initial value"):
        loads_xmile(xmile(aux("x", "PREVIOUS(SELF) + 1")), file="t.xmile")


# -- HISTORY ------------------------------------------------------------------------------------
def test_history(options: fs.Options) -> None:
    """Stella's HISTORY(x, t): x at time t. By hand, x = TIME^2, dt = 0.5: a time between
    steps is interpolated linearly; at or before the start, x's initial value."""
    text = xmile(
        aux("x", "TIME * TIME + 3")
        + aux("back", "HISTORY(x, TIME - 1)")
        + aux("between", "HISTORY(x, TIME - 1.25)")
        + aux("fixed", "IF TIME &gt; 2 THEN HISTORY(x, 2) ELSE -1"),
        stop=4,
    )
    result = run(text, options)
    t = np.arange(9) * 0.5
    np.testing.assert_allclose(values(result, "back"), np.maximum(t - 1, 0) ** 2 + 3)
    # TIME - 1.25 lies halfway between two steps: the mean of x there (before 0: x(0))
    lo, hi = np.maximum(t - 1.5, 0), np.maximum(t - 1, 0)
    expected = np.where(t - 1.25 <= 0, 3, (lo**2 + hi**2) / 2 + 3)
    np.testing.assert_allclose(values(result, "between"), expected)
    np.testing.assert_allclose(values(result, "fixed"), np.where(t > 2, 7, -1))


def test_history_of_a_time_not_simulated_yet_fails_the_run(options: fs.Options) -> None:
    """A time later than the last recorded step has no value: the run fails at once and
    says which variable, rather than returning a guess."""
    result = run(xmile(aux("x", "TIME") + aux("ahead", "HISTORY(x, 3)"), stop=4), options)
    assert str(result["status"].values[0]) == "failed"
    assert str(result["failed_variable"].values[0]) == "ahead"
    assert float(result["failed_time"].values[0]) == 0.0


# -- NPV ----------------------------------------------------------------------------------------
def test_npv(options: fs.Options) -> None:
    """NPV(stream, rate, initial, factor) with Vensim's documented equations: under Euler the
    discount factor after k steps is (1 + rate*DT)^-k, the accumulation adds stream*df*DT per
    step, and the current period is added undiscounted-by-the-step: by hand below."""
    text = xmile(
        aux("stream", "100")
        + aux("plain", "NPV(stream, 0.1)")
        + aux("full", "NPV(stream, 0.1, 50, 2)"),
        stop=3,
        dt=0.5,
    )
    result = run(text, options)
    df = 1.05 ** -np.arange(7)  # 1 + rate*DT = 1.05 per step
    accumulated = np.concatenate([[0.0], np.cumsum(100 * df * 0.5)[:-1]])
    np.testing.assert_allclose(values(result, "plain"), accumulated + 100 * 0.5 * df)
    np.testing.assert_allclose(values(result, "full"), (50 + accumulated + 100 * 0.5 * df) * 2)


# -- Vensim's division and remainder, Stella's integer division ---------------------------------
def test_zidz_xidz_modulo_and_integer_division(options: fs.Options) -> None:
    """ZIDZ/XIDZ (Vensim: 0 or x when the divisor is zero), MODULO (Vensim: the sign of the
    dividend), ``//`` (INT(a/b), the floor: a = (a // b)*b + a MOD b). By hand."""
    text = xmile(
        aux("z", "ZIDZ(1, 0) + ZIDZ(6, 3)")
        + aux("x", "XIDZ(1, 0, 9) + XIDZ(6, 3, 9)")
        + aux("mo", "MODULO(-7, 4) * 10 + MODULO(7, 4)")
        + aux("q", "7 // 2 * 10 + (-7) // 2")
        + aux("c", '"a//b" // 2 {a // comment} + 1')
        + aux("a//b", "9"),
        stop=1,
        dt=1,
    )
    result = run(text, options)
    assert set(values(result, "z")) == {2.0}
    assert set(values(result, "x")) == {11.0}
    assert set(values(result, "mo")) == {-27.0}  # -3 * 10 + 3
    assert set(values(result, "q")) == {26.0}  # 3 * 10 - 4
    assert set(values(result, "c")) == {5.0}  # 9 // 2 + 1


# -- DELAY --------------------------------------------------------------------------------------
def test_delay_takes_a_varying_delay_time_at_its_initial_value(options: fs.Options) -> None:
    """Stella help (Delay builtins): "If you specify delay duration as a variable, the DELAY
    function uses the initial value for its fixed lag time"; XMILE 1.0 §3.5.3: "for the
    requested fixed time". So the lag is 1 throughout. By hand: input(t - 1), and the input's
    initial value (1) for the first time unit."""
    text = xmile(aux("input", "1 + TIME") + aux("late", "DELAY(input, 1 + TIME)"), stop=4)
    t = np.arange(9) * 0.5
    np.testing.assert_allclose(values(run(text, options), "late"), np.maximum(t, 1))


def test_delay_and_smooth_initial_values_at_the_start(options: fs.Options) -> None:
    """Stella help: DELAY1's stock starts at initial*delay, so its output starts at the
    initial value; SMTH1 and SMTHN start at theirs; TREND at its initial trend; FORCST at
    input*(1 + initial trend*horizon). By hand at t = 0."""
    text = xmile(
        aux("input", "10 + TIME")
        + aux("a", "DELAY(input, 2, 7)")
        + aux("b", "DELAY1(input, 2, 7)")
        + aux("c", "DELAYN(input, 2, 4, 7)")
        + aux("d", "SMTHN(input, 2, 4, 7)")
        + aux("e", "TREND(input, 2, 0.25)")
        + aux("f", "FORCST(input, 2, 3, 0.25)")
        + aux("g", "PREVIOUS(input, 7)"),
        stop=1,
    )
    result = run(text, options)
    first = {name: values(result, name)[0] for name in "abcdefg"}
    assert first == pytest.approx(
        {"a": 7, "b": 7, "c": 7, "d": 7, "e": 0.25, "f": 10 * (1 + 0.25 * 3), "g": 7}
    )


# -- random functions ---------------------------------------------------------------------------
def test_random_functions_with_a_seed_are_read_and_repeat(options: fs.Options) -> None:
    """XMILE 1.0 §3.5.2: "If seed is provided, the sequence of numbers will always be
    identical": two calls with the same seed draw the same sequence, and another seed
    differs; the sequence does not depend on the run's seed."""
    text = xmile(
        aux("u1", "RANDOM(0, 1, 7)")
        + aux("u2", "RANDOM(0, 1, 7)")
        + aux("u3", "RANDOM(0, 1, 8)")
        + aux("n", "NORMAL(0, 1, 7) + LOGNORMAL(1, 0.5, 7) + EXPRND(2, 7) + POISSON(3, 7)"),
        stop=3,
    )
    model = loads_xmile(text, file="t.xmile")
    a = fs.simulate(model, seed=1, options=options)
    b = fs.simulate(model, seed=2, options=options)
    np.testing.assert_array_equal(values(a, "u1"), values(a, "u2"))
    np.testing.assert_array_equal(values(a, "u1"), values(b, "u1"))
    assert not np.array_equal(values(a, "u1"), values(a, "u3"))
    assert np.all((values(a, "u1") > 0) & (values(a, "u1") < 1))
    assert np.all(np.isfinite(values(a, "n")))


def test_both_vms_give_identical_bits() -> None:
    """The numpy and numba VMs on every function above (and seeded and unseeded draws)."""
    texts = [
        AGREED,
        xmile(
            aux("x", "TIME * TIME")
            + aux("h", "HISTORY(x, TIME - 0.75)")
            + aux("n", "NPV(x, 0.05, 1, 1.5)")
            + aux("d", "DELAY(x, 0.7 + TIME)")
            + aux("v", "ZIDZ(x, TIME - 1) + XIDZ(1, x, 2) + MODULO(x - 5, 3) + x // 3")
            + aux("r", "RANDOM(0, 1, 3) + POISSON(x + 1)"),  # no log/cos: exact bits
            stop=5,
            dt=0.25,
            method="RK4",
        ),
    ]
    for text, seeds in itertools.product(texts, ([1, 2], list(range(40)))):
        # 2 runs: numba's scalar kernel; 40: its block kernel
        model = loads_xmile(text, file="t.xmile")
        a = fs.simulate(model, seed=seeds, options=fs.Options(backend="numpy"))
        b = fs.simulate(model, seed=seeds, options=fs.Options(backend="numba"))
        for name in a.data_vars:
            if a[name].dtype.kind == "f":
                np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    assert math.isfinite(float(a["h"].values[0, -1]))


def test_self_in_element_equations_and_nested_previous(options: fs.Options) -> None:
    """SELF in non-apply-to-all element equations is that element; PREVIOUS nests. By hand
    (dt = 1): a counts 1, 2, ...; b starts at 5 + 2 and adds 2; c alternates as worked out in
    the comment below."""
    text = xmile(
        '<aux name="e"><dimensions><dim name="D"/></dimensions>'
        '<element subscript="a"><eqn>PREVIOUS(SELF, 0) + 1</eqn></element>'
        '<element subscript="b"><eqn>PREVIOUS(SELF, 5) + 2</eqn></element></aux>'
        # c(0) = 2 + 1; c(1) = inner(0) + 1 = 1 + 1; c(k) = c(k - 2) + 1 after that
        + aux("c", "PREVIOUS(PREVIOUS(SELF, 1), 2) + 1"),
        stop=3,
        dt=1,
    )
    text = with_dimension_d(text)
    result = run(text, options)
    e = np.asarray(result["e"].isel(run=0), dtype=float)
    np.testing.assert_array_equal(e[:, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(e[:, 1], [7, 9, 11, 13])
    np.testing.assert_array_equal(values(result, "c"), [3, 2, 4, 3])


def test_vendor_namespaced_function(options: fs.Options) -> None:
    """XMILE 1.0 §3.6: vendor functions "SHOULD appear in their own namespace ... e.g.,
    isee.HISTORY"."""
    text = xmile(aux("x", "TIME") + aux("h", "IF TIME &gt; 1 THEN isee.HISTORY(x, 1) ELSE 0"))
    t = np.arange(13) * 0.5
    np.testing.assert_array_equal(values(run(text, options), "h"), np.where(t > 1, 1, 0))


def test_stella_pulse_and_ramp_with_arguments_left_out(options: fs.Options) -> None:
    """Stella help (Test input builtins): RAMP(slope) without a time begins at the outset
    (by hand). PULSE(volume) alone is refused: XMILE 1.0 §3.5.4 needs a first time and
    Stella's help reads as both one pulse and a pulse every DT."""
    text = xmile(aux("r", "RAMP(2)") + aux("r2", "RAMP(2, 1)") + aux("p", "PULSE(3, 1)"), stop=3)
    result = run(text, options)
    t = np.arange(7) * 0.5
    np.testing.assert_array_equal(values(result, "r"), 2 * t)
    np.testing.assert_array_equal(values(result, "r2"), np.where(t > 1, 2 * (t - 1), 0))
    np.testing.assert_array_equal(values(result, "p"), np.where(t == 1, 6, 0))  # once
    with pytest.raises(ModelError, match="PULSE with only a volume is ambiguous") as info:
        loads_xmile(xmile(aux("q", "PULSE(3)")), file="t.xmile")
    assert "'q'" in str(info.value) and "PULSE(volume, STARTTIME, 0)" in str(info.value)


def test_npv_matches_vensim_on_a_loan(options: fs.Options) -> None:
    """Seen in model sdeverywhere `npv` (MIT; Vensim's model converted by xmutil): an
    investment of 100 at month 12 repaid at 3 a month, discounted at 10 %/year. Expected values:
    Vensim's own output for that model (npv.dat), to its 6 significant digits."""
    text = xmile(
        aux("stream", "-100/DT*(IF TIME &gt;= 12 AND TIME &lt; 12 + DT THEN 1 ELSE 0)").replace(
            "</eqn>", " + STEP(3, 12)</eqn>"
        )
        + aux("rate", "10/12/100")
        + aux("npv", "NPV(stream, rate, 0, 1)"),
        stop=100,
        dt=1,
    )
    npv = values(run(text, options), "npv")
    vensim = {11: 0.0, 12: -87.8056, 13: -85.1124, 28: -47.2851, 98: 78.4468, 100: 81.0743}
    for t, expected in vensim.items():
        assert npv[t] == pytest.approx(expected, abs=1e-4), t


def test_delay_initial_value_is_taken_at_the_start(options: fs.Options) -> None:
    """Seen in model sdeverywhere `delayfixed` (Vensim's DELAY FIXED converted to DELAY):
    DELAY(shipping, 20, shipping) gives shipping's value at the start (0) until time 20, not
    its current value. By hand: shipping is 1 from 10 to 20, so the delay is 1 from 30 to 40."""
    text = xmile(
        aux("shipping", "STEP(1, 10) - STEP(1, 20)")
        + aux("receiving", "DELAY(shipping, 20, shipping)"),
        stop=45,
        dt=1,
    )
    t = np.arange(46)
    np.testing.assert_array_equal(
        values(run(text, options), "receiving"), ((t >= 30) & (t < 40)).astype(float)
    )


def test_sample_and_hold_as_xmutil_writes_it(options: fs.Options) -> None:
    """Seen in model sdeverywhere `sample` (Vensim's SAMPLE IF TRUE as xmutil converts it):
    MODULO and PREVIOUS(SELF, ...) in one equation. By hand: TIME every 5 time units, held."""
    text = xmile(
        aux("held", "( IF MODULO(Time, 5) = 0 THEN Time ELSE PREVIOUS(SELF, 0) )"), stop=12, dt=1
    )
    np.testing.assert_array_equal(
        values(run(text, options), "held"), [0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 10, 10, 10]
    )
