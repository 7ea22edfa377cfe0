"""Long computations for the dashboard (Monte Carlo, calibration, diagnostics) run in
background threads; the page polls their progress with a ``dcc.Interval``.

At most ``MAX_RUNNING`` jobs run at once (the machine's cores are shared with everyone using
the dashboard); a job asked for beyond that is refused with a plain message, not queued
forever. Finished jobs are kept for a while so that a slow poll still finds its result.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import FlywheelError

MAX_RUNNING = 2
KEEP_SECONDS = 600.0
F = NDArray[np.float64]
Progress = Callable[[int, int], None]


@dataclass
class Job:
    """One background computation: progress (done of total), then a result or an error."""

    id: str
    kind: str
    done: int = 0
    total: int = 0
    result: Any = None
    error: str | None = None
    finished: bool = False
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started


class Busy(FlywheelError):
    """Too many jobs are running; try again when one finishes."""


class Jobs:
    """The registry of background jobs of one dashboard."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def start(self, kind: str, work: Callable[[Progress], Any]) -> Job:
        """Run ``work(progress)`` in a thread; raises :class:`Busy` when too many run."""
        with self._lock:
            now = time.monotonic()
            for key in [
                k for k, j in self._jobs.items() if j.ended and now - j.ended > KEEP_SECONDS
            ]:
                del self._jobs[key]
            running = sum(1 for j in self._jobs.values() if not j.finished)
            if running >= MAX_RUNNING:
                raise Busy(
                    f"{running} long computations are already running; try again in a moment"
                )
            job = Job(uuid.uuid4().hex, kind)
            self._jobs[job.id] = job

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        def run() -> None:
            try:
                job.result = work(progress)
            except FlywheelError as exc:
                job.error = str(exc)
            except Exception as exc:  # a bug must not kill the server; say it plainly
                traceback.print_exc()
                job.error = f"the {kind} failed unexpectedly ({type(exc).__name__}: {exc})"
            finally:
                job.ended = time.monotonic()
                job.finished = True

        threading.Thread(target=run, name=f"flywheel-{kind}", daemon=True).start()
        return job

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id or "")


def monte_carlo(
    model: Any,
    distributions: Mapping[str, Any],
    variables: Sequence[str],
    *,
    samples: int,
    fixed: Mapping[str, float],
    seed: int = 0,
    chunk: int = 50,
    progress: Progress | None = None,
) -> tuple[F, dict[str, F], int]:
    """Sample the distributions, run the model in chunks (reporting progress) and return
    (times, percentile bands per variable, failed runs). Seeds are derived as
    ``simulate(seed=...)`` derives them, so the chunks equal one batched call."""
    from flywheel_sim.present.study import percentile_bands
    from flywheel_sim.studies.batch import seeds_for, simulate_chunk
    from flywheel_sim.studies.sampling import sample

    names = tuple(distributions)
    drawn = sample(distributions, samples, method="lhs", seed=seed)
    values = np.column_stack([drawn[n] for n in names])
    seeds = seeds_for(seed, samples)
    fixed = {k: v for k, v in fixed.items() if k not in distributions}
    collected: dict[str, list[F]] = {v: [] for v in variables}
    failed = 0
    times = np.zeros(0)
    if progress is not None:
        progress(0, samples)
    for first in range(0, samples, chunk):
        part = slice(first, min(first + chunk, samples))
        status, series, times = simulate_chunk(
            model, names, values[part], fixed, seeds[part], variables, None
        )
        failed += sum(s != "ok" for s in status)
        for variable in variables:
            data = series[variable]
            collected[variable].append(data.reshape(data.shape[0], data.shape[1], -1).sum(2))
        if progress is not None:
            progress(part.stop, samples)
    bands = {v: percentile_bands(np.concatenate(parts)) for v, parts in collected.items()}
    return times, bands, failed
