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


# -- 2. arrays as Stella uses them -----------------------------------------------------------------
# x = (5, 1, 3) over R = (north, south, west); y = (2, 2, 1) over the numbered dimension X
ARRAYS = (
    '<aux name="x"><dimensions><dim name="R"/></dimensions><eqn>5, 1, 3</eqn></aux>'
    '<aux name="y"><dimensions><dim name="X3"/></dimensions><eqn>2, 2, 1</eqn></aux>'
)
DIMS3 = (
    '<dimensions><dim name="R"><elem name="north"/><elem name="south"/><elem name="west"/>'
    '</dim><dim name="X3" size="3"/></dimensions>'
)


def scalar_values(equations: dict[str, str], options: fs.Options, stop: float = 6) -> dict:
    auxes = "".join(f'<aux name="{k}"><eqn>{v}</eqn></aux>' for k, v in equations.items())
    text = xmile(ARRAYS + auxes, dims=DIMS3, stop=stop)
    result = run(text, options)
    return {k: series(result, k) for k in equations}


def test_computed_subscripts_pick_an_element_while_the_model_runs(options: fs.Options) -> None:
    # Stella's x[INT(TIME MOD 5)+1]; XMILE 1.0 §3.7.1: a subscript may be an expression, the
    # index is the element's position, and an index outside the dimension gives 0. In range,
    # values from pysimlin 0.8.5 on the same model (it gives NaN outside, where XMILE says 0);
    # dt = 1 here, times 0..6.
    v = scalar_values(
        {
            "by_time": "x[TIME]",
            "cycling": "x[INT(TIME MOD 5) + 1]",
            "by_name": "x[k]",
            "k": "3",
            "nested": "y[x[south] + 1]",
        },
        options,
    )
    np.testing.assert_array_equal(v["by_time"], [0, 5, 1, 3, 0, 0, 0])
    np.testing.assert_array_equal(v["cycling"], [5, 1, 3, 0, 0, 5, 1])
    np.testing.assert_array_equal(v["by_name"], [3] * 7)  # k is a variable, not an element
    np.testing.assert_array_equal(v["nested"], [2] * 7)  # y[1 + 1]


def test_computed_subscript_in_a_stock_and_over_a_dimension(options: fs.Options) -> None:
    # by hand: s starts at x[INT(2.5)] = x[2] = 1 and gains p[R.west] = 3 per DT;
    # z[X3] = x[X3] + y[X3] on positions: the numbered dimension indexes the named one
    text = xmile(
        ARRAYS + '<stock name="s"><eqn>x[2.5]</eqn><inflow>f</inflow></stock>'
        '<flow name="f"><eqn>x[R.west]</eqn></flow>'
        '<aux name="z"><dimensions><dim name="X3"/></dimensions><eqn>x[X3] + y</eqn></aux>',
        dims=DIMS3,
    )
    with pytest.raises(
        ModelError, match="subscript 'x3' is a dimension, but the variable is over 'r'"
    ):
        run(text, options)  # X3 is a dimension, not a number: refused, not guessed
    text = text.replace("x[X3] + y", "x[y] + y")  # y's values (2, 2, 1) as positions of x
    result = run(text, options)
    np.testing.assert_array_equal(series(result, "s"), [1, 4, 7, 10])
    np.testing.assert_array_equal(series(result, "z")[0], [1 + 2, 1 + 2, 5 + 1])


def test_dimension_element_as_a_value_ranges_and_wildcards(options: fs.Options) -> None:
    # XMILE 1.0 §3.7.1: Location.Boston is the element's position; §3.7.1.2 ranges and
    # wildcards. Values from pysimlin 0.8.5 (R.south 2, SUM(x[1:2]) 6, SUM(x[south:west]) 4,
    # SUM(x[R.*]) 9, MIN(x[*]) 1), the rest by hand.
    v = scalar_values(
        {
            "position": "R.south * 10",
            "first_two": "SUM(x[1:2])",
            "named_range": "SUM(x[south:west])",
            "qualified_star": "SUM(x[R.*])",
            "whole": "SUM(x)",  # Stella 10: "the * is normally not needed"
            "mean": "MEAN(x)",
            "min_star": "MIN(x[*])",
            "min_two": "MIN(x, 2)",  # the smallest of all of x and 2
            "max_two": "MAX(x[*], 4)",
            "prod_range": "PROD(y[2:3])",
        },
        options,
        stop=1,
    )
    expected = {
        "position": 20,
        "first_two": 6,
        "named_range": 4,
        "qualified_star": 9,
        "whole": 9,
        "mean": 3,
        "min_star": 1,
        "min_two": 1,
        "max_two": 5,
        "prod_range": 2,
    }
    for name, value in expected.items():
        np.testing.assert_array_equal(v[name], [value, value], err_msg=name)


