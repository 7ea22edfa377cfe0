"""Vensim's INVERT MATRIX (compile/matrices.py) and ALLOCATE AVAILABLE (compile/allocate.py),
both virtual machines (the shared `options` fixture).
Values by hand: Vensim's reference manual examples ("INVERT MATRIX",
"ALLOCATE AVAILABLE": branches Boston, Dayton, Fresno) and hand-written cases whose answer
follows from symmetry."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim import Options
from flywheel_sim.compile import ops
from flywheel_sim.errors import ModelError

NUMPY, NUMBA = Options(backend="numpy"), Options(backend="numba")


HEAD = """
time: {start: 0, stop: 1, dt: 1}
dimensions:
  row: [r1, r2, r3]
  col: [c1, c2, c3]
  sub: [s1, s2]
  ssub: [t1, t2]
  branch: [boston, dayton, fresno]
  pair: [p1, p2]
"""


def run(body: str, opts: Options) -> xr.Dataset:
    return fs.simulate(fs.loads_model(HEAD + body), options=opts)


def values(ds: xr.Dataset, name: str) -> list[float]:
    """The values of ``name`` in run 0 at the start time (flat)."""
    return [float(v) for v in np.asarray(ds[name].values)[0, 0].reshape(-1)]


def test_invert_matrix_vensims_example(options: Options) -> None:
    """Vensim's reference manual: a = 1, 2; 3, 4 has the inverse -2, 1; 1.5, -0.5."""
    ds = run(
        """
parameters:
  a: {dims: [sub, ssub], default: {"s1,t1": 1, "s1,t2": 2, "s2,t1": 3, "s2,t2": 4}}
auxiliaries:
  inverse: {dims: [sub, ssub], equation: "INVERT_MATRIX(a[*, *], 2)"}
""",
        options,
    )
    np.testing.assert_allclose(values(ds, "inverse"), [-2.0, 1.0, 1.5, -0.5], rtol=1e-12)


