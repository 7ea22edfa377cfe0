"""MIN and MAX with several arguments over arrays and array expressions.

isee's notes on Stella 10's array builtins (blog.iseesystems.com, "Working with Array Equations
in Version 10"): MIN and MAX take one or two array arguments; MAX(A) is the largest element of
A, MAX(A, 0) the largest element of A or zero, MAX(A, B) the largest across both arrays. So
each argument is read as an array function reads its argument (an array without subscripts
counts whole over the dimensions the equation is not over, ``*`` names all elements, and an
expression of starred references is computed element by element), and the smallest or
largest of all the elements together is taken. In an equation over the arrays' own dimension,
an array without subscripts is its element there, so MIN(x, y) is element by element.

Expected values by hand (x = 5, 1, 3 and y = 2, 4, 6 over R; z = 10, 20 over K); every model
runs on both VMs (the ``options`` fixture). pysimlin 0.8.5 has no array form of MIN/MAX with
two arguments (it refuses them in a scalar equation and reads ``x[*]`` as the element in an
equation over R), so it is not the reference here."""

from __future__ import annotations

import numpy as np
import pytest

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.xmile import loads_xmile

HEAD = '<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">'
DIMS = (
    '<dimensions><dim name="R"><elem name="n"/><elem name="s"/><elem name="w"/></dim>'
    '<dim name="K" size="2"/></dimensions>'
)


def aux(name: str, equation: str, *dims: str) -> str:
    over = "".join(f'<dim name="{d}"/>' for d in dims)
    over = f"<dimensions>{over}</dimensions>" if dims else ""
    return f'<aux name="{name}">{over}<eqn>{equation}</eqn></aux>'


ARRAYS = aux("x", "5, 1, 3", "R") + aux("y", "2, 4, 6", "R") + aux("z", "10, 20", "K")


def xmile(variables: str) -> str:
    return (
        f"{HEAD}<header><name>t</name></header><sim_specs><start>0</start><stop>2</stop>"
        f"<dt>1</dt></sim_specs>{DIMS}<model><variables>{ARRAYS}{variables}</variables>"
        "</model></xmile>"
    )


SCALAR = {
    "MIN(x[*] + 1, 5)": 2,  # min(6, 2, 4, 5)
    "MAX(x * 2, y)": 10,  # max(10, 2, 6, 2, 4, 6): both arrays whole
    "MIN(x - y, 0)": -3,  # min(3, -3, -3, 0)
    "MAX(x[*] * y[*], 1)": 18,  # max(10, 4, 18, 1): element by element, then the largest
    "MAX(x, z)": 20,  # the largest across two arrays over different dimensions
    "MIN(x[1:2], 0.5)": 0.5,  # min(5, 1, 0.5)
    "MAX(x[*], 4) + MIN(y[*], 3)": 7,  # 5 + 2: MAX(A, 0) is the largest of A or 0
    "MIN(TIME, 7, -1)": -1,  # scalars only: the ordinary function
}
OVER_R = {
    "MIN(x, y)": [2, 1, 3],  # element by element
    "MAX(x + 1, y * 2)": [6, 8, 12],
    "MIN(x[*], 2)": [1, 1, 1],  # x[*] is all of x: min(5, 1, 3, 2)
    "MAX(x[*] + y, 0)": [7, 9, 11],  # the largest of x[i] + y[r] over i: 5 + y[r]
    "MIN(x, z)": [5, 1, 3],  # x's element, all of z: min(x[r], 10, 20)
}


def test_min_and_max_of_arrays_in_a_scalar_equation(options: fs.Options) -> None:
    names = {f"s{i}": equation for i, equation in enumerate(SCALAR)}
    text = xmile("".join(aux(name, equation) for name, equation in names.items()))
    result = fs.simulate(loads_xmile(text, file="t.xmile"), options=options)
    for name, equation in names.items():
        got = np.asarray(result[name].isel(run=0), dtype=float)
        np.testing.assert_array_equal(got, [SCALAR[equation]] * 3, err_msg=equation)


def test_min_and_max_of_arrays_in_an_equation_over_their_dimension(
    options: fs.Options,
) -> None:
    names = {f"a{i}": equation for i, equation in enumerate(OVER_R)}
    text = xmile("".join(aux(name, equation, "R") for name, equation in names.items()))
    result = fs.simulate(loads_xmile(text, file="t.xmile"), options=options)
    for name, equation in names.items():
        got = np.asarray(result[name].isel(run=0, time=0), dtype=float)
        np.testing.assert_array_equal(got, OVER_R[equation], err_msg=equation)


@pytest.mark.parametrize(
    ("equation", "match"),
    [
        # an outer product: which elements go together is not documented
        ("MAX(x[*] * z[*], 1)", "'z' runs over dimension 'k' and another starred reference"),
        ("MIN(x[1:2] + 1, 9)", r"a range \(x\[1:2\]\) inside an expression in an array function"),
    ],
)
def test_min_and_max_forms_that_are_not_documented_are_refused(equation: str, match: str) -> None:
    with pytest.raises(ModelError, match=match) as info:
        fs.compile_model(loads_xmile(xmile(aux("v", equation)), file="t.xmile"))
    assert "t.xmile:" in str(info.value) and "'v'" in str(info.value)


def test_an_array_in_min_or_max_over_its_own_dimension_is_not_counted_whole() -> None:
    # the size check before expanding counted MAX(0, x - 1) over d as all of x for each of
    # d's elements (2,000 x 2,000 terms, over the 2,000,000 limit), though each element reads
    # only its own x; so do SUM(x) and MEAN(x * 2) there. A real reduction still counts whole.
    size = 2000
    text = f"""
name: big
time: {{start: 0, stop: 1, dt: 1}}
dimensions: {{d: {size}}}
parameters:
  x: {{dims: [d], default: 1}}
auxiliaries:
  y: {{dims: [d], equation: "MAX(0, x - 1) + MIN(x * 2, 3) + SUM(x) + MEAN(x * 2)"}}
"""
    program = fs.compile_model(fs.loads_model(text, file="big.yaml"))
    assert len(program.slot_keys) >= 2 * size
    whole = text.replace("SUM(x) + MEAN(x * 2)", "SUM(x[*])")
    with pytest.raises(fs.LimitError, match="more than the limit"):
        fs.compile_model(fs.loads_model(whole, file="big.yaml"))
