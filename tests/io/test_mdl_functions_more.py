"""Vensim functions read from .mdl text: SINTEG (io/mdl/sinteg.py), VECTOR LOOKUP
(io/mdl/vector_lookup.py), LOOKUP AREA (io/mdl/lookup_area.py), DELAY MATERIAL and NPVE
(compile/stateful_vensim.py) and RANDOM stream IDs written as expressions
(compile/random_vensim.py). Small models written for these tests; the
expected values worked out by hand from Vensim's reference pages (fn_sinteg, fn_vector_lookup,
fn_lookup_area, fn_delay_material, fn_npve, stream_id). Every simulation runs on both VMs."""

from __future__ import annotations

import numpy as np
import pytest
from test_mdl_reader import mdl, run, start, values

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.mdl import loads_mdl

NA5 = ":NA:, :NA:, :NA:"


def test_sinteg_stays_within_its_bounds(options: fs.Options) -> None:
    """fn_sinteg: "SINTEG will never go below min or above max" (its initial value too)."""
    text = mdl(
        f"up = SINTEG(2, 1, 0, 4, {NA5}) ~ ~ |\n"
        f"down = SINTEG(-3, 5, 0, :NA:, {NA5}) ~ ~ |\n"
        f"above = SINTEG(0, 9, 0, 4, {NA5}) ~ ~ |\n"
    )
    result = run(text, options)
    assert list(values(result, "up")) == [1, 3, 4, 4, 4]
    assert list(values(result, "down")) == [5, 2, 0, 0, 0]
    assert list(values(result, "above")) == [4, 4, 4, 4, 4]


def test_sinteg_without_bounds_is_integ(options: fs.Options) -> None:
    """fn_sinteg's first example: SINTEG(rate, initial, :NA: x 5) is INTEG(rate, initial)."""
    text = mdl(
        "a = SINTEG(rate, 2, :NA:, :NA:, :NA:, :NA:, :NA:) ~ ~ |\n"
        "b = INTEG(rate, 2) ~ ~ |\n"
        "rate = 0.5 * TIME - 1 ~ ~ |\n",
        dt=0.25,
    )
    result = run(text, options)
    np.testing.assert_allclose(values(result, "a"), values(result, "b"), rtol=1e-12)


@pytest.mark.parametrize(
    ("equation", "method", "what"),
    [
        ("x = SINTEG(1, 0, 0, 1, 1, :NA:, :NA:) ~ ~ |", 0, "quant is not supported yet"),
        ("x = SINTEG(1, 0, :NA:, :NA:, :NA:, 0, 0.01) ~ ~ |", 0, "spec is not supported"),
        (f"x = SINTEG(1, 0, 0, 1, {NA5}) ~ ~ |", 1, "SINTEG with RK4 integration"),
        (f"x = SINTEG(1, 0, y, 1, {NA5}) ~ ~ |", 0, "min must be a number or :NA:"),
        ("x = SINTEG(1, 0, 0, 1) ~ ~ |", 0, "SINTEG takes 7 arguments"),
    ],
)
def test_sinteg_refused_where_undocumented(equation: str, method: int, what: str) -> None:
    with pytest.raises(ModelError, match=what):
        loads_mdl(mdl("y = 1 ~ ~ |\n" + equation + "\n", method=method), file="t.mdl")


def test_delay_material_with_a_constant_delay_time_is_delay_fixed(options: fs.Options) -> None:
    """fn_delay_material: "the same as DELAY FIXED except that delay time can be a variable"."""
    text = mdl(
        "a = DELAY MATERIAL(TIME, lag, -1, 0) ~ ~ |\n"
        "b = DELAY FIXED(TIME, lag, -1) ~ ~ |\n"
        "lag = 2 ~ ~ |\n"
    )
    result = run(text, options)
    assert list(values(result, "a")) == [-1, -1, 0, 1, 2]
    assert list(values(result, "a")) == list(values(result, "b"))


def test_delay_material_with_a_varying_delay_time_is_refused() -> None:
    text = mdl("a = DELAY MATERIAL(TIME, 2 + STEP(1, 2), 0, 0) ~ ~ |\n")
    with pytest.raises(ModelError, match="DELAY MATERIAL with a delay time that varies"):
        fs.compile_model(loads_mdl(text, file="t.mdl"))


