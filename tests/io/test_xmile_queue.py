"""Queues and the flow options that go with them (XMILE 1.0 §3.7.3 "Queues", §4.2, §4.3
"overflow" and "multiplier"; isee Stella help "Queue Computation").

A queue is a FIFO of batches, one per inflow per DT; its outflows take from the front, and
"queues flowing to regular stocks and clouds are not limited in any way, so their outflows
will always empty the queue" (§3.7.3); an overflow takes something only when a higher
priority outflow is blocked by a conveyor (capacity, inflow limit, arrest), which the reader
refuses (a queue feeding a conveyor). So every queue read here is emptied each DT by its first
outflow: expected values are worked out by hand (Euler), and ``test_pysimlin_agrees`` checks
that pysimlin 0.8.5 gives the same numbers on the same file (it ignores ``<multiplier>``, so
the multiplier cases are by hand only). Both VMs give identical bits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flywheel_sim import ModelError, simulate
from flywheel_sim.engine.simulate import Options
from flywheel_sim.io.xmile import loads_xmile

HEAD = (
    '<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">'
    '<header><name>q</name><vendor>t</vendor><product version="1">t</product>'
    '<options><uses_queue overflow="true"/></options></header>'
)
DIMS = '<dimensions><dim name="D"><elem name="a"/><elem name="b"/></dim></dimensions>'


def xmile(variables: str, *, dt: float = 1, stop: float = 4, method: str = "Euler") -> str:
    return (
        f'{HEAD}<sim_specs method="{method}"><start>0</start><stop>{stop}</stop><dt>{dt}</dt>'
        f"</sim_specs>{DIMS}<model><variables>{variables}</variables></model></xmile>"
    )


def queue(
    initial: str = "0",
    inflows: tuple[str, ...] = ("arrivals",),
    outflows: tuple[str, ...] = ("out",),
    name: str = "waiting",
    extra: str = "",
) -> str:
    ins = "".join(f"<inflow>{f}</inflow>" for f in inflows)
    outs = "".join(f"<outflow>{f}</outflow>" for f in outflows)
    return f'<stock name="{name}"><eqn>{initial}</eqn>{ins}{outs}{extra}<queue/></stock>'


def flow(name: str, eqn: str | None = "0", extra: str = "") -> str:
    body = "" if eqn is None else f"<eqn>{eqn}</eqn>"
    return f'<flow name="{name}">{body}{extra}</flow>'


def stock(
    name: str, initial: str = "0", inflows: str = "", outflows: str = "", extra: str = ""
) -> str:
    ins = "".join(f"<inflow>{f}</inflow>" for f in inflows.split())
    outs = "".join(f"<outflow>{f}</outflow>" for f in outflows.split())
    return f'<stock name="{name}"><eqn>{initial}</eqn>{ins}{outs}{extra}</stock>'


CASES: dict[str, tuple[str, float, dict[str, list[float]]]] = {
    # seen in simlin's test/queues/minimal_queue.xmile (the corpus' sl_minimal_queue): the
    # outflow's <eqn>0</eqn> is not used (XMILE §4.3: the queue drives it); the overflow
    # takes nothing, since nothing downstream blocks the first outflow. DT 1/4.
    "minimal": (
        queue(outflows=("into_service", "balk"))
        + flow("arrivals", "10", "<non_negative/>")
        + flow("into_service")
        + flow("balk", extra="<overflow/>")
        + stock("served", inflows="into_service"),
        0.25,
        {
            "waiting": [0.0] * 17,
            "into_service": [10.0] * 17,
            "balk": [0.0] * 17,
            "served": [2.5 * k for k in range(17)],
        },
    ),
    # an initial value is one batch at the front: out at t = 0 is 6 / DT + the inflow's 10,
    # then the queue is empty. DT 1/2.
    "initial batch": (
        queue("6") + flow("arrivals", "10") + flow("out", None) + stock("done", inflows="out"),
        0.5,
        {
            "waiting": [6.0] + [0.0] * 8,
            "out": [22.0] + [10.0] * 8,
            "done": [0.0] + [11.0 + 5 * k for k in range(8)],
        },
    ),
    # two inflows deliver two batches a DT (Stella help); a negative inflow delivers none
    # (XMILE §4.3: queue inflows are non-negative): b = 5 - 2 TIME is 0 from t = 2.5
    "two inflows": (
        queue(inflows=("a", "b"))
        + flow("a", "TIME")
        + flow("b", "5 - 2 * TIME")
        + flow("out", None)
        + stock("done", inflows="out"),
        0.5,
        {
            "waiting": [0.0] * 9,
            "b": [5, 4, 3, 2, 1, 0, 0, 0, 0],
            "out": [5, 4.5, 4, 3.5, 3, 2.5, 3, 3.5, 4],
            "done": [0, 2.5, 4.75, 6.75, 8.5, 10, 11.25, 12.75, 14.5],
        },
    ),
    # the first outflow empties the queue: a second ordinary outflow and an overflow get 0
    "outflows after the first": (
        queue("4", outflows=("first", "second", "spill"))
        + flow("arrivals", "1")
        + flow("first", None)
        + flow("second", "0.0")
        + flow("spill", None, "<overflow/>"),
        1,
        {
            "waiting": [4, 0, 0, 0, 0],
            "first": [5, 1, 1, 1, 1],
            "second": [0] * 5,
            "spill": [0] * 5,
        },
    ),
    # a non-negative stock upstream cuts the queue's inflow once it runs dry (3 in it, 2 a
    # DT asked): the queue passes on what arrives (2, 1, 0), never going negative
    "starved": (
        stock("source", "3", outflows="arrivals", extra="<non_negative/>")
        + flow("arrivals", "2")
        + queue()
        + flow("out", None)
        + stock("done", inflows="out"),
        1,
        {
            "source": [3, 1, 0, 0, 0],
            "arrivals": [2, 1, 0, 0, 0],
            "waiting": [0] * 5,
            "out": [2, 1, 0, 0, 0],
            "done": [0, 2, 3, 3, 3],
        },
    ),
    # the same, the stocks declared in the other order (the limits settle whatever the order)
    "starved, declared first": (
        queue()
        + flow("out", None)
        + stock("done", inflows="out")
        + flow("arrivals", "2")
        + stock("source", "3", outflows="arrivals", extra="<non_negative/>"),
        1,
        {"arrivals": [2, 1, 0, 0, 0], "waiting": [0] * 5, "out": [2, 1, 0, 0, 0]},
    ),
    # a queue emptying into another queue, the downstream one declared first
    "queue into queue, declared first": (
        queue("2", inflows=("mid",), outflows=("out",), name="second")
        + queue("1", outflows=("mid",))
        + flow("arrivals", "3")
        + flow("mid", None)
        + flow("out", None),
        1,
        {"mid": [4, 3, 3, 3, 3], "out": [6, 3, 3, 3, 3], "second": [2, 0, 0, 0, 0]},
    ),
    # a queue emptying into another queue: both pass everything on in the same DT
    "queue into queue": (
        queue("1", outflows=("mid",))
        + queue("2", inflows=("mid",), outflows=("out",), name="second")
        + flow("arrivals", "3")
        + flow("mid", None)
        + flow("out", None)
        + stock("done", inflows="out"),
        1,
        {
            "waiting": [1, 0, 0, 0, 0],
            "second": [2, 0, 0, 0, 0],
            "mid": [4, 3, 3, 3, 3],
            "out": [6, 3, 3, 3, 3],
            "done": [0, 6, 9, 12, 15],
        },
    ),
    # a conveyor's outflow into a queue (transit time 2): the queue passes each arrival on
    "conveyor into queue": (
        '<stock name="belt"><eqn>0</eqn><inflow>onto</inflow><outflow>arrivals</outflow>'
        "<conveyor><len>2</len></conveyor></stock>"
        + flow("onto", "10")
        + flow("arrivals", None)
        + queue()
        + flow("out", None)
        + stock("done", inflows="out"),
        1,
        {
            "belt": [0, 10, 20, 20, 20],
            "waiting": [0] * 5,
            "out": [0, 0, 10, 10, 10],
            "done": [0, 0, 0, 10, 20],
        },
    ),
}


# XMILE §4.3 "Unit conversion multiplier": "4 units of material will be taken from the upstream
# stock and 3*4 = 12 units of material will be given to the downstream stock". By hand only:
# pysimlin 0.8.5 ignores <multiplier>.
MULTIPLIED: dict[str, tuple[str, float, dict[str, list[float]]]] = {
    "between stocks": (
        stock("a", "10", outflows="f")
        + flow("f", "2", "<multiplier>3</multiplier>")
        + stock("b", inflows="f"),
        1,
        {"a": [10, 8, 6, 4, 2], "f": [2] * 5, "f_converted": [6] * 5, "b": [0, 6, 12, 18, 24]},
    ),
    # into a queue: the queue gets a batch of 2 × 0.5 a DT and passes it on
    "into a queue": (
        flow("f", "2", "<multiplier>0.5</multiplier>")
        + queue(inflows=("f",))
        + flow("out", None)
        + stock("done", inflows="out"),
        1,
        {"f": [2] * 5, "waiting": [0] * 5, "out": [1] * 5, "done": [0, 1, 2, 3, 4]},
    ),
    # out of a queue, with a multiplier that changes during the run
    "out of a queue": (
        queue()
        + flow("arrivals", "2")
        + flow("out", None, "<multiplier>TIME</multiplier>")
        + stock("done", inflows="out"),
        1,
        {"out": [2] * 5, "out_converted": [0, 2, 4, 6, 8], "done": [0, 0, 2, 6, 12]},
    ),
}


def run(text: str, backend: str = "numpy") -> dict[str, np.ndarray]:
    result = simulate(loads_xmile(text, file="q.xmile"), options=Options(backend=backend))
    return {str(k): np.asarray(result[k].isel(run=0), dtype=float) for k in result.data_vars}


@pytest.mark.parametrize("case", [*CASES, *MULTIPLIED])
def test_queue_by_hand(case: str) -> None:
    variables, dt, expected = CASES.get(case) or MULTIPLIED[case]
    got = run(xmile(variables, dt=dt))
    for name, values in expected.items():
        np.testing.assert_allclose(got[name], values, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("case", [*CASES, *MULTIPLIED])
def test_both_vms_identical(case: str) -> None:
    pytest.importorskip("numba")
    variables, dt, _ = CASES.get(case) or MULTIPLIED[case]
    text = xmile(variables, dt=dt)
    a, b = run(text, "numpy"), run(text, "numba")
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name


# pysimlin 0.8.5 does not limit a non-negative stock's outflows ("starved": its source goes
# to -5); and a queue fed by another queue's outflow never releases what reaches it ("queue
# into queue": pysimlin's "second" grows 2, 4, 7, 10, 13 while its outflow to a plain stock
# is 0, against XMILE §3.7.3 "their outflows will always empty the queue")
BY_HAND_ONLY = {
    "starved",
    "starved, declared first",
    "queue into queue",
    "queue into queue, declared first",
}


@pytest.mark.parametrize("case", [c for c in CASES if c not in BY_HAND_ONLY])
def test_pysimlin_agrees(case: str, tmp_path: Path) -> None:
    """pysimlin 0.8.5 simulates queues (simlin's docs/design/queues.md); same file, same
    numbers, on every variable checked by hand."""
    simlin = pytest.importorskip("simlin")
    variables, dt, expected = CASES[case]
    text = xmile(variables, dt=dt)
    path = tmp_path / "q.xmile"
    path.write_text(text)
    sim = simlin.load(str(path)).simulate()
    sim.run_to_end()
    ours = run(text)
    for name in expected:
        np.testing.assert_allclose(
            ours[name],
            np.asarray(sim.get_series(name), dtype=float),
            rtol=1e-9,
            atol=1e-9,
            err_msg=name,
        )


def test_arrayed_queue_element_by_element() -> None:
    """An arrayed queue is one queue per element (simlin's design notes, §6): each element's
    outflow passes on its own contents and inflow."""
    d = '<dimensions><dim name="D"/></dimensions>'
    text = xmile(
        queue("1", extra=d)
        + f'<flow name="arrivals">{d}<element subscript="a"><eqn>3</eqn></element>'
        '<element subscript="b"><eqn>4</eqn></element></flow>'
        + flow("out", None, d)
        + stock("done", inflows="out", extra=d)
    )
    model = loads_xmile(text, file="q.xmile")
    result = simulate(model)
    out = result["out"].isel(run=0).values
    np.testing.assert_allclose(out[:, 0], [4, 3, 3, 3, 3])
    np.testing.assert_allclose(out[:, 1], [5, 4, 4, 4, 4])
    np.testing.assert_allclose(result["waiting"].isel(run=0).values[1:], 0)


def test_batches_do_not_change_the_totals() -> None:
    """Where every outflow empties the queue, the batches do not matter: one inflow of 5 (one
    batch a DT) and inflows of 2 and 3 (two batches a DT) give the same queue and outflow."""
    one = queue() + flow("arrivals", "5") + flow("out", None)
    two = queue(inflows=("a", "b")) + flow("a", "2") + flow("b", "3") + flow("out", None)
    a, b = run(xmile(one, dt=0.5)), run(xmile(two, dt=0.5))
    for name in ("waiting", "out"):
        assert np.array_equal(a[name], b[name]), name


@pytest.mark.parametrize("outflows", [("out",), ("out", "balk")])
def test_an_equation_on_a_queue_outflow_is_refused(outflows: tuple[str, ...]) -> None:
    """XMILE §4.3: queue outflows "MUST NOT have an equation as their attached conveyor or
    queue drives them", and Stella saves a driven outflow's as 0 (seen in Covid-19-Severity:
    the conveyor outflow 'recovering'). Any other equation was written for a reason the
    standard does not give: refused rather than ignored, naming the flow and its line."""
    text = xmile(
        queue(outflows=outflows)
        + flow("arrivals", "5")
        + flow(outflows[0], "waiting * 0.5" if len(outflows) == 1 else "0")
        + (flow("balk", "2") if len(outflows) > 1 else "")
    )
    with pytest.raises(
        ModelError, match=f"outflow '{outflows[-1]}' of queue 'waiting' has"
    ) as info:
        loads_xmile(text, file="q.xmile")
    assert "(q.xmile:1)" in str(info.value)


BELT = (
    '<stock name="belt"><eqn>0</eqn><inflow>onto</inflow><outflow>off</outflow>'
    "<conveyor><len>2</len></conveyor></stock>" + flow("off", None)
)
REFUSED = [
    # XMILE §3.7.3, §4.2.1: a conveyor fed by a queue must be discrete, and holds batches back
    (
        queue(outflows=("onto",)) + flow("arrivals", "1") + flow("onto", None) + BELT,
        "queue 'waiting' feeds conveyor 'belt'",
    ),
    (
        queue() + flow("arrivals", "1") + flow("out", None, "<overflow/>"),
        "'out' is marked <overflow/> but is no queue outflow after the first",
    ),
    (
        stock("s", outflows="f") + flow("f", "1", "<overflow/>"),
        "'f' is marked <overflow/> but is no queue outflow",
    ),
    ('<aux name="x"><eqn>1</eqn><overflow/></aux>', "<overflow> belongs in a <flow>, not in"),
    ('<flow name="x"><eqn>1</eqn><queue/></flow>', "<queue> belongs in a <stock>, not in"),
    (
        '<stock name="s"><eqn>0</eqn><outflow>o</outflow><conveyor><len>2</len></conveyor>'
        "<queue/></stock>" + flow("o", None),
        "both a conveyor and a queue",
    ),
    (
        queue() + flow("arrivals", "1") + flow("out", None) + '<aux name="n"><eqn>SIZE(waiting)'
        "</eqn></aux>",
        r"SIZE\(waiting\) counts the batches of a queue",
    ),
    (
        queue() + flow("arrivals", "1") + flow("out", None) + '<aux name="n"><eqn>MEAN(waiting)'
        "</eqn></aux>",
        r"MEAN\(waiting\) reads the batches of queue 'waiting'",
    ),
    (queue(outflows=()) + flow("arrivals", "1"), "queue 'waiting' has no outflow"),
    (queue("-2") + flow("arrivals", "1") + flow("out", None), "queue 'waiting' starts at -2"),
    (
        stock("src", "5", outflows="f", extra="<non_negative/>")
        + flow("f", "1", "<multiplier>2</multiplier>")
        + stock("dst", inflows="f"),
        "'f', which a non-negative stock may cut",
    ),
    (
        flow("f", "1", "<multiplier>2</multiplier>")
        + stock("dst", inflows="f", extra="<non_negative/>"),
        "may turn negative into non-negative stock 'dst'",
    ),
    (
        flow("onto", "1", "<multiplier>2</multiplier>") + BELT,
        "<multiplier> on flow 'onto' into conveyor 'belt'",
    ),
    (
        '<flow name="f"><dimensions><dim name="D"/></dimensions><eqn>1</eqn><element '
        'subscript="a"><eqn>1</eqn><multiplier>2</multiplier></element></flow>'
        + stock("dst", inflows="f"),
        "a <multiplier> per array element",
    ),
    (
        stock("s", extra="<multiplier>2</multiplier>"),
        "<multiplier> belongs in a <flow>, not in <stock>",
    ),
]


@pytest.mark.parametrize(("variables", "message"), REFUSED)
def test_what_queues_cannot_do_exactly_is_refused(variables: str, message: str) -> None:
    with pytest.raises(ModelError, match=message) as info:
        loads_xmile(xmile(variables), file="q.xmile")
    text = str(info.value)
    assert "\n" not in text and "q.xmile:" in text


def test_queue_needs_euler() -> None:
    with pytest.raises(ModelError, match="queue 'waiting' needs Euler integration") as info:
        loads_xmile(
            xmile(queue() + flow("arrivals", "1") + flow("out", None), method="RK4"),
            file="q.xmile",
        )
    assert "q.xmile:" in str(info.value)


def test_negative_multiplier_into_a_non_negative_stock_fails_the_run() -> None:
    """A negative unit conversion has no meaning, and a non-negative stock would cut the
    converted flow alone: the run fails naming the converted flow."""
    text = xmile(
        flow("f", "1", "<non_negative/><multiplier>-2</multiplier>")
        + stock("dst", inflows="f", extra="<non_negative/>")
    )
    result = simulate(loads_xmile(text, file="q.xmile"))
    assert str(result["failed_variable"].values[0]) == "f_converted"


def test_export_of_a_queue_reads_back_with_the_same_results() -> None:
    """Export writes the expanded structure (a stock whose first outflow empties it), which
    gives the same results in any tool under Euler."""
    from flywheel_sim.io.xmile import dumps_xmile

    variables, dt, _ = CASES["two inflows"]
    text = xmile(variables, dt=dt)
    again = dumps_xmile(loads_xmile(text, file="q.xmile"))
    a, b = run(text), run(again)
    for name in a:
        assert np.array_equal(a[name], b[name]), name


def module_with_queue(extra: str = "") -> str:
    inner = (
        '<aux name="rate" access="input"><eqn>0</eqn></aux>'
        + queue()
        + flow("arrivals", "rate")
        + flow("out", "0")
        + stock("done", inflows="out")
        + extra
    )
    return (
        f'{HEAD}<sim_specs method="Euler"><start>0</start><stop>4</stop><dt>1</dt></sim_specs>'
        '<model><variables><module name="line"><connect to="rate" from=".outside_rate"/>'
        '</module><aux name="outside rate"><eqn>4</eqn></aux></variables></model>'
        f'<model name="line"><variables>{inner}</variables></model></xmile>'
    )


def test_queue_in_a_module() -> None:
    """A queue inside a module instance (names qualified by the module, as Stella saves them):
    the same reading, and SIZE of it is refused there too."""
    got = run(module_with_queue('<aux name="total"><eqn>SUM(waiting)</eqn></aux>'))
    assert got["line.out"].tolist() == [4.0] * 5
    assert got["line.done"].tolist() == [0.0, 4.0, 8.0, 12.0, 16.0]
    assert got["line.total"].tolist() == [0.0] * 5
    with pytest.raises(ModelError, match=r"SIZE\(waiting\) counts the batches of a queue"):
        loads_xmile(
            module_with_queue('<aux name="n"><eqn>SIZE(waiting)</eqn></aux>'), file="q.xmile"
        )


def test_a_queue_starting_below_zero_fails_the_run() -> None:
    """A queue holds batches; an initial value computed below zero has no meaning: the run
    fails at the start, naming the outflow, rather than pull material back from downstream."""
    text = xmile('<aux name="k"><eqn>-2</eqn></aux>' + queue("k * 1") + flow("arrivals", "1"))
    text = text.replace("</variables>", flow("out", None) + "</variables>")
    result = simulate(loads_xmile(text, file="q.xmile"))
    assert str(result["failed_variable"].values[0]) == "out"
    assert float(result["failed_time"].values[0]) == 0.0


@pytest.mark.parametrize("case", ["queue into queue", "queue into queue, declared first"])
def test_a_flow_between_queues_is_a_uniflow_in_either_order(case: str) -> None:
    """The outflow of one queue is the inflow of the next, which XMILE §4.3 makes
    non-negative, whichever queue the file declares first."""
    variables, dt, _ = CASES[case]
    model = loads_xmile(xmile(variables, dt=dt), file="q.xmile")
    assert next(e for e in model.elements if e.key == "mid").non_negative
