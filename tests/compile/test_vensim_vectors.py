"""Vensim's vector functions (compile/vectors.py): ELMCOUNT, ELEMENT_AT (VECTOR ELM MAP),
VECTOR_RANK, VECTOR_SORT_ORDER, VECTOR_SELECT, and a dimension's name as its element's
position; values by hand from the examples and definitions of Vensim's reference manual
("Arrays, Vectors, and Subscripts"). Both virtual machines."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim import Options
from flywheel_sim.errors import ModelError

NUMPY, NUMBA = Options(backend="numpy"), Options(backend="numba")


@pytest.fixture(params=[NUMPY, NUMBA], ids=["numpy", "numba"])
def opts(request: pytest.FixtureRequest) -> Options:
    option: Options = request.param
    return option


HEAD = """
time: {start: 0, stop: 1, dt: 1}
dimensions:
  company: [c1, c2, c3, c4, c5]
  stage: [s1, s2, s3]
  branch: [b1, b2, b3, b4]
"""


def run(body: str, opts: Options) -> xr.Dataset:
    return fs.simulate(fs.loads_model(HEAD + body), options=opts)


def values(ds: xr.Dataset, name: str) -> list[float]:
    """The values of ``name`` in run 0 at the start time (flat)."""
    return [float(v) for v in np.asarray(ds[name].values)[0, 0].reshape(-1)]


def test_elmcount_and_the_position_of_the_equations_element(opts: Options) -> None:
    ds = run(
        """
auxiliaries:
  n: ELMCOUNT(company)
  pos: {dims: [stage], equation: stage * 10 + ELMCOUNT(stage)}
""",
        opts,
    )
    assert values(ds, "n") == [5.0]
    assert values(ds, "pos") == [13.0, 23.0, 33.0]


def test_element_at_is_vensims_elm_map(opts: Options) -> None:
    """Vensim's aging chain: inflow[stage] = IF THEN ELSE(stage = stage1, start,
    VECTOR ELM MAP(outflow[stage], -1)): the element before, by position; the unused
    branch may fall outside the array."""
    ds = run(
        """
parameters:
  outflow: {dims: [stage], default: {s1: 10, s2: 20, s3: 30}}
auxiliaries:
  inflow: {dims: [stage], equation: "IF stage = 1 THEN 5 ELSE ELEMENT_AT(outflow[*], stage - 1)"}
  third: ELEMENT_AT(outflow[*], 3.7)
""",
        opts,
    )
    assert values(ds, "inflow") == [5.0, 10.0, 20.0]
    assert values(ds, "third") == [30.0]


def test_element_at_outside_the_array_fails_the_run(opts: Options) -> None:
    ds = run(
        """
parameters:
  outflow: {dims: [stage], default: {s1: 10, s2: 20, s3: 30}}
auxiliaries:
  beyond: ELEMENT_AT(outflow[*], 4)
""",
        opts,
    )
    assert ds["status"].values[0] == "failed"


def test_vector_rank_and_sort_order(opts: Options) -> None:
    """revenue = 5000, 3000, 8000, 3000, 1000: ascending ranks 4, 2, 5, 3, 1 (the tie in
    order of position), descending 2, 3, 1, 4, 5; the sort order (0-based indices of the
    sorted elements) ascending 4, 1, 3, 0, 2 and descending 2, 0, 1, 3, 4."""
    ds = run(
        """
parameters:
  revenue: {dims: [company], default: {c1: 5000, c2: 3000, c3: 8000, c4: 3000, c5: 1000}}
auxiliaries:
  up: {dims: [company], equation: "VECTOR_RANK(revenue[*], 1)"}
  down: {dims: [company], equation: "VECTOR_RANK(revenue[*], -1)"}
  order: {dims: [company], equation: "VECTOR_SORT_ORDER(revenue[*], 1)"}
  reverse: {dims: [company], equation: "VECTOR_SORT_ORDER(revenue[*], 0)"}
  smallest: ELEMENT_AT(revenue[*], 1 + order[c1])
""",
        opts,
    )
    assert values(ds, "up") == [4.0, 2.0, 5.0, 3.0, 1.0]
    assert values(ds, "down") == [2.0, 3.0, 1.0, 4.0, 5.0]
    assert values(ds, "order") == [4.0, 1.0, 3.0, 0.0, 2.0]
    assert values(ds, "reverse") == [2.0, 0.0, 1.0, 3.0, 4.0]
    assert values(ds, "smallest") == [1000.0]  # Vensim's "minrev" example


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (0, 2 * 3 + 1 * 5),  # weighted sum
        (1, (2 * 3) * (1 * 5)),  # weighted product
        (2, 5.0),  # weighted minimum: min(6, 5)
        (3, 6.0),
        (4, 5.5),  # mean of 6 and 5
        (5, 2.0**3 * 1.0**5),  # product of selection ^ value
        (6, 8.0),  # sum of the selected values 3 + 5
        (7, 15.0),
        (8, 3.0),
        (9, 5.0),
        (10, 4.0),
    ],
)
def test_vector_select_actions(action: int, expected: float, opts: Options) -> None:
    ds = run(
        f"""
