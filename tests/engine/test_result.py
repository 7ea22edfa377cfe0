"""Result assembly: the fast direct construction equals xarray's public constructor."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.engine import result as result_module


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