def test_an_array_without_subscripts_in_an_array_function_over_its_own_dimension(
    options: fs.Options,
) -> None:
    # pysimlin 0.8.5 on this model: in an equation over R, SUM(x), MEAN(x) and MAX(x, 2) are
    # element by element (5, 1, 3 / 5, 2, 3); SIZE counts the whole array (by hand)
    text = xmile(
        ARRAYS + '<aux name="w"><dimensions><dim name="R"/></dimensions>'
        "<eqn>SUM(x) + MEAN(x) * 10 + MAX(x, 2) * 100 + SIZE(x) * 1000</eqn></aux>"
        '<aux name="rows"><dimensions><dim name="R"/></dimensions><eqn>SUM(m)</eqn></aux>'
        '<aux name="m"><dimensions><dim name="R"/><dim name="X3"/></dimensions>'
        "<eqn>1, 2, 3, 4, 5, 6, 7, 8, 9</eqn></aux>",
        dims=DIMS3,
    )
    result = run(text, options)
    np.testing.assert_array_equal(series(result, "w")[0], [3555, 3211, 3333])
    np.testing.assert_array_equal(series(result, "rows")[0], [6, 15, 24])  # each row's sum


def test_stddev_size_and_rank(options: fs.Options) -> None:
    # STDDEV of (5, 1, 3): of the population, sqrt(8/3) (pysimlin 0.8.5 gives 1.632993161855452);
    # SIZE by hand. RANK (XMILE 1.0 §3.7.1.3, by hand; pysimlin does not compile it): the
    # position of the k-th smallest; ties (y = 2, 2, 1) by position, or by the tie-break
    # array; 0 for a rank no element has.
    v = scalar_values(
        {
            "sd": "STDDEV(x[*])",
            "size": "SIZE(x) + SIZE(y[*]) * 10",
            "smallest": "RANK(x, 1)",
            "largest": "RANK(x[*], SIZE(x))",
            "tie_first": "RANK(y, 2)",
            "tie_second": "RANK(y, 3)",
            "tie_broken": "RANK(y, 2, x)",
            "no_rank": "RANK(x, 4)",
            "moving": "RANK(x, TIME)",
        },
        options,
        stop=4,
    )
    np.testing.assert_allclose(v["sd"], [np.sqrt(8 / 3)] * 5, rtol=1e-15)
    assert v["size"][0] == 33
    assert (v["smallest"][0], v["largest"][0]) == (2, 1)
    assert (v["tie_first"][0], v["tie_second"][0], v["tie_broken"][0]) == (1, 2, 2)
    assert v["no_rank"][0] == 0
    np.testing.assert_array_equal(v["moving"], [0, 2, 3, 1, 0])


def test_lookup_on_per_element_graphical_functions(options: fs.Options) -> None:
    # XMILE 1.0 §4.5.3 (one graphical function per element) used the Stella way:
    # LOOKUP(g[elem], x), LOOKUP(g, x) in an equation over g's dimension, and a computed
    # element. By hand at x = 2: north 0..10 -> 0..100 gives 20, south 100..0 gives 80,
    # west 0..10 -> 5..5 gives 5.
    gf = '<element subscript="{e}"><gf><xscale min="0" max="10"/><ypts>{ys}</ypts></gf></element>'
    tables = "".join(
        gf.format(e=e, ys=ys) for e, ys in (("north", "0,100"), ("south", "100,0"), ("west", "5,5"))
    )
    text = xmile(
        f'<aux name="g"><dimensions><dim name="R"/></dimensions><eqn>TIME</eqn>{tables}</aux>'
        '<aux name="one"><eqn>LOOKUP(g[south], 2)</eqn></aux>'
        '<aux name="each"><dimensions><dim name="R"/></dimensions><eqn>LOOKUP(g, 2)</eqn></aux>'
        '<aux name="each_named"><dimensions><dim name="R"/></dimensions>'
        "<eqn>LOOKUP(g[R], 2)</eqn></aux>"
        '<aux name="computed"><eqn>LOOKUP(g[TIME], 2)</eqn></aux>',
        dims=DIMS3,
    )
    result = run(text, options)
    np.testing.assert_array_equal(series(result, "one"), [80] * 4)
    np.testing.assert_array_equal(series(result, "each")[0], [20, 80, 5])
    np.testing.assert_array_equal(series(result, "each_named")[0], [20, 80, 5])
    np.testing.assert_array_equal(series(result, "computed"), [0, 20, 80, 5])


@pytest.mark.parametrize(
    ("equation", "match"),
    [
        ("x[*] + 1", r"naming several elements \(x\[\*\], x\[dim.\*\], x\[1:3\]\) can only"),
        ("x[1:2]", "naming several elements"),
        ("SUM(x[3:1])", "the range 3:1 of dimension 'r' is empty"),
        ("SUM(x[1:4])", r"position 4 is outside dimension 'r' \(1..3\)"),
        ("SUM(x[X3.*])", "'x3.\\*' does not name the elements of dimension 'r'"),
        ("R.*", r"'R.\*' \(all elements\) can only be a subscript"),
        ("RANK(x, 1, y[1:2])", "RANK's tie-breaking array has 2 elements, not 3"),
        ("LOOKUP(x, 1)", "'x' is not a function or lookup"),
    ],
)
def test_array_forms_that_cannot_be_computed_are_refused(equation: str, match: str) -> None:
    refused(xmile(ARRAYS + f'<aux name="v"><eqn>{equation}</eqn></aux>', dims=DIMS3), match)