VECTOR = "d: (d1-d5) ~ ~ |\nv[d] = 2, 1, 3, 5, 4 ~ ~ |\n"


def test_vector_lookup_interpolates_and_holds_its_ends(options: fs.Options) -> None:
    """fn_vector_lookup, mode 0: the y values of v at x = 0, 1, ..., 4 (xmin 0, xmax 4: four
    equal intervals), linear between them, the end values held beyond."""
    text = mdl(
        VECTOR + "y = VECTOR LOOKUP(v[d1], TIME, 0, 4, 0) ~ ~ |\n"
        "half = VECTOR LOOKUP(v[d1], TIME + 0.5, 0, 4, mode) ~ ~ |\n"
        "mode = 0 ~ ~ |\n"
        "out = VECTOR LOOKUP(v[d1], TIME * 3 - 4, 0, 4, 0) ~ ~ |\n"
    )
    result = run(text, options)
    assert list(values(result, "y")) == [2, 1, 3, 5, 4]
    assert list(values(result, "half")) == [1.5, 2, 4, 4.5, 4]
    assert list(values(result, "out")) == [2, 2, 3, 4, 4]


def test_vector_lookup_extrapolates_in_mode_3(options: fs.Options) -> None:
    """Mode 3, "the equivalent of LOOKUP EXTRAPOLATE": the end intervals extended."""
    text = mdl(VECTOR + "y = VECTOR LOOKUP(v[d1], TIME * 3 - 4, 0, 4, 3) ~ ~ |\n")
    assert list(values(run(text, options), "y")) == [6, 3, 3, 3, 0]


def test_vector_lookup_on_the_rows_of_a_matrix(options: fs.Options) -> None:
    """ "If vec is a multidimensional array then the length used is the number of elements in
    the last subscript": each row of m is a lookup of its own."""
    text = mdl(
        "r: (r1-r2) ~ ~ |\nc: (c1-c3) ~ ~ |\n"
        "m[r, c] = 0, 10, 20; 5, 5, 0 ~ ~ |\n"
        "y[r] = VECTOR LOOKUP(m[r, c1], TIME, 0, 4, 0) ~ ~ |\n"
    )
    result = run(text, options)
    y = np.asarray(result["y"].isel(run=0))
    np.testing.assert_allclose(y[:, 0], [0, 5, 10, 15, 20])
    np.testing.assert_allclose(y[:, 1], [5, 5, 5, 2.5, 0])


@pytest.mark.parametrize(
    ("equation", "what"),
    [
        ("y = VECTOR LOOKUP(v[d1], TIME, 0, 4, 2) ~ ~ |", "mode 2 is not supported yet"),
        ("y = VECTOR LOOKUP(v[d2], TIME, 0, 4, 0) ~ ~ |", "not the first element"),
        ("y[d] = VECTOR LOOKUP(v[d], TIME, 0, 4, 0) ~ ~ |", "the first element of its vector"),
        (
            "y = VECTOR LOOKUP(v[d1], RANDOM UNIFORM(0, 4, 0), 0, 4, 0) ~ ~ |",
            "may not hold a random or stateful function",
        ),
    ],
)
def test_vector_lookup_refused(equation: str, what: str) -> None:
    with pytest.raises(ModelError, match=what):
        loads_mdl(mdl(VECTOR + equation + "\n"), file="t.mdl")


def test_vector_lookup_mode_changed_in_a_run_fails_the_run() -> None:
    text = mdl(VECTOR + "mode = 0 ~ ~ |\ny = VECTOR LOOKUP(v[d1], TIME, 0, 4, mode) ~ ~ |\n")
    model = loads_mdl(text, file="t.mdl")
    assert fs.simulate(model)["status"].values[0] == "ok"
    assert fs.simulate(model, params={"mode": 1})["status"].values[0] == "failed"


