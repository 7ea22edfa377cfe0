"""Sweep benchmark: a 100,000-run Monte Carlo of amazon, end to end, with run-store writes.

Runs ``flywheel sweep amazon --samples 100000 --save-step 1`` (the scenario file's ten
uncertain parameters, Latin hypercube, its five outcomes saved yearly) as a subprocess — so the
figure includes start-up, sampling, simulation, chunked store writes, reading the outcomes
back, the summary and the fan chart — once per executor, and records wall time and peak
resident memory (the process and its workers). Target (issue 5): under 30 s on this 2-core
machine, memory under 2 GB however large N is. Writes benchmarks/results/sweep.json.

    python benchmarks/sweep.py [--samples N] [--executors local,processes]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sweep(samples: int, executor: str, folder: Path) -> dict[str, float | int | str]:
    store = folder / f"{executor}.duckdb"
    command = [
        sys.executable,
        "-m",
        "flywheel_sim.cli",
        "sweep",
        "amazon",
        "--samples",
        str(samples),
        "--save-step",
        "1",
        "--executor",
        executor,
        "--store",
        str(store),
        "--plot",
        str(folder / f"{executor}.png"),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=folder)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"sweep with {executor} failed: {done.stderr.strip()}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "executor": executor,
        "samples": samples,
        "seconds": round(seconds, 2),
        "runs_per_second": round(samples / seconds),
        # the largest single process (driver or one worker); children's peaks, in MiB
        "peak_rss_mib": round(max(peak_kib, before) / 1024),
        "store_mib": round(store.stat().st_size / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--executors", default="local,processes")
    args = parser.parse_args()
    figures: dict[str, object] = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sweep(200, "local", folder)  # warm the numba cache outside the timed runs
        results = [sweep(args.samples, name, folder) for name in args.executors.split(",")]
    figures["runs"] = results
    out = HERE / "results" / "sweep.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