def test_the_yaml_language_has_the_same_array_forms(options: fs.Options) -> None:
    # the YAML language shares the parser and the compiler; by hand, dt = 1
    model = fs.loads_model(
        """
name: arrays
time: {start: 0, stop: 3, dt: 1}
dimensions:
  r: [north, south, west]
parameters:
  x: {dims: [r], default: {north: 5, south: 1, west: 3}}
auxiliaries:
  pick: {equation: "x[INT(TIME) + 1] + r.west * 100"}
  spread: {equation: "STDDEV(x[1:2]) + RANK(x, 3) * 10"}
""",
        file="arrays.yaml",
    )
    result = fs.simulate(model, options=options)
    np.testing.assert_array_equal(series(result, "pick"), [305, 301, 303, 300])
    np.testing.assert_array_equal(series(result, "spread"), [2 + 10] * 4)


def test_a_file_asking_nan_for_an_invalid_index_is_refused_only_if_it_computes_one() -> None:
    # XMILE 1.0 §2.2.1: <uses_arrays invalid_index_value="NaN"> asks NaN where we give 0
    nan = '<header><options><uses_arrays maximum_dimensions="1" invalid_index_value="NaN"/>'
    text = xmile(ARRAYS + '<aux name="v"><eqn>x[TIME]</eqn></aux>', dims=DIMS3)
    text = text.replace("<header>", nan).replace("<name>t</name></header>", "</options></header>")
    refused(text, r'invalid_index_value="NaN"')
    fine = text.replace("x[TIME]", "x[2] + SUM(x[1:2])")  # nothing computed: read as usual
    assert loads_xmile(fine).element("v").equation == "x[2] + SUM(x[1:2])"


def test_transposition(options: fs.Options) -> None:
    # XMILE 1.0 §3.7.1.1: x' reverses the dimensions. By hand: m over [R, X] holds 1..6 in
    # row-major order (XMILE's order), so m'[X, R] is [[1, 3, 5], [2, 4, 6]]; the same by
    # dimension names (plain m in an equation over [X, R]); and over X by X (the standard's
    # own example of same-named dimensions), s'[i, j] = s[j, i].
    text = xmile(
        '<aux name="m"><dimensions><dim name="R"/><dim name="X"/></dimensions>'
        "<eqn>1, 2, 3, 4, 5, 6</eqn></aux>"
        '<aux name="t"><dimensions><dim name="X"/><dim name="R"/></dimensions><eqn>m\'</eqn></aux>'
        '<aux name="by_names"><dimensions><dim name="X"/><dim name="R"/></dimensions>'
        "<eqn>m</eqn></aux>"
        '<aux name="s"><dimensions><dim name="X"/><dim name="X"/></dimensions>'
        "<eqn>1, 2, 3, 4</eqn></aux>"
        '<aux name="u"><dimensions><dim name="X"/><dim name="X"/></dimensions>'
        "<eqn>s' * TIME</eqn></aux>"
    )
    model = loads_xmile(text, file="t.xmile")
    assert model.element("t").equation == "m'"
    result = fs.simulate(model, options=options)
    np.testing.assert_array_equal(series(result, "t")[0], [[1, 3, 5], [2, 4, 6]])
    np.testing.assert_array_equal(series(result, "by_names")[0], [[1, 3, 5], [2, 4, 6]])
    np.testing.assert_array_equal(series(result, "u")[2], [[2, 6], [4, 8]])
    refused(
        xmile(
            '<aux name="m"><dimensions><dim name="R"/></dimensions><eqn>1, 2, 3</eqn></aux>'
            '<aux name="v"><eqn>m\'</eqn></aux>'
        ),
        "has 1 dimension\\(s\\) but this equation has 0",
    )


def test_a_dimension_used_twice_keeps_each_use_apart(options: fs.Options) -> None:
    # XMILE 1.0 §4.5.2 declares an array over X by X; plain s (and s[X, X]) in an equation
    # over X by X is element [i, j] of s, not [j, j] (by hand, s = 1, 2, 3, 4 row-major)
    text = xmile(
        '<aux name="s"><dimensions><dim name="X"/><dim name="X"/></dimensions>'
        "<eqn>1, 2, 3, 4</eqn></aux>"
        '<aux name="same"><dimensions><dim name="X"/><dim name="X"/></dimensions>'
        "<eqn>s * 10 + s[X, X]</eqn></aux>"
    )
    np.testing.assert_array_equal(series(run(text, options), "same")[0], [[11, 22], [33, 44]])


