"""Quickstart: load a built-in model, run it once and as a 1,000-run batch, read the result.

Run with `.venv/bin/python examples/quickstart.py`; tests/test_examples.py checks its output
against examples/quickstart.out.
"""

from __future__ import annotations

import numpy as np

import flywheel_sim as fs

model = fs.load_model("logistic")
result = fs.simulate(model)
population = result.population.isel(run=0)
print(f"model {model.name}: {len(result.time)} saved times, method {result.attrs['method']}")
print(f"population at t=10: {population.sel(time=10).item():.3f}")

# the inflection point of logistic growth: where net growth peaks (P = K/2)
peak = result.net_growth.isel(run=0).idxmax("time").item()
print(f"net growth peaks at t={peak:.1f} (analytic {np.log(99) / 0.5:.2f})")

# 1,000 growth rates in one call: the run axis is vectorised, not a Python loop
rates = np.linspace(0.2, 1.0, 1000)
batch = fs.simulate(model, {"growth_rate": rates}, save_step=0.5)
half = batch.time.values[(batch.population >= 500).argmax("time").values]
print(f"runs: {batch.sizes['run']}, all ok: {bool((batch.status == 'ok').all())}")
for run in (0, 999):
    print(
        f"r={rates[run]:.1f}: half capacity first saved at t={half[run]:.1f} "
        f"(analytic {np.log(99) / rates[run]:.2f})"
    )