def test_invert_matrix_pivots_and_inverts_back(options: Options) -> None:
    """Hand-written: a zero in the first pivot (rows must be exchanged); the inverse of a
    permutation matrix is its transpose, and a times its inverse is the identity."""
    ds = run(
        """
parameters:
  p: {dims: [row, col], default: {"r1,c2": 1, "r2,c3": 1, "r3,c1": 1, "r1,c1": 0, "r1,c3": 0,
      "r2,c1": 0, "r2,c2": 0, "r3,c2": 0, "r3,c3": 0}}
  m: {dims: [row, col], default: {"r1,c1": 0, "r1,c2": 2, "r1,c3": 1, "r2,c1": 3, "r2,c2": 1,
      "r2,c3": 0, "r3,c1": 1, "r3,c2": 1, "r3,c3": 5}}
auxiliaries:
  pi: {dims: [row, col], equation: "INVERT_MATRIX(p[*, *], 3)"}
  mi: {dims: [col, row], equation: "INVERT_MATRIX(m[*, *], 3)"}
  r1: {dims: [row], equation: "SUM(m[r1, *] * mi[*, row])"}
""",
        options,
    )
    assert values(ds, "pi") == [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    np.testing.assert_allclose(values(ds, "r1"), [1.0, 0.0, 0.0], atol=1e-12)


def test_a_singular_matrix_fails_the_run(options: Options) -> None:
    ds = run(
        """
parameters:
  a: {dims: [sub, ssub], default: {"s1,t1": 1, "s1,t2": 2, "s2,t1": 2, "s2,t2": 4}}
auxiliaries:
  inverse: {dims: [sub, ssub], equation: "INVERT_MATRIX(a[*, *], 2)"}
""",
        options,
    )
    assert ds["status"].values[0] == "failed"


def test_invert_matrix_needs_its_size() -> None:
    model = fs.loads_model(
        HEAD
        + """
parameters:
  a: {dims: [sub, ssub], default: 1}
auxiliaries:
  inverse: {dims: [sub, ssub], equation: "INVERT_MATRIX(a[*, *], 3)"}
"""
    )
    with pytest.raises(ModelError, match="3 x 3 matrix is given 4"):
        fs.compile_model(model)


BRANCHES = """
parameters:
  demand: {dims: [branch], default: {boston: 500, dayton: 300, fresno: 750}}
  ptype: {dims: [branch], default: 1}
  priority: {dims: [branch], default: {boston: 5, dayton: 7, fresno: 3}}
  width: {dims: [branch], default: {boston: 2, dayton: 4, fresno: 4}}
auxiliaries:
  shipped:
    dims: [branch]
    equation: "ALLOCATE_AVAILABLE(demand[*], ptype[*], priority[*], width[*], SUPPLY)"
"""


@pytest.mark.parametrize(
    ("avail", "expected"),
    [
        # only Dayton (7 +- 2) above 6: 300 * (9 - x) / 4 = 200 at x = 6.33
        (200.0, [0.0, 200.0, 0.0]),
        # Boston joins: 300 (9 - x) / 4 + 500 (6 - x) / 2 = 400 at x = 1775 / 325
        (400.0, [500 * (6 - 1775 / 325) / 2, 300 * (9 - 1775 / 325) / 4, 0.0]),
        (2000.0, [500.0, 300.0, 750.0]),  # more than all the requests: each filled
        (0.0, [0.0, 0.0, 0.0]),
    ],
)
def test_allocate_available_rectangular(
    avail: float, expected: list[float], options: Options
) -> None:
    """Vensim's reference manual example (rectangular profiles 1, 5, 2; 1, 7, 4; 1, 3, 4):
    each branch takes demand * (priority + width / 2 - x) / width, clamped to [0, 1], at the
    level x where the shipments add up to what is available (by hand)."""
    ds = run(BRANCHES.replace("SUPPLY", f"{avail:g}"), options)
    np.testing.assert_allclose(values(ds, "shipped"), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind", [1, 2, 3, 4])
def test_allocate_available_halves_at_a_shared_priority(kind: int, options: Options) -> None:
    """Hand-written: two requests with the same priority but different widths; half of all
    that is requested is available, so the level is the shared priority, where every
    profile (symmetric about its priority) takes half its request (the normal profile's
    approximation of the distribution is within 1e-7 of it)."""
    ds = run(
        f"""
parameters:
  request: {{dims: [pair], default: {{p1: 100, p2: 300}}}}
  ptype: {{dims: [pair], default: {kind}}}
  priority: {{dims: [pair], default: 4}}
  width: {{dims: [pair], default: {{p1: 1, p2: 3}}}}
auxiliaries:
  got:
    dims: [pair]
    equation: "ALLOCATE_AVAILABLE(request[*], ptype[*], priority[*], width[*], 200)"
""",
        options,
    )
    np.testing.assert_allclose(values(ds, "got"), [50.0, 150.0], rtol=1e-6 if kind == 3 else 1e-9)


def test_allocate_available_unsupported_profile_fails_the_run(options: Options) -> None:
    """ptype 5 (constant elasticity) is not supported: NaN fails the run."""
    ds = run(BRANCHES.replace("SUPPLY", "100").replace("default: 1}", "default: 5}"), options)
    assert ds["status"].values[0] == "failed"


@pytest.mark.parametrize("computed", [False, True])
def test_allocate_available_profile_type_computed_while_running(computed: bool) -> None:
    """Hand-written: the shared-priority case above with requests of types 1 and 3, given
    by a parameter (the compiler picks each curve) or computed by an auxiliary (the VMs pick
    it while running): each request still takes half of itself."""
    ptype = (
        'ptype: {dims: [pair], equation: "IF_THEN_ELSE(TIME >= 0, request / 100, 0)"}'
        if computed
        else "ptype: {dims: [pair], default: {p1: 1, p2: 3}}"
    )
    body = f"""
parameters:
  request: {{dims: [pair], default: {{p1: 100, p2: 300}}}}
  priority: {{dims: [pair], default: 4}}
  width: {{dims: [pair], default: {{p1: 1, p2: 3}}}}
  {"" if computed else ptype}
auxiliaries:
  {ptype if computed else ""}
  got:
    dims: [pair]
    equation: "ALLOCATE_AVAILABLE(request[*], ptype[*], priority[*], width[*], 200)"
"""
    for opts in (NUMPY, NUMBA):
        ds = run(body, opts)
        np.testing.assert_allclose(values(ds, "got"), [50.0, 150.0], rtol=1e-6)


ALLOCATING = """
parameters:
  base: {default: 1000}
  demand: {dims: [branch], default: {boston: 500, dayton: 300, fresno: 750}}
  ptype: {dims: [branch], default: {boston: 1, dayton: 2, fresno: 3}}
  priority: {dims: [branch], default: {boston: 5, dayton: 7, fresno: 3}}
  width: {dims: [branch], default: {boston: 2, dayton: 4, fresno: 4}}
stocks:
  supply: {initial: base, inflows: [restock]}
flows:
  restock: {equation: "-supply / 10"}
auxiliaries:
  shipped:
    dims: [branch]
    equation: "ALLOCATE_AVAILABLE(demand[*], ptype[*], priority[*], width[*], supply)"
  ranked:
    dims: [branch]
    equation: "ALLOCATE_BY_PRIORITY(demand[*], priority[*], 3, 2, supply)"
"""


def test_allocations_agree_across_kernels_and_vms() -> None:
    """Hand-written: 40 runs (the numba VM's block kernel) of supplies that fall over time,
    with rectangular, triangular and normal profiles: the block kernel gives the scalar
    kernel's bits run by run, and the NumPy VM the same values."""
    model = fs.loads_model(
        HEAD.replace("stop: 1, dt: 1", "stop: 8, dt: 0.5, method: rk4") + ALLOCATING
    )
    supply = np.linspace(0.0, 1700.0, 40)
    batch = fs.simulate(model, {"base": supply}, options=NUMBA)
    reference = fs.simulate(model, {"base": supply}, options=NUMPY)
    for name in ("shipped", "ranked"):
        np.testing.assert_allclose(batch[name].values, reference[name].values, rtol=1e-12)
    for k in (0, 13, 39):
        single = fs.simulate(model, {"base": supply[k : k + 1]}, options=NUMBA)
        for name in ("shipped", "ranked"):
            assert np.array_equal(batch[name].values[k], single[name].values[0])
    assert batch["shipped"].values[39, 0].tolist() == [500.0, 300.0, 750.0]  # all filled
    assert batch["ranked"].values[0, 0].tolist() == [0.0, 0.0, 0.0]  # nothing to ship


def test_an_allocation_is_one_op_of_the_code() -> None:
    """The bisection runs inside the VMs (ops.AVAILABLE, ops.PRIORITY): a model of 60
    requesters compiles to some instructions per requester, not some per halving."""
    dim = "  big: [" + ", ".join(f"e{i}" for i in range(60)) + "]\n"
    model = fs.loads_model(
        HEAD
        + dim
        + """
parameters:
  request: {dims: [big], default: 10}
  ptype: {dims: [big], default: 3}
  priority: {dims: [big], default: 2}
  width: {dims: [big], default: 1}
auxiliaries:
  got:
    dims: [big]
    equation: "ALLOCATE_AVAILABLE(request[*], ptype[*], priority[*], width[*], 300)"
  ranked: {dims: [big], equation: "ALLOCATE_BY_PRIORITY(request[*], priority[*], 60, 2, 300)"}
"""
    )
    program = fs.compile_model(model)
    code = program.init_code.reshape(-1, 2)
    assert (code[:, 0] == ops.AVAILABLE).sum() == 1 and (code[:, 0] == ops.PRIORITY).sum() == 1
    assert len(code) < 500 * 60  # written out, the halvings took 400,000 instructions
    np.testing.assert_allclose(values(fs.simulate(model), "got"), [5.0] * 60, rtol=1e-6)