def test_the_new_forms_survive_export_to_xmile_and_yaml(options: fs.Options) -> None:
    # our own writers: the same results after XMILE -> Model -> XMILE / YAML -> Model
    from flywheel_sim.io.xmile import dumps_xmile
    from flywheel_sim.io.yaml.writer import dumps_yaml

    gf = '<element subscript="{e}"><gf><xscale min="0" max="10"/><ypts>{ys}</ypts></gf></element>'
    tables = "".join(
        gf.format(e=e, ys=ys) for e, ys in (("north", "0,100"), ("south", "100,0"), ("west", "5,5"))
    )
    text = xmile(
        ARRAYS + f'<aux name="g"><dimensions><dim name="R"/></dimensions><eqn>TIME</eqn>{tables}'
        "</aux>"
        '<aux name="v"><eqn>x[INT(TIME MOD 5) + 1] + R.west + SUM(x[1:2]) + STDDEV(x)'
        " + RANK(y, 2, x) + LOOKUP(g[TIME], 2) + SIZE(x[R.*])</eqn></aux>"
        '<aux name="m"><dimensions><dim name="R"/><dim name="X3"/></dimensions>'
        "<eqn>TIME</eqn></aux>"
        '<aux name="t"><dimensions><dim name="X3"/><dim name="R"/></dimensions>'
        "<eqn>m'</eqn></aux>",
        dims=DIMS3,
    )
    model = loads_xmile(text, file="t.xmile")
    want = fs.simulate(model, options=options)
    for copy in (loads_xmile(dumps_xmile(model)), fs.loads_model(dumps_yaml(model))):
        got = fs.simulate(copy, options=options)
        for name in ("v", "t"):
            np.testing.assert_array_equal(series(got, name), series(want, name), err_msg=name)


@pytest.mark.parametrize(
    "equation", ["SUM(w)", "x[INT(TIME)]", "x[k]", "SUM(x[1:100000])", "SUM(x[d.*])", "RANK(w, 1)"]
)
def test_array_forms_count_against_the_size_limit_before_expanding(equation: str) -> None:
    # each form makes one term per element of x (or w) in each of y's 100,000 elements: 10^10
    # terms, refused from the declarations (before, only x[*] was counted); w is over another
    # dimension, since plain x in an equation over d is x's own element, one term
    model = fs.loads_model(
        f"""
name: big
time: {{start: 0, stop: 1, dt: 1}}
dimensions: {{d: 100000, e: 100000}}
parameters:
  x: {{dims: [d], default: 1}}
  w: {{dims: [e], default: 1}}
  k: 2
auxiliaries:
  y: {{dims: [d], equation: "{equation}"}}
""",
        file="big.yaml",
    )
    with pytest.raises(fs.LimitError, match=r"'y' alone [0-9,]{14,} \(100,000 elements\)"):
        fs.compile_model(model)


def test_a_standalone_graphical_function_per_element_is_refused() -> None:
    gf = '<element subscript="{e}"><xscale min="0" max="1"/><ypts>0,1</ypts></element>'
    text = xmile(
        '<gf name="g"><dimensions><dim name="R"/></dimensions>'
        + "".join(gf.format(e=e) for e in ("north", "south", "west"))
        + "</gf>"
    )
    refused(text, r"standalone <gf> with a graphical function per <element> is not supported")


def test_the_array_forms_agree_with_pysimlin(options: fs.Options, tmp_path: object) -> None:
    """An independent engine on the same file: pysimlin 0.8.5 computes every variable of this
    model (the forms both engines read) the same, at every saved time."""
    simlin = pytest.importorskip("simlin")
    from pathlib import Path

    def elements(values: dict[str, object]) -> str:
        return "".join(
            f'<element subscript="{k}"><eqn>{v}</eqn></element>' for k, v in values.items()
        )

    over_r = '<dimensions><dim name="R"/></dimensions>'
    variables = (
        f'<aux name="x">{over_r}{elements({"north": 5, "south": 1, "west": "3 + TIME"})}</aux>'
        '<aux name="m"><dimensions><dim name="R"/><dim name="X3"/></dimensions>'
        + elements(
            {
                f"{r}, {p}": i
                for i, (r, p) in enumerate(
                    [(r, p) for r in ("north", "south", "west") for p in (1, 2, 3)], 1
                )
            }
        )
        + "</aux>"
        '<aux name="t"><dimensions><dim name="X3"/><dim name="R"/></dimensions><eqn>m\'</eqn></aux>'
        f'<stock name="s">{over_r}{elements({"north": 10, "south": "x[west]", "west": 0})}'
        "<inflow>f</inflow></stock>"
        f'<flow name="f">{over_r}{elements({"north": 1, "south": "-x[1]", "west": "TIME"})}</flow>'
        '<aux name="cycling"><eqn>x[INT(TIME MOD 3) + 1]</eqn></aux>'
        '<aux name="position"><eqn>R.west</eqn></aux>'
        '<aux name="ranges"><eqn>SUM(x[1:2]) + SUM(x[south:west]) * 10</eqn></aux>'
        '<aux name="stars"><eqn>SUM(x[R.*]) + MIN(x[*]) * 100 + SIZE(x)</eqn></aux>'
        '<aux name="sd"><eqn>STDDEV(x[*])</eqn></aux>'
        f'<aux name="w1">{over_r}<eqn>SUM(x)</eqn></aux>'
        f'<aux name="w2">{over_r}<eqn>MAX(x, 2) * 10</eqn></aux>'
        f'<aux name="w3">{over_r}<eqn>MEAN(x) * 100</eqn></aux>'
    )
    text = xmile(variables, dims=DIMS3, stop=6).replace(
        "<header>", '<header><vendor>test</vendor><product version="1">test</product>'
    )
    path = Path(str(tmp_path)) / "arrays.xmile"
    path.write_text(text)
    theirs = simlin.load(str(path)).run(analyze_loops=False).results
    ours = run(text, options)
    compared = 0
    for column in theirs.columns:
        base, _, rest = column.partition("[")
        if base not in ours.variables or "time" not in ours[base].dims:
            continue
        data = ours[base].isel(run=0)
        for dim, element in zip(
            [d for d in data.dims if d != "time"], rest.rstrip("]").split(","), strict=False
        ):
            data = data.sel({dim: element})
        np.testing.assert_allclose(
            np.asarray(data), theirs[column].to_numpy(), rtol=1e-12, atol=1e-12, err_msg=column
        )
        compared += 1
    assert compared >= 25


