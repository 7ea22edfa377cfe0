"""Monte Carlo bands in chunks (the dashboard's job and the report's section)."""

from __future__ import annotations

import numpy as np

import flywheel_sim as fs
from flywheel_sim.present.uncertainty import monte_carlo
from flywheel_sim.studies.scenarios import load_study


def test_monte_carlo_in_chunks_equals_one_batched_run() -> None:
    model = fs.load_model("amazon")
    dists = load_study("amazon", model).uncertainty
    seen: list[tuple[int, int]] = []
    times, bands, failed = monte_carlo(
        model, dists, ["net_sales"], samples=30, fixed={}, seed=3, chunk=7,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    drawn = fs.sample(dists, 30, method="lhs", seed=3)
    whole = fs.simulate(model, drawn, variables=["net_sales"], seed=3)
    expected = np.percentile(whole["net_sales"].values, [5, 25, 50, 75, 95], axis=0)
    assert failed == 0 and np.allclose(bands["net_sales"], expected)
    assert np.array_equal(times, whole["time"].values)
    assert seen[0] == (0, 30) and seen[-1] == (30, 30) and len(seen) == 6
