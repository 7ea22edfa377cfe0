"""Loop-analysis benchmark: loop finding and Loops That Matter dominance on the amazon model.

Writes benchmarks/results/loops.json. Targets (issue 4): loop finding plus a full dominance
analysis of amazon over its horizon in under 2 s; dominance of a 1,000-run ensemble in under
20 s. Timings are wall-clock medians on this machine; the first call (imports, numba load)
is excluded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import flywheel_sim as fs
from flywheel_sim.loops import find_loops, loop_dominance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import median_seconds

HERE = Path(__file__).resolve().parent


def main() -> None:
    model = fs.load_model("amazon")
    found = find_loops(model)
    rng = np.random.default_rng(0)
    n = 1000
    ensemble = {
        "word_of_mouth": rng.uniform(0.2, 0.5, n),
        "price_elasticity": rng.uniform(1.0, 3.0, n),
        "reinvest_share": rng.uniform(0.5, 1.0, n),
    }
    loops = list(found.loops)
    figures = {
        "loops_found": len(found.loops),
        "find_loops_seconds": median_seconds(lambda: find_loops(model), 3),
        "dominance_one_run_seconds": median_seconds(lambda: loop_dominance(model), 3),
        "find_and_dominance_seconds": median_seconds(
            lambda: loop_dominance(model, loops=list(find_loops(model).loops)), 3
        ),
        "dominance_1000_runs_seconds": median_seconds(
            lambda: loop_dominance(model, ensemble, loops=loops), 1
        ),
        "steps_per_run": round((model.time.stop - model.time.start) / model.time.dt),
    }
    report = {
        "model": "amazon",
        "figures": figures,
        "targets": {"find_and_dominance_max_seconds": 2.0, "dominance_1000_runs_max_seconds": 20.0},
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "loops.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