def test_dimension_positions(options: fs.Options) -> None:
    # XMILE 1.0 §3.7.1.1: A over [M, N, N] into B over [N, N, M] is A[M, @1, @2], @k being
    # the element of B's own k-th dimension; A[M, @2, @1] swaps the two N. By hand, with
    # A[r, i, j] = 4 (r - 1) + 2 (i - 1) + j (row-major 1..12).
    text = xmile(
        '<aux name="a"><dimensions><dim name="R"/><dim name="X"/><dim name="X"/></dimensions>'
        "<eqn>1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12</eqn></aux>"
        '<aux name="b"><dimensions><dim name="X"/><dim name="X"/><dim name="R"/></dimensions>'
        "<eqn>a[R, @1, @2]</eqn></aux>"
        '<aux name="c"><dimensions><dim name="X"/><dim name="X"/><dim name="R"/></dimensions>'
        "<eqn>a[R, @2, @1]</eqn></aux>"
    )
    model = loads_xmile(text, file="t.xmile")
    assert model.element("c").equation == "a[r, @2, @1]"
    result = fs.simulate(model, options=options)
    b, c = series(result, "b")[0], series(result, "c")[0]
    for i in range(2):
        for j in range(2):
            for r in range(3):
                assert b[i, j, r] == 4 * r + 2 * i + j + 1
                assert c[i, j, r] == 4 * r + 2 * j + i + 1
    refused(
        xmile(ARRAYS + '<aux name="v"><eqn>x[@1]</eqn></aux>', dims=DIMS3),
        "@1: this equation has 0 dimension",
    )


# -- 3. array functions over an expression of starred references ---------------------------------
# XMILE 1.0 §3.7.1 (array functions of arrays) and Stella's apply-to-all equations ("dimension
# names are optional ... still needed when the dimensions do not match"): the expression is
# evaluated element by element, references being matched by dimension name, then reduced.
# Seen in the corpus models sl_array_multi_source, sl_array_sum_expr and sl_array_broadcast.
SALES_DIMS = (
    '<dimensions><dim name="Region"><elem name="north"/><elem name="south"/></dim>'
    '<dim name="Product"><elem name="a"/><elem name="b"/><elem name="c"/></dim>'
    '<dim name="Other"><elem name="o1"/><elem name="o2"/></dim></dimensions>'
)


def over(name: str, dims: list[str], values: dict[str, object]) -> str:
    own = "".join(f'<dim name="{d}"/>' for d in dims)
    elements = "".join(
        f'<element subscript="{k}"><eqn>{v}</eqn></element>' for k, v in values.items()
    )
    return f'<aux name="{name}"><dimensions>{own}</dimensions>{elements}</aux>'


SALES = (
    # sales[Region, Product]: north 1 2 3, south 4 5 6 (+ TIME); price[Region] 10 20;
    # weight[Product] 1 10 100; other[Other] 7 8
    over(
        "sales",
        ["Region", "Product"],
        {
            f"{r}, {p}": f"{v} + TIME"
            for (r, p), v in zip(
                [(r, p) for r in ("north", "south") for p in ("a", "b", "c")],
                range(1, 7),
                strict=True,
            )
        },
    )
    + over("price", ["Region"], {"north": 10, "south": 20})
    + over("weight", ["Product"], {"a": 1, "b": 10, "c": 100})
    + over("oth", ["Other"], {"o1": 7, "o2": 8})
    + over("v2", ["Product"], {"a": 3, "b": 2, "c": 1})
)


