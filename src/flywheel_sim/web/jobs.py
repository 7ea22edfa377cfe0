"""Long computations for the dashboard (Monte Carlo, calibration, diagnostics) run in
background threads; the page polls their progress with a ``dcc.Interval``. The computations
themselves are the library's (:mod:`flywheel_sim.present.uncertainty`,
:mod:`flywheel_sim.present.analyses`, :mod:`flywheel_sim.diagnostics`).

At most ``MAX_RUNNING`` jobs run at once (the machine's cores are shared with everyone using
the dashboard); a job asked for beyond that is refused with a plain message, not queued
forever. Finished jobs are kept for a while so that a slow poll still finds its result.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flywheel_sim.errors import FlywheelError

MAX_RUNNING = 2
KEEP_SECONDS = 600.0
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
