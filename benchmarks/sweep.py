"""Sweep benchmark: a 100,000-run Monte Carlo of amazon, end to end, with run-store writes.

Runs ``flywheel sweep amazon --samples 100000 --save-step 1`` (the scenario file's ten
uncertain parameters, Latin hypercube, its five outcomes saved yearly) as a subprocess — so the
figure includes start-up, sampling, simulation, chunked store writes, reading the outcomes
back, the summary and the fan chart — for each executor, and records wall time, CPU time and
peak resident memory (the largest process: the command or one of its workers). Target
(issue 5): under 30 s on this 2-core machine, memory under 2 GB however large N is.

The machine is shared, so the same command is also run with the code of a baseline revision
(``--baseline``, default: the code before the speed work), interleaved with ours, ``--repeat``
times; the JSON keeps every timing, the best of each, and the ratio baseline / ours per
executor. Writes benchmarks/results/sweep.json.

    python benchmarks/sweep.py [--samples N] [--executors local,processes] [--repeat 2]
                               [--baseline REV | --baseline none]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASELINE = "90cb20c"  # main before the sweep speed work (issue 5)


def sweep(samples: int, executor: str, folder: Path, src: Path) -> dict[str, float | int | str]:
    store = folder / f"{executor}.duckdb"
    store.unlink(missing_ok=True)
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
    env = {**os.environ, "PYTHONPATH": str(src)}  # worker processes inherit it
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)  # usage: the command and its workers
    seconds = time.perf_counter() - start
    errors = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sweep with {executor} ({src}) failed: {errors.strip()}")
    return {
        "executor": executor,
        "samples": samples,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "runs_per_second": round(samples / seconds),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),  # the largest single process
        "store_mib": round(store.stat().st_size / 2**20, 1),
    }


def checkout(revision: str, folder: Path) -> Path:
    """The ``src`` tree of ``revision`` of this repository, extracted under ``folder``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "src"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--executors", default="local,processes")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--baseline", default=BASELINE, help="a git revision, or 'none'")
    args = parser.parse_args()
    executors = args.executors.split(",")
    runs: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        codes = {"ours": ROOT / "src"}
        if args.baseline != "none":
            codes["baseline"] = checkout(args.baseline, folder / "baseline")
        for src in codes.values():
            sweep(200, "local", folder, src)  # warm the numba caches outside the timed runs
        load_before = os.getloadavg()
        for repeat in range(args.repeat):
            for executor in executors:
                for code, src in codes.items():
                    figure = sweep(args.samples, executor, folder, src)
                    runs.append({"code": code, "repeat": repeat, **figure})
                    print(json.dumps(runs[-1]), flush=True)
        load_after = os.getloadavg()
    best: dict[str, dict[str, object]] = {}
    for run in runs:
        key = f"{run['code']}/{run['executor']}"
        if key not in best or float(run["seconds"]) < float(best[key]["seconds"]):  # type: ignore[arg-type]
            best[key] = run
    figures: dict[str, object] = {
        "cpus": os.cpu_count(),
        "samples": args.samples,
        "baseline": args.baseline,
        "revision": _revision(),
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "target_seconds": 30,
        "best": best,
        "speedup_vs_baseline": {
            executor: round(
                float(best[f"baseline/{executor}"]["seconds"])  # type: ignore[arg-type]
                / float(best[f"ours/{executor}"]["seconds"]),  # type: ignore[arg-type]
                2,
            )
            for executor in executors
            if f"baseline/{executor}" in best
        },
        "runs": runs,
    }
    out = HERE / "results" / "sweep.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, indent=2))


def _revision() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip()


if __name__ == "__main__":
    main()