def test_an_expression_of_starred_references_over_one_dimension(options: fs.Options) -> None:
    # weight = 1 10 100, v2 = 3 2 1; by hand at TIME 0:
    # SUM(weight + v2) = 4 + 12 + 101 = 117; SUM(weight * v2) = 3 + 20 + 100 = 123
    # MEAN(weight - v2) = (-2 + 8 + 99) / 3 = 35; SUM(weight[*] + 5) = 111 + 15 = 126
    # PROD(v2 + 1) = 4 * 3 * 2 = 24; MIN(weight - v2) = -2; MAX(-weight) = -1
    # STDDEV(v2 * 2) = population stddev of 6 4 2 = sqrt(8/3); SUM(weight * 2) (no star) = 222
    # SUM(ABS(v2[*] - 2)) = 1 + 0 + 1 = 2; SUM(IF v2 > 1 THEN weight ELSE 0) = 11
    equations = {
        "s1": "SUM(weight[*] + v2[*])",
        "s2": "SUM(weight[*] * v2[*])",
        "s3": "MEAN(weight[*] - v2[*])",
        "s4": "SUM(weight[*] + 5)",
        "s5": "PROD(v2[*] + 1)",
        "s6": "MIN(weight[*] - v2[*])",
        "s7": "MAX(-weight[*])",
        "s8": "STDDEV(v2[Product.*] * 2)",
        "s9": "SUM(weight * 2)",
        "s10": "SUM(ABS(v2[*] - 2))",
        "s11": "SUM(IF v2[*] > 1 THEN weight[*] ELSE 0)",
        "s12": "SUM(weight[*] * v2[*]) / SUM(v2[*])",
    }
    text = xmile(
        SALES + "".join(f'<aux name="{k}"><eqn>{v}</eqn></aux>' for k, v in equations.items()),
        dims=SALES_DIMS,
    )
    result = run(text, options)
    want = {"s1": 117, "s2": 123, "s3": 35, "s4": 126, "s5": 24, "s6": -2, "s7": -1}
    want |= {"s8": (8 / 3) ** 0.5, "s9": 222, "s10": 2, "s11": 11, "s12": 123 / 6}
    for name, value in want.items():
        np.testing.assert_allclose(series(result, name), [value] * 4, rtol=1e-15, err_msg=name)


def test_a_starred_reference_over_two_dimensions_with_one_over_one(options: fs.Options) -> None:
    # matched by dimension NAME, whichever position it has in the two-dimensional array;
    # by hand at TIME t (sales + t):
    # SUM(sales * price) = (1+2+3+3t)*10 + (4+5+6+3t)*20 = 360 + 90t
    # SUM(sales * weight) = (1+t)*1 + (2+t)*10 + (3+t)*100 + (4+t)*1 + (5+t)*10 + (6+t)*100
    #                     = 321 + 654 + 222t = 975 + 222t
    # MEAN(sales * price) = (360 + 90t) / 6; SUM(price[*] * sales[*, *]) is the same sum
    # by_region[Region] = SUM(sales[Region, *] * weight[*]): north 321 + 111t, south 654 + 111t
    equations = {
        "total": "SUM(sales[*,*] * price[*])",
        "weighted": "SUM(sales[*, *] * weight[*])",
        "mean": "MEAN(sales[*,*] * price[*])",
        "swapped": "SUM(price[*] * sales[*, *])",
        "bare": "SUM(sales * weight)",
    }
    text = xmile(
        SALES
        + "".join(f'<aux name="{k}"><eqn>{v}</eqn></aux>' for k, v in equations.items())
        + '<aux name="by_region"><dimensions><dim name="Region"/></dimensions>'
        "<eqn>SUM(sales[Region, *] * weight[*])</eqn></aux>",
        dims=SALES_DIMS,
    )
    result = run(text, options)
    t = np.arange(4.0)
    np.testing.assert_allclose(series(result, "total"), 360 + 90 * t, rtol=1e-15)
    np.testing.assert_allclose(series(result, "swapped"), 360 + 90 * t, rtol=1e-15)
    np.testing.assert_allclose(series(result, "mean"), (360 + 90 * t) / 6, rtol=1e-15)
    np.testing.assert_allclose(series(result, "weighted"), 975 + 222 * t, rtol=1e-15)
    np.testing.assert_allclose(series(result, "bare"), 975 + 222 * t, rtol=1e-15)
    np.testing.assert_allclose(
        series(result, "by_region"), np.stack([321 + 111 * t, 654 + 111 * t], axis=1)
    )


