"""Result assembly: ``simulate`` is ``assemble(run_arrays(...))``, and the fast direct
construction equals xarray's public constructor."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.engine import result as result_module
from flywheel_sim.engine.simulate import run_arrays


def test_direct_construction_matches_the_public_constructor(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    model = model_from(
        """
        name: shapes
        time: {start: 0, stop: 3, dt: 1}
        dimensions:
          d: [a, b, c]
        parameters:
          k: {dims: [d], default: 2}
          g: {default: 1}
        auxiliaries:
          x: {dims: [d], equation: k * TIME + g}
          y: {equation: "SUM(x[*])"}
        """
    )
    fast = fs.simulate(model, {"g": [1.0, 2.0]}, options=fs.Options(backend="numpy"))
    monkeypatch.setattr(result_module, "DIRECT", False)
    slow = fs.simulate(model, {"g": [1.0, 2.0]}, options=fs.Options(backend="numpy"))
    xr.testing.assert_identical(fast, slow)
    assert fast.x.dims == ("run", "time", "d")
    assert fast.k.dims == ("run", "d")
    np.testing.assert_array_equal(fast.y.values[1], [6.0, 12.0, 18.0, 24.0])


def test_results_do_not_share_index_state() -> None:
    model = fs.load_model("exponential")
    a = fs.simulate(model)
    b = fs.simulate(model)
    assert a.indexes["time"].equals(b.indexes["time"])
    with pytest.raises(ValueError, match="read-only"):  # one axis serves both: it is frozen
        a.time.values[0] = 100.0
    a2 = a.assign_coords(time=a.time + 100)
    assert float(b.time[0]) == 0.0 and float(a2.time[0]) == 100.0


def test_simulate_assembles_the_arrays_run_arrays_returns(options: fs.Options) -> None:
    model = fs.load_model("sir")
    params = {"contact_infectivity": [0.2, 0.3, 0.4]}
    chosen = ["infectious", "recovered"]
    arrays = run_arrays(model, params, seed=3, variables=chosen, save_step=1.0, options=options)
    assert arrays.out.shape == (2, arrays.grid.n_saved, 3) == (2, 101, 3)
    assert arrays.fail_slot.tolist() == [-1] * 3 and arrays.seeds.shape == (3,)
    assert [arrays.program.variables[i].key for i in arrays.chosen] == chosen
    assert arrays.method == "euler"
    result = fs.simulate(model, params, seed=3, variables=chosen, save_step=1.0, options=options)
    xr.testing.assert_identical(result, result_module.assemble(arrays))
    assert np.array_equal(result.infectious.values, arrays.out[0].T)


def _same(fast: xr.Dataset, slow: xr.Dataset) -> None:
    """Identical, and (what ``identical`` does not compare) the same dtypes and index dtypes."""
    xr.testing.assert_identical(fast, slow)
    for name, variable in slow.variables.items():
        assert fast.variables[name].dtype == variable.dtype, name
        assert type(fast.variables[name]) is type(variable), name
    for name, index in slow.xindexes.items():
        assert fast.xindexes[name].index.equals(index.index), name  # type: ignore[attr-defined]
        assert fast.xindexes[name].index.dtype == index.index.dtype, name  # type: ignore[attr-defined]


# issue 21: the fast Dataset route (layout cached per Program, xarray's fastpath) against
# xarray's public constructor, on built-in models (amazon and rivals are arrayed), one run and
# ensembles, with a subset of variables and with a failed run
@pytest.mark.parametrize("name", ["sir", "amazon", "rivals", "delay", "bass"])
@pytest.mark.parametrize("runs", [1, 4])
def test_the_fast_route_equals_the_public_constructor_on_builtin_models(
    monkeypatch: pytest.MonkeyPatch, name: str, runs: int
) -> None:
    program = fs.compile_model(fs.load_model(name))
    options = fs.Options(backend="numpy")
    seeds = list(range(runs))
    step = program.time.save_step or program.time.dt
    stop = program.time.start + 4 * step
    arrays = run_arrays(program, seed=seeds, stop=stop, save_step=step, options=options)
    fast = result_module.assemble(arrays)
    fast_again = result_module.assemble(arrays)  # from the cached layout
    monkeypatch.setattr(result_module, "DIRECT", False)
    slow = result_module.assemble(arrays)
    _same(fast, slow)
    _same(fast_again, slow)
    assert fast.sizes["run"] == runs


def test_the_fast_route_keeps_failures_and_chosen_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = model_from(
        """
        name: fails
        time: {start: 0, stop: 3, dt: 1}
        parameters:
          k: {default: 1}
        auxiliaries:
          x: {equation: "1 / (k - TIME)"}
          y: {equation: "x * 2"}
        """
    )
    options = fs.Options(backend="numpy")
    arrays = run_arrays(model, {"k": [1.5, 2.0]}, variables=["y"], options=options)
    fast = result_module.assemble(arrays)
    monkeypatch.setattr(result_module, "DIRECT", False)
    slow = result_module.assemble(arrays)
    _same(fast, slow)
    assert list(fast.data_vars) == ["y"]
    assert fast.status.values.tolist() == ["ok", "failed"]