def test_lookup_area_as_in_vensims_reference(options: fs.Options) -> None:
    """fn_lookup_area's examples: for LOOK((0,1),(1,1),(2,2)), LOOKUP AREA(LOOK, 0, 1) = 1,
    (LOOK, 2, 4) = 4 and (LOOK, .5, 2.5) = 3; by hand: from 2.5 to 0.5 is -3, from -1 to 1.5
    is 1 + 1 + 0.625 (held below the first point, then the trapezoid to 1.5)."""
    text = mdl(
        "LOOK((0,1),(1,1),(2,2)) ~ ~ |\n"
        "a = LOOKUP AREA(LOOK, 0, 1) ~ ~ |\nb = LOOKUP AREA(LOOK, 2, 4) ~ ~ |\n"
        "c = LOOKUP AREA(LOOK, .5, 2.5) ~ ~ |\nd = LOOKUP AREA(LOOK, 2.5, 0.5) ~ ~ |\n"
        "e = LOOKUP AREA(LOOK, -1, 1.5) ~ ~ |\nf = LOOKUP AREA(LOOK, 0, TIME / 2) ~ ~ |\n"
    )
    result = run(text, options)
    assert [start(result, k)[0] for k in "abcde"] == [1, 4, 3, -3, 2.625]
    assert list(values(result, "f")) == [0, 0.5, 1, 1.625, 2.5]


def test_lookup_area_refused() -> None:
    for equation, what in (
        ("y = LOOKUP AREA(v, 0, 1) ~ ~ |", "takes a lookup table"),
        ("y = LOOKUP AREA(LOOK, 0, RANDOM UNIFORM(0, 1, 0)) ~ ~ |", "may not hold a random"),
    ):
        text = mdl("v = 1 ~ ~ |\nLOOK((0,1),(1,1)) ~ ~ |\n" + equation + "\n")
        with pytest.raises(ModelError, match=what):
            loads_mdl(text, file="t.mdl")


def test_npve_values_the_stream_at_the_end_of_each_period(options: fs.Options) -> None:
    """fn_npve's equations: the discount factor starts at 1 / (1 + rate * TIME STEP), so with a
    TIME STEP of 1 the value at step k is sum over j <= k of stream / (1 + rate)^(j + 1) (as
    Excel's NPV, which the reference compares it with); NPV's starts at 1."""
    text = mdl("e = NPVE(100, 0.1, 0, 1) ~ ~ |\nn = NPV(100, 0.1, 0, 1) ~ ~ |\n", stop=2)
    result = run(text, options)
    np.testing.assert_allclose(
        values(result, "e"), np.cumsum([100 / 1.1**k for k in (1, 2, 3)]), rtol=1e-12
    )
    np.testing.assert_allclose(
        values(result, "n"), np.cumsum([100 / 1.1**k for k in (0, 1, 2)]), rtol=1e-12
    )


SEEDED = "g: (g1-g3) ~ ~ |\nbase = 37 ~ ~ |\ny[g] = RANDOM UNIFORM(0, 1, base + g) ~ ~ |\n"


def test_a_stream_id_computed_per_element(options: fs.Options) -> None:
    """stream_id: "a constant or INITIAL expression"; as in the beer game (MetaSD
    beer-game/RealBeer4-Sterman13.mdl: Order Noise Seed + Games), each element its own stream,
    the same in every run, and other streams for another base."""
    model = loads_mdl(mdl(SEEDED), file="t.mdl")
    result = fs.simulate(model, options=options, seed=np.arange(2))
    y = np.asarray(result["y"].values)  # run, time, g
    np.testing.assert_array_equal(y[0], y[1])
    assert len({tuple(y[0, :, k]) for k in range(3)}) == 3
    other = loads_mdl(mdl(SEEDED.replace("base = 37", "base = 39")), file="t.mdl")
    moved = np.asarray(fs.simulate(other, options=options)["y"].values)[0]
    np.testing.assert_array_equal(moved[:, 0], y[0, :, 2])  # 39 + 1 = 37 + 3


def test_a_stream_id_changed_by_a_run_fails_the_run() -> None:
    model = loads_mdl(mdl(SEEDED), file="t.mdl")
    assert fs.simulate(model, params={"base": 40})["status"].values[0] == "failed"


def test_a_stream_id_that_varies_is_refused() -> None:
    text = mdl("y = RANDOM UNIFORM(0, 1, 1 + TIME) ~ ~ |\n")
    with pytest.raises(ModelError, match="stream ID must be a number, a constant or"):
        fs.compile_model(loads_mdl(text, file="t.mdl"))
