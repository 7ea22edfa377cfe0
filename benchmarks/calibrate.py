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
from flywheel_sim.study import load_study

HERE = Path(__file__).resolve().parent
POPSIZE = 10
MAXITER = 200


def main() -> None:
    model = fs.load_model("amazon")
    spec = load_study("amazon", model).calibration  # the shipped calibration set-up
    assert spec is not None
    fs.simulate(model)  # load the numba kernels outside the timing
    figures: dict[str, object] = {
        "bounds": spec.fit,
        "loss": spec.loss,
        "weights": spec.weights,
    }
    for label, until in (("in_sample", None), ("fit_to_2015", 2015.0)):
        start = time.perf_counter()
        fit = fs.calibrate(
            model,
            list(spec.fit),
            bounds=spec.fit,
            since=spec.since,
            until=until,
            loss=spec.loss,
            weights=spec.weights,
            popsize=POPSIZE,
            maxiter=MAXITER,
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
