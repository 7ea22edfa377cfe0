"""The agent-based market: scale, and a side-by-side comparison with Mesa 3.

1. Scale: 1,000,000 people, 10,000 potential sellers, 120 months (target: under 60 s and
   under 4 GB peak RSS on the 2-core benchmark machine). Each repeat runs in a fresh child
   process, so its peak RSS is its own; the best wall time is reported.
2. Mesa: the same rules written as Mesa 3 agents (benchmarks/market_mesa.py) at 10,000 people
   and 1,000 potential sellers, run side by side with ours for several seeds (target: at least
   50x more agent-steps per second). Aggregates are compared across seeds with Welch's t: the
   two implementations draw different random numbers, so they should agree in distribution.

Writes benchmarks/results/market.json. Needs the bench extra (mesa):
    PYTHONPATH=src python benchmarks/market.py [--repeats 2] [--seeds 4] [--skip-scale]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CHILD = """
import json, resource, sys, time
from flywheel_sim.market import simulate_market
simulate_market(customers=2000, sellers=100, months=3, backend="numba")  # load the kernels
start = time.perf_counter()
r = simulate_market(customers={customers}, sellers={sellers}, months={months}, seed={seed},
                    backend="numba")
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
peak = usage.ru_maxrss / 1024  # MiB on Linux
last = {{v: float(r[v].values[0, -1]) for v in ("customers", "sellers", "selection", "orders",
                                              "prime_members", "traffic")}}
print(json.dumps({{"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "peak_rss_mib": peak, "final": last,
                  "trips": float(r["traffic"].values.sum())}}))
"""

COMPARED = (
    "customers",
    "prime_members",
    "sellers",
    "selection",
    "orders",
    "net_sales",
    "operating_income",
    "delivery_days",
    "price_index",
)
MONTHS_COMPARED = (60, 90, 120)


def scale(repeats: int, customers: int, sellers: int, months: int) -> dict[str, object]:
    runs = []
    for k in range(repeats):
        code = CHILD.format(customers=customers, sellers=sellers, months=months, seed=k)
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ),
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(
            f"scale run {k}: {runs[-1]['seconds']:.1f} s wall, {runs[-1]['cpu_seconds']:.1f} s "
            f"CPU (all threads), {runs[-1]['peak_rss_mib']:.0f} MiB",
            flush=True,
        )
    best = min(r["seconds"] for r in runs)
    best_cpu = min(r["cpu_seconds"] for r in runs)
    peak = max(r["peak_rss_mib"] for r in runs)
    return {
        "customers": customers,
        "sellers": sellers,
        "months": months,
        "runs": runs,
        "best_seconds": best,
        "best_cpu_seconds": best_cpu,
        "peak_rss_mib": peak,
        "agent_steps_per_second": (customers + sellers) * months / best,
        "meets_60s": best < 60,
        "meets_4gb": peak < 4096,
    }


def versus_mesa(seeds: int, customers: int, sellers: int, months: int) -> dict[str, object]:
    from flywheel_sim.market import MarketParams, simulate_market
    from market_mesa import run_mesa

    params = MarketParams.make()
    # load every kernel from numba's cache (a whole run: the dated events take other paths)
    simulate_market(customers=2000, sellers=100, months=months, backend="numba")
    ours_t, mesa_t, ours_runs, mesa_runs = [], [], [], []
    for seed in range(seeds):
        start = time.perf_counter()
        r = simulate_market(
            customers=customers, sellers=sellers, months=months, seed=seed, backend="numba"
        )
        ours_t.append(time.perf_counter() - start)
        ours_runs.append({v: np.asarray(r[v].values[0]) for v in COMPARED})
        start = time.perf_counter()
        mesa_runs.append(
            run_mesa(params, customers=customers, sellers=sellers, months=months, seed=seed)
        )
        mesa_t.append(time.perf_counter() - start)
        print(
            f"seed {seed}: ours {ours_t[-1]:.2f} s, mesa {mesa_t[-1]:.1f} s, "
            f"ratio {mesa_t[-1] / ours_t[-1]:.0f}x",
            flush=True,
        )
    steps = (customers + sellers) * months
    agreement = {}
    for v in COMPARED:
        for m in MONTHS_COMPARED:
            a = np.array([run[v][m - 1] for run in ours_runs])
            b = np.array([run[v][m - 1] for run in mesa_runs])
            se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
            t = float((a.mean() - b.mean()) / se) if se > 0 else 0.0
            agreement[f"{v}@{m}"] = {
                "ours_mean": float(a.mean()),
                "ours_sd": float(a.std(ddof=1)),
                "mesa_mean": float(b.mean()),
                "mesa_sd": float(b.std(ddof=1)),
                "welch_t": t,
                "agrees": abs(t) < 3.0,
            }
    ratios = [m / o for m, o in zip(mesa_t, ours_t, strict=True)]
    return {
        "customers": customers,
        "sellers": sellers,
        "months": months,
        "mesa_seeds": seeds,
        "ours_seeds": len(ours_runs),
        "ours_seconds": ours_t,
        "mesa_seconds": mesa_t,
        "ours_agent_steps_per_second_best": steps / min(ours_t),
        "mesa_agent_steps_per_second_best": steps / min(mesa_t),
        "speedup_best_of": min(mesa_t) / min(ours_t),
        "speedup_per_seed": ratios,
        "meets_50x": min(mesa_t) / min(ours_t) >= 50,
        "aggregates": agreement,
        "all_agree": all(x["agrees"] for x in agreement.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=5, help="Mesa runs (timed in pairs)")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--sellers", type=int, default=10_000)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-mesa", action="store_true")
    args = parser.parse_args()
    out = HERE / "results" / "market.json"
    report: dict[str, object] = json.loads(out.read_text()) if out.exists() else {}
    report["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "note": "shared 2-core machine: timings are noisy; best-of figures",
    }
    if not args.skip_scale:
        report["scale"] = scale(args.repeats, args.customers, args.sellers, 120)
    if not args.skip_mesa:
        report["mesa"] = versus_mesa(args.seeds, 10_000, 1_000, 120)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "mesa"}, indent=2))
    if "mesa" in report:
        mesa = report["mesa"]
        assert isinstance(mesa, dict)
        print({k: mesa[k] for k in ("speedup_best_of", "meets_50x", "all_agree")})


if __name__ == "__main__":
    main()
