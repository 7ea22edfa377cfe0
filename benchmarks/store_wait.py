"""Store wait benchmark: how long a reader waits for the run store while two sweeps write it.

Starts two ``flywheel sweep`` commands on one store file (different seeds, small chunks so
that they write often) and, while both run, opens the store as a reader every ``--every``
seconds (``RunStore.batches()``, what ``flywheel runs list`` does) and times each open and
read. Records the reader's waits (min, median, 90th percentile, max, and every one), the
writers' wall times and the load average before and after (the machine is shared: the
figures mean little without it). Writes benchmarks/results/store_wait.json.

    python benchmarks/store_wait.py [--model amazon] [--samples 20000] [--chunk 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def writer(model: str, samples: int, chunk: int, seed: int, folder: Path) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "flywheel_sim.cli", "sweep", model, "--samples", str(samples),
        "--chunk", str(chunk), "--seed", str(seed), "--save-step", "1",
        "--store", str(folder / "runs.duckdb"), "--plot", str(folder / f"fan{seed}.png"),
        "--max-failed", "100%",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="amazon")
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--chunk", type=int, default=200)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between reads")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from flywheel_sim.store.lock import HOLD, TURN
    from flywheel_sim.store.runstore import RunStore

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = RunStore(folder / "runs.duckdb")
        load_before = os.getloadavg()
        started = time.perf_counter()
        writers = [writer(args.model, args.samples, args.chunk, seed, folder) for seed in (1, 2)]
        waits: list[float] = []
        while all(w.poll() is None for w in writers):
            begin = time.perf_counter()
            store.batches()
            waits.append(time.perf_counter() - begin)
            time.sleep(args.every)
        seconds = []
        for w in writers:
            _, errors = w.communicate()
            if w.returncode != 0:
                raise SystemExit(f"a writer failed ({w.returncode}): {errors.strip()[-300:]}")
            seconds.append(round(time.perf_counter() - started, 1))
        load_after = os.getloadavg()
    waits.sort()
    figures = {
        "cpus": os.cpu_count(),
        "model": args.model,
        "samples_per_writer": args.samples,
        "chunk": args.chunk,
        "hold_seconds": HOLD,
        "turn_seconds": TURN,
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "writers_wall_seconds": seconds,
        "reads_while_both_wrote": len(waits),
        "reader_wait_seconds": {
            "min": round(waits[0], 3),
            "median": round(statistics.median(waits), 3),
            "p90": round(waits[int(0.9 * (len(waits) - 1))], 3),
            "max": round(waits[-1], 3),
        }
        if waits
        else None,
        "waits": [round(w, 3) for w in waits],
    }
    out = HERE / "results" / "store_wait.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps({k: v for k, v in figures.items() if k != "waits"}, indent=2))


if __name__ == "__main__":
    main()
