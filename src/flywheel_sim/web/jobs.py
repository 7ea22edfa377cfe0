"""Long computations for the dashboard (Monte Carlo, calibration, diagnostics) run in
background threads; the page polls their progress with a ``dcc.Interval``. The computations
themselves are the library's (:mod:`flywheel_sim.present.uncertainty`,
:mod:`flywheel_sim.present.analyses`, :mod:`flywheel_sim.diagnostics`).

At most ``max_jobs`` jobs run at once (the machine's cores are shared with everyone using the
dashboard); a job asked for beyond that is refused with a plain message, not queued forever.
Each job has a time budget (``job_seconds``, :mod:`.budgets`): its work gets simulation options
with the dashboard's size limits and a ``cancel`` check that turns true when the budget is
spent or the job is cancelled (:meth:`Jobs.cancel`), and the engine then stops the run between
chunks of steps with a one-line message. Finished jobs are kept for a while so that a slow
poll still finds its result.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flywheel_sim.errors import Cancelled, FlywheelError
from flywheel_sim.web.budgets import DEFAULT, Budgets, Deadline

if TYPE_CHECKING:
    from flywheel_sim.engine.simulate import Options

MAX_RUNNING = DEFAULT.max_jobs
KEEP_SECONDS = 600.0
Progress = Callable[[int, int], None]
Work = Callable[[Progress, "Options"], Any]
NAMES = {"mc": "the Monte Carlo", "cal": "the calibration", "dx": "the diagnosis"}


@dataclass
class Job:
    """One background computation: progress (done of total), then a result or an error."""

    id: str
    kind: str
    deadline: Deadline
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

    def __init__(self, budgets: Budgets = DEFAULT) -> None:
        self.budgets = budgets
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def start(self, kind: str, work: Work) -> Job:
        """Run ``work(progress, options)`` in a thread, ``options`` carrying the dashboard's
        limits and the job's cancel check; raises :class:`Busy` when too many run."""
        with self._lock:
            now = time.monotonic()
            for key in [
                k for k, j in self._jobs.items() if j.ended and now - j.ended > KEEP_SECONDS
            ]:
                del self._jobs[key]
            running = sum(1 for j in self._jobs.values() if not j.finished)
            if running >= self.budgets.max_jobs:
                raise Busy(
                    f"{running} long computations are already running; try again in a moment"
                )
            deadline = self.budgets.job_deadline(NAMES.get(kind, f"the {kind}"))
            job = Job(uuid.uuid4().hex, kind, deadline)
            self._jobs[job.id] = job
        options = self.budgets.options(deadline)

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        def run() -> None:
            try:
                job.result = work(progress, options)
            except Cancelled as exc:
                job.error = deadline.message() if deadline() else str(exc)
            except FlywheelError as exc:
                job.error = str(exc)
            except MemoryError:
                job.error = f"{deadline.what} needed more memory than the dashboard has"
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

    def cancel(self, job_id: str | None) -> bool:
        """Stop a running job at the engine's next check; False if there is none."""
        job = self.get(job_id)
        if job is None or job.finished:
            return False
        job.deadline.cancel()
        return True
