"""The engine benchmark's fresh-process section and its ``targets`` block (issue 21).

Split from benchmarks/engine.py to keep each module short. :func:`measure` times fresh
processes (import + load + one run of SIR with its results), ours and pysimlin's interleaved;
:func:`targets` turns the sections' figures into one verdict per target of issue 21:
``{"measured": {"cpu": x, "wall": y}, "required": r, "better": "higher"|"lower", "met": bool}``
(``met`` is None when a figure is missing; both CPU and wall must meet the requirement).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from typing import Any

OURS = "import flywheel_sim as fs; fs.simulate(fs.load_model('sir'))"
PYSIMLIN = "import simlin; simlin.load({path!r}).run(analyze_loops=False).results"
RESULTS_TOLERANCE = 1e-9
"""Largest relative difference of final values between us and a peer (same Euler steps)."""


def _child(python: str, code: str) -> tuple[float, float]:
    """Wall and CPU seconds (``RUSAGE_CHILDREN`` delta, user + system) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, capture_output=True, timeout=600)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(peer_python: str | None, path: str, rounds: int) -> dict[str, Any]:
    """Median over ``rounds`` fresh processes each, ours and pysimlin's alternating, after one
    untimed round each (byte-code and file caches warm, as after an installation's first use)."""
    commands = {"ours": (sys.executable, OURS)}
    if peer_python:
        commands["pysimlin"] = (peer_python, PYSIMLIN.format(path=path))
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    errors: dict[str, str] = {}
    for round_ in range(rounds + 1):
        for name, (python, code) in commands.items():
            if name in errors:
                continue
            try:
                figure = _child(python, code)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                errors[name] = f"{type(exc).__name__}: {getattr(exc, 'stderr', b'')!r}"[-500:]
                continue
            if round_:
                samples[name].append(figure)
    out: dict[str, Any] = {"rounds": rounds, "errors": errors, "commands": commands}
    for name, values in samples.items():
        if values:
            out[name] = {
                "wall_median": statistics.median(w for w, _ in values),
                "cpu_median": statistics.median(c for _, c in values),
                "wall_min": min(w for w, _ in values),
                "cpu_min": min(c for _, c in values),
                "wall": [w for w, _ in values],
                "cpu": [c for _, c in values],
            }
    if "ours" in out and "pysimlin" in out:
        out["ratio"] = {
            k: out["pysimlin"][f"{k}_median"] / out["ours"][f"{k}_median"] for k in ("cpu", "wall")
        }
    return out


def _get(tree: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def verdict(measured: Any, required: float | None, better: str = "higher") -> dict[str, Any]:
    """One target: met when every measured figure (cpu, wall) is on the right side."""
    values = list(measured.values()) if isinstance(measured, dict) else [measured]
    met = None
    if measured is not None and required is not None and None not in values:
        ok = [v >= required if better == "higher" else v <= required for v in values]
        met = all(ok)
    return {"measured": measured, "required": required, "better": better, "met": met}


def line(target: dict[str, Any]) -> str:
    """One target as text: measured (cpu/wall), the requirement and whether it is met."""
    m = target["measured"]
    shown = "/".join(f"{v:.3g}" for v in m.values()) if isinstance(m, dict) else f"{m!r}"
    sign = ">=" if target["better"] == "higher" else "<="
    required = target["required"]
    wanted = "?" if required is None else f"{required:.3g}"
    return f"{shown:>17} {sign} {wanted:<6} met={target['met']}"


def _halved(ratio: dict[str, float] | None) -> float | None:
    """Half the SIR ratio's smaller figure: what 'within 2x of SIR' asks of another model."""
    return None if not ratio else min(ratio.values()) / 2


def targets(sections: dict[str, Any]) -> dict[str, Any]:
    one = sections.get("one_run", {})
    ens = sections.get("ensemble", {})
    out: dict[str, Any] = {
        "one_run_with_results_vs_pysimlin_with_results": verdict(
            one.get("ratio_with_results"), 2.0
        ),
        "one_run_with_results_vs_pysimlin_without_results": verdict(
            one.get("ratio_without_results"), 1.0
        ),
        "no_cliff_total_time_smaller_over_larger": verdict(
            _get(sections, "curve", "cliff"), 1.1, "lower"
        ),
        "ensemble_10000_yearly_vs_pysimlin": verdict(ens.get("ratio_yearly"), 80.0),
        "ensemble_10000_every_dt_vs_pysimlin": verdict(ens.get("ratio_every_dt"), 15.0),
    }
    for name, model in (sections.get("models") or {}).items():
        if not isinstance(model, dict):
            continue
        pairs = (
            (
                "one_run",
                _get(model, "one_run", "ratio_with_results"),
                one.get("ratio_with_results"),
            ),
            ("yearly", _get(model, "ensemble", "ratio_yearly"), ens.get("ratio_yearly")),
            ("every_dt", _get(model, "ensemble", "ratio_every_dt"), ens.get("ratio_every_dt")),
        )
        for key, mine, sir in pairs:
            out[f"{name}_{key}_within_2x_of_sir"] = verdict(mine, _halved(sir))
    out.update(_compile_targets(sections.get("compile") or {}))
    out["fresh_process_vs_pysimlin"] = verdict(_get(sections, "fresh", "ratio"), 1.0)
    out.update(_results_targets(one))
    return out


def _compile_targets(compiled: dict[str, Any]) -> dict[str, Any]:
    sizes = sorted((int(n), f) for n, f in compiled.items() if n.isdigit() and "ours" in f)
    out: dict[str, Any] = {}
    big = compiled.get("30000", {}).get("ours")
    measured = {"cpu": big["cpu_min"], "wall": big["wall_min"]} if big else None
    out["compile_30000_seconds"] = verdict(measured, 3.0, "lower")
    if len(sizes) >= 2:
        (n0, f0), (n1, f1) = sizes[0], sizes[-1]
        growth = {
            k: (f1["ours"][f"{k}_min"] / n1) / (f0["ours"][f"{k}_min"] / n0)
            for k in ("cpu", "wall")
        }
        out[f"compile_per_variable_{n1}_over_{n0}"] = verdict(growth, 2.0, "lower")
    return out


def _results_targets(one: dict[str, Any]) -> dict[str, Any]:
    check = one.get("check") or {}
    out: dict[str, Any] = {}
    ours = check.get("ours_final")
    for peer in ("pysimlin", "pysd"):
        theirs = check.get(f"{peer}_final")
        diff = None if ours is None or theirs is None else abs(ours - theirs) / abs(theirs)
        out[f"final_infectious_rel_diff_vs_{peer}"] = verdict(diff, RESULTS_TOLERANCE, "lower")
    return out
