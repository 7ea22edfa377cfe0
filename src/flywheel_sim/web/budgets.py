"""What one dashboard lets a visitor spend: the time and size budgets of its runs and jobs,
and how many uploads it keeps, for how long. All in one place (:class:`Budgets`), documented
in docs/dashboard.md and overridable by ``flywheel serve`` options.

The dashboard is a shared server (anyone who reaches the port can upload a model), so its
size limits are ten times smaller than the command line's (:mod:`flywheel_sim.limits`) and
every simulation it starts gets a ``cancel`` check (:class:`Deadline`) through
``Options(cancel=...)``: a live run (a slider move, a tab's view, checking an upload) stops
after ``run_seconds``, a background job (Monte Carlo, calibration, diagnostics) after
``job_seconds``, each with a one-line message instead of holding a core for an hour.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flywheel_sim.errors import Cancelled, FlywheelError
from flywheel_sim.limits import Limits

if TYPE_CHECKING:
    from flywheel_sim.engine.simulate import Options

#: The size limits of every load, compile and run the dashboard makes (the CLI's / 10).
WEB_LIMITS = Limits(
    max_dimension_size=100_000,
    max_instances=200_000,
    max_cells=50_000_000,  # about 400 MB of results in one simulation call
    max_expansion=20_000,
)


@dataclass(frozen=True)
class Budgets:
    """The budgets of one dashboard (defaults below; ``flywheel serve`` options override)."""

    run_seconds: float = 10.0  # a live run: slider, tab view, checking an upload
    job_seconds: float = 120.0  # a background job: Monte Carlo, calibration, diagnostics
    limits: Limits = field(default=WEB_LIMITS)
    max_upload_bytes: int = 1_000_000  # one uploaded file (a large hand-written model ~50 kB)
    max_upload_files: int = 8  # data files uploaded with one model (each max_upload_bytes)
    max_uploads: int = 16  # uploads kept compiled in memory, for everyone together
    max_upload_slots: int = 400_000  # their total size in compiled slots (instances)
    keep_uploads_seconds: float = 3600.0  # an upload unused this long is deleted
    max_jobs: int = 2  # background jobs running at once, for everyone together

    def __post_init__(self) -> None:
        for name in ("run_seconds", "job_seconds", "keep_uploads_seconds"):
            value = getattr(self, name)
            if not value > 0:
                raise FlywheelError(f"the dashboard's {name} must be positive, not {value}")
        names = ("max_upload_bytes", "max_upload_files", "max_uploads", "max_upload_slots")
        for name in (*names, "max_jobs"):
            if getattr(self, name) < 1:
                raise FlywheelError(f"the dashboard's {name} must be at least 1")

    def options(self, cancel: Deadline) -> Options:
        """The simulation options of a run under this budget: the dashboard's limits and
        ``cancel``."""
        from flywheel_sim.engine.simulate import Options

        return Options(limits=self.limits, cancel=cancel)

    def run_deadline(self, what: str = "the run") -> Deadline:
        return Deadline(self.run_seconds, what)

    def job_deadline(self, what: str) -> Deadline:
        return Deadline(self.job_seconds, what)


DEFAULT = Budgets()


class Deadline:
    """A ``cancel`` check for ``Options(cancel=...)``: true once ``seconds`` have passed
    since it was made, or once :meth:`cancel` was called (a stop button, the server closing)."""

    def __init__(self, seconds: float, what: str = "the run") -> None:
        self.seconds = seconds
        self.what = what
        self.ends = time.monotonic() + seconds
        self._stopped = threading.Event()

    def __call__(self) -> bool:
        return self._stopped.is_set() or time.monotonic() >= self.ends

    def cancel(self) -> None:
        self._stopped.set()

    @property
    def cancelled(self) -> bool:
        return self._stopped.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` (with :meth:`message`) when the budget is spent; for the
        loops that call the engine chunk by chunk, between their chunks."""
        if self():
            raise Cancelled(self.message())

    def message(self) -> str:
        """What to tell the visitor when the engine stopped a run for this deadline."""
        if self.cancelled:
            return f"{self.what} was stopped"
        return (
            f"{self.what} was stopped after the dashboard's budget of {self.seconds:g} s — "
            "ask for less (fewer runs, a shorter or coarser run), or use the command line, "
            "which has no time limit"
        )
