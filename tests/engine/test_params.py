"""The parameter matrix and the run seeds (engine/params.py)."""

from __future__ import annotations

import numpy as np
import pytest

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.engine.params import check_ranges, parameter_matrix, parameter_rows, run_seeds

ARRAYED = """\
name: arrayed
time: {start: 0, stop: 1, dt: 0.5}
dimensions: {region: [north, south]}
parameters:
  rate: {default: 0.1, min: 0, max: 1}
  size: {dims: [region], default: 2, min: 0, max: 10}
stocks:
  pool: {dims: [region], initial: size, inflows: [grow]}
flows:
  grow: {dims: [region], equation: "rate * pool"}
"""


def test_one_seed_derives_a_distinct_reproducible_seed_per_run() -> None:
    seeds = run_seeds(7, 5)
    assert seeds.dtype == np.int64 and seeds.shape == (5,)
    assert len(set(seeds.tolist())) == 5
    assert np.array_equal(seeds, run_seeds(7, 5))
    assert not np.array_equal(seeds, run_seeds(8, 5))
    assert np.array_equal(run_seeds(None, 3), run_seeds(0, 3))
    assert (seeds >= 0).all()  # shifted right by one: non-negative int64


def test_explicit_seeds_are_taken_as_given_and_counted() -> None:
    assert run_seeds([3, 1, 2], 3).tolist() == [3, 1, 2]
    assert run_seeds([3, 1, 2], 1).tolist() == [3, 1, 2]  # one parameter set, three runs
    with pytest.raises(fs.ParameterError, match="2 seeds given for 3 runs"):
        run_seeds([1, 2], 3)
    with pytest.raises(fs.ParameterError, match="integer"):
        run_seeds([1.5, 2.5], 2)


def test_a_base_name_sets_every_element_and_arrays_broadcast_with_scalars() -> None:
    program = fs.compile_model(model_from(ARRAYED))
    rows = parameter_rows(program)
    assert rows["size"] == [rows["size[north]"][0], rows["size[south]"][0]]
    matrix, n = parameter_matrix(program, {"size": [1.0, 3.0, 5.0], "rate": 0.5}, "error")
    assert n == 3 and matrix.shape == (len(program.param_keys), 3)
    for row in rows["size"]:
        assert matrix[row].tolist() == [1.0, 3.0, 5.0]
    assert matrix[rows["rate"][0]].tolist() == [0.5, 0.5, 0.5]
    matrix, _ = parameter_matrix(program, {"size[south]": 4.0}, "error")
    assert matrix[rows["size[north]"][0], 0] == 2.0
    assert matrix[rows["size[south]"][0], 0] == 4.0


def test_ranges_are_enforced_or_clipped() -> None:
    program = fs.compile_model(model_from(ARRAYED))
    with pytest.raises(fs.ParameterError, match=r"'rate' = 2 \(run 1\) is outside"):
        parameter_matrix(program, {"rate": [0.5, 2.0]}, "error")
    matrix, _ = parameter_matrix(program, {"rate": [-1.0, 0.5, 2.0]}, "clip")
    assert matrix[parameter_rows(program)["rate"][0]].tolist() == [0.0, 0.5, 1.0]
    inside = matrix.copy()
    check_ranges(program, inside, "error")  # in range now: nothing changes, nothing raised
    assert np.array_equal(inside, matrix)


def test_kept_seeds_equal_derived_ones_and_are_the_callers_own() -> None:
    # issue 21: up to 1,024 runs the derived seeds are kept for the next call
    from flywheel_sim.engine.params import _derive_seeds

    for n in (1, 1024, 1025):
        assert np.array_equal(run_seeds(11, n), _derive_seeds(11, n))
    first = run_seeds(11, 3)
    first[0] = -1  # the caller may change its array: the next call is not affected
    assert np.array_equal(run_seeds(11, 3), _derive_seeds(11, 3))
    assert run_seeds(11, 3).flags.writeable
