"""XMILE arrays as Stella and the XMILE 1.0 standard write them: per-element equations,
graphical functions and initial values, numbered elements, and the array forms of equations.

Every expected value is computed by hand (the comment says how) or by pysimlin where noted;
every model runs on both VMs (the ``options`` fixture)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.xmile import loads_xmile

HEAD = '<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">'
DIMS = (
    '<dimensions><dim name="R"><elem name="north"/><elem name="south"/><elem name="west"/>'
    '</dim><dim name="X" size="2"/></dimensions>'
)


def xmile(variables: str, *, dims: str = DIMS, stop: float = 3) -> str:
    return (
        f"{HEAD}<header><name>t</name></header><sim_specs><start>0</start><stop>{stop}</stop>"
        f"<dt>1</dt></sim_specs>{dims}<model><variables>{variables}</variables></model></xmile>"
    )


def run(text: str, options: fs.Options) -> xr.Dataset:
    return fs.simulate(loads_xmile(text, file="t.xmile"), options=options)


def series(result: xr.Dataset, name: str) -> np.ndarray:
    return np.asarray(result[name].isel(run=0), dtype=float)


def refused(text: str, match: str) -> ModelError:
    with pytest.raises(ModelError, match=match) as info:
        fs.compile_model(loads_xmile(text, file="t.xmile"))
    assert "t.xmile" in str(info.value)
    return info.value


# -- 1. each element its own equation ------------------------------------------------------------
def test_non_apply_to_all_example_of_the_standard(options: fs.Options) -> None:
    # XMILE 1.0 §4.5.2: a 2D array over X by X (X of size 2), one equation per element,
    # subscripts written as positions; by hand: [1,1]=TIME [1,2]=2*TIME [2,1]=5*TIME [2,2]=11*TIME
    text = xmile(
        '<aux name="not_apply_to_all"><dimensions><dim name="X"/><dim name="X"/></dimensions>'
        '<element subscript="1,1"><eqn>TIME</eqn></element>'
        '<element subscript="1,2"><eqn>2*TIME</eqn></element>'
        '<element subscript="2,1"><eqn>5*TIME</eqn></element>'
        '<element subscript="2,2"><eqn>11*TIME</eqn></element><units>months</units></aux>'
    )
    values = series(run(text, options), "not_apply_to_all")
    np.testing.assert_array_equal(values[3], [[3.0, 6.0], [15.0, 33.0]])


def test_each_element_keeps_its_own_equation_initial_value_and_flow(options: fs.Options) -> None:
    # seen in Stella models: an arrayed stock with per-element initial values, an arrayed flow
    # with per-element equations, 2D elements written "south, 2" and elements given by
    # position ("2" for south). By hand, Euler with dt 1: s[r](t) = s0[r] + t * f[r].
    text = xmile(
        '<stock name="s"><dimensions><dim name="R"/></dimensions>'
        '<element subscript="north"><eqn>10</eqn></element>'
        '<element subscript="2"><eqn>20 + k</eqn></element>'
        '<element subscript="West"><eqn>30</eqn></element><inflow>f</inflow></stock>'
        '<flow name="f"><dimensions><dim name="R"/></dimensions>'
        '<element subscript="north"><eqn>1</eqn></element>'
        '<element subscript="south"><eqn>k * 2</eqn></element>'
        '<element subscript="west"><eqn>-3</eqn></element></flow>'
        '<aux name="k"><eqn>5</eqn></aux>'
        '<aux name="m"><dimensions><dim name="R"/><dim name="X"/></dimensions>'
        '<element subscript="north, 1"><eqn>1</eqn></element>'
        '<element subscript="north, 2"><eqn>2</eqn></element>'
        '<element subscript="south, 1"><eqn>3</eqn></element>'
        '<element subscript="south, 2"><eqn>TIME</eqn></element>'
        '<element subscript="3, 1"><eqn>5</eqn></element>'
        '<element subscript="west,2"><eqn>6</eqn></element></aux>'
    )
    result = run(text, options)
    t = np.arange(4.0)
    s = series(result, "s")
    np.testing.assert_array_equal(s[:, 0], 10 + t)
    np.testing.assert_array_equal(s[:, 1], 25 + 10 * t)
    np.testing.assert_array_equal(s[:, 2], 30 - 3 * t)
    np.testing.assert_array_equal(series(result, "m")[2], [[1, 2], [3, 2], [5, 6]])


def test_several_eqn_children_are_refused_not_read_as_the_first() -> None:
    # the issue: an arrayed variable with several <eqn>s gave every element the first one
    text = xmile(
        '<aux name="a"><dimensions><dim name="R"/></dimensions>'
        "<eqn>1</eqn><eqn>2</eqn><eqn>3</eqn></aux>"
    )
    error = refused(text, r'<aux name="a"> has 3 <eqn>s')
    assert error.line == 1
    text = xmile(
        '<aux name="a"><dimensions><dim name="R"/></dimensions><eqn>0</eqn>'
        '<element subscript="north"><eqn>1</eqn><eqn>2</eqn></element></aux>'
    )
    refused(text, r"<element subscript=\"north\"> of 'a' has 2 <eqn>s")


@pytest.mark.parametrize(
    ("elements", "match"),
    [
        (
            '<element subscript="north"><eqn>1</eqn></element>'
            '<element subscript="North"><eqn>2</eqn></element>',
            r"element \[north\] of 'a' is given twice",
        ),
        (
            '<element subscript="east"><eqn>1</eqn></element>',
            r"'east' is not an element of dimension 'R'",
        ),
        (
            '<element subscript="4"><eqn>1</eqn></element>',
            r"'4' is not an element of dimension 'R'",
        ),
        (
            '<element subscript="north, 1"><eqn>1</eqn></element>',
            r"gives 2 index\(es\) but 'a' has 1 dimension",
        ),
        (
            '<element subscript="north"><eqn>1</eqn></element>'
            '<element subscript="south"><eqn>1</eqn></element>',
            r"element \[west\] of 'a' has no equation",
        ),
        ('<element subscript="north"/>', r"element \[north\] of 'a' has no equation"),
        ("<element><eqn>1</eqn></element>", r"an <element> of 'a' has no subscript"),
    ],
)
def test_elements_that_cannot_be_read_are_refused(elements: str, match: str) -> None:
    refused(xmile(f'<aux name="a"><dimensions><dim name="R"/></dimensions>{elements}</aux>'), match)


def test_element_in_a_variable_without_dimensions_is_refused() -> None:
    refused(
        xmile('<aux name="a"><element subscript="north"><eqn>1</eqn></element></aux>'),
        "<element subscript=...> in 'a', which has no <dimensions>",
    )


def test_a_shared_graphical_function_is_not_applied_on_top_of_an_elements_own(
    options: fs.Options,
) -> None:
    # XMILE 1.0 §4.5.3: elements with their own <gf> use it; here the variable also has one,
    # which the element without its own (west) uses. Input TIME; by hand at TIME = 2:
    # north: 0..10 -> 0..100 at 2 = 20; south: 0..10 -> 100..0 at 2 = 80; west: shared 0..4 -> 0..1
    # at 2 = 0.5. (Before, north and south were looked up twice: 20 went through the shared gf.)
    gf = '<gf><xscale min="0" max="{hi}"/><ypts>{ys}</ypts></gf>'
    text = xmile(
        '<aux name="g"><dimensions><dim name="R"/></dimensions><eqn>TIME</eqn>'
        + gf.format(hi=4, ys="0,1")
        + '<element subscript="north">'
        + gf.format(hi=10, ys="0,100")
        + '</element><element subscript="south">'
        + gf.format(hi=10, ys="100,0")
        + "</element></aux>"
    )
    np.testing.assert_allclose(series(run(text, options), "g")[2], [20.0, 80.0, 0.5])
