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
# plausible search ranges (the declared ranges are wider than anything Amazon-like)
BOUNDS = {
    "shoppers_max": (250, 700),
    "shoppers_growth": (0.1, 0.5),
    "shoppers_midpoint": (1998, 2010),
    "word_of_mouth": (0.05, 0.8),
    "base_churn": (0.15, 0.45),
    "base_orders_per_customer": (0.8, 3.0),
    "base_basket": (20, 80),
    "learning_exponent": (0.01, 0.06),
    "market_margin": (0.2, 0.9),
    "fulfilment_cost_per_order": (2, 12),
    "operating_cost_share": (0.01, 0.1),
    "reinvest_share": (0.4, 0.95),
    "acquisition_cost": (15, 80),
    "push_size": (1000, 6000),
    "push_duration": (5, 7),
}
PARAMETERS = list(BOUNDS)


def main() -> None:
    model = fs.load_model("amazon")
    fs.simulate(model)  # load the numba kernels outside the timing
    figures: dict[str, object] = {
        "bounds": BOUNDS,
        "loss": "huber",
        "weights": {"operating_income": 3},
    }
    for label, until in (("in_sample", None), ("fit_to_2015", 2015.0)):
        start = time.perf_counter()
        fit = fs.calibrate(
            model,
            PARAMETERS,
            bounds=BOUNDS,
            since=1997,
            until=until,
            loss="huber",
            weights={"operating_income": 3.0},
            popsize=10,
            maxiter=250,
        )
        figures[label] = {
            "seconds": round(time.perf_counter() - start, 1),
            "runs": fit.evaluations,
            "metrics": fit.metrics,
            "forecast": fit.forecast,
            "fitted": fit.values,
            "warnings": fit.warnings,
            "operating_income": {
                str(int(t)): round(float(v))
                for t, v in zip(*fit.fitted["operating_income"], strict=True)
            },
        }
    out = HERE / "results" / "calibrate.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