@pytest.mark.parametrize(
    ("equation", "match"),
    [
        # two different dimensions with no common name (an outer product is not documented)
        ("SUM(weight[*] * oth[*])", r"'oth' runs over dimension 'other' and another"),
        ("SUM(price[*] + weight[*])", r"runs over dimension 'product' and another starred"),
        # a dimension starred twice in one reference (X by X): which elements pair is ambiguous
        ("SUM(xx[*, *] * weight[*])", r"'xx' is starred twice over dimension 'product'"),
        # a range is not a whole dimension: no documented matching
        ("SUM(weight[1:2] + v2[*])", r"a range \(weight\[1:2\]\) inside an expression"),
        # outside an array function, still refused
        ("weight[*] + v2[*]", "naming several elements"),
    ],
)
def test_expressions_whose_matching_is_not_documented_are_refused(
    equation: str, match: str
) -> None:
    square = '<aux name="xx"><dimensions><dim name="Product"/><dim name="Product"/></dimensions>'
    square += "<eqn>1</eqn></aux>"
    error = refused(
        xmile(SALES + square + f'<aux name="v"><eqn>{equation}</eqn></aux>', dims=SALES_DIMS),
        match,
    )
    assert "\n" not in str(error)
    assert error.variable == "v"


def test_the_yaml_language_has_array_functions_over_expressions(options: fs.Options) -> None:
    # the same parser and compiler; by hand: SUM(x + y) = 6 + 60 + 3 = 69 ... see each line
    model = fs.loads_model(
        """
name: arrays
time: {start: 0, stop: 2, dt: 1}
dimensions:
  r: [north, south]
  p: [a, b, c]
parameters:
  x: {dims: [r], default: {north: 2, south: 3}}
  m: {dims: [r, p], default: 1}
  y: {dims: [p], default: {a: 1, b: 2, c: 4}}
auxiliaries:
  total: {equation: "SUM(m[*, *] * x[*])"}
  dot: {equation: "SUM(m[north, *] * y[*] + 1)"}
""",
        file="arrays.yaml",
    )
    result = fs.simulate(model, options=options)
    # SUM(m * x) = 3 * 2 + 3 * 3 = 15; SUM(m[north, *] * y + 1) = (1 + 2 + 4) + 3 = 10
    np.testing.assert_array_equal(series(result, "total"), [15] * 3)
    np.testing.assert_array_equal(series(result, "dot"), [10] * 3)


@pytest.mark.parametrize("equation", ["SUM(x[*] + 1)", "SUM(w * 2)", "MEAN(x[*] * x[*])"])
def test_expressions_in_array_functions_count_against_the_size_limit(equation: str) -> None:
    # one term per element of x in each of y's 100,000 elements: 10^10 terms, refused first
    # (w is over another dimension: plain x in an equation over d is its own element)
    model = fs.loads_model(
        f"""
name: big
time: {{start: 0, stop: 1, dt: 1}}
dimensions: {{d: 100000, e: 2, f: 100000}}
parameters:
  x: {{dims: [d], default: 1}}
  w: {{dims: [f], default: 1}}
auxiliaries:
  y: {{dims: [e, d], equation: "{equation}"}}
""",
        file="big.yaml",
    )
    with pytest.raises(fs.LimitError, match=r"'y' alone [0-9,]{14,} \(200,000 elements\)"):
        fs.compile_model(model)


def test_array_functions_over_expressions_agree_with_pysimlin(
    options: fs.Options, tmp_path: object
) -> None:
    """pysimlin 0.8.5 on the same file computes these the same (it has no PROD of an
    expression, left out here)."""
    simlin = pytest.importorskip("simlin")
    from pathlib import Path

    equations = {
        "s1": "SUM(weight[*] + v2[*])",
        "s3": "MEAN(weight[*] - v2[*])",
        "s4": "SUM(weight[*] + 5)",
        "s6": "MIN(weight[*] - v2[*])",
        "s8": "STDDEV(v2[*] * 2)",
        "s10": "SUM(ABS(v2[*] - 2))",
        "total": "SUM(sales[*,*] * price[*])",
        "weighted": "SUM(sales[*, *] * weight[*])",
        "swapped": "SUM(price[*] * sales[*, *])",
        "bare": "SUM(sales * weight)",
    }
    text = xmile(
        SALES + "".join(f'<aux name="{k}"><eqn>{v}</eqn></aux>' for k, v in equations.items()),
        dims=SALES_DIMS,
    ).replace("<header>", '<header><vendor>test</vendor><product version="1">test</product>')
    path = Path(str(tmp_path)) / "expressions.xmile"
    path.write_text(text)
    theirs = simlin.load(str(path)).run(analyze_loops=False).results
    ours = run(text, options)
    for name in equations:
        np.testing.assert_allclose(
            series(ours, name), theirs[name].to_numpy(), rtol=1e-12, atol=1e-12, err_msg=name
        )


