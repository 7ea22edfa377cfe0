"""Calibration benchmark: fit amazon's behavioural parameters to net sales (and operating
income) 1997-2024 with `calibrate`, and record the wall time, the number of runs and the fit.

Target (issue 6): the Amazon calibration completes in under 2 minutes on this 2-core machine.
Writes benchmarks/results/calibrate.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import flywheel_sim as fs

HERE = Path(__file__).resolve().parent
PARAMETERS = [
    "word_of_mouth",
    "base_churn",
    "base_orders_per_customer",
    "base_basket",
    "market_margin",
    "operating_cost_share",
    "reinvest_share",
    "push_size",
    "acquisition_cost",
    "shoppers_midpoint",
]


def main() -> None:
    model = fs.load_model("amazon")
    fs.simulate(model)  # load the numba kernels outside the timing
    figures: dict[str, object] = {"parameters": PARAMETERS}
    for label, until in (("in_sample", None), ("fit_to_2015", 2015.0)):
        start = time.perf_counter()
        fit = fs.calibrate(model, PARAMETERS, since=1997, until=until, maxiter=150)
        figures[label] = {
            "seconds": round(time.perf_counter() - start, 1),
            "runs": fit.evaluations,
            "metrics": fit.metrics,
            "forecast": fit.forecast,
            "fitted": fit.values,
            "warnings": fit.warnings,
        }
    out = HERE / "results" / "calibrate.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
