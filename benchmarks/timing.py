"""Shared timing helpers for the benchmarks.

``median_seconds`` is the older wall-clock helper. ``timed`` measures wall time
(``time.perf_counter``) and CPU time (``time.process_time``: user + system time of every thread
of this process, so a multi-threaded kernel is charged for all its cores) of each repeat, and
returns the samples with their min and median. ``load_average`` is the 1-minute load average
(the machine may be shared; quote it beside every figure).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Median wall-clock seconds of ``repeats`` calls, after one untimed warm-up call."""
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def summary(wall: list[float], cpu: list[float], per: float = 1.0) -> dict[str, Any]:
    """Min and median of wall and CPU samples (each divided by ``per``, e.g. runs), and the
    samples themselves."""
    w = [x / per for x in wall]
    c = [x / per for x in cpu]
    return {
        "wall_min": min(w),
        "wall_median": statistics.median(w),
        "cpu_min": min(c),
        "cpu_median": statistics.median(c),
        "repeats": len(w),
        "wall": w,
        "cpu": c,
    }


def timed(
    action: Callable[[], object], repeats: int, *, warmup: int = 1, per: float = 1.0
) -> dict[str, Any]:
    """Wall and CPU seconds of ``repeats`` calls of ``action`` after ``warmup`` untimed ones,
    as :func:`summary` (divided by ``per``)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        action()
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return summary(wall, cpu, per)


def load_average() -> float:
    """The 1-minute load average (NaN where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")
