"""Conveyors (XMILE 1.0 §3.7.2, §4.2.1, §4.3; isee Stella help "Traditional Conveyor
Computation" and the isee note "Steady-State Initialization of Conveyors").

Expected values are worked out by hand in each test (Euler, DT 1 unless said: the inflow
computed at t is on the belt from t + DT and reaches the end at t + transit time); where
pysimlin simulates the same file, ``test_pysimlin_agrees`` checks it gives the same numbers;
``COMBINED`` are cases checked against pysimlin only. Both VMs (NumPy and numba) give
identical bits, except for the last bit of exponential leakage's power (``same_in_both_vms``).
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest

from flywheel_sim import ModelError, simulate
from flywheel_sim.engine.simulate import Options
from flywheel_sim.io.xmile import loads_xmile

HEAD = (
    '<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">'
    '<header><name>c</name><vendor>t</vendor><product version="1">t</product></header>'
)


def xmile(variables: str, *, dt: float = 1, stop: float = 8, method: str = "Euler") -> str:
    return (
        f'{HEAD}<sim_specs method="{method}"><start>0</start><stop>{stop}</stop><dt>{dt}</dt>'
        f"</sim_specs><model><variables>{variables}</variables></model></xmile>"
    )


def belt(
    initial: str = "0", conveyor: str = "<len>3</len>", attrs: str = "", leak: str = ""
) -> str:
    outflows = "<outflow>out</outflow>" + ("<outflow>leak</outflow>" if leak else "")
    leak_flow = f'<flow name="leak"><eqn>{leak}</eqn><leak/></flow>' if leak else ""
    return (
        f'<stock name="belt"><eqn>{initial}</eqn><inflow>in</inflow>{outflows}'
        f"<conveyor{attrs}>{conveyor}</conveyor></stock>"
        f'<flow name="out"/>{leak_flow}'
    )


INFLOW_10 = '<flow name="in"><eqn>10</eqn></flow>'
CASES = {
    # no leakage: 10 a time unit for 3 time units -> nothing comes out until t = 3
    "plain": (
        belt() + INFLOW_10,
        {
            "belt": [0, 10, 20, 30, 30, 30, 30, 30, 30],
            "out": [0, 0, 0, 10, 10, 10, 10, 10, 10],
        },
    ),
    # linear leakage 0.3: each batch of 10 loses 0.3 * 10 / 3 = 1 each DT on the belt and
    # 7 arrive; leak = 1 per batch on the belt
    "linear": (
        belt(leak="0.3") + INFLOW_10,
        {
            "belt": [0, 10, 19, 27, 27, 27, 27, 27, 27],
            "out": [0, 0, 0, 7, 7, 7, 7, 7, 7],
            "leak": [0, 1, 2, 3, 3, 3, 3, 3, 3],
        },
    ),
    # exponential leakage 0.1 a time unit: each DT every slat loses 10 %: batches of 10,
    # 9, 8.1 on the belt, 7.29 arrive; leak = 0.1 * belt
    "exponential": (
        belt(leak="0.1", attrs=' exponential_leak="true"') + INFLOW_10,
        {
            "belt": [0, 10, 19, 27.1, 27.1, 27.1, 27.1, 27.1, 27.1],
            "out": [0, 0, 0, 7.29, 7.29, 7.29, 7.29, 7.29, 7.29],
            "leak": [0, 1, 1.9, 2.71, 2.71, 2.71, 2.71, 2.71, 2.71],
        },
    ),
    # the initial value is spread over the slats as a steady inflow would have left it:
    # 27 with linear leakage 0.3 is the steady state of an inflow of 10 (27 = 10 + 9 + 8)
    "steady linear": (
        belt("27", leak="0.3") + INFLOW_10,
        {"belt": [27] * 9, "out": [7] * 9, "leak": [3] * 9},
    ),
    "steady exponential": (
        belt("27.1", leak="0.1", attrs=' exponential_leak="true"') + INFLOW_10,
        {"belt": [27.1] * 9, "out": [7.29] * 9, "leak": [2.71] * 9},
    ),
    # no inflow: 30 spread evenly over 3 slats leaves 10 a time unit
    "drain": (
        '<stock name="belt"><eqn>30</eqn><outflow>out</outflow>'
        '<conveyor><len>3</len></conveyor></stock><flow name="out"/>',
        {"belt": [30, 20, 10, 0, 0, 0, 0, 0, 0], "out": [10, 10, 10, 0, 0, 0, 0, 0, 0]},
    ),
    # capacity 25: the inflow takes at most (25 - belt) / DT + outflow; what it cannot put
    # on the belt stays in the supply
    "capacity": (
        '<stock name="supply"><eqn>100</eqn><outflow>in</outflow></stock>'
        + belt(conveyor="<len>3</len><capacity>25</capacity>")
        + INFLOW_10,
        {
            "belt": [0, 10, 20, 25, 25, 25, 25, 25, 25],
            "in": [10, 10, 5, 10, 10, 5, 10, 10, 5],
            "out": [0, 0, 0, 10, 10, 5, 10, 10, 5],
            "supply": [100, 90, 80, 75, 65, 55, 50, 40, 30],
        },
    ),
    # inflow limit 4 a time unit
    "inflow limit": (
        belt(conveyor="<len>3</len><in_limit>4</in_limit>") + INFLOW_10,
        {"belt": [0, 4, 8, 12, 12, 12, 12, 12, 12], "in": [4] * 9},
    ),
    # conveyor inflows are uniflows (XMILE §4.3): a negative inflow is 0
    "uniflow": (
        belt() + '<flow name="in"><eqn>-5</eqn></flow>',
        {"belt": [0] * 9, "in": [0] * 9, "out": [0] * 9},
    ),
}


def run(text: str, backend: str = "numpy", **kwargs: float) -> dict[str, np.ndarray]:
    result = simulate(loads_xmile(text, file="c.xmile"), options=Options(backend=backend), **kwargs)  # type: ignore[arg-type]
    return {str(k): np.asarray(result[k].isel(run=0), dtype=float) for k in result.data_vars}


@pytest.mark.parametrize("case", list(CASES))
def test_conveyor_by_hand(case: str) -> None:
    variables, expected = CASES[case]
    got = run(xmile(variables))
    for name, values in expected.items():
        np.testing.assert_allclose(got[name], values, rtol=1e-12, atol=1e-12, err_msg=name)


def same_in_both_vms(a: dict[str, np.ndarray], b: dict[str, np.ndarray], text: str) -> None:
    """Bit for bit, except where exponential leakage computes (1 - f*DT)^N: the numba VM's
    pow (glibc's vector pow) may differ from NumPy's in the last bit (engine/vm/vecpow.py),
    as exp and log may; there the VMs agree to 1e-12, the engine's own standard
    (tests/engine/test_simulate.py)."""
    for name in a:
        if "exponential_leak" in text:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-12, atol=1e-12, err_msg=name)
        else:
            assert np.array_equal(a[name], b[name], equal_nan=True), name


@pytest.mark.parametrize("case", list(CASES))
def test_both_vms_identical(case: str) -> None:
    pytest.importorskip("numba")
    text = xmile(CASES[case][0])
    same_in_both_vms(run(text, "numpy"), run(text, "numba"), text)


@pytest.mark.parametrize("case", list(CASES))
def test_pysimlin_agrees(case: str, tmp_path: Path) -> None:
    """pysimlin 0.8.5 simulates conveyors; same file, same numbers."""
    simlin = pytest.importorskip("simlin")
    text = xmile(CASES[case][0])
    path = tmp_path / "c.xmile"
    path.write_text(text)
    sim = simlin.load(str(path))
    run_ = sim.simulate()
    run_.run_to_end()
    ours = run(text)
    for name in CASES[case][1]:
        np.testing.assert_allclose(
            ours[name], np.asarray(run_.get_series(name), dtype=float), rtol=1e-9, atol=1e-9
        )


def test_transit_time_in_dts() -> None:
    """DT 1/4: a transit time of 2 is 8 slats; a step of 4 at t = 1 reaches the end at 3."""
    text = xmile(
        belt(conveyor="<len>2</len>") + '<flow name="in"><eqn>STEP(4, 1)</eqn></flow>',
        dt=0.25,
        stop=4,
    )
    got = run(text)
    expected_out = [0.0] * 12 + [4.0] * 5
    np.testing.assert_allclose(got["out"], expected_out, atol=1e-12)
    np.testing.assert_allclose(got["belt"][-1], 8.0)


def test_transit_time_from_constants_and_initial_expression() -> None:
    """<len> may be an expression of constants (here an auxiliary and INIT of a stock)."""
    text = xmile(
        belt(conveyor="<len>half * 2 + INIT(level) - 4</len>")
        + INFLOW_10
        + '<aux name="half"><eqn>1.5</eqn></aux>'
        + '<stock name="level"><eqn>4</eqn><inflow>grow</inflow></stock>'
        + '<flow name="grow"><eqn>1</eqn></flow>'
    )
    np.testing.assert_allclose(run(text)["out"], [0, 0, 0, 10, 10, 10, 10, 10, 10])


def test_exponential_leakage_converges_as_dt_shrinks() -> None:
    """Exponential leakage takes f*DT a DT from each slat, so what survives the belt is
    (1 - f*DT)^(T/DT), which tends to exp(-f*T) as DT shrinks (isee help)."""
    text = xmile(belt(leak="0.1", attrs=' exponential_leak="true"') + INFLOW_10, stop=8)
    errors = []
    for dt in (0.5, 0.25, 0.125, 0.0625):
        out = run(text, dt=dt)["out"][-1]
        assert out == pytest.approx(10 * (1 - 0.1 * dt) ** (3 / dt), rel=1e-12)
        errors.append(abs(out - 10 * np.exp(-0.3)))
    assert all(b < a for a, b in itertools.pairwise(errors))
    assert errors[-1] < 0.01


def test_linear_leakage_is_independent_of_dt() -> None:
    """Linear leakage: exactly 1 - f of what enters arrives, whatever DT."""
    text = xmile(belt(leak="0.3") + INFLOW_10, stop=8)
    for dt in (1, 0.5, 0.125):
        got = run(text, dt=dt)
        assert got["out"][-1] == pytest.approx(7.0, rel=1e-12)
        assert got["leak"][-1] == pytest.approx(3.0, rel=1e-12)


REFUSED = [
    (belt(conveyor="<len>TIME + 1</len>") + INFLOW_10, "transit time of conveyor 'belt' changes"),
    (
        belt(conveyor="<len>x</len>") + INFLOW_10 + '<aux name="x"><eqn>2 + STEP(1, 3)</eqn></aux>',
        "transit time of conveyor 'belt' changes",
    ),
    (
        belt(leak="0.1 * TIME").replace('<flow name="leak">', '<flow name="leak" leak_end="0.5">')
        + INFLOW_10,
        "fraction of flow 'leak' changes during the run and the leakage has a leak zone",
    ),
    (belt(attrs=' discrete="true"') + INFLOW_10, r"discrete conveyor .* not supported"),
    (belt(conveyor="<len>3</len><arrest>TIME > 2</arrest>") + INFLOW_10, "<arrest>"),
    (
        belt(leak="0.1").replace("<leak/>", "<leak/><leak_integers/>") + INFLOW_10,
        "<leak_integers> is not supported",
    ),
    (
        belt(leak="0.1").replace('<flow name="leak">', '<flow name="leak" leak_end="1.5">')
        + INFLOW_10,
        "leak_end=\"1.5\" on flow 'leak' must be a number from 0 to 1",
    ),
    (
        belt(leak="0.1").replace(
            '<flow name="leak">', '<flow name="leak" leak_start="0.6" leak_end="0.5">'
        )
        + INFLOW_10,
        "the leak zone of flow 'leak' starts after it ends",
    ),
    (
        '<stock name="belt"><eqn>0</eqn><inflow>in</inflow><outflow>out</outflow>'
        '<outflow>l1</outflow><outflow>l2</outflow><conveyor exponential_leak="true">'
        "<len>3</len></conveyor></stock>"
        '<flow name="out"/><flow name="l1" leak_end="0.5"><eqn>0.1</eqn><leak/></flow>'
        '<flow name="l2" leak_start="0.5"><eqn>0.1</eqn><leak/></flow>' + INFLOW_10,
        "the exponential leakages of conveyor 'belt' have different leak zones",
    ),
    (
        '<stock name="q"><eqn>0</eqn><inflow>in</inflow><queue/></stock>' + INFLOW_10,
        "queue 'q' has no outflow",
    ),
    (
        '<stock name="s"><eqn>0</eqn><outflow>f</outflow></stock>'
        '<flow name="f"><eqn>0.1</eqn><leak/></flow>',
        "'f' is marked <leak> but is no outflow of a conveyor",
    ),
    (
        '<stock name="s"><eqn>0</eqn><outflow>f</outflow></stock><flow name="f"/>',
        "no equation in flow 'f'",
    ),
    (
        '<stock name="belt"><eqn>0</eqn><inflow>in</inflow><conveyor><len>3</len></conveyor>'
        "</stock>" + INFLOW_10,
        "has 0 outflows that are not leakages",
    ),
    ('<aux name="a"><eqn>1</eqn><conveyor/></aux>', "<conveyor> belongs in a <stock>"),
    (
        '<stock name="o" xmlns:isee="http://iseesystems.com/XMILE"><eqn>0</eqn>'
        "<isee:oven/></stock>",
        "ovens .* are not supported",
    ),
    (belt("1, 2, 3") + INFLOW_10, "a list of initial values per slat of a conveyor"),
    (
        belt(conveyor="<capacity>5</capacity>") + INFLOW_10,
        "has no transit time",
    ),
]


@pytest.mark.parametrize(("variables", "message"), REFUSED)
def test_unsupported_conveyor_features_are_refused(variables: str, message: str) -> None:
    with pytest.raises(ModelError, match=message) as info:
        loads_xmile(xmile(variables), file="c.xmile")
    text = str(info.value)
    assert "\n" not in text and "c.xmile" in text


def test_conveyor_needs_euler() -> None:
    with pytest.raises(ModelError, match="needs Euler integration") as info:
        loads_xmile(xmile(belt() + INFLOW_10, method="RK4"), file="c.xmile")
    assert "c.xmile:1" in str(info.value) or "c.xmile" in str(info.value)


def arrayed(
    attrs: str, leak: str, flow_dims: str = '<dimensions><dim name="D"/></dimensions>'
) -> str:
    dims = '<dimensions><dim name="D"/></dimensions>'
    variables = (
        f'<stock name="belt">{dims}<eqn>0</eqn><inflow>in</inflow><outflow>out</outflow>'
        f"<outflow>leak</outflow><conveyor{attrs}><len>3</len></conveyor></stock>"
        f'<flow name="in">{dims}<element subscript="a"><eqn>10</eqn></element>'
        '<element subscript="b"><eqn>4</eqn></element></flow>'
        f'<flow name="out">{flow_dims}<eqn>0</eqn></flow>'
        f'<flow name="leak">{dims}<eqn>{leak}</eqn><leak/></flow>'
    )
    return xmile(variables).replace(
        "<model>",
        '<dimensions><dim name="D"><elem name="a"/><elem name="b"/></dim></dimensions><model>',
    )


@pytest.mark.parametrize(
    ("attrs", "leak", "out", "leaked"),
    [
        # linear 0.3 over 3 slats: 70 % arrives; each batch leaks 10 % of itself a DT
        ("", "0.3", (7.0, 2.8), ([0, 1, 2, 3, 3], [0, 0.4, 0.8, 1.2, 1.2])),
        # exponential 0.1: 0.9^3 arrives; the leak is 10 % of what is on the belt
        (
            ' exponential_leak="true"',
            "0.1",
            (7.29, 2.916),
            ([0, 1, 1.9, 2.71, 2.71], [0, 0.4, 0.76, 1.084, 1.084]),
        ),
    ],
)
def test_arrayed_conveyor_element_by_element(
    attrs: str, leak: str, out: tuple[float, float], leaked: tuple[list[float], list[float]]
) -> None:
    """An arrayed conveyor (seen in Covid-19-Severity.stmx, simlin's test/conveyors) is one
    belt per element, each with its own inflow; pysimlin gives the same numbers."""
    result = simulate(loads_xmile(arrayed(attrs, leak), file="c.xmile"))
    for k, element in enumerate(("a", "b")):
        got_out = np.asarray(result["out"].isel(run=0).sel(d=element), dtype=float)
        got_leak = np.asarray(result["leak"].isel(run=0).sel(d=element), dtype=float)
        np.testing.assert_allclose(got_out[:5], [0, 0, 0, out[k], out[k]], rtol=1e-12)
        np.testing.assert_allclose(got_leak[:5], leaked[k], rtol=1e-12, atol=1e-12)


def test_arrayed_conveyor_flows_need_its_dimensions() -> None:
    with pytest.raises(ModelError, match="not over the same dimensions as the conveyor"):
        loads_xmile(arrayed("", "0.3", flow_dims=""), file="c.xmile")


@pytest.mark.parametrize(
    ("transit", "initial", "belt_values", "out_values"),
    [
        # 2.5 DTs round to 3 slats, 2.4 to 2, 0.5 to 1 (at least one slat); pysimlin 0.8.5
        # gives the same numbers
        ("2.5", "0", [0, 10, 20, 30, 30], [0, 0, 0, 10, 10]),
        ("2.4", "0", [0, 10, 20, 20, 20], [0, 0, 10, 10, 10]),
        ("2.4", "30", [30, 25, 20, 20, 20], [15, 15, 10, 10, 10]),
        ("0.5", "30", [30, 10, 10, 10, 10], [30, 10, 10, 10, 10]),
    ],
)
def test_transit_time_rounds_to_whole_slats(
    transit: str, initial: str, belt_values: list[float], out_values: list[float]
) -> None:
    text = xmile(belt(initial, conveyor=f"<len>{transit}</len>") + INFLOW_10, stop=4)
    got = run(text)
    np.testing.assert_allclose(got["belt"], belt_values, atol=1e-12)
    np.testing.assert_allclose(got["out"], out_values, atol=1e-12)


def test_conveyor_in_a_module_as_stella_saves_it() -> None:
    """Seen in SIRSocialDistancingMixNot.stmx (Stella Architect, in simlin's test/conveyors):
    a conveyor inside a module, its transit time an auxiliary equal to a connected module
    input, its outflow written with <eqn>0</eqn> and <non_negative/> (the conveyor computes
    it). 1 infected at the start is on the belt for 14 days: 1/14 a day recovers until day
    14; the new infections (0.5 a day) recover 14 days after they start."""
    sub = (
        '<model name="sub"><variables>'
        '<stock name="Infected"><eqn>1</eqn><inflow>infecting</inflow>'
        "<outflow>recovering</outflow><conveyor><len>transit_time</len></conveyor></stock>"
        '<flow name="infecting"><eqn>0.5</eqn><non_negative/></flow>'
        '<flow name="recovering"><eqn>0</eqn><non_negative/></flow>'
        '<stock name="Recovered"><eqn>0</eqn><inflow>recovering</inflow><non_negative/></stock>'
        '<aux name="disease\\nduration" access="input"><eqn>10</eqn></aux>'
        '<aux name="transit time"><eqn>disease_duration</eqn></aux>'
        "</variables></model>"
    )
    root = (
        '<module name="sub"><connect to="disease_duration" from=".duration"/></module>'
        '<aux name="duration"><eqn>14</eqn></aux>'
    )
    text = xmile(root, dt=0.25, stop=20).replace("</model>", "</model>" + sub)
    got = run(text)
    recovering = got["sub.recovering"]
    times = np.arange(0, 20.25, 0.25)
    np.testing.assert_allclose(recovering[times < 14], 1 / 14, rtol=1e-12)
    np.testing.assert_allclose(recovering[times >= 14], 0.5, rtol=1e-12)
    np.testing.assert_allclose(got["sub.infected"][-1], 0.5 * 14, rtol=1e-12)


def test_arrayed_conveyor_both_vms_identical() -> None:
    pytest.importorskip("numba")
    model = loads_xmile(arrayed("", "0.3"), file="c.xmile")
    a = simulate(model, options=Options(backend="numpy"))
    b = simulate(model, options=Options(backend="numba"))
    for name in a.data_vars:
        assert np.array_equal(a[name].values, b[name].values, equal_nan=True), name


@pytest.mark.parametrize(
    ("attrs", "leak"), [("", "1.5"), ("", "-0.1"), (' exponential_leak="true"', "2")]
)
def test_impossible_leakage_fraction_fails_the_run(attrs: str, leak: str) -> None:
    """A linear leakage of more than everything (or less than nothing), or an exponential
    one above 1/DT, has no meaning: the run fails at the start naming the outflow instead of
    creating or destroying material."""
    model = loads_xmile(xmile(belt(leak=leak, attrs=attrs) + INFLOW_10), file="c.xmile")
    result = simulate(model)
    assert str(result["failed_variable"].values[0]) == "out"
    assert float(result["failed_time"].values[0]) == 0.0


# Combinations too long to work out by hand: compared with pysimlin 0.8.5 at every step
# (each binds: the capacities fill, the inflow limit cuts the step to 8).
COMBINED = {
    # two conveyors in series, the second with an initial value and a linear leakage
    "series": (
        '<stock name="a"><eqn>0</eqn><inflow>in</inflow><outflow>mid</outflow>'
        "<conveyor><len>2</len></conveyor></stock>"
        '<stock name="b"><eqn>6</eqn><inflow>mid</inflow><outflow>out</outflow>'
        "<outflow>lk</outflow><conveyor><len>3</len></conveyor></stock>"
        '<flow name="in"><eqn>5 + STEP(10, 2)</eqn></flow><flow name="mid"/><flow name="out"/>'
        '<flow name="lk"><eqn>0.2</eqn><leak/></flow>',
        0.5,
    ),
    # capacity and linear leakage, fed by a non-negative stock, varying inflow
    "capacity and leakage": (
        '<stock name="src"><eqn>200</eqn><outflow>in</outflow><non_negative/></stock>'
        + belt("12", conveyor="<len>2.5</len><capacity>30</capacity>", leak="0.25")
        + '<flow name="in"><eqn>5 + STEP(20, 2) + RAMP(1, 4)</eqn></flow>',
        0.5,
    ),
    # inflow limit and exponential leakage with an initial value
    "inflow limit and exponential leakage": (
        belt(
            "20",
            conveyor="<len>4</len><in_limit>8</in_limit>",
            leak="0.15",
            attrs=' exponential_leak="true"',
        )
        + '<flow name="in"><eqn>4 + STEP(10, 3)</eqn></flow>',
        0.25,
    ),
    # two inflows sharing the room a capacity leaves, the first listed first
    "two inflows": (
        '<stock name="belt"><eqn>10</eqn><inflow>i1</inflow><inflow>i2</inflow>'
        "<outflow>out</outflow><outflow>leak</outflow>"
        "<conveyor><len>3</len><capacity>40</capacity></conveyor></stock>"
        '<flow name="out"/><flow name="leak"><eqn>0.1</eqn><leak/></flow>'
        '<flow name="i1"><eqn>8</eqn></flow><flow name="i2"><eqn>6 + STEP(4, 5)</eqn></flow>',
        1.0,
    ),
}


@pytest.mark.parametrize("case", list(COMBINED))
def test_combined_features_agree_with_pysimlin(case: str, tmp_path: Path) -> None:
    simlin = pytest.importorskip("simlin")
    variables, dt = COMBINED[case]
    text = xmile(variables, dt=dt, stop=12)
    path = tmp_path / "c.xmile"
    path.write_text(text)
    sim = simlin.load(str(path)).simulate()
    sim.run_to_end()
    ours = run(text)
    names = [
        n for n in sim.get_var_names() if n not in ("dt", "final_time", "initial_time", "time")
    ]
    assert len(names) >= 4
    for name in names:
        np.testing.assert_allclose(
            ours[name], np.asarray(sim.get_series(name), dtype=float), rtol=1e-12, atol=1e-12
        )
    pytest.importorskip("numba")
    same_in_both_vms(ours, run(text, "numba"), text)


def test_sir_with_a_conveyor_agrees_with_pysimlin(tmp_path: Path) -> None:
    """The structure of SIRSocialDistancingMixNot.stmx (Stella Architect; its module
    'Not_Mixing_at_all'): infections feed back through a conveyor of 14 days, DT 1/4, 100
    days, the contact rate halved from day 35. Compared with pysimlin at every step."""
    simlin = pytest.importorskip("simlin")
    variables = (
        '<stock name="susceptible"><eqn>1000</eqn><outflow>infecting</outflow>'
        "<non_negative/></stock>"
        '<stock name="Infected"><eqn>1</eqn><inflow>infecting</inflow>'
        "<outflow>recovering</outflow><conveyor><len>transit_time</len></conveyor></stock>"
        '<flow name="infecting"><eqn>risky_contacts * infectivity</eqn><non_negative/></flow>'
        '<aux name="contacts"><eqn>Infected * contact_rate * (IF TIME &gt; 35 THEN 0.5 '
        "ELSE 1)</eqn></aux>"
        '<aux name="contact\\nrate"><eqn>40</eqn></aux>'
        '<aux name="fraction\\nsusceptible"><eqn>susceptible/total_pop</eqn></aux>'
        '<aux name="total pop"><eqn>Recovered + Infected + susceptible</eqn></aux>'
        '<aux name="risky\\ncontacts"><eqn>contacts*fraction_susceptible</eqn></aux>'
        '<aux name="infectivity"><eqn>0.0045</eqn></aux>'
        '<flow name="recovering"><eqn>0</eqn><non_negative/></flow>'
        '<stock name="Recovered"><eqn>0</eqn><inflow>recovering</inflow><non_negative/></stock>'
        '<aux name="disease\\nduration"><eqn>14</eqn></aux>'
        '<aux name="transit time"><eqn>disease_duration</eqn></aux>'
    )
    text = xmile(variables, dt=0.25, stop=100)
    path = tmp_path / "sir.xmile"
    path.write_text(text)
    sim = simlin.load(str(path)).simulate()
    sim.run_to_end()
    ours = run(text)
    for name in ("susceptible", "infected", "recovered", "recovering", "infecting"):
        theirs = np.asarray(sim.get_series(name), dtype=float)
        np.testing.assert_allclose(ours[name], theirs, rtol=1e-10, atol=1e-10, err_msg=name)
    assert ours["recovered"][-1] > 100  # the epidemic did go through the conveyor


def test_unknown_function_in_transit_time_is_named_when_compiled() -> None:
    """Seen in SIRSocialDistancingMixNot.stmx: <len> names an auxiliary that calls a
    function we do not have; the error names that function, not a varying transit time."""
    text = xmile(
        belt(conveyor="<len>t</len>") + INFLOW_10 + '<aux name="t"><eqn>14 / NOSUCH(2)</eqn></aux>'
    )
    model = loads_xmile(text, file="c.xmile")
    with pytest.raises(ModelError, match="unknown function 'NOSUCH'"):
        simulate(model)


def zoned(attrs: str, initial: str, start: str, end: str, extra_leak: bool = False) -> str:
    """Transit time 2 at DT 1/4 (8 slats), inflow 100 + 10 TIME, leakage 0.2 (and 0.1) on the
    zone from ``start`` to ``end`` of the belt, measured from the entry."""
    leaks = f'<flow name="leak" leak_start="{start}" leak_end="{end}"><eqn>0.2</eqn><leak/></flow>'
    outflows = "<outflow>out</outflow><outflow>leak</outflow>"
    if extra_leak:
        leaks += (
            f'<flow name="leak2" leak_start="{start}" leak_end="{end}"><eqn>0.1</eqn><leak/></flow>'
        )
        outflows += "<outflow>leak2</outflow>"
    variables = (
        f'<stock name="belt"><eqn>{initial}</eqn><inflow>in</inflow>{outflows}'
        f"<conveyor{attrs}><len>2</len></conveyor></stock>"
        f'<flow name="in"><eqn>100 + 10 * TIME</eqn></flow><flow name="out"/>{leaks}'
    )
    return xmile(variables, dt=0.25, stop=5)


def test_leak_zone_by_hand() -> None:
    """Zone [0.5, 1] of 4 slats (DT 1/2, transit 2, inflow 100): the batches of ages 2 and 3
    DTs are in it (slat centres 5/8 and 7/8 of the way). Linear 0.2: each loses 0.2 * 50 / 2
    = 5 each DT there, so the leak is 10 from t = 1.5 (one batch in the zone) and 20 from
    t = 2; 80 arrive. Exponential 0.2: 10 % a DT in the zone, 81 arrive."""
    for attrs, out, leak in (("", 80, 20), (' exponential_leak="true"', 81, 19)):
        variables = (
            f'<stock name="belt"><eqn>0</eqn><inflow>in</inflow><outflow>out</outflow>'
            f"<outflow>leak</outflow><conveyor{attrs}><len>2</len></conveyor></stock>"
            '<flow name="in"><eqn>100</eqn></flow><flow name="out"/>'
            '<flow name="leak" leak_start="0.5" leak_end="1"><eqn>0.2</eqn><leak/></flow>'
        )
        got = run(xmile(variables, dt=0.5, stop=4))
        np.testing.assert_allclose(got["leak"], [0, 0, 0, 10, leak, leak, leak, leak, leak])
        np.testing.assert_allclose(got["out"], [0, 0, 0, 0, out, out, out, out, out])
        np.testing.assert_allclose(got["belt"][-1], 195.0)


@pytest.mark.parametrize("attrs", ["", ' exponential_leak="true"'])
@pytest.mark.parametrize("initial", ["0", "150"])
@pytest.mark.parametrize(
    ("start", "end", "extra_leak"),
    [("0.5", "1", False), ("0", "0.5", True), ("0.25", "0.75", False), ("0.6", "0.65", False)],
)
def test_leak_zones_agree_with_pysimlin(
    attrs: str, initial: str, start: str, end: str, extra_leak: bool, tmp_path: Path
) -> None:
    """Leak zones (isee: fractions of the belt from the entry; a batch is in the zone while
    the centre of its slat is): pysimlin at every step, including a zone narrower than a
    slat (0.6 to 0.65 of 8 slats: no leakage) and an initial value laid out as the steady
    state."""
    simlin = pytest.importorskip("simlin")
    text = zoned(attrs, initial, start, end, extra_leak)
    path = tmp_path / "z.xmile"
    path.write_text(text)
    sim = simlin.load(str(path)).simulate()
    sim.run_to_end()
    ours = run(text)
    for name in ("belt", "out", "leak", *(("leak2",) if extra_leak else ())):
        theirs = np.asarray(sim.get_series(name), dtype=float)
        np.testing.assert_allclose(ours[name], theirs, rtol=1e-10, atol=1e-10, err_msg=name)
    pytest.importorskip("numba")
    same_in_both_vms(ours, run(text, "numba"), text)


def test_leakage_fraction_that_changes_by_hand() -> None:
    """isee: "Leak fractions can change over time and the current values will be used when
    computing leakages." Transit 2, DT 1, inflow 10, linear leakage 0.1 until t = 2, then
    0.3: each batch loses the fraction of the DT over 2 of what entered, each DT on the belt.
    The batch of t = 0 leaks at t = 1 (0.1) and t = 2 (0.3) and leaves with 10 * (1 - 0.4/2)
    = 8; later ones leave with 7. The leak is the current fraction times what entered over
    the belt, over the transit time: 0.5 at t = 1 (10 on the belt), then 3."""
    text = xmile(belt(conveyor="<len>2</len>", leak="0.1 + STEP(0.2, 2)") + INFLOW_10, stop=5)
    got = run(text)
    np.testing.assert_allclose(got["out"], [0, 0, 8, 7, 7, 7], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got["leak"], [0, 0.5, 3, 3, 3, 3], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got["belt"], [0, 10, 19.5, 18.5, 18.5, 18.5], rtol=1e-12)


@pytest.mark.parametrize("attrs", ["", ' exponential_leak="true"'])
@pytest.mark.parametrize("initial", ["0", "150"])
@pytest.mark.parametrize(
    ("fraction", "second"),
    [("0.1 + 0.1 * STEP(1, 2)", False), ("0.02 * TIME", True), ("level / 1000", False)],
)
def test_changing_leakage_fractions_agree_with_pysimlin(
    attrs: str, initial: str, fraction: str, second: bool, tmp_path: Path
) -> None:
    """Fractions that step, grow with time or follow a stock, alone or beside a constant
    one, linear and exponential, from an empty belt or an initial value (laid out with the
    fractions of the start time): pysimlin at every step."""
    simlin = pytest.importorskip("simlin")
    leaks = f'<flow name="leak"><eqn>{fraction}</eqn><leak/></flow>'
    outflows = "<outflow>out</outflow><outflow>leak</outflow>"
    if second:
        leaks += '<flow name="leak2"><eqn>0.05</eqn><leak/></flow>'
        outflows += "<outflow>leak2</outflow>"
    variables = (
        f'<stock name="belt"><eqn>{initial}</eqn><inflow>in</inflow>{outflows}'
        f"<conveyor{attrs}><len>2</len></conveyor></stock>"
        f'<flow name="in"><eqn>100 + 10 * TIME</eqn></flow><flow name="out"/>{leaks}'
        '<stock name="level"><eqn>50</eqn><inflow>grow</inflow></stock>'
        '<flow name="grow"><eqn>20</eqn></flow>'
    )
    text = xmile(variables, dt=0.25, stop=6)
    path = tmp_path / "v.xmile"
    path.write_text(text)
    sim = simlin.load(str(path)).simulate()
    sim.run_to_end()
    ours = run(text)
    for name in ("belt", "out", "leak", *(("leak2",) if second else ())):
        theirs = np.asarray(sim.get_series(name), dtype=float)
        np.testing.assert_allclose(ours[name], theirs, rtol=1e-10, atol=1e-10, err_msg=name)
    pytest.importorskip("numba")
    other = run(text, "numba")
    for name in ours:  # EXP and LN may differ in the last bit between the VMs
        np.testing.assert_allclose(ours[name], other[name], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "equation",
    ["MEAN(belt)", "MAX(belt)", "MIN(belt)", "STDDEV(belt)", "RANK(belt, 1)", "SIZE(belt)"],
)
def test_reading_the_slats_is_refused(equation: str) -> None:
    """XMILE 1.0 §3.7.1.3: array functions given a conveyor alone read its slats (seen in
    simlin's test/conveyors/conveyor_containers.xmile). We keep no slats; reading the
    conveyor as one number would give MEAN(belt) = the total, a wrong result."""
    text = xmile(belt() + INFLOW_10 + f'<aux name="x"><eqn>{equation}</eqn></aux>')
    with pytest.raises(ModelError, match=r"slats of (a )?conveyor") as info:
        loads_xmile(text, file="c.xmile")
    assert "c.xmile" in str(info.value) and "\n" not in str(info.value)


def test_total_and_two_argument_min_of_a_conveyor_are_read() -> None:
    """SUM(conveyor) is its total, and MIN(conveyor, 3) the smaller of two numbers."""
    text = xmile(
        belt()
        + INFLOW_10
        + '<aux name="total"><eqn>SUM(belt)</eqn></aux>'
        + '<aux name="small"><eqn>MIN(belt, 3)</eqn></aux>'
    )
    got = run(text)
    np.testing.assert_allclose(got["total"], [0, 10, 20, 30, 30, 30, 30, 30, 30])
    np.testing.assert_allclose(got["small"], [0, 3, 3, 3, 3, 3, 3, 3, 3])


def staggered(initial: str, zones: list[tuple[str, str, str]], dt: float = 0.25) -> str:
    leaks, outflows = "", "<outflow>out</outflow>"
    for n, (start, end, fraction) in enumerate(zones):
        leaks += (
            f'<flow name="l{n}" leak_start="{start}" leak_end="{end}"><eqn>{fraction}</eqn>'
            "<leak/></flow>"
        )
        outflows += f"<outflow>l{n}</outflow>"
    variables = (
        f'<stock name="belt"><eqn>{initial}</eqn><inflow>in</inflow>{outflows}'
        "<conveyor><len>2.5</len></conveyor></stock>"
        f'<flow name="in"><eqn>100 + 10 * TIME</eqn></flow><flow name="out"/>{leaks}'
    )
    return xmile(variables, dt=dt, stop=6)


def test_staggered_leak_zones_by_hand() -> None:
    """isee's default for linear leakages on different zones: each fraction applies to what
    reaches its zone, so 0.5 on the first half of the belt and 0.5 on the second remove 75 %
    (isee help, as simlin's design notes quote it). Inflow 100 + 10 TIME, 10 slats."""
    got = run(staggered("0", [("0", "0.5", "0.5"), ("0.5", "1", "0.5")]))
    times = np.arange(0, 6.25, 0.25)
    arrived = np.where(times >= 2.5, 100 + 10 * (times - 2.5), 0.0)
    np.testing.assert_allclose(got["out"], 0.25 * arrived, rtol=1e-12, atol=1e-12)
    # steady state of the first zone: 5 batches each losing 0.5/5 of what entered a DT
    np.testing.assert_allclose(
        got["l0"][times == 6][0], 0.5 * np.mean(100 + 10 * (6 - 0.25 * np.arange(1, 6))), rtol=1e-12
    )


@pytest.mark.parametrize("initial", ["0", "150"])
@pytest.mark.parametrize(
    "zones",
    [
        [("0", "0.5", "0.5"), ("0.5", "1", "0.5")],
        # simlin's test/conveyors/leaky_conveyor.xmile: seepage everywhere, spillage after
        # the middle
        [("0", "1", "0.05"), ("0.5", "1", "0.1")],
        [("0.2", "0.6", "0.2"), ("0.4", "0.9", "0.3"), ("0", "0.3", "0.1")],
        [("0.1", "0.4", "0.3"), ("0.4", "0.7", "0.3"), ("0.7", "1", "0.3")],
    ],
)
def test_staggered_leak_zones_agree_with_pysimlin(
    initial: str, zones: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    """Overlapping, adjacent and nested zones (10 slats: no zone edge falls on the centre of
    a slat, where the two engines decide differently, see docs/xmile.md)."""
    simlin = pytest.importorskip("simlin")
    text = staggered(initial, zones)
    path = tmp_path / "s.xmile"
    path.write_text(text)
    sim = simlin.load(str(path)).simulate()
    sim.run_to_end()
    ours = run(text)
    for name in ("belt", "out", *(f"l{n}" for n in range(len(zones)))):
        theirs = np.asarray(sim.get_series(name), dtype=float)
        np.testing.assert_allclose(ours[name], theirs, rtol=1e-10, atol=1e-10, err_msg=name)
    pytest.importorskip("numba")
    same_in_both_vms(ours, run(text, "numba"), text)


# -- spread inputs (isee:spreadflow on a conveyor inflow) -----------------------------------
# Semantics (io/xmile/conveyor/spread.py): what enters in a DT is shared over the N slats,
# slat i (0 = the exit) at x_i = 1 - (i + 1/2)/N from the entry: "even" the same share on
# each, "dist" shares in proportion to the graphical function of <isee:distrib_eq> at x_i;
# slat i's share leaves i + 1 DTs later. Seen in Stella Architect models (the corpus'
# sl_covid19_severity: "even"; sl_sir_social_distancing: "dist" with a graphical function).
ISEE = 'xmlns:isee="http://iseesystems.com/XMILE"'
PULSE_9 = "<eqn>IF TIME = 0 THEN 9 ELSE 0</eqn>"
RAMP_GF = '<aux name="prof"><eqn>0</eqn><gf><xscale min="0" max="1"/><ypts>0,1</ypts></gf></aux>'


def spread(method: str, eqn: str = PULSE_9, extra: str = "", name: str = "in") -> str:
    return f'<flow name="{name}" {ISEE} isee:spreadflow="{method}">{eqn}{extra}</flow>'


SPREAD_CASES = {
    # 9 entering at t = 0 over 3 slats: 3 on each, leaving at t = 1, 2 and 3
    "even": (
        belt() + spread("even"),
        {"belt": [0, 9, 6, 3, 0, 0], "out": [0, 3, 3, 3, 0, 0]},
    ),
    # the initial 30 is laid out as without spread inputs (10 a slat, out at 10 a DT for
    # t = 0..2); the pulse adds 3 at t = 1, 2, 3
    "even, initial contents": (
        belt("30") + spread("even"),
        {"belt": [30, 29, 16, 3, 0, 0], "out": [10, 13, 13, 3, 0, 0]},
    ),
    # g(x) = x at the slat centres 5/6, 1/2, 1/6 (exit first): shares 5 : 3 : 1 of 9
    "dist": (
        belt() + spread("dist", extra="<isee:distrib_eq>prof</isee:distrib_eq>") + RAMP_GF,
        {"belt": [0, 9, 4, 1, 0, 0], "out": [0, 5, 3, 1, 0, 0]},
    ),
    # exponential leakage 0.5: each share of 3 loses half a DT, the DT it leaves included:
    # 1.5 leaves at t = 1, 0.75 at t = 2, 0.375 at t = 3; leak = 0.5 * belt
    "even, exponential leakage": (
        belt(leak="0.5", attrs=' exponential_leak="true"') + spread("even"),
        {
            "belt": [0, 9, 3, 0.75, 0, 0],
            "out": [0, 1.5, 0.75, 0.375, 0, 0],
            "leak": [0, 4.5, 1.5, 0.375, 0, 0],
        },
    ),
    # linear leakage 0.3: each share of 3 loses 0.3 * 3 / 3 = 0.3 every DT it is on the
    # belt (as a batch put on at the entry does): 2.7 leaves at t = 1, 2.4 at 2, 2.1 at 3
    "even, linear leakage": (
        belt(leak="0.3") + spread("even"),
        {
            "belt": [0, 9, 5.4, 2.4, 0, 0],
            "out": [0, 2.7, 2.4, 2.1, 0, 0],
            "leak": [0, 0.9, 0.6, 0.3, 0, 0],
        },
    ),
    # shares 5, 3, 1 as in "dist"; each loses 0.3 / 3 of itself as put on every DT on the
    # belt: 5 - 0.5 leaves at t = 1, 3 - 0.6 at 2, 1 - 0.3 at 3
    "dist, linear leakage": (
        belt(leak="0.3")
        + spread("dist", extra="<isee:distrib_eq>prof</isee:distrib_eq>")
        + RAMP_GF,
        {
            "belt": [0, 9, 3.6, 0.8, 0, 0],
            "out": [0, 4.5, 2.4, 0.7, 0, 0],
            "leak": [0, 0.9, 0.4, 0.1, 0, 0],
        },
    ),
    # two inflows: 4 a DT at the entry (out from t = 3) and the pulse spread evenly
    "even and entry": (
        belt().replace("<inflow>in</inflow>", "<inflow>in</inflow><inflow>in2</inflow>")
        + spread("even")
        + '<flow name="in2"><eqn>4</eqn></flow>',
        {"belt": [0, 13, 14, 15, 12, 12], "out": [0, 3, 3, 7, 4, 4]},
    ),
}


@pytest.mark.parametrize("case", list(SPREAD_CASES))
def test_spread_input_by_hand(case: str) -> None:
    variables, expected = SPREAD_CASES[case]
    got = run(xmile(variables, stop=5))
    for name, values in expected.items():
        np.testing.assert_allclose(got[name], values, rtol=1e-12, atol=1e-12, err_msg=name)


def slat_belt(
    inflow: np.ndarray, slats: int, dt: float, initial: float, weight: object, leak: object = 0
) -> tuple[np.ndarray, np.ndarray]:
    """An independent belt of ``slats`` slats, moved one slat a DT (index 0 = the exit):
    returns (contents, outflow) at each time; ``weight(x)`` is the share's weight at x.
    Exponential leakage ``leak`` (a number, or one per DT): each DT every slat first loses
    leak * DT of what it holds (the exit slat too, before it leaves); the initial contents
    are laid out as a steady inflow leaves them at the first fraction, slat i holding
    keep^(N-1-i) times the entry slat."""
    leaks = np.broadcast_to(np.asarray(leak, dtype=float), np.shape(inflow))
    xs = 1 - (np.arange(slats) + 0.5) / slats
    weights = np.array([weight(x) for x in xs], dtype=float)  # type: ignore[operator]
    shares = weights / weights.sum()
    profile = (1 - leaks[0] * dt) ** (slats - 1 - np.arange(slats))
    cells = list(initial * profile / profile.sum())
    contents, out = [], []
    for rate, fraction in zip(inflow, leaks, strict=True):
        contents.append(sum(cells))
        cells = [c * (1 - fraction * dt) for c in cells]
        out.append(cells[0] / dt)
        cells = [*cells[1:], 0.0]
        cells = [c + rate * dt * s for c, s in zip(cells, shares, strict=True)]
    return np.array(contents), np.array(out)


STEP_GF = (
    '<aux name="prof"><eqn>0</eqn><gf><xpts>0.2,0.4,0.6,0.8</xpts><ypts>1,3,0,2</ypts></gf></aux>'
)


def step_gf(x: float) -> float:
    """STEP_GF: clamped below 0.2 and above 0.8, zero at 0.6."""
    return float(np.interp(x, [0.2, 0.4, 0.6, 0.8], [1, 3, 0, 2]))


@pytest.mark.parametrize(
    ("method", "transit", "weight", "leak"),
    [
        ("even", "2", lambda x: 1.0, 0),
        ("even", "1.1", lambda x: 1.0, 0),  # 4.4 DTs: 4 slats
        ("dist", "2", step_gf, 0),
        ("dist", "0.75", step_gf, 0),
        ("even", "2", lambda x: 1.0, 0.3),
        ("dist", "2", step_gf, 0.3),
        ("dist", "1.1", step_gf, 0.5),
    ],
)
def test_spread_input_matches_a_belt_of_slats(
    method: str, transit: str, weight: object, leak: float
) -> None:
    """Against a belt simulated slat by slat in the test (slat_belt), DT 1/4, an inflow that
    changes every DT, with and without exponential leakage; both VMs agree."""
    extra = "<isee:distrib_eq>prof</isee:distrib_eq>" if method == "dist" else ""
    eqn = "<eqn>ABS(SIN(TIME * 1.7)) * 10</eqn>"
    conveyor = belt(
        "6",
        conveyor=f"<len>{transit}</len>",
        leak=str(leak) if leak else "",
        attrs=' exponential_leak="true"' if leak else "",
    )
    text = xmile(conveyor + spread(method, eqn, extra) + STEP_GF, dt=0.25, stop=6)
    got = run(text)
    slats = int(float(transit) / 0.25 + 0.5)
    contents, out = slat_belt(got["in"], slats, 0.25, 6.0, weight, leak)
    np.testing.assert_allclose(got["out"], out, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["belt"], contents, rtol=1e-9, atol=1e-9)
    if leak:
        np.testing.assert_allclose(got["leak"], leak * contents, rtol=1e-9, atol=1e-9)
    if importlib.util.find_spec("numba") is not None:
        same_in_both_vms(got, run(text, "numba"), text)


def test_spread_input_on_an_arrayed_conveyor() -> None:
    """One belt per element; each element's pulse spread evenly over its 3 slats."""
    text = arrayed("", "0").replace(
        '<flow name="in">',
        f'<flow name="in" {ISEE} isee:spreadflow="even">',
    )
    text = text.replace("<outflow>leak</outflow>", "").replace(
        '<flow name="leak"><dimensions><dim name="D"/></dimensions><eqn>0</eqn><leak/></flow>', ""
    )
    got = run(text)
    np.testing.assert_allclose(got["out"][:, 0], [0, 10 / 3, 20 / 3, 10, 10, 10, 10, 10, 10])
    np.testing.assert_allclose(got["out"][:, 1], [0, 4 / 3, 8 / 3, 4, 4, 4, 4, 4, 4])


@pytest.mark.parametrize("case", list(SPREAD_CASES))
def test_spread_input_pysimlin_agrees(case: str, tmp_path: Path) -> None:
    """pysimlin 0.8.5 places spread inputs too (its own implementation); same numbers."""
    simlin = pytest.importorskip("simlin")
    text = xmile(SPREAD_CASES[case][0], stop=5)
    path = tmp_path / "c.xmile"
    path.write_text(text)
    run_ = simlin.load(str(path)).simulate()
    run_.run_to_end()
    ours = run(text)
    for name in SPREAD_CASES[case][1]:
        theirs = np.asarray(run_.get_series(name), dtype=float)
        np.testing.assert_allclose(ours[name], theirs, rtol=1e-9, atol=1e-9, err_msg=name)


SPREAD_REFUSED = [
    (belt() + spread("source"), r'isee:spreadflow="source" is not supported'),
    (belt() + spread("dest"), r'isee:spreadflow="dest" is not supported'),
    (
        belt(leak="0.1 + STEP(0.1, 2)") + spread("even"),
        "with linear leakage whose fraction changes during the run is not supported",
    ),
    (
        belt(leak="0.1", attrs=' exponential_leak="true"').replace(
            '<flow name="leak">', '<flow name="leak" leak_end="0.5">'
        )
        + spread("even"),
        "on a conveyor with a leak zone is not supported",
    ),
    (belt() + spread("dist"), "has no <isee:distrib_eq>"),
    (
        belt()
        + spread("dist", extra="<isee:distrib_eq>k</isee:distrib_eq>")
        + '<aux name="k"><eqn>2</eqn></aux>',
        "is not the name of a graphical function",
    ),
    (
        belt()
        + spread("dist", extra="<isee:distrib_eq>prof</isee:distrib_eq>")
        + RAMP_GF.replace("0,1", "1,-1"),
        "has negative y values",
    ),
    (
        belt()
        + spread("dist", extra="<isee:distrib_eq>prof</isee:distrib_eq>")
        + RAMP_GF.replace("<gf>", '<gf type="discrete">'),
        "is a graphical function of type discrete",
    ),
]


@pytest.mark.parametrize(("variables", "message"), SPREAD_REFUSED)
def test_unsupported_spread_inputs_are_refused(variables: str, message: str) -> None:
    with pytest.raises(ModelError, match=message) as info:
        loads_xmile(xmile(variables), file="c.xmile")
    text = str(info.value)
    assert "\n" not in text and "c.xmile" in text


def test_spread_placement_on_a_flow_into_a_plain_stock_is_ignored() -> None:
    """Stella writes isee:spreadflow="source" on leakages; into a plain stock it places
    nothing (seen in the corpus' sl_covid19_severity)."""
    text = xmile(
        belt(leak="0.3").replace(
            '<flow name="leak">', f'<flow name="leak" {ISEE} isee:spreadflow="source">'
        )
        + INFLOW_10
        + '<stock name="sink"><eqn>0</eqn><inflow>leak</inflow></stock>'
    )
    assert run(text)["sink"][-1] == pytest.approx(
        0 + 1 + 2 + 3 * 5
    )  # leak 0, 1, 2, 3, 3, ... (CASES "linear")


def test_spread_distribution_named_by_a_connected_module_input_is_refused() -> None:
    """Seen in the corpus' sl_sir_social_distancing: the distribution is a module input with
    its own <gf>, connected to a graphical function outside the module with other points.
    Which one Stella spreads by is not known, so it is refused (never guessed)."""
    inner = (
        '<model name="m"><variables>'
        + belt()
        + spread("dist", extra="<isee:distrib_eq>prof</isee:distrib_eq>")
        + RAMP_GF.replace('<aux name="prof">', '<aux name="prof" access="input">')
        + "</variables></model>"
    )
    text = xmile(
        '<module name="m"><connect to="prof" from=".outer"/></module>'
        + RAMP_GF.replace('"prof"', '"outer"').replace("0,1", "1,0")
    ).replace("</model></xmile>", f"</model>{inner}</xmile>")
    with pytest.raises(ModelError, match="is a module input connected to 'outer'") as info:
        loads_xmile(text, file="c.xmile")
    assert "\n" not in str(info.value) and "c.xmile" in str(info.value)


@pytest.mark.parametrize("method", ["even", "dist"])
def test_spread_input_with_a_changing_exponential_leakage(method: str) -> None:
    """Leakage fractions may change during the run (isee: the current values are used): each
    DT every slat loses the current fraction; against slat_belt with the fraction 0.2 until
    t = 2 and 0.6 from then on; the initial contents laid out with 0.2."""
    extra = "<isee:distrib_eq>prof</isee:distrib_eq>" if method == "dist" else ""
    eqn = "<eqn>ABS(SIN(TIME * 1.7)) * 10</eqn>"
    conveyor = belt(
        "6",
        conveyor="<len>1.5</len>",
        leak="0.2 + STEP(0.4, 2)",
        attrs=' exponential_leak="true"',
    )
    text = xmile(conveyor + spread(method, eqn, extra) + STEP_GF, dt=0.25, stop=5)
    got = run(text)
    times = np.arange(21) * 0.25
    fractions = np.where(times >= 2, 0.6, 0.2)
    weight = step_gf if method == "dist" else (lambda x: 1.0)
    contents, out = slat_belt(got["in"], 6, 0.25, 6.0, weight, fractions)
    np.testing.assert_allclose(got["out"], out, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["belt"], contents, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["leak"], fractions * contents, rtol=1e-9, atol=1e-9)
    if importlib.util.find_spec("numba") is not None:
        same_in_both_vms(got, run(text, "numba"), text)


def test_spread_input_in_a_module() -> None:
    """A conveyor with a spread input inside a module (as in sl_sir_social_distancing), its
    distribution a module input left unconnected (so its own <gf>): same numbers as the
    "dist" case of SPREAD_CASES, under the module's names."""
    inner = (
        '<model name="m"><variables>'
        + belt()
        + spread("dist", extra="<isee:distrib_eq>prof</isee:distrib_eq>")
        + RAMP_GF.replace('<aux name="prof">', '<aux name="prof" access="input">')
        + "</variables></model>"
    )
    text = xmile('<module name="m"/>', stop=5).replace(
        "</model></xmile>", f"</model>{inner}</xmile>"
    )
    got = run(text)
    np.testing.assert_allclose(got["m.out"], [0, 5, 3, 1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(got["m.belt"], [0, 9, 4, 1, 0, 0], atol=1e-12)


def linear_belt(
    entry: np.ndarray,
    even: np.ndarray,
    belt_: tuple[int, float, float, float],
    weight: object = lambda x: 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An independent belt with linear leakage (``belt_``: slats, DT, initial contents,
    fraction): each slat holds material and its leak basis (1/N of what each batch or share
    in it had when put on); every DT a slat loses fraction * basis, the exit slat too before
    it leaves. ``entry`` goes on at the entry, ``even`` is shared over the slats in
    proportion to ``weight(x)`` (x from the entry; evenly by default); the initial contents
    are laid out as a steady inflow at the entry leaves them (slat i: 1 - fraction *
    (N - 1 - i) / N of a batch). Returns the contents, the outflow and the leak."""
    slats, dt, initial, leak = belt_
    xs = 1 - (np.arange(slats) + 0.5) / slats
    weights = np.array([weight(x) for x in xs], dtype=float)  # type: ignore[operator]
    shares = weights / weights.sum()
    profile = 1 - leak * (slats - 1 - np.arange(slats)) / slats
    batch = initial / profile.sum()
    cells, basis = list(batch * profile), [batch / slats] * slats
    contents, out, leaked = [], [], []
    for at_entry, spread_ in zip(entry, even, strict=True):
        contents.append(sum(cells))
        lost = [leak * b for b in basis]
        leaked.append(sum(lost) / dt)
        cells = [c - x for c, x in zip(cells, lost, strict=True)]
        out.append(cells[0] / dt)
        cells, basis = [*cells[1:], 0.0], [*basis[1:], 0.0]
        cells = [c + spread_ * dt * s for c, s in zip(cells, shares, strict=True)]
        basis = [b + spread_ * dt * s / slats for b, s in zip(basis, shares, strict=True)]
        cells[-1] += at_entry * dt
        basis[-1] += at_entry * dt / slats
    return np.array(contents), np.array(out), np.array(leaked)


@pytest.mark.parametrize("method", ["even", "dist"])
def test_spread_with_linear_leakage_matches_a_belt_of_slats(method: str) -> None:
    """An inflow at the entry and one spread (evenly, or by STEP_GF), linear leakage 0.3 (two
    leakage flows, 0.1 and 0.2), initial contents, DT 1/4, transit time 1.5 (6 slats);
    against linear_belt; both VMs agree."""
    extra = "<isee:distrib_eq>prof</isee:distrib_eq>" if method == "dist" else ""
    variables = (
        belt("6", conveyor="<len>1.5</len>", leak="0.1")
        .replace("<inflow>in</inflow>", "<inflow>in</inflow><inflow>in2</inflow>")
        .replace("<outflow>leak</outflow>", "<outflow>leak</outflow><outflow>leak2</outflow>")
        + '<flow name="leak2"><eqn>0.2</eqn><leak/></flow>'
        + spread(method, "<eqn>ABS(SIN(TIME * 1.7)) * 10</eqn>", extra)
        + '<flow name="in2"><eqn>3 + TIME</eqn></flow>'
        + STEP_GF
    )
    text = xmile(variables, dt=0.25, stop=5)
    got = run(text)
    weight = step_gf if method == "dist" else (lambda x: 1.0)
    contents, out, leaked = linear_belt(got["in2"], got["in"], (6, 0.25, 6.0, 0.3), weight)
    np.testing.assert_allclose(got["out"], out, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["belt"], contents, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["leak"] + got["leak2"], leaked, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["leak2"], 2 * got["leak"], rtol=1e-9, atol=1e-9)
    if importlib.util.find_spec("numba") is not None:
        same_in_both_vms(got, run(text, "numba"), text)