def test_functions_inside_the_expression_run_per_element_and_survive_export(
    options: fs.Options,
) -> None:
    from flywheel_sim.io.xmile import dumps_xmile
    from flywheel_sim.io.yaml.writer import dumps_yaml

    # weight = 1 10 100. DELAY1 per element (delay 1, dt 1, Euler): the output is the input
    # of one DT before, 0 at first: SUM = 0, 0, 111 * 1, 111 * 2. The graphical function g maps
    # 0..100 to 0..200: SUM(g(weight)) = 2 + 20 + 200 = 222
    extra = (
        '<aux name="d"><eqn>SUM(DELAY1(weight[*] * TIME, 1))</eqn></aux>'
        '<aux name="g"><gf><xscale min="0" max="100"/><ypts>0,200</ypts></gf><eqn>TIME</eqn></aux>'
        '<aux name="via_g"><eqn>SUM(LOOKUP(g, weight[*]))</eqn></aux>'
        '<aux name="total"><eqn>SUM(sales[*,*] * price[*])</eqn></aux>'
    )
    model = loads_xmile(xmile(SALES + extra, dims=SALES_DIMS), file="t.xmile")
    result = fs.simulate(model, options=options)
    np.testing.assert_array_equal(series(result, "d"), [0, 0, 111, 222])
    np.testing.assert_array_equal(series(result, "via_g"), [222] * 4)
    for copy in (loads_xmile(dumps_xmile(model)), fs.loads_model(dumps_yaml(model))):
        got = fs.simulate(copy, options=options)
        for name in ("d", "via_g", "total"):
            np.testing.assert_array_equal(series(got, name), series(result, name), err_msg=name)


def test_a_lookup_of_each_element_inside_an_array_function(options: fs.Options) -> None:
    # the table is named, the input starred: g maps 0..100 to 0..200, w = 1 10 100:
    # SUM(LOOKUP(g, w[*])) = 2 + 20 + 200 = 222; SUM(g(w[*]) + 1) = 222 + 3 = 225
    model = fs.loads_model(
        """
name: a
time: {start: 0, stop: 1, dt: 1}
dimensions: {p: [a, b, c]}
parameters:
  w: {dims: [p], default: {a: 1, b: 10, c: 100}}
lookups:
  g: {points: [[0, 0], [100, 200]]}
auxiliaries:
  y: {equation: "SUM(LOOKUP(g, w[*]))"}
  z: {equation: "SUM(g(w[*]) + 1)"}
""",
        file="a.yaml",
    )
    result = fs.simulate(model, options=options)
    np.testing.assert_array_equal(series(result, "y"), [222, 222])
    np.testing.assert_array_equal(series(result, "z"), [225, 225])


def test_transposing_a_slice(options: fs.Options) -> None:
    # XMILE 1.0 §3.7.1.1's transposition applied to the slice the subscripts leave
    # (A[M, 1, N]'): the subscripts that fix one element stay, the dimensions left ([R, K])
    # are reversed into the equation's ([K, R]). By hand, a over [R, X, K] holds 1..12 row-major, so
    # a[r_i, x_j, k_l] = 4i + 2j + l + 1 (0-based i, j, l): t[k_l, r_i] = a[r_i, x1, k_l] =
    # 4i + l + 1; over dimensions of the same sizes but other names ([Q, P]) elements go
    # by position: u[q_l, p_i] = a[r_i, x2, k_l] = 4i + l + 3
    dims = (
        '<dimensions><dim name="R"><elem name="north"/><elem name="south"/><elem name="west"/>'
        '</dim><dim name="X"><elem name="x1"/><elem name="x2"/></dim><dim name="K" size="2"/>'
        '<dim name="P"><elem name="p1"/><elem name="p2"/><elem name="p3"/></dim>'
        '<dim name="Q"><elem name="q1"/><elem name="q2"/></dim></dimensions>'
    )
    values = ", ".join(str(i) for i in range(1, 13))
    text = xmile(
        '<aux name="a"><dimensions><dim name="R"/><dim name="X"/><dim name="K"/></dimensions>'
        f"<eqn>{values}</eqn></aux>"
        '<aux name="t"><dimensions><dim name="K"/><dim name="R"/></dimensions>'
        "<eqn>a[R, 1, K]'</eqn></aux>"
        '<aux name="u"><dimensions><dim name="Q"/><dim name="P"/></dimensions>'
        "<eqn>a[*, x2, K]' + TIME</eqn></aux>",
        dims=dims,
    )
    result = run(text, options)
    np.testing.assert_array_equal(series(result, "t")[0], [[1, 5, 9], [2, 6, 10]])
    np.testing.assert_array_equal(series(result, "u")[1], [[4, 8, 12], [5, 9, 13]])
    for equation, over, match in [
        ("a[R, 1:2, K]'", '<dim name="K"/><dim name="R"/>', "not a range, another dimension"),
        ("a[R, 1, K]'", "", "has 2 dimension\\(s\\) but this equation has 0"),
        ("a[R, 1, K]'", '<dim name="P"/><dim name="Q"/>', "dimension 'r' has 3 elements and 'q' 2"),
    ]:
        bad = text.replace(
            "</variables>",
            f'<aux name="v"><dimensions>{over}</dimensions><eqn>{equation}</eqn></aux></variables>',
        )
        refused(bad, match)