parameters:
  sel: {{dims: [stage], default: {{s1: 2, s2: 0, s3: 1}}}}
  val: {{dims: [stage], default: {{s1: 3, s2: 100, s3: 5}}}}
auxiliaries:
  y: VECTOR_SELECT(sel[*], val[*], -1, {action}, 0)
""",
        opts,
    )
    assert values(ds, "y") == [pytest.approx(expected)]


def test_vector_select_missing_and_errors(opts: Options) -> None:
    ds = run(
        """
parameters:
  none: {dims: [stage], default: 0}
  two: {dims: [stage], default: {s1: 1, s2: 1, s3: 0}}
  val: {dims: [stage], default: {s1: 3, s2: 4, s3: 5}}
auxiliaries:
  missing: VECTOR_SELECT(none[*], val[*], -1, 0, 0)
  several: VECTOR_SELECT(two[*], val[*], -1, 0, 0)
""",
        opts,
    )
    assert values(ds, "missing") == [-1.0]
    assert values(ds, "several") == [7.0]
    for error, selection in ((1, "none"), (2, "two"), (3, "none"), (3, "two")):
        failed = run(
            f"""
parameters:
  none: {{dims: [stage], default: 0}}
  two: {{dims: [stage], default: {{s1: 1, s2: 1, s3: 0}}}}
  val: {{dims: [stage], default: {{s1: 3, s2: 4, s3: 5}}}}
auxiliaries:
  y: VECTOR_SELECT({selection}[*], val[*], -1, 0, {error})
""",
            opts,
        )
        assert failed["status"].values[0] == "failed", (error, selection)


def test_vector_functions_refuse_what_they_cannot_do() -> None:
    for equation, message in (
        ("ELMCOUNT(x)", "ELMCOUNT takes the name of a dimension"),
        ("VECTOR_RANK(x[*], 1)", "its equation must be over a dimension"),
        ("VECTOR_SELECT(x[*], x[*], 0, 11, 0)", "action must be a number from 0 to 10"),
    ):
        model = fs.loads_model(
            HEAD
            + f"parameters:\n  x: {{dims: [stage], default: 1}}\nauxiliaries:\n  y: {equation}\n"
        )
        with pytest.raises(ModelError, match=message):
            fs.compile_model(model)


@pytest.mark.parametrize(
    ("supply", "expected"),
    [
        # priorities 10, 9, 7, 2, requests 3, 6, 2.5, 2, width 3: the level L clears
        # (10 - L) = 1 at L = 9: only the first is served
        (1.0, [1.0, 0.0, 0.0, 0.0]),
        # (10 - L) + 2 (9 - L) = 5 at L = 23/3
        (5.0, [7 / 3, 8 / 3, 0.0, 0.0]),
        # 3 + 2 (2 + x) + 2.5 x / 3 = 9 at x = 7 - L = 12/17
        (9.0, [3.0, 92 / 17, 10 / 17, 0.0]),
        (20.0, [3.0, 6.0, 2.5, 2.0]),  # enough for every request
    ],
)
def test_allocate_by_priority(supply: float, expected: list[float], opts: Options) -> None:
    """Vensim's ALLOCATE BY PRIORITY: "When the distance between any two priorities exceeds
    width and the higher priority does not receive its full request the lower priority will
    receive nothing"; by hand with rectangular priority profiles of the width (PySD 3.14's
    allocate_by_priority gives the same four allocations)."""
    ds = run(
        f"""
parameters:
  request: {{dims: [branch], default: {{b1: 3, b2: 6, b3: 2.5, b4: 2}}}}
  priority: {{dims: [branch], default: {{b1: 10, b2: 9, b3: 7, b4: 2}}}}
auxiliaries:
  shipped:
    dims: [branch]
    equation: ALLOCATE_BY_PRIORITY(request[*], priority[*], 4, 3, {supply})
  total: SUM(shipped[*])
""",
        opts,
    )
    np.testing.assert_allclose(values(ds, "shipped"), expected, rtol=1e-12, atol=1e-12)
    assert values(ds, "total")[0] == pytest.approx(min(supply, 13.5), rel=1e-12)
